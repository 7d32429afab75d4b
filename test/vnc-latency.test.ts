// The screen-stamp latency through a real VNC stack, checked where part of it is known: the scene
// player draws on Xtigervnc's display, TigerVNC's viewer shows it on an Xvfb screen that the same
// grab as a vnc point's reads back. Run once with the frames straight to the display, and once
// through a relay that holds back exactly k frames: every latency grows by the k frame intervals
// the player's own stamps say, and whatever VNC adds stays (a reading one frame off would move the
// median by a whole interval).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliArgv } from '../src/base/cli-process.ts';
import { monoMs } from '../src/base/clock.ts';
import { killGroup } from '../src/base/process-group.ts';
import { quantile } from '../src/base/quantile.ts';
import { streamSettings } from '../src/config/stream-settings.ts';
import { vncSettings } from '../src/config/vnc-settings.ts';
import { i420Size } from '../src/stream/frame.ts';
import { readStamps, scenePlayerArgv } from '../src/workloads/desktop/content.ts';
import { freePort } from '../src/workloads/desktop/display.ts';
import { screenLatency } from '../src/workloads/desktop/latency.ts';
import { CLIENT_MARGIN, grabArgv, grabRegion, ScreenReader } from '../src/workloads/desktop/screen.ts';
import { viewerArgv, writeVncPassword, xtigervncArgv } from '../src/workloads/vnc/stack.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-vnc-latency-'));
const started: ChildProcess[] = [];
after(async () => {
  for (const c of started) killGroup(c.pid, 'SIGKILL');
  await sleep(200);
  rmSync(work, { recursive: true, force: true });
});

// 10 fps: a frame interval (100 ms) stands far above what a busy machine's scheduling adds to a median.
const W = 640;
const H = 480;
const FPS = 10;
const INTERVAL = 1000 / FPS;

function start(argv: string[], opts: { display?: number; stdin?: 'pipe' | Readable; stdout?: 'pipe' } = {}): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    env: { ...process.env, ...(opts.display === undefined ? {} : { DISPLAY: `:${opts.display}` }), SDL_AUDIODRIVER: 'dummy' },
    stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', 'ignore'],
  });
  started.push(child);
  return child;
}

function freeDisplay(from: number): number {
  for (let n = from; ; n++) if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = monoMs() + timeoutMs;
  while (!cond()) {
    if (monoMs() > end) throw new Error(`${what} (after ${timeoutMs / 1000} s)`);
    await sleep(50);
  }
}

/** Plays the scene on Xtigervnc's display (through a relay holding `holdFrames` frames when > 0), shows it in the viewer, reads the viewer's screen. */
async function measure(name: string, holdFrames: number): Promise<{ stamps: Map<number, number>; lat: ReturnType<typeof screenLatency> }> {
  const guest = freeDisplay(150 + (process.pid % 300));
  const port = await freePort();
  const s = vncSettings({ vnc_server: 'tigervnc', encoding: 'tight', resolution: `${W}x${H}`, fps: FPS, scene: 'video' }, { warmupS: 0, durationS: 60 });
  const passwordFile = writeVncPassword(work);
  const server = start(xtigervncArgv(guest, s, '127.0.0.1', port, passwordFile));
  await until(() => existsSync(`/tmp/.X11-unix/X${guest}`), 'Xtigervnc did not start');
  const stampsFile = join(work, `${name}.tsv`);
  const cfg = streamSettings({ scene: 'video', resolution: `${W}x${H}`, fps: FPS }, { warmupS: 0, durationS: 120 });
  const player = start(cliArgv('stream', ['player', '--config', JSON.stringify(cfg), '--report', stampsFile]), { stdout: 'pipe' });
  let ffplay: ChildProcess;
  if (holdFrames === 0) {
    ffplay = start(scenePlayerArgv(W, H, ['-fs']), { display: guest, stdin: player.stdout! });
    player.stdout!.destroy();
  } else {
    ffplay = start(scenePlayerArgv(W, H, ['-fs']), { display: guest, stdin: 'pipe' });
    const size = i420Size(W, H);
    const held: Buffer[] = [];
    let buf = Buffer.alloc(0);
    ffplay.stdin!.on('error', () => undefined); // ffplay ends first at the end of the test
    player.stdout!.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= size) {
        held.push(buf.subarray(0, size));
        buf = buf.subarray(size);
        if (held.length > holdFrames) ffplay.stdin!.write(held.shift()!);
      }
    });
  }
  const client = freeDisplay(guest + 1);
  const screenW = W + CLIENT_MARGIN.x;
  const screenH = H + CLIENT_MARGIN.y;
  const xvfb = start(['Xvfb', `:${client}`, '-screen', '0', `${screenW}x${screenH}x24`, '-nolisten', 'tcp']);
  await until(() => existsSync(`/tmp/.X11-unix/X${client}`), 'Xvfb did not start');
  const viewer = start(viewerArgv('127.0.0.1', port, s, passwordFile), { display: client });
  const region = grabRegion(screenW, screenH, W, H);
  const grab = start(grabArgv(client, region), { display: client, stdout: 'pipe' });
  const screen = new ScreenReader(region.width, region.height, W, H);
  grab.stdout!.on('data', (d: Buffer) => screen.push(d, monoMs()));
  // By condition, not by time: a busy machine may take seconds to start everything and find the code.
  await until(() => screen.firstSeen().size > 0, "the grab never read a frame number off the viewer's screen");
  await sleep(1000);
  const from = monoMs();
  await sleep(4000);
  const to = monoMs();
  await sleep(500 + holdFrames * INTERVAL); // frames of the window still on their way
  // Each ended and waited for, the viewer before its server: X servers killed before they removed
  // their sockets and locks would leave them behind.
  for (const c of [grab, viewer, xvfb, ffplay, player, server]) {
    const exited = c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
    killGroup(c.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
  const stamps = readStamps(stampsFile);
  return { stamps, lat: screenLatency(stamps, screen.firstSeen(), from, to) };
}

test('through Xtigervnc and its viewer, holding back k frames adds k frame intervals to the screen-stamp latency, and nothing else', async () => {
  const direct = await measure('direct', 0);
  const K = 3;
  const held = await measure('held', K);
  for (const [name, { lat }] of Object.entries({ direct, held })) {
    assert.ok(lat.seen >= 10, `${name}: ${lat.seen} of ${lat.shown} frames seen`);
    assert.ok(lat.p50 > 0 && lat.p50 <= lat.p95, `${name}: p50 ${lat.p50}, p95 ${lat.p95}`);
  }
  // Each held frame waited for the player's frame K later: its latency less that wait (from the
  // player's own stamps) is the VNC chain's latency again, so its median matches the direct run's
  // within half an interval; a frame read as n±1 would move it by a whole one.
  const { frame, latency_ms } = held.lat.frames;
  const rest: number[] = [];
  frame.forEach((n, i) => {
    const wait = (held.stamps.get(n + K) ?? NaN) - held.stamps.get(n)!;
    if (Number.isFinite(latency_ms[i]!) && Number.isFinite(wait)) rest.push(latency_ms[i]! - wait);
  });
  assert.ok(rest.length >= 10, `${rest.length} held frames with a known wait`);
  const restP50 = quantile(rest, 0.5);
  assert.ok(Math.abs(restP50 - direct.lat.p50) < INTERVAL / 2, `held ${K} frames: ${held.lat.p50} ms in the median, ${restP50.toFixed(1)} ms once the wait is taken out, against ${direct.lat.p50} ms directly`);
  assert.ok(held.lat.p50 - direct.lat.p50 > (K - 0.5) * INTERVAL && held.lat.p50 - direct.lat.p50 < (K + 0.5) * INTERVAL, `held ${K} frames adds ${(held.lat.p50 - direct.lat.p50).toFixed(1)} ms in the median, ${K * INTERVAL} expected`);
  console.log(`VNC (Xtigervnc, Tight) method check: direct p50 ${direct.lat.p50} p95 ${direct.lat.p95} ms (${direct.lat.seen}/${direct.lat.shown} seen); held ${K} frames p50 ${held.lat.p50} p95 ${held.lat.p95} ms, less the wait ${restP50.toFixed(1)} ms`);
});
