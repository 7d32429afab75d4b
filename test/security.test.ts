// No open door on an agent, checked on real agent processes over real sockets: running a command
// needs the token even on loopback; web pages (Origin), DNS-rebound names (Host) and non-JSON
// bodies are refused whatever the token; the engine's local agents get a fresh token through
// their environment, never argv; an agent that would run commands without a token does not start.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
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
    createInterface({ input: child.stdout }).once('line', resolve);
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
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
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

test("the engine's local agents: a fresh token each, handed over through a pipe (--token-fd), never in argv or the environment; without it they refuse", async () => {
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
      assert.ok(argv.includes('--token-fd'), 'it came through a descriptor');
      assert.ok(!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(token), 'the token is not in its environment');
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

/**
 * What a command the agent runs can find of the agent's token without reading the agent's memory:
 * /proc/$PPID/environ, /proc/$PPID/cmdline, and the descriptors it holds beyond 0-2 (listed by
 * ls from outside, so that the listing itself opens none in the shell).
 */
const LOOK = ['sh', '-c', 'echo "environ:"; tr "\\0" "\\n" < /proc/$PPID/environ; echo "cmdline:"; tr "\\0" " " < /proc/$PPID/cmdline; echo; echo "fds:"; ls -l /proc/$$/fd; echo "agent fds:"; ls -l /proc/$PPID/fd'];

/**
 * Descriptors this test process passes on to every child (open without close-on-exec: those its
 * own starter left it), as "N -> target": an agent hands them on too, and they are not its doing.
 */
function inheritedFromAbove(): Set<string> {
  const kept = new Set<string>();
  for (const n of readdirSync('/proc/self/fd')) {
    try {
      const flags = parseInt(/^flags:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${n}`, 'utf8'))?.[1] ?? '0', 8);
      if ((flags & 0o2000000) === 0) kept.add(`${n} -> ${readlinkSync(`/proc/self/fd/${n}`)}`);
    } catch {
      // the directory's own descriptor, closed once read
    }
  }
  return kept;
}

/** The descriptors beyond 0-2 in LOOK's output that did not come from above the agent. */
function foreignFds(out: string): string[] {
  const above = inheritedFromAbove();
  return out
    .slice(out.indexOf('fds:\n'), out.indexOf('agent fds:\n'))
    .split('\n')
    .map((l) => / (\d+ -> .*)$/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined && Number(x.split(' ')[0]) > 2 && !above.has(x));
}

test('a command the agent runs finds its token neither in /proc/$PPID/environ, nor /proc/$PPID/cmdline, nor a descriptor it inherited: token from the environment, --token, --token-file, --token-fd', async () => {
  const file = join(work, 'token-look');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  const ways: [string, string[], Record<string, string>][] = [
    ['$STREAMBENCH_TOKEN', [], { STREAMBENCH_TOKEN: TOKEN }],
    ['--token', ['--token', TOKEN], {}],
    ['--token=', [`--token=${TOKEN}`], {}],
    ['--token-file', ['--token-file', file], {}],
  ];
  for (const [way, args, env] of ways) {
    const a = await agent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands', ...args], env);
    try {
      const r = await call(a.port, 'POST', '/v1/run', { ...json, ...auth }, JSON.stringify({ argv: LOOK, timeoutS: 30 }));
      assert.equal(r.status, 200, r.text);
      const out = (JSON.parse(r.text) as { stdout: string }).stdout;
      assert.match(out, /\nPATH=/, `${way}: the agent's environment was read`);
      assert.match(out, /cmdline:\n.*agent.*--allow-commands/, `${way}: its command line was read`);
      assert.ok(!out.includes(TOKEN), `${way}: the token is not to be found:\n${out}`);
      assert.deepEqual(foreignFds(out), [], `${way}: no descriptor of the agent's own beyond 0-2 inherited`);
    } finally {
      await stop(a.child);
    }
  }
  // --token-fd 3 given a file (as a shell's 3<FILE does): once read, the agent holds no descriptor
  // of it, which a command could reopen through /proc/$PPID/fd/3.
  const fd = openSync(file, 'r');
  const child = spawn(process.execPath, [CLI, 'agent', '--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands', '--token-fd', '3'], { stdio: ['ignore', 'pipe', 'inherit', fd], env: { ...process.env, STREAMBENCH_TOKEN: '' } });
  closeSync(fd);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
    });
    const r = await call((JSON.parse(line) as { port: number }).port, 'POST', '/v1/run', { ...json, ...auth }, JSON.stringify({ argv: LOOK, timeoutS: 30 }));
    assert.equal(r.status, 200, r.text);
    const out = (JSON.parse(r.text) as { stdout: string }).stdout;
    assert.ok(!out.includes(TOKEN), `--token-fd 3<FILE: the token is not to be found:\n${out}`);
    assert.match(out, /agent fds:\n/);
    assert.ok(!out.slice(out.indexOf('agent fds:')).includes(file), `--token-fd 3<FILE: the agent holds no descriptor of the token file:\n${out}`);
  } finally {
    await stop(child);
  }
  // The engine's local agents: --token-fd 3, a pipe the engine writes the token into.
  const local = await startLocalAgents(['host'], { allowCommands: true, logPath: join(work, 'agents-look.log') });
  try {
    const collector = new Collector(local.endpoints);
    await collector.connect();
    const r = await collector.run('host', { argv: LOOK, timeoutS: 30 });
    assert.match(r.stdout, /cmdline:\n.*--token-fd 3/, 'the local agent took its token from descriptor 3');
    assert.ok(!r.stdout.includes(local.endpoints[0]!.token!), `--token-fd: the token is not to be found:\n${r.stdout}`);
    assert.deepEqual(foreignFds(r.stdout), [], '--token-fd: descriptor 3 was closed once read');
  } finally {
    await local.stop();
  }
});
