import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { quantile } from './quantile.ts';
import { seededRandom } from './random.ts';

test('quantile agrees with DuckDB quantile_cont on random sets, sorted or not, with ties and negatives', async () => {
  const rnd = seededRandom(12);
  const sets: number[][] = [];
  for (let i = 0; i < 60; i++) {
    const n = i < 50 ? 1 + i : 200 + Math.floor(rnd() * 900);
    // Coarse values give ties; a sign flip gives negatives; every fifth set comes sorted.
    const xs = Array.from({ length: n }, () => Math.round((rnd() - 0.3) * 1000 * (i % 3 === 0 ? 0.01 : 1)) / 10);
    sets.push(i % 5 === 0 ? xs.sort((a, b) => a - b) : xs);
  }
  const qs = [0, 0.01, 0.05, 0.25, 0.333, 0.5, 0.75, 0.9, 0.95, 0.99, 1];
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows = sets.flatMap((xs, s) => xs.map((x) => `(${s}, ${x})`));
    await conn.run(`CREATE TABLE v AS SELECT * FROM (VALUES ${rows.join(', ')}) t(s, x)`);
    const cols = qs.map((q, i) => `quantile_cont(x::DOUBLE, ${q}) AS q${i}`).join(', ');
    const reader = await conn.runAndReadAll(`SELECT s, ${cols} FROM v GROUP BY s ORDER BY s`);
    const got = reader.getRowObjects();
    assert.equal(got.length, sets.length);
    let compared = 0;
    for (const row of got) {
      const xs = sets[Number(row['s'])]!;
      qs.forEach((q, i) => {
        const want = Number(row[`q${i}`]);
        const have = quantile(xs, q);
        assert.ok(Math.abs(have - want) <= 1e-9 * Math.max(1, Math.abs(want)), `set ${Number(row['s'])} (n=${xs.length}) q=${q}: ${have}, DuckDB ${want}`);
        compared++;
      });
    }
    assert.equal(compared, sets.length * qs.length);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
});

test('quantile: linear between ranks, NaN left out as SQL leaves out NULL, input untouched', () => {
  // numpy.quantile([1, 2, 3, 4], [0.5, 0.95, 1/3]) gives 2.5, 3.85, 2.0.
  const xs = [4, 1, 3, 2];
  assert.equal(quantile(xs, 0.5), 2.5);
  assert.ok(Math.abs(quantile(xs, 0.95) - 3.85) < 1e-12);
  assert.ok(Math.abs(quantile(xs, 1 / 3) - 2) < 1e-12);
  assert.deepEqual(xs, [4, 1, 3, 2], 'the caller keeps its order');
  assert.equal(quantile([7], 0.99), 7);
  assert.equal(quantile([NaN, 5, NaN, 1], 0.5), 3);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.ok(Number.isNaN(quantile([NaN], 0.5)));
  assert.equal(quantile([1, Infinity], 1), Infinity);
  assert.equal(quantile([1, 2, Infinity], 0.5), 2);
  assert.throws(() => quantile(xs, 95), /between 0 and 1, got 95/);
  assert.throws(() => quantile(xs, NaN), /between 0 and 1/);
});

test("quantile: the bootstrap's 2.5 % and 97.5 % (src/analyze/impact.ts) are numpy's type 7, worked by hand", () => {
  // Sorted: 1 1 2 3 3 4 5 5 6 9 (n = 10). Type 7: position (n - 1) q, linear between its two ranks.
  const xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
  // 9 x 0.025 = 0.225: between 1 and 1, so 1 (numpy.quantile(xs, 0.025) = 1.0).
  assert.equal(quantile(xs, 0.025), 1);
  // 9 x 0.975 = 8.775: 6 + 0.775 x (9 - 6) = 8.325 (numpy.quantile(xs, 0.975) = 8.325).
  assert.ok(Math.abs(quantile(xs, 0.975) - 8.325) < 1e-12);
  // 9 x 0.5 = 4.5: 3 + 0.5 x (4 - 3) = 3.5; 9 x 0.1 = 0.9: 1 + 0.9 x 0 = 1; 9 x 0.3 = 2.7: 2 + 0.7 x 1 = 2.7.
  assert.equal(quantile(xs, 0.5), 3.5);
  assert.equal(quantile(xs, 0.1), 1);
  assert.ok(Math.abs(quantile(xs, 0.3) - 2.7) < 1e-12);
  // 1000 shares 0, 0.001, ..., 0.999: 999 x 0.025 = 24.975, so 0.024975; 999 x 0.975 = 974.025, so 0.974025.
  const shares = Array.from({ length: 1000 }, (_, i) => i / 1000);
  assert.ok(Math.abs(quantile(shares, 0.025) - 0.024975) < 1e-12);
  assert.ok(Math.abs(quantile(shares, 0.975) - 0.974025) < 1e-12);
});
