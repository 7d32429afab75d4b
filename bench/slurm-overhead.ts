/**
 * The Slurm executor's cost, on the private 3-node test cluster (scripts/slurm-dev.sh),
 * started and stopped by this script, all in one run:
 *  (a) scheduling overhead per point: a matrix of `sleep 1` points run locally and with
 *      `--executor slurm --parallel 1`; (wall slurm - wall local) / points;
 *  (b) the wall time of the same 12-point matrix with `--parallel 1` and `--parallel 3` (one
 *      point per node at most; the cluster has 3 nodes) and the speed-up.
 * The `--parallel 1` run serves both (a) and (b): running it twice would only double the time
 * on a shared machine. Every run goes through the CLI (`bin/streambench.js run`, a fresh result
 * set each), so Node's start-up is in every figure and cancels out in the differences. Recording
 * is off, so the figures are the executor's own (a Slurm job starts its agents per point, a local
 * run once per run: that cost comes on top when recording is on). Wall times include the run's
 * fixed costs (the shared-file-system check of a Slurm run: one extra job), spread over the points.
 * Needs root and Debian's slurm packages (as the Slurm tests do).
 * Run: npx tsx bench/slurm-overhead.ts [points, default 12]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../src/base/errors.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/streambench.js');
const SCRIPT = join(ROOT, 'scripts/slurm-dev.sh');
const N = Number(process.argv[2] ?? 12);
if (!Number.isInteger(N) || N < 3) {
  console.error(`error: points must be an integer of at least 3 (got '${process.argv[2]}')`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'sb-slurm-bench-'));
// munged runs as user munge, which must reach the cluster's directory below this one.
chmodSync(work, 0o755);
const clusterDir = join(work, 'cluster');
// Ports apart from the Slurm tests' range (17000..24999), which may be running beside us.
const port = 25000 + (process.pid % 2000) * 4;
const env = { ...process.env, STREAMBENCH_SLURM_DIR: clusterDir, STREAMBENCH_SLURM_PORT: String(port), SLURM_CONF: join(clusterDir, 'slurm.conf') };

let engine: ChildProcess | undefined;

function cluster(action: 'start' | 'stop'): void {
  const r = spawnSync(SCRIPT, [action], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`slurm-dev.sh ${action} failed (exit ${r.status}): ${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`.trim());
}

let cleaned = false as boolean; // set by the signal handler
/**
 * Ends the engine if one still runs (Ctrl-C: it cancels its jobs, which needs the controller, so
 * the cluster stops only after it), stops the cluster and removes the temp dirs; reports, never throws.
 */
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  const child = engine;
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await gone;
    clearTimeout(timer);
  }
  try {
    cluster('stop');
  } catch (e) {
    console.error(`warning: ${errorMessage(e)}; its files stay in ${clusterDir}`);
    return;
  }
  rmSync(work, { recursive: true, force: true });
}
// A Ctrl-C skips `finally`: the cluster's daemons would outlive us.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`${sig}: stopping the engine and the test cluster`);
    void cleanup().then(() => process.exit(130));
  });
}

const file = join(work, 'sleep.yaml');
writeFileSync(file, [`name: slurm-overhead`, 'workload: {type: command, argv: ["sleep", "1"]}', 'recording: false', 'matrix:', `  i: {from: 1, to: ${N}}`, ''].join('\n'));

interface Run {
  label: string;
  wallS: number;
  load: [number, number];
}

/** Runs the matrix through the CLI into a fresh result set; its wall time, and the 1-min load average before and after. */
async function run(label: string, extra: string[]): Promise<Run> {
  const results = join(work, `res-${label.replace(/\W+/g, '-')}`);
  const before = loadavg()[0]!;
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', file, '--results', results, ...extra], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  engine = child;
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const wallS = (performance.now() - t0) / 1000;
  engine = undefined;
  if (code !== 0) throw new Error(`${label}: the run exited ${code}:\n${out}`);
  const pointsDir = join(results, 'points');
  const recorded = existsSync(pointsDir) ? readdirSync(pointsDir).filter((d) => !d.startsWith('.')).length : 0;
  if (recorded !== N) throw new Error(`${label}: ${recorded} of ${N} points recorded:\n${out}`);
  return { label, wallS, load: [before, loadavg()[0]!] };
}

try {
  const tc = performance.now();
  cluster('start');
  const startS = (performance.now() - tc) / 1000;
  const local = await run('local', []);
  const p1 = await run('slurm --parallel 1', ['--executor', 'slurm', '--parallel', '1']);
  const p3 = await run('slurm --parallel 3', ['--executor', 'slurm', '--parallel', '3']);

  const row = (r: Run, note: string): string => `${r.label.padEnd(20)} ${r.wallS.toFixed(1).padStart(7)} s ${(r.wallS / N).toFixed(2).padStart(8)} s   ${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)}   ${note}`;
  console.log(`${N} points of 'sleep 1' (recording off), test cluster of 3 nodes on this machine (${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} CPUs); cluster start ${startS.toFixed(1)} s`);
  console.log(`${'run'.padEnd(20)} ${'wall'.padStart(9)} ${'per point'.padStart(10)}   load 1-min before -> after`);
  console.log(row(local, ''));
  console.log(row(p1, `${(p1.wallS / local.wallS).toFixed(2)}x local`));
  console.log(row(p3, `${(p3.wallS / local.wallS).toFixed(2)}x local`));
  console.log(`(a) Slurm scheduling overhead per point (--parallel 1 - local) / ${N}: ${((p1.wallS - local.wallS) / N).toFixed(2)} s (a point's own work: 1 s)`);
  console.log(`(b) ${N}-point matrix through Slurm: --parallel 1 ${p1.wallS.toFixed(1)} s, --parallel 3 ${p3.wallS.toFixed(1)} s, speed-up ${(p1.wallS / p3.wallS).toFixed(2)}x (ideal 3x)`);
  console.log(
    `load average now (1, 5, 15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
} catch (e) {
  // After Ctrl-C the engine's exit 130 lands here: the signal handler has said why already.
  if (!cleaned) console.error(`error: ${errorMessage(e)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
