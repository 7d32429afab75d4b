// Live changes in a real stream (guest -> relay -> client, real codecs): a schedule changes the
// bitrate, the frame rate and the resolution mid-stream; each decision is stamped in order, the
// frames change size, quality stays measured at the configured size, and that measurement agrees
// with FFmpeg decoding the received bytes and scaling them back with its own scale filter.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { readRoleReport, type ClientFrame, type GuestFrame } from '../src/stream/report.ts';
import { CONTROLS_FILE, readControls } from '../src/workloads/stream/run.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-live-'));
const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;

test('a schedule changes bitrate, fps and resolution mid-stream on h264 and vp8: stamped in order, sizes change, quality at the configured size', async () => {
  const file = join(work, 'live.yaml');
  writeFileSync(
    file,
    `name: live
workload:
  type: stream
  resolution: 320x240
  scene: motion
  grain: 0
  bitrate: 1M
  schedule: [{at: 0.8s, bitrate: 300k}, {at: 1.4s, fps: 15}, {at: 2s, resolution: 160x120}, {at: 2.2s, resolution: 640x480}]
matrix: {codec: [h264, vp8]}
duration: 3s
`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'live-results'), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const points = set.points();
  assert.equal(points.length, 2);
  for (const p of points) {
    assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));
    const codec = p.params['codec'] as string;
    const dir = set.pointDir(p.key, p.rep);
    const controls = readControls(join(dir, CONTROLS_FILE));
    const guest = readRoleReport(join(dir, 'guest.json'), 'guest');
    const client = readRoleReport(join(dir, 'client.json'), 'client');
    assert.deepEqual(
      controls.map((c) => [c.bitrate ?? c.fps ?? c.resolution, c.applied ?? 'rejected']),
      codec === 'h264'
        ? [
            [300_000, 'live'],
            [15, 'reopened'],
            ['160x120', 'reopened'],
            [undefined, 'rejected'],
          ]
        : [
            [300_000, 'reopened'],
            [15, 'live'],
            ['160x120', 'reopened'],
            [undefined, 'rejected'],
          ],
      `${codec}: how each change reached the encoder`,
    );
    // Larger than the configured size: refused with its reason, and the stream went on.
    assert.match(controls[3]!.rejected!, /resolution 640x480 is larger than the configured 320x240/);
    for (const c of controls.slice(0, 3)) {
      assert.ok(c.encodedFrame !== undefined && c.shownFrame !== undefined, `${codec}: ${JSON.stringify(c)} has every stamp`);
      assert.ok(c.t <= c.encodedMs! && c.encodedMs! <= c.shownMs!, `${codec}: decided ${c.t} <= encoded ${c.encodedMs} <= shown ${c.shownMs}`);
      assert.ok(c.encodedFrame <= c.shownFrame, `${codec}: first encoded frame ${c.encodedFrame}, first shown ${c.shownFrame}`);
    }
    const res = controls[2]!;
    assert.equal(res.scaler, 'swscale bicubic');
    assert.equal(res.scaledBack, 'swscale bicubic');
    // Every frame encoded from the change on is 160x120, every one before 320x240, in the guest's
    // record, in frames.parquet and in what the client decoded.
    const db = await openSetDatabase([set]);
    let rows: { frame: number; width: number; height: number; psnr: number | null }[];
    try {
      rows = (await db.conn.runAndReadAll(`SELECT frame, width, height, psnr FROM frames WHERE point_key = '${p.key}' ORDER BY frame`)).getRowObjectsJson() as typeof rows;
    } finally {
      db.close();
    }
    const gFrames = guest.frames as GuestFrame[];
    assert.equal(rows.length, gFrames.length);
    for (const r of rows) assert.deepEqual([r.width, r.height], r.frame < res.encodedFrame! ? [320, 240] : [160, 120], `${codec}: frame ${r.frame} size`);
    const decoded = (client.frames as ClientFrame[]).filter((f) => f.width !== undefined);
    const small = decoded.filter((f) => f.width === 160 && f.height === 120);
    assert.ok(small.length > 0, `${codec}: the client decoded frames at 160x120`);
    assert.deepEqual(
      small.map((f) => f.frame),
      gFrames.filter((f) => f.width === 160).map((f) => f.frame),
      `${codec}: every frame sent at 160x120 (loopback TCP: none lost) was decoded at 160x120`,
    );
    // Quality measured at the configured size for every decoded frame, before and after.
    for (const f of decoded) assert.ok(typeof f.psnr === 'number' && f.psnr > 10, `${codec}: frame ${f.frame} psnr ${f.psnr}`);
    // The capture clock: ticks 1/30 s apart until the fps change, 1/15 s after it (due times are
    // the schedule's, not the timers', so this holds on a busy machine; a skipped tick is a multiple).
    const fpsAt = guest.controls![1]!.t; // on the guest's clock, as its frames' due times
    // A timer may fire up to a millisecond before its due time (libuv's loop clock is cached), so
    // the tick of a frame due just after the change may have run just before it: that interval is
    // either length, and left out with the one the change falls in.
    const EARLY_MS = 2;
    for (let i = 1; i < gFrames.length; i++) {
      const a = gFrames[i - 1]!;
      const z = gFrames[i]!;
      const step = a.due! >= fpsAt + EARLY_MS ? 1000 / 15 : z.due! <= fpsAt ? 1000 / 30 : NaN;
      if (Number.isNaN(step)) continue; // the interval the change falls in
      const k = (z.due! - a.due!) / step;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-6 && Math.round(k) >= 1, `${codec}: frames ${a.frame} -> ${z.frame} are ${k} ticks apart`);
    }
  }
});

function ffmpeg(args: string[]): string {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

async function role(name: string, args: string[]): Promise<{ ready: { port?: number }; done: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'stream', name, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = await Promise.race([new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)), done.then((code) => Promise.reject(new Error(`${name} exited with ${code} before it was ready`)))]);
  return { ready: JSON.parse(line) as { port?: number }, done };
}

test("after a resolution change the client's PSNR matches FFmpeg decoding the received stream and scaling it back with scale=flags=bicubic", async (t) => {
  const W = 320;
  const H = 240;
  const FRAME = (W * H * 3) / 2;
  const dir = mkdtempSync(join(work, 'ff-'));
  const src = join(dir, 'src.y4m');
  ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=30`, '-frames:v', '90', '-pix_fmt', 'yuv420p', src]);
  const set = ['codec=h264', `resolution=${W}x${H}`, 'fps=30', 'bitrate=600k', `source=${src}`, 'duration=2s'].flatMap((s) => ['--set', s]);
  const report = (n: string) => join(dir, `${n}.json`);
  const bitstream = join(dir, 'received.h264');
  const guest = await role('guest', [...set, '--report', report('guest'), '--schedule', JSON.stringify([{ atS: 0.8, resolution: '160x120' }])]);
  const host = await role('host', [...set, '--report', report('host'), '--upstream', `127.0.0.1:${guest.ready.port}`]);
  const client = await role('client', [...set, '--report', report('client'), '--connect', `127.0.0.1:${host.ready.port}`, '--dump-bitstream', bitstream]);
  assert.deepEqual(await Promise.all([guest.done, host.done, client.done]), [0, 0, 0]);
  const cFrames = (readRoleReport(report('client'), 'client').frames as ClientFrame[]).filter((f) => f.width !== undefined);
  const index = readFileSync(`${bitstream}.frames.tsv`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split('\t')[0]));
  assert.deepEqual(
    index,
    cFrames.map((f) => f.frame),
    'the dump holds every decoded frame, in order',
  );
  const smallCount = cFrames.filter((f) => f.width === 160).length;
  assert.ok(smallCount > 0 && smallCount < cFrames.length, `${smallCount} of ${cFrames.length} frames at 160x120`);

  // FFmpeg decodes on its own and scales every picture to the configured size with its scale filter (bicubic).
  const decoded = join(dir, 'decoded.yuv');
  ffmpeg(['-f', 'h264', '-i', bitstream, '-vf', `scale=${W}:${H}:flags=bicubic`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', decoded]);
  assert.equal(statSync(decoded).size, index.length * FRAME, 'FFmpeg decoded as many pictures as the client');
  const ref = join(dir, 'ref.yuv');
  ffmpeg(['-i', src, '-vf', `select='${index.map((n) => `eq(n,${n})`).join('+')}'`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', ref]);
  const log = join(dir, 'psnr.log');
  const input = (f: string) => ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', f];
  ffmpeg([...input(decoded), ...input(ref), '-lavfi', `[0:v][1:v]psnr=stats_file=${log}`, '-f', 'null', '-']);
  assert.ok(existsSync(log));
  const ff = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(/psnr_y:(\S+)/.exec(l)![1]));
  assert.equal(ff.length, cFrames.length);
  const diff = (sel: (f: ClientFrame) => boolean) => Math.max(...cFrames.map((f, i) => (sel(f) ? Math.abs(f.psnr - ff[i]!) : 0)));
  const worstBig = diff((f) => f.width === W);
  const worstSmall = diff((f) => f.width === 160);
  const meanSmall = cFrames.reduce((a, f) => a + (f.width === 160 ? f.psnr : 0), 0) / smallCount;
  t.diagnostic(`largest per-frame PSNR difference to FFmpeg: ${worstBig.toFixed(4)} dB at 320x240, ${worstSmall.toFixed(4)} dB for frames sent at 160x120 (mean ${meanSmall.toFixed(2)} dB)`);
  // The configured-size frames go through no scaler: as close as the plain cross-check (0.1 dB).
  // The scaled ones through two swscale builds (node-av's FFmpeg 8.1, Debian's 5.1) with the same
  // algorithm: the same tolerance.
  assert.ok(worstBig <= 0.1, `320x240 frames: ${worstBig} dB`);
  assert.ok(worstSmall <= TOLERANCE_SMALL, `160x120 frames scaled back: ${worstSmall} dB`);
  // Control: scaled back with another algorithm (neighbour), FFmpeg's figures move by more than the tolerance.
  const nb = join(dir, 'decoded-neighbor.yuv');
  ffmpeg(['-f', 'h264', '-i', bitstream, '-vf', `scale=${W}:${H}:flags=neighbor`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', nb]);
  const log2 = join(dir, 'psnr-nb.log');
  ffmpeg([...input(nb), ...input(ref), '-lavfi', `[0:v][1:v]psnr=stats_file=${log2}`, '-f', 'null', '-']);
  const ff2 = readFileSync(log2, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(/psnr_y:(\S+)/.exec(l)![1]));
  const offNb = Math.max(...cFrames.map((f, i) => (f.width === 160 ? Math.abs(f.psnr - ff2[i]!) : 0)));
  t.diagnostic(`with scale flags=neighbor instead: largest difference ${offNb.toFixed(3)} dB`);
  assert.ok(offNb > TOLERANCE_SMALL, `another scaler differs by only ${offNb} dB`);
});

/** Measured: 0.005 dB (the two swscale builds give the same bicubic pictures to within rounding). */
const TOLERANCE_SMALL = 0.1;
