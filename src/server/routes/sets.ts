/** GET /api/sets: the open result sets, their counts of runs by outcome, and their joint catalogue. */
import type { SetsResponse } from '../api-types.ts';
import type { Route } from '../route.ts';

/** The routes of the sets and their catalogue. */
export const routes: Route[] = [
  {
    method: 'GET',
    path: '/api/sets',
    handle: async (ctx): Promise<SetsResponse> => {
      const l = await ctx.sets.get();
      return { sets: l.infos, params: l.catalog.params, metrics: l.catalog.metrics, version: l.version };
    },
  },
];
