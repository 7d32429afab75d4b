// `streambench ui` as a user starts it: --help, the one-line errors and their exit codes, and a
// real start that prints the address and serves the page until SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without types
import { buildWeb } from '../scripts/build-web.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'streambench.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'ui', ...args], { encoding: 'utf8', timeout: 120_000 });

test('ui --help documents the options; bad input is one line with its exit code', () => {
  const help = run('--help');
  assert.equal(help.status, 0, help.stderr);
  for (const opt of ['--port', '--listen', '--token-file', '--allow-host', '--root']) assert.ok(help.stdout.includes(opt), opt);
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^error: streambench ui: expected at least one result set\n/);
  const missing = run('/nonexistent/set');
  assert.equal(missing.status, 4);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const port = run(join(root, 'test/fixtures/sets/old-stream'), '--port', 'eighty');
  assert.equal(port.status, 2);
  assert.match(port.stderr, /--port: 'eighty' is not a port number/);
  const both = run(join(root, 'test/fixtures/sets/old-stream'), '--port', '1', '--listen', '0.0.0.0:1');
  assert.equal(both.status, 2);
  for (const r of [none, missing, port, both]) assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('ui beyond loopback makes a token, prints the address with it, serves the page and refuses the API without it', { timeout: 300_000 }, async () => {
  await (buildWeb as (o: { quiet: boolean }) => Promise<boolean>)({ quiet: true });
  const tmp = mkdtempSync(join(tmpdir(), 'sb-ui-cli-'));
  cpSync(join(root, 'test/fixtures/sets/old-stream'), join(tmp, 'set'), { recursive: true });
  const child = spawn(process.execPath, [cli, 'ui', join(tmp, 'set'), '--listen', '0.0.0.0:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STREAMBENCH_TOKEN: '' } });
  try {
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((ok, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.on('exit', (code) => fail(new Error(`ui ended with ${code}: ${out}`)));
    });
    const m = /^(http:\/\/[^/]+)\/#token=(\S+)$/.exec(url);
    assert.ok(m, url);
    const [, origin, token] = m;
    assert.ok(decodeURIComponent(token!).length >= 32);
    assert.equal((await fetch(`${origin}/`)).status, 200);
    assert.equal((await fetch(`${origin}/api/sets`)).status, 401);
    const ok = await fetch(`${origin}/api/sets`, { headers: { authorization: `Bearer ${decodeURIComponent(token!)}` } });
    assert.equal(ok.status, 200);
    const ended = new Promise<number | null>((ok2) => child.once('exit', (code) => ok2(code)));
    child.kill('SIGTERM');
    assert.equal(await ended, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});
