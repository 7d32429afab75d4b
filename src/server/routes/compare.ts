/**
 * The compare view's route: two open sets, runs matched by their settings, per metric and matched
 * setting the change with its interval and Holm-corrected p. It calls src/analyze/compare.ts on the
 * sets read as `streambench compare` reads them (every ok run, flagged ones too), so a row on
 * screen is a change of `compare BASE NEW --metric M... --json`. The correction family is the
 * metrics shown: with no gate, `compare` corrects over every compared metric.
 */
import { compare } from '../../analyze/compare.ts';
import { compareSetOf } from '../../analyze/load.ts';
import { displaySetting } from '../../analyze/models.ts';
import { suggestHint } from '../../base/suggest.ts';
import { workloadDecl } from '../../config/registry.ts';
import type { CatalogMetric } from '../../store/catalog.ts';
import type { ResultSet } from '../../store/resultset.ts';
import type { ApiMetric, Columns, CompareResponse } from '../api-types.ts';
import { modelSource } from '../model-sources.ts';
import { ApiFailure, listParam, type Route, type RouteContext } from '../route.ts';

/** The level of the corrected test, as `compare`'s default. */
const ALPHA = 0.05;

/** Metrics offered when the workloads name no headline ones: the first with a direction, at most this many. */
const FALLBACK_METRICS = 8;

/** Settings of one set alone listed as examples (the count says how many). */
const EXAMPLES = 20;

/** Metrics one request may compare. */
const MAX_METRICS = 500;

function setNamed(ctx: RouteContext, key: 'base' | 'new'): ResultSet {
  const all = ctx.query.getAll(key);
  if (all.length !== 1 || all[0] === '') throw new ApiFailure(400, all.length > 1 ? `${key} is given ${all.length} times: name one set` : `missing the query parameter ${key} (the name of an open set)`);
  const name = all[0]!;
  const set = ctx.sets.sets.find((s) => s.name === name);
  if (!set) throw new ApiFailure(404, `no open result set '${name.slice(0, 100)}' (open: ${ctx.sets.sets.map((s) => s.name).join(', ')})`);
  return set;
}

/** The headline metrics of both sets' workloads that both have, in their declared order; else the first with a direction. */
function headlineOf(workloads: readonly string[], available: readonly CatalogMetric[]): string[] {
  const names = new Set(available.map((m) => m.name));
  const chosen = [...new Set(workloads.flatMap((w) => workloadDecl(w)?.headline ?? []))].filter((n) => names.has(n));
  if (chosen.length > 0) return chosen;
  return available
    .filter((m) => m.better !== 'none')
    .slice(0, FALLBACK_METRICS)
    .map((m) => m.name);
}

const apiMetric = (m: CatalogMetric): ApiMetric => ({ ...m });

/** A finite number, or null (JSON has no NaN). */
const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The routes of the compare view. */
export const routes: Route[] = [
  {
    method: 'GET',
    path: '/api/compare',
    handle: async (ctx): Promise<CompareResponse> => {
      const base = setNamed(ctx, 'base');
      const next = setNamed(ctx, 'new');
      if (base === next) throw new ApiFailure(400, `base and new are both '${base.name}': choose two different sets`);
      const asked = listParam(ctx.query, 'metrics', MAX_METRICS);
      const [sb, sn] = [await modelSource(ctx.sets, base, true), await modelSource(ctx.sets, next, true)];
      const cb = compareSetOf(sb);
      const cn = compareSetOf(sn);
      // What both sets have a value of: a metric one side never measured has nothing to compare.
      const has = (rows: typeof cb.rows) => new Set(rows.flatMap((r) => Object.keys(r.metrics)));
      const [hb, hn] = [has(cb.rows), has(cn.rows)];
      const available = sb.metrics.filter((m) => hb.has(m.name) && hn.has(m.name));
      const { records } = await ctx.sets.get();
      const workloads = [...new Set(records.filter((r) => r.set === base.name || r.set === next.name).map((r) => r.record.workload))];
      const headline = headlineOf(workloads, available);
      for (const m of asked ?? []) {
        if (!available.some((a) => a.name === m))
          throw new ApiFailure(
            400,
            `'${m.slice(0, 100)}' is not a metric both ${base.name} and ${next.name} have a value of: ${suggestHint(
              m,
              available.map((a) => a.name),
            )}`,
          );
      }
      const metrics = asked ?? headline;
      const r = compare(cb, cn, { metrics, alpha: ALPHA });

      // The first run of each side at a setting, to open it: settings are matched as compare matches them (every parameter of both sets, absent as null).
      const names = [...new Set([...cb.params, ...cn.params].map((p) => p.name))].sort();
      const keyOf = (p: Record<string, number | string>) => JSON.stringify(names.map((n) => p[n] ?? null));
      // Shown in the order the sets declare them; a value as the user wrote it (a bitrate as 2M).
      const declared = [...sb.catalog.params, ...sn.catalog.params].map((p) => p.name);
      const params = [...names].sort((a, b) => declared.indexOf(a) - declared.indexOf(b));
      const shown = (p: Record<string, number | string>) => displaySetting(sb, p);
      const firstRun = (rows: typeof cb.rows) => {
        const out = new Map<string, { key: string; rep: number }>();
        for (const row of rows) {
          const k = keyOf(row.params);
          const had = out.get(k);
          if (!had || row.key < had.key || (row.key === had.key && row.rep < had.rep)) out.set(k, { key: row.key, rep: row.rep });
        }
        return out;
      };
      const [rb, rn] = [firstRun(cb.rows), firstRun(cn.rows)];
      const cs = r.changes;
      const col = <T extends string | number | boolean | null>(f: (c: (typeof cs)[number]) => T) => cs.map(f);
      const columns: Columns = {
        metric: col((c) => c.metric),
        ...Object.fromEntries(params.map((n) => [`param:${n}`, col((c) => c.params[n] ?? null)])),
        ...Object.fromEntries(params.map((n) => [`label:${n}`, col((c) => String(shown(c.params)[n] ?? ''))])),
        base_mean: col((c) => finite(c.base.mean)),
        base_n: col((c) => c.base.n),
        new_mean: col((c) => finite(c.new.mean)),
        new_n: col((c) => c.new.n),
        change: col((c) => finite(c.change)),
        relative: col((c) => finite(c.relative)),
        lo: col((c) => finite(c.ci[0])),
        hi: col((c) => finite(c.ci[1])),
        test: col((c) => c.test),
        df: col((c) => finite(c.df)),
        p: col((c) => finite(c.p)),
        p_adj: col((c) => finite(c.pAdj)),
        real: col((c) => c.real),
        base_key: col((c) => rb.get(keyOf(c.params))?.key ?? null),
        base_rep: col((c) => rb.get(keyOf(c.params))?.rep ?? null),
        new_key: col((c) => rn.get(keyOf(c.params))?.key ?? null),
        new_rep: col((c) => rn.get(keyOf(c.params))?.rep ?? null),
      };
      const settings = [...new Set(cs.map((c) => keyOf(c.params)))].map((k) => JSON.parse(k) as unknown[]);
      const varying = params.filter((n) => new Set(settings.map((s) => JSON.stringify(s[names.indexOf(n)]))).size > 1);
      return {
        base: base.name,
        new: next.name,
        metrics: metrics.map((n) => apiMetric(available.find((m) => m.name === n)!)),
        available: available.map(apiMetric),
        headline,
        params,
        varying,
        correction: r.correction,
        alpha: r.alpha,
        family: { metrics: r.family.metrics, tests: r.family.tests },
        matched: r.matched,
        onlyBase: { count: r.onlyBase.length, examples: r.onlyBase.slice(0, EXAMPLES).map((p) => displaySetting(sb, p)) },
        onlyNew: { count: r.onlyNew.length, examples: r.onlyNew.slice(0, EXAMPLES).map((p) => displaySetting(sn, p)) },
        columns,
        notes: r.notes,
      };
    },
  },
];
