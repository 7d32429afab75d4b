import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import { Gram, impact, type ImpactResult } from './impact.ts';
import { seededRandom } from './stats.ts';
import { synthetic } from './synthetic.ts';

const values = { a: [1, 2, 3], b: [1, 2, 3, 4], c: ['x', 'y'], d: [1, 2, 3] };
// a moves y most, then b, then c (also through b), d not at all.
const formula = (p: Record<string, number | string>) => 5 * (p.a as number) + 2 * (p.b as number) + (p.c === 'y' ? 1 : 0) * (p.b as number);
const share = (r: ImpactResult, name: string) => {
  const f = r.factors.find((x) => x.name === name);
  assert.ok(f, `factor ${name} in ${r.factors.map((x) => x.name).join(', ')}`);
  return f;
};
const sum = (r: ImpactResult) => r.factors.reduce((s, f) => s + f.share, 0) + r.noise.share;

test('impact ranks the parameters in the known order, finds the one interaction, and shares + noise = 1', () => {
  const r = impact(synthetic({ values, reps: 3, seed: 1, noise: 1, formula, metric: 'guest.cpu_pct' }));
  assert.equal(r.metric, 'guest.cpu_pct');
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => share(r, n).share);
  assert.ok(a! > b! && b! > c! && c! > d!, `a ${a} b ${b} c ${c} d ${d}`);
  assert.ok(share(r, 'b*c').p < 1e-6, `b*c p = ${share(r, 'b*c').p}`);
  assert.ok(share(r, 'd').p > 0.05, `d p = ${share(r, 'd').p}`);
  assert.ok(Math.abs(sum(r) - 1) < 1e-12, `sum ${sum(r)}`);
  for (const f of [...r.factors, r.noise]) assert.equal(f.outside, !(f.ci[0] <= f.share && f.share <= f.ci[1]), `${'name' in f ? f.name : 'noise'}: ${f.share} in ${f.ci.join(',')}`);
  // The large shares lie well inside their intervals.
  for (const name of ['a', 'b']) assert.ok(!share(r, name).outside && share(r, name).ci[0] > 0.05, `${name}: ${share(r, name).ci.join(',')}`);
  assert.equal(r.noise.df, 72 * 2);
  assert.deepEqual(
    r.warnings.filter((w) => !/outside (its|their) bootstrap interval/.test(w)),
    [],
  );
});

test('a parameter with no effect is indistinguishable from noise: its F test passes in about 95 % of 40 sets', () => {
  let quiet = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const r = impact(synthetic({ values, reps: 2, seed, noise: 1, formula }), { bootstrap: 0 });
    const d = share(r, 'd');
    if (d.p > 0.05) quiet++;
    // Its share stays at the size noise alone gives a 2-column factor: 2 x noise variance / total SS.
    assert.ok(d.share < ((6 * r.noise.share) / r.noise.df) * 2, `seed ${seed}: d ${d.share}, noise ${r.noise.share} over ${r.noise.df} df`);
  }
  // Binomial(40, 0.95) falls under 33 with probability < 0.001; a test that reads noise as an effect
  // (e.g. against the wrong error term) fails it.
  assert.ok(quiet >= 33, `${quiet}/40`);
});

test('pure noise: noise takes its share of the degrees of freedom and no factor passes a 1 % test', () => {
  const r = impact(synthetic({ values, reps: 3, seed: 9, noise: 1, formula: () => 10 }));
  // 144 of the 215 degrees of freedom are within points: noise alone should hold about 2/3.
  assert.ok(Math.abs(r.noise.share - 144 / 215) < 0.1, `noise ${r.noise.share}`);
  for (const f of r.factors) assert.ok(!(f.p < 0.01), `${f.name} p ${f.p}`);
  assert.ok(Math.abs(sum(r) - 1) < 1e-12);
});

test('a constrained design: two parameters that always move together share what they explain', () => {
  const r = impact(synthetic({ values: { a: [1, 2, 3, 4], b: [1, 2, 3, 4], c: [0, 1] }, keep: (p) => p.a === p.b, reps: 2, seed: 3, noise: 0.5, formula: (p) => 3 * (p.a as number) + (p.c as number) }));
  const a = share(r, 'a').share;
  const b = share(r, 'b').share;
  assert.ok(a > 0.3 && Math.abs(a - b) < 1e-9, `a ${a}, b ${b}`);
  assert.ok(Math.abs(sum(r) - 1) < 1e-12);
});

test('a sparse design (a random half of the points) keeps the order', () => {
  let i = 0;
  const r = impact(synthetic({ values, reps: 2, seed: 4, noise: 1, formula, keep: () => (i++ * 7) % 11 < 6 }));
  const [a, b, d] = ['a', 'b', 'd'].map((n) => share(r, n).share);
  assert.ok(a! > b! && b! > d!, `a ${a} b ${b} d ${d}`);
  assert.ok(Math.abs(sum(r) - 1) < 1e-12);
});

test('without repetitions the noise is the residual, and a warning says so', () => {
  const r = impact(synthetic({ values, reps: 1, seed: 2, noise: 1, formula }));
  assert.ok(
    r.warnings.some((w) => w.startsWith('no repetitions')),
    r.warnings.join('\n'),
  );
  assert.ok(!r.factors.some((f) => f.name === 'other'));
  assert.ok(r.noise.share > 0 && Math.abs(sum(r) - 1) < 1e-12);
});

test('a share outside its percentile interval stays outside it (the interval is not widened to hold it), and is reported', () => {
  // d has no effect: its share is near 0, where resampled points push the bootstrap's shares up, past the estimate.
  const r = impact(synthetic({ values, reps: 2, seed: 1, noise: 1, formula }));
  const d = share(r, 'd');
  assert.ok(d.ci[0] > d.share, `d: ${d.share} below its interval ${d.ci.join(',')} (a widened interval would start at the share)`);
  assert.equal(d.outside, true);
  assert.ok(
    r.warnings.some((w) => /the shares? of (.*, )?d \(/.test(w) && /outside (its|their) bootstrap interval/.test(w)),
    r.warnings.join('\n'),
  );
  // As many resamples as asked, 1,000 by default: the interval moves by little between seeds.
  const other = impact(synthetic({ values, reps: 2, seed: 1, noise: 1, formula }), { seed: 2 });
  assert.ok(Math.abs(share(other, 'd').ci[1] - d.ci[1]) < 0.2 * d.ci[1], `upper ends ${d.ci[1]}, ${share(other, 'd').ci[1]} with another bootstrap seed`);
});

test('the same seed gives the same intervals; a constant metric is a clear error', () => {
  const ds = synthetic({ values, reps: 2, seed: 5, noise: 1, formula });
  assert.deepEqual(impact(ds, { seed: 3 }), impact(ds, { seed: 3 }));
  const flat = synthetic({ values, reps: 2, seed: 5, noise: 0, formula: () => 4 });
  assert.throws(
    () => impact(flat),
    (e: unknown) => e instanceof InputError && e.message === 'metric y: y is the same in every run (4): there is no variance to explain',
  );
});

test("the bootstrap's Cholesky with left-out columns gives the SVD's SS and rank on rank-deficient subsets", () => {
  // Columns as a resample makes them: one all zero (a level none of the drawn points has), one a
  // copy of another, one the sum of two others; weights with zeros (points not drawn).
  const rand = seededRandom(3);
  const n = 30;
  const base = Array.from({ length: n }, () => [rand() < 0.5 ? 1 : 0, rand() < 0.3 ? 1 : 0, rand() * 2 - 1, rand() < 0.6 ? 1 : 0]);
  const X = base.map(([a, b, c, d]) => [a!, b!, c!, 0, a!, b! + d!, d!, a! * c!]);
  const nzCols = X.map((row) => Int32Array.from(row.flatMap((v, j) => (v !== 0 ? [j] : []))));
  const nzVals = X.map((row, i) => Float64Array.from(nzCols[i]!, (j) => row[j]!));
  const ybar = Float64Array.from(X, (row) => 2 * row[0]! - row[2]! + 0.5 * row[6]! + rand());
  const w = Float64Array.from(X, () => (rand() < 0.3 ? 0 : 1 + Math.floor(rand() * 3)));
  const gram = new Gram(8).load({ nzCols, nzVals }, ybar, w);
  let deficient = 0;
  for (let t = 0; t < 300; t++) {
    const idx = [0, 1, 2, 3, 4, 5, 6, 7].filter(() => rand() < 0.6).sort(() => rand() - 0.5);
    const chol = gram.ss(idx);
    const svd = gram.ss(idx, true);
    if (svd.rank < idx.length) deficient++;
    assert.ok(Math.abs(chol.ss - svd.ss) <= 1e-9 * Math.max(1, svd.ss), `columns ${idx.join(',')}: ${chol.ss} vs SVD ${svd.ss}`);
    assert.equal(chol.rank, svd.rank, `columns ${idx.join(',')}`);
  }
  assert.ok(deficient > 100, `${deficient} rank-deficient subsets tried`);
});
