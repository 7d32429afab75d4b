// What a route of the GUI's API is and how it refuses a request. Kept apart from server.ts, which
// gathers the routes: a route module importing the server back made an import cycle, and importing
// a route module first crashed with "Cannot access ... before initialization".
import type { TableRoute } from '../base/route-table.ts';
import type { LoadedSets } from './sets.ts';

/** What a route handler gets. */
export interface RouteContext {
  /** The path's `:name` parts. */
  params: Record<string, string>;
  query: URLSearchParams;
  sets: LoadedSets;
  /** The parsed JSON body of a POST, if any. */
  body?: unknown;
}

/** A binary answer (an image, a Parquet file): sent as is. */
export interface BinaryAnswer {
  binary: Uint8Array;
  contentType: string;
}

/**
 * One API route: exact path or with `:name` parts, answering JSON (any value) or a BinaryAnswer.
 * Matched by the route table the agents share (src/base/route-table.ts).
 */
export type Route = TableRoute<RouteContext>;

/** A refusal a route gives for a bad request: the status and a one-line message for the user. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/**
 * A comma-separated list query parameter (`ids=a,b`): undefined when absent, its items otherwise,
 * empty items dropped. Refused (400) when given twice, when an item is repeated, or past `max` items.
 */
export function listParam(query: URLSearchParams, name: string, max: number): string[] | undefined {
  const all = query.getAll(name);
  if (all.length === 0) return undefined;
  if (all.length > 1) throw new ApiFailure(400, `${name} is given ${all.length} times: give it once, its items comma-separated`);
  const items = all[0]!.split(',').filter((s) => s !== '');
  if (items.length > max) throw new ApiFailure(400, `${items.length} ${name} asked at once: at most ${max}`);
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item)) throw new ApiFailure(400, `${name}: '${item.slice(0, 120)}' is asked more than once: name each once`);
    seen.add(item);
  }
  return items;
}
