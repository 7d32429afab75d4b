/** GET /api/findings: what the report opens with (src/server/set-findings.ts), for the GUI's findings view. */
import type { FindingsResponse } from '../api-types.ts';
import type { Route } from '../route.ts';
import type { LoadedSets } from '../sets.ts';
import { setFindings } from '../set-findings.ts';

/** Findings per server and state of its sets: computed once per state (a run adding points makes a new one), not per request. */
const computed = new WeakMap<LoadedSets, { version: number; answer: Promise<FindingsResponse> }>();

/** The routes of the findings view. */
export const routes: Route[] = [
  {
    method: 'GET',
    path: '/api/findings',
    handle: async (ctx): Promise<FindingsResponse> => {
      const { version } = await ctx.sets.get();
      const kept = computed.get(ctx.sets);
      if (kept && kept.version === version) return kept.answer;
      const answer = setFindings(ctx.sets);
      computed.set(ctx.sets, { version, answer });
      // A failed computation is not kept: the next request tries again.
      answer.catch(() => {
        if (computed.get(ctx.sets)?.answer === answer) computed.delete(ctx.sets);
      });
      return answer;
    },
  },
];
