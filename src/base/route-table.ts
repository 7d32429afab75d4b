/**
 * A table of HTTP routes, matched in order: the GUI's server (src/server/route.ts) and the
 * recording agent (src/record/agent-routes.ts) route through it alike. A route names its method and
 * its path, exact or with `:name` parts; what a handler gets and answers is each server's own.
 */

/** One route: `handle` gets the server's context with the path's `:name` parts. */
export interface TableRoute<Ctx, Answer = unknown> {
  method: 'GET' | 'POST';
  path: string;
  handle(ctx: Ctx & { params: Record<string, string> }): Promise<Answer>;
}

/** Matches a route's path pattern; the `:name` parts (URL-decoded), or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith(':')) {
      let v: string;
      try {
        v = decodeURIComponent(b[i]!);
      } catch {
        return undefined;
      }
      params[a[i]!.slice(1)] = v;
    } else if (a[i] !== b[i]) return undefined;
  }
  return params;
}

/**
 * The first route of `routes` for this method and path, with its `:name` parts; else whether
 * some route has the path (another method: 405 for a server that says so) or none does (404).
 */
export function findRoute<R extends { method: string; path: string }>(routes: readonly R[], method: string, path: string): { route: R; params: Record<string, string> } | { route: undefined; pathMatched: boolean } {
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return { route: undefined, pathMatched };
}
