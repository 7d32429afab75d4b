/**
 * The aggregations every view of a result set shares: the matrix view (`/api/matrix`), the report
 * (`streambench report`) and `--json` answers compute a figure with these functions, so that a
 * value on screen, in the report and in JSON is one computation (design.md, "Seeing and modelling").
 *
 * Both run in DuckDB over the table `points` and the view `frames` of src/store/database.ts. Every
 * name that reaches SQL is checked against the table's columns first and quoted; values travel as
 * prepared-statement parameters, never as text in the SQL.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { InputError } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { tQuantile } from '../analyze/stats.ts';
import { quoteIdent } from '../store/database.ts';
import type { ColumnInfo } from '../store/table.ts';

/** How the points of a group combine into one figure (each point first reduced to the mean of its repetitions). */
export type AggFn = 'mean' | 'median' | 'p95' | 'min' | 'max';
export const AGG_FNS: readonly AggFn[] = ['mean', 'median', 'p95', 'min', 'max'];

/** The SQL aggregate of each AggFn over the points' means (`cm`). */
const AGG_SQL: Record<AggFn, string> = {
  mean: 'avg(cm)',
  median: 'quantile_cont(cm, 0.5)',
  p95: 'quantile_cont(cm, 0.95)',
  min: 'min(cm)',
  max: 'max(cm)',
};

export type CellValue = string | number | boolean | null;

/** What to aggregate: one metric, grouped by some columns, with others fixed to one value. */
export interface AggregateQuery {
  /** A numeric metric column of `points` (a catalogue metric's `column`, else its `name`). */
  metric: string;
  /** The columns whose values make the groups (x, series, facet, overlaid parameters; `set` across sets). */
  by: readonly string[];
  /** Columns held to one value each: only runs with that value count. */
  fixed?: Readonly<Record<string, string | number | boolean>>;
  /** How the points of a group (the parameters neither in `by` nor fixed) combine; mean by default. */
  agg?: AggFn;
}

/**
 * One row per group, as columns: each `by` column, then `value` (the aggregate), `lo` and `hi`
 * (the 95 % confidence interval of a mean; null for other aggregates, or where a point of the
 * group has a single repetition), `n` (runs counted) and `points` (distinct points counted).
 * Groups are sorted by the `by` columns.
 */
export interface AggregateResult {
  columns: Record<string, CellValue[]> & { value: number[]; lo: (number | null)[]; hi: (number | null)[]; n: number[]; points: number[] };
}

function checkColumn(columns: readonly ColumnInfo[], name: string, what: string, numeric = false): ColumnInfo {
  const c = columns.find((x) => x.name === name);
  if (!c) throw InputError.single(what, `no column '${name}' in the result set`, suggestHint(name, columns.map((x) => x.name)));
  if (numeric && c.type !== 'DOUBLE' && c.type !== 'BIGINT') throw InputError.single(what, `'${name}' is not numeric (${c.type}): it cannot be averaged`);
  return c;
}

const jsValue = (v: unknown): CellValue => (typeof v === 'bigint' ? Number(v) : v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v));

/**
 * A metric aggregated per group over the ok runs (failed and interrupted runs are never a value).
 * Each point (a set and point key: one combination of every parameter) is first reduced to the
 * mean of its repetitions; the group's figure combines those means, so a point with more
 * repetitions weighs no more than another. The mean's 95 % interval is that of an average of
 * independent point means whose only noise is the repetitions' spread: standard error
 * sqrt(sum(s_i^2 / n_i)) / k over the group's k points, Student's t with Welch-Satterthwaite's
 * degrees of freedom. With one point it is the plain t-interval of its repetitions.
 */
export async function aggregateMetric(conn: DuckDBConnection, columns: readonly ColumnInfo[], q: AggregateQuery): Promise<AggregateResult> {
  const agg = q.agg ?? 'mean';
  if (!AGG_FNS.includes(agg)) throw InputError.single('agg', `unknown aggregate '${String(agg)}'`, suggestHint(String(agg), [...AGG_FNS]));
  checkColumn(columns, q.metric, 'metric', true);
  for (const b of q.by) checkColumn(columns, b, 'group by');
  const fixed = Object.entries(q.fixed ?? {});
  for (const [name] of fixed) checkColumn(columns, name, 'fixed');
  const m = quoteIdent(q.metric);
  const by = q.by.map(quoteIdent);
  const where = [`status = 'ok'`, `${m} IS NOT NULL`, `isfinite(${m}::DOUBLE)`, ...fixed.map(([name]) => `${quoteIdent(name)} = ?`)];
  const byList = by.length > 0 ? `${by.join(', ')}, ` : '';
  // Per point: its repetitions' mean, variance and count; then per group: the aggregate of the
  // points' means and the pieces of the mean's standard error (sum of s^2/n, and Welch's denominator).
  const sql = `
    WITH cells AS (
      SELECT ${byList}"set", point_key, avg(${m}::DOUBLE) AS cm, var_samp(${m}::DOUBLE) AS cv, count(*) AS cn
      FROM points WHERE ${where.join(' AND ')}
      GROUP BY ${byList}"set", point_key
    )
    SELECT ${byList}${AGG_SQL[agg]} AS value, count(*) AS k, sum(cn) AS n,
      bool_or(cn < 2) AS single, sum(cv / cn) AS se2k, sum((cv / cn) * (cv / cn) / (cn - 1)) AS welch
    FROM cells
    ${by.length > 0 ? `GROUP BY ${by.join(', ')} ORDER BY ${by.map((b) => `${b} NULLS LAST`).join(', ')}` : ''}`;
  const params = fixed.map(([, v]) => v as DuckDBValue);
  const reader = await conn.runAndReadAll(sql, params);
  const rows = reader.getRowObjectsJS();
  const out: AggregateResult['columns'] = { value: [], lo: [], hi: [], n: [], points: [] } as unknown as AggregateResult['columns'];
  for (const b of q.by) out[b] = [];
  for (const r of rows) {
    for (const b of q.by) out[b]!.push(jsValue(r[b]));
    const value = Number(r['value']);
    const k = Number(r['k']);
    out.value.push(value);
    out.n.push(Number(r['n']));
    out.points.push(k);
    const ci = agg === 'mean' && r['single'] !== true ? meanInterval(value, Number(r['se2k']), Number(r['welch']), k) : null;
    out.lo.push(ci ? ci[0] : null);
    out.hi.push(ci ? ci[1] : null);
  }
  return { columns: out };
}

/** The 95 % interval of a mean of k point means, from sum(s_i^2/n_i) and Welch's sum((s_i^2/n_i)^2/(n_i-1)). */
function meanInterval(mean: number, sumVarOverN: number, welch: number, k: number): [number, number] | null {
  if (!Number.isFinite(sumVarOverN)) return null;
  // Identical repetitions: no spread, the interval is the mean itself (the t quantile of 0/0 degrees is undefined).
  if (sumVarOverN === 0) return [mean, mean];
  const df = (sumVarOverN * sumVarOverN) / welch;
  const half = (tQuantile(0.975, df) * Math.sqrt(sumVarOverN)) / k;
  return Number.isFinite(half) ? [mean - half, mean + half] : null;
}

/**
 * The stages of the built-in pipeline's frames, in the order a frame goes through them, each the
 * difference of two columns of `frames` (README, "The built-in streaming pipeline"): together they
 * span capture start to display, so stacked they show where the latency goes. `network` is left
 * out: it is uplink + relay + downlink, and would count them twice.
 */
export const FRAME_STAGES: readonly { name: string; from: string; to: string }[] = [
  { name: 'capture', from: 'capture_start', to: 'capture_end' },
  { name: 'encode', from: 'capture_end', to: 'enc_end' },
  { name: 'send', from: 'enc_end', to: 'send_end' },
  { name: 'uplink', from: 'send_end', to: 'host_in' },
  { name: 'relay', from: 'host_in', to: 'host_out' },
  { name: 'downlink', from: 'host_out', to: 'recv_end' },
  { name: 'decode_wait', from: 'recv_end', to: 'dec_start' },
  { name: 'decode', from: 'dec_start', to: 'dec_end' },
  { name: 'display_wait', from: 'dec_end', to: 'display' },
];

/**
 * The stage stack: per point (set and point key) of the ok runs, the median of each stage over
 * all the frames of its repetitions recorded after the warm-up (ms), with the point's parameter
 * columns `params` beside them. A stage a frame never reached (lost, not shown) is left out of
 * that stage's median only. Columns: `set`, `point_key`, each of `params`, `frames` (frames
 * counted), then one per stage of FRAME_STAGES. Empty when the set has no frames.
 */
export async function stageStack(conn: DuckDBConnection, columns: readonly ColumnInfo[], params: readonly string[], fixed: Readonly<Record<string, string | number | boolean>> = {}): Promise<{ stages: string[]; columns: Record<string, CellValue[]> }> {
  for (const p of params) checkColumn(columns, p, 'stage stack');
  const fix = Object.entries(fixed);
  for (const [name] of fix) checkColumn(columns, name, 'fixed');
  const stages = FRAME_STAGES.map((s) => s.name);
  const out: Record<string, CellValue[]> = { set: [], point_key: [], ...Object.fromEntries(params.map((p) => [p, []])), frames: [], ...Object.fromEntries(stages.map((s) => [s, []])) };
  const hasFrames = await conn.runAndReadAll(`SELECT count(*) AS n FROM (SELECT * FROM frames LIMIT 1)`);
  if (Number(hasFrames.getRowObjectsJS()[0]?.['n'] ?? 0) === 0) return { stages, columns: out };
  const pcols = params.map((p) => `any_value(p.${quoteIdent(p)}) AS ${quoteIdent(p)}`);
  const medians = FRAME_STAGES.map((s) => `quantile_cont(f.${quoteIdent(s.to)} - f.${quoteIdent(s.from)}, 0.5) AS ${quoteIdent(s.name)}`);
  const sql = `
    SELECT p."set", p.point_key, ${[...pcols, 'count(*) AS frames', ...medians].join(', ')}
    FROM frames f JOIN points p ON f."set" = p."set" AND f.point_key = p.point_key AND f.rep = p.rep
    WHERE p.status = 'ok' AND f.warmup = 0 ${fix.map(([name]) => `AND p.${quoteIdent(name)} = ?`).join(' ')}
    GROUP BY p."set", p.point_key
    ORDER BY ${[...params.map((p) => `${quoteIdent(p)} NULLS LAST`), 'p."set"', 'p.point_key'].join(', ')}`;
  const reader = await conn.runAndReadAll(sql, fix.map(([, v]) => v as DuckDBValue));
  for (const r of reader.getRowObjectsJS()) for (const [name, values] of Object.entries(out)) values.push(jsValue(r[name]));
  return { stages, columns: out };
}
