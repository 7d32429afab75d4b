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
import { CLI, runCli } from './helpers/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (...args: string[]) => runCli(['ui', ...args], { timeoutMs: 120_000 });

test('ui --help documents the options; bad input is one line with its exit code', () => {
  const help = run('--help');
  assert.equal(help.code, 0, help.err);
  for (const opt of ['--port', '--listen', '--token-file', '--allow-host', '--root']) assert.ok(help.out.includes(opt), opt);
  const none = run();
  assert.equal(none.code, 2);
  assert.match(none.err, /^error: streambench ui: expected at least one result set\n/);
  const missing = run('/nonexistent/set');
  assert.equal(missing.code, 4);
  assert.equal(missing.err.trim().split('\n').length, 1, missing.err);
  const port = run(join(root, 'test/fixtures/sets/old-stream'), '--port', 'eighty');
  assert.equal(port.code, 2);
  assert.match(port.err, /--port: 'eighty' is not a port number/);
  const both = run(join(root, 'test/fixtures/sets/old-stream'), '--port', '1', '--listen', '0.0.0.0:1');
  assert.equal(both.code, 2);
  for (const r of [none, missing, port, both]) assert.doesNotMatch(r.err, /\n\s+at /);
});

test('ui beyond loopback makes a token, prints the address with it, serves the page and refuses the API without it', { timeout: 300_000 }, async () => {
  await (buildWeb as (o: { quiet: boolean }) => Promise<boolean>)({ quiet: true });
  const tmp = mkdtempSync(join(tmpdir(), 'sb-ui-cli-'));
  cpSync(join(root, 'test/fixtures/sets/old-stream'), join(tmp, 'set'), { recursive: true });
  const child = spawn(process.execPath, [CLI, 'ui', join(tmp, 'set'), '--listen', '0.0.0.0:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STREAMBENCH_TOKEN: '' } });
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

test("ui ends on SIGTERM whatever a request is doing; a FIFO in place of a run's samples.parquet holds up no route", { timeout: 300_000 }, async (t) => {
  await (buildWeb as (o: { quiet: boolean }) => Promise<boolean>)({ quiet: true });
  const tmp = mkdtempSync(join(tmpdir(), 'sb-ui-fifo-'));
  const setDir = join(tmp, 'set');
  cpSync(join(root, 'test/fixtures/sets/old-stream'), setDir, { recursive: true });
  const [a, b] = ['b0726dabe656', 'c039e419f491'];
  const samples = join(setDir, 'points', `${a}-r1`, 'samples.parquet');
  rmSync(samples);
  // Opening a FIFO for reading waits for a writer: a read that reached it would never end.
  spawnSync('mkfifo', [samples]);
  const child = spawn(process.execPath, [CLI, 'ui', setDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Also when the test times out (a build whose routes hang on the FIFO): no ui left behind.
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  try {
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const origin = await new Promise<string>((ok, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/[^/\s]+)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.on('exit', (code) => fail(new Error(`ui ended with ${code}: ${out}`)));
    });
    const ask = async (path: string, q: Record<string, string>) => {
      const res = await fetch(`${origin}${path}?${new URLSearchParams(q).toString()}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
    };
    // The run view's series of that run: asked first, not awaited yet (were it read, it would never answer).
    const series = ask('/api/run/series', { set: 'old-stream', key: a, rep: '1', ids: 'samples:client:cpu.busy_pct', width: '800' });
    // Every other route answers meanwhile: the other run's view, its series, the sets.
    const other = await ask('/api/run', { set: 'old-stream', key: b, rep: '1' });
    assert.equal(other.status, 200, other.body.error);
    const otherSeries = await ask('/api/run/series', { set: 'old-stream', key: b, rep: '1', ids: 'samples:client:cpu.busy_pct', width: '800' });
    assert.equal(otherSeries.status, 200, otherSeries.body.error);
    assert.equal((await ask('/api/sets', {})).status, 200);
    // The FIFO's run: the series of the FIFO left out with one line saying why, the rest of the run shown.
    const s = await series;
    assert.equal(s.status, 200, s.body.error);
    assert.deepEqual(s.body['series'], []);
    assert.deepEqual(s.body['problems'], [{ file: 'samples.parquet', problem: 'not a file', error: `${samples} is a FIFO (named pipe), not a Parquet file: not read`, affects: "the agents' samples (CPU, memory, network, processes, GPU, custom probes)" }]);
    const info = await ask('/api/run', { set: 'old-stream', key: a, rep: '1' });
    assert.equal(info.status, 200, info.body.error);
    assert.ok(
      (info.body['series'] as { id: string }[]).some((x) => x.id === 'frames:client:latency_ms'),
      'the frames of that run are still there',
    );
    // SIGTERM with requests in flight: ui ends, with 0 (its documented code for Ctrl-C and SIGTERM).
    const inFlight = [ask('/api/run/frames', { set: 'old-stream', key: a, rep: '1' }), ask('/api/run', { set: 'old-stream', key: a, rep: '1' })].map((p) => p.catch(() => undefined));
    const ended = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    child.kill('SIGTERM');
    assert.equal(await ended, 0, out);
    await Promise.all(inFlight);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});
