/**
 * Several result sets side by side, for `streambench report A B C` (the desktop stacks on one
 * scene and network, say): the headline metrics every set has, one row per set at each setting of
 * the parameters every set varies, every other parameter (each set's own: its codec, ...)
 * aggregated as the mean over the points, with their range. Each point is first averaged over its
 * repetitions, as in the matrix view; failed and interrupted runs are left out, flagged ones counted.
 */
import { paramVaries } from '../store/catalog.ts';
import { quoteIdent, quoteString } from '../store/database.ts';
import type { ApiMetric, ApiParam, ComparisonCell, ComparisonRow, SetComparison } from './api-types.ts';
import { SET_PARAM } from './api-types.ts';
import type { LoadedSets } from './sets.ts';

type Cell = string | number | boolean | null;

/** Compares the open sets on `headline` (the sets' workloads' headline metrics, in order); `params` are the catalogue's. */
export async function compareSets(sets: LoadedSets, names: readonly string[], params: readonly ApiParam[], headline: readonly ApiMetric[]): Promise<SetComparison> {
  const candidates = params.filter((p) => p.name !== SET_PARAM);
  const cols = [...candidates.map((p) => p.name), ...headline.map((m) => m.column ?? m.name)];
  // Which set has which parameter and metric at all (a parameter another set lacks is NULL there), and how many distinct values.
  const presence = await sets.query(`SELECT "set", ${cols.map((c, i) => `count(${quoteIdent(c)}) AS n${i}, count(DISTINCT ${quoteIdent(c)}) AS d${i}`).join(', ')} FROM points WHERE status = 'ok' GROUP BY "set"`);
  const rowOf = new Map((presence.columns['set'] ?? []).map((s, i) => [String(s), i]));
  const has = (set: string, i: number) => Number(presence.columns[`n${i}`]?.[rowOf.get(set) ?? -1] ?? 0) > 0;
  const distinct = (set: string, i: number) => Number(presence.columns[`d${i}`]?.[rowOf.get(set) ?? -1] ?? 0);
  const left: string[] = [];
  const missingFrom = (i: number) => names.filter((s) => !has(s, i));
  // The rows' settings: parameters every set has, varying in each of them (a value only one set tried is that set's own).
  const by = candidates.filter((_, i) => names.every((s) => has(s, i) && distinct(s, i) > 1));
  const aggregated = candidates.filter((p) => !by.includes(p) && paramVaries(p)).map((p) => p.name);
  const metrics = headline.filter((m, j) => {
    const i = candidates.length + j;
    const missing = missingFrom(i);
    if (missing.length > 0) left.push(`${m.name}: no ok run of ${missing.join(', ')} has a value`);
    return missing.length === 0;
  });
  if (metrics.length === 0) return { by, aggregated, metrics, rows: [], left };

  const byCols = by.map((p) => quoteIdent(p.name));
  const mCols = metrics.map((m) => quoteIdent(m.column ?? m.name));
  const sql = `WITH pts AS (
  SELECT "set", point_key, ${[...byCols, ''].join(', ')} count(*) AS runs, count(*) FILTER (WHERE f.flags IS NOT NULL) AS flagged, ${mCols.map((c, j) => `avg(${c}) AS m${j}`).join(', ')}
  FROM points p LEFT JOIN point_flags f USING ("set", point_key, rep) WHERE p.status = 'ok' GROUP BY ${['"set"', 'point_key', ...byCols].join(', ')})
SELECT "set", ${[...byCols, ''].join(', ')} count(*) AS points, sum(runs) AS runs, sum(flagged) AS flagged,
  ${metrics.map((_, j) => `avg(m${j}) AS mean${j}, min(m${j}) AS min${j}, max(m${j}) AS max${j}, count(m${j}) AS n${j}`).join(', ')}
FROM pts GROUP BY ${['"set"', ...byCols].join(', ')} ORDER BY ${[...byCols.map((c) => `${c} NULLS LAST`), `array_position([${names.map(quoteString).join(', ')}], "set")`].join(', ')}`;
  const r = await sets.query(sql);
  const c = r.columns;
  const num = (v: Cell | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const rows: ComparisonRow[] = (c['set'] ?? []).map((s, i) => ({
    set: String(s),
    settings: by.map((p) => c[p.name]?.[i] ?? null),
    points: Number(c['points']?.[i] ?? 0),
    runs: Number(c['runs']?.[i] ?? 0),
    flagged: Number(c['flagged']?.[i] ?? 0),
    values: Object.fromEntries(metrics.map((m, j): [string, ComparisonCell] => [m.name, { mean: num(c[`mean${j}`]?.[i]), min: num(c[`min${j}`]?.[i]), max: num(c[`max${j}`]?.[i]), points: Number(c[`n${j}`]?.[i] ?? 0) }])),
  }));
  return { by, aggregated, metrics, rows, left };
}
