// The best settings for one or more objectives under constraints, among the measured points and a
// grid over the measured ranges (predicted by the fitted models, with their intervals).
import { InputError } from '../base/errors.ts';
import { predict, type FitByResult, type FitResult, type PointResidual } from './fit.ts';

/** A constraint on a metric (as measured, else predicted) or on a parameter. */
export interface Constraint {
  metric?: string;
  param?: string;
  op: '<' | '<=' | '>' | '>=' | '=' | '!=';
  value: number | string;
}

/** Options of recommend. */
export interface RecommendOptions {
  maximize?: string[];
  minimize?: string[];
  where?: Constraint[];
  /** How many settings to return for one objective, or closest ones (default 5). */
  top?: number;
  /** Most grid settings to predict (default 20000): midpoints are left out past it. */
  gridMax?: number;
}

/** A metric at a candidate setting. */
export interface CandidateMetric {
  value: number;
  pi: [number, number];
  /** The measured mean, for a measured point. */
  measured?: number;
}

/** A setting with its figures. */
export interface Candidate {
  params: Record<string, number | string>;
  source: 'measured' | 'grid';
  metrics: Record<string, CandidateMetric>;
  /** Parameters or physics quantities outside the fitted ranges. */
  outside: string[];
  /** The constraints it breaks, and by how much in all (relative distances). */
  violations: string[];
  violation: number;
}

/** The answer: the best settings (one objective) or the Pareto front, or the closest ones when none fits. */
export interface RecommendResult {
  objectives: { metric: string; sense: 'maximize' | 'minimize' }[];
  fits: boolean;
  best: Candidate[];
  closest: Candidate[];
  considered: number;
}

type Model = FitResult | FitByResult;

function measuredPoints(m: Model): PointResidual[] {
  return 'levels' in m ? m.levels.flatMap((l) => l.residuals) : m.residuals;
}

/** The parameters of a frame size (its pixel count, width, height: ParamInfo.role) in these models. */
function frameParams(models: readonly Model[]): Set<string> {
  const fits = models.flatMap((m) => ('levels' in m ? m.levels : [m]));
  return new Set(fits.flatMap((f) => f.model.params.filter((p) => p.role === 'pixels' || p.role === 'width' || p.role === 'height').map((p) => p.name)));
}

/** Grid values: the measured ones, with midpoints between neighbours of a number (rounded when all are integers). */
function gridValues(vs: (number | string)[], midpoints: boolean): (number | string)[] {
  if (!midpoints || !vs.every((v) => typeof v === 'number')) return vs;
  const sorted = [...vs].sort((a, b) => a - b);
  const ints = sorted.every(Number.isInteger);
  const out = new Set<number>(sorted);
  for (let i = 1; i < sorted.length; i++) {
    const mid = (sorted[i - 1]! + sorted[i]!) / 2;
    out.add(ints ? Math.round(mid) : mid);
  }
  return [...out].sort((a, b) => a - b);
}

function grid(points: Record<string, number | string>[], gridMax: number, frames: ReadonlySet<string>): Record<string, number | string>[] {
  const names = [...new Set(points.flatMap((p) => Object.keys(p)))].sort();
  // Width, height and pixels of a frame size travel together: only measured frame sizes are tried.
  const tied = names.filter((n) => frames.has(n));
  const free = names.filter((n) => !frames.has(n));
  const tiedCombos = [...new Map(points.map((p) => [JSON.stringify(tied.map((n) => p[n])), Object.fromEntries(tied.map((n) => [n, p[n]!]))])).values()];
  for (const midpoints of [true, false]) {
    const axes = free.map((n) => gridValues([...new Set(points.map((p) => p[n]!))], midpoints));
    const size = axes.reduce((s, a) => s * a.length, tiedCombos.length);
    if (size > gridMax) continue;
    let out: Record<string, number | string>[] = tiedCombos.map((c) => ({ ...c }));
    free.forEach((n, i) => (out = out.flatMap((p) => axes[i]!.map((v) => ({ ...p, [n]: v })))));
    return out;
  }
  return [];
}

function compareOp(x: number | string, op: Constraint['op'], v: number | string): boolean {
  switch (op) {
    case '<':
      return x < v;
    case '<=':
      return x <= v;
    case '>':
      return x > v;
    case '>=':
      return x >= v;
    case '=':
      return String(x) === String(v);
    case '!=':
      return String(x) !== String(v);
  }
}

function describe(c: Constraint): string {
  return `${c.metric ?? c.param}${c.op}${c.value}`;
}

/** The settings no other setting beats on every objective (larger is better for each score). */
export function paretoFront<T>(items: readonly T[], scores: (t: T) => number[]): T[] {
  const s = items.map(scores);
  return items.filter((_, i) => !s.some((o, j) => j !== i && o.every((v, k) => v >= s[i]![k]!) && o.some((v, k) => v > s[i]![k]!)));
}

/** Recommends settings: best for one objective, the Pareto front for several, or the closest when no setting fits. */
export function recommend(models: readonly Model[], opts: RecommendOptions): RecommendResult {
  const byMetric = new Map(models.map((m) => [m.metric, m]));
  const objectives = [...(opts.maximize ?? []).map((metric) => ({ metric, sense: 'maximize' as const })), ...(opts.minimize ?? []).map((metric) => ({ metric, sense: 'minimize' as const }))];
  if (objectives.length === 0) throw InputError.single('recommend', 'nothing to optimise: give --maximize or --minimize a metric');
  const known = [...byMetric.keys()].join(', ');
  for (const o of objectives) if (!byMetric.has(o.metric)) throw InputError.single('recommend', `no model of ${o.metric}`, `models: ${known}`);
  const where = opts.where ?? [];
  const measured = new Map<string, { params: Record<string, number | string>; y: Record<string, number> }>();
  for (const m of models) {
    for (const p of measuredPoints(m)) {
      const k = JSON.stringify(Object.entries(p.params).sort(([a], [b]) => a.localeCompare(b)));
      const e = measured.get(k) ?? { params: p.params, y: {} };
      e.y[m.metric] = p.y;
      measured.set(k, e);
    }
  }
  const paramNames = new Set([...measured.values()].flatMap((e) => Object.keys(e.params)));
  for (const c of where) {
    if ((c.metric === undefined) === (c.param === undefined)) throw InputError.single('--where', `${describe(c)}: a constraint names a metric or a parameter`);
    if (c.metric !== undefined && !byMetric.has(c.metric)) throw InputError.single('--where', `${describe(c)}: no model of ${c.metric}`, `models: ${known}`);
    if (c.param !== undefined && !paramNames.has(c.param)) throw InputError.single('--where', `${describe(c)}: no parameter ${c.param}`, `parameters: ${[...paramNames].join(', ')}`);
  }

  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const consider = (params: Record<string, number | string>, source: Candidate['source'], y: Record<string, number>) => {
    const k = JSON.stringify(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)));
    if (seen.has(k)) return;
    seen.add(k);
    const metrics: Record<string, CandidateMetric> = {};
    const outside = new Set<string>();
    for (const [name, m] of byMetric) {
      let p;
      try {
        p = predict(m, params);
      } catch (e) {
        // A setting one of the models cannot answer (e.g. a level of its --by without a model) is no candidate.
        if (e instanceof InputError) return;
        throw e;
      }
      p.outside.forEach((o) => outside.add(o.param));
      metrics[name] = { value: p.value, pi: p.pi, ...(y[name] !== undefined ? { measured: y[name] } : {}) };
    }
    const violations: string[] = [];
    let violation = 0;
    for (const c of where) {
      const x = c.metric !== undefined ? (metrics[c.metric]!.measured ?? metrics[c.metric]!.value) : params[c.param!]!;
      if (compareOp(x, c.op, c.value)) continue;
      violations.push(describe(c));
      violation += typeof x === 'number' && typeof c.value === 'number' ? Math.abs(x - c.value) / Math.max(Math.abs(c.value), 1e-12) : 1;
    }
    candidates.push({ params, source, metrics, outside: [...outside], violations, violation });
  };
  for (const e of measured.values()) consider(e.params, 'measured', e.y);
  for (const p of grid(
    [...measured.values()].map((e) => e.params),
    opts.gridMax ?? 20000,
    frameParams(models),
  ))
    consider(p, 'grid', {});

  const top = opts.top ?? 5;
  const score = (c: Candidate) =>
    objectives.map((o) => {
      const m = c.metrics[o.metric]!;
      const v = m.measured ?? m.value;
      return o.sense === 'maximize' ? v : -v;
    });
  const feasible = candidates.filter((c) => c.violations.length === 0);
  const order = (a: Candidate, b: Candidate) => score(b)[0]! - score(a)[0]!;
  const best = objectives.length === 1 ? [...feasible].sort(order).slice(0, top) : paretoFront(feasible, score).sort(order);
  const closest = feasible.length > 0 ? [] : [...candidates].sort((a, b) => a.violation - b.violation || order(a, b)).slice(0, top);
  return { objectives, fits: feasible.length > 0, best, closest, considered: candidates.length };
}
