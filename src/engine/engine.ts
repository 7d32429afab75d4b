/** Runs a benchmark point by point into a result set: hooks, retries, resume, abort. */
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PlannedRun } from '../config/matrix.ts';
import type { Params, PartialPoint, ResolvedBenchmark, ResolvedHook } from '../config/resolved.ts';
import type { PointRecord } from '../store/records.ts';
import { pidAlive } from '../base/pid-alive.ts';
import { declaredRoles } from '../config/registry.ts';
import { MachineWatch, preRunCheck } from './point-checks.ts';
import type { PointWriter, ResultSet } from '../store/resultset.ts';
import { createWorkload } from '../workloads/index.ts';
import type { PointResult, Workload } from '../workloads/workload.ts';
import type { EngineEvent, EventSink, RunSummary } from './events.ts';
import type { ExecutedAttempt, PointAttempt, RemoteExecutor } from './executor.ts';
import { runHook } from './hooks.ts';
import { endPoint, recordingContext } from './point-end.ts';
import { LiveRegistry } from './live.ts';
import { makePlan } from './plan.ts';
import { RunRecorder, type PointSample } from './recorder.ts';
import { appendFileSync } from 'node:fs';
import { storageFailure, writeJsonAtomic } from '../base/fs-atomic.ts';
import { errorMessage, type EnvironmentError } from '../base/errors.ts';

/** A point's recording once begun: the recorder when the agents record it, else the engine's watch of this machine; what went wrong so far. */
interface PointRecordingState {
  recording?: RunRecorder;
  watch?: MachineWatch;
  recErr?: string;
}

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

/** Runs every planned point not yet recorded; returns what happened. Never prints. */
export async function runBenchmark(b: ResolvedBenchmark, opts: EngineOptions): Promise<RunSummary> {
  const emit = (e: EngineEvent) => opts.onEvent?.(e);
  const set = opts.results;
  const t0 = performance.now();
  const unlock = set.lock(pidAlive);
  const live = new LiveRegistry(set.dir, (message) => emit({ type: 'warning', message }));
  let recorder: RunRecorder | undefined;
  // A remote executor records on the point's own machines, and runs its parameter hooks there.
  const remote = opts.executor;
  try {
    for (const pid of live.reap()) emit({ type: 'reaped', pid });
    live.startWatchdog();
    // Before the staging area is cleaned: jobs an engine killed earlier left may still write there.
    if (remote) for (const message of await remote.open(set.dir)) emit({ type: 'warning', message });
    set.cleanStaging();
    set.freezeBenchmark(b.source);
    // Stage 1, plan: the runs of the matrix, less those the set has recorded.
    const plan = makePlan(b, set, { ...(opts.filter ? { filter: opts.filter } : {}), ...(opts.force ? { force: true } : {}) });
    const todo = plan.runs.filter((_, i) => plan.recorded[i] === undefined);
    emit({ type: 'plan', total: plan.runs.length, toRun: todo.length, recorded: plan.runs.length - todo.length, resultsDir: set.dir });
    const summary: RunSummary = { planned: plan.runs.length, skipped: plan.runs.length - todo.length, ok: 0, failed: 0, interrupted: false, seconds: 0 };
    const workload = opts.workload ?? createWorkload(b.workload);
    const cwd = dirname(resolve(b.source.file));
    const setValues = { name: b.name, results_dir: resolve(set.dir) };
    const hookLog = join(set.dir, 'hooks.log');

    const hook = async (h: ResolvedHook, values: Record<string, unknown>): Promise<string | undefined> => {
      if (h.on !== undefined) return remoteHook(h, values);
      const r = await runHook(h, values, hookLog, opts.signal, cwd, (p, ended) => (ended ? live.remove(p.pid) : live.add(p)));
      emit({ type: 'hook', where: h.where, argv: r.argv, exitCode: r.exitCode, seconds: r.seconds, ok: r.ok, ...(r.message ? { message: r.message } : {}) });
      return r.ok ? undefined : `${h.where} ${JSON.stringify(r.argv)} ${r.message}`;
    };

    // A hook aimed at a role runs through its agent; its output and exit code go to the hooks log.
    const remoteHook = async (h: ResolvedHook, values: Record<string, unknown>): Promise<string | undefined> => {
      const t = performance.now();
      const r = recorder ? await recorder.runHook(h, values) : { argv: h.argv, error: 'recording is off, so no agent can run it' };
      const seconds = (performance.now() - t) / 1000;
      const reply = r.reply;
      const message = r.error ?? reply?.error ?? (reply && reply.exitCode !== 0 ? (reply.signal ? `killed by ${reply.signal}` : `exited with code ${reply.exitCode}`) : undefined);
      appendFileSync(hookLog, `\n# ${new Date().toISOString()} ${h.where} on ${h.on}: ${JSON.stringify(r.argv)} -> ${message ?? 'ok'}\n${reply?.stdout ?? ''}${reply?.stderr ?? ''}`);
      emit({ type: 'hook', where: `${h.where} on ${h.on}`, argv: r.argv, exitCode: reply?.exitCode ?? null, seconds, ok: message === undefined, ...(message ? { message } : {}) });
      return message === undefined ? undefined : `${h.where} on ${h.on} ${JSON.stringify(r.argv)} ${message}`;
    };

    // Once, before anything starts (agents starting would load the machine themselves): a machine
    // already busy flags every point run now; said at once.
    if (todo.length > 0 && !remote) for (const message of await preRunCheck().finish()) emit({ type: 'warning', message });

    // Stage 2, start recording: the run's agents (a remote executor records on the point's own machines).
    if (todo.length > 0 && b.recording && !remote) {
      try {
        recorder = await RunRecorder.start(b.recording, set.dir, (p) => live.add(p));
        if (opts.onSample) recorder.onSample(opts.onSample);
        writeJsonAtomic(join(set.dir, 'agents.json'), recorder.hellos);
      } catch (e) {
        const disk = storageFailure(e, set.dir);
        if (disk) throw disk;
        summary.stoppedBy = `recording could not start: ${errorMessage(e)}`;
        return finish();
      }
    }

    if (todo.length > 0) {
      for (const h of b.setup) {
        const err = await hook(h, setValues);
        if (err) {
          summary.stoppedBy = `setup failed: ${err}`;
          summary.interrupted = opts.signal.aborted;
          return finish();
        }
      }
    }

    // Parameter hooks: `before` runs when a parameter takes a new value, `after` when it leaves it.
    let configured: Params | undefined;
    const leave = async (prev: Params, next: Params | undefined): Promise<string | undefined> => {
      for (const [param, hs] of Object.entries(b.paramHooks)) {
        if (next && next[param] === prev[param]) continue;
        for (const h of hs.after) {
          const err = await hook(h, { ...setValues, ...prev });
          if (err) return err;
        }
      }
      return undefined;
    };
    const enter = async (next: Params, prev: Params | undefined, values: Record<string, unknown>): Promise<string | undefined> => {
      for (const [param, hs] of Object.entries(b.paramHooks)) {
        if (prev && prev[param] === next[param]) continue;
        for (const h of hs.before) {
          const err = await hook(h, values);
          if (err) return err;
        }
      }
      return undefined;
    };

    let diskError: EnvironmentError | undefined;
    const durations: number[] = [];
    // Points at once: N workers take the next point in plan order (the order of submission).
    const parallel = remote?.parallel ?? 1;
    const eta = (left: number) => {
      const per = durations.length > 0 ? durations.reduce((a, x) => a + x, 0) / durations.length : plan.perPointS;
      return per === undefined ? undefined : (per * left) / Math.min(parallel, Math.max(1, left));
    };

    // Stage 3, execute: each point through runPoint (execute, end its recording and merge, commit).
    let next = 0;
    let stopping = false as boolean; // set by any of the parallel workers
    const worker = async (): Promise<void> => {
      while (!stopping && next < todo.length) {
        if (opts.signal.aborted) {
          summary.interrupted = true;
          break;
        }
        const i = next++;
        const run = todo[i]!;
        const started = performance.now();
        let record: PointRecord;
        try {
          record = await runPoint(run, i + 1);
        } catch (e) {
          // A full or read-only disk fails every later point the same way: stop on its error, with
          // the recorded points untouched (the unfinished one was only staged).
          const disk = storageFailure(e, set.dir);
          stopping = true;
          await remote?.cancelAll(`cancelled: ${disk ? disk.message : errorMessage(e)}`);
          if (!disk) throw e;
          if (diskError) break;
          diskError = disk;
          const left = set.abandonUnfinished();
          if (left) diskError.message += `; ${left}`;
          break;
        }
        durations.push((performance.now() - started) / 1000);
        emit({ type: 'point-end', run, n: i + 1, of: todo.length, record, ...(eta(todo.length - i - 1) !== undefined ? { etaS: eta(todo.length - i - 1)! } : {}) });
        if (record.outcome.status === 'ok') summary.ok++;
        else if (record.outcome.status === 'failed') {
          summary.failed++;
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- another worker may have set it while this one awaited
          if (b.onError === 'stop' && !stopping) {
            summary.stoppedBy = `point ${run.key} r${run.rep} failed: ${record.outcome.error}`;
            // No new submissions; the points still running are cancelled (recorded as interrupted).
            stopping = true;
            await remote?.cancelAll(`cancelled: on_error is stop and point ${run.key} r${run.rep} failed`);
            break;
          }
        } else {
          // A point cancelled because another failed is no interruption of the run.
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may have fired while the point ran
          if (!stopping || opts.signal.aborted) summary.interrupted = true;
          stopping = true;
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, todo.length)) }, worker));
    try {
      if (configured) await leave(configured, undefined);
      if (todo.length > 0) for (const h of b.teardown) await hook(h, setValues);
    } catch (e) {
      // The hooks still undo what they set up, but their log is on the failing disk too.
      if (!diskError) throw e;
      diskError.message += `; teardown hooks did not all run: ${errorMessage(e)}`;
    }
    if (diskError) throw diskError;
    return finish();

    function finish(): RunSummary {
      summary.seconds = (performance.now() - t0) / 1000;
      if (opts.signal.aborted) summary.interrupted = true;
      emit({ type: 'done', summary });
      return summary;
    }

    /** One point, attempt after attempt: execute it (here, or through the remote executor), then commit it, or discard it and retry. */
    async function runPoint(run: PlannedRun, n: number): Promise<PointRecord> {
      // Typed when the file was resolved and the point planned: the workload computes with these, the record keeps them beside the labels.
      const typing = { typed: run.typed, ...(b.declared ? { declared: b.declared } : {}) };
      for (let attempt = 1; ; attempt++) {
        emit({ type: 'point-start', run, n, of: todo.length, attempt, ...(eta(todo.length - n + 1) !== undefined ? { etaS: eta(todo.length - n + 1)! } : {}) });
        const writer = set.beginPoint(run.key, run.rep);
        const values = templateValues(run, writer.dir);
        const startedAt = new Date().toISOString();
        const executed = remote ? await remote.execute({ run, attempt, dir: writer.dir, values, typing }, opts.signal) : await executeHere(run, attempt, writer.dir, values);
        const retry = executed.result.outcome.status === 'failed' && attempt <= b.retries && !opts.signal.aborted;
        if (retry) {
          writer.discard();
          continue;
        }
        return commit(writer, run, { attempt, typing, startedAt, ...executed });
      }
    }

    /** Values for the `{name}` placeholders of one attempt: the set's, the point's parameters and the built-in names. */
    function templateValues(run: PlannedRun, dir: string): Record<string, string | number | boolean> {
      return { ...setValues, ...run.params, rep: run.rep, point_key: run.key, point_dir: resolve(dir), duration: b.durationS ?? 0, warmup: b.warmupS };
    }

    /**
     * One attempt on this machine: configure it (parameter hooks), start the point's recording,
     * execute the workload, end the recording and merge its metrics and flags (point-end.ts).
     */
    async function executeHere(run: PlannedRun, attempt: number, dir: string, values: Record<string, string | number | boolean>): Promise<ExecutedAttempt> {
      const hookErr = (configured ? await leave(configured, run.params) : undefined) ?? (await enter(run.params, configured, values));
      if (hookErr) {
        // The system is in an unknown state: the next point configures it from scratch.
        configured = undefined;
        return {
          result: opts.signal.aborted ? { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: 0, flags: [] } : { outcome: { status: 'failed', error: `hook failed: ${hookErr}` }, metrics: {}, wallS: 0, flags: [] },
        };
      }
      configured = run.params;
      const rec = await startPointRecording(`${run.key}-r${run.rep}-a${attempt}`);
      const result = await execute(run, dir, values, rec);
      const watched = rec.watch?.stop();
      const { conditions } = await endPoint(result, { dir, ...(rec.recording ? { recorder: rec.recording } : {}), ...(rec.recErr !== undefined ? { recErr: rec.recErr } : {}), roles: declaredRoles(b.workload.type), ...(watched ? { watched } : {}), storage: set.dir });
      return { result, ...(conditions ? { conditions } : {}) };
    }

    /** The point's recording begins (the agents), or, without agents, the engine's watch of its own machine for the point's conditions. */
    async function startPointRecording(session: string): Promise<PointRecordingState> {
      const state: PointRecordingState = {};
      try {
        await recorder?.beginPoint(session);
        if (recorder) state.recording = recorder;
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
    async function execute(run: PlannedRun, dir: string, values: Record<string, string | number | boolean>, rec: PointRecordingState): Promise<PointResult> {
      try {
        return await workload.run({
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
        const disk = storageFailure(e, set.dir);
        if (disk) throw disk;
        return { outcome: { status: 'failed', error: `workload error: ${errorMessage(e)}` }, metrics: {}, wallS: 0, flags: [] };
      }
    }

    /** The point's record, written atomically into the set. */
    function commit(writer: PointWriter, run: PlannedRun, x: ExecutedAttempt & { attempt: number; typing: PointAttempt['typing']; startedAt: string }): PointRecord {
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
  } finally {
    if (recorder) {
      await recorder.stop();
      for (const pid of recorder.localPids) live.remove(pid);
    }
    await remote?.close();
    await live.close();
    unlock();
  }
}
