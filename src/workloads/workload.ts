/** What the engine asks of a workload: run one point, record into its directory, report an outcome. */
import type { TypedValue } from '../config/declare.ts';
import type { Params } from '../config/resolved.ts';
import type { MetricValue, PointOutcome } from '../store/records.ts';
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
}

export interface PointResult {
  outcome: PointOutcome;
  metrics: Record<string, MetricValue>;
  /** Wall time of the recorded part, seconds. */
  wallS: number;
  flags: string[];
  /** Time series to store as timeseries.parquet (column `t` in seconds since the point's start). */
  series?: SeriesColumns;
  /** The recorded window (after the warm-up) on the machine's monotonic clock, ms: recording summaries cover only it. */
  window?: { fromMs: number; toMs: number };
}

export interface Workload {
  run(ctx: PointContext): Promise<PointResult>;
}
