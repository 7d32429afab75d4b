/**
 * GET /api/runs: every run of the open sets as columns, for parallel coordinates: the
 * parameters that vary and the chosen summary metrics, one value per run, read from the points
 * table (the sets' indexes). Failed and interrupted runs are left out (they are no results) and
 * counted; flagged runs stay, marked.
 */
import { quoteIdent, quoteString } from '../../store/database.ts';
import { paramVaries, type CatalogParam } from '../../store/catalog.ts';
import type { RunsAxis, RunsMetric, RunsResponse } from '../api-types.ts';
import { closest } from '../../base/suggest.ts';
import { ApiFailure, listParam, type Route, type RouteContext } from '../route.ts';

/** Parameter types drawn on a numeric axis; every other type is categorical. */
const NUMERIC_TYPES = ['number', 'integer', 'duration', 'bitrate'];
/** Metrics shown when the client names none, in this order, where the set has them. */
const HEADLINE = ['guest.cpu_pct', 'client.cpu_pct', 'client.bitrate', 'latency.p95', 'client.psnr', 'client.fps'];
/** The most metric axes one request may ask for: past it the lines cannot be told apart anyway. */
const MAX_METRICS = 40;
/** A numeric axis goes log once its positive values span this factor (decades). */
const LOG_SPAN = 20;

/** The width x height of a frame size label, for ordering sizes by pixels. */
function pixels(label: string): number {
  const m = /^(\d+)x(\d+)$/.exec(label);
  return m ? Number(m[1]) * Number(m[2]) : Infinity;
}

/** A parameter's axis: numeric for numeric types, else categories in a meaningful order. */
function paramAxis(p: CatalogParam): RunsAxis {
  if (NUMERIC_TYPES.includes(p.type)) {
    const [lo, hi] = p.range ?? [0, 0];
    return { name: p.name, kind: 'param', type: 'numeric', unit: p.unit, log: lo > 0 && hi / lo >= LOG_SPAN };
  }
  const values = (p.values ?? []).map(String);
  // A frame size sorts by its pixels (640x360 below 1280x720), an enum by its declared order.
  const categories = p.type === 'resolution' ? [...values].sort((a, b) => pixels(a) - pixels(b) || a.localeCompare(b)) : p.allowed ? [...p.allowed.filter((v) => values.includes(v)), ...values.filter((v) => !p.allowed!.includes(v))] : values;
  return { name: p.name, kind: 'param', type: 'categorical', unit: p.unit, categories };
}

async function handle(ctx: RouteContext): Promise<RunsResponse> {
  const loaded = await ctx.sets.get();
  const { catalog, db, infos } = loaded;
  const setName = ctx.query.get('set');
  if (setName !== null && !infos.some((s) => s.name === setName)) {
    throw new ApiFailure(400, `no open result set is named '${setName}'; open: ${infos.map((s) => s.name).join(', ')}`);
  }
  const types = new Map(db.columns.map((c) => [c.name, c.type]));
  // Summary metrics whose column holds numbers: what an axis or a colour can show.
  const numeric: RunsMetric[] = catalog.metrics.filter((m) => m.view === 'points' && ['DOUBLE', 'BIGINT'].includes(types.get(m.column ?? m.name) ?? '')).map((m) => ({ name: m.name, column: m.column ?? m.name, unit: m.unit, better: m.better }));
  const asked = listParam(ctx.query, 'metrics', MAX_METRICS);
  let chosen: RunsMetric[];
  if (asked === undefined) {
    const byName = new Map(numeric.map((m) => [m.name, m]));
    chosen = HEADLINE.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []));
    if (chosen.length === 0) chosen = numeric.filter((m) => m.better !== 'none').slice(0, 6);
  } else {
    chosen = asked.map((n) => {
      const m = numeric.find((x) => x.name === n);
      if (m) return m;
      const near = closest(
        n,
        numeric.map((x) => x.name),
      );
      const known = catalog.metrics.some((x) => x.name === n);
      throw new ApiFailure(400, known ? `metric '${n}' holds no numbers per run; it cannot be an axis` : `no metric '${n}' in the open sets${near ? `; did you mean '${near}'?` : ''}`);
    });
  }
  // Parameters that take one value in every run separate nothing: no axis.
  const params = catalog.params.filter((p) => p.name !== 'set' && paramVaries(p)).map(paramAxis);
  if (infos.length > 1 && setName === null) params.unshift({ name: 'set', kind: 'param', type: 'categorical', unit: null, categories: infos.map((s) => s.name) });
  const metricAxes: RunsAxis[] = chosen.map((m) => ({ name: m.name, kind: 'metric', type: 'numeric', unit: m.unit, better: m.better }));
  // Each axis travels under its own name; a metric whose column is renamed (named like a parameter) is read from that column.
  const select = [
    'p."set"',
    'p.point_key',
    'p.rep',
    ...params.filter((a) => a.name !== 'set').map((a) => `p.${quoteIdent(a.name)} AS ${quoteIdent(`p:${a.name}`)}`),
    ...chosen.map((m) => `p.${quoteIdent(m.column)} AS ${quoteIdent(`m:${m.name}`)}`),
    'f.flags IS NOT NULL AS flagged',
  ];
  const where = setName === null ? '' : ` AND p."set" = ${quoteString(setName)}`;
  const sql = `SELECT ${select.join(', ')} FROM points p LEFT JOIN point_flags f USING ("set", point_key, rep) WHERE p.status = 'ok'${where} ORDER BY p."set", p.point_key, p.rep`;
  const { columns: got } = await ctx.sets.query(sql);
  const excluded = await ctx.sets.query(`SELECT count(*) AS n FROM points p WHERE p.status <> 'ok'${where}`);
  const columns: RunsResponse['columns'] = { set: got['set']!, point_key: got['point_key']!, rep: got['rep']!, flagged: got['flagged']! };
  for (const a of params) columns[a.name] = a.name === 'set' ? got['set']! : got[`p:${a.name}`]!;
  for (const m of chosen) columns[m.name] = got[`m:${m.name}`]!;
  for (const a of metricAxes) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of columns[a.name]!) {
      if (typeof v !== 'number') continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    a.log = lo > 0 && hi / lo >= LOG_SPAN;
  }
  return {
    axes: [...params, ...metricAxes],
    columns,
    runs: columns['point_key']!.length,
    excludedFailed: Number(excluded.columns['n']![0] ?? 0),
    flagged: columns['flagged']!.filter((f) => f === true).length,
    metrics: numeric,
    sql,
  };
}

export const routes: Route[] = [{ method: 'GET', path: '/api/runs', handle }];
