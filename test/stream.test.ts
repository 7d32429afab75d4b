// The built-in pipeline, for real: three processes, real codecs, real sockets, the emulated
// network; each indicator checked against an independent reference.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import type { PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { allocFrame } from '../src/stream/frame.ts';
import { createScene } from '../src/stream/scenes/index.ts';
import type { ClientFrame, RoleReport } from '../src/stream/report.ts';
import { TIMELINE_MS } from '../src/stream/timeline.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-stream-'));
const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;

async function runYaml(name: string, text: string): Promise<{ points: PointRecord[]; set: ResultSet }> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, text);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, `${name}-results`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  return { points: set.points(), set };
}

async function frameRows(set: ResultSet, sql: string): Promise<Record<string, unknown>[]> {
  const db = await openSetDatabase([set]);
  try {
    return (await db.conn.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    db.close();
  }
}

const m = (p: PointRecord, k: string) => p.metrics[k] as number;

test('5 s of 720p30 H.264 through guest, host and client: every frame, every stage, in order, none lost', async () => {
  const { points, set } = await runYaml(
    'clean',
    `name: clean
workload: {type: stream, resolution: 1280x720, fps: 30, scene: scrolling, bitrate: 2M}
matrix: {codec: h264}
duration: 5s
`,
  );
  const p = points[0]!;
  assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));
  // A tick the guest skips (its encoder still busy, or the machine loaded) is counted, never
  // hidden: how many there are depends on the machine, that they add up does not.
  assert.equal(m(p, 'frames.sent') + m(p, 'guest.skipped'), 150, '5 s at 30 fps is 150 capture ticks');
  assert.ok(m(p, 'frames.sent') > 0, 'the guest sent frames');
  for (const k of ['frames.lost', 'frames.dropped']) assert.equal(m(p, k), 0, k);
  assert.equal(m(p, 'frames.received'), m(p, 'frames.sent'));
  const rows = await frameRows(set, 'SELECT * FROM frames ORDER BY frame');
  assert.equal(rows.length, m(p, 'frames.sent'));
  // Frame numbers are tick numbers: the ticks missing from the table are exactly the skipped ones.
  assert.ok(
    rows.every((r) => Number.isInteger(r['frame']) && (r['frame'] as number) >= 0 && (r['frame'] as number) < 150),
    'every frame number is one of the 150 ticks',
  );
  assert.equal(150 - new Set(rows.map((r) => r['frame'])).size, m(p, 'guest.skipped'), 'a skipped tick shows as a gap in the frame numbers');
  const order = ['capture_start', 'capture_end', 'enc_end', 'host_in', 'recv_end', 'dec_start', 'dec_end'];
  rows.forEach((r, i) => {
    if (i > 0) assert.ok((r['frame'] as number) > (rows[i - 1]!['frame'] as number), 'frames arrive in order');
    for (const c of [...order, 'send_end', 'host_out', 'psnr', 'ssim']) assert.equal(typeof r[c], 'number', `frame ${i} has ${c}`);
    // Shown at the first refresh after decoding, unless a newer frame replaced it before that refresh.
    if (r['shown'] === 1) assert.ok((r['display'] as number) >= (r['dec_end'] as number));
    for (let j = 1; j < order.length; j++) assert.ok((r[order[j]!] as number) >= (r[order[j - 1]!] as number), `frame ${i}: ${order[j - 1]} <= ${order[j]}`);
  });

  // Truth: each role's own CPU counter (the per-role figures come from it) agrees with the
  // kernel's accounting of the reaped processes (cutime/cstime), within 0.05 s + 5 %: the roles'
  // own exit (after their last reading) is in the kernel's figure only.
  const kernel = m(p, 'roles.cpu_kernel_s');
  assert.ok(m(p, 'roles.cpu_reported_s') <= kernel + 0.02, 'a process cannot have used more than the kernel accounted');
  assert.ok(kernel - m(p, 'roles.cpu_reported_s') <= 0.05 + 0.05 * kernel, `roles report ${m(p, 'roles.cpu_reported_s')} s, kernel ${kernel} s`);

  // Truth: the bitrate is the bytes the guest sent, and the relay's byte count agrees with them.
  const bytes = rows.reduce((s, r) => s + (r['bytes'] as number), 0);
  // Frames' times are ms since the point began; the window is where the point's record says.
  const [from, to] = p.timeline!.window.map((x) => x * 1000) as [number, number];
  const arrived = rows.filter((r) => (r['recv_end'] as number) >= from && (r['recv_end'] as number) < to).reduce((s, r) => s + (r['bytes'] as number), 0);
  assert.ok(Math.abs(m(p, 'client.bitrate') - (arrived * 8) / 5) <= 1, `${m(p, 'client.bitrate')} bit/s vs ${(arrived * 8) / 5}`);
  // The relay's bytes in the window (its counter read at the window's edges, between samples
  // TIMELINE_MS apart) = payload + 30-byte frame headers of the frames it sent in the window; only
  // what left within one sampling interval of an edge (and the end message) may fall either way.
  const out = (r: Record<string, unknown>) => r['host_out'] as number;
  const sent = rows.filter((r) => out(r) >= from && out(r) < to).reduce((s, r) => s + (r['bytes'] as number) + 30, 0);
  const nearEdge = rows.filter((r) => Math.min(Math.abs(out(r) - from), Math.abs(out(r) - to)) <= TIMELINE_MS).reduce((s, r) => s + (r['bytes'] as number) + 30, 0);
  const endMessage = 5 + JSON.stringify({ frames: rows.length }).length;
  assert.ok(Math.abs(m(p, 'host.bytes_out') - sent) <= nearEdge + endMessage, `relay bytes ${m(p, 'host.bytes_out')}, frames sent in the window ${sent} (payload ${bytes} in all), within ${nearEdge + endMessage}`);
});

test("the client's PSNR matches FFmpeg's psnr filter on the same decoded and source frames (0.1 dB)", async () => {
  const dir = mkdtempSync(join(work, 'psnr-'));
  const w = 640;
  const h = 360;
  const set = ['--set', 'codec=h264', '--set', `resolution=${w}x${h}`, '--set', 'bitrate=300k', '--set', 'scene=motion', '--set', 'duration=2s'];
  const role = async (name: string, extra: string[]) => {
    const child = spawn(process.execPath, [CLI, 'stream', name, ...set, '--report', join(dir, `${name}.json`), ...extra], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const ready = JSON.parse(line) as { port?: number };
    const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { ready, done };
  };
  const guest = await role('guest', []);
  const host = await role('host', ['--upstream', `127.0.0.1:${guest.ready.port}`]);
  const client = await role('client', ['--connect', `127.0.0.1:${host.ready.port}`, '--dump', dir]);
  assert.deepEqual(await Promise.all([guest.done, host.done, client.done]), [0, 0, 0]);

  // The reference: the source frames, regenerated here independently of the client.
  const numbers = readFileSync(join(dir, 'decoded.txt'), 'utf8').trim().split('\n').map(Number);
  // How many frames a loaded machine gets through varies; each one decoded is compared.
  assert.ok(numbers.length > 0 && numbers.every(Number.isInteger), 'the client dumped the frames it decoded');
  const scene = createScene('motion', { width: w, height: h, fps: 30 });
  const ref = allocFrame(w, h);
  const fd = openSync(join(dir, 'ref.yuv'), 'w');
  for (const n of numbers) {
    scene.render(n, ref);
    writeSync(fd, ref.y);
    writeSync(fd, ref.u);
    writeSync(fd, ref.v);
  }
  closeSync(fd);
  const raw = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`];
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', ...raw, '-i', join(dir, 'decoded.yuv'), ...raw, '-i', join(dir, 'ref.yuv'), '-lavfi', `psnr=stats_file=${join(dir, 'psnr.log')}`, '-f', 'null', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ffmpeg = readFileSync(join(dir, 'psnr.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(/psnr_y:(\S+)/.exec(l)![1]));
  const report = JSON.parse(readFileSync(join(dir, 'client.json'), 'utf8')) as RoleReport;
  const ours = new Map((report.frames as ClientFrame[]).map((f) => [f.frame, f.psnr]));
  assert.equal(ffmpeg.length, numbers.length, 'FFmpeg compared every dumped frame');
  assert.ok(
    numbers.every((n) => typeof ours.get(n) === 'number'),
    'the client measured every frame it dumped',
  );
  let worst = 0;
  numbers.forEach((n, i) => {
    const a = ours.get(n)!;
    const b = ffmpeg[i]!;
    worst = Math.max(worst, Math.abs(a - b));
  });
  assert.ok(worst <= 0.1, `largest difference ${worst.toFixed(4)} dB over ${numbers.length} frames`);
  assert.ok(
    ffmpeg.some((x) => x < 45),
    'the stream was lossy enough for the check to mean something',
  );
});

test('emulated network: 30 ms delay, a 2 Mbit/s limit, 5 % loss over UDP', async () => {
  const { points, set } = await runYaml(
    'net',
    `name: net
workload: {type: stream, resolution: 640x360, fps: 30, scene: motion, codec: h264}
matrix:
  case: [delay, rate, loss]
  net_delay: [30ms, 0, 0]
  net_rate: [none, 2M, none]
  net_loss: [0, 0, 5]
  transport: [tcp, tcp, udp]
  bitrate: [1M, 4M, 2M]
  mtu: [1400, 1400, 600]
link: [[case, net_delay, net_rate, net_loss, transport, bitrate, mtu]]
duration: 4s
`,
  );
  const by = Object.fromEntries(points.map((p) => [p.params['case'] as string, p]));
  for (const p of points) assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));

  const d = by['delay']!;
  // Never below the delay: the relay holds each frame that long, between stamps taken before each
  // hand-over and after each read. Above it by the hand-overs' wake-ups, which grow on a busy machine.
  assert.ok(m(d, 'stage.network.p50') >= 30 && m(d, 'stage.network.p50') < 45, `network stage median ${m(d, 'stage.network.p50')} ms`);
  assert.equal(m(d, 'frames.lost'), 0);

  const r = by['rate']!;
  assert.ok(m(r, 'client.bitrate') <= 2e6 * 1.01, `throughput ${m(r, 'client.bitrate')} bit/s under a 2 Mbit/s limit`);
  assert.ok(m(r, 'guest.bitrate') > 2e6 || m(r, 'guest.skipped') > 0, 'the guest offered more than the link carries');
  // TCP does not drop: the excess waits in the relay's queue and, behind it, in the kernel's socket buffers.
  assert.ok(m(r, 'stage.network.p50') > 50, `queueing delay shows in the network stage: ${m(r, 'stage.network.p50')} ms`);
  assert.ok(m(r, 'host.max_queue_kb') > 16);

  const l = by['loss']!;
  // Each packet is lost with probability 0.05: the measured share is binomial, so its tolerance
  // is 4 standard deviations of the packets the relay really saw (fewer when a loaded guest skips).
  const hostReport = JSON.parse(readFileSync(join(set.pointDir(l.key, l.rep), 'host.json'), 'utf8')) as RoleReport;
  const packets = hostReport.counters['packets_in']!;
  assert.ok(packets >= 100, `${packets} packets: too few for a loss figure`);
  const sd = Math.sqrt((0.05 * 0.95) / packets) * 100;
  assert.ok(Math.abs(m(l, 'net.loss_measured_pct') - 5) <= 4 * sd, `measured loss ${m(l, 'net.loss_measured_pct')} % of ${packets} packets (5 ± ${(4 * sd).toFixed(2)})`);
  // A frame is lost when any of its fragments is: at 5 % packet loss most multi-fragment frames
  // are; each loss is counted and answered by a keyframe request.
  assert.ok(m(l, 'frames.lost') > 0 && m(l, 'frames.dropped') >= m(l, 'frames.lost'));
  assert.ok(m(l, 'client.keyframe_requests') > 0);
  assert.ok(m(l, 'frames.decoded') > 0, 'a keyframe asked again after each loss gets through: the stream recovers');
});

test('every codec streams at 640x360', async () => {
  const { points } = await runYaml(
    'codecs',
    `name: codecs
workload: {type: stream, resolution: 640x360, fps: 30, scene: drag, bitrate: 1M}
matrix:
  codec: [h264, h265, vp8, vp9, av1, mjpeg]
duration: 2s
`,
  );
  assert.equal(points.length, 6);
  for (const p of points) {
    assert.equal(p.outcome.status, 'ok', `${p.params['codec']}: ${JSON.stringify(p.outcome)}`);
    assert.equal(m(p, 'frames.lost'), 0, `${p.params['codec']} lost frames`);
    // How many frames an encoder gets through in 2 s depends on the machine; that every frame
    // sent is decoded does not.
    assert.ok(m(p, 'frames.decoded') > 0, `${p.params['codec']} decoded no frame`);
    assert.equal(m(p, 'frames.dropped'), 0, `${p.params['codec']} sent ${m(p, 'frames.sent')}, decoded ${m(p, 'frames.decoded')}`);
    assert.ok(m(p, 'client.psnr') > 25, `${p.params['codec']} PSNR ${m(p, 'client.psnr')}`);
  }
});

test('a bitrate change while streaming is applied and its time recorded', async () => {
  const { points, set } = await runYaml(
    'adapt',
    `name: adapt
workload:
  type: stream
  resolution: 640x360
  scene: motion
  bitrate: 2M
  schedule: [{at: 1.5s, bitrate: 200k}]
matrix: {codec: h264}
duration: 3s
`,
  );
  const p = points[0]!;
  assert.equal(p.outcome.status, 'ok');
  assert.equal(m(p, 'controls'), 1);
  const guest = JSON.parse(readFileSync(join(set.pointDir(p.key, p.rep), 'guest.json'), 'utf8')) as RoleReport;
  const c = guest.controls![0]!;
  assert.equal(c.bitrate, 200_000);
  assert.equal(c.applied, 'live');
  // Applied at its time: never before it, and before the capture of any tick due after it (the
  // guest's timers run in the order they are due, however late a loaded machine runs them).
  const at = c.t - guest.startMs;
  assert.ok(at >= 1499, `applied ${at} ms after the start, before its time`);
  // Frames' times are ms since the point began; the stream began where the warm-up does (none here).
  const g0 = p.timeline!.warmup![0] * 1000;
  const later = (await frameRows(set, `SELECT frame, capture_start - ${g0} AS capture_start FROM frames WHERE frame * 1000 / 30 >= ${1500 + 1000 / 30}`)) as { frame: number; capture_start: number }[];
  assert.ok(later.length > 0, 'frames were captured after the change');
  const early = later.filter((f) => f.capture_start < at);
  assert.deepEqual(early, [], `applied ${at} ms after the start, after frames due later were captured`);
  const rows = await frameRows(set, `SELECT capture_start - ${g0} > ${at + 300} AS after, sum(bytes) * 8 / (max(capture_start) - min(capture_start)) AS kbps FROM frames GROUP BY 1 ORDER BY 1`);
  const [before, after] = rows.map((r) => r['kbps'] as number);
  assert.ok(after! < before! / 3, `bitrate before ${before!.toFixed(0)} kbit/s, after ${after!.toFixed(0)}`);
});
