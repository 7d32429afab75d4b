/**
 * GET /api/matrix: one indicator against one parameter, grouped by the series, facet and overlaid
 * parameters, the fixed ones filtered, the rest aggregated, computed in DuckDB. Every name is
 * checked against the catalogue and every fixed value against the values present before it
 * reaches SQL, and then goes in quoted (quoteIdent, quoteString). A fixed value is read by its
 * parameter's type and compared by value on the typed column (readFixed, fixedSql): `0` matches a
 * fractional parameter's 0.0, `2M` a bitrate of 2000000, `30ms` a duration of 30.
 *
 * Two stages, so that repetitions and parameters are kept apart: each point's repetitions are
 * averaged first (their variance kept), then the point means of a group are combined by the
 * chosen aggregate. The error bar of a mean is the 95 % t-interval of the repetitions' noise:
 * the variance of a mean of k point means is sum(s_i^2 / n_i) / k^2, its degrees of freedom by
 * Welch-Satterthwaite (the points' variances need not be equal), taken on the log scale for a
 * metric that cannot be negative (its unit says so and none of its values is: meanInterval), so
 * that it stays above zero; a group with a point of one repetition gets none (its noise is
 * unknown). Other aggregates (a median of points, a p95) get no interval: none would be honest.
 * The legend's text (`interval`) says what is drawn, and mentions intervals only where there are.
 */
import { meanInterval, positiveMetric } from '../../analyze/stats.ts';
import { parseDuration } from '../../base/duration.ts';
import { bitsPerSecond, numberOf } from '../../config/declare.ts';
import { declaredFrameStages } from '../../config/registry.ts';
import { quoteIdent, quoteString } from '../../store/database.ts';
import type { ColumnInfo } from '../../store/table.ts';
import { paramVaries, type CatalogMetric, type CatalogParam } from '../../store/catalog.ts';
import { AGGREGATES, MATRIX_KINDS, type Aggregate, type Columns, type MatrixKind, type MatrixResponse } from '../api-types.ts';
import { ApiFailure, type Route, type RouteContext } from '../route.ts';

/** Outliers listed per box at most (the farthest from the quartiles first): a per-frame box can have thousands. */
const OUTLIERS_SHOWN = 50;

const NUMERIC_TYPES = new Set(['number', 'integer', 'duration', 'bitrate']);

/** The SQL of each aggregate over the point means `m`. */
const AGG_SQL: Record<Aggregate, (e: string) => string> = {
  mean: (e) => `avg(${e})`,
  median: (e) => `median(${e})`,
  p95: (e) => `quantile_cont(${e}, 0.95)`,
  min: (e) => `min(${e})`,
  max: (e) => `max(${e})`,
};

/** A parameter as the query uses it. */
interface ParamRef {
  name: string;
  /** Its column in `points`, quoted. */
  col: string;
  /** What sorts its values: the pixels of a frame size, else the value. */
  order: string;
  numeric: boolean;
}

function paramRef(p: CatalogParam): ParamRef {
  const col = quoteIdent(p.name);
  const pixels = p.type === 'resolution' && p.columns?.includes(`${p.name}.pixels`) ? quoteIdent(`${p.name}.pixels`) : undefined;
  const numeric = NUMERIC_TYPES.has(p.type) || (p.type === 'number' && p.source === 'inferred');
  return { name: p.name, col, order: pixels ?? col, numeric };
}

/** A fixed value read by its parameter's type: a number in base units, a frame size, a flag or a text. */
type FixedValue = { kind: 'number'; n: number } | { kind: 'size'; width: number; height: number } | { kind: 'boolean'; b: boolean } | { kind: 'text'; s: string };

/** Two numbers that stand for the same setting (a duration written 30ms or 0.03s may differ in its last bit). */
const sameNumber = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

/**
 * A fixed value as its parameter's type reads it, in the units of its column: what the GUI sends
 * (the catalogue's typed value as text: `0.5`, `2000000`, `30`, `640x360`, `true`) and what a user
 * writes in a link (`2M`, `30ms`, `0.0`, `5%`) alike. Undefined when it is no value of that type.
 */
function readFixed(p: CatalogParam, text: string): FixedValue | undefined {
  switch (p.type) {
    case 'number':
    case 'integer': {
      const n = numberOf(p.unit === '%' ? text.replace(/%\s*$/, '') : text);
      return Number.isFinite(n) ? { kind: 'number', n } : undefined;
    }
    case 'bitrate': {
      const n = bitsPerSecond(text);
      return Number.isFinite(n) ? { kind: 'number', n } : undefined;
    }
    case 'duration': {
      // The column is in ms: a bare number is ms (as the GUI sends it and `net_delay: [0, 30]` means), text carries its unit.
      const bare = numberOf(text);
      const s = Number.isFinite(bare) ? undefined : parseDuration(text);
      const n = Number.isFinite(bare) ? bare : s !== undefined ? s * 1000 : NaN;
      return Number.isFinite(n) ? { kind: 'number', n } : undefined;
    }
    case 'resolution': {
      const m = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
      return m ? { kind: 'size', width: Number(m[1]), height: Number(m[2]) } : undefined;
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      return t === 'true' || t === 'false' ? { kind: 'boolean', b: t === 'true' } : undefined;
    }
    case 'enum':
    case 'text':
    case 'path':
      return { kind: 'text', s: text };
  }
}

/** Whether a value of the catalogue (a typed value: a number, a frame size's label, a flag, a text) is the fixed one. */
function isValue(p: CatalogParam, v: string | number | boolean, f: FixedValue): boolean {
  if (f.kind === 'number') {
    const n = typeof v === 'number' ? v : numberOf(v);
    return Number.isFinite(n) && sameNumber(n, f.n);
  }
  const read = readFixed(p, String(v));
  if (f.kind === 'size') return read?.kind === 'size' && read.width === f.width && read.height === f.height;
  if (f.kind === 'boolean') return read?.kind === 'boolean' && read.b === f.b;
  return String(v) === f.s;
}

/**
 * The condition that a run has the fixed value, on its typed column: numbers compared as numbers
 * (a fractional parameter's column is DOUBLE, where 0 is 0.0), a frame size by its width and
 * height, a flag as a flag, a text as itself. TRY_CAST: a column that holds text beside numbers
 * (a value recorded under looser rules) still compares by value.
 */
function fixedSql(ref: ParamRef, p: CatalogParam, f: FixedValue, columns: readonly ColumnInfo[]): string {
  const col = `p.${ref.col}`;
  switch (f.kind) {
    case 'number': {
      const v = `CAST(${quoteString(String(f.n))} AS DOUBLE)`;
      return f.n === 0 ? `TRY_CAST(${col} AS DOUBLE) = 0` : `abs(TRY_CAST(${col} AS DOUBLE) - ${v}) <= 1e-9 * abs(${v})`;
    }
    case 'size': {
      const [w, h] = [`${p.name}.width`, `${p.name}.height`];
      if (columns.some((c) => c.name === w) && columns.some((c) => c.name === h)) return `p.${quoteIdent(w)} = ${f.width} AND p.${quoteIdent(h)} = ${f.height}`;
      return `CAST(${col} AS VARCHAR) = ${quoteString(`${f.width}x${f.height}`)}`;
    }
    case 'boolean':
      return `TRY_CAST(${col} AS BOOLEAN) = ${f.b ? 'true' : 'false'}`;
    case 'text':
      return `CAST(${col} AS VARCHAR) = ${quoteString(f.s)}`;
  }
}

/** What the stage stack plots in place of an indicator: each stage's median, in ms. */
const STAGE_STACK_METRIC: CatalogMetric = { name: 'stage medians', unit: 'ms', better: 'lower', role: 'all', kind: 'summary', view: 'points', doc: "each pipeline stage's median over a point's frames (stage.<s>.p50)", source: 'workload' };

/** The request, checked against the catalogue. */
interface MatrixRequest {
  metric: CatalogMetric;
  x: ParamRef & { param: CatalogParam };
  series?: ParamRef;
  facet?: ParamRef;
  overlay: ParamRef[];
  /** Each fixed parameter and the condition on its column. */
  fixed: { ref: ParamRef; sql: string }[];
  /** The parameters that vary and are aggregated over (every other one): each group says how many of their values it holds. */
  aggregated: ParamRef[];
  agg: Aggregate;
  kind: MatrixKind;
}

function parseRequest(q: URLSearchParams, params: readonly CatalogParam[], metrics: readonly CatalogMetric[], columns: readonly ColumnInfo[]): MatrixRequest {
  const byName = new Map(params.map((p) => [p.name, p]));
  const need = (key: string): string => {
    const v = q.get(key);
    if (v === null || v === '') throw new ApiFailure(400, `missing query parameter '${key}'`);
    return v;
  };
  const param = (key: string, name: string): CatalogParam => {
    const p = byName.get(name);
    if (!p) throw new ApiFailure(400, `${key}: no parameter '${name.slice(0, 80)}' in the open sets (they have: ${params.map((x) => x.name).join(', ')})`);
    return p;
  };
  const kind = (q.get('kind') ?? 'line') as MatrixKind;
  if (!MATRIX_KINDS.includes(kind)) throw new ApiFailure(400, `kind: '${kind.slice(0, 40)}' is not one of ${MATRIX_KINDS.join(', ')}`);
  const agg = (q.get('agg') ?? 'mean') as Aggregate;
  if (!AGGREGATES.includes(agg)) throw new ApiFailure(400, `agg: '${agg.slice(0, 40)}' is not one of ${AGGREGATES.join(', ')}`);

  // The stage stack draws the stage metrics, whatever indicator is chosen: it needs none.
  const metric = kind === 'stack' ? STAGE_STACK_METRIC : metrics.find((m) => m.name === need('metric'));
  if (!metric) throw new ApiFailure(400, `metric: no metric '${need('metric').slice(0, 80)}' in the open sets`);
  const perFrame = metric.view === 'frames';
  if (metric.view !== 'points' && !(perFrame && kind === 'box')) {
    throw new ApiFailure(400, `metric: '${metric.name}' is a ${metric.kind} metric (in ${metric.view}): the matrix plots a point's summary metrics${perFrame ? '; per-frame values show as a box plot (kind=box)' : ''}`);
  }
  const xp = param('x', need('x'));
  const x = { ...paramRef(xp), param: xp };
  const taken = new Set([xp.name]);
  const role = (key: string): ParamRef | undefined => {
    const name = q.get(key);
    if (name === null || name === '') return undefined;
    const p = param(key, name);
    if (taken.has(p.name)) throw new ApiFailure(400, `${key}: '${p.name}' is already the plot's ${p.name === xp.name ? 'x' : 'series or facet'}`);
    taken.add(p.name);
    return paramRef(p);
  };
  const series = role('series');
  const facet = role('facet');
  if (kind === 'heatmap' && !series) throw new ApiFailure(400, 'a heatmap needs two parameters: x and series (its rows)');
  const overlay: ParamRef[] = [];
  const fixed: MatrixRequest['fixed'] = [];
  const subsets: { ref: ParamRef; sql: string; keep: string }[] = [];
  for (const [key, value] of q) {
    if (!key.startsWith('c.')) continue;
    const p = param(key, key.slice(2));
    // A control left over from when it was a plain parameter: the role wins, but a subset of values still narrows it.
    if (taken.has(p.name) && !value.startsWith('in:')) continue;
    if (value === 'agg') continue;
    if (value === 'overlay') {
      overlay.push(paramRef(p));
      continue;
    }
    // v:VALUE fixes one value; in:A,B,... keeps some (each value URI-encoded: a value may hold a comma).
    const one = value.startsWith('v:');
    if (!one && !value.startsWith('in:')) throw new ApiFailure(400, `${key}: '${value.slice(0, 40)}' is none of v:VALUE, in:VALUE,VALUE..., agg, overlay`);
    let vs: string[];
    try {
      vs = one ? [value.slice(2)] : value.slice(3).split(',').map(decodeURIComponent);
    } catch {
      throw new ApiFailure(400, `${key}: '${value.slice(0, 80)}' is not a list of URI-encoded values`);
    }
    if (vs.length === 0 || vs.some((v) => v === '')) throw new ApiFailure(400, `${key}: no value given`);
    const ref = paramRef(p);
    const conds = vs.map((v) => {
      // `none` (no typed value: `net_rate: none`) is a setting of its own where the runs have it.
      if (p.none && v.trim().toLowerCase() === 'none') return `(p.${ref.col} IS NULL${p.label ? ` AND p.${quoteIdent(p.label)} IS NOT NULL` : ''})`;
      const f = readFixed(p, v);
      if (!f || (p.values && !p.values.some((x) => isValue(p, x, f)))) {
        throw new ApiFailure(400, `${key}: ${p.name} has no value '${v.slice(0, 80)}' here (it has ${[...(p.values ?? []).slice(0, 20).map(String), ...(p.none ? ['none'] : [])].join(', ')})`);
      }
      return `(${fixedSql(ref, p, f, columns)})`;
    });
    // Some values kept: the parameter still varies within them, and is aggregated (or shown) as any other.
    if (!one) {
      subsets.push({ ref, sql: conds.join(' OR '), keep: value });
      continue;
    }
    fixed.push({ ref, sql: conds[0]! });
  }
  // A subset of a plotted or overlaid parameter narrows it; of an aggregated one, narrows what is aggregated.
  for (const sub of subsets) fixed.push({ ref: sub.ref, sql: sub.sql });
  const handled = new Set([...taken, ...overlay.map((o) => o.name), ...fixed.filter((f) => !subsets.some((sub) => sub.ref.name === f.ref.name)).map((f) => f.ref.name)]);
  const aggregated = params.filter((p) => !handled.has(p.name) && paramVaries(p) && !subsets.some((sub) => sub.ref.name === p.name && sub.keep.split(',').length < 2)).map(paramRef);
  return { metric, x, ...(series ? { series } : {}), ...(facet ? { facet } : {}), overlay, fixed, aggregated, agg, kind };
}

/** The stage metrics present (`stage.<s>.p50` of the stages the workloads declare), in pipeline order. */
function stageMetrics(metrics: readonly CatalogMetric[]): { stage: string; col: string }[] {
  return declaredFrameStages()
    .map((s) => s.name)
    .flatMap((s) => {
      const m = metrics.find((x) => x.name === `stage.${s}.p50` && x.view === 'points');
      return m ? [{ stage: s, col: quoteIdent(m.column ?? m.name) }] : [];
    });
}

const handle = async (ctx: RouteContext): Promise<MatrixResponse> => {
  const loaded = await ctx.sets.get();
  const params = loaded.catalog.params;
  const r = parseRequest(ctx.query, params, loaded.catalog.metrics, loaded.db.columns);
  // The groups: x, then series, facet and overlaid parameters (g1..); each with its sort key.
  const groups = [r.x, ...(r.series ? [r.series] : []), ...(r.facet ? [r.facet] : []), ...r.overlay];
  // The x values as written (300k, not 300000) where the parameter keeps its text.
  const xLabel = r.x.param.label ? `p.${quoteIdent(r.x.param.label)}` : `CAST(p.${r.x.col} AS VARCHAR)`;
  const gSel = `${groups.map((g, i) => `p.${g.col} AS g${i}, p.${g.order} AS o${i}`).join(', ')}, ${xLabel} AS xl${r.aggregated.map((a, j) => `, p.${a.col} AS a${j}`).join('')}`;
  // How many values of each aggregated parameter a group holds (a value absent, none, counts as one).
  const valuesOut = (from: (j: number) => string) => r.aggregated.map((a, j) => `, count(DISTINCT ${from(j)}) + (bool_or(${from(j)} IS NULL))::INTEGER AS ${quoteIdent(`values:${a.name}`)}`).join('');
  const gNames = groups.map((_, i) => `g${i}, o${i}`).join(', ');
  const where = [`p.status = 'ok'`, ...r.fixed.map((f) => `(${f.sql})`)];
  // Failed runs of the selection: said, never plotted.
  const excludedSql = `SELECT count(*) AS n FROM points p WHERE ${[`p.status <> 'ok'`, ...where.slice(1)].join(' AND ')}`;
  const aggSql = AGG_SQL[r.agg];
  const order = groups.map((_, i) => `o${i}, g${i}`).join(', ');
  const metricCol = quoteIdent(r.metric.column ?? r.metric.name);
  const flagsJoin = `LEFT JOIN point_flags f ON f."set" = p."set" AND f.point_key = p.point_key AND f.rep = p.rep`;
  const runsFrom = `points p ${flagsJoin}`;
  const stages = stageMetrics(loaded.catalog.metrics);

  let sql: string;
  let outlierSql: string | undefined;
  let views: 'frames'[] = [];
  let spreadOver: MatrixResponse['spreadOver'];
  // A group's value may be NULL (a parameter another open set lacks): NULL matches NULL here.
  const sameGroup = groups.map((_, i) => `runs.g${i} IS NOT DISTINCT FROM q.g${i}`).join(' AND ');
  if (r.kind === 'box') {
    spreadOver = r.metric.view === 'frames' ? 'frames' : 'runs';
    const src = spreadOver === 'frames' ? `frames fr JOIN points p ON fr."set" = p."set" AND fr.point_key = p.point_key AND fr.rep = p.rep ${flagsJoin}` : runsFrom;
    const v = spreadOver === 'frames' ? `CAST(fr.${metricCol} AS DOUBLE)` : `CAST(p.${metricCol} AS DOUBLE)`;
    const frameWhere = spreadOver === 'frames' ? [`coalesce(fr.warmup, 0) = 0`] : [];
    if (spreadOver === 'frames') views = ['frames'];
    sql = `WITH runs AS (SELECT p."set" AS s, p.point_key AS k, p.rep AS rep, ${gSel}, ${v} AS v, f.flags IS NOT NULL AS flagged
  FROM ${src} WHERE ${[...where, ...frameWhere, `${v} IS NOT NULL`].join(' AND ')}),
    quart AS (SELECT ${gNames}, quantile_cont(v, 0.25) AS q1, quantile_cont(v, 0.75) AS q3 FROM runs GROUP BY ${gNames}),
    -- Tukey's fences: the whiskers reach the last values within 1.5 IQR of the quartiles; beyond are outliers.
    fenced AS (SELECT runs.*, q.q1 - 1.5 * (q.q3 - q.q1) AS lo_fence, q.q3 + 1.5 * (q.q3 - q.q1) AS hi_fence FROM runs JOIN quart q ON ${sameGroup})
SELECT ${gNames}, any_value(xl) AS xl, avg(v) AS value, quantile_cont(v, 0.25) AS q1, median(v) AS median, quantile_cont(v, 0.75) AS q3, min(v) AS "min", max(v) AS "max",
  min(v) FILTER (WHERE v >= lo_fence) AS wlo, max(v) FILTER (WHERE v <= hi_fence) AS whi, count(*) FILTER (WHERE v < lo_fence OR v > hi_fence) AS outliers${valuesOut((j) => `a${j}`)},
  count(DISTINCT (s, k)) AS points, count(DISTINCT (s, k, rep)) AS runs, count(DISTINCT CASE WHEN flagged THEN (s, k, rep) END) AS flagged,
  CASE WHEN count(DISTINCT (s, k)) = 1 THEN min(s) END AS "set", CASE WHEN count(DISTINCT (s, k)) = 1 THEN min(k) END AS "key", CASE WHEN count(DISTINCT (s, k)) = 1 THEN min(rep) END AS rep
FROM fenced GROUP BY ${gNames} ORDER BY ${order}`;
    // The outliers themselves, each with its run (a per-frame box: the frame's run), at most OUTLIERS_SHOWN per group.
    outlierSql = `WITH runs AS (SELECT p."set" AS s, p.point_key AS k, p.rep AS rep, ${gSel}, ${v} AS v
  FROM ${src} WHERE ${[...where, ...frameWhere, `${v} IS NOT NULL`].join(' AND ')}),
    quart AS (SELECT ${gNames}, quantile_cont(v, 0.25) AS q1, quantile_cont(v, 0.75) AS q3 FROM runs GROUP BY ${gNames}),
    out AS (SELECT runs.*, row_number() OVER (PARTITION BY ${groups.map((_, i) => `runs.g${i}`).join(', ')} ORDER BY abs(v - (q.q1 + q.q3) / 2) DESC) AS nth
  FROM runs JOIN quart q ON ${sameGroup} WHERE v < q.q1 - 1.5 * (q.q3 - q.q1) OR v > q.q3 + 1.5 * (q.q3 - q.q1))
SELECT ${gNames}, xl, v, s AS "set", k AS "key", rep FROM out WHERE nth <= ${OUTLIERS_SHOWN} ORDER BY ${order}, v`;
  } else {
    const valueCols = r.kind === 'stack' ? stages.map((st, i) => ({ name: `v${i}`, expr: `CAST(p.${st.col} AS DOUBLE)` })) : [{ name: 'v0', expr: `CAST(p.${metricCol} AS DOUBLE)` }];
    if (r.kind === 'stack' && valueCols.length === 0) throw new ApiFailure(400, 'the stage stack needs the stage.<s>.p50 metrics of the stream workload, which these sets lack');
    const first = valueCols[0]!.name;
    sql = `WITH runs AS (SELECT p."set" AS s, p.point_key AS k, p.rep AS rep, ${gSel}, ${valueCols.map((c) => `${c.expr} AS ${c.name}`).join(', ')}, f.flags IS NOT NULL AS flagged
  FROM ${runsFrom} WHERE ${[...where, `${valueCols[0]!.expr} IS NOT NULL`].join(' AND ')}),
pts AS (SELECT s, k, ${gNames}, any_value(xl) AS xl, ${valueCols.map((c) => `avg(${c.name}) AS ${c.name}`).join(', ')}, coalesce(var_samp(${first}), 0) AS s2, count(*) AS n, sum(flagged::INTEGER) AS fl, min(rep) AS rep0${r.aggregated.map((_, j) => `, any_value(a${j}) AS a${j}`).join('')}
  FROM runs GROUP BY s, k, ${gNames})
SELECT ${gNames}, any_value(xl) AS xl, ${valueCols.map((c) => `${aggSql(c.name)} AS ${c.name}`).join(', ')}, count(*) AS points, sum(n) AS runs, sum(fl) AS flagged${valuesOut((j) => `a${j}`)},
  sum(s2 / n) AS var_sum, sum(power(s2 / n, 2) / nullif(n - 1, 0)) AS ws, min(n) AS min_n, sum(n - 1) AS df_pooled,
  CASE WHEN count(*) = 1 THEN min(s) END AS "set", CASE WHEN count(*) = 1 THEN min(k) END AS "key", CASE WHEN count(*) = 1 THEN min(rep0) END AS rep
FROM pts GROUP BY ${gNames} ORDER BY ${order}`;
  }
  const [{ columns: c }, excl] = [await ctx.sets.query(sql, { views }), await ctx.sets.query(excludedSql)];
  let outliers: MatrixResponse['outliers'];
  if (outlierSql !== undefined) {
    const o = (await ctx.sets.query(outlierSql, { views })).columns;
    const facetAt = r.facet ? (r.series ? 2 : 1) : undefined;
    outliers = (o['v'] ?? []).map((v, i) => ({
      x: o['g0']![i]!,
      xlabel: String(o['xl']![i] ?? o['g0']![i]),
      series: [r.series ? String(o['g1']![i]) : '', ...r.overlay.map((ov, j) => `${ov.name}=${String(o[`g${1 + (r.series ? 1 : 0) + (r.facet ? 1 : 0) + j}`]![i])}`)].filter(Boolean).join(', '),
      facet: facetAt !== undefined ? String(o[`g${facetAt}`]![i]) : '',
      value: v as number,
      set: String(o['set']![i]),
      key: String(o['key']![i]),
      rep: Number(o['rep']![i]),
    }));
  }
  const excludedFailed = Number(Object.values(excl.columns)[0]?.[0] ?? 0);
  const n = c['g0']?.length ?? 0;
  // Intervals: of a mean of point means only; on the log scale for a metric that cannot be
  // negative (its unit says so and none of its values in the set is), so that they stay above 0.
  const wantCi = r.agg === 'mean' && (r.kind === 'line' || r.kind === 'scatter' || r.kind === 'bar' || r.kind === 'heatmap');
  let logCi = false;
  if (wantCi) {
    const least = await ctx.sets.query(`SELECT min(CAST(${metricCol} AS DOUBLE)) AS least FROM points WHERE status = 'ok'`);
    logCi = positiveMetric(r.metric.unit, least.columns['least']?.[0] as number | null);
  }

  // Series and facet labels: the series parameter's value, then each overlaid one as name=value.
  const seriesIdx = r.series ? 1 : undefined;
  const facetIdx = r.facet ? (r.series ? 2 : 1) : undefined;
  const overlayStart = 1 + (r.series ? 1 : 0) + (r.facet ? 1 : 0);
  const label = (i: number): string => {
    const parts: string[] = [];
    if (seriesIdx !== undefined) parts.push(String(c[`g${seriesIdx}`]![i]));
    r.overlay.forEach((o, j) => parts.push(`${o.name}=${String(c[`g${overlayStart + j}`]![i])}`));
    return parts.join(', ');
  };
  const out: Columns = {};
  const rows = Array.from({ length: n }, (_, i) => i);
  const ci = (i: number): [number | null, number | null] => {
    const value = c['v0']?.[i] as number | null;
    const varSum = c['var_sum']?.[i] as number | null;
    const ws = c['ws']?.[i] as number | null;
    const k = c['points']![i] as number;
    // A point with one repetition has no measured noise: it would enter as exact and narrow the interval.
    if (!wantCi || value === null || varSum === null || Number(c['min_n']![i]) < 2) return [null, null];
    // Welch-Satterthwaite: the points' variances need not be equal.
    const df = ws !== null && ws > 0 ? (varSum * varSum) / ws : Number(c['df_pooled']![i]);
    return meanInterval(value, Math.sqrt(varSum) / k, df, logCi) ?? [null, null];
  };
  const base = (i: number) => ({
    x: c['g0']![i]!,
    xlabel: c['xl']![i] ?? String(c['g0']![i]),
    xorder: c['o0']![i]!,
    series: label(i),
    facet: facetIdx !== undefined ? String(c[`g${facetIdx}`]![i]) : '',
    points: c['points']![i]!,
    runs: c['runs']![i]!,
    flagged: c['flagged']![i] ?? 0,
    set: c['set']![i]!,
    key: c['key']![i]!,
    rep: c['rep']![i]!,
  });
  const push = (row: Record<string, string | number | boolean | null>) => {
    for (const [k, v] of Object.entries(row)) (out[k] ??= []).push(v);
  };
  if (r.kind === 'stack') {
    for (const i of rows) stages.forEach((st, j) => push({ ...base(i), stage: st.stage, value: c[`v${j}`]![i] ?? null, lo: null, hi: null }));
  } else if (r.kind === 'box') {
    for (const i of rows) push({ ...base(i), value: c['value']![i]!, lo: null, hi: null, q1: c['q1']![i]!, median: c['median']![i]!, q3: c['q3']![i]!, min: c['min']![i]!, max: c['max']![i]!, wlo: c['wlo']![i]!, whi: c['whi']![i]!, outliers: c['outliers']![i]! });
  } else {
    for (const i of rows) {
      const [lo, hi] = ci(i);
      push({ ...base(i), value: c['v0']![i] ?? null, lo, hi });
    }
  }
  // Per group, how many values of each aggregated parameter it combines (the catalogue's count is the set's, not the group's).
  for (const a of r.aggregated) {
    const name = `values:${a.name}`;
    out[name] = r.kind === 'stack' ? rows.flatMap((i) => stages.map(() => c[name]![i] ?? null)) : rows.map((i) => c[name]![i] ?? null);
  }
  for (const k of ['x', 'xlabel', 'xorder', 'series', 'facet', 'value', 'lo', 'hi', 'points', 'runs', 'flagged', 'set', 'key', 'rep']) out[k] ??= [];
  const withCi = r.kind === 'stack' || r.kind === 'box' ? 0 : (out['lo'] as unknown[]).filter((v) => v !== null).length;

  const xs = (c['g0'] ?? []).filter((v): v is number => typeof v === 'number');
  const numeric = r.x.numeric && xs.length === n && n > 0;
  const positive = xs.filter((v) => v > 0);
  const log = numeric && positive.length === xs.length && xs.length > 0 && Math.max(...xs) / Math.min(...xs) >= 100;
  const flaggedTotal = r.kind === 'stack' ? 0 : (out['flagged'] as (number | null)[]).reduce<number>((a, b) => a + (b ?? 0), 0);
  return {
    columns: out,
    metric: { name: r.kind === 'stack' ? 'stage medians' : r.metric.name, unit: r.kind === 'stack' ? 'ms' : r.metric.unit, better: r.metric.better, view: r.metric.view },
    x: { name: r.x.name, numeric, log, unit: r.x.param.unit },
    excludedFailed,
    flagged: r.kind === 'stack' ? (out['flagged'] as (number | null)[]).filter((_, i) => i % Math.max(1, stages.length) === 0).reduce<number>((a, b) => a + (b ?? 0), 0) : flaggedTotal,
    interval:
      r.kind === 'box'
        ? `box: quartiles, whiskers to the last values within 1.5 IQR of them (Tukey), beyond them the outliers (${OUTLIERS_SHOWN} at most per box), over ${spreadOver === 'frames' ? 'the frames of the recorded windows' : 'the runs (repetitions and aggregated points)'}`
        : r.kind === 'stack'
          ? `each bar: a stage's median over the frames of a point (stage.<s>.p50), mean over its repetitions, ${r.agg} over the points of the group`
          : intervalText(r.kind, r.agg, n, withCi, logCi),
    ...(wantCi ? { intervals: { scale: logCi ? ('log' as const) : ('linear' as const), groups: withCi, of: n } } : {}),
    aggregated: r.aggregated.map((a) => a.name),
    ...(spreadOver ? { spreadOver } : {}),
    ...(r.kind === 'stack' ? { stages: stages.map((s) => s.stage) } : {}),
    ...(outliers ? { outliers } : {}),
    sql,
  };
};

/** What a line, scatter, bar or heatmap plot shows, in words: exactly the intervals it has, and where they are drawn. */
export function intervalText(kind: MatrixKind, agg: Aggregate, groups: number, withCi: number, log: boolean): string {
  const what = `${kind === 'heatmap' ? 'each cell' : kind === 'bar' ? 'each bar' : 'each value'}: ${agg} of the point means (each point's mean over its repetitions)`;
  if (withCi === 0) return what;
  const ci = `95 % CI of the mean over repetitions${log ? ', on the log scale' : ''} (Student t, Welch-Satterthwaite df)`;
  const none = withCi < groups ? `; none for ${groups - withCi} of ${groups} groups (a point with a single run)` : '';
  return kind === 'line' || kind === 'scatter' ? `${what}; error bars: ${ci}${none}` : `${what}; the tooltip gives its ${ci}${none}`;
}

/** The routes of the matrix view. */
export const routes: Route[] = [{ method: 'GET', path: '/api/matrix', handle }];
