// The client's quality figures against FFmpeg's, with nothing of ours in the reference path:
// FFmpeg makes the source video, decodes the bytes the client received (as it dumped them), and
// scores them against the source with its psnr and ssim filters. A control comparison shifted
// by one frame shows that a misaligned pairing could not pass.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { streamSettings } from '../src/config/stream-settings.ts';
import { quoteString } from '../src/store/database.ts';
import { writeSeriesParquet } from '../src/store/parquet.ts';
import { readRoleReport } from '../src/stream/report.ts';
import { analyzeStream } from '../src/workloads/stream/run.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const W = 320;
const H = 240;
const FRAME_BYTES = (W * H * 3) / 2;
/** Frames in the source file: more than the 60 ticks streamed, so every frame n + 1 exists. */
const SOURCE_FRAMES = 90;

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** Starts one role and waits for its ready line; `done` resolves with its exit code. */
async function role(name: string, args: string[]): Promise<{ ready: { port?: number }; done: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'stream', name, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = await Promise.race([new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)), done.then((code) => Promise.reject(new Error(`${name} exited with ${code} before it was ready`)))]);
  return { ready: JSON.parse(line) as { port?: number }, done };
}

/** Source frames `numbers` (in that order, increasing) as raw yuv420p, selected by FFmpeg. */
function selectFrames(src: string, numbers: number[], out: string): void {
  ffmpeg(['-i', src, '-vf', `select='${numbers.map((n) => `eq(n,${n})`).join('+')}'`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', out]);
  assert.equal(statSync(out).size, numbers.length * FRAME_BYTES, `FFmpeg selected every frame asked of ${src}`);
}

/** Per-frame luma PSNR (inf for identical frames) and SSIM Y from FFmpeg's filters. */
function scores(dir: string, dist: string, ref: string, tag: string): { psnr: number[]; ssim: number[] } {
  const input = (file: string) => ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', file];
  const psnrLog = join(dir, `psnr-${tag}.log`);
  const ssimLog = join(dir, `ssim-${tag}.log`);
  ffmpeg([...input(dist), ...input(ref), '-lavfi', `[0:v][1:v]psnr=stats_file=${psnrLog}`, '-f', 'null', '-']);
  ffmpeg([...input(dist), ...input(ref), '-lavfi', `[0:v][1:v]ssim=stats_file=${ssimLog}`, '-f', 'null', '-']);
  const field = (file: string, re: RegExp) =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const m = re.exec(l);
        assert.ok(m, `no ${re} in ${l}`);
        return m[1] === 'inf' ? Infinity : Number(m[1]);
      });
  return { psnr: field(psnrLog, /psnr_y:(\S+)/), ssim: field(ssimLog, /\bY:(\S+)/) };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("the client's per-frame and mean PSNR/SSIM match FFmpeg decoding the received bitstream against an FFmpeg-made source", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-quality-ffmpeg-'));
  const src = join(dir, 'src.y4m');
  // testsrc2 (moving, lossy at 300 kbit/s) with 15 flat grey frames in the middle: x264 codes
  // those exactly, so the identical-frame rule of the mean (100 dB) is exercised too.
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${W}x${H}:rate=30`,
    '-f',
    'lavfi',
    '-i',
    `color=c=gray:size=${W}x${H}:rate=30`,
    '-filter_complex',
    '[0:v]split[s0][s1];[s0]trim=end_frame=30,setpts=PTS-STARTPTS[a];[1:v]trim=end_frame=15,setpts=PTS-STARTPTS[b];' + `[s1]trim=start_frame=45:end_frame=${SOURCE_FRAMES},setpts=PTS-STARTPTS[c];[a][b][c]concat=n=3[v]`,
    '-map',
    '[v]',
    '-pix_fmt',
    'yuv420p',
    src,
  ]);
  assert.equal(statSync(src).size > SOURCE_FRAMES * FRAME_BYTES, true);

  // 0.5 s of warm-up + 1.5 s recorded over loopback TCP, no shaping.
  const params = { codec: 'h264', resolution: `${W}x${H}`, fps: 30, bitrate: '300k', source: src };
  const times = { warmupS: 0.5, durationS: 1.5 };
  const set = [...Object.entries(params).flatMap(([k, v]) => ['--set', `${k}=${v}`]), '--set', 'warmup=0.5s', '--set', 'duration=1.5s'];
  const report = (name: string) => join(dir, `${name}.json`);
  const bitstream = join(dir, 'received.h264');
  const guest = await role('guest', [...set, '--report', report('guest')]);
  const host = await role('host', [...set, '--report', report('host'), '--upstream', `127.0.0.1:${guest.ready.port}`]);
  const client = await role('client', [...set, '--report', report('client'), '--connect', `127.0.0.1:${host.ready.port}`, '--dump-bitstream', bitstream]);
  assert.deepEqual(await Promise.all([guest.done, host.done, client.done]), [0, 0, 0]);

  // frames.parquet and the summary, made by the stream workload's own code from the role reports.
  const reports = { guest: readRoleReport(report('guest'), 'guest'), host: readRoleReport(report('host'), 'host'), client: readRoleReport(report('client'), 'client') };
  const analysis = analyzeStream(streamSettings(params, times), reports);
  const parquet = join(dir, 'frames.parquet');
  await writeSeriesParquet(parquet, analysis.frames);
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await db.runAndReadAll(`SELECT frame, warmup, psnr, ssim, lost, dropped FROM read_parquet(${quoteString(parquet)}) ORDER BY frame`)).getRowObjectsJson() as Record<string, number>[];
  db.closeSync();

  // A clean loopback TCP stream: every frame the guest sent was received and decoded.
  assert.ok(rows.length >= 40, `${rows.length} frames`);
  assert.deepEqual(
    rows.filter((r) => r['lost'] || r['dropped']).map((r) => r['frame']),
    [],
    'frames lost or not decoded',
  );
  const index = readFileSync(`${bitstream}.frames.tsv`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split('\t')[0]));
  assert.deepEqual(
    index,
    rows.map((r) => Number(r['frame'])),
    'the dump holds every frame, in frame order',
  );

  // FFmpeg decodes the received bytes on its own: one picture per frame of the dump.
  const decoded = join(dir, 'decoded.yuv');
  ffmpeg(['-f', 'h264', '-i', bitstream, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', decoded]);
  assert.equal(statSync(decoded).size, index.length * FRAME_BYTES, 'FFmpeg decoded as many pictures as the client');

  const ref = join(dir, 'ref.yuv');
  selectFrames(src, index, ref);
  const ff = scores(dir, decoded, ref, 'aligned');
  assert.equal(ff.psnr.length, rows.length);
  let worstPsnr = 0;
  let worstSsim = 0;
  rows.forEach((r, i) => {
    // The client records an identical frame as 100 dB where FFmpeg prints inf.
    worstPsnr = Math.max(worstPsnr, Math.abs(r['psnr']! - Math.min(ff.psnr[i]!, 100)));
    worstSsim = Math.max(worstSsim, Math.abs(r['ssim']! - ff.ssim[i]!));
  });
  assert.ok(worstPsnr <= 0.1, `largest per-frame PSNR difference ${worstPsnr.toFixed(4)} dB`);
  assert.ok(worstSsim <= 0.001, `largest per-frame SSIM difference ${worstSsim.toFixed(6)}`);

  // The means as the client defines them: warm-up frames left out, identical frames as 100 dB.
  const inWindow = rows.map((r, i) => ({ r, psnr: Math.min(ff.psnr[i]!, 100), ssim: ff.ssim[i]! })).filter((x) => x.r['warmup'] === 0);
  const ffPsnr = mean(inWindow.map((x) => x.psnr));
  const ffSsim = mean(inWindow.map((x) => x.ssim));
  const clientPsnr = analysis.metrics['client.psnr'] as number;
  const clientSsim = analysis.metrics['client.ssim'] as number;
  assert.ok(Math.abs(clientPsnr - ffPsnr) <= 0.1, `client.psnr ${clientPsnr} dB, FFmpeg ${ffPsnr.toFixed(3)} dB`);
  assert.ok(Math.abs(clientSsim - ffSsim) <= 0.001, `client.ssim ${clientSsim}, FFmpeg ${ffSsim.toFixed(5)}`);
  assert.equal(analysis.metrics['client.quality_frames'], inWindow.length);
  // The two rules are visible here: identical frames in the window, warm-up frames that would move the mean.
  assert.ok(inWindow.some((x) => x.psnr === 100) && inWindow.some((x) => x.psnr < 45), 'the window holds identical and lossy frames');
  const withWarmup = mean(rows.map((_, i) => Math.min(ff.psnr[i]!, 100)));
  assert.ok(Math.abs(withWarmup - ffPsnr) > 0.5, `warm-up frames would move the mean: ${withWarmup.toFixed(2)} vs ${ffPsnr.toFixed(2)} dB`);

  // Control: paired with the neighbouring source frame, the same comparison is off by far more
  // than the tolerance, so a pairing one frame off could not have passed above.
  const shifted = join(dir, 'ref-next.yuv');
  selectFrames(
    src,
    index.map((n) => n + 1),
    shifted,
  );
  const off = scores(dir, decoded, shifted, 'next');
  const diffs = rows.map((r, i) => Math.abs(r['psnr']! - Math.min(off.psnr[i]!, 100)));
  assert.ok(Math.max(...diffs) > 1, `shifted by one: largest per-frame difference only ${Math.max(...diffs).toFixed(3)} dB`);
  const offMean = mean(inWindow.map((x) => Math.min(off.psnr[rows.indexOf(x.r)]!, 100)));
  t.diagnostic(
    `${rows.length} frames (${inWindow.length} recorded); largest per-frame difference ${worstPsnr.toFixed(4)} dB, SSIM ${worstSsim.toFixed(6)}; ` +
      `client.psnr ${clientPsnr} dB vs FFmpeg ${ffPsnr.toFixed(3)} (${withWarmup.toFixed(3)} with warm-up), client.ssim ${clientSsim} vs ${ffSsim.toFixed(5)}; ` +
      `shifted by one: mean ${offMean.toFixed(3)} dB, largest per-frame difference ${Math.max(...diffs).toFixed(2)} dB`,
  );
  assert.ok(Math.abs(offMean - clientPsnr) > 1, `shifted by one: mean ${offMean.toFixed(2)} dB vs the client's ${clientPsnr} dB`);
});
