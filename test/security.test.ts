// No open door on an agent, checked on real agent processes over real sockets: running a command
// needs the token even on loopback; web pages (Origin), DNS-rebound names (Host) and non-JSON
// bodies are refused whatever the token; the engine's local agents get a fresh token through
// their environment, never argv; an agent that would run commands without a token does not start.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Collector } from '../src/record/collector.ts';
import { startLocalAgents } from '../src/record/local.ts';

const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-security-'));
const TOKEN = 'security-test-token-0123456789';

/** Starts `streambench agent`; resolves with its port once it is listening. */
async function agent(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, STREAMBENCH_TOKEN: '', ...env } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

/** Runs `streambench agent` expecting it not to start: its exit code, stdout and stderr. */
function refusedAgent(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STREAMBENCH_TOKEN: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // It started after all: end it so the test fails on its assertions instead of waiting forever.
    if (stdout.includes('"ready"')) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** One raw HTTP request to 127.0.0.1:port, every header as given (Host included). */
function call(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const auth = { authorization: `Bearer ${TOKEN}` };
const runBody = (argv: string[]) => JSON.stringify({ argv, timeoutS: 10 });

test('/v1/run: refused without the token on loopback (401); with it the command runs', async () => {
  const a = await agent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands'], { STREAMBENCH_TOKEN: TOKEN });
  try {
    const marker = join(work, 'ran-without-token');
    const no = await call(a.port, 'POST', '/v1/run', json, runBody(['touch', marker]));
    assert.equal(no.status, 401, no.text);
    const wrong = await call(a.port, 'POST', '/v1/run', { ...json, authorization: 'Bearer not-the-token-0123456789' }, runBody(['touch', marker]));
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(existsSync(marker), false, 'nothing ran');
    const yes = await call(a.port, 'POST', '/v1/run', { ...json, ...auth }, runBody(['printf', '%s', 'ran']));
    assert.equal(yes.status, 200, yes.text);
    assert.equal((JSON.parse(yes.text) as { stdout: string }).stdout, 'ran');
    // The token stays with the agent: the commands it runs do not inherit it.
    const env = await call(a.port, 'POST', '/v1/run', { ...json, ...auth }, runBody(['env']));
    assert.equal(env.status, 200);
    assert.match((JSON.parse(env.text) as { stdout: string }).stdout, /^PATH=/m, 'env printed the environment');
    assert.doesNotMatch(env.text, new RegExp(TOKEN), 'the token is not in the environment of the commands it runs');
  } finally {
    await stop(a.child);
  }
});

test('a request from a web page (Origin), a text/plain body, or a Host that is not loopback is refused even with the right token', async () => {
  const a = await agent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands'], { STREAMBENCH_TOKEN: TOKEN });
  try {
    const marker = join(work, 'ran-refused');
    const cross = await call(a.port, 'POST', '/v1/run', { ...json, ...auth, origin: 'http://evil.example' }, runBody(['touch', marker]));
    assert.equal(cross.status, 403, cross.text);
    assert.match(cross.text, /Origin 'http:\/\/evil\.example'/);
    assert.equal((await call(a.port, 'GET', '/metrics', { ...auth, origin: 'http://evil.example' })).status, 403, 'GET too');
    // What the attack used: a "simple" cross-origin POST, which needs no preflight.
    const plain = await call(a.port, 'POST', '/v1/run', { ...auth, 'content-type': 'text/plain' }, runBody(['touch', marker]));
    assert.equal(plain.status, 415, plain.text);
    const form = await call(a.port, 'POST', '/v1/events', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, JSON.stringify({ events: [] }));
    assert.equal(form.status, 415, form.text);
    const rebound = await call(a.port, 'POST', '/v1/run', { ...json, ...auth, host: 'evil.example:1234' }, runBody(['touch', marker]));
    assert.equal(rebound.status, 421, rebound.text);
    assert.equal((await call(a.port, 'GET', '/v1/hello', { ...auth, host: 'evil.example:1234' })).status, 421, 'every endpoint');
    assert.equal(existsSync(marker), false, 'nothing ran');
    // The same requests with proper headers pass: the refusals above came from the header under test.
    assert.equal((await call(a.port, 'GET', '/v1/hello', { ...auth, host: `localhost:${a.port}` })).status, 200);
    assert.equal((await call(a.port, 'POST', '/v1/run', { 'content-type': 'application/json; charset=utf-8', ...auth }, runBody(['true']))).status, 200);
  } finally {
    await stop(a.child);
  }
});

test('beyond loopback: every endpoint needs the token, and Host must be this machine or an --allow-host name', async () => {
  const a = await agent(['--role', 'host', '--listen', '0.0.0.0:0', '--allow-host', 'bench-host.lan'], { STREAMBENCH_TOKEN: TOKEN });
  try {
    assert.equal((await call(a.port, 'GET', '/metrics', {})).status, 401);
    assert.equal((await call(a.port, 'GET', '/v1/time', {})).status, 401);
    assert.equal((await call(a.port, 'GET', '/metrics', { ...auth, host: `bench-host.lan:${a.port}` })).status, 200);
    assert.equal((await call(a.port, 'GET', '/metrics', { ...auth, host: `127.0.0.1:${a.port}` })).status, 200);
    assert.equal((await call(a.port, 'GET', '/metrics', { ...auth, host: `evil.example:${a.port}` })).status, 421);
    assert.equal((await call(a.port, 'POST', '/v1/run', { ...json, ...auth }, runBody(['true']))).status, 403, 'commands not allowed');
  } finally {
    await stop(a.child);
  }
});

test('the engine\'s local agents: a fresh token each, handed over in the environment, never in argv; without it they refuse', async () => {
  const local = await startLocalAgents(['guest', 'client'], { allowCommands: true, logPath: join(work, 'agents.log') });
  try {
    const [g, c] = local.endpoints;
    assert.ok(g?.token && c?.token, 'each endpoint carries its token');
    assert.notEqual(g.token, c.token);
    for (const [i, pid] of local.pids.entries()) {
      const token = local.endpoints[i]!.token!;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes('agent') && argv.includes('--allow-commands'), `pid ${pid} is the agent: ${argv.join(' ')}`);
      assert.ok(!argv.some((x) => x.includes(token)), 'the token is not in argv');
      assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`STREAMBENCH_TOKEN=${token}`), 'it came through the environment');
    }
    await new Collector([{ role: 'guest', url: g.url }]).connect().then(
      () => assert.fail('an agent of the engine answered without its token'),
      (e: unknown) => assert.match(String(e), /missing or wrong token/),
    );
    const collector = new Collector(local.endpoints);
    await collector.connect();
    const r = await collector.run('client', { argv: ['printf', 'ok'], timeoutS: 10 });
    assert.equal(r.stdout, 'ok');
    // A pipeline role's frame events need the token too.
    const port = Number(new URL(c.url).port);
    const events = JSON.stringify({ events: [{ t: 1, frame: 0, stage: 'display', role: 'client' }] });
    assert.equal((await call(port, 'POST', '/v1/events', json, events)).status, 401);
    assert.equal((await call(port, 'POST', '/v1/events', { ...json, authorization: `Bearer ${c.token}` }, events)).status, 200);
  } finally {
    await local.stop();
  }
});

test('an agent that would run commands without a token, or listen beyond loopback without one, does not start', async () => {
  const noToken = await refusedAgent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands']);
  assert.equal(noToken.code, 2);
  assert.equal(noToken.stdout, '', 'no ready line');
  assert.match(noToken.stderr, /running commands needs a token/);
  assert.doesNotMatch(noToken.stderr, /^\s+at /m, 'no stack trace');
  const remote = await refusedAgent(['--role', 'host', '--listen', '0.0.0.0:0']);
  assert.equal(remote.code, 2);
  assert.match(remote.stderr, /listening on 0\.0\.0\.0 needs a token/);
  const short = await refusedAgent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands'], { STREAMBENCH_TOKEN: 'short' });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /at least 16/);
  const hostOnLoopback = await refusedAgent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-host', 'x.lan']);
  assert.equal(hostOnLoopback.code, 2);
  assert.match(hostOnLoopback.stderr, /beyond loopback only/);
});

test('--token-file: refused when other users can read it; read (and enough to run commands) at mode 0600', async () => {
  const file = join(work, 'token');
  writeFileSync(file, `${TOKEN}\n`);
  chmodSync(file, 0o644);
  const loose = await refusedAgent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands', '--token-file', file]);
  assert.equal(loose.code, 2);
  assert.match(loose.stderr, /--token-file: the token file .* has mode 0644: other users can read it; chmod 600/);
  chmodSync(file, 0o600);
  const a = await agent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands', '--token-file', file]);
  try {
    assert.equal((await call(a.port, 'POST', '/v1/run', json, runBody(['true']))).status, 401);
    assert.equal((await call(a.port, 'POST', '/v1/run', { ...json, ...auth }, runBody(['true']))).status, 200);
  } finally {
    await stop(a.child);
  }
});
