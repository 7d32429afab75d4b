import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../base/errors.ts';
import { fit, predict, type FitResult } from './fit.ts';
import { synthetic } from './synthetic.ts';

const coefOf = (r: FitResult, name: string) => {
  const t = r.terms.find((x) => x.name === name);
  assert.ok(t, `term ${name} in ${r.formula}`);
  return t;
};

test('95 % intervals of the coefficients cover the true values about 95 % of the time over 200 seeds', () => {
  const truth = { '(intercept)': 3, x1: 2, x2: -1.5 };
  const covered = { '(intercept)': 0, x1: 0, x2: 0 };
  const seeds = 200;
  for (let seed = 1; seed <= seeds; seed++) {
    const ds = synthetic({ values: { x1: [1, 2, 3, 4, 5], x2: [0, 2, 4, 6] }, reps: 3, seed, noise: 1, formula: (p) => 3 + 2 * (p.x1 as number) - 1.5 * (p.x2 as number) });
    const r = fit(ds, { forms: ['linear'] });
    for (const [name, value] of Object.entries(truth)) {
      const [lo, hi] = coefOf(r, name).ci;
      if (lo <= value && value <= hi) covered[name as keyof typeof covered]++;
    }
  }
  for (const [name, c] of Object.entries(covered)) {
    // Binomial(200, 0.95): 88..99 % holds with probability > 0.999; intervals too narrow (z instead of t
    // at small n, a wrong df) or twice too wide fall outside it.
    assert.ok(c >= 0.88 * seeds && c <= 0.99 * seeds, `${name}: ${c}/${seeds} intervals covered the truth`);
  }
});

test('the t intervals are not normal ones: at df = 3 they are 1.62 times wider', () => {
  const ds = { params: [{ name: 'x', kind: 'numeric' as const }], rows: [1, 2, 3, 4, 5].map((x, i) => ({ key: `p${i}`, rep: 0, params: { x }, y: 2 * x + [0.1, -0.2, 0.15, 0.05, -0.1][i]! })) };
  const r = fit(ds, { forms: ['linear'] });
  const t = coefOf(r, 'x');
  // t_{0.975, 3} = 3.182446305284263 (scipy.stats.t.ppf); jstat agrees to about 1e-7.
  assert.ok(Math.abs((t.ci[1] - t.coef) / t.se - 3.182446305284263) < 1e-6, `half width / se = ${(t.ci[1] - t.coef) / t.se}`);
});

test('OLS coefficients and standard errors agree with DuckDB regr_* on a simple regression within 1e-9', async () => {
  const ds = synthetic({ values: { x: Array.from({ length: 40 }, (_, i) => 0.37 * i + 1.1) }, reps: 2, seed: 7, noise: 3, formula: (p) => 1.5 + 0.8 * (p.x as number) });
  const r = fit(ds, { forms: ['linear'] });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const values = ds.rows.map((row) => `('${row.params.x}'::DOUBLE, '${row.y}'::DOUBLE)`).join(', ');
    await conn.run(`CREATE TABLE d AS SELECT * FROM (VALUES ${values}) t(x, y)`);
    const [ref] = (
      await conn.runAndReadAll(`
      WITH s AS (SELECT regr_slope(y, x) AS b, regr_intercept(y, x) AS a, regr_sxx(y, x) AS sxx, regr_syy(y, x) AS syy,
                        regr_sxy(y, x) AS sxy, regr_count(y, x) AS n, regr_avgx(y, x) AS mx FROM d)
      SELECT a, b, sqrt((syy - sxy * sxy / sxx) / (n - 2) / sxx) AS se_b,
             sqrt((syy - sxy * sxy / sxx) / (n - 2) * (1.0 / n + mx * mx / sxx)) AS se_a FROM s`)
    ).getRowObjects();
    const close = (have: number, want: number, what: string) => assert.ok(Math.abs(have - want) <= 1e-9 * Math.abs(want), `${what}: ${have}, DuckDB ${want}`);
    close(coefOf(r, '(intercept)').coef, Number(ref!['a']), 'intercept');
    close(coefOf(r, 'x').coef, Number(ref!['b']), 'slope');
    close(coefOf(r, 'x').se, Number(ref!['se_b']), 'se of slope');
    close(coefOf(r, '(intercept)').se, Number(ref!['se_a']), 'se of intercept');
  } finally {
    conn.closeSync();
    db.closeSync();
  }
});

const stream = { 'resolution.width': [640, 1280, 1920], 'resolution.height': [360, 720, 1080], fps: [15, 30, 60], bitrate: [1e6, 3e6], scene: ['typing', 'video'] };
/** What the stream workload declares of them (the loader reads it from the catalogue): a frame size's width and height, a frame rate, a bitrate. */
const declare = { 'resolution.width': { role: 'width', of: 'resolution' }, 'resolution.height': { role: 'height', of: 'resolution' }, fps: { role: 'fps', unit: 'fps' }, bitrate: { role: 'bitrate', unit: 'bit/s' } } as const;
const cpu = (p: Record<string, number | string>) => 5 + (p['resolution.width'] as number) * (p['resolution.height'] as number) * (p.fps as number) * (p.scene === 'video' ? 2e-7 : 1e-7);

test('cross-validation picks the physics form for CPU = pixel rate x coeff(scene), and its slopes hold the truth', () => {
  const r = fit(synthetic({ values: stream, reps: 3, seed: 3, noise: 2, formula: cpu, metric: 'guest.cpu_pct', declare }));
  assert.equal(r.form, 'physics', r.candidates.map((c) => `${c.form} ${c.cv.rmse}`).join('; '));
  assert.match(r.formula, /^guest\.cpu_pct = /);
  // Two checks on one seed: within 4 standard errors (the 95 % coverage is the first test's job).
  const slope = coefOf(r, 'pixel_rate');
  assert.ok(Math.abs(slope.coef - 1e-7) < 4 * slope.se, `pixel_rate ${slope.coef} ± ${slope.se}`);
  const extra = coefOf(r, 'scene=video*pixel_rate');
  assert.ok(Math.abs(extra.coef - 1e-7) < 4 * extra.se, `video's extra slope ${extra.coef} ± ${extra.se}`);
  assert.ok(slope.se < 0.1e-7, `pixel_rate is pinned down: se ${slope.se}`);
  assert.equal(r.n, 324);
  assert.equal(r.points, 108);
  assert.equal(r.residuals.length, 108);
  assert.ok(r.cv.rmse < 2.5 && r.cv.mape > 0, JSON.stringify(r.cv));
  assert.deepEqual(r.warnings, []);
});

test('cross-validation picks a log form for a multiplicative law', () => {
  const ds = synthetic({ values: { a: [1, 2, 4, 8], b: [10, 20, 40] }, reps: 2, seed: 5, noise: 0.05, multiplicative: true, formula: (p) => 3 * (p.a as number) ** 1.5 * (p.b as number) ** -0.5 });
  const r = fit(ds);
  assert.equal(r.form, 'log-linear', r.candidates.map((c) => `${c.form} ${c.cv.rmse}`).join('; '));
  const ea = coefOf(r, 'log(a)');
  assert.ok(ea.ci[0] <= 1.5 && 1.5 <= ea.ci[1], `exponent of a ${ea.ci.join(',')}`);
  assert.match(r.formula, /^log\(y\) = /);
});

test('an aliased parameter is left out with a rank-deficiency warning, and collinearity is named', () => {
  const ds = synthetic({ values: { x: [1, 2, 3, 4, 5, 6] }, reps: 2, seed: 2, noise: 0.1, formula: (p) => p.x as number });
  ds.params.push({ name: 'x2', kind: 'numeric' });
  for (const r of ds.rows) r.params = { ...r.params, x2: 2 * (r.params.x as number) };
  const r = fit(ds, { forms: ['linear'] });
  assert.ok(
    r.warnings.some((w) => /^rank deficiency: x2 /.test(w)),
    r.warnings.join('\n'),
  );
  assert.ok(
    r.warnings.some((w) => /^collinearity: x /.test(w)),
    r.warnings.join('\n'),
  );
  assert.deepEqual(
    r.terms.map((t) => t.name),
    ['(intercept)', 'x'],
  );
});

test('too few points is a warning', () => {
  const ds = synthetic({ values: { a: [1, 2, 3], b: [1, 2] }, reps: 1, seed: 2, noise: 0.1, formula: (p) => (p.a as number) + (p.b as number) });
  const r = fit(ds, { forms: ['linear'] });
  assert.ok(
    r.warnings.some((w) => w.startsWith('too few points: 6 distinct points for 3 terms')),
    r.warnings.join('\n'),
  );
});

test('predict: interval holds the truth inside the range, wider for one run than for the mean; extrapolation is flagged with its distance; an unseen category is refused', () => {
  const r = fit(synthetic({ values: stream, reps: 3, seed: 4, noise: 2, formula: cpu, declare }));
  const inside = { 'resolution.width': 1280, 'resolution.height': 720, fps: 30, bitrate: 3e6, scene: 'video' };
  const p = predict(r, inside);
  assert.deepEqual(p.outside, []);
  assert.ok(p.ci[0] <= cpu(inside) && cpu(inside) <= p.ci[1], `${cpu(inside)} in ${p.ci.join(',')}`);
  assert.ok(p.pi[0] < p.ci[0] && p.pi[1] > p.ci[1]);
  // Between measured values (fps 45 of 15, 30, 60; a frame size of none measured): no note.
  assert.deepEqual(predict(r, { ...inside, 'resolution.width': 960, 'resolution.height': 540, fps: 45 }).outside, []);
  const far = predict(r, { ...inside, 'resolution.width': 1920, 'resolution.height': 1080, fps: 120 });
  assert.deepEqual(far.outside.map((o) => o.param).sort(), ['fps', 'pixel_rate']);
  assert.deepEqual(
    far.outside.find((o) => o.param === 'fps'),
    { param: 'fps', value: 120, range: [15, 60], distance: 60, relative: 1 },
  );
  const rate = far.outside.find((o) => o.param === 'pixel_rate')!;
  assert.deepEqual(rate.range, [640 * 360 * 15, 1920 * 1080 * 60]);
  assert.equal(rate.distance, 1920 * 1080 * 60);
  const below = predict(r, { ...inside, fps: 10 }).outside.find((o) => o.param === 'fps');
  assert.equal(below?.distance, -5);
  assert.ok(Math.abs(below.relative! + 1 / 3) < 1e-12, JSON.stringify(below));
  // A scene no run had has no coefficient: refused, one line, with the scenes that exist.
  assert.throws(
    () => predict(r, { ...inside, scene: 'gaming' }),
    (e: unknown) => e instanceof InputError && e.message === 'model of y: scene=gaming: no run had it, so the model has no estimate for it (measured: typing, video)',
  );
  assert.throws(
    () => predict(r, { fps: 30 }),
    (e: unknown) => e instanceof InputError && /no value for parameter "resolution\.width"/.test(e.message),
  );
});

test('a parameter that did not vary: another category is refused, another number is outside a range of one value', () => {
  const ds = synthetic({ values: { x: [1, 2, 3, 4, 5, 6], codec: ['h264'], threads: [1] }, reps: 2, seed: 9, noise: 0.1, formula: (p) => 2 * (p.x as number) });
  const r = fit(ds, { forms: ['linear'] });
  assert.deepEqual(
    r.model.params.map((p) => p.name),
    ['x'],
  );
  assert.deepEqual(predict(r, { x: 3 }).outside, []);
  assert.deepEqual(predict(r, { x: 3, codec: 'h264', threads: 1 }).outside, []);
  assert.throws(
    () => predict(r, { x: 3, codec: 'vp8' }),
    (e: unknown) => e instanceof InputError && /codec=vp8: no run had it.*\(measured: h264\)$/.test(e.message),
  );
  assert.deepEqual(predict(r, { x: 3, threads: 4 }).outside, [{ param: 'threads', value: 4, range: [1, 1], distance: 3, relative: 3 }]);
});

test('the physics forms follow the declarations, not the names: a frame size, a rate in fps and a bitrate called anything', () => {
  const values = { w: [640, 1280, 1920], h: [360, 720, 1080], rate: [15, 30, 60], br: [1e6, 3e6], content: ['typing', 'video'] };
  const truth = (p: Record<string, number | string>) => 5 + (p.w as number) * (p.h as number) * (p.rate as number) * (p.content === 'video' ? 2e-7 : 1e-7);
  const named = { w: { role: 'width', of: 'frame' }, h: { role: 'height', of: 'frame' }, rate: { role: 'fps', unit: 'fps' }, br: { role: 'bitrate', unit: 'bit/s' } } as const;
  const r = fit(synthetic({ values, reps: 3, seed: 3, noise: 2, formula: truth, declare: named }));
  assert.equal(r.form, 'physics', r.candidates.map((c) => `${c.form} ${c.cv.rmse}`).join('; '));
  assert.deepEqual(r.physics, { pixels: 'frame', fps: 'rate', bitrate: 'br' });
  const slope = coefOf(r, 'pixel_rate');
  assert.ok(Math.abs(slope.coef - 1e-7) < 4 * slope.se, `pixel_rate ${slope.coef} ± ${slope.se}`);
  assert.deepEqual(predict(r, { w: 1280, h: 720, rate: 30, br: 3e6, content: 'video' }).outside, []);
  // Named as the built-in pipeline names them but declared as nothing (no unit, no type): plain numbers.
  const bare = fit(synthetic({ values: stream, reps: 3, seed: 3, noise: 2, formula: cpu }));
  assert.ok(!bare.candidates.some((c) => c.form.startsWith('physics')), bare.candidates.map((c) => c.form).join(', '));
  assert.equal(bare.physics, undefined);
});

test('two frame sizes that both vary: no guess (physics left out, a warning asks for --pixels-from); named, it is used and said', () => {
  const values = { 'screen.pixels': [230400, 921600], 'window.pixels': [57600, 230400, 518400], fps: [15, 30] };
  const declared = { 'screen.pixels': { role: 'pixels', of: 'screen' }, 'window.pixels': { role: 'pixels', of: 'window' }, fps: { role: 'fps', unit: 'fps' } } as const;
  const ds = synthetic({ values, reps: 2, seed: 8, noise: 0.5, formula: (p) => 3 + 1e-6 * (p['window.pixels'] as number) * (p.fps as number), declare: declared });
  const asked = fit(ds);
  assert.ok(!asked.candidates.some((c) => c.form.startsWith('physics')), asked.candidates.map((c) => c.form).join(', '));
  assert.ok(asked.warnings.includes('physics forms not tried: the pixel rate could take its frame size from screen or window: --pixels-from NAME says which'), asked.warnings.join('\n'));
  const told = fit(ds, { physics: { pixels: 'window' } });
  assert.deepEqual(told.physics, { pixels: 'window', fps: 'fps' });
  assert.ok(told.candidates.some((c) => c.form === 'physics'));
  assert.ok(!told.warnings.some((w) => w.startsWith('physics forms not tried')), told.warnings.join('\n'));
  // The other frame size enters as a number of its own in the physics forms.
  if (told.form.startsWith('physics'))
    assert.ok(
      told.terms.some((t) => t.name.includes('screen.pixels')),
      told.formula,
    );
  assert.throws(
    () => fit(ds, { physics: { pixels: 'fps' } }),
    (e: unknown) => e instanceof InputError && /--pixels-from fps: not a frame size of these runs \(frame sizes: screen, window\)/.test(e.message),
  );
});

test('the same model whatever the parameters and point keys are called: same prediction to the last digit', () => {
  const values = { a: [1, 2, 4, 8], b: [10, 20, 40], codec: ['h264', 'vp8'] };
  const ds = synthetic({ values, reps: 2, seed: 11, noise: 0.1, multiplicative: true, formula: (p) => 3 * (p.a as number) ** 1.2 * (p.b as number) ** -0.5 * (p.codec === 'vp8' ? 1.5 : 1) });
  // Keys hash the names with the values (as a set's point keys do): other names, other keys, in another order.
  const hash = (text: string) =>
    Array.from(text)
      .reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
      .toString(16);
  const renamed = (names: Record<string, string>) => ({
    params: ds.params.map((p) => ({ ...p, name: names[p.name]! })),
    rows: ds.rows.map((r) => {
      const params = Object.fromEntries(Object.entries(r.params).map(([k, v]) => [names[k]!, v]));
      return { ...r, key: hash(JSON.stringify(params)), params };
    }),
  });
  const one = renamed({ a: 'a', b: 'b', codec: 'codec' });
  const two = renamed({ a: 'size', b: 'rate', codec: 'encoder' });
  const f1 = fit(one);
  const f2 = fit(two);
  assert.equal(f1.form, f2.form);
  assert.deepEqual(predict(f2, { size: 3, rate: 30, encoder: 'vp8' }), predict(f1, { a: 3, b: 30, codec: 'vp8' }));
  assert.deepEqual(f2.candidates, f1.candidates);
});

test('a model saved before the declarations decided (physics atoms without their parameters, no `of`, no `fixed`) predicts as it did', () => {
  const r = fit(synthetic({ values: stream, reps: 2, seed: 5, noise: 1, formula: cpu, declare }), { forms: ['physics'] });
  const at = { 'resolution.width': 1280, 'resolution.height': 720, fps: 30, bitrate: 3e6, scene: 'video' };
  const old = JSON.parse(JSON.stringify(r)) as FitResult;
  for (const t of old.model.terms) for (const a of t.atoms) if (a.kind === 'pixel_rate' || a.kind === 'bpp') delete a.from;
  for (const p of old.model.params) delete p.of;
  delete old.model.fixed;
  assert.deepEqual(predict(old, at), predict(r, at));
  assert.deepEqual(
    predict(old, { ...at, 'resolution.width': 1920, 'resolution.height': 1080, fps: 120 })
      .outside.map((o) => o.param)
      .sort(),
    ['fps', 'pixel_rate'],
  );
});

test('by: one model per level, each with its own slope; predict picks the level', () => {
  const r = fit(synthetic({ values: stream, reps: 2, seed: 6, noise: 1, formula: cpu, declare }), { by: 'scene' });
  assert.equal(r.by, 'scene');
  assert.deepEqual(
    r.levels.map((l) => l.level),
    ['typing', 'video'],
  );
  for (const l of r.levels) assert.ok(!l.terms.some((t) => t.name.includes('scene')), l.formula);
  const p = predict(r, { 'resolution.width': 1280, 'resolution.height': 720, fps: 30, bitrate: 1e6, scene: 'video' });
  assert.equal(p.level, 'video');
  assert.throws(
    () => predict(r, { fps: 30, scene: 'idle' }),
    (e: unknown) => e instanceof InputError && e.message === 'model of y: scene=idle: no run had it, so the model has no estimate for it (measured: typing, video)',
  );
});

test('bad input: a run without a parameter value is a one-line InputError naming the run', () => {
  const ds = synthetic({ values: { a: [1, 2, 3] }, reps: 1, seed: 1, noise: 0, formula: (p) => p.a as number });
  ds.params.push({ name: 'codec', kind: 'categorical' });
  assert.throws(
    () => fit(ds),
    (e: unknown) => e instanceof InputError && e.message === 'metric y: run p0#0 has no value for parameter "codec"',
  );
  assert.throws(
    () => fit({ ...ds, params: ds.params.slice(0, 1) }, { by: 'codec' }),
    (e: unknown) => e instanceof InputError && /--by codec: no such parameter/.test(e.message),
  );
});

test("a log form predicts the mean (Duan's smearing), not the median: lognormal runs of known sigma", () => {
  // y = f x exp(e), e ~ N(0, 0.8^2): the median of y is f, its mean f x exp(0.8^2 / 2) = 1.377 f.
  const sigma = 0.8;
  const f = (p: Record<string, number | string>) => 3 * (p.a as number) ** 1.5 * (p.b as number) ** -0.5;
  const ds = synthetic({ values: { a: [1, 2, 4, 8], b: [10, 20, 40] }, reps: 100, seed: 12, noise: sigma, multiplicative: true, formula: f });
  const r = fit(ds, { forms: ['log-linear'] });
  const lift = Math.exp((sigma * sigma) / 2);
  // At a measured setting and at one between the measured ones, the mean within 10 % (the
  // prediction's own se on the log scale is about 4 %), and far from the median.
  for (const at of [
    { a: 2, b: 20 },
    { a: 3, b: 30 },
  ]) {
    const p = predict(r, at);
    const mean = f(at) * lift;
    assert.ok(Math.abs(p.value / mean - 1) < 0.1, `at ${JSON.stringify(at)}: predicted ${p.value}, true mean ${mean}, median ${f(at)}`);
    assert.equal(p.estimate, 'mean');
    assert.ok(p.value / f(at) > 1.2, `at ${JSON.stringify(at)}: ${p.value} is the median's ${f(at)} neighbourhood`);
    assert.ok(p.ci[0] < mean && mean < p.ci[1], `the mean ${mean} in ${p.ci.join(',')}`);
    assert.equal(p.smearing, r.model.smear);
    // One run's interval: the runs' own 2.5 % and 97.5 % quantiles (f exp(+-1.96 sigma)), not smeared.
    assert.ok(Math.abs(Math.log(p.pi[0] / (f(at) * Math.exp(-1.96 * sigma)))) < 0.15 && Math.abs(Math.log(p.pi[1] / (f(at) * Math.exp(1.96 * sigma)))) < 0.15, `pi ${p.pi.join(',')}`);
  }
  // The factor itself: the mean of exp(residual), exp(sigma^2 / 2) for normal residuals (the se of a
  // mean of 1,200 such values is about 3 % of it).
  assert.ok(Math.abs(r.model.smear! / lift - 1) < 0.08, `smearing factor ${r.model.smear}, exp(sigma^2/2) ${lift}`);
  // Fitted values are means too: the points' measured means sit around them, not 38 % above.
  const rel = r.residuals.map((q) => q.residual / q.fitted);
  const avg = rel.reduce((a, b) => a + b, 0) / rel.length;
  assert.ok(Math.abs(avg) < 0.05, `mean relative residual ${avg}`);
  // A model saved before the factor was kept predicts the median, and says so.
  const old = { ...r, model: { ...r.model } };
  delete old.model.smear;
  const median = predict(old, { a: 2, b: 20 });
  assert.equal(median.estimate, 'median');
  assert.ok(Math.abs(median.value / f({ a: 2, b: 20 }) - 1) < 0.1, `median ${median.value}`);
  // A linear form is a mean as it is.
  const lin = predict(fit(ds, { forms: ['linear'] }), { a: 2, b: 20 });
  assert.equal(lin.estimate, 'mean');
  assert.equal(lin.smearing, undefined);
});
