/**
 * The matrix view's request, apart from the view: the shell sends the first one while the view's
 * script (and ECharts) still loads, when the address says all the request depends on.
 */
import type { ViewState } from './state.ts';

/** The /api/matrix query for a state (the view's defaults already in it). */
export function matrixQuery(s: ViewState): URLSearchParams {
  const q = new URLSearchParams();
  q.set('metric', s['y'] ?? '');
  q.set('x', s['x'] ?? '');
  if (s['s']) q.set('series', s['s']);
  if (s['f']) q.set('facet', s['f']);
  q.set('kind', s['kind'] ?? 'line');
  q.set('agg', s['agg'] ?? 'mean');
  for (const [k, v] of Object.entries(s)) if (k.startsWith('c.')) q.set(k, v);
  return q;
}

/**
 * The query of the matrix view's first plot when the address alone gives it: the indicator, the
 * x parameter and the series named (kind and aggregate have fixed defaults; the other defaults
 * need the catalogue). The view asks for the same unless the address names something the sets
 * lack, and then the early answer is simply not used.
 */
export function firstMatrixQuery(s: ViewState): URLSearchParams | undefined {
  if ((s['view'] ?? 'matrix') !== 'matrix' || !s['y'] || !s['x'] || s['s'] === undefined) return undefined;
  return matrixQuery(s);
}
