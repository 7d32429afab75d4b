// The GUI server over real sockets: the request rules it shares with the agents (a page of another
// site refused, its own page's origin served, a DNS-rebound Host refused), a token required
// beyond loopback, static files that never leave the build, and the matrix route's checks of its
// query before any SQL.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../base/errors.ts';
import { ResultSet } from '../store/resultset.ts';
import { startUiServer, staticFile, type UiServer } from './server.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/sets/old-stream', import.meta.url));
const TOKEN = 'a-token-of-32-characters-0123456';

let tmp: string;
let web: string;
let set: ResultSet;
let server: UiServer;

/** A raw GET: the path goes on the wire as given (fetch would normalise `..` away). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

const portOf = (s: UiServer) => Number(new URL(s.origin).port);

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sb-server-'));
  // A build of its own: the test does not depend on dist/web, and plants a link pointing out of it.
  web = join(tmp, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(tmp, 'secret.txt'), 'TOP-SECRET-CONTENT');
  symlinkSync(join(tmp, 'secret.txt'), join(web, 'assets', 'link.txt'));
  // Reading a set saves its points table in it: a copy keeps the fixture as committed.
  cpSync(FIXTURE, join(tmp, 'set'), { recursive: true });
  set = ResultSet.open(join(tmp, 'set'));
  server = await startUiServer({ sets: [set], webRoot: web });
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('binds loopback; serves the page and the API to its own origin, refuses other sites and rebound names', async () => {
  const port = portOf(server);
  assert.equal(new URL(server.origin).hostname, '127.0.0.1');
  assert.equal(server.token, undefined);
  const page = await get(port, '/');
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  const own = await get(port, '/api/sets', { origin: server.origin, 'sec-fetch-site': 'same-origin' });
  assert.equal(own.status, 200, own.body);
  assert.equal((JSON.parse(own.body) as { sets: { name: string }[] }).sets[0]!.name, set.name);
  // The page's origin under localhost is the same server.
  assert.equal((await get(port, '/api/sets', { origin: `http://localhost:${port}` })).status, 200);

  const evil = await get(port, '/api/sets', { origin: 'http://evil.example' });
  assert.equal(evil.status, 403);
  assert.match(evil.body, /refused \(Origin 'http:\/\/evil\.example'\)/);
  // Another port of this machine is another origin.
  assert.equal((await get(port, '/api/sets', { origin: `http://127.0.0.1:${port + 1}` })).status, 403);
  // A no-cors request (an <img> of another site) has no Origin but says cross-site.
  assert.equal((await get(port, '/api/sets', { 'sec-fetch-site': 'cross-site' })).status, 403);
  // DNS rebinding: evil.example resolving to 127.0.0.1 still sends its name.
  const rebound = await get(port, '/', { host: `evil.example:${port}` });
  assert.equal(rebound.status, 421);
  assert.equal((await get(port, '/api/sets', { host: `evil.example:${port}` })).status, 421);
});

test('beyond loopback only with a token: refused without one; the API needs it, the page does not', async () => {
  await assert.rejects(startUiServer({ sets: [set], webRoot: web, host: '0.0.0.0' }), (e: unknown) => e instanceof InputError && /needs a token/.test(e.message));
  const open = await startUiServer({ sets: [set], webRoot: web, host: '0.0.0.0', token: TOKEN });
  try {
    const port = portOf(open);
    assert.match(open.url, new RegExp(`#token=${TOKEN}$`));
    assert.equal((await get(port, '/api/sets')).status, 401);
    assert.equal((await get(port, '/api/sets', { authorization: 'Bearer wrong-token-wrong-token-wrong' })).status, 401);
    assert.equal((await get(port, '/api/sets', { authorization: `Bearer ${TOKEN}` })).status, 200);
    // The page holds no data and a browser cannot send the token for it: served without, Host rules kept.
    assert.equal((await get(port, '/')).status, 200);
    assert.equal((await get(port, '/', { host: `evil.example:${port}` })).status, 421);
    assert.equal((await get(port, '/', { origin: 'http://evil.example' })).status, 403);
  } finally {
    await open.close();
  }
  // A token too short to resist guessing is refused before listening.
  await assert.rejects(startUiServer({ sets: [set], webRoot: web, host: '0.0.0.0', token: 'short' }), /at least 16/);
});

test('static files never leave the build: .., encoded .., backslashes, links pointing out', async () => {
  const port = portOf(server);
  const js = await get(port, '/assets/app.js');
  assert.equal(js.status, 200);
  assert.match(js.type, /^text\/javascript/);
  for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/assets/link.txt', '/%00', '/assets', `/${'x'.repeat(50)}%zz`]) {
    const r = await get(port, path);
    assert.equal(r.status, 404, `${path}: ${r.status} ${r.body}`);
    assert.doesNotMatch(r.body, /TOP-SECRET/);
  }
  // The same rules as a function: the checks, not the socket, are what refuse.
  assert.equal(staticFile(web, '/assets/../../secret.txt'), undefined);
  assert.equal(staticFile(web, '/'), join(web, 'index.html'));
  assert.equal((await get(port, '/index.html', {})).status, 200);
  const post = await new Promise<number>((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/index.html', method: 'POST', headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json' } }, (res) => ok(res.statusCode ?? 0));
    req.on('error', fail);
    req.end('{}');
  });
  assert.equal(post, 405);
});

test('the matrix route checks names and values against the catalogue before any SQL', async () => {
  const port = portOf(server);
  const ok = await get(port, '/api/matrix?metric=latency.p50&x=bitrate');
  assert.equal(ok.status, 200, ok.body);
  const body = JSON.parse(ok.body) as { columns: Record<string, unknown[]>; x: { numeric: boolean }; metric: { unit: string } };
  assert.equal(body.columns['x']!.length, 2);
  assert.equal(body.x.numeric, true);
  assert.equal(body.metric.unit, 'ms');
  const refused: [string, RegExp][] = [
    ['/api/matrix?metric=nope&x=bitrate', /no metric 'nope'/],
    ['/api/matrix?metric=latency.p50&x=bitrate%22%3B%20DROP%20TABLE%20points%3B--', /no parameter 'bitrate"; DROP TABLE points;--'/],
    ['/api/matrix?metric=latency.p50&x=bitrate&kind=pie', /kind: 'pie' is not one of/],
    ['/api/matrix?metric=latency.p50&x=bitrate&series=bitrate', /already the plot's x/],
    ['/api/matrix?metric=latency.p50&x=bitrate&kind=heatmap', /heatmap needs two parameters/],
    ['/api/matrix?x=bitrate', /missing query parameter 'metric'/],
  ];
  for (const [path, want] of refused) {
    const r = await get(port, path);
    assert.equal(r.status, 400, `${path}: ${r.body}`);
    assert.match((JSON.parse(r.body) as { error: string }).error, want);
  }
  assert.equal((await get(port, '/api/nothing')).status, 404);
});

test('the matrix route leaves failed runs out and says how many; a fixed value must be one the set has', async () => {
  // old-3pt: params rate (1, 2.5, 4) and mode; the rate 4 point failed.
  cpSync(fileURLToPath(new URL('../../test/fixtures/sets/old-3pt', import.meta.url)), join(tmp, 'old-3pt'), { recursive: true });
  const three = await startUiServer({ sets: [ResultSet.open(join(tmp, 'old-3pt'))], webRoot: web });
  try {
    const port = portOf(three);
    const r = await get(port, '/api/matrix?metric=lat_ms&x=rate&c.mode=v:fast');
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { columns: Record<string, unknown[]>; excludedFailed: number };
    assert.deepEqual(body.columns['x'], [1, 2.5]);
    assert.deepEqual(body.columns['value'], [15, 2.55]);
    assert.equal(body.excludedFailed, 1);
    const bad = await get(port, `/api/matrix?metric=lat_ms&x=rate&c.mode=${encodeURIComponent("v:fast' OR 1=1 --")}`);
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(bad.body) as { error: string }).error, /mode has no value 'fast' OR 1=1 --' here \(it has fast/);
  } finally {
    await three.close();
  }
});

test('flagged runs are plotted but counted and marked, per group and in all', async () => {
  // old-stream with a flag on its 500k point, as the recorder writes one (the index rebuilt from the points).
  const dir = join(tmp, 'flagged');
  cpSync(FIXTURE, dir, { recursive: true });
  const file = join(dir, 'points', 'b0726dabe656-r1', 'point.json');
  const rec = JSON.parse(readFileSync(file, 'utf8')) as { flags: string[]; params: { bitrate: string } };
  assert.equal(rec.params.bitrate, '500k');
  rec.flags = ['samples: a gap of 2.1 s in cpu'];
  writeFileSync(file, JSON.stringify(rec));
  rmSync(join(dir, 'index'), { recursive: true, force: true });
  const flagged = await startUiServer({ sets: [ResultSet.open(dir)], webRoot: web });
  try {
    const port = portOf(flagged);
    const sets = JSON.parse((await get(port, '/api/sets')).body) as { sets: { flagged: number; ok: number }[] };
    assert.equal(sets.sets[0]!.flagged, 1);
    const m = JSON.parse((await get(port, '/api/matrix?metric=latency.p50&x=bitrate')).body) as { columns: Record<string, unknown[]>; flagged: number };
    assert.equal(m.flagged, 1);
    assert.deepEqual(m.columns['x'], [500000, 1000000]);
    assert.deepEqual(m.columns['flagged'], [1, 0]);
    assert.equal(m.columns['value']!.filter((v) => typeof v === 'number').length, 2, 'a flagged run is still a result');
  } finally {
    await flagged.close();
  }
});
