/**
 * A report's findings, computed once (the report's page and `report --json` show the same list):
 * for each headline metric and each parameter that varies, how much the metric moves with it (the
 * difference of its marginal means), with a 95 % interval and, where the set has repetitions, a
 * type-II F test per parameter of a main-effects linear model on the runs, Holm-adjusted over
 * every test of the report (parameters x headline metrics). Parameters whose values map one to one
 * over the ok runs (a benchmark's `link:` groups: network, net_rate, net_delay) cannot be told
 * apart by any data: they are one factor, named `network = net_rate = net_delay`, and tested once.
 *
 * Pure: the server (src/server/report.ts) reads the runs and hands them here.
 */
import { ols } from './ols.ts';
import { fUpperP, holm, tQuantile } from './stats.ts';

/** A parameter's value in a run, as the points table holds it. */
export type FindingCell = string | number | boolean | null;

/** A parameter that varies. `numeric`: its values are ordered (a rate, a frame size by its pixels); `order` gives a level's place where its value is not itself a number. */
export interface FindingParam {
  name: string;
  unit: string | null;
  numeric: boolean;
  /** By the value as text (String(value)): the number it sorts by (a frame size's pixels). */
  order?: Readonly<Record<string, number>>;
}

/** A headline metric. */
export interface FindingMetric {
  name: string;
  unit: string | null;
  better: 'higher' | 'lower' | 'none';
}

/** One ok run: its point (unique over the sets: set and point key), its parameters, its metrics. */
export interface FindingRun {
  point: string;
  params: Readonly<Record<string, FindingCell>>;
  values: Readonly<Record<string, number | null>>;
}

/** One metric against one parameter (or one group of linked parameters). */
export interface Finding {
  metric: string;
  /** The metric's unit (the effect's and the interval's). */
  unit: string | null;
  /** The factor's name: a parameter, or a linked group `a = b = c`. */
  parameter: string;
  /** The parameters of the factor (one, or the linked group's). */
  params: string[];
  /** Numeric: effect = mean at the highest tested value minus at the lowest (its sign the direction); categorical: largest minus smallest marginal mean. */
  numeric: boolean;
  /** The parameter whose values `from` and `to` are (the factor's first numeric one, else its first). */
  level_param: string;
  /** The two levels compared (level_param's values): lowest and highest value, or smallest- and largest-mean category. */
  from: FindingCell;
  to: FindingCell;
  /** Marginal means (mean over the points at that level of the point means) at `from` and `to`. */
  from_mean: number;
  to_mean: number;
  effect: number;
  /** effect as a percentage of |from_mean| (null when from_mean is 0). */
  effect_pct: number | null;
  /** 95 % interval of the effect from the model's residual variance (Student t at its residual df); null without repetitions. */
  ci: [number, number] | null;
  /** Holm-adjusted p-value of the factor's type-II F test; null without repetitions (or when it cannot be tested). */
  p: number | null;
  /** The unadjusted p-value, F and its degrees of freedom. */
  p_raw: number | null;
  F: number | null;
  df: [number, number] | null;
  /** p < alpha after Holm; null when untested. */
  significant: boolean | null;
  /** Points behind from_mean and to_mean, and the runs of the metric in the model. */
  points: [number, number];
  runs: number;
}

/** The best or worst point of a metric by its direction. */
export interface FindingExtreme {
  /** Each varying parameter's value at that point. */
  setting: Record<string, FindingCell>;
  /** The point's mean over its runs, and how many runs. */
  mean: number;
  runs: number;
}

/** Best and worst setting of a metric that has a direction. */
export interface MetricExtremes {
  metric: string;
  unit: string | null;
  better: 'higher' | 'lower';
  best: FindingExtreme;
  worst: FindingExtreme;
}

/** What `findings` returns: the list and its header. */
export interface Findings {
  /** Whether some point has two or more ok runs: without, no test is made and nothing is claimed. */
  repetitions: boolean;
  /** The test, in words (null without repetitions). */
  test: string | null;
  /** The multiple-comparison family: how many tests, corrected how, over what; alpha. */
  family: { tests: number; correction: 'holm'; over: string; alpha: number };
  /** Confounded parameters, each group reported as one factor. */
  groups: { name: string; params: string[] }[];
  /** The sets' validity flags, as the sets say them (conditions, flagged runs). */
  warnings: string[];
  /** What was not tested or not found, and why. */
  notes: string[];
  findings: Finding[];
  extremes: MetricExtremes[];
}

/** The level at which an adjusted p counts as significant. */
export const ALPHA = 0.05;

/** A factor of the model: one parameter, or linked ones that vary together. */
interface Factor {
  name: string;
  params: FindingParam[];
  numeric: boolean;
  /** The parameter that orders it (numeric) or names its levels. */
  lead: FindingParam;
}

const levelKey = (run: FindingRun, f: Factor): string => JSON.stringify(f.params.map((p) => run.params[p.name] ?? null));

/**
 * Groups of parameters whose values map one to one over the runs (each value of one goes with
 * exactly one of the other, both ways): the data cannot separate them. Each group in the order of
 * `params`; a parameter linked to none is a group of one.
 */
export function linkedGroups(params: readonly FindingParam[], runs: readonly FindingRun[]): FindingParam[][] {
  const distinct = (f: (r: FindingRun) => string) => new Set(runs.map(f)).size;
  const val = (r: FindingRun, p: FindingParam) => JSON.stringify(r.params[p.name] ?? null);
  const groupOf = params.map((_, i) => i);
  const find = (i: number): number => (groupOf[i] === i ? i : (groupOf[i] = find(groupOf[i]!)));
  for (let i = 0; i < params.length; i++) {
    const ni = distinct((r) => val(r, params[i]!));
    for (let j = i + 1; j < params.length; j++) {
      const nj = distinct((r) => val(r, params[j]!));
      // One to one: as many distinct pairs as values of either.
      if (ni === nj && distinct((r) => `${val(r, params[i]!)}\u0000${val(r, params[j]!)}`) === ni) groupOf[find(j)] = find(i);
    }
  }
  const groups = new Map<number, FindingParam[]>();
  params.forEach((p, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), p]));
  return [...groups.values()];
}

/** The number a level of a numeric factor sorts by (its lead's value, or its `order`). */
function levelOrder(f: Factor, run: FindingRun): number {
  const v = run.params[f.lead.name] ?? null;
  return f.lead.order?.[String(v)] ?? (typeof v === 'number' ? v : NaN);
}

/** Treatment-coded design: an intercept, then one 0/1 column per level but the first of each factor. */
function design(runs: readonly FindingRun[], factors: readonly Factor[]): number[][] {
  const levels = factors.map((f) => [...new Set(runs.map((r) => levelKey(r, f)))].slice(1));
  return runs.map((r) => [1, ...factors.flatMap((f, k) => levels[k]!.map((l) => (levelKey(r, f) === l ? 1 : 0)))]);
}

const rssOf = (fit: ReturnType<typeof ols>) => fit.residuals.reduce((s, e) => s + e * e, 0);

interface Test {
  F: number;
  df1: number;
  df2: number;
  p: number;
}

/** Type-II F test of each factor of a main-effects model: SS = RSS(without it) - RSS(full), F = (SS/df) / (RSS_full/df_res). */
function typeTwoTests(runs: readonly FindingRun[], factors: readonly Factor[], y: readonly number[]): { tests: (Test | null)[]; sigma2: number; dfRes: number } {
  const X = design(runs, factors);
  const full = ols(X, [...y]);
  const rssFull = rssOf(full);
  const dfRes = full.df;
  const tests = factors.map((_, k): Test | null => {
    if (!(dfRes > 0)) return null;
    const reduced = ols(design(runs, [...factors.slice(0, k), ...factors.slice(k + 1)]), [...y]);
    // The factor's degrees of freedom: the rank it adds beyond the others (0 when they already span it).
    const df1 = full.kept.length - reduced.kept.length;
    if (df1 <= 0) return null;
    const ss = Math.max(0, rssOf(reduced) - rssFull);
    const F = rssFull > 0 ? ss / df1 / (rssFull / dfRes) : ss > 0 ? Infinity : NaN;
    return Number.isNaN(F) ? null : { F, df1, df2: dfRes, p: fUpperP(F, df1, dfRes) };
  });
  return { tests, sigma2: dfRes > 0 ? rssFull / dfRes : NaN, dfRes };
}

/**
 * The findings of a report: each headline metric against each varying parameter (linked ones as
 * one factor). `warnings` are the sets' own validity lines, passed through unchanged.
 */
export function findings(input: { params: readonly FindingParam[]; metrics: readonly FindingMetric[]; runs: readonly FindingRun[]; warnings: readonly string[] }): Findings {
  const { metrics, runs } = input;
  const notes: string[] = [];
  // Parameters that take more than one value over the ok runs; linked ones merged.
  const varying = input.params.filter((p) => new Set(runs.map((r) => JSON.stringify(r.params[p.name] ?? null))).size > 1);
  const groups = linkedGroups(varying, runs);
  const factors: Factor[] = groups.map((g) => {
    const lead = g.find((p) => p.numeric) ?? g[0]!;
    return { name: g.map((p) => p.name).join(' = '), params: g, numeric: lead.numeric, lead };
  });
  const runsPerPoint = new Map<string, number>();
  for (const r of runs) runsPerPoint.set(r.point, (runsPerPoint.get(r.point) ?? 0) + 1);
  const repetitions = [...runsPerPoint.values()].some((n) => n >= 2);
  if (!repetitions) notes.push('no repetitions (every point ran once): effects are shown, none is tested or claimed significant');

  const out: Finding[] = [];
  /** Metrics with one value in every run: listed, not tested. */
  const constants = new Set<string>();
  const extremes: MetricExtremes[] = [];
  for (const m of metrics) {
    const mine = runs.filter((r) => typeof r.values[m.name] === 'number' && Number.isFinite(r.values[m.name]));
    if (mine.length === 0) {
      notes.push(`${m.name}: no ok run has a value`);
      continue;
    }
    const y = mine.map((r) => r.values[m.name]!);
    // Point means (each point over its runs), and the runs behind each.
    const pts = new Map<string, { run: FindingRun; sum: number; n: number }>();
    mine.forEach((r, i) => {
      const p = pts.get(r.point) ?? { run: r, sum: 0, n: 0 };
      p.sum += y[i]!;
      p.n++;
      pts.set(r.point, p);
    });
    const points = [...pts.values()].map((p) => ({ run: p.run, mean: p.sum / p.n, n: p.n }));
    const own = factors.filter((f) => new Set(mine.map((r) => levelKey(r, f))).size > 1);
    for (const f of factors.filter((x) => !own.includes(x))) notes.push(`${m.name} by ${f.name}: the runs with a value have one setting of it`);
    // A metric that never moves has nothing to test (its F would be 0 / 0).
    const constant = y.every((v) => v === y[0]);
    if (constant) constants.add(m.name);
    if (constant) notes.push(`${m.name}: ${y[0]} in every ok run: no effect, nothing tested`);
    // A parameter some runs lack (one set's own, e.g. its codec, beside sets that have none) is
    // compared within the runs that have it: its "absent" is no level, and in a model of all runs
    // it would only repeat which set a run is from.
    const present = (r: FindingRun, f: Factor) => f.params.some((p) => (r.params[p.name] ?? null) !== null);
    const everywhere = own.filter((f) => mine.every((r) => present(r, f)));
    const modelOf = (rows: readonly FindingRun[], ys: readonly number[], fs: readonly Factor[]) => (repetitions && fs.length > 0 && !constant ? typeTwoTests(rows, fs, ys) : null);
    const full = modelOf(mine, y, everywhere);
    if (full && !(full.dfRes > 0)) notes.push(`${m.name}: no residual degrees of freedom (as many settings as runs): not tested`);
    own.forEach((f) => {
      let model = full;
      let k = everywhere.indexOf(f);
      let within = points;
      if (k < 0) {
        const idx = mine.map((r, i) => (present(r, f) ? i : -1)).filter((i) => i >= 0);
        const rows = idx.map((i) => mine[i]!);
        const fs = own.filter((g) => rows.every((r) => present(r, g)) && new Set(rows.map((r) => levelKey(r, g))).size > 1);
        model = modelOf(
          rows,
          idx.map((i) => y[i]!),
          fs,
        );
        k = fs.indexOf(f);
        within = points.filter((p) => present(p.run, f));
        notes.push(`${m.name} by ${f.name}: only ${rows.length} of ${mine.length} runs have it (the sets that vary it): compared within those`);
      }
      // Marginal means: per level, the mean of its points' means.
      const byLevel = new Map<string, { value: FindingCell; order: number; means: number[]; inv: number }>();
      for (const p of within) {
        const key = levelKey(p.run, f);
        const l = byLevel.get(key) ?? { value: p.run.params[f.lead.name] ?? null, order: levelOrder(f, p.run), means: [], inv: 0 };
        l.means.push(p.mean);
        l.inv += 1 / p.n;
        byLevel.set(key, l);
      }
      const levels = [...byLevel.values()].map((l) => ({ ...l, mean: l.means.reduce((a, b) => a + b, 0) / l.means.length }));
      const sorted = f.numeric ? [...levels].sort((a, b) => a.order - b.order) : [...levels].sort((a, b) => a.mean - b.mean);
      const lo = sorted[0]!;
      const hi = sorted.at(-1)!;
      const effect = hi.mean - lo.mean;
      const test = k >= 0 ? (model?.tests[k] ?? null) : null;
      let ci: [number, number] | null = null;
      if (model && model.dfRes > 0) {
        // Var(mean of k point means) = sigma2 / k^2 x sum(1 / runs of each point); the two levels share no point.
        const se = Math.sqrt(model.sigma2 * (lo.inv / lo.means.length ** 2 + hi.inv / hi.means.length ** 2));
        const t = tQuantile(0.975, model.dfRes);
        ci = [effect - t * se, effect + t * se];
      }
      out.push({
        metric: m.name,
        unit: m.unit,
        parameter: f.name,
        params: f.params.map((p) => p.name),
        numeric: f.numeric,
        level_param: f.lead.name,
        from: lo.value,
        to: hi.value,
        from_mean: lo.mean,
        to_mean: hi.mean,
        effect,
        effect_pct: lo.mean !== 0 ? (effect / Math.abs(lo.mean)) * 100 : null,
        ci,
        p: null,
        p_raw: test ? test.p : null,
        F: test ? test.F : null,
        df: test ? [test.df1, test.df2] : null,
        significant: null,
        points: [lo.means.length, hi.means.length],
        runs: mine.length,
      });
    });
    if (m.better !== 'none' && !constant) {
      const sign = m.better === 'higher' ? 1 : -1;
      const ranked = [...points].sort((a, b) => sign * (b.mean - a.mean));
      // A parameter the point's set lacks is no part of its setting.
      const ext = (p: (typeof points)[number]): FindingExtreme => ({ setting: Object.fromEntries(varying.filter((v) => (p.run.params[v.name] ?? null) !== null).map((v) => [v.name, p.run.params[v.name]!])), mean: p.mean, runs: p.n });
      extremes.push({ metric: m.name, unit: m.unit, better: m.better, best: ext(ranked[0]!), worst: ext(ranked.at(-1)!) });
    }
  }
  // Holm over every test made: parameters x headline metrics.
  const tested = out.filter((f) => f.p_raw !== null);
  const adjusted = holm(tested.map((f) => f.p_raw!));
  tested.forEach((f, i) => {
    f.p = adjusted[i]!;
    f.significant = adjusted[i]! < ALPHA;
  });
  const untested = out.length - tested.length;
  const otherwise = out.filter((f) => f.p_raw === null && !constants.has(f.metric)).length;
  if (repetitions && otherwise > 0) notes.push(`${otherwise} of ${out.length} effects could not be tested (a factor the others already determine, or no residual degrees of freedom)`);
  for (const g of groups.filter((x) => x.length > 1)) notes.push(`${g.map((p) => p.name).join(', ')} vary together (one value of each always goes with the same value of the others): one factor, not separable`);
  return {
    repetitions,
    test: repetitions ? `type-II F test of each parameter in a linear model of the runs with every varying parameter as a categorical factor (main effects), Holm-adjusted over the family; 95 % intervals from the model's residual variance` : null,
    family: { tests: tested.length, correction: 'holm', over: `${factors.length} parameter(s) x ${metrics.length} headline metric(s)${untested > 0 && repetitions ? `, less ${untested} untested` : ''}`, alpha: ALPHA },
    groups: groups.filter((g) => g.length > 1).map((g) => ({ name: g.map((p) => p.name).join(' = '), params: g.map((p) => p.name) })),
    warnings: [...input.warnings],
    notes,
    findings: out,
    extremes,
  };
}
