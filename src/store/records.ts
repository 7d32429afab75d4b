/** What a result set holds on disk, declared once; read back through `parsePointRecord`. */

export const STORE_FORMAT = 1;

export type ParamValue = string | number | boolean;
export type MetricValue = string | number | boolean;

/** How a point ended: a tagged union, so every reader handles each case. */
export type PointOutcome =
  | { status: 'ok' }
  | { status: 'failed'; error: string }
  | { status: 'interrupted'; reason: string };

export type PointStatus = PointOutcome['status'];

/** The record of one executed point and repetition (`points/<key>-r<rep>/point.json`). */
export interface PointRecord {
  format: number;
  key: string;
  rep: number;
  /** Position of the point in the declared matrix expansion. */
  index: number;
  params: Record<string, ParamValue>;
  outcome: PointOutcome;
  attempts: number;
  workload: string;
  benchmark: { name: string; sha256: string };
  startedAt: string;
  endedAt: string;
  /** Wall time of the recorded part of the point, in seconds (monotonic clock). */
  wallS: number;
  metrics: Record<string, MetricValue>;
  /** Files of the point directory, besides point.json. */
  files: string[];
  /** Flags raised while recording (e.g. a gap in a time series); empty when nothing to report. */
  flags: string[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Validates a point.json read from disk; returns a reason when it is not one. */
export function parsePointRecord(v: unknown): PointRecord | string {
  if (!isObj(v)) return 'not an object';
  if (v['format'] !== STORE_FORMAT) return `unknown format ${String(v['format'])}`;
  if (typeof v['key'] !== 'string' || typeof v['rep'] !== 'number') return 'missing key or rep';
  if (!isObj(v['params']) || !isObj(v['metrics']) || !isObj(v['outcome'])) return 'missing params, metrics or outcome';
  const st = v['outcome']['status'];
  if (st !== 'ok' && st !== 'failed' && st !== 'interrupted') return `unknown status ${String(st)}`;
  return v as unknown as PointRecord;
}

/** The directory name of a point and repetition. */
export function pointDirName(key: string, rep: number): string {
  return `${key}-r${rep}`;
}
