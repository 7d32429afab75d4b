// A workload is one module: a small test workload in its own folder (test/fixtures/workloads/
// pingpong: a server and a client role that reach each other at the server's machine's address),
// added with one registry line and nothing else, resolves from a benchmark file and runs through
// the local executor, the agents executor (real agents on this machine's non-loopback address)
// and the Slurm executor (a private 2-node cluster, scripts/slurm-dev.sh; STREAMBENCH_NO_SLURM=1
// skips that part, as in slurm.test.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { AgentsExecutor } from '../src/engine/agents-executor.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import type { RemoteExecutor } from '../src/engine/executor.ts';
import { SlurmExecutor } from '../src/engine/slurm.ts';
import type { PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { registerWorkload } from '../src/workloads/index.ts';
import pingpong from './fixtures/workloads/pingpong/index.ts';
import { endStarted } from './helpers/procs.ts';

// The one registry line.
registerWorkload(pingpong);

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/streambench.js');
const work = mkdtempSync(join(tmpdir(), 'sb-workload-module-'));
chmodSync(work, 0o755);
const ip = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const started: ChildProcess[] = [];

after(async () => {
  await endStarted(started);
  rmSync(work, { recursive: true, force: true });
});

function records(results: string): PointRecord[] {
  const dir = join(results, 'points');
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .map((d) => JSON.parse(readFileSync(join(dir, d, 'point.json'), 'utf8')) as PointRecord)
    .sort((a, b) => a.index - b.index);
}

async function runFile(name: string, text: string, executor?: (b: Awaited<ReturnType<typeof loadBenchmark>>) => RemoteExecutor): Promise<PointRecord[]> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, text);
  const b = await loadBenchmark(file);
  const results = join(work, `res-${name}`);
  const ex = executor?.(b);
  const s = await runBenchmark(b, { results: ResultSet.openOrCreate(results, b.name), signal: new AbortController().signal, ...(ex ? { executor: ex } : {}) });
  assert.equal(s.failed, 0, JSON.stringify(s));
  return records(results);
}

/** What every executor's pingpong points must show: the count each asked for answered, a round trip timed, the workload's name and its roles' conditions. */
function checkPoints(recs: PointRecord[]): void {
  assert.deepEqual(
    recs.map((r) => r.params['count']),
    [2, 3],
  );
  for (const r of recs) {
    assert.equal(r.outcome.status, 'ok', JSON.stringify(r.outcome));
    assert.equal(r.workload, 'pingpong');
    assert.equal(r.metrics['replies'], r.params['count']);
    assert.ok(typeof r.metrics['rtt_ms'] === 'number' && r.metrics['rtt_ms'] > 0, JSON.stringify(r.metrics));
    assert.deepEqual(Object.keys(r.conditions?.placement?.roles ?? {}).sort(), ['client', 'server'], JSON.stringify(r.conditions?.placement));
  }
}

const BODY = 'workload: {type: pingpong}\nmatrix: {count: [2, 3]}\n';

test('a workload module resolves from a file: its own parameter typed, its own values checked where written', async () => {
  const file = join(work, 'bad.yaml');
  writeFileSync(file, 'name: bad\nworkload: {type: pingpong, count: 0}\nmatrix: {count: [2]}\n');
  await assert.rejects(loadBenchmark(file), /count/);
  writeFileSync(file, `name: ok\n${BODY}`);
  const b = await loadBenchmark(file);
  assert.equal(b.params['count']?.source, 'workload');
  assert.deepEqual(
    b.recording?.agents.map((a) => a.role),
    ['server', 'client'],
  );
});

test('the local executor runs it, its two roles on this machine with a recording agent each', { timeout: 300_000 }, async () => {
  checkPoints(await runFile('local', `name: local\n${BODY}`));
});

async function agent(role: string, tokenFile: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'agent', '--role', role, '--listen', `${ip}:0`, '--token-file', tokenFile, '--allow-commands'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent ${role} exited ${c}`)));
  });
  return `http://${ip}:${(JSON.parse(line) as { port: number }).port}`;
}

test('the agents executor runs it, each role through the agent named for it', { skip: ip ? false : 'no non-loopback IPv4 address here', timeout: 300_000 }, async () => {
  const token = 'workload-module-test-token-0123456789';
  const tokenFile = join(work, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  process.env['SB_PINGPONG_TOKEN'] = token;
  const urls = { server: await agent('server', tokenFile), client: await agent('client', tokenFile) };
  const recs = await runFile(
    'agents',
    `name: agents\n${BODY}recording:\n  agents:\n${Object.entries(urls)
      .map(([r, u]) => `    ${r}: {url: '${u}', token_env: SB_PINGPONG_TOKEN}\n`)
      .join('')}`,
    (b) => new AgentsExecutor(b),
  );
  checkPoints(recs);
  for (const r of recs) {
    assert.ok(r.executor?.kind === 'agents', JSON.stringify(r.executor));
    assert.deepEqual(r.executor.nodes, { server: ip, client: ip });
  }
});

const noSlurm = process.env['STREAMBENCH_NO_SLURM'] === '1' ? 'STREAMBENCH_NO_SLURM=1: the Slurm executor is not tested' : false;

test('the Slurm executor runs it, a heterogeneous job with the server and the client each on a node, the job loading the module the engine registered', { skip: noSlurm, timeout: 900_000 }, async () => {
  const clusterDir = join(work, 'cluster');
  const env = { STREAMBENCH_SLURM_DIR: clusterDir, STREAMBENCH_SLURM_PORT: String(27000 + (process.pid % 1000) * 4), SLURM_CONF: join(clusterDir, 'slurm.conf') };
  Object.assign(process.env, env);
  const script = join(ROOT, 'scripts/slurm-dev.sh');
  const up = spawnSync(script, ['start', '--nodes', '2'], { env: process.env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(up.status, 0, `the test cluster did not start (STREAMBENCH_NO_SLURM=1 skips this test): ${up.stdout}${up.stderr}`);
  try {
    const recs = await runFile('slurm', `name: slurm\n${BODY}`, (b) => new SlurmExecutor(b, { parallel: 1, options: [] }));
    checkPoints(recs);
    for (const r of recs) {
      assert.ok(r.executor?.kind === 'slurm', JSON.stringify(r.executor));
      assert.deepEqual(r.executor.nodes, { server: 'guest1', client: 'host1' });
    }
  } finally {
    const down = spawnSync(script, ['stop'], { env: process.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(down.status, 0, `${down.stdout}${down.stderr}`);
  }
});
