import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import { tQuantile } from '../analyze/stats.ts';
import { openSetDatabase } from '../store/database.ts';
import type { PointRecord } from '../store/records.ts';
import { ResultSet } from '../store/resultset.ts';
import { aggregateMetric } from './aggregate.ts';

type Rec = Omit<PointRecord, 'files' | 'format'>;
function record(key: string, rep: number, params: PointRecord['params'], metrics: PointRecord['metrics'], status: 'ok' | 'failed' = 'ok'): Rec {
  return {
    key, rep, index: 0, params, outcome: status === 'ok' ? { status } : { status, error: 'exit 1' }, attempts: 1, workload: 'command',
    benchmark: { name: 'b', sha256: 'x' }, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', wallS: 1, metrics, flags: [],
  };
}

// Point (a, b) -> its repetitions' values of m. Point (2, y) has one repetition only.
const RUNS: [number, string, number[]][] = [
  [1, 'x', [10, 12, 14]],
  [1, 'y', [20, 21]],
  [2, 'x', [30, 34]],
  [2, 'y', [50]],
];

async function fixture() {
  const set = ResultSet.openOrCreate(join(mkdtempSync(join(tmpdir(), 'sb-agg-')), 's'), 'b');
  for (const [a, b, values] of RUNS) {
    values.forEach((m, i) => set.beginPoint(`k${a}${b}`, i + 1).commit(record(`k${a}${b}`, i + 1, { a, b }, { m })));
  }
  // A failed run whose figure would move every mean were it counted.
  set.beginPoint('k1x', 4).commit(record('k1x', 4, { a: 1, b: 'x' }, { m: 1000 }, 'failed'));
  return openSetDatabase([set], { views: [] });
}

const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const varOf = (xs: number[]) => xs.reduce((s, x) => s + (x - meanOf(xs)) ** 2, 0) / (xs.length - 1);

test('mean per group: the mean of its points\' repetition means, failed runs left out, with the Welch t-interval', async () => {
  const db = await fixture();
  try {
    const r = await aggregateMetric(db.conn, db.columns, { metric: 'm', by: ['b'] });
    assert.deepEqual(r.columns['b'], ['x', 'y']);
    // b = x: points (1,x) and (2,x), each with repetitions.
    const p1 = [10, 12, 14];
    const p2 = [30, 34];
    assert.equal(r.columns.value[0], (meanOf(p1) + meanOf(p2)) / 2);
    assert.deepEqual([r.columns.n[0], r.columns.points[0]], [5, 2]);
    const v = [varOf(p1) / 3, varOf(p2) / 2];
    const df = (v[0]! + v[1]!) ** 2 / (v[0]! ** 2 / 2 + v[1]! ** 2 / 1);
    const half = (tQuantile(0.975, df) * Math.sqrt(v[0]! + v[1]!)) / 2;
    assert.ok(Math.abs(r.columns.lo[0]! - (r.columns.value[0]! - half)) < 1e-9, `lo ${r.columns.lo[0]}`);
    assert.ok(Math.abs(r.columns.hi[0]! - (r.columns.value[0]! + half)) < 1e-9, `hi ${r.columns.hi[0]}`);
    // b = y holds a point of one repetition: no interval can be given.
    assert.equal(r.columns.value[1], (meanOf([20, 21]) + 50) / 2);
    assert.deepEqual([r.columns.lo[1], r.columns.hi[1]], [null, null]);
  } finally {
    db.close();
  }
});

test('one point: the plain t-interval of its repetitions; a fixed value selects; other aggregates give no interval', async () => {
  const db = await fixture();
  try {
    const r = await aggregateMetric(db.conn, db.columns, { metric: 'm', by: ['a'], fixed: { b: 'x' } });
    assert.deepEqual(r.columns['a'], [1, 2]);
    const xs = [10, 12, 14];
    const half = (tQuantile(0.975, 2) * Math.sqrt(varOf(xs))) / Math.sqrt(3);
    assert.equal(r.columns.value[0], 12);
    assert.ok(Math.abs(r.columns.hi[0]! - (12 + half)) < 1e-9);
    const max = await aggregateMetric(db.conn, db.columns, { metric: 'm', by: ['a'], agg: 'max' });
    assert.deepEqual(max.columns.value, [Math.max(12, 20.5), Math.max(32, 50)]);
    assert.deepEqual(max.columns.lo, [null, null]);
  } finally {
    db.close();
  }
});

test('names are checked against the table: an unknown or text column is refused with a hint, and a quote cannot reach the SQL', async () => {
  const db = await fixture();
  try {
    await assert.rejects(aggregateMetric(db.conn, db.columns, { metric: 'mm', by: ['a'] }), (e: unknown) => e instanceof InputError && /no column 'mm'.*did you mean 'm'/s.test(e.message));
    await assert.rejects(aggregateMetric(db.conn, db.columns, { metric: 'b', by: ['a'] }), (e: unknown) => e instanceof InputError && /not numeric/.test(e.message));
    await assert.rejects(aggregateMetric(db.conn, db.columns, { metric: 'm', by: ['a" FROM points; --'] }), InputError);
    // A value travels as a parameter: one with a quote selects nothing rather than breaking out.
    const r = await aggregateMetric(db.conn, db.columns, { metric: 'm', by: ['a'], fixed: { b: "x' OR '1'='1" } });
    assert.deepEqual(r.columns.value, []);
  } finally {
    db.close();
  }
});
