// What a route of the GUI's API is and how it refuses a request. Kept apart from server.ts, which
// gathers the routes: a route module importing the server back made an import cycle, and importing
// a route module first crashed with "Cannot access ... before initialization".
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

/** One API route: exact path or with `:name` parts, answering JSON (any value) or a BinaryAnswer. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle(ctx: RouteContext): Promise<unknown>;
}

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
