// The request rules one by one: Host (DNS rebinding), Origin and Sec-Fetch-Site (web pages),
// the token (always for commands, everywhere beyond loopback), JSON bodies only; the settings a
// server refuses to start with; token comparison and token files.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkRequest, isJsonContentType, isLoopbackName, newToken, parseHostHeader, readTokenFile, rulesProblem, tokenMatches, type RequestInfo, type ServerRules } from './request-rules.ts';

const TOKEN = 'a-token-of-24-characters';
const auth = { authorization: `Bearer ${TOKEN}` };
// An agent on loopback with a token and commands allowed, as the engine starts them.
const agent: ServerRules = { listen: '127.0.0.1', token: TOKEN, allowedOrigins: [], tokenPaths: ['/v1/run'] };
// An agent on loopback started without a token (no commands).
const open: ServerRules = { listen: '127.0.0.1', allowedOrigins: [], tokenPaths: ['/v1/run'] };
// An agent reachable on the network.
const remote: ServerRules = { listen: '0.0.0.0', token: TOKEN, allowedOrigins: [], tokenPaths: ['/v1/run'], allowedHosts: ['bench-host.lan'], machineNames: ['box7', '10.1.2.3'] };

function req(method: string, path: string, headers: Record<string, string> = {}): RequestInfo {
  return { method, path, headers: { host: '127.0.0.1:7070', ...headers } };
}
function status(rules: ServerRules, r: RequestInfo): number {
  const v = checkRequest(rules, r);
  return v.ok ? 200 : v.status;
}
const json = { 'content-type': 'application/json', 'content-length': '20' };

test('running a command needs the token, on loopback too; other endpoints of a token-less loopback server do not', () => {
  assert.equal(status(open, req('POST', '/v1/run', json)), 403, 'a server without a token runs no command');
  assert.match((checkRequest(open, req('POST', '/v1/run', json)) as { error: string }).error, /needs a token/);
  assert.equal(status(open, req('GET', '/v1/hello')), 200);
  assert.equal(status(open, req('GET', '/metrics')), 200);
  assert.equal(status(agent, req('POST', '/v1/run', json)), 401);
  assert.equal(status(agent, req('POST', '/v1/run', { ...json, authorization: 'Bearer wrong-token-of-24-chars!' })), 401);
  assert.equal(status(agent, req('POST', '/v1/run', { ...json, ...auth })), 200);
  assert.equal(status(agent, req('POST', '/v1/run', { ...json, authorization: `bearer  ${TOKEN}` })), 200, 'the scheme is case-insensitive');
  assert.equal(status(agent, req('POST', '/v1/run', { ...json, authorization: TOKEN })), 401, 'a bare token is not a bearer token');
});

test('with a token, every endpoint needs it; beyond loopback every endpoint needs one', () => {
  for (const path of ['/metrics', '/v1/hello', '/v1/time', '/v1/sessions/x/batches']) {
    assert.equal(status(agent, req('GET', path)), 401, path);
    assert.equal(status(agent, req('GET', path, auth)), 200, path);
    assert.equal(status(remote, req('GET', path, { host: '10.1.2.3:7070' })), 401, path);
    assert.equal(status(remote, req('GET', path, { host: '10.1.2.3:7070', ...auth })), 200, path);
  }
  // Settings that slipped past rulesProblem still leave no door open.
  assert.equal(status({ listen: '0.0.0.0' }, req('GET', '/metrics')), 403);
});

test('any Origin is refused when the server allows none, even with the right token; an allowed origin passes', () => {
  assert.equal(status(agent, req('POST', '/v1/run', { ...json, ...auth, origin: 'http://evil.example' })), 403);
  assert.equal(status(agent, req('GET', '/metrics', { ...auth, origin: 'http://127.0.0.1:7070' })), 403, 'agents have no web page: even their own origin');
  assert.equal(status(open, req('GET', '/v1/hello', { origin: 'null' })), 403, 'sandboxed pages and file:// send null');
  const gui: ServerRules = { listen: '127.0.0.1', allowedOrigins: ['http://127.0.0.1:8080'] };
  assert.equal(status(gui, req('POST', '/api/x', { ...json, origin: 'http://127.0.0.1:8080' })), 200);
  assert.equal(status(gui, req('POST', '/api/x', { ...json, origin: 'HTTP://127.0.0.1:8080' })), 200, 'scheme and host compare case-insensitively');
  assert.equal(status(gui, req('POST', '/api/x', { ...json, origin: 'http://127.0.0.1:8081' })), 403, 'another port is another origin');
  assert.equal(status(gui, req('POST', '/api/x', { ...json, origin: 'http://evil.example' })), 403);
});

test('a cross-site request without Origin (an <img>, a no-cors GET) is refused by its Sec-Fetch-Site', () => {
  assert.equal(status(open, req('GET', '/v1/sessions/p1/batches', { 'sec-fetch-site': 'cross-site' })), 403);
  assert.equal(status(open, req('GET', '/v1/sessions/p1/batches', { 'sec-fetch-site': 'same-site' })), 403);
  assert.equal(status(open, req('GET', '/metrics', { 'sec-fetch-site': 'none' })), 200, 'typed in the address bar');
  assert.equal(status(open, req('GET', '/metrics', { 'sec-fetch-site': 'same-origin' })), 200);
});

test('a POST or PUT body must be application/json (parameters allowed); a bodiless POST may omit the type', () => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'text/json']) {
    assert.equal(status(agent, req('POST', '/v1/run', { ...auth, 'content-type': type, 'content-length': '30' })), 415, type);
    assert.equal(status(agent, req('PUT', '/v1/x', { ...auth, 'content-type': type, 'content-length': '30' })), 415, type);
  }
  assert.equal(status(agent, req('POST', '/v1/run', { ...auth, 'content-length': '30' })), 415, 'a body of no declared type');
  assert.equal(status(agent, req('POST', '/v1/run', { ...auth, 'transfer-encoding': 'chunked' })), 415, 'a chunked body of no declared type');
  assert.equal(status(agent, req('POST', '/v1/run', { ...auth, 'content-type': 'application/json; charset=utf-8', 'content-length': '30' })), 200);
  assert.equal(status(agent, req('POST', '/v1/run', { ...auth, 'content-type': 'Application/JSON', 'content-length': '30' })), 200);
  assert.equal(status(agent, req('POST', '/v1/sessions/x/stop', { ...auth, 'content-length': '0' })), 200);
  assert.equal(status(agent, req('GET', '/metrics', { ...auth, 'content-type': 'text/plain' })), 200, 'GET is not checked');
  assert.equal(isJsonContentType(undefined), false);
  assert.equal(isJsonContentType(' application/json ;charset=utf-8'), true);
});

test('on loopback, Host must be a loopback name: a DNS-rebound name is refused', () => {
  for (const host of ['127.0.0.1:7070', '127.0.0.1', 'localhost:7070', 'LOCALHOST', 'localhost.:7070', '127.9.8.7:1', '[::1]:7070', '[::1]']) {
    assert.equal(status(agent, req('GET', '/metrics', { ...auth, host })), 200, host);
  }
  for (const host of ['evil.example:1234', 'evil.example', '10.1.2.3:7070', 'localhost.evil.example', '127.0.0.1.evil.example', '[::2]:7070', 'box7', '', 'a b', 'user@127.0.0.1', '127.0.0.1:7070/x', 'localhost:99999999']) {
    assert.equal(status(agent, req('GET', '/metrics', { ...auth, host })), 421, host);
  }
  assert.equal(status(agent, { method: 'GET', path: '/metrics', headers: { ...auth } }), 200, 'no Host at all: an HTTP/1.0 client, not a browser');
});

test('beyond loopback, Host must name this machine (name or address), the listen address, or an --allow-host name', () => {
  for (const host of ['10.1.2.3:7070', 'box7', 'BOX7:7070', 'bench-host.lan:7070', '127.0.0.1:7070', 'localhost']) {
    assert.equal(status(remote, req('GET', '/metrics', { ...auth, host })), 200, host);
  }
  for (const host of ['evil.example:7070', 'bench-host.lan.evil.example', '10.1.2.4:7070']) {
    assert.equal(status(remote, req('GET', '/metrics', { ...auth, host })), 421, host);
  }
  const one: ServerRules = { listen: '192.168.5.5', token: TOKEN };
  assert.equal(status(one, req('GET', '/metrics', { ...auth, host: '192.168.5.5:7070' })), 200, 'the listen address itself');
  assert.equal(status(one, req('GET', '/metrics', { ...auth, host: 'evil.example:7070' })), 421);
});

test('a server refuses to start without a token beyond loopback or with commands, with a short token, or with --allow-host on loopback', () => {
  assert.equal(rulesProblem({ listen: '127.0.0.1' }), undefined);
  assert.equal(rulesProblem({ listen: 'localhost' }), undefined);
  assert.match(rulesProblem({ listen: '127.0.0.1' }, { runsCommands: true }) ?? '', /running commands needs a token/);
  assert.equal(rulesProblem({ listen: '127.0.0.1', token: TOKEN }, { runsCommands: true }), undefined);
  assert.match(rulesProblem({ listen: '0.0.0.0' }) ?? '', /listening on 0\.0\.0\.0 needs a token/);
  assert.match(rulesProblem({ listen: '::' }) ?? '', /needs a token/);
  assert.match(rulesProblem({ listen: '0.0.0.0', token: 'short' }) ?? '', /5 characters, at least 16/);
  assert.match(rulesProblem({ listen: '0.0.0.0', token: 'has a space in it, long' }) ?? '', /printable ASCII without spaces/);
  assert.match(rulesProblem({ listen: '127.0.0.1', allowedHosts: ['x.lan'] }) ?? '', /beyond loopback only/);
  assert.equal(rulesProblem({ listen: '0.0.0.0', token: TOKEN, allowedHosts: ['x.lan'] }), undefined);
});

test('tokens: compared whole (no prefix, no longer one), fresh ones differ; loopback names and Host headers parse', () => {
  assert.equal(tokenMatches(`Bearer ${TOKEN}`, TOKEN), true);
  assert.equal(tokenMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN), false);
  assert.equal(tokenMatches(`Bearer ${TOKEN}x`, TOKEN), false);
  assert.equal(tokenMatches('Bearer ', TOKEN), false);
  assert.equal(tokenMatches(undefined, TOKEN), false);
  assert.equal(tokenMatches(`Basic ${TOKEN}`, TOKEN), false);
  const a = newToken();
  assert.notEqual(a, newToken());
  assert.ok(a.length >= 40 && /^[A-Za-z0-9_-]+$/.test(a), a);
  assert.equal(rulesProblem({ listen: '0.0.0.0', token: a }), undefined, 'a fresh token passes the server checks');
  for (const n of ['127.0.0.1', '127.255.0.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackName(n), true, n);
  for (const n of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.evil.example', 'box7']) assert.equal(isLoopbackName(n), false, n);
  assert.deepEqual(parseHostHeader('[::1]:7070'), { name: '::1', port: 7070 });
  assert.deepEqual(parseHostHeader('Box7'), { name: 'box7' });
  assert.equal(parseHostHeader('a:b:c'), undefined);
});

test('a token file is read only when its owner alone can read it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-token-'));
  const file = join(dir, 'token');
  writeFileSync(file, `${TOKEN}\n`);
  chmodSync(file, 0o644);
  assert.throws(() => readTokenFile(file), /mode 0644: other users can read it; chmod 600/);
  chmodSync(file, 0o640);
  assert.throws(() => readTokenFile(file), /mode 0640/);
  chmodSync(file, 0o600);
  assert.equal(readTokenFile(file), TOKEN, 'the trailing newline is not part of the token');
  chmodSync(file, 0o400);
  assert.equal(readTokenFile(file), TOKEN);
  assert.throws(() => readTokenFile(join(dir, 'missing')), /cannot read the token file .*missing.*ENOENT/);
  assert.throws(() => readTokenFile(dir), /not a regular file/);
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n', { mode: 0o600 });
  assert.throws(() => readTokenFile(empty), /is empty/);
});
