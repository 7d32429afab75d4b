// frames.parquet's `late` column and the summary's frames.late come from one predicate: decoded and
// shown more than late_ms after capture; frames.late counts those outside the warm-up only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamSettings } from '../../config/stream-settings.ts';
import type { ClientFrame, GuestFrame, HostFrame, RoleReport } from '../../stream/report.ts';
import { analyzeStream } from './run.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../index.ts';

test('late frames: one column, counted in the window only by frames.late', () => {
  const s = streamSettings({ codec: 'h264', resolution: '320x180', fps: 10, bitrate: '300k', late_ms: 100 }, { warmupS: 1, durationS: 2 });
  // capture start, display (NaN: never shown), dropped
  const plan: [number, number, string?][] = [
    [100, 300], // warm-up, late
    [500, 550], // warm-up, on time
    [1100, 1300], // window, late
    [1200, 1250], // window, on time
    [1300, NaN, 'no-keyframe'], // window, not decoded
    [1400, NaN], // window, decoded but replaced before a refresh showed it
  ];
  const guest: GuestFrame[] = plan.map(([t], frame) => ({ frame, captureStart: t, captureEnd: t + 1, encStart: t + 1, encEnd: t + 5, sendStart: t + 5, sendEnd: t + 6, bytes: 1000, key: frame === 0 }));
  const host: HostFrame[] = plan.map(([t], frame) => ({ frame, inFirst: t + 7, inEnd: t + 8, outEnd: t + 9, fragmentsDropped: 0 }));
  const client: ClientFrame[] = plan.map(([t, display, dropped], frame) => ({
    frame,
    recvFirst: t + 10,
    recvEnd: t + 11,
    decStart: dropped ? NaN : t + 12,
    decEnd: dropped ? NaN : t + 20,
    display,
    key: frame === 0,
    bytes: 1000,
    psnr: 40,
    ssim: 0.95,
    ...(dropped ? { dropped } : {}),
  }));
  const role = (r: RoleReport['role'], frames: RoleReport['frames']): RoleReport => ({ role: r, pid: 1, startMs: 0, endMs: 3000, cpuUserS: 0, cpuSystemS: 0, counters: {}, frames });
  const a = analyzeStream(s, { guest: role('guest', guest), host: role('host', host), client: role('client', client) });
  assert.deepEqual(a.frames['warmup'], [1, 1, 0, 0, 0, 0]);
  assert.deepEqual(a.frames['late'], [1, 0, 1, 0, 0, 0]);
  assert.equal(a.metrics['frames.late'], 1);
  assert.equal(a.frames['late'].filter((v, i) => v === 1 && a.frames['warmup']![i] === 0).length, a.metrics['frames.late']);
});
