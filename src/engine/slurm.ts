/**
 * The Slurm executor: each attempt of a point is one Slurm job, submitted with sbatch, whose
 * batch step runs `streambench node point SPEC` (slurm-node.ts) on the job's first node. A
 * workload with roles on several machines (stream: guest, host, client) is a heterogeneous job
 * with one single-node component per role; `command` is one node. Every component asks for its
 * node exclusively, so two points never share a node. The job writes into the point's staging
 * directory in the result set (which must be on a file system the nodes share: checked at
 * start), and the engine commits it as it commits a local point.
 *
 * Jobs of this engine are listed in `<set>/.slurm/jobs/<id>.json` while they run. A next start
 * of the set (after kill -9 of this engine) looks at each one still listed before the staging
 * area is cleaned: one still running is cancelled (its point runs again); one that finished
 * with a result is collected (its result and files are kept in `.slurm/collected/` and the
 * engine commits them when it reaches that point, instead of running it). Either way the job's
 * listing goes at once, so a point is never recorded twice.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliArgv } from '../base/cli-process.ts';
import { errorMessage } from '../base/errors.ts';
import { writeJsonAtomic } from '../base/fs-atomic.ts';
import { newToken } from '../base/request-rules.ts';
import type { ResolvedBenchmark } from '../config/resolved.ts';
import { placement } from '../config/registry.ts';
import { workloadModule } from '../workloads/index.ts';
import type { ExecutedAttempt, ExecutorInfo, PointAttempt, RemoteExecutor } from './executor.ts';
import { cancelJob, ClusterError, jobEnded, pingController, said, showJob, slurmCmd, type JobComponent } from './slurm-cli.ts';
import type { NodeResult, PointSpec } from './slurm-node.ts';

/** How often the engine asks the controller about its running jobs. */
const POLL_MS = 500;

export interface SlurmSettings {
  /** Points at once. */
  parallel: number;
  partition?: string;
  /** More sbatch options, given to every component (e.g. --account=lab, --constraint=bench). */
  options: string[];
}

/** The machines of a workload's points, as its declaration places them under Slurm: one node per role, or one node. */
export function jobRoles(b: Pick<ResolvedBenchmark, 'workload'>): string[] {
  const p = placement(b.workload.type, 'slurm');
  if ('refused' in p) throw new Error(p.refused);
  return [...p.machines];
}

interface Running {
  jobId: string;
  cancelled?: string;
}

/** A point's result that a job of an earlier (killed) engine finished: `<set>/.slurm/collected/<key>-r<rep>/`. */
interface Collected {
  jobId: string;
  /** The point's files, as the job left them in its staging directory. */
  filesDir: string;
  node: NodeResult;
}

export class SlurmExecutor implements RemoteExecutor {
  readonly kind = 'slurm';
  readonly parallel: number;
  private setDir = '';
  private token = '';
  private readonly running = new Set<Running>();
  /** Point `<key>-r<rep>` -> the result a job of a killed engine finished for it. */
  private readonly collected = new Map<string, Collected>();

  constructor(
    private readonly b: ResolvedBenchmark,
    private readonly s: SlurmSettings,
  ) {
    this.parallel = s.parallel;
  }

  private get slurmDir(): string {
    return join(this.setDir, '.slurm');
  }

  async open(setDir: string): Promise<string[]> {
    this.setDir = resolve(setDir);
    await pingController();
    for (const d of ['jobs', 'points', 'logs', 'collected']) mkdirSync(join(this.slurmDir, d), { recursive: true, mode: 0o700 });
    chmodSync(this.slurmDir, 0o700);
    const lines = await this.cancelLeftovers();
    // The run's token: every agent of every point gets it (from this file, never argv or a job's
    // environment, which `scontrol show job` lists); only this user may read it.
    this.token = newToken();
    const tokenPath = join(this.slurmDir, 'token');
    writeFileSync(tokenPath, `${this.token}\n`, { mode: 0o600 });
    chmodSync(tokenPath, 0o600);
    await this.checkShared();
    return lines;
  }

  /**
   * Deals with the jobs an earlier engine of this set left listed (it was killed): one still
   * running is cancelled and its point runs again; one that finished with a result is collected.
   */
  private async cancelLeftovers(): Promise<string[]> {
    const dir = join(this.slurmDir, 'jobs');
    const points = join(this.slurmDir, 'points');
    const collectedDir = join(this.slurmDir, 'collected');
    const lines: string[] = [];
    // What an engine killed before an earlier start collected was never committed: still good.
    for (const name of readdirSync(collectedDir)) {
      const c = readCollected(join(collectedDir, name));
      if (c) this.collected.set(name, c);
      else rmSync(join(collectedDir, name), { recursive: true, force: true });
    }
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const path = join(dir, name);
      let job: { jobId?: unknown; point?: unknown };
      try {
        job = JSON.parse(readFileSync(path, 'utf8')) as typeof job;
      } catch (e) {
        lines.push(`${path} is no job record (${errorMessage(e)}): removed`);
        rmSync(path, { force: true });
        continue;
      }
      const id = String(job.jobId);
      if (!/^\d+$/.test(id)) {
        rmSync(path, { force: true });
        continue;
      }
      const comps = await showJob(id);
      if (comps && !jobEnded(comps[0]!.state)) {
        await cancelJob(id);
        await this.waitEnded(id);
        lines.push(`cancelled Slurm job ${id} (point ${String(job.point)}), left running by an earlier run of this set: the point runs again`);
      } else {
        const kept = this.collect(id, String(job.point), points, collectedDir);
        lines.push(
          kept
            ? `collected Slurm job ${id} (point ${String(job.point)}), finished after an earlier run of this set was killed: its result is recorded, the point does not run again`
            : `Slurm job ${id} (point ${String(job.point)}) of an earlier run had ended without a result to keep: the point runs again`,
        );
      }
      rmSync(path, { force: true });
    }
    // What the other jobs left (specs, results) belongs to points that run again.
    for (const f of readdirSync(points)) rmSync(join(points, f), { force: true });
    return lines;
  }

  /**
   * Keeps the result of the ended job `jobId` of attempt `id` (`<key>-r<rep>-a<n>`) when it has
   * one worth recording (ok, or failed by the point itself): moves the point's files out of the
   * staging area, which the engine cleans next. Returns whether it kept it.
   */
  private collect(jobId: string, id: string, points: string, collectedDir: string): boolean {
    const m = /^(.+-r\d+)-a\d+$/.exec(id);
    const specPath = join(points, `${id}.json`);
    const resultPath = join(points, `${id}.result.json`);
    if (!m || !existsSync(specPath) || !existsSync(resultPath)) return false;
    let spec: PointSpec;
    let node: NodeResult;
    try {
      spec = JSON.parse(readFileSync(specPath, 'utf8')) as PointSpec;
      node = JSON.parse(readFileSync(resultPath, 'utf8')) as NodeResult;
    } catch {
      // Written atomically by the job: unreadable means not written by it; the point runs again.
      return false;
    }
    // An interrupted point (the job was cancelled, or hit its time limit) has nothing to keep.
    if (node.result.outcome.status === 'interrupted' || !existsSync(spec.dir)) return false;
    const target = join(collectedDir, m[1]!);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    renameSync(spec.dir, join(target, 'files'));
    // The result last: a target without it is incomplete and dropped on the next start.
    writeJsonAtomic(join(target, 'job.json'), { jobId, node });
    this.collected.set(m[1]!, { jobId, filesDir: join(target, 'files'), node });
    return true;
  }

  /** Checks on a node that the result set is on a file system the nodes share (a job reads a file written here). */
  private async checkShared(): Promise<void> {
    const path = join(this.slurmDir, 'shared-check');
    const word = newToken();
    writeFileSync(path, word);
    const r = await slurmCmd('srun', ['--job-name=streambench-check', '--nodes=1', '--ntasks=1', '--quiet', ...this.partitionArgs(), ...this.s.options, 'cat', path], 120_000);
    rmSync(path, { force: true });
    if (r.code !== 0 || r.stdout.trim() !== word) {
      const why = r.code !== 0 ? said(r) : 'it read other contents';
      throw new ClusterError(`the result set ${this.setDir} must be on a file system the Slurm nodes share, and a node cannot read ${path}: ${why}`);
    }
  }

  private partitionArgs(): string[] {
    return this.s.partition ? [`--partition=${this.s.partition}`] : [];
  }

  async execute(a: PointAttempt, signal: AbortSignal): Promise<ExecutedAttempt> {
    const done = this.collected.get(`${a.run.key}-r${a.run.rep}`);
    if (done) return this.takeCollected(`${a.run.key}-r${a.run.rep}`, done, a.dir);
    const id = `${a.run.key}-r${a.run.rep}-a${a.attempt}`;
    const points = join(this.slurmDir, 'points');
    const specPath = join(points, `${id}.json`);
    const resultPath = join(points, `${id}.result.json`);
    const scriptPath = join(points, `${id}.job`);
    const roles = jobRoles(this.b);
    const spec: PointSpec = {
      setDir: this.setDir,
      dir: resolve(a.dir),
      tokenPath: join(this.slurmDir, 'token'),
      resultPath,
      logDir: join(this.slurmDir, 'logs'),
      id,
      roles,
      cwd: resolve(this.b.source.file, '..'),
      workload: this.b.workload,
      ...(workloadModule(this.b.workload.type)?.url !== undefined ? { workloadModule: workloadModule(this.b.workload.type)!.url! } : {}),
      ...(this.b.recording ? { recording: this.b.recording } : {}),
      paramHooks: this.b.paramHooks,
      params: { ...a.run.params },
      typed: a.typing.typed,
      rep: a.run.rep,
      key: a.run.key,
      warmupS: this.b.warmupS,
      ...(this.b.durationS !== undefined ? { durationS: this.b.durationS } : {}),
      values: a.values,
    };
    writeJsonAtomic(specPath, spec);
    writeFileSync(scriptPath, batchScript(cliArgv('node', ['point', specPath])), { mode: 0o700 });
    rmSync(resultPath, { force: true });

    const component = ['--nodes=1', '--ntasks=1', '--exclusive', ...this.partitionArgs(), ...this.timeArgs(), ...this.s.options];
    const args = ['--parsable', `--job-name=streambench-${a.run.key}-r${a.run.rep}`, `--output=${join(this.slurmDir, 'logs', `${id}-%j.log`)}`, `--chdir=${spec.cwd}`, ...component];
    for (let i = 1; i < roles.length; i++) args.push(':', ...component);
    const sub = await slurmCmd('sbatch', [...args, scriptPath]);
    if (sub.code !== 0) {
      return { result: failed(`Slurm refused the job: ${said(sub)}`) };
    }
    const jobId = sub.stdout.trim().split(';')[0]!;
    const jobFile = join(this.slurmDir, 'jobs', `${jobId}.json`);
    writeJsonAtomic(jobFile, { jobId, point: id, engine: { pid: process.pid, host: hostname() }, submittedAt: new Date().toISOString() });
    const me: Running = { jobId };
    this.running.add(me);
    const onAbort = () => {
      me.cancelled ??= 'interrupted by the user';
      cancelJob(jobId).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    let comps: JobComponent[] | undefined;
    try {
      comps = await this.waitEnded(jobId);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.running.delete(me);
    }
    const nodes: Record<string, string> = {};
    comps?.forEach((c, i) => (nodes[roles[i] ?? `component${i}`] = c.nodeList));
    const info = (extra?: Partial<ExecutorInfo>): ExecutorInfo => ({ kind: 'slurm', jobId, nodes, ...extra });
    let out: ExecutedAttempt;
    if (existsSync(resultPath)) {
      const r = JSON.parse(readFileSync(resultPath, 'utf8')) as NodeResult;
      out = { result: r.result, info: info({ nodes: r.nodes, ...(Object.keys(r.clocks).length > 0 ? { clocks: r.clocks } : {}) }), ...(r.conditions ? { conditions: r.conditions } : {}) };
      if (r.result.outcome.status === 'interrupted') {
        // The job was stopped: by this engine (Ctrl-C, on_error: stop), or by Slurm (scancel by
        // someone, a time limit, a node failure), which fails the point with Slurm's reason.
        r.result.outcome = me.cancelled ? { status: 'interrupted', reason: me.cancelled } : { status: 'failed', error: `Slurm ended job ${jobId}: ${describeEnd(comps)}` };
      }
    } else if (me.cancelled) {
      out = { result: { outcome: { status: 'interrupted', reason: me.cancelled }, metrics: {}, wallS: 0, flags: [] }, info: info() };
    } else {
      const tail = logTail(join(this.slurmDir, 'logs', `${id}-${jobId}.log`));
      out = { result: failed(`Slurm job ${jobId} ended without a result (${describeEnd(comps)})${tail ? `: ${tail}` : ''}`), info: info() };
    }
    rmSync(jobFile, { force: true });
    for (const p of [specPath, resultPath, scriptPath]) rmSync(p, { force: true });
    // A good point's job log says nothing the point's own files do not; a failed one's is kept.
    if (out.result.outcome.status === 'ok') for (const log of [`${id}-${jobId}.log`, `${id}-agents.log`]) rmSync(join(this.slurmDir, 'logs', log), { force: true });
    return out;
  }

  /** Hands the engine a collected result: its files go into the attempt's staging directory. */
  private takeCollected(name: string, c: Collected, dir: string): ExecutedAttempt {
    this.collected.delete(name);
    rmSync(dir, { recursive: true, force: true });
    renameSync(c.filesDir, dir);
    rmSync(join(this.slurmDir, 'collected', name), { recursive: true, force: true });
    const r = c.node;
    return { result: r.result, info: { kind: 'slurm', jobId: c.jobId, nodes: r.nodes, ...(Object.keys(r.clocks).length > 0 ? { clocks: r.clocks } : {}) }, ...(r.conditions ? { conditions: r.conditions } : {}) };
  }

  /** A time limit from the point's length, unless the user gave one: a hung job ends. */
  private timeArgs(): string[] {
    if (this.s.options.some((o) => /^(-t|--time)(=|$)/.test(o))) return [];
    if (this.b.durationS === undefined) return [];
    const minutes = Math.ceil((this.b.warmupS + this.b.durationS + 300) / 60);
    return [`--time=${minutes}`];
  }

  /** Polls the controller until the job has ended; returns its components as last seen. */
  private async waitEnded(jobId: string): Promise<JobComponent[] | undefined> {
    let last: JobComponent[] | undefined;
    for (;;) {
      const comps = await showJob(jobId);
      if (!comps || comps.length === 0) return last;
      last = comps;
      if (comps.every((c) => jobEnded(c.state))) return comps;
      await sleep(POLL_MS);
    }
  }

  async cancelAll(reason: string): Promise<void> {
    await Promise.all(
      [...this.running].map(async (r) => {
        r.cancelled ??= reason;
        await cancelJob(r.jobId);
      }),
    );
  }

  async close(): Promise<void> {
    // Nothing of this engine runs after its last point; a job still listed (an exception) goes.
    await this.cancelAll('the run ended');
  }
}

/** How a job ended, as the controller says: state, reason, exit code. */
function describeEnd(comps: JobComponent[] | undefined): string {
  const c = comps?.find((x) => x.state !== 'COMPLETED') ?? comps?.[0];
  if (!c) return 'no longer known to the controller';
  return `${c.state}${c.reason && c.reason !== 'None' ? `, reason ${c.reason}` : ''}, exit code ${c.exitCode}`;
}

/** A collected result left by an earlier start, or undefined when it is incomplete. */
function readCollected(dir: string): Collected | undefined {
  try {
    const j = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string; node: NodeResult };
    return existsSync(join(dir, 'files')) ? { jobId: j.jobId, filesDir: join(dir, 'files'), node: j.node } : undefined;
  } catch {
    // No job.json: the start that collected it was killed midway; the point runs again.
    return undefined;
  }
}

function failed(error: string): ExecutedAttempt['result'] {
  return { outcome: { status: 'failed', error }, metrics: {}, wallS: 0, flags: [] };
}

function logTail(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return (lines.at(-1) ?? '').slice(0, 300);
  } catch {
    // No log: the job never started on a node (the state says why).
    return '';
  }
}

/**
 * The job's batch script: Node itself (sbatch needs a `#!` file), starting the node runner as an
 * argv array (no shell) and passing Slurm's signals on, so that scancel stops the point cleanly.
 */
export function batchScript(argv: readonly string[]): string {
  return [
    `#!${process.execPath}`,
    '// streambench: one point of a benchmark (generated by `streambench run --executor slurm`)',
    "'use strict';",
    "const { spawn } = require('node:child_process');",
    `const argv = ${JSON.stringify(argv)};`,
    "const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });",
    "for (const s of ['SIGTERM', 'SIGINT', 'SIGUSR1']) process.on(s, () => child.kill(s));",
    "child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (require('node:os').constants.signals[signal] ?? 1) : 1)));",
    '',
  ].join('\n');
}
