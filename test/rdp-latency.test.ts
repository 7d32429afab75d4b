// The latency method through the real RDP stack, checked where the delay added is known: one xrdp
// session and one xfreerdp, the scene played onto the session's display twice, straight and then
// through a relay in this test that holds every frame back until the player hands over the frame
// K later. Every latency grows by the K frame intervals the player's own stamps say; a frame read
// one off would move the median by a whole interval. As test/spice-latency.test.ts checks the
// method without a stack, this checks it through xorgxrdp, RemoteFX and xfreerdp.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliArgv } from '../src/base/cli-process.ts';
import { monoMs } from '../src/base/clock.ts';
import { killGroup } from '../src/base/process-group.ts';
import { quantile } from '../src/base/quantile.ts';
import { rdpSettings } from '../src/config/rdp-settings.ts';
import { streamSettings } from '../src/config/stream-settings.ts';
import { i420Size } from '../src/stream/frame.ts';
import { readStamps, scenePlayerArgv } from '../src/workloads/desktop/content.ts';
import { displayEnv, displaySocket, freeDisplay, freePort } from '../src/workloads/desktop/display.ts';
import { screenLatency } from '../src/workloads/desktop/latency.ts';
import { ProcessSet, waitFor } from '../src/workloads/desktop/processes.ts';
import { CLIENT_MARGIN, grabArgv, grabRegion, ScreenReader } from '../src/workloads/desktop/screen.ts';
import type { ServerStarted } from '../src/workloads/desktop/stack.ts';
import { RDP_STACK } from '../src/workloads/rdp/stack.ts';

const installed = existsSync('/usr/sbin/xrdp') && existsSync('/usr/bin/xfreerdp') && existsSync('/usr/lib/xorg/modules/drivers/xrdpdev_drv.so');
const work = mkdtempSync(join(tmpdir(), 'sb-rdp-latency-'));
const W = 640;
const H = 480;
// 10 fps: a frame interval (100 ms) is ten grab intervals.
const FPS = 10;
const INTERVAL = 1000 / FPS;
const K = 3;

// The stack's processes (server, session, client) in this process's group, as in a role.
const procs = new ProcessSet({ dir: work, onProcess: () => undefined }, 'inherit');
// The players and grabs of each measurement, in groups of their own.
const started: ChildProcess[] = [];
let server: ServerStarted | undefined;
after(async () => {
  for (const c of started) killGroup(c.pid, 'SIGKILL');
  await server?.stop?.();
  await procs.stopAll();
});

function start(argv: string[], env: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore' | NodeJS.ReadableStream = 'ignore', stdout: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  const c = spawn(argv[0]!, argv.slice(1), { detached: true, env, stdio: [stdin as 'pipe', stdout, 'ignore'] });
  started.push(c);
  return c;
}

/** The scene on the session's display (held back `hold` frames when > 0), and a fresh reading of the client's screen for 4 s. */
async function measure(name: string, hold: number, session: NodeJS.ProcessEnv, client: number): Promise<{ stamps: Map<number, number>; lat: ReturnType<typeof screenLatency> }> {
  const stampsFile = join(work, `${name}.tsv`);
  const cfg = streamSettings({ scene: 'typing', resolution: `${W}x${H}`, fps: FPS }, { warmupS: 0, durationS: 120 });
  const frames = start(cliArgv('stream', ['player', '--config', JSON.stringify(cfg), '--report', stampsFile]), process.env, 'ignore', 'pipe');
  const ffplay = start(scenePlayerArgv(W, H, ['-fs']), session, hold === 0 ? frames.stdout! : 'pipe');
  if (hold === 0) frames.stdout!.destroy();
  else {
    const size = i420Size(W, H);
    const held: Buffer[] = [];
    let buf = Buffer.alloc(0);
    ffplay.stdin!.on('error', () => undefined); // ffplay ends first at the end of the measurement
    frames.stdout!.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= size) {
        held.push(buf.subarray(0, size));
        buf = buf.subarray(size);
        if (held.length > hold) ffplay.stdin!.write(held.shift()!);
      }
    });
  }
  const region = grabRegion(W + CLIENT_MARGIN.x, H + CLIENT_MARGIN.y, W, H);
  const grab = start(grabArgv(client, region), { ...process.env, DISPLAY: `:${client}` }, 'ignore', 'pipe');
  const screen = new ScreenReader(region.width, region.height, W, H);
  grab.stdout!.on('data', (d: Buffer) => screen.push(d, monoMs()));
  // By condition, not by time: a busy machine may take seconds before the first frame shows.
  await waitFor(() => screen.firstSeen().size > 0, 120_000, `${name}: the client's screen never showed a frame number`, grab);
  const from = monoMs();
  await sleep(4000);
  const to = monoMs();
  await sleep(500 + hold * INTERVAL); // frames of the window still on their way
  for (const c of [grab, ffplay, frames]) {
    const exited = c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
    killGroup(c.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
  const stamps = readStamps(stampsFile);
  return { stamps, lat: screenLatency(stamps, screen.firstSeen(), from, to) };
}

test(`the screen-stamp latency through xrdp and xfreerdp (RemoteFX): frames held back ${K} frames measure ${K} frame intervals more`, { skip: !installed && 'xrdp, xorgxrdp or xfreerdp missing: run scripts/setup.sh' }, async () => {
  const s = rdpSettings({ rdp_codec: 'remotefx', resolution: `${W}x${H}`, fps: FPS, scene: 'typing' }, { warmupS: 0, durationS: 10 });
  const taken = new Set<number>();
  server = await RDP_STACK.startServer(procs, { dir: work, display: freeDisplay(taken), address: '127.0.0.1', port: await freePort(), settings: s });
  const session = { ...displayEnv(server.display!, work), ...server.contentEnv };
  // The client's screen and xfreerdp straight to xrdp (no relay: the relay's delay is not the method's).
  const client = freeDisplay(taken);
  const xvfb = procs.start('screen', ['Xvfb', `:${client}`, '-screen', '0', `${W + CLIENT_MARGIN.x}x${H + CLIENT_MARGIN.y}x24`, '-nolisten', 'tcp']);
  await waitFor(() => existsSync(displaySocket(client)), 10_000, 'Xvfb did not start', xvfb);
  const { openSync, closeSync, readFileSync } = await import('node:fs');
  const port = Number(/port=tcp:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(join(work, 'xrdp.ini'), 'utf8'))![1]);
  const io = RDP_STACK.viewerIo!(s, server.viewer!, { host: '127.0.0.1', port });
  const fd = openSync(io.stdinFile!, 'r');
  procs.start('client', RDP_STACK.viewerArgv('127.0.0.1', port, s, server.viewer!), { env: { ...displayEnv(client, work), ...io.env }, stdin: fd });
  closeSync(fd);
  const direct = await measure('direct', 0, session, client);
  const held = await measure('held', K, session, client);
  for (const [name, { lat }] of Object.entries({ direct, held })) {
    assert.ok(lat.seen >= 10, `${name}: ${lat.seen} of ${lat.shown} frames seen`);
    assert.ok(lat.p50 > 0 && lat.p50 <= lat.p95, `${name}: p50 ${lat.p50}, p95 ${lat.p95}`);
  }
  // Each held frame waited for the player's frame K later: its latency less that wait (from the
  // player's own stamps) is the chain's delay again, within half an interval of the direct run's;
  // reading frame n as n±1 would move it by a whole one.
  const { frame, latency_ms } = held.lat.frames;
  const rest: number[] = [];
  frame.forEach((n, i) => {
    const wait = (held.stamps.get(n + K) ?? NaN) - held.stamps.get(n)!;
    if (Number.isFinite(latency_ms[i]!) && Number.isFinite(wait)) rest.push(latency_ms[i]! - wait);
  });
  assert.ok(rest.length >= 10, `${rest.length} held frames with a known wait`);
  const restP50 = quantile(rest, 0.5);
  const added = held.lat.p50 - direct.lat.p50;
  console.log(`through RDP at ${FPS} fps: direct p50 ${direct.lat.p50} p95 ${direct.lat.p95} ms (${direct.lat.seen}/${direct.lat.shown} seen); held ${K} frames p50 ${held.lat.p50} p95 ${held.lat.p95} ms, less the wait ${restP50.toFixed(1)} ms`);
  assert.ok(Math.abs(restP50 - direct.lat.p50) < INTERVAL / 2, `held ${K} frames: ${held.lat.p50} ms in the median, ${restP50.toFixed(1)} ms once the wait is taken out, against ${direct.lat.p50} ms directly`);
  assert.ok(added > (K - 0.5) * INTERVAL && added < (K + 0.5) * INTERVAL, `held ${K} frames adds ${added.toFixed(1)} ms in the median, ${K * INTERVAL} expected`);
});
