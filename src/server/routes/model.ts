/**
 * The model view's routes: a metric's fitted formula, the impact of each parameter, residuals per
 * point, and what-if predictions. They call src/analyze/models.ts as `streambench model` does, on
 * the set read the same way (catalogue + typed points table), so a figure on screen equals the
 * CLI's `--json`. The set is named by one of the open sets' names, the metric checked against its
 * catalogue and each setting against its declarations before anything is computed.
 */
import type { FitResult } from '../../analyze/fit.ts';
import { userName } from '../../analyze/dataset.ts';
import { metricOf, openModelSource, runsNote, settingDecls, type ModelSource } from '../../analyze/load.ts';
import { displaySetting, fitMetric, impactOf, neededSettings, predictSetting } from '../../analyze/models.ts';
import type { ResultSet } from '../../store/resultset.ts';
import type { ModelPredictResponse, ModelResponse, ModelSetting } from '../api-types.ts';
import { ApiFailure, type Route, type RouteContext } from '../route.ts';
import type { LoadedSets } from '../sets.ts';

/** The prefix of a what-if setting in the query (`s.bitrate=2M`), so that no parameter name can take `set` or `metric`. */
const SETTING = 's.';

function wanted(ctx: RouteContext, name: string): string {
  const v = ctx.query.get(name);
  if (v === null || v === '') throw new ApiFailure(400, `missing the query parameter ${name}`);
  return v;
}

function setOf(ctx: RouteContext): ResultSet {
  const name = wanted(ctx, 'set');
  const set = ctx.sets.sets.find((s) => s.name === name);
  if (!set) throw new ApiFailure(404, `no open result set '${name.slice(0, 100)}' (open: ${ctx.sets.sets.map((s) => s.name).join(', ')})`);
  return set;
}

/** Sets read for the models, per server: read once per state of the sets (every metric), not per request. */
const sources = new WeakMap<LoadedSets, Map<string, Promise<ModelSource>>>();

/** Sources kept per server: a few sets, with and without flagged runs. */
const MAX_SOURCES = 8;

async function source(ctx: RouteContext): Promise<{ src: ModelSource; metric: string }> {
  const metric = wanted(ctx, 'metric');
  const set = setOf(ctx);
  // ?flagged=include keeps the runs recorded saturated, as `model --include-flagged` does.
  const flagged = ctx.query.get('flagged');
  if (flagged !== null && flagged !== 'include') throw new ApiFailure(400, `flagged '${flagged.slice(0, 40)}' is not 'include' (leave it out to leave flagged runs out)`);
  const includeFlagged = flagged === 'include';
  // The sets' state (a run adding points changes it): a source read for an older state is not used.
  const { version } = await ctx.sets.get();
  let cache = sources.get(ctx.sets);
  if (!cache) sources.set(ctx.sets, (cache = new Map<string, Promise<ModelSource>>()));
  const key = `${version}\u0000${set.name}\u0000${includeFlagged}`;
  let got = cache.get(key);
  if (!got) {
    got = openModelSource(set, undefined, { includeFlagged });
    cache.set(key, got);
    const c = cache;
    got.catch(() => c.delete(key));
    while (cache.size > MAX_SOURCES) cache.delete(cache.keys().next().value!);
  }
  const src = await got;
  // The metric checked against the set's catalogue (an InputError: 400 with the closest names).
  metricOf(src, metric);
  return { src, metric };
}

/**
 * The what-if settings of a request (`s.<param>=value`), each given once: a parameter set twice is
 * refused, as is a value its declaration refuses (predictSetting reads each as `run --set` does:
 * fps=-1 is outside fps's range of 1 to 240).
 */
function whatIf(ctx: RouteContext): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const [k, value] of ctx.query.entries()) {
    if (!k.startsWith(SETTING)) continue;
    const key = userName({ name: k.slice(SETTING.length) });
    if (out.some((s) => s.key === key)) throw new ApiFailure(400, `${key} is set more than once: give each setting once`);
    out.push({ key, value });
  }
  return out;
}

const setting = (p: Record<string, number | string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** The routes of the model view. */
export const routes: Route[] = [
  {
    method: 'GET',
    path: '/api/model',
    handle: async (ctx): Promise<ModelResponse> => {
      const { src, metric } = await source(ctx);
      const f = fitMetric(src, metric) as FitResult;
      const im = impactOf(src, metric);
      const firstRep = new Map<string, number>();
      for (const r of src.rows) firstRep.set(r.key, Math.min(firstRep.get(r.key) ?? Infinity, r.rep));
      const res = [...f.residuals].sort((a, b) => Math.abs(b.residual) - Math.abs(a.residual));
      const factors = [...im.factors].sort((a, b) => b.share - a.share);
      const needed = new Set(neededSettings(f));
      const settings: ModelSetting[] = settingDecls(src.catalog, src.decls)
        .filter((d) => needed.has(d.name))
        .map((d) => ({ name: d.name, type: d.type, unit: d.unit, values: d.values ?? [] }));
      return {
        set: src.set.name,
        metric,
        unit: src.metrics.find((m) => m.name === metric)?.unit ?? null,
        fit: {
          formula: f.formula,
          form: f.form,
          r2: f.r2,
          n: f.n,
          points: f.points,
          cv: f.cv,
          warnings: f.warnings,
          terms: { name: f.terms.map((t) => t.name), coef: f.terms.map((t) => t.coef), lo: f.terms.map((t) => t.ci[0]), hi: f.terms.map((t) => t.ci[1]) },
          residuals: {
            key: res.map((r) => r.key),
            rep: res.map((r) => firstRep.get(r.key) ?? 1),
            runs: res.map((r) => r.n),
            setting: res.map((r) => setting(displaySetting(src, r.params))),
            measured: res.map((r) => r.y),
            fitted: res.map((r) => r.fitted),
            residual: res.map((r) => r.residual),
          },
        },
        impact: {
          factors: { name: factors.map((x) => x.name), share: factors.map((x) => x.share), lo: factors.map((x) => x.ci[0]), hi: factors.map((x) => x.ci[1]), outside: factors.map((x) => x.outside), p: factors.map((x) => x.p) },
          noise: { share: im.noise.share, lo: im.noise.ci[0], hi: im.noise.ci[1], outside: im.noise.outside },
          warnings: im.warnings,
        },
        settings,
        runs: runsNote(src),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/model/predict',
    handle: async (ctx): Promise<ModelPredictResponse> => {
      const { src, metric } = await source(ctx);
      const sets = whatIf(ctx);
      return { ...predictSetting([{ fit: fitMetric(src, metric), settings: settingDecls(src.catalog, src.decls) }], sets), runs: runsNote(src) };
    },
  },
];
