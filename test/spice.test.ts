// A real SPICE stack, end to end: Debian's SPICE server (Xorg + spiceqxl), remote-viewer on Xvfb,
// the relay in between; and nothing of a run left alive after the engine is killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { undeclaredMetrics } from '../src/store/catalog.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { xorgConfig } from '../src/workloads/spice/xorg.ts';
import { SPICE_STACK } from '../src/workloads/spice/stack.ts';
import { displayEnv, freeDisplay, freePort } from '../src/workloads/desktop/display.ts';
import { ProcessSet } from '../src/workloads/desktop/processes.ts';
import { clientCodecs, clientError, decoderCodec, encoderCodec, parseClientLog, parseServerLog, serverCodecs, SPICE_GTK_MJPEG, SPICE_SERVER_MJPEG, streamDecoder } from '../src/workloads/spice/logs.ts';
import { spiceSettings } from '../src/config/spice-settings.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-spice-'));
const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');

test("remote-viewer's debug output: frames with their video margin, and the decoder it created", () => {
  const vp8 = parseClientLog(fixture('remote-viewer-vp8.txt'));
  assert.equal(vp8.streams.length, 1);
  assert.deepEqual(clientCodecs(vp8), { codecs: ['vp8'], decoders: ['vp8dec'] });
  assert.deepEqual(vp8.frames.slice(0, 2), [
    { atMs: ((13 * 60 + 56) * 60 + 15) * 1000 + 421, marginMs: 279 },
    { atMs: ((13 * 60 + 56) * 60 + 15) * 1000 + 446, marginMs: 369 },
  ]);
  assert.equal(vp8.streams[0]!.frames, vp8.frames.length);
  // The decoder list printed at start-up names every decoder the client could use: not a choice.
  assert.ok(!vp8.streams[0]!.elements.includes('jpegdec') && !vp8.streams[0]!.elements.includes('avdec_vp8'));
  assert.deepEqual(vp8.errors, []);

  const h264 = parseClientLog(fixture('remote-viewer-h264.txt'));
  assert.deepEqual(clientCodecs(h264), { codecs: ['h264'], decoders: ['avdec_h264'] });
  assert.ok(h264.streams[0]!.elements.includes('h264parse'), 'the parser plugins-bad brings');
  assert.equal(clientError(h264), undefined);
});

test('a stream the client could not decode (no h264parse, as on a fresh machine) is an error, never MJPEG', () => {
  // Recorded before setup.sh installed gstreamer1.0-plugins-bad: the server encoded H.264, the client
  // built a pipeline, found no way to decode it and dropped the stream; images followed.
  const log = parseClientLog(fixture('remote-viewer-h264-missing-decoder.txt'));
  assert.equal(log.streams.length, 1);
  assert.ok(log.streams[0]!.elements.includes('uridecodebin'), 'it went to GStreamer');
  assert.equal(streamDecoder(log.streams[0]!), undefined);
  assert.deepEqual(clientCodecs(log), { codecs: [], decoders: [] });
  assert.equal(clientError(log), 'Missing decoder: H.264 (video/x-h264)');
  assert.ok(
    log.errors.some((e) => e.includes('An error occurred, stopping the video stream')),
    log.errors.join(' | '),
  );
  const server = parseServerLog(fixture('spice-server-h264-missing-decoder.txt'));
  assert.deepEqual(serverCodecs(server), ['gstreamer:h264']);
  assert.equal(server.rejectedByClient, 1);
});

test("MJPEG on the client: spice-gtk's own decoder, a stream with frames and no GStreamer element", () => {
  const log = parseClientLog(fixture('remote-viewer-spice-mjpeg.txt'));
  assert.equal(log.streams.length, 1);
  assert.deepEqual(log.streams[0]!.elements, []);
  assert.ok(log.streams[0]!.frames > 10, `${log.streams[0]!.frames} frames`);
  assert.deepEqual(clientCodecs(log), { codecs: ['mjpeg'], decoders: [SPICE_GTK_MJPEG] });
  // The same stream without a frame received proves nothing.
  assert.equal(streamDecoder({ ...log.streams[0]!, frames: 0 }), undefined);
});

test('late frames are frames received, with a negative margin', () => {
  const log = parseClientLog(fixture('remote-viewer-vp9-late.txt'));
  const late = log.frames.filter((f) => f.marginMs < 0);
  assert.ok(late.length >= 1 && late.every((f) => Number.isFinite(f.atMs)));
  assert.equal(log.streams.length, 2, 'the server made the stream twice');
  assert.deepEqual(clientCodecs(log), { codecs: ['vp9'], decoders: ['vp9dec'] });
});

test('decoder and encoder element names to codecs', () => {
  for (const [e, c] of [
    ['vp8dec', 'vp8'],
    ['avdec_vp9', 'vp9'],
    ['avdec_h264', 'h264'],
    ['openh264dec', 'h264'],
    ['vah264dec', 'h264'],
    ['jpegdec', 'mjpeg'],
    ['avdec_mjpeg', 'mjpeg'],
  ] as const)
    assert.equal(decoderCodec(e), c, e);
  for (const e of ['h264parse', 'vp8alphadecodebin', 'decodebin', 'uridecodebin', 'jpegparse', 'videoconvert']) assert.equal(decoderCodec(e), undefined, e);
  for (const [e, c] of [
    ['x264enc', 'gstreamer:h264'],
    ['openh264enc', 'gstreamer:h264'],
    ['vp8enc', 'gstreamer:vp8'],
    ['vp9enc', 'gstreamer:vp9'],
    ['avenc_mjpeg', 'gstreamer:mjpeg'],
  ] as const)
    assert.equal(encoderCodec(e), c, e);
});

test("the SPICE server's own decisions under a 2 Mbit/s link, from its debug log (gstreamer:vp8 and spice:mjpeg)", () => {
  const vp8 = parseServerLog(fixture('spice-server-vp8-2M.txt')).metrics;
  assert.equal(vp8['server.net_test_bitrate'], 1990703);
  assert.equal(vp8['server.initial_bitrate'], 1900000);
  assert.equal(vp8['server.stream_fps'], 16);
  assert.equal(vp8['server.target_bitrate.min'], 1592562);
  assert.equal(vp8['server.frames_dropped'], 17);
  const mjpegLog = parseServerLog(fixture('spice-server-mjpeg-2M.txt'));
  const mjpeg = mjpegLog.metrics;
  assert.equal(mjpeg['server.stream_fps'], 15);
  assert.equal(mjpeg['server.target_bitrate'], 1520000);
  assert.equal(typeof mjpeg['server.mjpeg_quality'], 'number');
  assert.ok(mjpeg['server.frames_dropped']! > 0);
  assert.deepEqual(serverCodecs(mjpegLog), ['spice:mjpeg']);
});

test("the server's encoder and its bitrate in bit/s whatever unit the encoder takes", () => {
  // x264enc takes kbit/s (spice-server sets bit/s ÷ 1024: "setting the GStreamer bitrate to 10922").
  const h264 = parseServerLog(fixture('spice-server-h264.txt'));
  assert.deepEqual(h264.encoders, ['x264enc']);
  assert.deepEqual(serverCodecs(h264), ['gstreamer:h264']);
  assert.equal(h264.metrics['server.target_bitrate'], 10922 * 1024);
  // avenc_mjpeg takes bit/s in a property also named bitrate.
  const gmjpeg = parseServerLog(fixture('spice-server-gstreamer-mjpeg.txt'));
  assert.deepEqual(serverCodecs(gmjpeg), ['gstreamer:mjpeg']);
  assert.equal(gmjpeg.metrics['server.target_bitrate'], 6291456);
  assert.deepEqual(serverCodecs(parseServerLog(fixture('spice-server-spice-mjpeg.txt'))), ['spice:mjpeg']);
});

test('a server without x264enc: the pipeline it described never ran, its own MJPEG encoder did', () => {
  // Recorded with a GStreamer plug-in directory lacking libgstx264.so.
  const log = parseServerLog(fixture('spice-server-h264-no-x264enc.txt'));
  assert.ok(fixture('spice-server-h264-no-x264enc.txt').includes('x264enc name=encoder'), 'the fixture describes the x264 pipeline');
  assert.deepEqual(log.encoders, [SPICE_SERVER_MJPEG]);
  assert.deepEqual(serverCodecs(log), ['spice:mjpeg']);
});

test('the X server configuration carries every setting, and the buffer sizes it needs', () => {
  const conf = xorgConfig(spiceSettings({ spice_codec: 'gstreamer:h264', streaming: 'all', image_compression: 'glz', jpeg_wan: 'never', zlib_wan: 'always', deferred_fps: 20, resolution: '1920x1080' }, { warmupS: 0, durationS: 1 }), 5999, '127.0.0.1', 'tick-et');
  for (const line of [
    '"SpicePort" "5999"',
    '"SpiceVideoCodecs" "gstreamer:h264"',
    '"SpiceStreamingVideo" "all"',
    '"SpiceImageCompression" "glz"',
    '"SpiceJpegWanCompression" "never"',
    '"SpiceZlibGlzWanCompression" "always"',
    '"SpiceDeferredFPS" "20"',
    'Virtual 1920 1080',
    '"CommandBufferSize" "128"',
    '"SpiceAddr" "127.0.0.1"',
    '"SpicePassword" "tick-et"',
  ]) {
    assert.ok(conf.includes(line), line);
  }
  assert.doesNotMatch(conf, /SpiceDisableTicketing/);
});

// The real runs below hold on a busy 2-core machine: they assert what happened (a stream, frames,
// the codec on both sides, counts that agree), never how fast. A small screen at 10 fps keeps the
// content player able to draw at the rate the server needs to start a video stream (20 frames in a
// row, at most 200 ms apart) even when it gets a fraction of a core, and the warm-up leaves the
// server several seconds to see such a run when the player stalls now and then.
const SCENE = { resolution: '640x480', fps: 10, warmupS: 6, durationS: 3 };

test('one real SPICE point: the codec on both sides, frames decoded, CPU and bytes per role and channel', async () => {
  const file = join(work, 'one.yaml');
  writeFileSync(file, `name: one\nworkload: {type: spice, resolution: ${SCENE.resolution}, fps: ${SCENE.fps}, scene: video}\nmatrix: {spice_codec: gstreamer:vp8, streaming: all}\nwarmup: ${SCENE.warmupS}s\nduration: ${SCENE.durationS}s\n`);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'one-results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const p = set.points()[0]!;
  assert.equal(summary.ok, 1, JSON.stringify(p.outcome));
  const m = p.metrics;
  const ctx = JSON.stringify({ flags: p.flags, metrics: m });
  assert.equal(m['codec.server'], 'gstreamer:vp8', ctx);
  assert.equal(m['codec.server_encoder'], 'vp8enc', ctx);
  assert.equal(m['codec.client'], 'vp8', ctx);
  assert.equal(m['codec.client_decoder'], 'vp8dec', ctx);
  assert.equal(m['codec.match'], true, ctx);
  // Frames reached the client in the window, and the counts agree with each other.
  const frames = m['client.frames'] as number;
  assert.ok(frames > 0 && (m['client.video_streams'] as number) >= 1, ctx);
  assert.equal(m['client.fps'], Number((frames / SCENE.durationS).toFixed(2)));
  assert.ok((m['client.frames_late'] as number) <= frames);
  // No more stream frames than the player drew since the point started, nor distinct pictures on screen.
  assert.ok((m['client.startup_s'] as number) > 0, ctx);
  assert.ok(frames <= SCENE.fps * ((m['client.startup_s'] as number) + SCENE.warmupS + SCENE.durationS) + 1, ctx);
  assert.ok((m['client.fps_screen'] as number) * SCENE.durationS <= SCENE.fps * SCENE.durationS + 1, ctx);
  // Independent reading of the client's screen: the frame numbers the scene stamps were read back.
  assert.ok((m['client.screen_frames_read'] as number) > 0, `the frame code was read back from the client screen: ${ctx}`);
  for (const k of ['guest.cpu_pct', 'client.cpu_pct']) assert.ok((m[k] as number) > 0, `${k}: ${ctx}`);
  assert.ok((m['host.cpu_pct'] as number) >= 0 && (m['grab.cpu_pct'] as number) >= 0, ctx);
  // End-to-end latency, the player's stamps against the client's screen: there, positive, ordered.
  const p50 = m['latency.p50'] as number;
  const p95 = m['latency.p95'] as number;
  assert.ok((m['latency.frames_seen'] as number) > 0 && p50 > 0 && p50 <= p95, ctx);
  assert.ok((m['bytes.down'] as number) > 0 && (m['bytes.up'] as number) >= 0);
  assert.equal(m['client.bitrate'], Math.round(((m['bytes.down'] as number) * 8) / SCENE.durationS));
  // Every figure it stored is one the spice workload (or the agents) declares, with a unit and a direction.
  assert.deepEqual(undeclaredMetrics(p), [], 'metrics the spice workload stores but does not declare (src/config/spice-params.ts)');
  assert.ok((m['channel.display.bytes_down'] as number) > (m['channel.main.bytes_down'] as number));
  // The agents watched the server, the relay and the viewer on their roles' machines.
  const db = await openSetDatabase([set]);
  try {
    // Per frame: the window's frames seen on the client have a latency that is seen_at - shown_at,
    // and the figures of the point are their quantiles.
    const f = (await db.conn.runAndReadAll(`SELECT count(*) AS n, count(seen_at) FILTER (WHERE warmup = 0) AS seen, max(abs(latency_ms - (seen_at - shown_at))) AS off, quantile_cont(latency_ms, 0.5) FILTER (WHERE warmup = 0) AS p50 FROM frames`)).getRowObjectsJson()[0]!;
    assert.ok(Number(f['n']) > 0 && Number(f['seen']) === m['latency.frames_seen'], JSON.stringify(f));
    assert.ok(Number(f['off']) < 0.01, JSON.stringify(f));
    assert.ok(Math.abs(Number(f['p50']) - p50) < 0.01, `frames.parquet p50 ${Number(f['p50'])}, point ${p50}`);
    const rows = (await db.conn.runAndReadAll(`SELECT role || '.' || name AS k FROM samples WHERE name LIKE 'proc.%.cpu_pct' GROUP BY 1 ORDER BY 1`)).getRowObjectsJson().map((r) => r['k'] as string);
    for (const k of ['client.proc.client.cpu_pct', 'guest.proc.server.cpu_pct', 'guest.proc.player.cpu_pct', 'host.proc.relay.cpu_pct']) assert.ok(rows.includes(k), `${k} in ${rows.join(', ')}`);
  } finally {
    db.close();
  }
});

test('a client without the H.264 parser (ranked out of GStreamer): the point fails and quotes the missing decoder', async () => {
  const file = join(work, 'noparser.yaml');
  // The failure needs a stream at any time of the point, not in the window: a long warm-up gives the
  // server more chances to see a steady run of frames when the machine is busy, a short window keeps
  // the test short.
  writeFileSync(file, `name: noparser\nworkload: {type: spice, resolution: ${SCENE.resolution}, fps: ${SCENE.fps}, scene: video}\nmatrix: {spice_codec: gstreamer:h264, streaming: all}\nwarmup: 12s\nduration: 1s\nrecording: false\n`);
  const results = join(work, 'noparser-results');
  // Rank 0 keeps decodebin from picking h264parse, as on a machine without gstreamer1.0-plugins-bad;
  // avdec_h264 stays, so the client still offers H.264 and the server sends it.
  const run = spawn(process.execPath, [CLI, 'run', file, '--results', results], { env: { ...process.env, GST_PLUGIN_FEATURE_RANK: 'h264parse:0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (d: Buffer) => (out += d.toString()));
  run.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => run.once('exit', (c) => r(c)));
  const set = ResultSet.openOrCreate(results, 'noparser');
  const p = set.points()[0]!;
  assert.equal(code, 3, out);
  assert.equal(p.outcome.status, 'failed', JSON.stringify(p.outcome));
  assert.match(p.outcome.error, /Missing decoder: H\.264 \(video\/x-h264\)/);
  assert.match(out, /Missing decoder: H\.264/);
  // The figures stay with the failed point, labelled for what they are.
  assert.equal(p.metrics['codec.server'], 'gstreamer:h264');
  assert.equal(p.metrics['codec.client'], 'none');
  assert.equal(p.metrics['codec.match'], false);
});

/** Pids of every process whose process group is one of these. */
function membersOf(groups: Set<number>): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Zombies are dead already: this container's init may not reap them.
      if (f[0] !== 'Z' && groups.has(Number(f[2]))) out.push(Number(name));
    } catch {
      continue; // gone between listing and reading
    }
  }
  return out;
}

test('kill -9 of the engine in the middle of a SPICE point: after the next start no process of that run is alive', async () => {
  const file = join(work, 'kill.yaml');
  writeFileSync(file, 'name: kill\nworkload: {type: spice, resolution: 640x480, scene: typing}\nmatrix: {spice_codec: spice:mjpeg, i: [1, 2]}\nduration: 30s\n');
  const results = join(work, 'kill-results');
  const engine = spawn(process.execPath, [CLI, 'run', file, '--results', results], { stdio: 'ignore' });
  const live = join(results, '.live');
  const staging = join(results, '.staging');
  // Wait until the point's whole chain runs: its 6 process groups (3 agents, then the guest role, the
  // relay and the client role, whose programs stay in their groups) recorded, and the client showing the guest's screen. By
  // condition, with a deadline only against a hang: a busy machine may take a minute to get there.
  const running = () => existsSync(live) && readdirSync(live).length >= 6 && existsSync(staging) && readdirSync(staging).some((d) => existsSync(join(staging, d, 'client.log')) && readFileSync(join(staging, d, 'client.log'), 'utf8').includes('Create primary canvas'));
  const deadline = Date.now() + 180_000;
  while (!running() && Date.now() < deadline && engine.exitCode === null) await sleep(200);
  assert.ok(running(), `the SPICE point was not running ${engine.exitCode === null ? 'after 180 s' : `: the engine exited with ${engine.exitCode}`}`);
  const groups = new Set(readdirSync(live).map((f) => Number(f.replace('.json', ''))));
  assert.ok(groups.size >= 6, `${groups.size} process groups recorded`);
  // What the final check looks for was there: the run's processes were alive when its engine died.
  assert.ok(membersOf(groups).length >= 10, `${membersOf(groups).length} processes of the run alive before the kill`);
  engine.kill('SIGKILL');
  // Whatever the dead engine left is ended by the next start at the latest (it checks each pid's
  // start time first).
  const real = spawn(process.execPath, [CLI, 'run', file, '--results', results, '--set', 'duration=0.5s'], { stdio: 'ignore' });
  await new Promise((r) => real.once('exit', r));
  await sleep(300);
  assert.deepEqual(membersOf(groups), [], 'nothing of the killed run is alive');
});

test(
  "no door: the SPICE server asks for the point's ticket (a viewer without it is refused, SPICE_LINK_ERR_PERMISSION_DENIED), kept in 0600 files; the viewer's connection file goes once read",
  { skip: !existsSync('/usr/lib/xorg/modules/drivers/spiceqxl_drv.so') ? 'no SPICE server here (scripts/setup.sh)' : false, timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-spice-ticket-'));
    const procs = new ProcessSet({ dir, onProcess: () => undefined });
    try {
      const s = SPICE_STACK.settings({ resolution: '640x480' }, { warmupS: 0, durationS: 5 });
      const port = await freePort();
      const started = await SPICE_STACK.startServer(procs, { dir, display: freeDisplay(new Set()), address: '127.0.0.1', port, settings: s });
      const ticket = started.viewer?.['passwordFile'];
      assert.ok(ticket !== undefined && existsSync(ticket));
      for (const f of [ticket, join(dir, 'xorg.conf')]) assert.equal(statSync(f).mode & 0o777, 0o600, `${f} is the user's only`);
      const screen = (name: string) => {
        const d = freeDisplay(new Set());
        procs.start(`${name}-screen`, ['Xvfb', `:${d}`, '-screen', '0', '800x600x24', '-nolisten', 'tcp']);
        return d;
      };
      const waitLog = async (file: string, re: RegExp) => {
        for (let i = 0; i < 600 && !(existsSync(file) && re.test(readFileSync(file, 'utf8'))); i++) await sleep(100);
        return existsSync(file) ? readFileSync(file, 'utf8') : '';
      };
      // Without the ticket: refused at the link (SPICE_LINK_ERR_PERMISSION_DENIED is 7), no picture.
      const bare = screen('bare');
      await sleep(1000);
      procs.start('bare', ['remote-viewer', '--spice-debug', `spice://127.0.0.1:${port}`], { env: displayEnv(bare, dir) });
      const refused = await waitLog(join(dir, 'bare.log'), /link result: reply \d+/);
      assert.match(refused, /main-1:0: link result: reply 7/);
      assert.doesNotMatch(refused, /Create primary canvas/);
      // With it, through the stack's own connection file: the guest's screen, and the file gone once read.
      const ok = screen('ok');
      await sleep(1000);
      SPICE_STACK.viewerIo!(s, started.viewer!, { host: '127.0.0.1', port });
      const vv = SPICE_STACK.viewerArgv('127.0.0.1', port, s, started.viewer!).at(-1)!;
      assert.equal(statSync(vv).mode & 0o777, 0o600);
      procs.start('ok', SPICE_STACK.viewerArgv('127.0.0.1', port, s, started.viewer!), { env: displayEnv(ok, dir) });
      assert.match(await waitLog(join(dir, 'ok.log'), /Create primary canvas/), /Create primary canvas/);
      assert.ok(!existsSync(vv), 'remote-viewer deleted its connection file (delete-this-file)');
    } finally {
      await procs.stopAll();
    }
  },
);
