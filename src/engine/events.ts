/** Progress events of the engine; the engine prints nothing, the CLI (or the GUI) listens. */
import type { PlannedRun } from '../config/matrix.ts';
import type { PointRecord } from '../store/records.ts';

export type EngineEvent =
  | { type: 'plan'; total: number; toRun: number; recorded: number; resultsDir: string }
  | { type: 'hook'; where: string; argv: string[]; exitCode: number | null; seconds: number; ok: boolean; message?: string }
  | { type: 'point-start'; run: PlannedRun; n: number; of: number; attempt: number; etaS?: number }
  | { type: 'point-end'; run: PlannedRun; n: number; of: number; record: PointRecord; etaS?: number }
  | { type: 'reaped'; pid: number }
  /** Something the user should know that does not stop the run. */
  | { type: 'warning'; message: string }
  | { type: 'done'; summary: RunSummary };

export interface RunSummary {
  planned: number;
  skipped: number;
  ok: number;
  failed: number;
  interrupted: boolean;
  /** Set when the run stopped on a failure (on_error: stop) or a hook that failed. */
  stoppedBy?: string;
  seconds: number;
}

export type EventSink = (e: EngineEvent) => void;
