import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, linkedGroups, type FindingParam, type FindingRun } from './findings.ts';

const close = (got: number | null | undefined, want: number, rel = 1e-9, what = '') => assert.ok(typeof got === 'number' && Math.abs(got - want) <= rel * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

/** Runs from rows of [point, params, value]. */
function runsOf(rows: [string, Record<string, string | number>, number][]): FindingRun[] {
  return rows.map(([point, params, v]) => ({ point, params, values: { y: v } }));
}

const A: FindingParam = { name: 'a', unit: null, numeric: true };
const B: FindingParam = { name: 'b', unit: null, numeric: false };
const Y = [{ name: 'y', unit: 'ms', better: 'lower' as const }];

// A balanced 2 x 2 with 2 runs per point: cell means (a=1,x) 11, (1,y) 12, (2,x) 21, (2,y) 20; grand mean 16.
// By hand: SS_a = 4 x (4.5^2 + 4.5^2) = 162, SS_b = 0 (both b means are 16), SS_total = 172,
// RSS of the main-effects model = 172 - 162 - 0 = 10 on 8 - 3 = 5 df, so F_a = 162 / (10/5) = 81 and F_b = 0.
const BALANCED = runsOf([
  ['p1', { a: 1, b: 'x' }, 10],
  ['p1', { a: 1, b: 'x' }, 12],
  ['p2', { a: 1, b: 'y' }, 11],
  ['p2', { a: 1, b: 'y' }, 13],
  ['p3', { a: 2, b: 'x' }, 20],
  ['p3', { a: 2, b: 'x' }, 22],
  ['p4', { a: 2, b: 'y' }, 21],
  ['p4', { a: 2, b: 'y' }, 19],
]);

test('findings, balanced 2 x 2 with repetitions: F, p, effect and interval as computed by hand; Holm over the two tests', () => {
  const r = findings({ params: [A, B], metrics: Y, runs: BALANCED, warnings: ['set s: not checked'] });
  assert.equal(r.repetitions, true);
  assert.equal(r.family.tests, 2);
  assert.equal(r.family.correction, 'holm');
  assert.deepEqual(r.warnings, ['set s: not checked']);
  const fa = r.findings.find((f) => f.parameter === 'a')!;
  const fb = r.findings.find((f) => f.parameter === 'b')!;
  close(fa.F, 81, 1e-9, 'F of a');
  assert.deepEqual(fa.df, [1, 5]);
  // scipy.stats.f.sf(81, 1, 5) = 0.00028267997424389707
  close(fa.p_raw, 0.00028267997424389707, 1e-6, 'p of a');
  close(fb.F, 0, 1e-9, 'F of b');
  close(fb.p_raw, 1, 1e-9, 'p of b');
  // Holm with two tests: the smaller p doubled, the larger max(that, itself).
  close(fa.p, 2 * 0.00028267997424389707, 1e-6, 'Holm p of a');
  close(fb.p, 1, 1e-9, 'Holm p of b');
  assert.equal(fa.significant, true);
  assert.equal(fb.significant, false);
  // a is numeric: the mean at its highest value (20.5) minus at its lowest (11.5).
  assert.equal(fa.from, 1);
  assert.equal(fa.to, 2);
  close(fa.effect, 9, 1e-12, 'effect');
  close(fa.effect_pct, (9 / 11.5) * 100, 1e-12, 'effect %');
  // sigma2 = 10 / 5 = 2; each mean has 2 points of 2 runs: Var = 2 x (2 x 1/2) / 2^2 = 0.5, twice: 1.
  // scipy.stats.t.ppf(0.975, 5) = 2.5705818356363146
  close(fa.ci![0], 9 - 2.5705818356363146, 1e-7, 'ci lo');
  close(fa.ci![1], 9 + 2.5705818356363146, 1e-7, 'ci hi');
  assert.deepEqual(fa.points, [2, 2]);
  assert.equal(fa.runs, 8);
  // b is categorical: the largest marginal mean minus the smallest, both named.
  close(fb.effect, 0, 1e-12, 'effect of b');
  assert.ok(fb.effect >= 0);
  // Best (lowest: lower is better) and worst point.
  const ex = r.extremes[0]!;
  assert.deepEqual(ex.best.setting, { a: 1, b: 'x' });
  close(ex.best.mean, 11, 1e-12, 'best');
  assert.deepEqual(ex.worst.setting, { a: 2, b: 'x' });
  close(ex.worst.mean, 21, 1e-12, 'worst');
});

test('findings, unbalanced: type II (each factor adjusted for the other), not sequential; numpy least squares and scipy agree', () => {
  // Points with 2, 2, 3 and 2 runs. Reference (numpy.linalg.lstsq on the same treatment-coded
  // designs, scipy.stats.f.sf): F_a = 123.61142857142855, p = 3.155447746456898e-05;
  // F_b = 5.785714285714285, p = 0.05290778036072043 (1 and 6 df). Type I with a first would give
  // F_a = 119.51587301587303: the test tells the two apart.
  const runs = runsOf([
    ['p1', { a: 1, b: 'x' }, 10],
    ['p1', { a: 1, b: 'x' }, 11],
    ['p2', { a: 1, b: 'y' }, 12],
    ['p2', { a: 1, b: 'y' }, 14],
    ['p3', { a: 2, b: 'x' }, 20],
    ['p3', { a: 2, b: 'x' }, 19],
    ['p3', { a: 2, b: 'x' }, 22],
    ['p4', { a: 2, b: 'y' }, 23],
    ['p4', { a: 2, b: 'y' }, 21],
  ]);
  for (const params of [
    [A, B],
    [B, A],
  ]) {
    const r = findings({ params, metrics: Y, runs, warnings: [] });
    const fa = r.findings.find((f) => f.parameter === 'a')!;
    const fb = r.findings.find((f) => f.parameter === 'b')!;
    close(fa.F, 123.61142857142855, 1e-9, 'F a');
    close(fa.p_raw, 3.155447746456898e-5, 1e-6, 'p a');
    close(fb.F, 5.785714285714285, 1e-9, 'F b');
    close(fb.p_raw, 0.05290778036072043, 1e-6, 'p b');
    assert.deepEqual(fb.df, [1, 6]);
    // Holm: 2 x p_a; b's adjusted p is max(2 p_a, p_b) = p_b, above 0.05.
    close(fb.p, 0.05290778036072043, 1e-6, 'Holm p b');
    assert.equal(fb.significant, false);
    // Marginal means are means of point means: a=1: (10.5 + 13) / 2; a=2: (61/3 + 22) / 2.
    close(fa.from_mean, 11.75, 1e-12, 'from');
    close(fa.to_mean, (61 / 3 + 22) / 2, 1e-12, 'to');
    // b categorical: y's mean (13 + 22) / 2 = 17.5 above x's (10.5 + 61/3) / 2.
    assert.equal(fb.from, 'x');
    assert.equal(fb.to, 'y');
    close(fb.effect, 17.5 - (10.5 + 61 / 3) / 2, 1e-12, 'effect b');
  }
});

test('findings: parameters that vary together are one factor, named once, tested once (the model stays full rank)', () => {
  // network (lan/wan), net_rate and net_delay always go together: one-to-one over the runs.
  const net = (a: number) => (a === 1 ? { network: 'wan', net_rate: 4e6, net_delay: 50 } : { network: 'lan', net_rate: 1e9, net_delay: 1 });
  const runs = BALANCED.map((r) => ({ ...r, params: { ...r.params, ...net(r.params['a'] as number) } }));
  const params: FindingParam[] = [B, { name: 'network', unit: null, numeric: false }, { name: 'net_rate', unit: 'bit/s', numeric: true }, { name: 'net_delay', unit: 'ms', numeric: true }];
  assert.deepEqual(
    linkedGroups(params, runs).map((g) => g.map((p) => p.name)),
    [['b'], ['network', 'net_rate', 'net_delay']],
  );
  const r = findings({ params, metrics: Y, runs, warnings: [] });
  assert.deepEqual(r.groups, [{ name: 'network = net_rate = net_delay', params: ['network', 'net_rate', 'net_delay'] }]);
  assert.deepEqual(
    r.findings.map((f) => f.parameter),
    ['b', 'network = net_rate = net_delay'],
  );
  assert.equal(r.family.tests, 2);
  const g = r.findings[1]!;
  // The same data as a above: F = 81 on (1, 5). Ordered by its numeric member, net_rate: from 4M (wan) to 1G (lan).
  close(g.F, 81, 1e-9, 'F of the group');
  assert.deepEqual(g.df, [1, 5]);
  assert.equal(g.numeric, true);
  assert.equal(g.from, 4e6);
  assert.equal(g.to, 1e9);
  close(g.effect, 20.5 - 11.5, 1e-12, 'effect');
  // Not one to one: a parameter with two values against one with four is no link.
  const four = BALANCED.map((r) => ({ ...r, params: { ...r.params, c: r.point } }));
  assert.deepEqual(
    linkedGroups([A, { name: 'c', unit: null, numeric: false }], four).map((x) => x.length),
    [1, 1],
  );
});

test('findings without repetitions: effects only, p, significance and interval null, the family empty, said in a note', () => {
  // One run per point: the cell means of the balanced design above.
  const runs = runsOf([
    ['p1', { a: 1, b: 'x' }, 11],
    ['p2', { a: 1, b: 'y' }, 12],
    ['p3', { a: 2, b: 'x' }, 21],
    ['p4', { a: 2, b: 'y' }, 20],
  ]);
  const r = findings({ params: [A, B], metrics: Y, runs, warnings: [] });
  assert.equal(r.repetitions, false);
  assert.equal(r.test, null);
  assert.equal(r.family.tests, 0);
  assert.ok(r.notes.some((n) => /no repetitions/.test(n)));
  for (const f of r.findings) {
    assert.equal(f.p, null);
    assert.equal(f.significant, null);
    assert.equal(f.ci, null);
    assert.equal(f.F, null);
  }
  close(r.findings.find((f) => f.parameter === 'a')!.effect, 9, 1e-12, 'effect');
});

test("findings: a metric with no direction has no best or worst; a numeric parameter's effect keeps its sign", () => {
  const runs = BALANCED.map((r) => ({ ...r, values: { y: -r.values['y']! } }));
  const r = findings({ params: [A, B], metrics: [{ name: 'y', unit: null, better: 'none' }], runs, warnings: [] });
  assert.deepEqual(r.extremes, []);
  const fa = r.findings.find((f) => f.parameter === 'a')!;
  close(fa.effect, -9, 1e-12, 'effect');
  close(fa.effect_pct, (-9 / 11.5) * 100, 1e-12, 'effect %');
});

test('findings: a metric with one value in every run is listed with no effect, not tested, out of the Holm family, with no best or worst', () => {
  const runs = BALANCED.map((r) => ({ ...r, values: { y: r.values['y']!, z: 0 } }));
  const r = findings({ params: [A, B], metrics: [...Y, { name: 'z', unit: 'frames', better: 'lower' }], runs, warnings: [] });
  assert.equal(r.family.tests, 2);
  for (const f of r.findings.filter((x) => x.metric === 'z')) {
    assert.equal(f.effect, 0);
    assert.equal(f.p, null);
  }
  assert.ok(r.notes.some((n) => n.startsWith('z: 0 in every ok run')));
  assert.deepEqual(
    r.extremes.map((e) => e.metric),
    ['y'],
  );
  // The family is y's two tests: Holm doubles a's p, as above.
  close(r.findings.find((f) => f.metric === 'y' && f.parameter === 'a')!.p, 2 * 0.00028267997424389707, 1e-6, 'Holm p of a');
});

test("a parameter only some sets have (one stack's codec) is compared within the runs that have it, never against its absence", () => {
  // Two sets: A varies codec (x: 10 and 12, y: 14 and 16), B has no codec (30 and 32). Within A, by
  // hand: codec means 11 and 15, SS_codec = 4 x 2^2 = 16, RSS = 4 x 1 = 4 on 4 - 2 = 2 df: F = 8.
  const SET: FindingParam = { name: 'set', unit: null, numeric: false };
  const CODEC: FindingParam = { name: 'codec', unit: null, numeric: false };
  const runs: FindingRun[] = [
    { point: 'a1', params: { set: 'A', codec: 'x' }, values: { y: 10 } },
    { point: 'a1', params: { set: 'A', codec: 'x' }, values: { y: 12 } },
    { point: 'a2', params: { set: 'A', codec: 'y' }, values: { y: 14 } },
    { point: 'a2', params: { set: 'A', codec: 'y' }, values: { y: 16 } },
    { point: 'b1', params: { set: 'B' }, values: { y: 30 } },
    { point: 'b1', params: { set: 'B' }, values: { y: 32 } },
  ];
  const r = findings({ params: [SET, CODEC], metrics: Y, runs, warnings: [] });
  const codec = r.findings.find((f) => f.parameter === 'codec')!;
  assert.deepEqual([codec.from, codec.to], ['x', 'y'], 'no "absent" level');
  close(codec.effect, 4, 1e-12, 'codec effect within A');
  assert.deepEqual(codec.points, [1, 1]);
  close(codec.F, 8, 1e-9, 'F of codec within A');
  assert.deepEqual(codec.df, [1, 2]);
  assert.ok(
    r.notes.some((n) => /y by codec: only 4 of 6 runs have it/.test(n)),
    r.notes.join('; '),
  );
  // The sets themselves: A's mean of point means 13 against B's 31, tested in the model of all runs (set only).
  const set = r.findings.find((f) => f.parameter === 'set')!;
  assert.deepEqual([set.from, set.to], ['A', 'B']);
  close(set.effect, 18, 1e-12, 'set effect');
  assert.ok(set.F !== null && set.F > 0);
});
