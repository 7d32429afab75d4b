// `--executor agents` for real: three agents on this machine, reached through its non-loopback
// address with a token, each starting its role of a stream point; the point records the same
// metric names as a local run of it, and a wrong token is a clear exit-5 error.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import type { PointRecord } from '../src/store/records.ts';
import { CLI, runCliAsync } from './helpers/cli.ts';
import { endStarted } from './helpers/procs.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-agents-exec-'));
const ip = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const TOKEN = 'agents-executor-test-token-0123456789';
const started: ChildProcess[] = [];

after(() => endStarted(started));

async function agent(role: string, tokenFile: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'agent', '--role', role, '--listen', `${ip}:0`, '--token-file', tokenFile, '--allow-commands'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent ${role} exited ${c}`)));
  });
  return `http://${ip}:${(JSON.parse(line) as { port: number }).port}`;
}

const cli = (args: string[], env: Record<string, string> = {}) => runCliAsync(args, { env });

function records(results: string): PointRecord[] {
  const dir = join(results, 'points');
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .map((d) => JSON.parse(readFileSync(join(dir, d, 'point.json'), 'utf8')) as PointRecord);
}

test('--executor agents: each role of a stream point through its agent, the same metrics as a local run', { skip: ip ? false : 'no non-loopback IPv4 address here', timeout: 300_000 }, async () => {
  const tokenFile = join(work, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const urls = { guest: await agent('guest', tokenFile), host: await agent('host', tokenFile), client: await agent('client', tokenFile) };
  const body = `workload: {type: stream, resolution: 320x180, scene: drag, bitrate: 500k}
matrix: {codec: h264}
duration: 2s
`;
  const remoteFile = join(work, 'agents.yaml');
  writeFileSync(
    remoteFile,
    `name: agents\n${body}recording:\n  agents:\n${Object.entries(urls)
      .map(([r, u]) => `    ${r}: {url: '${u}', token_env: SB_AGENTS_TOKEN}\n`)
      .join('')}`,
  );
  const localFile = join(work, 'local.yaml');
  writeFileSync(localFile, `name: agents\n${body}`);

  const remote = join(work, 'res-agents');
  const r = await cli(['run', remoteFile, '--executor', 'agents', '--results', remote], { SB_AGENTS_TOKEN: TOKEN });
  assert.equal(r.code, 0, r.out);
  const [rec] = records(remote);
  assert.equal(rec?.outcome.status, 'ok', JSON.stringify(rec?.outcome));
  const x = rec.executor;
  assert.ok(x?.kind === 'agents', JSON.stringify(x));
  assert.deepEqual(x.agents, urls);
  assert.deepEqual(x.nodes, { guest: ip, host: ip, client: ip });
  for (const role of ['guest', 'host', 'client']) {
    // Each role's process was watched by its agent (by the pid the role gave), not the relay's.
    assert.ok((rec.metrics[`${role}.proc.${role}.cpu_pct`] as number) > 0, `${role} process watched by its agent: ${JSON.stringify(rec.flags)}`);
    const c = x.clocks?.[role];
    assert.ok(c && Math.abs(c.offsetMs) <= c.uncertaintyMs + 1, `${role}: offset ${JSON.stringify(c)} on one machine must contain 0`);
  }
  assert.deepEqual(
    rec.flags.filter((f) => /recording|left running|could not/.test(f)),
    [],
  );

  // The same point run locally (three local agents): the same names, but the kernel's account of
  // the roles, which the engine's machine cannot give for processes it did not reap.
  const local = join(work, 'res-local');
  const l = await cli(['run', localFile, '--results', local]);
  assert.equal(l.code, 0, l.out);
  const [lr] = records(local);
  assert.equal(lr?.outcome.status, 'ok', JSON.stringify(lr?.outcome));
  assert.deepEqual(
    Object.keys(lr.metrics).filter((k) => !(k in rec.metrics)),
    ['roles.cpu_kernel_s'],
  );
  assert.deepEqual(
    Object.keys(rec.metrics).filter((k) => !(k in lr.metrics)),
    [],
  );

  // Nothing the point started is left on the agents' machine: no stream role outlives its point.
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  assert.equal(ps.split('\n').filter((a) => a.includes(remote) && a.includes(' stream ')).length, 0, ps);

  // A wrong token: one clear line, exit 5 (the environment), nothing recorded.
  const bad = join(work, 'res-bad');
  const w = await cli(['run', remoteFile, '--executor', 'agents', '--results', bad], { SB_AGENTS_TOKEN: 'a-wrong-token-of-enough-length-000000' });
  assert.equal(w.code, 5, w.out);
  assert.match(w.out, /agents of --executor agents cannot be used: .*(401|token)/);
  assert.doesNotMatch(w.out, /\n\s+at /, 'no stack trace');
});

test('--executor agents refuses a benchmark whose roles have no agent URL (exit 2)', async () => {
  const file = join(work, 'noagents.yaml');
  writeFileSync(file, 'name: n\nworkload: {type: stream}\nmatrix: {codec: h264}\nduration: 1s\n');
  const r = await cli(['run', file, '--executor', 'agents', '--results', join(work, 'res-n')]);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /noagents\.yaml.*recording\.agents to name a url for each of guest, host and client \(missing: guest, host, client\)/);
});

test("an agent's processes: token-guarded, refused without --allow-commands, output and exit relayed, ended at the point's end", { skip: ip ? false : 'no non-loopback IPv4 address here' }, async () => {
  const tokenFile = join(work, 'token-procs');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const url = await agent('host', tokenFile);
  const call = (method: string, path: string, body?: unknown, token = TOKEN) => fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  assert.equal((await call('POST', '/v1/procs', { argv: ['true'] }, '')).status, 401);
  assert.equal((await call('POST', '/v1/procs', { argv: ['true'] }, 'a-wrong-token-of-enough-length-000000')).status, 401);
  assert.equal((await call('POST', '/v1/procs/end', undefined, '')).status, 401);

  const echo = (await (await call('POST', '/v1/procs', { argv: ['sh', '-c', 'echo "$SB_X"; exit 3'], env: { SB_X: 'hello' } })).json()) as { id: string };
  let out = '';
  let exit: { code: number | null } | null = null;
  while (!exit) {
    const r = (await (await call('GET', `/v1/procs/${echo.id}?out=${out.length}&wait=2000`)).json()) as { stdout: string; exit: { code: number | null } | null };
    out += r.stdout;
    exit = r.exit;
  }
  assert.equal(out, 'hello\n');
  assert.equal(exit.code, 3);

  const sleeper = (await (await call('POST', '/v1/procs', { argv: ['sleep', '600'] })).json()) as { id: string; pid: number };
  assert.equal(((await (await call('GET', `/v1/procs/${sleeper.id}`)).json()) as { exit: unknown }).exit, null);
  assert.deepEqual(await (await call('POST', '/v1/procs/end')).json(), { ended: 1 });
  // The process is gone once the agent said so (its group was sent SIGKILL; the kernel reaps it).
  for (let i = 0; i < 100 && spawnSync('kill', ['-0', String(sleeper.pid)]).status === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.notEqual(spawnSync('kill', ['-0', String(sleeper.pid)]).status, 0, 'the sleeper is gone');

  // Without --allow-commands an agent starts nothing, even with the right token.
  const plain = spawn(process.execPath, [CLI, 'agent', '--role', 'guest', '--listen', `${ip}:0`, '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(plain);
  const line = await new Promise<string>((resolve) => createInterface({ input: plain.stdout }).once('line', resolve));
  const r = await fetch(`http://${ip}:${(JSON.parse(line) as { port: number }).port}/v1/procs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ argv: ['true'] }) });
  assert.equal(r.status, 403);
  assert.match(((await r.json()) as { error: string }).error, /--allow-commands/);
});
