// A role's own account over time, read at the window's edges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { growthBetween, mergeStepSeries, RoleTimeline, valueAt } from './timeline.ts';

test('a growing series read between samples is interpolated; outside them it holds the first or last value', () => {
  const t = [0, 100, 200, 300];
  const v = [0, 10, 10, 40];
  assert.equal(valueAt(t, v, 50), 5);
  assert.equal(valueAt(t, v, 150), 10);
  assert.equal(valueAt(t, v, 250), 25);
  assert.equal(valueAt(t, v, -5), 0);
  assert.equal(valueAt(t, v, 1e9), 40);
  assert.ok(Number.isNaN(valueAt([], [], 5)));
  // What the warm-up (0..100) added stays out of a window that starts at 100.
  assert.equal(growthBetween(t, v, 100, 300), 30);
});

test('the timeline samples CPU and counters, a counter that appears late reads 0 before', () => {
  let now = 0;
  const c: Record<string, number> = { a: 1 };
  const tl = new RoleTimeline(
    () => c,
    () => now,
  );
  tl.mark();
  now = 10;
  c['a'] = 3;
  c['b'] = 7;
  tl.mark();
  now = 20;
  const r = tl.stop();
  assert.deepEqual(r.t, [0, 10, 20]);
  assert.deepEqual(r.counters, { a: [1, 3, 3], b: [0, 7, 7] });
  assert.equal(r.cpuS.length, 3);
  assert.ok(r.cpuS[2]! >= r.cpuS[0]!, 'CPU time only grows');
});

test('step series merged on the union of their times hold their last value, NaN before their first', () => {
  const m = mergeStepSeries([
    { t: [0, 2, 3], cols: { q: [5, 6, 7] } },
    { t: [1, 3], cols: { c: [10, 20], d: [1, 2] } },
  ]);
  assert.deepEqual(m, { t: [0, 1, 2, 3], q: [5, 5, 6, 7], c: [NaN, 10, 10, 20], d: [NaN, 1, 1, 2] });
});
