/**
 * The rules every HTTP request to a streambench server passes before it is served: the
 * recording agents today, the GUI's server later. Who may call (a bearer token), from where
 * (the Origin and Host headers, so that no web page and no DNS-rebound name reaches a local
 * server), and with what (JSON bodies only, which a page cannot send cross-origin without a
 * preflight). One pure function over the request's method, path and headers and the server's
 * settings, so that every server refuses exactly the same things.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { errorMessage } from './errors.ts';

/** What a server accepts; built once when it starts. */
export interface ServerRules {
  /** The address the server listens on, as given: 127.0.0.1, ::1, localhost, 0.0.0.0, ::, 10.0.0.2, a name. */
  listen: string;
  /** The bearer token clients must send; required beyond loopback and for `tokenPaths`. */
  token?: string;
  /** Origins (`scheme://host[:port]`) whose pages may call this server. Agents have none: any Origin is refused. */
  allowedOrigins?: readonly string[];
  /** Names or addresses a request may give in Host beyond the defaults (only beyond loopback). */
  allowedHosts?: readonly string[];
  /** Paths that need the token even on loopback (agents: `/v1/run`, which runs commands). */
  tokenPaths?: readonly string[];
  /** This machine's names and addresses (see `machineNames()`), accepted in Host beyond loopback. */
  machineNames?: readonly string[];
}

/** The parts of a request the rules look at (Node's `IncomingMessage` fits). */
export interface RequestInfo {
  method?: string | undefined;
  /** The path, without the query string. */
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Served, or refused with an HTTP status and a message for the caller. */
export type Verdict = { ok: true } | { ok: false; status: 401 | 403 | 415 | 421; error: string };

/** Shortest token a server accepts: a shorter one could be guessed by trying. */
export const MIN_TOKEN_LENGTH = 16;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Decides whether a request may be served: Host, then Origin, then token, then body type. */
export function checkRequest(rules: ServerRules, req: RequestInfo): Verdict {
  const h = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const loopback = isLoopbackName(rules.listen);

  // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 still sends
  // `Host: evil.example`. Browsers always send Host; a client that sends none is no browser.
  const hostHeader = h('host');
  if (hostHeader !== undefined) {
    const host = parseHostHeader(hostHeader);
    if (!host || !hostAllowed(rules, host, loopback)) {
      const expected = loopback ? 'a loopback name (localhost, 127.x.x.x, [::1])' : "this machine's name or address, or a name given with --allow-host";
      return { ok: false, status: 421, error: `Host '${hostHeader.slice(0, 100)}' is not ${expected}` };
    }
  }

  const origin = h('origin');
  const allowedOrigin = origin !== undefined && (rules.allowedOrigins ?? []).some((o) => o.toLowerCase() === origin.toLowerCase());
  if (origin !== undefined && !allowedOrigin) return { ok: false, status: 403, error: `requests from web pages are refused (Origin '${origin.slice(0, 100)}')` };
  // A page's no-cors GET (an <img>, a <script>) carries no Origin, but browsers mark it cross-site.
  const site = h('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !allowedOrigin) return { ok: false, status: 403, error: `requests from web pages are refused (Sec-Fetch-Site '${site.slice(0, 30)}')` };

  const needsToken = rules.token !== undefined || !loopback || (rules.tokenPaths ?? []).includes(req.path);
  if (needsToken) {
    if (rules.token === undefined) return { ok: false, status: 403, error: `${req.path} needs a token and this server was started without one` };
    if (!tokenMatches(h('authorization'), rules.token)) return { ok: false, status: 401, error: 'missing or wrong token (Authorization: Bearer TOKEN)' };
  }

  const method = (req.method ?? 'GET').toUpperCase();
  const type = h('content-type');
  const hasBody = (h('content-length') !== undefined && h('content-length') !== '0') || h('transfer-encoding') !== undefined;
  if (BODY_METHODS.has(method) && (hasBody || type !== undefined) && !isJsonContentType(type)) {
    return { ok: false, status: 415, error: `${method} bodies must be Content-Type: application/json (got ${type === undefined ? 'none' : `'${type.slice(0, 100)}'`})` };
  }
  return { ok: true };
}

/**
 * What is wrong with a server's settings before it starts, or undefined when they are safe:
 * a token is needed beyond loopback and wherever commands run, and must be long enough.
 */
export function rulesProblem(rules: ServerRules, opts: { runsCommands?: boolean } = {}): string | undefined {
  const loopback = isLoopbackName(rules.listen);
  if (rules.token === undefined) {
    if (!loopback) return `listening on ${rules.listen} needs a token (STREAMBENCH_TOKEN, --token-file or --token): beyond loopback anyone on the network could call it`;
    if (opts.runsCommands) return 'running commands needs a token (STREAMBENCH_TOKEN, --token-file or --token): without one any local process or web page could run commands as this user';
  } else {
    const p = tokenProblem(rules.token);
    if (p) return p;
  }
  if (loopback && (rules.allowedHosts ?? []).length > 0) return `allowed host names apply beyond loopback only: listening on ${rules.listen}, requests must name a loopback address`;
  return undefined;
}

/** What is wrong with a token, or undefined: long enough to resist guessing, and plain enough for a header. */
export function tokenProblem(token: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(token)) return 'the token must be printable ASCII without spaces';
  if (token.length < MIN_TOKEN_LENGTH) return `the token has ${token.length} characters, at least ${MIN_TOKEN_LENGTH} are needed (e.g. openssl rand -hex 16)`;
  return undefined;
}

/** Whether an `Authorization` header carries this bearer token; constant time in the token's content and length. */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  // Digests have one length whatever was sent: comparing them leaks neither content nor length.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const got = digest(m ? m[1]! : '');
  return timingSafeEqual(got, digest(token)) && m !== null;
}

/** A fresh random token (256 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Reads a token from a file that only its owner can read (mode 0600 or 0400); throws saying what to fix. */
export function readTokenFile(path: string): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`cannot read the token file ${path}: ${errorMessage(e)}`);
  }
  if (!st.isFile()) throw new Error(`the token file ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) throw new Error(`the token file ${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: other users can read it; chmod 600 ${path}`);
  const token = readFileSync(path, 'utf8').trim();
  if (token === '') throw new Error(`the token file ${path} is empty`);
  return token;
}

/** Whether a name or address is loopback: localhost, 127.0.0.0/8, ::1 (brackets allowed). */
export function isLoopbackName(name: string): boolean {
  const n = unbracket(name.toLowerCase()).replace(/\.$/, '');
  if (n === 'localhost') return true;
  const kind = isIP(n);
  if (kind === 4) return n.startsWith('127.');
  if (kind === 6) return n === '::1' || n === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(n);
  return false;
}

/** The name (lowercase, brackets and a trailing dot removed) and port of a Host header; undefined when malformed. */
export function parseHostHeader(value: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  const name = unbracket(m[1]!.toLowerCase()).replace(/\.$/, '');
  if (name === '') return undefined;
  return m[2] !== undefined ? { name, port: Number(m[2]) } : { name };
}

/** Whether a Content-Type header says JSON (`application/json`, parameters such as `; charset=utf-8` allowed). */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** This machine's host name and interface addresses: what clients beyond loopback may name in Host. */
export function machineNames(): string[] {
  const names = new Set<string>([hostname().toLowerCase()]);
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) names.add(i.address.toLowerCase());
  }
  return [...names];
}

function hostAllowed(rules: ServerRules, host: { name: string }, loopback: boolean): boolean {
  if (isLoopbackName(host.name)) return true;
  if (loopback) return false;
  const listen = unbracket(rules.listen.toLowerCase());
  const wildcard = listen === '0.0.0.0' || listen === '::';
  const names = [...(rules.allowedHosts ?? []), ...(rules.machineNames ?? []), ...(wildcard ? [] : [listen])];
  return names.some((n) => unbracket(n.toLowerCase()).replace(/\.$/, '') === host.name);
}

function unbracket(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
}
