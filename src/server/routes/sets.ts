/** GET /api/sets: the open result sets, their counts of runs by outcome, and their joint catalogue. */
import { SET_PARAM, type ApiParam, type SetsResponse } from '../api-types.ts';
import type { LoadedSets } from '../sets.ts';
import type { Route } from '../route.ts';

type Loaded = Awaited<ReturnType<LoadedSets['get']>>;
/** Per loaded state, computed once: the GUI asks for the catalogue every few seconds. */
const withSets = new WeakMap<Loaded, ApiParam[]>();

/**
 * The catalogue's parameters; with several sets, each says which of them its runs have: the GUI
 * offers a control only for the parameters of the sets chosen, and says when compared sets share
 * no setting.
 */
function paramsWithSets(l: Loaded): ApiParam[] {
  const names = l.infos.map((s) => s.name);
  if (names.length < 2) return l.catalog.params;
  let out = withSets.get(l);
  if (!out) {
    const has = new Map(names.map((n) => [n, new Set<string>()]));
    for (const r of l.records) for (const k of Object.keys(r.record.params)) has.get(r.set)?.add(k);
    out = l.catalog.params.map((p) => (p.name === SET_PARAM ? p : { ...p, sets: names.filter((n) => has.get(n)!.has(p.name)) }));
    withSets.set(l, out);
  }
  return out;
}

/** The routes of the sets and their catalogue. */
export const routes: Route[] = [
  {
    method: 'GET',
    path: '/api/sets',
    handle: async (ctx): Promise<SetsResponse> => {
      // Pages ask this every few seconds to follow a run: not a person at the controls (src/server/sets.ts, ACTIVE_MS).
      const l = await ctx.sets.get({ polling: true });
      return { sets: l.infos, params: paramsWithSets(l), metrics: l.catalog.metrics, version: l.version };
    },
  },
];
