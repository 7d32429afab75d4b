/**
 * The executor seam: where a point's attempt runs. The engine above it keeps the plan, point
 * keys, resume, hooks around the run, retries, progress and ETA, and commits each point into
 * the result set; an executor only turns one attempt into a `PointResult` in the point's staging
 * directory. The local executor is the engine's own code path (no object: it behaves exactly as
 * before the seam existed); `SlurmExecutor` (slurm.ts) submits a job per attempt. A Kubernetes
 * Jobs executor would implement the same interface (see docs/executors.md, "Running on a Slurm cluster").
 */
import type { PlannedRun } from '../config/matrix.ts';
import type { TypedValue, DeclaredByFile } from '../config/declare.ts';
import type { ClockRecord, PointConditions } from '../store/records.ts';
import type { PointResult } from '../workloads/workload.ts';

/** A point run by `--executor agents`: each role through the agent at this URL. */
export interface AgentsInfo {
  kind: 'agents';
  /** The session the agents recorded the attempt under. */
  jobId: string;
  /** Role -> the host address of its agent's machine. */
  nodes: Record<string, string>;
  /** Role -> its agent's URL. */
  agents: Record<string, string>;
  clocks?: Record<string, ClockRecord>;
}

/** Where a point ran as a Slurm job, kept in its point.json (absent for a local run). */
export interface ExecutorInfo {
  kind: 'slurm';
  jobId: string;
  /** Role (or `local` for a single-node point) -> the node it ran on. */
  nodes: Record<string, string>;
  /** Per agent role: its clock's offset from the collector's, the uncertainty (± ms) of that estimate, and its drift over the point. */
  clocks?: Record<string, ClockRecord>;
}

/** One attempt of one point, as the engine hands it to a remote executor. */
export interface PointAttempt {
  run: PlannedRun;
  attempt: number;
  /** The staging directory the point's files go to (on a file system the executor's nodes share). */
  dir: string;
  /** Template values of the point (parameters and the built-in names). */
  values: Record<string, string | number | boolean>;
  typing: { typed: Record<string, TypedValue>; declared?: DeclaredByFile };
}

/** What a remote executor returns for an attempt. */
export interface ExecutedAttempt {
  result: PointResult;
  info?: ExecutorInfo | AgentsInfo;
  /** What the point checked about itself where it ran (absent when it did not end ok). */
  conditions?: PointConditions;
}

/** An executor that runs points somewhere else than in the engine's process. */
export interface RemoteExecutor {
  readonly kind: 'slurm' | 'agents';
  /** How many points may run at once. */
  readonly parallel: number;
  /**
   * Called once before the set's staging area is cleaned: checks that the executor can be used
   * (throws an EnvironmentError naming what is wrong) and ends what an earlier engine of this
   * set left running; returns one line per thing it ended, for the user.
   */
  open(setDir: string): Promise<string[]>;
  /** Runs one attempt; `signal` aborted (Ctrl-C) cancels it and gives an interrupted result. */
  execute(a: PointAttempt, signal: AbortSignal): Promise<ExecutedAttempt>;
  /** Cancels every attempt still running (on_error: stop); each one's `execute` then resolves as interrupted with `reason`. */
  cancelAll(reason: string): Promise<void>;
  /** Ends what is left (after the last point). */
  close(): Promise<void>;
}
