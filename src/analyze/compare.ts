// Between two result sets (before/after a change): which differences are real.
//
// Runs are matched by their parameter values (not by point key, which also covers workload
// details). Per matched point and metric: the change of the mean, its 95 % interval and a test:
// - Welch's t test when both sides have two runs or more;
// - otherwise the pooled noise of the metric (the within-point variance of every point with
//   repetitions, in both sets) stands in for the missing spread: a t test with its degrees of
//   freedom. This assumes the noise is alike across points; with no repetitions anywhere, no test.
// p-values are corrected by Holm's step-down method over a family of tests: it bounds the chance of
// any false alarm in the family, which is what a CI gate needs, without assuming the tests are
// independent. The family is the gate's: every test of the metrics the --fail-on rules name (all
// points x those metrics), so that metrics shown beside the gate do not take its power; with no
// rule, every compared metric. The metrics no rule names are then a family of their own, corrected
// among themselves, and gate nothing.
import { InputError } from '../base/errors.ts';
import type { ParamInfo } from './dataset.ts';
import { holm, mean, tQuantile, tTwoSidedP, variance } from './stats.ts';

/** One run with several metrics. */
export interface CompareRow {
  key: string;
  rep: number;
  params: Record<string, number | string>;
  metrics: Record<string, number>;
}

/** A result set as compare reads it. */
export interface CompareSet {
  params: ParamInfo[];
  rows: CompareRow[];
  source?: string;
}

/** A threshold rule such as `latency.p95>+5%`: fail when the change is real and beyond it. */
export interface Rule {
  text: string;
  metric: string;
  op: '>' | '<';
  value: number;
  relative: boolean;
}

/** Options of compare. */
export interface CompareOptions {
  /** Metrics to compare (default: every metric both sets have). */
  metrics?: string[];
  /** Threshold rules (`METRIC>+5%`, `METRIC<-10%`, `METRIC>+3` in the metric's unit). */
  failOn?: string[];
  /** Level of the corrected test (default 0.05). */
  alpha?: number;
}

/** The change of one metric at one matched point. */
export interface Change {
  params: Record<string, number | string>;
  metric: string;
  base: { mean: number; n: number };
  new: { mean: number; n: number };
  change: number;
  /** change / |base mean| (NaN when the base mean is 0). */
  relative: number;
  ci: [number, number];
  test: 'welch' | 'pooled' | 'none';
  df: number;
  p: number;
  /** Holm-adjusted p, within its family. */
  pAdj: number;
  real: boolean;
  /** The family it was corrected in: 'gated' (the metrics the rules name, or every metric without rules) or 'other'. */
  family: 'gated' | 'other';
}

/** A rule broken at a point. */
export interface Failure {
  rule: string;
  params: Record<string, number | string>;
  metric: string;
  change: number;
  relative: number;
}

/** What compare found. */
export interface CompareResult {
  correction: 'holm';
  /**
   * The correction family: the metrics the --fail-on rules name (`by: 'fail-on'`), or every
   * compared metric when no rule names any (`by: 'compared'`); `tests` counts its comparisons.
   */
  family: { metrics: string[]; tests: number; by: 'fail-on' | 'compared' };
  /** With rules: the other compared metrics, corrected as a family of their own (gating nothing). */
  others?: { metrics: string[]; tests: number };
  alpha: number;
  matched: number;
  onlyBase: Record<string, number | string>[];
  onlyNew: Record<string, number | string>[];
  changes: Change[];
  failures: Failure[];
  fail: boolean;
  notes: string[];
}

const RULE = /^\s*([A-Za-z0-9_.:/-]+)\s*([<>])\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(%?)\s*$/i;

/** Parses a threshold rule; a malformed one is an InputError that shows the expected form. */
export function parseRule(text: string): Rule {
  const m = RULE.exec(text);
  if (!m) throw InputError.single('--fail-on', `"${text}" is not a rule: expected METRIC>+N% or METRIC<-N%, e.g. latency.p95>+5% (or without % in the metric's unit)`);
  const relative = m[4] === '%';
  const n = Number(m[3]);
  return { text, metric: m[1]!, op: m[2] as '>' | '<', value: relative ? n / 100 : n, relative };
}

function matchKey(params: Record<string, number | string>, names: readonly string[]): string {
  return JSON.stringify(names.map((n) => params[n] ?? null));
}

interface Group {
  params: Record<string, number | string>;
  rows: CompareRow[];
}

function groups(set: CompareSet, names: readonly string[]): Map<string, Group> {
  const out = new Map<string, Group>();
  for (const r of set.rows) {
    const k = matchKey(r.params, names);
    let g = out.get(k);
    if (!g) out.set(k, (g = { params: r.params, rows: [] }));
    g.rows.push(r);
  }
  return out;
}

function values(g: Group, metric: string): number[] {
  return g.rows.map((r) => r.metrics[metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** Compares two sets point by point; `fail` is true when a rule is broken by a real change. */
export function compare(base: CompareSet, next: CompareSet, opts: CompareOptions = {}): CompareResult {
  const alpha = opts.alpha ?? 0.05;
  const names = [...new Set([...base.params, ...next.params].map((p) => p.name))].sort();
  const gb = groups(base, names);
  const gn = groups(next, names);
  const metricsOf = (s: CompareSet) => new Set(s.rows.flatMap((r) => Object.keys(r.metrics)));
  const mb = metricsOf(base);
  const mn = metricsOf(next);
  const common = [...mb].filter((m) => mn.has(m)).sort();
  const metrics = opts.metrics ?? common;
  for (const m of metrics) {
    if (!mb.has(m) || !mn.has(m)) throw InputError.single('--metric', `${m} is not a metric of both sets`, `metrics of both: ${common.join(', ') || 'none'}`);
  }
  const rules = (opts.failOn ?? []).map(parseRule);
  for (const r of rules) if (!metrics.includes(r.metric)) throw InputError.single('--fail-on', `"${r.text}": ${r.metric} is not among the compared metrics`, `compared: ${metrics.join(', ')}`);

  const notes: string[] = [];
  const matched = [...gb.keys()].filter((k) => gn.has(k));
  const onlyBase = [...gb.keys()].filter((k) => !gn.has(k)).map((k) => gb.get(k)!.params);
  const onlyNew = [...gn.keys()].filter((k) => !gb.has(k)).map((k) => gn.get(k)!.params);

  const changes: Change[] = [];
  for (const metric of metrics) {
    let ss = 0;
    let df = 0;
    for (const g of [...gb.values(), ...gn.values()]) {
      const v = values(g, metric);
      if (v.length >= 2) {
        ss += variance(v) * (v.length - 1);
        df += v.length - 1;
      }
    }
    const pooled = df > 0 ? ss / df : NaN;
    let pooledUsed = false;
    for (const k of matched) {
      const a = values(gb.get(k)!, metric);
      const b = values(gn.get(k)!, metric);
      if (a.length === 0 || b.length === 0) continue;
      const ma = mean(a);
      const mbv = mean(b);
      const change = mbv - ma;
      let se: number;
      let dfT: number;
      let test: Change['test'];
      if (a.length >= 2 && b.length >= 2) {
        const va = variance(a) / a.length;
        const vb = variance(b) / b.length;
        se = Math.sqrt(va + vb);
        dfT = va + vb > 0 ? (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1)) : a.length + b.length - 2;
        test = 'welch';
      } else if (df > 0) {
        se = Math.sqrt(pooled * (1 / a.length + 1 / b.length));
        dfT = df;
        test = 'pooled';
        pooledUsed = true;
      } else {
        se = NaN;
        dfT = NaN;
        test = 'none';
      }
      const p = test === 'none' ? NaN : se > 0 ? tTwoSidedP(change / se, dfT) : change === 0 ? 1 : 0;
      const tq = tQuantile(0.975, dfT);
      changes.push({
        params: gb.get(k)!.params,
        metric,
        base: { mean: ma, n: a.length },
        new: { mean: mbv, n: b.length },
        change,
        relative: ma !== 0 ? change / Math.abs(ma) : NaN,
        ci: [change - tq * se, change + tq * se],
        test,
        df: dfT,
        p,
        pAdj: NaN,
        real: false,
        family: 'gated',
      });
    }
    if (pooledUsed) notes.push(`${metric}: points with one run on a side were tested against the pooled noise of the metric (${df} df)`);
    if (df === 0) notes.push(`${metric}: no repetitions in either set: no test, no change can be called real`);
  }
  // The gate's family: the metrics the rules name; every compared metric when there is no rule.
  const gatedMetrics = rules.length > 0 ? metrics.filter((m) => rules.some((r) => r.metric === m)) : [...metrics];
  const otherMetrics = metrics.filter((m) => !gatedMetrics.includes(m));
  const correct = (cs: Change[], family: Change['family']) => {
    const adj = holm(cs.map((c) => c.p));
    cs.forEach((c, i) => {
      c.pAdj = adj[i]!;
      c.real = c.pAdj < alpha;
      c.family = family;
    });
    return cs.length;
  };
  const gatedTests = correct(
    changes.filter((c) => gatedMetrics.includes(c.metric)),
    'gated',
  );
  const otherTests = correct(
    changes.filter((c) => !gatedMetrics.includes(c.metric)),
    'other',
  );
  const failures: Failure[] = [];
  for (const r of rules) {
    for (const c of changes) {
      if (c.metric !== r.metric || !c.real) continue;
      const x = r.relative ? c.relative : c.change;
      if (r.op === '>' ? x > r.value : x < r.value) failures.push({ rule: r.text, params: c.params, metric: c.metric, change: c.change, relative: c.relative });
    }
  }
  return {
    correction: 'holm',
    family: { metrics: gatedMetrics, tests: gatedTests, by: rules.length > 0 ? 'fail-on' : 'compared' },
    ...(rules.length > 0 ? { others: { metrics: otherMetrics, tests: otherTests } } : {}),
    alpha,
    matched: matched.length,
    onlyBase,
    onlyNew,
    changes,
    failures,
    fail: failures.length > 0,
    notes,
  };
}
