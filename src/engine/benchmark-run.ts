/**
 * One run of a benchmark into a result set, stage by stage (runBenchmark calls them in order):
 * prepare, plan, check the machine, start recording, setup, execute every point (run each one,
 * here or remotely, end its recording and merge, commit), teardown, finish, close.
 */
import { appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pidAlive } from '../base/pid-alive.ts';
import { errorMessage, type EnvironmentError } from '../base/errors.ts';
import { storageFailure, writeJsonAtomic } from '../base/fs-atomic.ts';
import type { PlannedRun } from '../config/matrix.ts';
import { declaredRoles } from '../config/registry.ts';
import type { PartialPoint, ResolvedBenchmark, ResolvedHook } from '../config/resolved.ts';
import type { PointRecord } from '../store/records.ts';
import type { PointWriter, ResultSet } from '../store/resultset.ts';
import { createWorkload } from '../workloads/index.ts';
import type { PointResult, Workload } from '../workloads/workload.ts';
import type { EngineEvent, EventSink, RunSummary } from './events.ts';
import type { ExecutedAttempt, PointAttempt, RemoteExecutor } from './executor.ts';
import { runHook } from './hooks.ts';
import { LiveRegistry } from './live.ts';
import { ParamHooks } from './param-hooks.ts';
import { makePlan } from './plan.ts';
import { MachineWatch, preRunCheck } from './point-checks.ts';
import { endPoint, recordingContext } from './point-end.ts';
import { RunRecorder, type PointSample } from './recorder.ts';

export interface EngineOptions {
  results: ResultSet;
  force?: boolean;
  filter?: PartialPoint[];
  signal: AbortSignal;
  onEvent?: EventSink;
  /** Hears the agents' samples of the point in progress as they arrive (about a second behind), for a live view. */
  onSample?: (s: PointSample) => void;
  /** Replaces the benchmark's workload (tests use a fake one to check scheduling). */
  workload?: Workload;
  /** Runs each point's attempts elsewhere (a Slurm job each); absent: here, one point at a time. */
  executor?: RemoteExecutor;
}

/** A point's recording once begun: the recorder when the agents record it, else the engine's watch of this machine; what went wrong so far. */
interface PointRecordingState {
  recording?: RunRecorder;
  watch?: MachineWatch;
  recErr?: string;
}

type TemplateValues = Record<string, string | number | boolean>;

export class BenchmarkRun {
  private readonly t0 = performance.now();
  private readonly set: ResultSet;
  private readonly unlock: () => void;
  private readonly live: LiveRegistry;
  // A remote executor records on the point's own machines, and runs its parameter hooks there.
  private readonly remote: RemoteExecutor | undefined;
  private readonly cwd: string;
  private readonly setValues: { name: string; results_dir: string };
  private readonly hookLog: string;
  private readonly paramHooks: ParamHooks;
  private recorder: RunRecorder | undefined;
  private workload: Workload | undefined;
  private todo: PlannedRun[] = [];
  private perPointS: number | undefined;
  private readonly summary: RunSummary = { planned: 0, skipped: 0, ok: 0, failed: 0, interrupted: false, seconds: 0 };
  /** Points at once: N workers take the next point in plan order (the order of submission). */
  private readonly parallel: number;
  private readonly durations: number[] = [];
  private next = 0;
  /** Set by any of the parallel workers. */
  private stopping = false;
  private diskError: EnvironmentError | undefined;

  /** Takes the set's lock: one run at a time writes a set. */
  constructor(
    private readonly b: ResolvedBenchmark,
    private readonly opts: EngineOptions,
  ) {
    this.set = opts.results;
    this.unlock = this.set.lock(pidAlive);
    this.live = new LiveRegistry(this.set.dir, (message) => this.emit({ type: 'warning', message }));
    this.remote = opts.executor;
    this.parallel = this.remote?.parallel ?? 1;
    this.cwd = dirname(resolve(b.source.file));
    this.setValues = { name: b.name, results_dir: resolve(this.set.dir) };
    this.hookLog = join(this.set.dir, 'hooks.log');
    this.paramHooks = new ParamHooks(b.paramHooks, this.setValues, (h, values) => this.hook(h, values));
  }

  private emit(e: EngineEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Ends what earlier runs left, starts the watchdog, opens the remote executor, cleans the staging area, freezes the benchmark file into the set. */
  async prepare(): Promise<void> {
    for (const pid of this.live.reap()) this.emit({ type: 'reaped', pid });
    this.live.startWatchdog();
    // Before the staging area is cleaned: jobs an engine killed earlier left may still write there.
    if (this.remote) for (const message of await this.remote.open(this.set.dir)) this.emit({ type: 'warning', message });
    this.set.cleanStaging();
    this.set.freezeBenchmark(this.b.source);
  }

  /** The runs of the matrix, less those the set has recorded: the points to run. */
  plan(): PlannedRun[] {
    const { opts, b } = this;
    const plan = makePlan(b, this.set, { ...(opts.filter ? { filter: opts.filter } : {}), ...(opts.force ? { force: true } : {}) });
    this.todo = plan.runs.filter((_, i) => plan.recorded[i] === undefined);
    this.perPointS = plan.perPointS;
    this.emit({ type: 'plan', total: plan.runs.length, toRun: this.todo.length, recorded: plan.runs.length - this.todo.length, resultsDir: this.set.dir });
    this.summary.planned = plan.runs.length;
    this.summary.skipped = plan.runs.length - this.todo.length;
    this.workload = opts.workload ?? createWorkload(b.workload);
    return this.todo;
  }

  /**
   * Once, before anything starts (agents starting would load the machine themselves): a machine
   * already busy flags every point run now; said at once.
   */
  async checkMachine(): Promise<void> {
    if (!this.remote) for (const message of await preRunCheck().finish()) this.emit({ type: 'warning', message });
  }

  /** The run's agents (a remote executor records on the point's own machines); false when they could not start, which stops the run. */
  async startRecording(): Promise<boolean> {
    if (!this.b.recording || this.remote) return true;
    try {
      this.recorder = await RunRecorder.start(this.b.recording, this.set.dir, (p) => this.live.add(p));
      if (this.opts.onSample) this.recorder.onSample(this.opts.onSample);
      writeJsonAtomic(join(this.set.dir, 'agents.json'), this.recorder.hellos);
      return true;
    } catch (e) {
      const disk = storageFailure(e, this.set.dir);
      if (disk) throw disk;
      this.summary.stoppedBy = `recording could not start: ${errorMessage(e)}`;
      return false;
    }
  }

  /** The setup hooks; false when one failed, which stops the run. */
  async setup(): Promise<boolean> {
    for (const h of this.b.setup) {
      const err = await this.hook(h, this.setValues);
      if (err) {
        this.summary.stoppedBy = `setup failed: ${err}`;
        this.summary.interrupted = this.opts.signal.aborted;
        return false;
      }
    }
    return true;
  }

  /** Every point to run, through runPoint, by as many workers as the executor runs points at once. */
  async executeAll(): Promise<void> {
    await Promise.all(Array.from({ length: Math.min(this.parallel, Math.max(1, this.todo.length)) }, () => this.worker()));
  }

  /** Undoes what the parameter hooks and the setup hooks did. */
  async teardown(): Promise<void> {
    try {
      await this.paramHooks.unwind();
      for (const h of this.b.teardown) await this.hook(h, this.setValues);
    } catch (e) {
      // The hooks still undo what they set up, but their log is on the failing disk too.
      if (!this.diskError) throw e;
      this.diskError.message += `; teardown hooks did not all run: ${errorMessage(e)}`;
    }
  }

  /** The run's summary (the `done` event), or the disk failure that stopped it. */
  finish(): RunSummary {
    if (this.diskError) throw this.diskError;
    const { summary } = this;
    summary.seconds = (performance.now() - this.t0) / 1000;
    if (this.opts.signal.aborted) summary.interrupted = true;
    this.emit({ type: 'done', summary });
    return summary;
  }

  /** Whatever the run ended by: the agents stop, the remote executor closes, the watchdog ends, the set's lock is released. */
  async close(): Promise<void> {
    if (this.recorder) {
      await this.recorder.stop();
      for (const pid of this.recorder.localPids) this.live.remove(pid);
    }
    await this.remote?.close();
    await this.live.close();
    this.unlock();
  }

  /** One of the parallel workers: takes the next point in plan order until none is left or the run stops. */
  private async worker(): Promise<void> {
    const { todo, summary, set, remote } = this;
    while (!this.stopping && this.next < todo.length) {
      if (this.opts.signal.aborted) {
        summary.interrupted = true;
        break;
      }
      const i = this.next++;
      const run = todo[i]!;
      const started = performance.now();
      let record: PointRecord;
      try {
        record = await this.runPoint(run, i + 1);
      } catch (e) {
        // A full or read-only disk fails every later point the same way: stop on its error, with
        // the recorded points untouched (the unfinished one was only staged).
        const disk = storageFailure(e, set.dir);
        this.stopping = true;
        await remote?.cancelAll(`cancelled: ${disk ? disk.message : errorMessage(e)}`);
        if (!disk) throw e;
        if (this.diskError) break;
        this.diskError = disk;
        const left = set.abandonUnfinished();
        if (left) this.diskError.message += `; ${left}`;
        break;
      }
      this.durations.push((performance.now() - started) / 1000);
      const etaS = this.eta(todo.length - i - 1);
      this.emit({ type: 'point-end', run, n: i + 1, of: todo.length, record, ...(etaS !== undefined ? { etaS } : {}) });
      if (record.outcome.status === 'ok') summary.ok++;
      else if (record.outcome.status === 'failed') {
        summary.failed++;
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- another worker may have set it while this one awaited
        if (this.b.onError === 'stop' && !this.stopping) {
          summary.stoppedBy = `point ${run.key} r${run.rep} failed: ${record.outcome.error}`;
          // No new submissions; the points still running are cancelled (recorded as interrupted).
          this.stopping = true;
          await remote?.cancelAll(`cancelled: on_error is stop and point ${run.key} r${run.rep} failed`);
          break;
        }
      } else {
        // A point cancelled because another failed is no interruption of the run.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- another worker may have set it, and the signal may have fired, while the point ran
        if (!this.stopping || this.opts.signal.aborted) summary.interrupted = true;
        this.stopping = true;
        break;
      }
    }
  }

  /** Seconds until `left` more points are done: the mean of the points so far, else the plan's estimate. */
  private eta(left: number): number | undefined {
    const { durations } = this;
    const per = durations.length > 0 ? durations.reduce((a, x) => a + x, 0) / durations.length : this.perPointS;
    return per === undefined ? undefined : (per * left) / Math.min(this.parallel, Math.max(1, left));
  }

  /** One point, attempt after attempt: execute it (here, or through the remote executor), then commit it, or discard it and retry. */
  private async runPoint(run: PlannedRun, n: number): Promise<PointRecord> {
    const { b, opts, remote, todo } = this;
    // Typed when the file was resolved and the point planned: the workload computes with these, the record keeps them beside the labels.
    const typing = { typed: run.typed, ...(b.declared ? { declared: b.declared } : {}) };
    for (let attempt = 1; ; attempt++) {
      const etaS = this.eta(todo.length - n + 1);
      this.emit({ type: 'point-start', run, n, of: todo.length, attempt, ...(etaS !== undefined ? { etaS } : {}) });
      const writer = this.set.beginPoint(run.key, run.rep);
      const values = this.templateValues(run, writer.dir);
      const startedAt = new Date().toISOString();
      const executed = remote ? await remote.execute({ run, attempt, dir: writer.dir, values, typing }, opts.signal) : await this.executeHere(run, attempt, writer.dir, values);
      const retry = executed.result.outcome.status === 'failed' && attempt <= b.retries && !opts.signal.aborted;
      if (retry) {
        writer.discard();
        continue;
      }
      return this.commit(writer, run, { attempt, typing, startedAt, ...executed });
    }
  }

  /** Values for the `{name}` placeholders of one attempt: the set's, the point's parameters and the built-in names. */
  private templateValues(run: PlannedRun, dir: string): TemplateValues {
    const { b } = this;
    return { ...this.setValues, ...run.params, rep: run.rep, point_key: run.key, point_dir: resolve(dir), duration: b.durationS ?? 0, warmup: b.warmupS };
  }

  /**
   * One attempt on this machine: configure it (parameter hooks), start the point's recording,
   * execute the workload, end the recording and merge its metrics and flags (point-end.ts).
   */
  private async executeHere(run: PlannedRun, attempt: number, dir: string, values: TemplateValues): Promise<ExecutedAttempt> {
    const hookErr = await this.paramHooks.configure(run.params, values);
    if (hookErr) {
      return {
        result: this.opts.signal.aborted ? { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: 0, flags: [] } : { outcome: { status: 'failed', error: `hook failed: ${hookErr}` }, metrics: {}, wallS: 0, flags: [] },
      };
    }
    const rec = await this.startPointRecording(`${run.key}-r${run.rep}-a${attempt}`);
    const result = await this.execute(run, dir, values, rec);
    const watched = rec.watch?.stop();
    const { conditions } = await endPoint(result, { dir, ...(rec.recording ? { recorder: rec.recording } : {}), ...(rec.recErr !== undefined ? { recErr: rec.recErr } : {}), roles: declaredRoles(this.b.workload.type), ...(watched ? { watched } : {}), storage: this.set.dir });
    return { result, ...(conditions ? { conditions } : {}) };
  }

  /** The point's recording begins (the agents), or, without agents, the engine's watch of its own machine for the point's conditions. */
  private async startPointRecording(session: string): Promise<PointRecordingState> {
    const state: PointRecordingState = {};
    try {
      await this.recorder?.beginPoint(session);
      if (this.recorder) state.recording = this.recorder;
    } catch (e) {
      state.recErr = `recording did not start: ${errorMessage(e)}`;
    }
    if (!state.recording) {
      state.watch = new MachineWatch();
      state.watch.start();
    }
    return state;
  }

  /** Runs the workload for the point; a problem with what it asked of the recording becomes the state's recErr. */
  private async execute(run: PlannedRun, dir: string, values: TemplateValues, rec: PointRecordingState): Promise<PointResult> {
    const { b, opts, live } = this;
    try {
      return await this.workload!.run({
        params: run.params,
        typed: run.typed,
        rep: run.rep,
        key: run.key,
        dir,
        warmupS: b.warmupS,
        ...(b.durationS !== undefined ? { durationS: b.durationS } : {}),
        templateValues: values,
        signal: opts.signal,
        onProcess: (p, ended) => (ended ? live.remove(p.pid) : live.add(p)),
        ...recordingContext(rec.recording, (m) => (rec.recErr ??= m)),
      });
    } catch (e) {
      const disk = storageFailure(e, this.set.dir);
      if (disk) throw disk;
      return { outcome: { status: 'failed', error: `workload error: ${errorMessage(e)}` }, metrics: {}, wallS: 0, flags: [] };
    }
  }

  /** The point's record, written atomically into the set. */
  private commit(writer: PointWriter, run: PlannedRun, x: ExecutedAttempt & { attempt: number; typing: PointAttempt['typing']; startedAt: string }): PointRecord {
    const { b } = this;
    const { result, info: where, conditions } = x;
    return writer.commit({
      key: run.key,
      rep: run.rep,
      index: run.index,
      params: { ...run.params },
      ...x.typing,
      outcome: result.outcome,
      attempts: x.attempt,
      workload: b.workload.type,
      benchmark: { name: b.name, sha256: b.source.sha256 },
      startedAt: x.startedAt,
      endedAt: new Date().toISOString(),
      wallS: result.wallS,
      metrics: result.metrics,
      flags: result.flags,
      ...(conditions ? { conditions } : {}),
      ...(result.timeline ? { timeline: result.timeline } : {}),
      ...(where ? { executor: where } : {}),
    });
  }

  /** One hook, here or (aimed at a role) through its agent; returns what went wrong, or undefined. */
  private async hook(h: ResolvedHook, values: Record<string, unknown>): Promise<string | undefined> {
    if (h.on !== undefined) return this.remoteHook(h, values);
    const r = await runHook(h, values, this.hookLog, this.opts.signal, this.cwd, (p, ended) => (ended ? this.live.remove(p.pid) : this.live.add(p)));
    this.emit({ type: 'hook', where: h.where, argv: r.argv, exitCode: r.exitCode, seconds: r.seconds, ok: r.ok, ...(r.message ? { message: r.message } : {}) });
    return r.ok ? undefined : `${h.where} ${JSON.stringify(r.argv)} ${r.message}`;
  }

  /** A hook aimed at a role runs through its agent; its output and exit code go to the hooks log. */
  private async remoteHook(h: ResolvedHook, values: Record<string, unknown>): Promise<string | undefined> {
    const t = performance.now();
    const r = this.recorder ? await this.recorder.runHook(h, values) : { argv: h.argv, error: 'recording is off, so no agent can run it' };
    const seconds = (performance.now() - t) / 1000;
    const reply = r.reply;
    const message = r.error ?? reply?.error ?? (reply && reply.exitCode !== 0 ? (reply.signal ? `killed by ${reply.signal}` : `exited with code ${reply.exitCode}`) : undefined);
    appendFileSync(this.hookLog, `\n# ${new Date().toISOString()} ${h.where} on ${h.on}: ${JSON.stringify(r.argv)} -> ${message ?? 'ok'}\n${reply?.stdout ?? ''}${reply?.stderr ?? ''}`);
    this.emit({ type: 'hook', where: `${h.where} on ${h.on}`, argv: r.argv, exitCode: reply?.exitCode ?? null, seconds, ok: message === undefined, ...(message ? { message } : {}) });
    return message === undefined ? undefined : `${h.where} on ${h.on} ${JSON.stringify(r.argv)} ${message}`;
  }
}
