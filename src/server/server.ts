/**
 * The GUI's HTTP server: serves the built web application (dist/web/) and the JSON API under
 * /api/ over the open result sets. Every request passes the same rules as the agents'
 * (src/base/request-rules.ts: Host, Origin, token), with the server's own page as the one
 * allowed origin. Binds loopback unless told otherwise; beyond loopback only with a token.
 */
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, errorMessage, InputError } from '../base/errors.ts';
import { checkRequest, isLoopbackName, machineNames, rulesProblem, type ServerRules } from '../base/request-rules.ts';
import { describeDuckError } from '../store/duck.ts';
import type { ResultSet } from '../store/resultset.ts';
import { ROUTES } from './routes/index.ts';
import { ApiFailure, type BinaryAnswer } from './route.ts';
import { findRoute } from '../base/route-table.ts';
import { LoadedSets } from './sets.ts';
export interface UiServerOptions {
  sets: readonly ResultSet[];
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Required beyond loopback; the page receives it in the URL's fragment. */
  token?: string;
  /** Names beyond this machine's a request may give in Host (beyond loopback only). */
  allowHosts?: readonly string[];
  /** The built web application (default: dist/web of this checkout). */
  webRoot?: string;
  /** How long one read of the sets or a run's files may take, in ms (default src/server/sets.ts READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
  /** Whether the server looks at the sets' indexes ahead of requests (default true; false for bench/gui-server-looks.ts's reference). */
  lookAhead?: boolean;
}

export interface UiServer {
  /** The page's address (with `#token=...` when there is a token). */
  url: string;
  /** The origin the server answers as. */
  origin: string;
  token?: string;
  sets: LoadedSets;
  close(): Promise<void>;
}

/** The built GUI of this checkout: dist/web at the top (src/server/ or dist/server/ is two levels down). */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL('../../dist/web/', import.meta.url));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Everything is served from here: no script, style or data from elsewhere.
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
};

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new ApiFailure(413, `the request body is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new ApiFailure(400, `the request body is not JSON: ${errorMessage(e)}`);
  }
}

/**
 * The file under root a URL path names, or undefined when it names none or leaves root (`..`,
 * an encoded slash, a link pointing out).
 */
export function staticFile(root: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes('\0') || rel.includes('\\')) return undefined;
  if (rel === '/' || rel === '') rel = '/index.html';
  const base = resolve(root);
  const full = resolve(base, `.${rel}`);
  if (full !== base && !full.startsWith(base + sep)) return undefined;
  if (!existsSync(full)) return undefined;
  // A link inside the build that points out of it is refused too.
  const real = realpathSync(full);
  const realBase = realpathSync(base);
  if (real !== realBase && !real.startsWith(realBase + sep)) return undefined;
  return statSync(real).isFile() ? real : undefined;
}

/** Starts the GUI's server; resolves once it listens. */
export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const host = opts.host ?? '127.0.0.1';
  const webRoot = opts.webRoot ?? defaultWebRoot();
  if (!existsSync(join(webRoot, 'index.html'))) {
    throw environmentProblem('ENOENT', `the GUI is not built (${join(webRoot, 'index.html')} is missing): run scripts/setup.sh, which builds it with Vite`);
  }
  const baseRules: ServerRules = {
    listen: host,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.allowHosts && opts.allowHosts.length > 0 ? { allowedHosts: opts.allowHosts } : {}),
    machineNames: isLoopbackName(host) ? [] : machineNames(),
  };
  const problem = rulesProblem(baseRules);
  if (problem) throw InputError.single('--listen', problem);
  const sets = new LoadedSets(opts.sets, { ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}), ...(opts.lookAhead !== undefined ? { lookAhead: opts.lookAhead } : {}) });
  // Loading starts now, not at the page's first request: by the time someone opens the printed
  // address the sets are usually in. A failure here is not lost: the first request loads again
  // and answers with it.
  sets.get().catch(() => undefined);
  let rules: ServerRules = baseRules;

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: apiError(e).error });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const path = url.pathname;
    const isApi = path === '/api' || path.startsWith('/api/');
    const info = { method: req.method, path, headers: req.headers };
    // The page and its scripts hold no data: a browser loading them cannot send the token (it
    // comes in the fragment, read by the page), so static files need none. Host and Origin
    // still apply, so no other site's page can reach them.
    const verdict = checkRequest(rules, isApi || rules.token === undefined ? info : { ...info, headers: { ...req.headers, authorization: `Bearer ${rules.token}` } });
    if (!verdict.ok) {
      sendJson(res, verdict.status, { error: verdict.error });
      return;
    }

    if (isApi) {
      const method = (req.method ?? 'GET').toUpperCase();
      const found = findRoute(ROUTES, method, path);
      if (found.route) {
        try {
          const body = method === 'POST' ? await readBody(req, 1 << 20) : undefined;
          const answer = await found.route.handle({ params: found.params, query: url.searchParams, sets, ...(body !== undefined ? { body } : {}) });
          if (answer && typeof answer === 'object' && 'binary' in answer && (answer as BinaryAnswer).binary instanceof Uint8Array) {
            const b = answer as BinaryAnswer;
            res.writeHead(200, { 'content-type': b.contentType, 'cache-control': 'no-store', ...SECURITY_HEADERS });
            res.end(b.binary);
          } else sendJson(res, 200, answer);
        } catch (e) {
          const { status, error } = apiError(e);
          sendJson(res, status, { error });
        }
        return;
      }
      sendJson(res, found.pathMatched ? 405 : 404, { error: found.pathMatched ? `${method} is not allowed on ${path}` : `no API route ${path}` });
      return;
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `${req.method} is not allowed on ${path}` });
      return;
    }
    const file = staticFile(webRoot, path);
    if (!file) {
      sendJson(res, 404, { error: `no file ${path.slice(0, 200)}` });
      return;
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': statSync(file).size, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', (e) => fail(listenError(e, host, opts.port ?? 0)));
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const hostPart = shown.includes(':') ? `[${shown}]` : shown;
  const origin = `http://${hostPart}:${port}`;
  // Pages load from any name the server answers to: each such origin may call the API.
  const origins = new Set([origin, `http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`]);
  for (const n of [...(opts.allowHosts ?? []), ...(baseRules.machineNames ?? [])]) origins.add(`http://${n.includes(':') ? `[${n}]` : n}:${port}`);
  rules = { ...baseRules, allowedOrigins: [...origins] };
  return {
    url: `${origin}/${opts.token !== undefined ? `#token=${encodeURIComponent(opts.token)}` : ''}`,
    origin,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    sets,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await sets.close();
    },
  };
}

/**
 * A failed request's status and its one line: a refusal as the route gave it, bad input 400, a
 * file that could not be read (src/store/duck.ts) 500 naming it (503 when it took too long), and
 * anything else its first line (never DuckDB's SQL excerpt).
 */
export function apiError(e: unknown): { status: number; error: string } {
  if (e instanceof ApiFailure) return { status: e.status, error: e.message };
  if (e instanceof InputError) return { status: 400, error: e.message };
  const file = describeDuckError(e, []);
  if (file) return { status: file.problem === 'timeout' ? 503 : 500, error: file.message };
  return { status: 500, error: errorMessage(e).split('\n')[0]!.trim() || 'internal error' };
}

/** An EnvironmentError (exit code 5) with its own words: errno's generic fix would mislead here. */
function environmentProblem(code: string, message: string): EnvironmentError {
  const e = new EnvironmentError('', '', code);
  e.message = message;
  return e;
}

function listenError(e: unknown, host: string, port: number): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'EADDRINUSE') return InputError.single('--port', `port ${port} on ${host} is in use: choose another, or 0 for any free one`);
  if (code === 'EADDRNOTAVAIL') return InputError.single('--listen', `${host} is not an address of this machine: choose one of its addresses`);
  if (code === 'EACCES') return environmentProblem(code, `no permission to listen on port ${port} of ${host}: ports below 1024 need root; choose another with --port`);
  return e instanceof Error ? e : new Error(String(e));
}
