// The matrix route (/api/matrix) called in-process over small real result sets, written through the
// store as the engine writes them: a fixed value matches by value for every parameter type, whatever
// spelling the GUI (or an edited link) sends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tQuantile } from '../analyze/stats.ts';
import { typeValue, type ParamDecl, type RawValue } from '../config/declare.ts';
import type { PointRecord } from '../store/records.ts';
import { ResultSet } from '../store/resultset.ts';
import type { MatrixResponse, SetsResponse } from './api-types.ts';
import { ApiFailure } from './route.ts';
import { ROUTES } from './routes/index.ts';
import { LoadedSets } from './sets.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-matrix-route-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A parameter of the test set: its declaration (as a benchmark file's `params:` gives it) and the values its points cycle through, as written. */
interface TestParam {
  decl: ParamDecl;
  values: RawValue[];
}

const decl = (name: string, type: ParamDecl['type'], extra: Partial<ParamDecl> = {}): ParamDecl => ({ name, type, doc: '', role: 'all', ...extra });

/** One parameter per type; `idx` numbers the points (the plots' x). */
const PARAMS: TestParam[] = [
  { decl: decl('idx', 'integer'), values: [] },
  { decl: decl('threads', 'integer'), values: [1, 2, 3] },
  // Fractional: stored as DOUBLE, where 0 is 0.0 and 2 is 2.0.
  { decl: decl('loss', 'number', { unit: '%' }), values: [0, 0.5, 2] },
  { decl: decl('rate', 'bitrate', { unit: 'bit/s' }), values: ['300k', '1M', '2.5M'] },
  // A cap or none at all (`net_rate: [none, 2M]`): `none` has no typed value.
  { decl: decl('cap', 'bitrate', { unit: 'bit/s', none: ['none'] }), values: ['none', '2M'] },
  { decl: decl('delay', 'duration', { unit: 'ms' }), values: ['0ms', '0.5ms', '30ms'] },
  { decl: decl('size', 'resolution', { unit: 'px' }), values: ['320x180', '640x360'] },
  { decl: decl('mode', 'enum', { values: ['fast', 'slow'] }), values: ['fast', 'slow'] },
  { decl: decl('window', 'boolean'), values: [true, false] },
  { decl: decl('note', 'text'), values: ["it's", 'a b'] },
  { decl: decl('file', 'path'), values: ['/tmp/a.y4m', 'clips/b.y4m'] },
];
/** Parameters no declaration covers: typed from their values (numbers, true/false, text). */
const INFERRED: TestParam[] = [
  { decl: { ...decl('ratio', 'number'), doc: '' }, values: [1, 1.5] },
  { decl: { ...decl('cache', 'boolean'), doc: '' }, values: [false, true] },
];
const POINTS = 12;
const ms = (name: string, doc: string): NonNullable<PointRecord['declared']>['metrics'] & object => [{ name, unit: 'ms', better: 'lower', role: 'local', kind: 'summary', view: 'points', doc }];
/** The metrics the benchmark file declares (`bare` it does not: no unit). */
const METRICS = [...ms('y', 'a latency'), ...ms('spread', 'a latency'), ...ms('offset', 'a clock offset'), ...ms('single', 'a latency measured once')];

function valueOf(p: TestParam, i: number): RawValue {
  return p.decl.name === 'idx' ? i : p.values[i % p.values.length]!;
}

/** A set of POINTS points, two repetitions each; `y` is the point's index plus a little noise. */
function writeSet(name: string): string {
  const dir = join(tmp, name);
  const set = ResultSet.openOrCreate(dir, name);
  set.index().close();
  for (let i = 0; i < POINTS; i++) {
    for (const rep of [1, 2]) {
      const params: PointRecord['params'] = {};
      const typed: NonNullable<PointRecord['typed']> = {};
      const declared: NonNullable<NonNullable<PointRecord['declared']>['params']> = {};
      for (const p of [...PARAMS, ...INFERRED]) {
        const v = valueOf(p, i);
        params[p.decl.name] = v;
        typed[p.decl.name] = typeValue(p.decl, v);
        declared[p.decl.name] = { ...p.decl, source: INFERRED.includes(p) ? 'inferred' : 'file' };
      }
      const key = `k${String(i).padStart(3, '0')}`;
      const w = set.beginPoint(key, rep);
      w.commit({
        key,
        rep,
        index: i,
        params,
        typed,
        declared: { params: declared, metrics: METRICS },
        outcome: { status: 'ok' },
        attempts: 1,
        workload: 'command',
        benchmark: { name, sha256: 'e'.repeat(64) },
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:00:01.000Z',
        wallS: 1,
        metrics: {
          y: 10 + i + (rep === 1 ? -0.5 : 0.5),
          // Two runs far apart: a t-interval of their mean at 1 df reaches far below zero.
          spread: rep === 1 ? 43 + i : 51.7 + i,
          // An offset in ms can be negative (and here is): its intervals stay on the linear scale.
          offset: i - 5 + (rep === 1 ? -0.5 : 0.5),
          // No unit: nothing says it cannot be negative.
          bare: 20 + i + (rep === 1 ? -4 : 4),
          // Measured in the first run of each point only: every group holds points of a single run.
          ...(rep === 1 ? { single: 5 + i } : {}),
        },
        flags: [],
      });
    }
  }
  return dir;
}

async function call(sets: LoadedSets, path: string, query: Record<string, string>): Promise<unknown> {
  const route = ROUTES.find((r) => r.method === 'GET' && r.path === path)!;
  return route.handle({ params: {}, query: new URLSearchParams(query), sets });
}

let sets: LoadedSets;
before(() => {
  sets = new LoadedSets([ResultSet.open(writeSet('types'))]);
});
// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
after(() => sets?.close());

/** The x values (point indices) plotted with one parameter fixed to `value` (the text after `v:`). */
async function fixedTo(param: string, value: string): Promise<number[]> {
  const r = (await call(sets, '/api/matrix', { metric: 'y', x: 'idx', kind: 'line', agg: 'mean', [`c.${param}`]: `v:${value}` })) as MatrixResponse;
  return r.columns['x'] as number[];
}

for (const p of [...PARAMS, ...INFERRED].filter((x) => x.decl.name !== 'idx')) {
  test(`${p.decl.type} parameter${INFERRED.includes(p) ? ' (inferred from its values)' : ''} '${p.decl.name}': each value the GUI offers, fixed, gives exactly the runs that have it`, async () => {
    const cat = (await call(sets, '/api/sets', {})) as SetsResponse;
    const c = cat.params.find((x) => x.name === p.decl.name);
    assert.ok(c, `the catalogue lacks ${p.decl.name}`);
    assert.equal(c.type, p.decl.type, `${p.decl.name}: its type in the catalogue`);
    // What the GUI's control sends: each value of the catalogue as text (`v:${String(v)}`, web/src/views/matrix.ts).
    const settings = p.values.filter((v) => v !== 'none');
    assert.equal(c.values!.length, settings.length, `${p.decl.name}: values ${JSON.stringify(c.values)}`);
    for (const v of c.values!) {
      const j = p.values.findIndex((w) => JSON.stringify(typeValue(p.decl, w)) === JSON.stringify(v) || (p.decl.type === 'resolution' && w === v));
      assert.ok(j >= 0, `${p.decl.name}: catalogue value ${JSON.stringify(v)} is none of the written ones`);
      const want = Array.from({ length: POINTS }, (_, i) => i).filter((i) => i % p.values.length === j);
      assert.deepEqual(await fixedTo(p.decl.name, String(v)), want, `${p.decl.name} fixed to ${String(v)} (as the GUI sends it)`);
    }
  });
}

test('a parameter whose one other setting is `none` varies: the catalogue says so, v:none fixes its runs, and it is aggregated, never dropped', async () => {
  const cat = (await call(sets, '/api/sets', {})) as SetsResponse;
  const cap = cat.params.find((x) => x.name === 'cap')!;
  assert.deepEqual(cap.values, [2_000_000]);
  assert.equal(cap.none, true);
  assert.equal(cat.params.find((x) => x.name === 'rate')!.none, undefined, 'a parameter every run has a value of');
  assert.deepEqual(await fixedTo('cap', 'none'), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(await fixedTo('cap', '2M'), [1, 3, 5, 7, 9, 11]);
  const r = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean' })) as MatrixResponse;
  assert.ok(r.aggregated.includes('cap'), `aggregated: ${r.aggregated.join(', ')}`);
  const byCap = (await call(sets, '/api/matrix', { metric: 'y', x: 'cap', kind: 'line', agg: 'mean' })) as MatrixResponse;
  assert.deepEqual(byCap.columns['xlabel'], ['2M', 'none']);
});

test('a fixed value in the spellings a user writes in a link matches by value: 0.0, 2.5M, 1000k, 30ms, 0.03s, 2.0', async () => {
  const spelled: [string, string, number[]][] = [
    ['loss', '0.0', [0, 3, 6, 9]],
    ['loss', '2', [2, 5, 8, 11]],
    ['loss', '2.0', [2, 5, 8, 11]],
    ['loss', '2%', [2, 5, 8, 11]],
    ['loss', '5e-1', [1, 4, 7, 10]],
    ['rate', '2.5M', [2, 5, 8, 11]],
    ['rate', '1000k', [1, 4, 7, 10]],
    ['rate', '300000', [0, 3, 6, 9]],
    ['delay', '30ms', [2, 5, 8, 11]],
    ['delay', '0.03s', [2, 5, 8, 11]],
    ['delay', '30', [2, 5, 8, 11]],
    ['delay', '0', [0, 3, 6, 9]],
    ['threads', '2.0', [1, 4, 7, 10]],
    ['size', ' 640x360', [1, 3, 5, 7, 9, 11]],
    ['window', 'TRUE', [0, 2, 4, 6, 8, 10]],
    ['ratio', '1.0', [0, 2, 4, 6, 8, 10]],
  ];
  for (const [param, value, want] of spelled) assert.deepEqual(await fixedTo(param, value), want, `${param} fixed to '${value}'`);
});

test('a value the set does not have is refused, naming the values it has', async () => {
  for (const [param, value] of [
    ['loss', '1'],
    ['rate', '2M'],
    ['delay', '1s'],
    ['size', '1280x720'],
    ['window', 'yes'],
    ['note', 'its'],
    ['threads', '1.5'],
    ['mode', "fast' OR 1=1 --"],
  ] as const) {
    await assert.rejects(fixedTo(param, value), (e: unknown) => e instanceof ApiFailure && e.status === 400 && e.message.includes(`${param} has no value '${value}' here (it has `), `${param}=${value}`);
  }
});

/** Student t's 95 % interval of a mean of point means from the points' runs, on the log scale or not: the test's own arithmetic. */
function expected(points: number[][], log: boolean): [number, number] {
  const k = points.length;
  const stats = points.map((ys) => {
    const m = ys.reduce((a, b) => a + b, 0) / ys.length;
    return { m, s2n: ys.reduce((a, y) => a + (y - m) ** 2, 0) / (ys.length - 1) / ys.length, n: ys.length };
  });
  const mean = stats.reduce((a, q) => a + q.m, 0) / k;
  const varSum = stats.reduce((a, q) => a + q.s2n, 0);
  const df = varSum ** 2 / stats.reduce((a, q) => a + q.s2n ** 2 / (q.n - 1), 0);
  const se = Math.sqrt(varSum) / k;
  const t = tQuantile(0.975, df);
  return log ? [mean * Math.exp((-t * se) / mean), mean * Math.exp((t * se) / mean)] : [mean - t * se, mean + t * se];
}

const close = (a: unknown, b: number, what: string) => assert.ok(typeof a === 'number' && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${String(a)}, expected ${b}`);

test('the interval of a metric that cannot be negative is on the log scale and stays above zero with 2 runs; the legend says so', async () => {
  // One point per group (every other parameter fixed by idx as x): its two runs, 43 + i and 51.7 + i ms.
  const r = (await call(sets, '/api/matrix', { metric: 'spread', x: 'idx', kind: 'line', agg: 'mean' })) as MatrixResponse;
  for (let i = 0; i < POINTS; i++) {
    assert.ok((r.columns['lo']![i] as number) > 0, `idx ${i}: the interval reaches ${String(r.columns['lo']![i])}`);
    const [lo, hi] = expected([[43 + i, 51.7 + i]], true);
    close(r.columns['lo']![i], lo, `lower end at idx ${i}`);
    close(r.columns['hi']![i], hi, `upper end at idx ${i}`);
  }
  assert.equal(r.interval, "each value: mean of the point means (each point's mean over its repetitions); error bars: 95 % CI of the mean over repetitions, on the log scale (Student t, Welch-Satterthwaite df)");
  assert.deepEqual(r.intervals, { scale: 'log', groups: POINTS, of: POINTS });
  // Several points per group (threads = 1: idx 0, 3, 6, 9): Welch-Satterthwaite over them, still on the log scale.
  const g = (await call(sets, '/api/matrix', { metric: 'spread', x: 'threads', kind: 'line', agg: 'mean' })) as MatrixResponse;
  const [lo, hi] = expected(
    [0, 3, 6, 9].map((i) => [43 + i, 51.7 + i]),
    true,
  );
  close(g.columns['lo']![0], lo, 'threads=1 lower end');
  close(g.columns['hi']![0], hi, 'threads=1 upper end');
});

test('a metric that can be negative (a value below zero, or no unit) keeps the t-interval, and the legend does not say log', async () => {
  for (const [metric, runs] of [
    ['offset', (i: number) => [i - 5.5, i - 4.5]],
    ['bare', (i: number) => [16 + i, 24 + i]],
  ] as const) {
    const r = (await call(sets, '/api/matrix', { metric, x: 'idx', kind: 'scatter', agg: 'mean' })) as MatrixResponse;
    assert.equal(r.intervals?.scale, 'linear', metric);
    assert.doesNotMatch(r.interval, /log/, metric);
    assert.match(r.interval, /error bars: 95 % CI of the mean over repetitions \(Student t/, metric);
    const [lo, hi] = expected([runs(0)], false);
    close(r.columns['lo']![0], lo, `${metric} lower end`);
    close(r.columns['hi']![0], hi, `${metric} upper end`);
  }
});

test('the legend claims intervals only where the plot has them: none with single runs, none drawn on bars, none for a median', async () => {
  const ask = async (q: Record<string, string>) => (await call(sets, '/api/matrix', { x: 'threads', ...q })) as MatrixResponse;
  // A single run per point: no interval anywhere, and the legend says nothing of intervals.
  const single = await ask({ metric: 'single', kind: 'line', agg: 'mean' });
  assert.ok(single.columns['lo']!.every((v) => v === null));
  assert.equal(single.interval, "each value: mean of the point means (each point's mean over its repetitions)");
  assert.deepEqual(single.intervals, { scale: 'log', groups: 0, of: 3 });
  // Bars: the intervals exist (in the tooltip) but no error bar is drawn: the legend says where they are.
  const bar = await ask({ metric: 'y', kind: 'bar', agg: 'mean' });
  assert.ok(bar.columns['lo']!.every((v) => typeof v === 'number'));
  assert.doesNotMatch(bar.interval, /error bars/);
  assert.match(bar.interval, /^each bar: mean of the point means .*; the tooltip gives its 95 % CI of the mean over repetitions, on the log scale/);
  // A median of points has no interval, and the legend says what the value is, nothing more.
  const median = await ask({ metric: 'y', kind: 'line', agg: 'median' });
  assert.ok(median.columns['lo']!.every((v) => v === null));
  assert.equal(median.intervals, undefined);
  assert.equal(median.interval, "each value: median of the point means (each point's mean over its repetitions)");
});

test("each group says how many values of each aggregated parameter it combines: the group's, not the catalogue's", async () => {
  // mode fixed to fast (even idx); x threads (idx % 3): threads=1 holds idx 0 and 6, where loss (idx % 3) has
  // one value of the three the set has, size (idx % 2) one of two, note one of two, rate one of three.
  const r = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean', 'c.mode': 'v:fast' })) as MatrixResponse;
  assert.deepEqual(r.columns['x'], [1, 2, 3]);
  assert.deepEqual(r.columns['points'], [2, 2, 2]);
  assert.deepEqual(r.columns['runs'], [4, 4, 4]);
  for (const p of ['loss', 'rate', 'delay', 'size', 'window', 'note', 'file', 'ratio', 'cache']) assert.deepEqual(r.columns[`values:${p}`], [1, 1, 1], p);
  // idx aggregated too: each group of threads holds two of its values.
  assert.deepEqual(r.columns['values:idx'], [2, 2, 2]);
  assert.ok(r.aggregated.includes('loss') && !r.aggregated.includes('mode') && !r.aggregated.includes('threads'), r.aggregated.join(', '));
  // Nothing fixed: threads=1 holds idx 0, 3, 6, 9: two values of size (idx % 2), one of loss.
  const all = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'box', agg: 'mean' })) as MatrixResponse;
  assert.deepEqual(all.columns['values:size'], [2, 2, 2]);
  assert.deepEqual(all.columns['values:loss'], [1, 1, 1]);
  assert.deepEqual(all.columns['values:idx'], [4, 4, 4]);
});

/** A set whose points have one parameter `g` and the metric `y` as given, one run each. */
function writeValues(name: string, rows: { g: string; y: number }[]): string {
  const dir = join(tmp, name);
  const set = ResultSet.openOrCreate(dir, name);
  set.index().close();
  const g = decl('g', 'enum', { values: ['a', 'b'] });
  rows.forEach((row, i) => {
    const key = `k${String(i).padStart(3, '0')}`;
    const w = set.beginPoint(key, 1);
    w.commit({
      key,
      rep: 1,
      index: i,
      params: { g: row.g, idx: i },
      typed: { g: typeValue(g, row.g), idx: i },
      declared: { params: { g: { ...g, source: 'file' }, idx: { ...decl('idx', 'integer'), source: 'file' } }, metrics: METRICS },
      outcome: { status: 'ok' },
      attempts: 1,
      workload: 'command',
      benchmark: { name, sha256: 'e'.repeat(64) },
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:01.000Z',
      wallS: 1,
      metrics: { y: row.y },
      flags: [],
    });
  });
  return dir;
}

test('box: whiskers at the last values within 1.5 IQR of the quartiles (Tukey), the values beyond listed as outliers with their runs', async () => {
  // a: 1..8 and 40 (far above: an outlier); b: 1..8 (none). Quartiles of a by linear interpolation
  // (quantile_cont, R's type 7): q1 = 3, q3 = 7, IQR 4, fences -3 and 13: whiskers 1 and 8, 40 beyond.
  const a = [1, 2, 3, 4, 5, 6, 7, 8, 40];
  const b = [1, 2, 3, 4, 5, 6, 7, 8];
  const box = new LoadedSets([ResultSet.open(writeValues('box', [...a.map((y) => ({ g: 'a', y })), ...b.map((y) => ({ g: 'b', y }))]))]);
  try {
    const r = (await call(box, '/api/matrix', { metric: 'y', x: 'g', kind: 'box', agg: 'mean' })) as MatrixResponse;
    assert.deepEqual(r.columns['x'], ['a', 'b']);
    assert.deepEqual(r.columns['q1'], [3, 2.75]);
    assert.deepEqual(r.columns['q3'], [7, 6.25]);
    assert.deepEqual(r.columns['wlo'], [1, 1]);
    assert.deepEqual(r.columns['whi'], [8, 8]);
    assert.deepEqual(r.columns['max'], [40, 8], 'the range still reaches the outlier');
    assert.deepEqual(r.columns['outliers'], [1, 0]);
    assert.equal(r.outliers?.length, 1);
    const o = r.outliers[0]!;
    assert.equal(o.value, 40);
    assert.equal(o.xlabel, 'a');
    assert.equal(o.key, 'k008', 'the run of the outlier, to open it');
    assert.match(r.interval, /Tukey/);
  } finally {
    await box.close();
  }
});

test('the stage stack needs no indicator: without one, or with one the sets lack, it says what it needs', async () => {
  for (const q of [{}, { metric: 'no-such-metric' }] as Record<string, string>[]) {
    await assert.rejects(
      () => call(sets, '/api/matrix', { ...q, x: 'threads', kind: 'stack' }),
      (e: unknown) => e instanceof ApiFailure && e.status === 400 && /the stage stack needs the stage\.<s>\.p50 metrics/.test(e.message),
    );
  }
});

test("a subset of a parameter's values (c.<p>=in:A,B): the plot keeps those values of x, or aggregates over those only", async () => {
  const all = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean' })) as MatrixResponse;
  const some = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean', 'c.threads': 'in:1,3' })) as MatrixResponse;
  assert.deepEqual(all.columns['x'], [1, 2, 3]);
  assert.deepEqual(some.columns['x'], [1, 3]);
  assert.deepEqual(some.columns['value'], [all.columns['value']![0], all.columns['value']![2]]);
  // Of an aggregated parameter: threads=1 holds idx 0, 3, 6, 9, of which loss (idx % 3) is 0 for all:
  // keeping loss 0 and 2 leaves threads=2 (idx 1, 4, 7, 10: loss 0.5) nothing.
  const loss = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean', 'c.loss': 'in:0,2' })) as MatrixResponse;
  assert.deepEqual(loss.columns['x'], [1, 3]);
  // A frame size and a text with a comma, URI-encoded.
  const size = (await call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean', 'c.size': `in:${encodeURIComponent('320x180')}` })) as MatrixResponse;
  assert.ok(
    size.columns['points']!.every((n) => n === 2),
    JSON.stringify(size.columns['points']),
  );
  await assert.rejects(
    () => call(sets, '/api/matrix', { metric: 'y', x: 'threads', kind: 'line', agg: 'mean', 'c.threads': 'in:1,7' }),
    (e: unknown) => e instanceof ApiFailure && e.status === 400 && /threads has no value '7'/.test(e.message),
  );
});
