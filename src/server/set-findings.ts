/**
 * The findings of the open sets (src/analyze/findings.ts), computed once for the report, `report
 * --json` and the GUI's findings view (/api/findings): which parameters move which headline
 * metric, by how much, tested over the repetitions with Holm's correction.
 */
import { workloadDecl } from '../config/registry.ts';
import { findings, type FindingParam, type FindingRun } from '../analyze/findings.ts';
import { paramVaries } from '../store/catalog.ts';
import { quoteIdent } from '../store/database.ts';
import type { ApiMetric, ApiParam, ApiSetInfo, FindingsResponse, ReportFindings } from './api-types.ts';
import type { LoadedSets } from './sets.ts';

/** Metrics plotted when the workload names no headline ones: the first declared with a direction, at most this many. */
const FALLBACK_METRICS = 8;

/** The headline metrics of the set's workloads that it has as numbers, in their declared order. */
export function headlineMetrics(metrics: readonly ApiMetric[], workloads: readonly string[], numeric: ReadonlySet<string>): ApiMetric[] {
  const summary = metrics.filter((m) => m.view === 'points' && numeric.has(m.column ?? m.name));
  const names = [...new Set(workloads.flatMap((w) => workloadDecl(w)?.headline ?? []))];
  const chosen = names.flatMap((n) => summary.filter((m) => m.name === n));
  if (chosen.length > 0) return chosen;
  return summary.filter((m) => m.better !== 'none').slice(0, FALLBACK_METRICS);
}

/** The sets' validity flags as they say them: each one's conditions line and its flagged runs (several sets: each named). */
function setWarnings(infos: readonly ApiSetInfo[]): string[] {
  const of = (s: ApiSetInfo) => (infos.length > 1 ? `${s.name}: ` : '');
  return infos.flatMap((s) => [...(s.conditionsLine ? [`${of(s)}${s.conditionsLine}`] : []), ...(s.flagged > 0 ? [`${of(s)}${s.flagged} of ${s.runs} runs flagged (recorded, but something was odd: see the run's flags); the ok ones among them are in the figures`] : [])]);
}

/**
 * The findings (src/analyze/findings.ts) over every ok run: the varying parameters (a frame size
 * ordered by its pixels, other numbers by value, the rest categories) and the headline metrics.
 */
export async function setFindingsOf(sets: LoadedSets, params: readonly ApiParam[], metrics: readonly ApiMetric[], infos: readonly ApiSetInfo[]): Promise<ReportFindings> {
  const pixels = (p: ApiParam) => (p.type === 'resolution' && p.columns?.includes(`${p.name}.pixels`) ? `${p.name}.pixels` : null);
  // A parameter with a `none` setting is read as written (`none`, `4M`): a category, since none has no number.
  const written = (p: ApiParam) => (p.none && p.label ? p.label : null);
  const extra = params.flatMap((p) => [pixels(p), written(p)].filter((c): c is string => c !== null));
  const cols = [...new Set([...params.map((p) => p.name), ...extra, ...metrics.map((m) => m.column ?? m.name)])];
  const r = await sets.query(`SELECT "set" AS "__set", point_key AS "__point", ${cols.map(quoteIdent).join(', ')} FROM points WHERE status = 'ok'`);
  const c = r.columns;
  const n = c['__point']?.length ?? 0;
  const fparams: FindingParam[] = params.map((p) => {
    const px = pixels(p);
    if (px) {
      const order: Record<string, number> = {};
      for (let i = 0; i < n; i++) order[String(c[p.name]?.[i] ?? null)] = Number(c[px]?.[i]);
      return { name: p.name, unit: p.unit, numeric: true, order };
    }
    if (written(p)) return { name: p.name, unit: p.unit, numeric: false };
    const vals = c[p.name] ?? [];
    return { name: p.name, unit: p.unit, numeric: vals.length > 0 && vals.every((v) => typeof v === 'number') };
  });
  const runs: FindingRun[] = Array.from({ length: n }, (_, i) => ({
    point: `${String(c['__set']?.[i])}\u0000${String(c['__point']?.[i])}`,
    params: Object.fromEntries(params.map((p) => [p.name, c[written(p) ?? p.name]?.[i] ?? null])),
    values: Object.fromEntries(
      metrics.map((m) => {
        const v = c[m.column ?? m.name]?.[i];
        return [m.name, typeof v === 'number' ? v : null];
      }),
    ),
  }));
  return findings({ params: fparams, metrics: metrics.map((m) => ({ name: m.name, unit: m.unit, better: m.better })), runs, warnings: setWarnings(infos) });
}

/** The findings of the sets as they are now: the varying parameters, the headline metrics, and what moves what. */
export async function setFindings(sets: LoadedSets): Promise<FindingsResponse> {
  const loaded = await sets.get();
  const numeric = new Set(loaded.db.columns.filter((c) => c.type === 'DOUBLE' || c.type === 'BIGINT').map((c) => c.name));
  const params = loaded.catalog.params.filter(paramVaries);
  const metrics = headlineMetrics(loaded.catalog.metrics, [...new Set(loaded.records.map((r) => r.record.workload))], numeric);
  return { params, metrics, findings: await setFindingsOf(sets, params, metrics, loaded.infos) };
}
