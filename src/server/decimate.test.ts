import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../base/random.ts';
import { decimateMinMax, worstPerColumn } from './decimate.ts';

test('a one-sample spike survives decimation (plain skipping would lose it)', () => {
  const n = 100_000;
  const t = Array.from({ length: n }, (_, i) => i / 1000);
  const v = t.map(() => 10);
  v[54_321] = 99; // one sample, between any stride's picks
  v[77_777] = -5; // and one dip
  const d = decimateMinMax(t, v, 800);
  assert.ok(d.reduced);
  assert.ok(d.t.length <= 2 * 800 + 2, `${d.t.length} points for 800 pixels`);
  assert.equal(Math.max(...d.v), 99);
  assert.equal(Math.min(...d.v), -5);
  // At the spike's own time, not moved to its column's edge.
  assert.equal(d.t[d.v.indexOf(99)], t[54_321]);
  // What skipping every (n / 1600)th sample keeps: no spike (the guard that this test can fail).
  const stride = Math.ceil(n / 1600);
  assert.equal(Math.max(...v.filter((_, i) => i % stride === 0)), 10);
});

test('every pixel column keeps its minimum and maximum, in time order', () => {
  const rnd = seededRandom(7);
  const n = 20_000;
  const t = Array.from({ length: n }, (_, i) => i * 0.01 + rnd() * 0.001);
  const v = t.map(() => rnd() * 100);
  const width = 300;
  const d = decimateMinMax(t, v, width);
  const from = t[0]!;
  const span = t[n - 1]! - from;
  const col = (x: number) => Math.min(width - 1, Math.floor(((x - from) / span) * width));
  const want = new Map<number, { min: number; max: number }>();
  t.forEach((x, i) => {
    const c = want.get(col(x)) ?? { min: Infinity, max: -Infinity };
    want.set(col(x), { min: Math.min(c.min, v[i]!), max: Math.max(c.max, v[i]!) });
  });
  const got = new Map<number, { min: number; max: number }>();
  d.t.forEach((x, i) => {
    const c = got.get(col(x)) ?? { min: Infinity, max: -Infinity };
    got.set(col(x), { min: Math.min(c.min, d.v[i]!), max: Math.max(c.max, d.v[i]!) });
  });
  assert.deepEqual(got, want);
  for (let i = 1; i < d.t.length; i++) assert.ok(d.t[i]! > d.t[i - 1]!, 'times ascend');
});

test('a range keeps one sample beyond each edge; a short series comes back whole', () => {
  const t = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const v = t.map((x) => x * 2);
  const d = decimateMinMax(t, v, 100, { from: 3.5, to: 6.5 });
  assert.deepEqual(d.t, [3, 4, 5, 6, 7]);
  assert.equal(d.n, 3);
  assert.equal(d.reduced, false);
});

test('missing values and long silences break the line', () => {
  const t = [0, 1, 2, 3, 10, 11];
  const v = [1, 2, NaN, 4, 5, 6];
  const d = decimateMinMax(t, v, 100, { gapAfter: 3 });
  assert.deepEqual(d.t, [0, 1, 2, 3, 6.5, 10, 11]);
  assert.ok(Number.isNaN(d.v[2]!) && Number.isNaN(d.v[4]!));
  assert.equal(d.v.filter((x) => Number.isNaN(x)).length, 2);
  // Decimated, a NaN inside a column still breaks the line.
  const long = Array.from({ length: 10_000 }, (_, i) => i);
  const lv = long.map((i) => (i === 5000 ? NaN : 1));
  assert.ok(decimateMinMax(long, lv, 10).v.some((x) => Number.isNaN(x)));
  assert.throws(() => decimateMinMax([1], [1], 0), /width 0/);
});

test('frames: the worst frame and the first marked one of each column are kept', () => {
  const n = 36_000;
  const frame = Array.from({ length: n }, (_, i) => i);
  const lat = frame.map((i) => 30 + (i % 7));
  lat[12_345] = 900;
  const lost = new Set([20_001]);
  const { indices, reduced } = worstPerColumn(frame, lat, (i) => lost.has(i), 1000);
  assert.ok(reduced);
  assert.ok(indices.length <= 2000);
  assert.ok(indices.includes(12_345), 'the latency spike');
  assert.ok(indices.includes(20_001), 'the lost frame');
  for (let i = 1; i < indices.length; i++) assert.ok(indices[i]! > indices[i - 1]!);
  // Few enough frames: every one of them.
  assert.deepEqual(worstPerColumn(frame, lat, () => false, 1000, { from: 100, to: 109 }).indices, [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
});

test('decimated, only real silences break the line, not the distance between kept samples', () => {
  const t = Array.from({ length: 10_000 }, (_, i) => i * 0.1);
  const v = t.map((x) => Math.sin(x));
  // Kept samples lie a column (100 s) apart, far beyond gapAfter: still one unbroken line.
  assert.ok(!decimateMinMax(t, v, 10, { gapAfter: 0.5 }).v.some((x) => Number.isNaN(x)));
  // A real silence of 5 s in the middle: exactly one break.
  const t2 = t.map((x) => (x >= 500 ? x + 5 : x));
  assert.equal(decimateMinMax(t2, v, 10, { gapAfter: 0.5 }).v.filter((x) => Number.isNaN(x)).length, 1);
});
