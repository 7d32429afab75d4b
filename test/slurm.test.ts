// The Slurm executor against a real Slurm: a private 6-node cluster on this machine (guest1,
// host1, client1, guest2, host2, client2: six slurmd, scripts/slurm-dev.sh), enough for two
// stream points at once, started before and stopped after. host1's slurmd runs in a time
// namespace whose CLOCK_MONOTONIC is 300 s ahead, client1's 5000 s ahead (and so every job step
// they start): the first group of three nodes has three clocks, as three machines would, the
// second group one. The points run as real jobs; their results are checked as a local run's are.
// Where Slurm cannot run, these tests fail saying why; STREAMBENCH_NO_SLURM=1 skips them (and
// says so).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClockRecord, PointRecord } from '../src/store/records.ts';
import { CLOCK_FIGURES, compareToUnshifted, figuresAtTrueOffsets } from './helpers/clock-truth.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';
import { liveWithEnv } from './helpers/procs.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/streambench.js');
const SCRIPT = join(ROOT, 'scripts/slurm-dev.sh');
/** Three nodes per point at once: two stream points under --parallel 2. */
const NODES = 6;
const skip = process.env['STREAMBENCH_NO_SLURM'] === '1' ? 'STREAMBENCH_NO_SLURM=1: the Slurm executor is not tested' : false;
const work = mkdtempSync(join(tmpdir(), 'sb-slurm-'));
// munged runs as user munge, which must reach the cluster's directory below this one.
chmodSync(work, 0o755);
// The cluster's own directory and ports, apart from any other one on this machine.
const clusterDir = join(work, 'cluster');
const env = { ...process.env, STREAMBENCH_SLURM_DIR: clusterDir, STREAMBENCH_SLURM_PORT: String(17000 + (process.pid % 1000) * (NODES + 2)), SLURM_CONF: join(clusterDir, 'slurm.conf') };
/** Generous: a point's job starts Node twice on a loaded 2-core machine; the tests are not about speed. */
const WAIT_S = 240;
/** The clock shift of each node's slurmd, seconds (scripts/slurm-dev.sh --clock-shift); 0: the machine's own clock. */
const SHIFT_S: Record<string, number> = { guest1: 0, host1: 300, client1: 5000, guest2: 0, host2: 0, client2: 0 };
/** The nodes of each group (their Slurm feature): g1 shifted, g2 not. */
const GROUP: Record<string, string[]> = { g1: ['guest1', 'host1', 'client1'], g2: ['guest2', 'host2', 'client2'] };

function cluster(action: 'start' | 'stop'): { code: number | null; out: string } {
  const shifts = Object.entries(SHIFT_S)
    .filter(([, s]) => s !== 0)
    .flatMap(([n, s]) => ['--clock-shift', `${n}=${s}`]);
  const r = spawnSync(SCRIPT, action === 'start' ? ['start', '--nodes', String(NODES), ...shifts] : [action], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
}

before(() => {
  if (skip) return;
  const r = cluster('start');
  assert.equal(r.code, 0, `the test cluster did not start (set STREAMBENCH_NO_SLURM=1 to skip these tests where Slurm cannot run): ${r.out}`);
});

after(() => {
  if (skip) return;
  const pids = daemonPids();
  const r = cluster('stop');
  assert.equal(r.code, 0, r.out);
  // Nothing of the cluster is left running: each daemon it started is gone.
  for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}`) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), `daemon ${pid} still runs after stop`);
  rmSync(work, { recursive: true, force: true });
});

function daemonPids(): number[] {
  const run = join(clusterDir, 'run');
  const files = [
    join(clusterDir, 'munge/munged.pid'),
    ...readdirSync(run)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => join(run, f)),
  ];
  // The controller, one slurmd per node and munged: all of them are checked to end.
  assert.equal(files.length, NODES + 2, `pid files: ${files.join(' ')}`);
  return files.map((f) => Number(readFileSync(f, 'utf8').trim()));
}

interface Engine {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function startEngine(args: string[], extraEnv: Record<string, string> = {}): Engine {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const e = startEngine(args, extraEnv);
  const code = await e.exited;
  return { code, out: e.out() };
}

async function waitFor(what: string, cond: () => boolean, out: () => string): Promise<void> {
  for (let i = 0; i < WAIT_S * 10; i++) {
    if (cond()) return;
    await sleep(100);
  }
  assert.fail(`${what} did not happen within ${WAIT_S} s; engine output:\n${out()}`);
}

function records(results: string): PointRecord[] {
  const dir = join(results, 'points');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .map((d) => JSON.parse(readFileSync(join(dir, d, 'point.json'), 'utf8')) as PointRecord)
    .sort((a, b) => a.index - b.index);
}

/** What point.json says of a point run as a Slurm job. */
interface SlurmWhere {
  kind: 'slurm';
  jobId: string;
  nodes: Record<string, string>;
  clocks?: Record<string, ClockRecord>;
}

/** Where a point ran, which must be a Slurm job. */
function slurm(rec: PointRecord): SlurmWhere {
  // Read back from point.json: checked here, whatever executors the record type knows of.
  const x = rec.executor as SlurmWhere | undefined;
  assert.ok(x?.kind === 'slurm', `point ${rec.key} r${rec.rep} was no Slurm job: ${JSON.stringify(x)}`);
  return x;
}

/** Each node's time namespace, as its job steps see it (filled by nodeClocks). */
let nodeNs: Record<string, string> | undefined;

/**
 * Each node's time namespace, read by a job step on it, which also checks that the step reads the
 * clock asked for: its CLOCK_MONOTONIC, less the node's shift, lies between this process's
 * readings before and after the step (a bound taken from the clocks, not from a speed).
 */
function nodeClocks(): Record<string, string> {
  if (nodeNs) return nodeNs;
  const out: Record<string, string> = {};
  for (const [node, shiftS] of Object.entries(SHIFT_S)) {
    const before = process.hrtime.bigint();
    const r = spawnSync('srun', ['-w', node, '--nodes=1', '--ntasks=1', '--quiet', process.execPath, '-e', "console.log(String(process.hrtime.bigint()), require('node:fs').readlinkSync('/proc/self/ns/time'))"], { env, encoding: 'utf8', timeout: 120_000 });
    const after = process.hrtime.bigint();
    assert.equal(r.status, 0, `srun on ${node}: ${r.stdout}${r.stderr}`);
    const [t, ns] = r.stdout.trim().split(' ') as [string, string];
    const local = BigInt(t) - BigInt(shiftS) * 1_000_000_000n;
    assert.ok(local >= before && local <= after, `${node}: a job step's monotonic clock ${t} ns, less its shift ${shiftS} s, is not between this clock's ${before} and ${after}`);
    out[node] = ns;
  }
  // The shifted nodes each have a namespace of their own; the others share this machine's.
  const mine = readlinkSync('/proc/self/ns/time');
  for (const [node, shiftS] of Object.entries(SHIFT_S)) assert.equal(out[node] === mine, shiftS === 0, `${node}: namespace ${out[node]}, this process's ${mine}`);
  nodeNs = out;
  return out;
}

/**
 * A clock of a point run through Slurm, measured by the collector in the batch step on the node
 * `base` (the first component's): a role on a node of the collector's time namespace reads its
 * very clock (offset 0 exactly); any other is measured, and its offset is the difference of the
 * two nodes' shifts, within the stated uncertainty.
 */
function checkClock(what: string, c: ClockRecord | undefined, node: string, base: string, ns: Record<string, string>): void {
  assert.ok(c, `${what}: no clock`);
  assert.ok(node in SHIFT_S && base in SHIFT_S, `${what}: unknown node ${node} or ${base}`);
  if (ns[node] === ns[base]) {
    assert.deepEqual(c, { offsetMs: 0, uncertaintyMs: 0, driftMs: 0, same: true }, `${what} on ${node}, the collector on ${base}`);
    return;
  }
  const expected = (SHIFT_S[node]! - SHIFT_S[base]!) * 1000;
  assert.equal(c.same, false, `${what}: ${JSON.stringify(c)}`);
  assert.ok(c.uncertaintyMs > 0, `${what}: measured, so not exactly known: ${JSON.stringify(c)}`);
  assert.ok(Math.abs(c.offsetMs - expected) <= c.uncertaintyMs + 0.001, `${what} on ${node} (collector on ${base}): offset ${c.offsetMs} ms, the shifts' difference ${expected} ms ± ${c.uncertaintyMs}`);
}

function jobState(id: string): string {
  return /JobState=(\S+)/.exec(execFileSync('scontrol', ['show', 'job', '-o', id], { env, encoding: 'utf8' }))?.[1] ?? '?';
}

/** Jobs of the cluster that have not ended. */
function activeJobs(): string[] {
  return execFileSync('squeue', ['-h', '-o', '%i %T'], { env, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/**
 * A command benchmark whose points write marks into `marks` (one JSON file each: start and end
 * time, node) and may wait for a file first: a barrier that the points meet only when they run
 * at the same time, so parallelism is shown by behaviour, not by timing.
 */
function commandBench(name: string, marks: string, extra = ''): string {
  mkdirSync(marks, { recursive: true });
  const js = [
    "const fs = require('node:fs'), p = require('node:path');",
    'const [marks, n, waitFor, code] = process.argv.slice(2);',
    'const t0 = Date.now();',
    "fs.writeFileSync(p.join(marks, 'start-' + n + '-' + process.env.SLURM_JOB_ID), '');",
    'const until = Date.now() + 200000;',
    "while (waitFor !== 'none' && !fs.readdirSync(marks).some((f) => f.startsWith(waitFor)) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);",
    "fs.writeFileSync(p.join(marks, 'mark-' + n + '-' + process.env.SLURM_JOB_ID + '.json'), JSON.stringify({ n: Number(n), t0, t1: Date.now(), node: process.env.SLURMD_NODENAME }));",
    "console.log('value=' + n * 10);",
    // A barrier never met fails the point: points that should have run at once did not.
    'process.exit(Date.now() >= until ? 3 : Number(code));',
  ].join('\n');
  // In a file of its own: argv holds templates, where a brace of the script would be one.
  const script = join(work, `${name}.js`);
  writeFileSync(script, js);
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, 'workload:', '  type: command', `  argv: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}, ${JSON.stringify(marks)}, '{n}', '{wait}', '{code}']`, "  metrics: [{regex: 'value=(\\d+)', name: value}]", extra].join('\n'));
  return file;
}

test("the job steps of host1 read a CLOCK_MONOTONIC 300 s ahead, of client1 5000 s ahead, of the other nodes this machine's", { skip, timeout: 300_000 }, () => {
  const ns = nodeClocks();
  console.log(
    `# time namespaces: ${Object.entries(ns)
      .map(([n, x]) => `${n} ${x} (+${SHIFT_S[n]} s)`)
      .join(', ')}`,
  );
});

test("a 3-point command matrix with --parallel 2: two jobs at once on two nodes, results as a local run's", { skip, timeout: 900_000 }, async () => {
  const marks = join(work, 'marks-cmd');
  // Points 1 and 2 each wait for the other to have started: they finish only if both run at once.
  // Per-parameter hooks run in each point's job, before and after it: they leave a mark naming their job.
  const hook = join(work, 'hook.js');
  writeFileSync(hook, "require('node:fs').writeFileSync(require('node:path').join(process.argv[2], 'hook-' + process.argv[3] + '-' + process.argv[4] + '-' + process.env.SLURM_JOB_ID), '')");
  const hooks = ['hooks:', '  n:', `    before: [[${JSON.stringify(process.execPath)}, ${JSON.stringify(hook)}, ${JSON.stringify(marks)}, before, '{n}']]`, `    after: [[${JSON.stringify(process.execPath)}, ${JSON.stringify(hook)}, ${JSON.stringify(marks)}, after, '{n}']]`];
  const file = commandBench('cmd', marks, [...hooks, 'link: [[n, wait]]', 'matrix:', '  n: [1, 2, 3]', "  wait: ['start-2', 'start-1', 'none']", '  code: [0]'].join('\n'));
  const results = join(work, 'res-cmd');
  const r = await cli(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  assert.equal(r.code, 0, r.out);
  const recs = records(results);
  assert.equal(recs.length, 3, r.out);
  const m = readdirSync(marks)
    .filter((f) => f.startsWith('mark-'))
    .map((f) => JSON.parse(readFileSync(join(marks, f), 'utf8')) as { n: number; t0: number; t1: number; node: string });
  assert.equal(m.length, 3);
  const by = (n: number) => m.find((x) => x.n === n)!;
  // 1 and 2 ran at once, on two nodes; 3 started only once one of them had ended (at most 2 at once).
  assert.notEqual(by(1).node, by(2).node);
  assert.ok(by(3).t0 >= Math.min(by(1).t1, by(2).t1), JSON.stringify(m));
  for (const rec of recs) {
    assert.equal(rec.outcome.status, 'ok', JSON.stringify(rec.outcome));
    assert.equal(rec.executor?.kind, 'slurm');
    assert.match(slurm(rec).jobId, /^\d+$/);
    assert.equal(slurm(rec).nodes['local'], by(Number(rec.params['n'])).node, 'point.json names the node the point ran on');
    assert.equal(rec.metrics['value'], Number(rec.params['n']) * 10);
    // The agent of the point's node is started by the point's batch step there, in the same
    // time namespace (shifted or not): it reads the collector's very clock, offset 0 exactly.
    assert.deepEqual(slurm(rec).clocks?.['local'], { offsetMs: 0, uncertaintyMs: 0, driftMs: 0, same: true }, `on ${slurm(rec).nodes['local']}`);
  }
  assert.equal(new Set(recs.map((x) => slurm(x).jobId)).size, 3);
  const hookMarks = readdirSync(marks)
    .filter((f) => f.startsWith('hook-'))
    .sort();
  assert.deepEqual(hookMarks, recs.flatMap((x) => ['after', 'before'].map((w) => `hook-${w}-${x.params['n']}-${slurm(x).jobId}`)).sort(), "each point's hooks ran once, in its own job");

  // The same benchmark run here: the same metrics, and a record that differs only where it ran.
  const local = join(work, 'res-cmd-local');
  const l = await cli(['run', file, '--results', local]);
  assert.equal(l.code, 0, l.out);
  const lrecs = records(local);
  // The command's own process figures (local.proc.command.*) are left out: the proc probe gives
  // cpu_pct only from its second sample of a process, and nothing of one shorter than its interval,
  // so which of them a point of a short command has depends on how fast it ran.
  const names = (m: Record<string, unknown>) =>
    Object.keys(m)
      .filter((k) => !k.startsWith('local.proc.command.'))
      .sort();
  for (const [i, rec] of recs.entries()) {
    const lr = lrecs[i]!;
    assert.deepEqual(names(rec.metrics), names(lr.metrics));
    assert.deepEqual(
      Object.keys(rec)
        .filter((k) => k !== 'executor')
        .sort(),
      Object.keys(lr).sort(),
    );
    assert.deepEqual([rec.key, rec.rep, rec.params, rec.files], [lr.key, lr.rep, lr.params, lr.files]);
    assert.equal(lr.executor, undefined);
  }
  // Run again: everything is recorded, nothing is submitted.
  const again = await cli(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /0 ok, 0 failed, 3 already recorded/);
});

test("a stream matrix with --parallel 2: each point a heterogeneous job, guest, host and client each on its own node, metrics as a local run's", { skip, timeout: 900_000 }, async () => {
  const file = join(work, 'stream.yaml');
  writeFileSync(file, ['name: stream', 'workload: {type: stream, resolution: 320x240, scene: typing}', 'duration: 1s', 'matrix:', '  codec: [h264]', '  fps: [10, 15]'].join('\n'));
  const results = join(work, 'res-stream');
  const r = await cli(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  assert.equal(r.code, 0, r.out);
  const recs = records(results);
  assert.equal(recs.length, 2, r.out);
  const ns = nodeClocks();
  for (const rec of recs) {
    assert.equal(rec.outcome.status, 'ok', JSON.stringify(rec.outcome));
    const nodes = slurm(rec).nodes;
    assert.deepEqual(Object.keys(nodes).sort(), ['client', 'guest', 'host']);
    assert.equal(new Set(Object.values(nodes)).size, 3, `one node per role: ${JSON.stringify(nodes)}`);
    for (const role of ['guest', 'host', 'client']) {
      // Each agent against the collector (the batch step, on the guest's node): offset 0 exactly
      // where the node shares its time namespace, else the nodes' shifts apart, within the uncertainty.
      checkClock(`fps=${rec.params['fps']} agent ${role}`, slurm(rec).clocks?.[role], nodes[role]!, nodes['guest']!, ns);
      checkClock(`fps=${rec.params['fps']} ${role}`, rec.timeline?.clocks?.[role], nodes[role]!, nodes['guest']!, ns);
      // Each role's process was watched by the agent of its own node.
      assert.ok(typeof rec.metrics[`${role}.proc.${role}.cpu_pct`] === 'number', `${role}.proc.${role}.cpu_pct missing`);
    }
    assert.ok(Number(rec.metrics['frames.shown']) > 0);
    for (const f of ['frames.parquet', 'guest.json', 'host.json', 'client.json', 'samples.parquet']) assert.ok(rec.files.includes(f), f);
  }
  // Two points whose jobs were alive at the same time never shared a node (the engine's window of
  // a point holds its job's whole life).
  const [p, q] = recs as [PointRecord, PointRecord];
  const overlap = Date.parse(p.startedAt) < Date.parse(q.endedAt) && Date.parse(q.startedAt) < Date.parse(p.endedAt);
  const shared = Object.values(slurm(p).nodes).filter((n) => Object.values(slurm(q).nodes).includes(n));
  if (overlap) assert.deepEqual(shared, [], `points at once on one node: ${JSON.stringify([p.executor, q.executor])}`);

  // Against a local run of one point: the same metrics but one, which the kernel of the engine's
  // machine cannot give for roles on other machines.
  const local = join(work, 'res-stream-local');
  const l = await cli(['run', file, '--results', local, '--filter', 'fps=15']);
  assert.equal(l.code, 0, l.out);
  const [lr] = records(local);
  assert.equal(lr?.outcome.status, 'ok', JSON.stringify(lr?.outcome));
  for (const rec of recs) {
    const missing: string[] = Object.keys(lr.metrics).filter((k) => !(k in rec.metrics));
    assert.deepEqual(missing, ['roles.cpu_kernel_s'], `fps=${rec.params['fps']}`);
    assert.deepEqual(
      Object.keys(rec.metrics).filter((k) => !(k in lr.metrics)),
      [],
      `fps=${rec.params['fps']}`,
    );
  }
});

/** The workload block of the time-base benchmark, as written. */
const TIMEBASE_WORKLOAD = { resolution: '320x180', fps: 15, scene: 'drag', bitrate: '300k' };
/** What test/clocks.test.ts compares: every stage p50 and latency percentile, each crossing roles. */
const FIGURES = CLOCK_FIGURES;
const ROLES = ['guest', 'host', 'client'] as const;

test('one time base through Slurm: the same stream point 3 times on the shifted group (guest1 0, host1 +300 s, client1 +5000 s) and on the unshifted one, offsets measured and applied, every cross-role figure as on one clock', { skip, timeout: 900_000 }, async () => {
  const ns = nodeClocks();
  const file = join(work, 'timebase.yaml');
  writeFileSync(
    file,
    [
      'name: timebase',
      `workload: {type: stream, ${Object.entries(TIMEBASE_WORKLOAD)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}}`,
      'matrix: {codec: h264}',
      'repeat: 3',
      'duration: 2s',
    ].join('\n'),
  );
  // Two engines at once, each held to its group of three nodes by their feature.
  const run = (group: string) => startEngine(['run', file, '--results', join(work, `res-timebase-${group}`), '--executor', 'slurm', `--slurm-opt=--constraint=${group}`]);
  const engines = { g1: run('g1'), g2: run('g2') };
  const sets: Record<string, PointRecord[]> = {};
  for (const [group, e] of Object.entries(engines)) {
    const code = await e.exited;
    assert.equal(code, 0, `${group}: ${e.out()}`);
    const recs = records(join(work, `res-timebase-${group}`));
    assert.equal(recs.length, 3, `${group}: ${e.out()}`);
    for (const p of recs) {
      assert.equal(p.outcome.status, 'ok', `${group} r${p.rep}: ${JSON.stringify(p.outcome)}`);
      const nodes = slurm(p).nodes;
      assert.deepEqual(Object.values(nodes).sort(), [...GROUP[group]!].sort(), `${group} r${p.rep}: one node of the group per role: ${JSON.stringify(nodes)}`);
      const clocks = p.timeline?.clocks ?? {};
      for (const role of ROLES) {
        // The collector runs in the batch step on the guest's node: each role's offset is its
        // node's shift less that node's, measured (never assumed) unless the namespace is the same.
        checkClock(`${group} r${p.rep} ${role}`, clocks[role], nodes[role]!, nodes['guest']!, ns);
        checkClock(`${group} r${p.rep} agent ${role}`, slurm(p).clocks?.[role], nodes[role]!, nodes['guest']!, ns);
      }
      // The point's clock uncertainty: the largest sum over pairs of roles.
      const pairs = ROLES.flatMap((a, i) => ROLES.slice(i + 1).map((b) => clocks[a]!.uncertaintyMs + clocks[b]!.uncertaintyMs));
      const u = p.metrics['clock.uncertainty_ms'] as number;
      assert.ok(Math.abs(u - Math.max(...pairs)) <= 0.002, `${group} r${p.rep}: clock.uncertainty_ms ${u}, pairs ${pairs.join(', ')}`);
      if (group === 'g1') assert.ok(u > 0, 'three namespaces: measured clocks have an uncertainty');
      else assert.equal(u, 0, "one namespace: every role reads the collector's clock");
      const [from, to] = p.timeline!.window;
      assert.ok(from > 0 && Math.abs(to - from - 2) < 1e-6, `${group} r${p.rep}: window ${from}..${to}`);
    }
    sets[group] = recs;
  }
  console.log(`# shifted runs' nodes: ${sets['g1']!.map((p) => `r${p.rep} ${ROLES.map((r) => `${r}@${slurm(p).nodes[r]}`).join(' ')}`).join('; ')}`);
  console.log(`# shifted runs' offsets (ms, ± uncertainty): ${sets['g1']!.map((p) => `r${p.rep} ${ROLES.map((r) => `${r} ${p.timeline!.clocks![r]!.offsetMs} ± ${p.timeline!.clocks![r]!.uncertaintyMs}`).join(', ')}`).join('; ')}`);

  const shifted = sets['g1']!;
  const plain = sets['g2']!;
  // The truth, whatever the load did to the figures: each shifted run recomputed from its roles'
  // raw reports with the nodes' true shifts equals what it recorded, within its stated uncertainty.
  const truthRows: string[] = [];
  for (const p of shifted) {
    const nodes = slurm(p).nodes;
    const off = (role: string) => (SHIFT_S[nodes[role]!]! - SHIFT_S[nodes['guest']!]!) * 1000;
    const truth = figuresAtTrueOffsets(join(work, 'res-timebase-g1', 'points', `${p.key}-r${p.rep}`), p, { guest: off('guest'), host: off('host'), client: off('client') }, TIMEBASE_WORKLOAD, { warmupS: 0, durationS: 2 });
    const u = p.metrics['clock.uncertainty_ms'] as number;
    for (const k of FIGURES) {
      truthRows.push(`r${p.rep} ${k}: recorded ${p.metrics[k]}, at the true offsets ${truth[k]}, allowed ±${(u + 0.002).toFixed(3)}`);
      assert.ok(Math.abs((p.metrics[k] as number) - truth[k]!) <= u + 0.002, truthRows.join('\n'));
    }
  }

  // Each figure of the shifted runs against the unshifted ones (compareToUnshifted says how far).
  const cmp = compareToUnshifted(shifted, plain);
  console.log(`# ${cmp.table.replace(/\n/g, '\n# ')}`);
  assert.deepEqual(cmp.failed, [], cmp.table);
});

/** The last lines of every log of a result set's points, committed or left in staging: what a failed point's roles said. */
function roleLogs(results: string): string {
  const dirs = ['points', '.staging'].map((d) => join(results, d)).filter((d) => existsSync(d));
  return dirs
    .flatMap((dir) => readdirSync(dir).map((d) => join(dir, d)))
    .flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.log'))
        .map((f) => join(d, f)),
    )
    .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

const hasSpice = existsSync('/usr/lib/xorg/modules/drivers/spiceqxl_drv.so') && existsSync('/usr/bin/remote-viewer');

test(
  'a SPICE point as a Slurm job on the shifted group (guest1 0, host1 +300 s, client1 +5000 s): server on the guest, relay on the host, viewer on the client, latency as a local run within the clock uncertainty plus spread, nothing left',
  { skip: skip || (!hasSpice ? 'no SPICE stack here (scripts/setup.sh)' : false), timeout: 900_000 },
  async () => {
    const ns = nodeClocks();
    const file = join(work, 'spice.yaml');
    writeFileSync(file, ['name: spice', 'workload: {type: spice, resolution: 640x480, fps: 10, scene: video}', 'matrix: {spice_codec: spice:mjpeg, streaming: all}', 'warmup: 6s', 'duration: 3s'].join('\n'));
    const mark = `SB_SLURM_SPICE_TEST=${work}`;
    const r = await cli(['run', file, '--results', join(work, 'res-spice'), '--executor', 'slurm', '--slurm-opt=--constraint=g1'], { SB_SLURM_SPICE_TEST: work });
    assert.equal(r.code, 0, `${r.out}\n${roleLogs(join(work, 'res-spice'))}`);
    const [p] = records(join(work, 'res-spice'));
    assert.equal(p?.outcome.status, 'ok', JSON.stringify(p?.outcome));
    const nodes = slurm(p).nodes;
    assert.deepEqual(Object.values(nodes).sort(), [...GROUP['g1']!].sort(), `one node of the group per role: ${JSON.stringify(nodes)}`);
    for (const role of ROLES) checkClock(`spice ${role}`, p.timeline?.clocks?.[role], nodes[role]!, nodes['guest']!, ns);
    // The player stamps on the guest's node, the screen reader on the client's, 5000 s apart.
    const local = await cli(['run', file, '--results', join(work, 'res-spice-local')]);
    assert.equal(local.code, 0, local.out);
    const [l] = records(join(work, 'res-spice-local'));
    assert.equal(l?.outcome.status, 'ok', JSON.stringify(l?.outcome));
    const u = p.metrics['clock.uncertainty_ms'] as number;
    const [lp50, sp50] = [l.metrics['latency.p50'] as number, p.metrics['latency.p50'] as number];
    console.log(`# spice latency.p50 local ${lp50} ms, Slurm ${sp50} ms (p95 ${l.metrics['latency.p95']}, ${p.metrics['latency.p95']}); clock.uncertainty_ms ${u}; nodes ${JSON.stringify(nodes)}`);
    assert.ok(u > 0, 'three time namespaces: measured clocks have an uncertainty');
    assert.ok(sp50 > 0 && (p.metrics['latency.frames_seen'] as number) > 0, JSON.stringify(p.metrics));
    // Generous: two SPICE sessions on a busy 2-core machine differ by tens of ms; an unmapped clock by 5,000,000.
    const spread = Math.max(100, lp50);
    assert.ok(Math.abs(sp50 - lp50) <= u + spread, `latency.p50 Slurm ${sp50} vs local ${lp50}: more than ±${u} + ${spread} ms`);
    for (const k of ['guest.cpu_pct', 'host.cpu_pct', 'client.cpu_pct']) assert.ok((p.metrics[k] as number) > 0, `${k}: ${JSON.stringify(p.metrics)}`);
    assert.deepEqual(liveWithEnv(mark), [], 'processes of the point still alive after its job');
  },
);

test('on_error: stop under --parallel: no new submission, the running job is cancelled', { skip, timeout: 900_000 }, async () => {
  const marks = join(work, 'marks-stop');
  // Point 1 fails once point 2 runs; 2 would wait (for a mark that never comes) until cancelled; 3 is never submitted.
  const file = commandBench('stop', marks, ['on_error: stop', 'link: [[n, wait, code]]', 'matrix:', '  n: [1, 2, 3]', "  wait: ['start-2', 'never', 'none']", '  code: [1, 0, 0]'].join('\n'));
  const results = join(work, 'res-stop');
  const r = await cli(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  assert.equal(r.code, 3, r.out);
  const recs = records(results);
  assert.deepEqual(
    recs.map((x) => [x.params['n'], x.outcome.status]),
    [
      [1, 'failed'],
      [2, 'interrupted'],
    ],
    r.out,
  );
  assert.match((recs[1]!.outcome as { reason: string }).reason, /on_error is stop/);
  assert.equal(jobState(slurm(recs[1]!).jobId), 'CANCELLED');
  assert.ok(!readdirSync(marks).some((f) => f.startsWith('start-3')), 'point 3 was never submitted');
  assert.deepEqual(activeJobs(), []);
});

test("scancel of a job fails its point with Slurm's reason; a resume reruns only it", { skip, timeout: 900_000 }, async () => {
  const marks = join(work, 'marks-scancel');
  const go = join(marks, 'go');
  const file = commandBench('scancel', marks, ['on_error: continue', 'link: [[n, wait]]', 'matrix:', '  n: [1, 2]', "  wait: ['none', 'go']", '  code: [0]'].join('\n'));
  const results = join(work, 'res-scancel');
  const e = startEngine(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  const started2 = () => readdirSync(marks).find((f) => f.startsWith('start-2-'));
  await waitFor('point 2 starting', () => started2() !== undefined, e.out);
  const id = started2()!.split('-')[2]!;
  execFileSync('scancel', [id], { env });
  const code = await e.exited;
  assert.equal(code, 1, e.out());
  const recs = records(results);
  assert.deepEqual(
    recs.map((x) => [x.params['n'], x.outcome.status]),
    [
      [1, 'ok'],
      [2, 'failed'],
    ],
    e.out(),
  );
  assert.match((recs[1]!.outcome as { error: string }).error, new RegExp(`Slurm (ended )?job ${id}\\b.*CANCELLED`));
  writeFileSync(go, '');
  const again = await cli(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /1 ok, 0 failed, 1 already recorded/);
});

test('kill -9 of the engine leaves its jobs to Slurm; the next start collects the finished one, cancels the running one, and records each point once', { skip, timeout: 900_000 }, async () => {
  const marks = join(work, 'marks-kill');
  const file = commandBench('kill', marks, ['link: [[n, wait]]', 'matrix:', '  n: [1, 2]', "  wait: ['go1', 'go2']", '  code: [0]'].join('\n'));
  const results = join(work, 'res-kill');
  const e = startEngine(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  const starts = (n: number) => readdirSync(marks).filter((f) => f.startsWith(`start-${n}-`));
  await waitFor('both points starting', () => starts(1).length === 1 && starts(2).length === 1, e.out);
  const id1 = starts(1)[0]!.split('-')[2]!;
  const id2 = starts(2)[0]!.split('-')[2]!;
  e.child.kill('SIGKILL');
  await e.exited;
  // Killed with its engine gone: the jobs are Slurm's, still running; point 1's finishes with no engine to take it.
  assert.equal(jobState(id1), 'RUNNING');
  assert.equal(jobState(id2), 'RUNNING');
  writeFileSync(join(marks, 'go1'), '');
  await waitFor(
    `job ${id1} completing`,
    () => jobState(id1) === 'COMPLETED',
    () => `job ${id1}: ${jobState(id1)}`,
  );
  assert.equal(records(results).length, 0, 'nothing recorded by the killed engine');
  // Job 2 still waits when the next engine starts; its new job may go once the old one is cancelled.
  const next = startEngine(['run', file, '--results', results, '--executor', 'slurm', '--parallel', '2']);
  await waitFor('the old jobs dealt with', () => next.out().includes(`cancelled Slurm job ${id2} `) && next.out().includes(`collected Slurm job ${id1} `), next.out);
  writeFileSync(join(marks, 'go2'), '');
  const again = { code: await next.exited, out: next.out() };
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /2 ok, 0 failed/);
  assert.equal(jobState(id1), 'COMPLETED');
  assert.equal(jobState(id2), 'CANCELLED');
  const recs = records(results);
  assert.deepEqual(
    recs.map((x) => [x.params['n'], x.outcome.status]),
    [
      [1, 'ok'],
      [2, 'ok'],
    ],
  );
  // Point 1 is the finished job's result, with its files; it never ran again. Point 2 is a new job's.
  assert.equal(slurm(recs[0]!).jobId, id1);
  assert.equal(recs[0]!.metrics['value'], 10);
  assert.deepEqual(recs[0]!.files, recs[1]!.files);
  assert.equal(starts(1).length, 1, 'point 1 ran once');
  assert.ok(![id1, id2].includes(slurm(recs[1]!).jobId));
  assert.equal(starts(2).length, 2);
  // Nothing is left for a later start to collect again.
  assert.deepEqual(readdirSync(join(results, '.slurm', 'collected')), []);
  assert.deepEqual(readdirSync(join(results, '.slurm', 'jobs')), []);
  assert.deepEqual(activeJobs(), []);
});

test('Ctrl-C of the engine cancels its running jobs; their points are interrupted and run again on resume', { skip, timeout: 900_000 }, async () => {
  const marks = join(work, 'marks-int');
  const go = join(marks, 'go');
  const file = commandBench('int', marks, ['matrix:', '  n: [1]', "  wait: ['go']", '  code: [0]'].join('\n'));
  const results = join(work, 'res-int');
  const e = startEngine(['run', file, '--results', results, '--executor', 'slurm']);
  const started = () => readdirSync(marks).find((f) => f.startsWith('start-1-'));
  await waitFor('the point starting', () => started() !== undefined, e.out);
  const id = started()!.split('-')[2]!;
  e.child.kill('SIGINT');
  assert.equal(await e.exited, 130, e.out());
  assert.equal(jobState(id), 'CANCELLED');
  assert.deepEqual(
    records(results).map((x) => x.outcome.status),
    ['interrupted'],
  );
  assert.deepEqual(activeJobs(), []);
  writeFileSync(go, '');
  const again = await cli(['run', file, '--results', results, '--executor', 'slurm']);
  assert.equal(again.code, 0, again.out);
  assert.deepEqual(
    records(results).map((x) => x.outcome.status),
    ['ok'],
  );
});

test('an unreachable controller is a clear error at start (exit 5), before anything runs', { skip, timeout: 300_000 }, async () => {
  const file = commandBench('down', join(work, 'marks-down'), ['matrix:', '  n: [1]', "  wait: ['none']", '  code: [0]'].join('\n'));
  const conf = join(work, 'down.conf');
  // A controller on a port where none listens.
  writeFileSync(conf, readFileSync(env.SLURM_CONF, 'utf8').replace(/^SlurmctldPort=.*$/m, 'SlurmctldPort=1'));
  const child = spawnSync(process.execPath, [CLI, 'run', file, '--results', join(work, 'res-down'), '--executor', 'slurm'], { cwd: work, env: { ...env, SLURM_CONF: conf }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 5, child.stdout + child.stderr);
  assert.match(child.stderr, /^error: the Slurm controller cannot be reached \(SLURM_CONF=.*\): /m);
  assert.doesNotMatch(child.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(records(join(work, 'res-down')).length, 0);
});

test('--parallel, --partition and --slurm-opt need --executor slurm: exit 2 before anything is written', { timeout: 120_000 }, () => {
  const file = commandBench('local', join(work, 'marks-local'), ['matrix:', '  n: [1]', "  wait: ['none']", '  code: [0]'].join('\n'));
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--results', join(work, 'res-local'), '--parallel', '2'], { cwd: work, env, encoding: 'utf8', timeout: 100_000 });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: streambench run --parallel: --parallel needs --executor slurm/m);
  assert.ok(!existsSync(join(work, 'res-local')));
});
