// The spice workload's latency method, checked where the latency is known: the scene player and
// ffplay on an Xvfb screen that the same grab reads back. Without the SPICE stack in between, what
// it measures is the method's own delay (ffplay's drawing, the grab's interval, the pipes); with a
// relay that holds back exactly k frames, every latency grows by the k frame intervals the player's
// own stamps say, and a reading one frame off would show as a whole frame interval.
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
import { allocFrame, i420Size } from '../src/stream/frame.ts';
import { openSource } from '../src/stream/source.ts';
import { readStamps, scenePlayerArgv } from '../src/workloads/desktop/content.ts';
import { screenLatency } from '../src/workloads/desktop/latency.ts';
import { grabArgv, grabRegion, GRAB_FPS, ScreenReader } from '../src/workloads/desktop/screen.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-spice-latency-'));
const started: ChildProcess[] = [];
after(async () => {
  for (const c of started) killGroup(c.pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// 10 fps: a frame interval (100 ms) is ten grab intervals, so a one-frame error stands far above
// what a busy machine's scheduling adds to a median.
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

function freeDisplay(): number {
  for (let n = 150 + (process.pid % 400); ; n++) if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = monoMs() + timeoutMs;
  while (!cond()) {
    if (monoMs() > end) throw new Error(`${what} (after ${timeoutMs / 1000} s)`);
    await sleep(50);
  }
}

/**
 * Plays the scene on a fresh Xvfb screen as the spice workload does on its guest's (the same
 * player, stamps, ffplay arguments), grabs and reads that screen as it does its client's, and
 * joins both. With `holdFrames` > 0 the frames pass a relay that sends each one when the
 * player hands over the frame `holdFrames` later: a delay of exactly that many player frames.
 */
async function measure(name: string, holdFrames: number): Promise<{ stamps: Map<number, number>; lat: ReturnType<typeof screenLatency> }> {
  const display = freeDisplay();
  const xvfb = start(['Xvfb', `:${display}`, '-screen', '0', `${W}x${H}x24`, '-nolisten', 'tcp']);
  await until(() => existsSync(`/tmp/.X11-unix/X${display}`), 'Xvfb did not start');
  const stampsFile = join(work, `${name}.tsv`);
  const cfg = streamSettings({ scene: 'video', resolution: `${W}x${H}`, fps: FPS }, { warmupS: 0, durationS: 120 });
  const player = start(cliArgv('stream', ['player', '--config', JSON.stringify(cfg), '--report', stampsFile]), { stdout: 'pipe' });
  let ffplay: ChildProcess;
  if (holdFrames === 0) {
    ffplay = start(scenePlayerArgv(W, H, ['-fs']), { display, stdin: player.stdout! });
    player.stdout!.destroy();
  } else {
    ffplay = start(scenePlayerArgv(W, H, ['-fs']), { display, stdin: 'pipe' });
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
  const region = grabRegion(W, H, W, H);
  const grab = start(grabArgv(display, region), { display, stdout: 'pipe' });
  const screen = new ScreenReader(region.width, region.height, W, H);
  grab.stdout!.on('data', (d: Buffer) => screen.push(d, monoMs()));
  // By condition, not by time: a busy machine may take seconds to start ffplay and find the code.
  await until(() => screen.firstSeen().size > 0, 'the grab never read a frame number off the screen');
  const from = monoMs();
  await sleep(4000);
  const to = monoMs();
  await sleep(300 + holdFrames * INTERVAL); // frames of the window still on their way
  // Each ended and waited for: an Xvfb killed before it removed its socket and lock would leave them behind.
  for (const c of [grab, ffplay, player, xvfb]) {
    const exited = c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
    killGroup(c.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
  const stamps = readStamps(stampsFile);
  return { stamps, lat: screenLatency(stamps, screen.firstSeen(), from, to) };
}

test('stamps against first sightings: rows for every frame shown, latency only where seen, the window respected', () => {
  const stamps = new Map([
    [0, 1000],
    [1, 1100],
    [2, 1200],
    [3, 1300],
    [4, 1400],
  ]);
  const seen = new Map([
    [1, 1130],
    [2, 1250],
    [4, 1420],
    [7, 1700], // never stamped in the range: not a row
  ]);
  const lat = screenLatency(stamps, seen, 1100, 1400);
  assert.deepEqual(lat.frames.frame, [0, 1, 2, 3]);
  assert.deepEqual(lat.frames.warmup, [1, 0, 0, 0]);
  assert.deepEqual(lat.frames.shown_at, [0, 100, 200, 300]);
  assert.deepEqual(lat.frames.seen_at, [NaN, 130, 250, NaN]);
  assert.deepEqual(lat.frames.latency_ms, [NaN, 30, 50, NaN]);
  assert.equal(lat.shown, 3);
  assert.equal(lat.seen, 2);
  assert.equal(lat.p50, 40);
  assert.equal(lat.p95, 49);
});

test('the screen reader dates each frame number by the first grab showing it, wherever the code sits in the region', () => {
  const region = grabRegion(W + 64, H + 160, W, H);
  const r = new ScreenReader(region.width, region.height, W, H);
  // A real scene frame's corner, moved 10 px right and 30 px down as a viewer's menus would.
  const cfg = streamSettings({ scene: 'typing', resolution: `${W}x${H}`, fps: FPS }, { warmupS: 0, durationS: 1 });
  const grabOf = (n: number): Buffer => {
    const f = allocFrame(W, H);
    openSource(cfg).render(n, f);
    const g = Buffer.alloc(region.width * region.height, 40);
    for (let y = 0; y + 30 < region.height && y < H; y++) g.set(f.y.subarray(y * W, y * W + Math.min(W, region.width - 10)), (y + 30) * region.width + 10);
    return g;
  };
  {
    const f5 = grabOf(5);
    const f6 = grabOf(6);
    // Split across pushes as a pipe delivers it: the frame completes with the later chunk.
    r.push(f5.subarray(0, 1000), 1);
    r.push(Buffer.concat([f5.subarray(1000), f5]), 2);
    r.push(f6, 3);
    assert.deepEqual(
      [...r.firstSeen()],
      [
        [5, 2],
        [6, 3],
      ],
    );
    assert.equal(r.read, 3);
    assert.equal(r.grabs, 3);
  }
});

test('the method on a screen it can see directly: the delay of ffplay and the grab alone, and a known k-frame delay measured as k frame intervals', async () => {
  const direct = await measure('direct', 0);
  const K = 3;
  const held = await measure('held', K);
  for (const [name, { lat }] of Object.entries({ direct, held })) {
    assert.ok(lat.seen >= 10, `${name}: ${lat.seen} of ${lat.shown} frames seen`);
    assert.ok(lat.p50 > 0 && lat.p50 <= lat.p95, `${name}: p50 ${lat.p50}, p95 ${lat.p95}`);
  }
  // Straight onto the screen, the method adds less than one frame interval in the median: a grab
  // or a pipe that held a frame back until the next one would put it at a whole interval or more.
  assert.ok(direct.lat.p50 < INTERVAL, `direct: the method itself adds ${direct.lat.p50} ms in the median (p95 ${direct.lat.p95})`);
  // Each held frame waited for the player's frame K later: its latency less that wait (from the
  // player's own stamps) is the method's delay again, so its median matches the direct run's within
  // half an interval; reading frame n as n±1 would move it by a whole one.
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
  console.log(`method check at ${GRAB_FPS} Hz grabs: direct p50 ${direct.lat.p50} p95 ${direct.lat.p95} ms (${direct.lat.seen}/${direct.lat.shown} seen); held ${K} frames p50 ${held.lat.p50} p95 ${held.lat.p95} ms, less the wait ${restP50.toFixed(1)} ms`);
});
