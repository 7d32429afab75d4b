import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { capacityChanges, freezes, integrate, latencyP95Max, rateAnswers, rateSeries, rateSwitches, utilization } from './qoe.ts';

const W = { fromMs: 1000, toMs: 3000 };

test('freezes: a gap longer than the threshold is one freeze of its whole length, cut to the window; a window with no picture before it starts frozen', () => {
  // 30 fps, then nothing from 1500 to 1800 (300 ms), then to the end.
  const shown = [...Array.from({ length: 16 }, (_, i) => 1000 + i * 33.3), ...Array.from({ length: 36 }, (_, i) => 1800 + i * 33.3)];
  const f = freezes(shown, W, 200, 990);
  assert.deepEqual(
    f.map((x) => [Math.round(x.fromMs), Math.round(x.toMs)]),
    [[1500, 1800]],
  );
  // One frame more (the picture due at 1533 shown): a shorter freeze, 267 ms, from that frame; a picture at 1650 splits it into two gaps of 150 ms, no freeze.
  assert.deepEqual(
    freezes([...shown, 1533], W, 200, 990).map((x) => [Math.round(x.fromMs), Math.round(x.toMs)]),
    [[1533, 1800]],
  );
  assert.equal(freezes([...shown, 1650], W, 200, 990).length, 0);
  // Nothing shown before the window, first picture at 1300: frozen from the window's start.
  assert.deepEqual(freezes([1300, 1320], { fromMs: 1000, toMs: 1400 }, 200, undefined), [{ fromMs: 1000, toMs: 1300 }]);
  // The last picture before the window at 700, first inside at 1100: a 400 ms gap, counted from the window's start.
  assert.deepEqual(freezes([1100, 1130, 1160, 1190], { fromMs: 1000, toMs: 1200 }, 200, 700), [{ fromMs: 1000, toMs: 1100 }]);
  // Nothing after 2500: a freeze to the window's end.
  assert.deepEqual(freezes([2400, 2500], { fromMs: 2400, toMs: 3000 }, 200, 2390), [{ fromMs: 2500, toMs: 3000 }]);
});

test("latency p95 max over sliding windows equals DuckDB's quantile_cont over the same windows, and sees a burst the whole-point p95 hides", async () => {
  const capture: number[] = [];
  const latency: number[] = [];
  for (let i = 0; i < 600; i++) {
    capture.push(i * (1000 / 30));
    // 20 s at 30 fps: 40 ms, with a 1 s burst at 500 ms from 10 s.
    latency.push(i >= 300 && i < 330 ? 500 : 40 + (i % 7));
  }
  const window = { fromMs: 0, toMs: 20_000 };
  const ours = latencyP95Max(capture, latency, window, 1000, 250);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run('CREATE TABLE f (t DOUBLE, l DOUBLE)');
  const app = await c.createAppender('f');
  capture.forEach((t, i) => {
    app.appendDouble(t);
    app.appendDouble(latency[i]!);
    app.endRow();
  });
  app.closeSync();
  const r = await c.runAndReadAll(`SELECT max(p) FROM (SELECT w.s, quantile_cont(l, 0.95) AS p, count(*) AS n FROM range(0, 19001, 250) w(s) JOIN f ON f.t >= w.s AND f.t < w.s + 1000 GROUP BY w.s HAVING count(*) >= 5)`);
  const ref = Number(r.getRows()[0]![0]);
  c.closeSync();
  assert.ok(Math.abs(ours - ref) < 1e-9, `ours ${ours}, DuckDB ${ref}`);
  assert.equal(ours, 500);
  // The whole-point p95 barely moves: 30 of 600 frames is the 95th percentile's edge.
  const sorted = [...latency].sort((a, b) => a - b);
  assert.ok(sorted[Math.floor(0.9 * sorted.length)]! < 50);
});

test('utilization: delivered bits over the integral of the capacity in the window; NaN when the link is unlimited', () => {
  const cap = { t: [0, 2000], v: [8e6, 1e6] };
  // Window 1000..3000: 1 s at 8M + 1 s at 1M = 9 Mbit offered.
  assert.equal(integrate(cap, W), 9e6);
  assert.equal(utilization(4.5e6, cap, W), 0.5);
  assert.ok(Number.isNaN(utilization(1e6, { t: [0], v: [Infinity] }, W)));
});

test('capacity changes: steps over 10 % inside the window, a ramp taken as one change', () => {
  const cap = { t: [0, 1500, 1600, 1700, 2500, 2600], v: [8e6, 6e6, 4e6, 1e6, 1.05e6, 8e6] };
  assert.deepEqual(capacityChanges(cap, W), [
    { atMs: 1500, fromBps: 8e6, toBps: 1e6 },
    { atMs: 2500, fromBps: 1e6, toBps: 8e6 },
  ]);
});

test('reaction and recovery: counted to the end of the first whole bin that meets the new capacity; never answered stays undefined', () => {
  const cap = { t: [0, 1000, 2000], v: [8e6, 1e6, 8e6] };
  const window = { fromMs: 0, toMs: 3000 };
  // Sending 4M until 1300, then 0.9M until 2000, then 7M.
  const at: number[] = [];
  const bytes: number[] = [];
  for (let t = 0; t < 3000; t += 10) {
    const rate = t < 1300 ? 4e6 : t < 2000 ? 0.9e6 : 7e6;
    at.push(t);
    bytes.push((rate * 0.01) / 8);
  }
  const sent = rateSeries(at, bytes, window, 100);
  assert.equal(sent.v[0], 4e6);
  const a = rateAnswers(cap, sent, 100, window);
  assert.deepEqual(
    a.map((x) => [x.kind, x.answeredMs]),
    [
      ['drop', 400],
      ['rise', 100],
    ],
  );
  // A fixed sender at 4M never answers the drop, and answers no rise to 8M (80 % is 6.4M).
  const fixed = rateSeries(
    at,
    at.map(() => (4e6 * 0.01) / 8),
    window,
    100,
  );
  assert.deepEqual(
    rateAnswers(cap, fixed, 100, window).map((x) => x.answeredMs),
    [undefined, undefined],
  );
});

test('rate switches count decisions that changed a target, in the window', () => {
  const d = [
    { t: 500, bitrate: 2e6 },
    { t: 1200, bitrate: 2e6 },
    { t: 1500, bitrate: 1e6 },
    { t: 1600, fps: 30 },
    { t: 1700, resolution: '640x360' },
    { t: 3500, bitrate: 3e6 },
  ];
  assert.equal(rateSwitches(d, W, { bitrate: 4e6, fps: 30, resolution: '1280x720' }), 2);
});
