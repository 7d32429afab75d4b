/** What the engine asks of a workload: run one point, record into its directory, report an outcome. */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { TypedValue } from '../config/declare.ts';
import type { Params } from '../config/resolved.ts';
import type { TimeBase } from '../record/timebase.ts';
import type { MetricValue, PointConditions, PointOutcome, PointTimeline } from '../store/records.ts';
import type { SeriesColumns } from '../store/parquet.ts';

/** A process group the workload started, so the engine can reap it after a crash of its own. */
export interface LiveProcess {
  pid: number;
  startTime: number;
}

export interface PointContext {
  /** The point's parameters as written (labels, templates). */
  params: Params;
  /** The same parameters typed once, in base units (bits/s, ms, a frame size): what a workload computes with. */
  typed: Readonly<Record<string, TypedValue>>;
  rep: number;
  key: string;
  /** Directory where the point's files go (stdout.log, ...); it becomes the point's directory on commit. */
  dir: string;
  warmupS: number;
  durationS?: number;
  /** Values for `{name}` placeholders: the parameters and the built-in names. */
  templateValues: Readonly<Record<string, string | number | boolean>>;
  /** Aborted on Ctrl-C: stop now and report `interrupted`. */
  signal: AbortSignal;
  /** Called for each process group started, and again (with `ended`) once it is gone. */
  onProcess(p: LiveProcess, ended: boolean): void;
  /** Asks the recording agent of a role's machine to watch a process (absent when recording is off). */
  watch?(role: string, selector: { label: string; pid: number; tree?: boolean }): void;
  /** Where a role's agent listens and its token: pipeline roles send their frame events there. */
  agent?(role: string): { url: string; token?: string } | undefined;
  /** Where the roles run when an executor spread them over machines (absent: all here, on loopback). */
  placement?: RolePlacement;
  /**
   * The point's time base for these roles: each role's clock mapped onto the point's (measured
   * at the point's start and, by this call, at its end). Call it once the roles have ended and
   * map every stamp through it before computing a figure that crosses roles.
   */
  timeBase(roles: readonly string[]): Promise<TimeBase>;
}

/** An executor's placement of a point's roles on machines (e.g. the nodes of a Slurm job). */
export interface RolePlacement {
  /** The address a role listens on and is reached at (its machine's, never loopback). */
  address(role: string): string;
  /** Starts argv on the role's machine; the returned process stands for it (signals reach the role). */
  spawn(role: string, argv: readonly string[], opts: SpawnOptions): ChildProcess;
  /** Whether the role runs on another machine than this process (its pid is then not the role's). */
  remote(role: string): boolean;
}

export interface PointResult {
  outcome: PointOutcome;
  metrics: Record<string, MetricValue>;
  /** Wall time of the recorded part, seconds. */
  wallS: number;
  flags: string[];
  /** Time series to store as timeseries.parquet (column `t` in seconds since the point's start). */
  series?: SeriesColumns;
  /** The recorded window (after the warm-up) on the point's base clock (monotonic ms of the collecting process): recording summaries cover only it. */
  window?: { fromMs: number; toMs: number };
  /** The warm-up and window on the point's clock, and the roles' clocks, for the record. */
  timeline?: PointTimeline;
  /** Role -> the CPUs the workload pinned it to (recorded in the point's placement). */
  pinned?: Record<string, number[]>;
  /** What the workload checked about its own point (skipped frames, rate targets, clocks). */
  conditions?: Omit<PointConditions, 'placement'>;
}

export interface Workload {
  run(ctx: PointContext): Promise<PointResult>;
}
