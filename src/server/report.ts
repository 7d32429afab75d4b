/**
 * What goes into a report (`streambench report`), chosen from the sets' catalogue: each headline
 * metric against each parameter that varies (the others aggregated by mean, 95 % interval over
 * repetitions where one exists, each plot's caption saying what it draws), the stage stack per
 * point, and every ok run for parallel coordinates.
 *
 * Every figure comes from the GUI server's own route, /api/matrix (src/server/routes/matrix.ts),
 * called in-process over the same loaded set: a value in the report is the value the matrix view
 * shows for the same selection, by construction. The page (web/report.html) only draws it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../base/errors.ts';
import { quoteIdent } from '../store/database.ts';
import { paramVaries } from '../store/catalog.ts';
import type { ResultSet } from '../store/resultset.ts';
import { positiveMetric } from '../analyze/stats.ts';
import type { ApiParam, MatrixResponse, ReportData, ReportPlot } from './api-types.ts';
import { ROUTES } from './routes/index.ts';
import { ApiFailure } from './route.ts';
import { compareSets } from './report-compare.ts';
import { LoadedSets } from './sets.ts';
import { headlineMetrics, setFindingsOf } from './set-findings.ts';

/** Calls the GUI server's GET route at `path` in-process, as a request with this query would. */
async function callRoute(sets: LoadedSets, path: string, query: Record<string, string>): Promise<unknown> {
  const route = ROUTES.find((r) => r.method === 'GET' && r.path === path);
  if (!route) throw new Error(`the GUI server has no route ${path}`);
  return route.handle({ params: {}, query: new URLSearchParams(query), sets });
}

/** A line per distinct machine of agents.json: which roles ran there and what it is. */
function hostLines(set: ResultSet): string[] {
  const file = join(set.dir, 'agents.json');
  if (!existsSync(file)) return [];
  let hellos: null | Record<string, null | { facts?: { hostname?: string; cpuModel?: string; cores?: number; memoryMb?: number; kernel?: string; os?: string } }>;
  try {
    hellos = JSON.parse(readFileSync(file, 'utf8')) as typeof hellos;
  } catch (e) {
    // The report still has its figures; the header says what it could not read.
    return [`(agents.json unreadable: ${errorMessage(e).split('\n')[0]})`];
  }
  const byMachine = new Map<string, string[]>();
  for (const [role, h] of Object.entries(hellos ?? {})) {
    const f = h?.facts ?? {};
    const machine = `${f.hostname ?? '?'} (${[f.cpuModel, f.cores !== undefined ? `${f.cores} cores` : undefined, f.memoryMb !== undefined ? `${Math.round(f.memoryMb / 1024)} GiB` : undefined, f.os, f.kernel ? `kernel ${f.kernel}` : undefined].filter(Boolean).join(', ')})`;
    byMachine.set(machine, [...(byMachine.get(machine) ?? []), role]);
  }
  return [...byMachine].map(([machine, roles]) => `${roles.join(', ')}: ${machine}`);
}

/**
 * Builds a report's data for one result set, or several side by side (`set` is then a parameter of
 * every plot, and the comparison lines them up): the header, the plots' figures (from /api/matrix)
 * and the runs.
 */
export async function buildReport(opened: readonly ResultSet[]): Promise<ReportData> {
  const sets = new LoadedSets(opened);
  try {
    const loaded = await sets.get();
    const records = loaded.records.map((r) => r.record);
    const numeric = new Set(loaded.db.columns.filter((c) => c.type === 'DOUBLE' || c.type === 'BIGINT').map((c) => c.name));
    // The x axes: the parameters that take more than one value here (a constant says nothing on an axis).
    const params: ApiParam[] = loaded.catalog.params.filter(paramVaries);
    const metrics = headlineMetrics(loaded.catalog.metrics, [...new Set(records.map((r) => r.workload))], numeric);
    const plots: ReportPlot[] = [];
    const skipped: string[] = [];
    for (const m of metrics) {
      for (const p of params) {
        try {
          const matrix = (await callRoute(sets, '/api/matrix', { metric: m.name, x: p.name, kind: 'line', agg: 'mean' })) as MatrixResponse;
          const values = (matrix.columns['value'] ?? []).filter((v): v is number => typeof v === 'number');
          if (values.length > 0) plots.push({ metric: m.name, param: p.name, fromZero: positiveMetric(m.unit, Math.min(...values)), matrix });
          else skipped.push(`${m.name} against ${p.name}: no ok run has a value`);
        } catch (e) {
          if (!(e instanceof ApiFailure)) throw e;
          skipped.push(`${m.name} against ${p.name}: ${e.message}`);
        }
      }
    }
    // The stage stack, one bar per point: x the first parameter, every other one overlaid.
    let stack: MatrixResponse | null = null;
    const hasStages = loaded.catalog.metrics.some((m) => m.view === 'points' && /^stage\..+\.p50$/.test(m.name));
    if (hasStages && params.length > 0) {
      const query: Record<string, string> = { kind: 'stack', x: params[0]!.name };
      for (const p of params.slice(1)) query[`c.${p.name}`] = 'overlay';
      try {
        stack = (await callRoute(sets, '/api/matrix', query)) as MatrixResponse;
      } catch (e) {
        if (!(e instanceof ApiFailure)) throw e;
        skipped.push(`stage stack: ${e.message}`);
      }
    }
    // Parallel coordinates: the ok runs (failed ones are no values), their varying parameters and the metrics above.
    const cols = [...params.map((p) => p.name), ...metrics.map((m) => m.column ?? m.name)];
    const order = params.map((p) => quoteIdent(p.type === 'resolution' && p.columns?.includes(`${p.name}.pixels`) ? `${p.name}.pixels` : p.name));
    const runs = await sets.query(`SELECT point_key, rep, ${cols.map(quoteIdent).join(', ')} FROM points WHERE status = 'ok' ORDER BY ${[...order, 'point_key', 'rep'].join(', ')}`);
    const starts = records.map((r) => r.startedAt).sort();
    const ends = records.map((r) => r.endedAt).sort();
    const comparison =
      opened.length > 1
        ? await compareSets(
            sets,
            opened.map((s) => s.name),
            loaded.catalog.params,
            metrics,
          )
        : null;
    return {
      sets: loaded.infos,
      benchmarks: [...new Set(records.map((r) => r.benchmark.name))],
      from: starts[0] ?? null,
      to: ends.at(-1) ?? null,
      hosts: opened.length === 1 ? hostLines(opened[0]!) : opened.flatMap((s) => hostLines(s).map((l) => `${s.name}: ${l}`)),
      generatedAt: new Date().toISOString(),
      params,
      metrics,
      plots,
      stack,
      runs: runs.columns,
      skipped,
      comparison,
      findings: await setFindingsOf(sets, params, metrics, loaded.infos),
    };
  } finally {
    await sets.close();
  }
}
