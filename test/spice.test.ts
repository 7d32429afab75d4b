// A real SPICE stack, end to end: Debian's SPICE server (Xorg + spiceqxl), remote-viewer on Xvfb,
// the relay in between; and nothing of a run left alive after the engine is killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadBenchmark } from '../src/bench/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { codecUsed, parseClientLog, parseServerLog, xorgConfig } from '../src/workloads/spice.ts';
import { spiceSettings } from '../src/bench/spice-settings.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-spice-'));
const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const fixtures = new URL('./fixtures/', import.meta.url).pathname;

test("remote-viewer's debug output: frames with their video margin, and the decoder it chose", () => {
  const vp8 = parseClientLog(readFileSync(join(fixtures, 'remote-viewer-vp8.txt'), 'utf8'));
  assert.equal(vp8.streams, 1);
  assert.equal(codecUsed(vp8), 'vp8');
  assert.deepEqual(vp8.frames.slice(0, 2), [
    { atMs: ((13 * 60 + 56) * 60 + 15) * 1000 + 421, marginMs: 279 },
    { atMs: ((13 * 60 + 56) * 60 + 15) * 1000 + 446, marginMs: 369 },
  ]);
  // The decoder list printed at start-up names every decoder the client could use: not a choice.
  assert.ok(!vp8.decoders.includes('jpegdec'));
});

test("the SPICE server's own decisions under a 2 Mbit/s link, from its debug log (gstreamer:vp8 and spice:mjpeg)", () => {
  const vp8 = parseServerLog(readFileSync(join(fixtures, 'spice-server-vp8-2M.txt'), 'utf8'));
  assert.equal(vp8['server.net_test_kbps'], 1991);
  assert.equal(vp8['server.initial_bitrate_kbps'], 1900);
  assert.equal(vp8['server.stream_fps'], 16);
  assert.equal(vp8['server.target_bitrate_kbps.min'], 1593);
  assert.equal(vp8['server.frames_dropped'], 17);
  const mjpeg = parseServerLog(readFileSync(join(fixtures, 'spice-server-mjpeg-2M.txt'), 'utf8'));
  assert.equal(mjpeg['server.stream_fps'], 15);
  assert.equal(mjpeg['server.target_bitrate_kbps'], 1520);
  assert.equal(typeof mjpeg['server.mjpeg_quality'], 'number');
  assert.ok(mjpeg['server.frames_dropped']! > 0);
});

test('the X server configuration carries every setting, and the buffer sizes it needs', () => {
  const conf = xorgConfig(spiceSettings({ spice_codec: 'gstreamer:h264', streaming: 'all', image_compression: 'glz', jpeg_wan: 'never', zlib_wan: 'always', deferred_fps: 20, resolution: '1920x1080' }, { warmupS: 0, durationS: 1 }), 5999);
  for (const line of ['"SpicePort" "5999"', '"SpiceVideoCodecs" "gstreamer:h264"', '"SpiceStreamingVideo" "all"', '"SpiceImageCompression" "glz"', '"SpiceJpegWanCompression" "never"', '"SpiceZlibGlzWanCompression" "always"', '"SpiceDeferredFPS" "20"', 'Virtual 1920 1080', '"CommandBufferSize" "128"', '"SpiceAddr" "127.0.0.1"']) {
    assert.ok(conf.includes(line), line);
  }
});

test('one real SPICE point of 3 s: server, relay and client CPU, bytes per direction, client fps, the codec really used', async () => {
  const file = join(work, 'one.yaml');
  writeFileSync(file, 'name: one\nworkload: {type: spice, resolution: 1280x720, scene: video}\nmatrix: {spice_codec: gstreamer:vp8, streaming: all}\nwarmup: 1s\nduration: 3s\n');
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'one-results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const p = set.points()[0]!;
  assert.equal(summary.ok, 1, JSON.stringify(p.outcome));
  const m = p.metrics;
  for (const k of ['guest.cpu_percent', 'host.cpu_percent', 'client.cpu_percent']) assert.ok((m[k] as number) > 0, k);
  assert.ok((m['bytes.down'] as number) > 100_000 && (m['bytes.up'] as number) > 0);
  assert.ok((m['channel.display.bytes_down'] as number) > (m['channel.main.bytes_down'] as number));
  assert.ok((m['client.fps'] as number) > 5, `client fps ${m['client.fps']}`);
  assert.equal(m['codec.used'], 'vp8');
  assert.equal(m['codec.match'], true);
  // Independent reading of the client's screen: the frame numbers the scene stamps, grabbed at
  // the scene's rate, agree with what the client logged (both count frames that changed the picture).
  assert.ok((m['client.screen_frames_read'] as number) > 0, 'the frame code was read back from the client screen');
  assert.ok(Math.abs((m['client.fps_screen'] as number) - (m['client.fps'] as number)) <= 6, `screen ${m['client.fps_screen']} vs log ${m['client.fps']} fps`);
  // The agents watched the server, the relay and the viewer on their roles' machines.
  const db = await openSetDatabase([set]);
  try {
    const rows = (await db.conn.runAndReadAll(`SELECT role || '.' || name AS k FROM samples WHERE name LIKE 'proc.%.cpu_pct' GROUP BY 1 ORDER BY 1`)).getRowObjectsJson().map((r) => r['k']);
    for (const k of ['client.proc.client.cpu_pct', 'guest.proc.server.cpu_pct', 'guest.proc.player.cpu_pct', 'host.proc.relay.cpu_pct']) assert.ok(rows.includes(k), `${k} in ${rows.join(', ')}`);
  } finally {
    db.close();
  }
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
  // Wait until the point's whole chain runs (the viewer is started last but one).
  // 3 agents, then server, frames, player, relay, screen, client, grab.
  for (let i = 0; i < 300 && !(existsSync(live) && readdirSync(live).length >= 10); i++) await sleep(100);
  await sleep(1500);
  const groups = new Set(readdirSync(live).map((f) => Number(f.replace('.json', ''))));
  assert.ok(groups.size >= 10, `${groups.size} process groups recorded`);
  engine.kill('SIGKILL');
  await sleep(300);
  assert.ok(membersOf(groups).length > 0, 'the run left processes behind when its engine died');
  // The next start of the engine reaps what the dead one left (it checks each pid's start time first).
  const real = spawn(process.execPath, [CLI, 'run', file, '--results', results, '--set', 'duration=0.5s'], { stdio: 'ignore' });
  await new Promise((r) => real.once('exit', r));
  await sleep(300);
  assert.deepEqual(membersOf(groups), [], 'nothing of the killed run is alive');
});
