/**
 * The model view's routes: a metric's fitted formula, the impact of each parameter, residuals per
 * point, and what-if predictions. They call src/analyze/models.ts as `streambench model` does, on
 * the set read the same way (catalogue + typed points table), so a figure on screen equals the
 * CLI's `--json`. The set is named by one of the open sets' names, the metric checked against its
 * catalogue and each setting against its declarations before anything is computed.
 */
import type { FitResult } from '../../analyze/fit.ts';
import { userName } from '../../analyze/dataset.ts';
import { metricOf, runsNote, settingDecls, type ModelSource } from '../../analyze/load.ts';
import { fitQuality } from '../../analyze/fit-quality.ts';
import { displaySetting, fitMetric, impactOf, modelDataset, neededSettings, predictSetting } from '../../analyze/models.ts';
import { partialDependence } from '../../analyze/partial.ts';
import type { ResultSet } from '../../store/resultset.ts';
import type { ModelEffect, ModelMetricsResponse, ModelPredictResponse, ModelResponse, ModelSetting } from '../api-types.ts';
import { InputError, StoreError } from '../../base/errors.ts';
import { modelSource } from '../model-sources.ts';
import { ApiFailure, type Route, type RouteContext } from '../route.ts';

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

async function setSource(ctx: RouteContext): Promise<ModelSource> {
  const set = setOf(ctx);
  // ?flagged=include keeps the runs recorded saturated, as `model --include-flagged` does.
  const flagged = ctx.query.get('flagged');
  if (flagged !== null && flagged !== 'include') throw new ApiFailure(400, `flagged '${flagged.slice(0, 40)}' is not 'include' (leave it out to leave flagged runs out)`);
  const includeFlagged = flagged === 'include';
  return modelSource(ctx.sets, set, includeFlagged);
}

async function source(ctx: RouteContext): Promise<{ src: ModelSource; metric: string }> {
  const metric = wanted(ctx, 'metric');
  const src = await setSource(ctx);
  // The metric checked against the set's catalogue (an InputError: 400 with the closest names).
  metricOf(src, metric);
  return { src, metric };
}

/**
 * A message of the models in the GUI's words: the analysis speaks to the command line (`--metric`,
 * `--set`, `--include-flagged`, the set's directory); the model view has a metric menu, a what-if
 * form, a "keep saturated runs" box and sets by name, and the server's paths are none of the
 * page's business.
 */
export function guiWords(message: string, src: Pick<ModelSource, 'set'> | undefined): string {
  let m = message;
  if (src) m = m.split(src.set.dir).join(`result set '${src.set.name}'`);
  return m
    .replace(/^--metric (\S+): /, 'metric $1: ')
    .replace(/^--set ([^\s:]+): (\S+: )?/, '$1: ')
    .replace(/^--by \S+: /, '')
    .replace(/--include-flagged keeps them/g, "'keep saturated runs' keeps them")
    .replace(/\(--include-flagged\)/g, "('keep saturated runs')")
    .replace(/: --(pixels|fps|bitrate)-from NAME says which/g, '')
    .replace(/\n\s*hint: --set (.*)$/s, (_, h: string) => `; give ${h.replace(/--set /g, '')} in the what-if form`)
    .replace(/\n\s*hint: (.*)$/s, (_, h: string) => `; ${h.replace(/, or use fit --by$/, '')}`)
    .replace(/^model predict: /, '');
}

/** A route's handler whose refusals (bad input, an unreadable set) are put in the GUI's words. */
function inGuiWords<T>(handle: (ctx: RouteContext) => Promise<T>): (ctx: RouteContext) => Promise<T> {
  return async (ctx) => {
    try {
      return await handle(ctx);
    } catch (e) {
      if (e instanceof ApiFailure) throw e;
      if (e instanceof InputError) throw new ApiFailure(400, guiWords(e.message, setOrNone(ctx)));
      if (e instanceof StoreError) throw new ApiFailure(500, guiWords(e.message, setOrNone(ctx)));
      throw e;
    }
  };
}

function setOrNone(ctx: RouteContext): { set: ResultSet } | undefined {
  const set = ctx.sets.sets.find((s) => s.name === ctx.query.get('set'));
  return set ? { set } : undefined;
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

/** The metrics a model can be asked of: a numeric summary metric with two different values or more among the runs read. */
function modelMetrics(src: ModelSource): ModelMetricsResponse {
  const metrics: ModelMetricsResponse['metrics'] = [];
  const leftOut: ModelMetricsResponse['leftOut'] = [];
  for (const m of src.metrics) {
    const col = m.column ?? m.name;
    const values = src.rows.map((r) => r.cells[col]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length === 0) leftOut.push({ name: m.name, why: 'no run has a value' });
    else if (values.every((v) => v === values[0])) leftOut.push({ name: m.name, why: `the same in every run (${Number(values[0]!.toPrecision(6))}${m.unit ? ` ${m.unit}` : ''}): nothing to model` });
    else metrics.push({ name: m.name, unit: m.unit, doc: m.doc });
  }
  return { set: src.set.name, metrics, leftOut };
}

/** Each parameter's partial dependence, a frame size's tested pixel counts with their labels. */
function effectsOf(src: ModelSource, f: FitResult): ModelEffect[] {
  const rows = modelDataset(src, f.metric).rows;
  return partialDependence(f, rows).map((e) => {
    const param = src.catalog.params.find((p) => p.name === e.param);
    const label = (v: number | string) => (e.modelParam !== e.param ? String(src.rows.find((r) => r.cells[e.modelParam] === v)?.cells[e.param] ?? v) : typeof v === 'number' ? v : v);
    return {
      param: e.param,
      kind: e.kind,
      unit: e.modelParam !== e.param ? 'pixels' : (param?.unit ?? null),
      x: e.x,
      value: e.value,
      observed: { x: e.observed.map((o) => o.x), label: e.observed.map((o) => label(o.x)), mean: e.observed.map((o) => o.mean), n: e.observed.map((o) => o.n) },
      change: { from: label(e.change.from), to: label(e.change.to), value: e.change.value, pct: e.change.pct },
    };
  });
}

/** The routes of the model view. */
export const routes: Route[] = [
  {
    method: 'GET',
    path: '/api/model/metrics',
    handle: inGuiWords(async (ctx): Promise<ModelMetricsResponse> => modelMetrics(await setSource(ctx))),
  },
  {
    method: 'GET',
    path: '/api/model',
    handle: inGuiWords(async (ctx): Promise<ModelResponse> => {
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
      const words = (w: string) => guiWords(w, src);
      const runs = runsNote(src);
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
          warnings: f.warnings.map(words),
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
        quality: fitQuality(
          f,
          modelDataset(src, metric).rows.map((r) => r.y),
        ),
        effects: effectsOf(src, f),
        impact: {
          factors: { name: factors.map((x) => x.name), share: factors.map((x) => x.share), lo: factors.map((x) => x.ci[0]), hi: factors.map((x) => x.ci[1]), outside: factors.map((x) => x.outside), p: factors.map((x) => x.p) },
          noise: { share: im.noise.share, lo: im.noise.ci[0], hi: im.noise.ci[1], outside: im.noise.outside },
          warnings: im.warnings.map(words),
        },
        settings,
        runs: { ...runs, text: runs.text === null ? null : words(runs.text) },
      };
    }),
  },
  {
    method: 'GET',
    path: '/api/model/predict',
    handle: inGuiWords(async (ctx): Promise<ModelPredictResponse> => {
      const { src, metric } = await source(ctx);
      const sets = whatIf(ctx);
      return { ...predictSetting([{ fit: fitMetric(src, metric), settings: settingDecls(src.catalog, src.decls) }], sets, src), runs: runsNote(src) };
    }),
  },
];
