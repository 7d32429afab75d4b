/**
 * Calls the server's API (same origin). When the server was started with a token, the page's
 * address carries it after `#token=`: it is kept for this tab (sessionStorage) and taken out of
 * the address at once, so a shared link never carries it, and sent as a bearer token.
 */
import type { ApiError } from '../../src/server/api-types.ts';

const KEY = 'streambench.token';

function takeToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]!));
    history.replaceState(null, '', `${location.pathname}${location.search}`);
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}

const token = takeToken();

/** A refusal or failure of the API, with the server's message. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

type Params = Record<string, string | number | undefined> | URLSearchParams;

function urlOf(path: string, params: Params): string {
  const q =
    params instanceof URLSearchParams
      ? params
      : new URLSearchParams(
          Object.entries(params)
            .filter((e): e is [string, string | number] => e[1] !== undefined)
            .map(([k, v]) => [k, String(v)]),
        );
  return `${path}${q.toString() ? `?${q.toString()}` : ''}`;
}

/** Answers asked for before anyone needed them (prefetch), each handed to the first api() call for the same address. */
const early = new Map<string, Promise<unknown>>();

/**
 * Sends a GET now that a view will send once it is loaded (the page's first plot: its request
 * goes out while the view's script still loads); the view's own api() call for the same address
 * takes the answer, once. Nothing is lost when no call comes: the view asked for something else.
 */
export function prefetch(path: string, params: Params = {}): void {
  const url = urlOf(path, params);
  const p = get(url, path);
  // Seen by the caller that takes it; here only kept from counting as unhandled.
  p.catch(() => undefined);
  early.set(url, p);
}

/** GETs `path` with the query `params` (undefined values left out) and returns its JSON as T. */
export async function api<T>(path: string, params: Params = {}): Promise<T> {
  const url = urlOf(path, params);
  const sent = early.get(url);
  if (sent) {
    early.delete(url);
    return sent as Promise<T>;
  }
  return get(url, path);
}

async function get<T>(url: string, path: string): Promise<T> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, credentials: 'same-origin' });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiRequestError(res.status, `${path}: the server answered ${res.status} with no JSON`);
  }
  if (!res.ok) throw new ApiRequestError(res.status, (body as Partial<ApiError>).error ?? `${path}: HTTP ${res.status}`);
  return body as T;
}
