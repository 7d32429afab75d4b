/** What a result set holds on disk, declared once; read back through `parsePointRecord`. */
import { SettingError, typeValue, type DeclaredByFile, type TypedValue } from '../config/declare.ts';
import type { ConditionCode } from '../config/conditions.ts';
import { paramDecl, renamedMetrics } from '../config/registry.ts';

export const STORE_FORMAT = 1;

export type ParamValue = string | number | boolean;
export type MetricValue = string | number | boolean;

/** How a point ended: a tagged union, so every reader handles each case. */
export type PointOutcome = { status: 'ok' } | { status: 'failed'; error: string } | { status: 'interrupted'; reason: string };

export type PointStatus = PointOutcome['status'];

/** The record of one executed point and repetition (`points/<key>-r<rep>/point.json`). */
export interface PointRecord {
  format: number;
  key: string;
  rep: number;
  /** Position of the point in the declared matrix expansion. */
  index: number;
  /** The parameters as the user wrote them: labels, and what the point's key was computed from. */
  params: Record<string, ParamValue>;
  /**
   * The same parameters typed, in base units (bits/s, ms, a frame size). Records written before
   * it existed get it when read (upgradeRecord).
   */
  typed?: Record<string, TypedValue>;
  /** What the benchmark file declared beyond its workload: its own parameters' types, its metrics' units. */
  declared?: DeclaredByFile;
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
  /** The point's own conditions (saturation, skipped frames, clocks, placement); absent in records before they were checked. */
  conditions?: PointConditions;
  /** Where the recorded window lies on the point's clock (s since the point began), and each role's clock. */
  timeline?: PointTimeline;
  /** Where the point ran when not in the engine's process (a Slurm job: its id, its nodes, the agents' clock offsets). */
  executor?: { kind: 'slurm'; jobId: string; nodes: Record<string, string>; clocks?: Record<string, ClockRecord> } | { kind: 'agents'; jobId: string; nodes: Record<string, string>; agents: Record<string, string>; clocks?: Record<string, ClockRecord> };
}

/** A role's clock against the point's clock, as a record keeps it (records before drift was kept have only the first two). */
export interface ClockRecord {
  /** Offset at the point's start (role clock - collecting clock), ms. */
  offsetMs: number;
  /** Mapped times are true within ± this, ms. */
  uncertaintyMs: number;
  /** Change of the offset from the point's start to its end, ms (interpolated in between). */
  driftMs?: number;
  /** The role read the collecting clock itself (same boot and time namespace): offset 0 exactly. */
  same?: boolean;
}

/** One condition a point found about itself (src/config/conditions.ts declares the codes and thresholds). */
export interface Condition {
  code: ConditionCode;
  /** `flag`: a figure of the point may not be true; `note`: worth knowing, no figure is in doubt. */
  severity: 'flag' | 'note';
  /** What was seen, in words, with the figure and the threshold. */
  reason: string;
}

/** Where a point's roles ran: one machine per distinct boot id. */
export interface Placement {
  /** Role -> the machine it ran on (an index into machines). */
  roles: Record<string, number>;
  machines: { hostname: string; bootId: string | null; cores: number }[];
  /** Role -> the CPUs it was pinned to, when the benchmark pinned it. */
  cpus?: Record<string, number[]>;
}

/**
 * What a point checked about its own conditions. Records written before these checks existed
 * have none: readers say "conditions not checked", never "clean".
 */
export interface PointConditions {
  /** Each check that ran ('saturated', 'cpu_steal', ...). */
  checked: string[];
  /** Each check that could not run, and why (a machine that exposes no core clock, recording off). */
  notChecked: { check: string; why: string }[];
  /** What crossed a threshold; empty when nothing did. */
  found: Condition[];
  placement?: Placement;
}

/** The point's clock: seconds since the point began, the clock of samples.parquet, frames.parquet and timeseries.parquet. */
export interface PointTimeline {
  /** The warm-up, from the stream's start to the window's (absent: no warm-up). */
  warmup?: [number, number];
  /** The recorded window every summary figure covers. */
  window: [number, number];
  /** Each role's clock against the point's (offset at the start, drift, uncertainty). */
  clocks?: Record<string, ClockRecord>;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isNum = (v: unknown): v is number => typeof v === 'number';
const isStr = (v: unknown): v is string => typeof v === 'string';
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const strings = (v: unknown) => Array.isArray(v) && v.every(isStr);
const pair = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(isNum);
/** The first entry of an object whose value fails `ok`, as `name.key`; undefined when all pass. */
function badEntry(name: string, o: Record<string, unknown>, ok: (v: unknown) => boolean): string | undefined {
  for (const k of Object.keys(o)) if (!ok(o[k])) return `${name}.${k}`;
  return undefined;
}

function clockProblem(where: string, v: unknown): string | undefined {
  if (!isObj(v)) return `${where} is not an object`;
  return badEntry(where, v, (c) => isObj(c) && isNum(c['offsetMs']) && isNum(c['uncertaintyMs']) && (c['driftMs'] === undefined || isNum(c['driftMs'])) && (c['same'] === undefined || typeof c['same'] === 'boolean'));
}

/**
 * What makes v no point record, as its declared shape (src/store/point-schema.ts, the JSON Schema
 * of point.json) has it; undefined when it is one. Every field a reader uses is checked for its
 * type. Two things are let through that the schema does not describe: a metric that is null (a
 * figure that could not be computed, NaN when written) and fields this version does not know.
 */
export function pointShapeProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'not an object';
  if (v['format'] !== STORE_FORMAT) return `unknown format ${String(v['format'])}`;
  if (!isStr(v['key']) || !isInt(v['rep'], 1)) return 'missing key or rep';
  if (!isInt(v['index'], 0)) return 'index is not a whole number';
  if (!isObj(v['params']) || !isObj(v['metrics']) || !isObj(v['outcome'])) return 'missing params, metrics or outcome';
  const param = badEntry('params', v['params'], isScalar);
  if (param) return `${param} is not a text, number or boolean`;
  const metric = badEntry('metrics', v['metrics'], (m) => m === null || isScalar(m));
  if (metric) return `${metric} is not a text, number or boolean`;
  const o = v['outcome'];
  const st = o['status'];
  if (st !== 'ok' && st !== 'failed' && st !== 'interrupted') return `unknown status ${String(st)}`;
  if (st === 'failed' && !isStr(o['error'])) return 'a failed outcome without its error';
  if (st === 'interrupted' && !isStr(o['reason'])) return 'an interrupted outcome without its reason';
  if (v['typed'] !== undefined && !isObj(v['typed'])) return 'typed is not an object';
  if (!isNum(v['attempts'])) return 'attempts is not a number';
  if (!isStr(v['workload'])) return 'workload is not a text';
  const b = v['benchmark'];
  if (!isObj(b) || !isStr(b['name']) || !isStr(b['sha256'])) return 'benchmark is not {name, sha256}';
  if (!isStr(v['startedAt']) || !isStr(v['endedAt'])) return 'startedAt or endedAt is not a text';
  if (!isNum(v['wallS'])) return 'wallS is not a number';
  if (!strings(v['files'])) return 'files is not a list of names';
  if (!strings(v['flags'])) return 'flags is not a list of texts';
  const c = v['conditions'];
  if (c !== undefined) {
    if (!isObj(c) || !strings(c['checked'])) return 'conditions.checked is not a list of texts';
    if (!Array.isArray(c['notChecked']) || !c['notChecked'].every((n) => isObj(n) && isStr(n['check']) && isStr(n['why']))) return 'conditions.notChecked is not a list of {check, why}';
    if (!Array.isArray(c['found']) || !c['found'].every((f) => isObj(f) && isStr(f['code']) && (f['severity'] === 'flag' || f['severity'] === 'note') && isStr(f['reason']))) return 'conditions.found is not a list of {code, severity, reason}';
    const pl = c['placement'];
    if (pl !== undefined && (!isObj(pl) || !isObj(pl['roles']) || !Array.isArray(pl['machines']))) return 'conditions.placement is not {roles, machines}';
  }
  const t = v['timeline'];
  if (t !== undefined) {
    if (!isObj(t) || !pair(t['window'])) return 'timeline.window is not [start, end]';
    if (t['warmup'] !== undefined && !pair(t['warmup'])) return 'timeline.warmup is not [start, end]';
    if (t['clocks'] !== undefined) {
      const bad = clockProblem('timeline.clocks', t['clocks']);
      if (bad) return `${bad} is not a clock`;
    }
  }
  const x = v['executor'];
  if (x !== undefined && (!isObj(x) || (x['kind'] !== 'slurm' && x['kind'] !== 'agents') || !isStr(x['jobId']) || !isObj(x['nodes']))) return 'executor is not {kind, jobId, nodes}';
  return undefined;
}

/** Validates a point.json read from disk against its declared shape (pointShapeProblem); returns a reason when it is not one. */
export function parsePointRecord(v: unknown): PointRecord | string {
  const problem = pointShapeProblem(v);
  if (problem !== undefined) return problem;
  return upgradeRecord(v as PointRecord);
}

/**
 * A record as the set's index keeps it: validated in full when it was indexed (from its point.json,
 * or as committed), so only what tells a damaged line is checked here.
 */
export function parseIndexedRecord(v: unknown): PointRecord | string {
  if (!isObj(v)) return 'not an object';
  if (v['format'] !== STORE_FORMAT) return `unknown format ${String(v['format'])}`;
  if (typeof v['key'] !== 'string' || typeof v['rep'] !== 'number') return 'missing key or rep';
  if (!isObj(v['params']) || !isObj(v['metrics']) || !isObj(v['outcome']) || !Array.isArray(v['files']) || !Array.isArray(v['flags'])) return 'missing params, metrics, outcome, files or flags';
  return upgradeRecord(v as unknown as PointRecord);
}

/**
 * A record written before parameters were stored typed (it has no `typed`), as this version
 * writes them: its metrics under their new names and units (its declaration's `renamed`: metrics renamed when every unit got one spelling, `_pct` for percent, and every bitrate went to bits/s; docs/results.md lists them), its parameters
 * typed by its workload's declaration. Done in memory on every read: the set on disk stays as
 * it was written, and its point keys with it. A record that has `typed` is returned as it is.
 */
export function upgradeRecord(r: PointRecord): PointRecord {
  if (r.typed !== undefined) return r;
  const metrics: Record<string, MetricValue> = { ...r.metrics };
  for (const { from, to, factor } of renamedMetrics(r.workload)) {
    const v = r.metrics[from];
    if (v === undefined) continue;
    if (from !== to) delete metrics[from];
    metrics[to] = factor !== undefined && typeof v === 'number' ? Math.round(v * factor * 1e6) / 1e6 : v;
  }
  const typed: Record<string, TypedValue> = {};
  for (const [name, v] of Object.entries(r.params)) {
    const d = paramDecl(r.workload, name);
    try {
      typed[name] = d ? typeValue(d, v) : v;
    } catch (e) {
      if (!(e instanceof SettingError)) throw e;
      // Recorded history: a value today's rules refuse (they were looser then) is kept as it was written.
      typed[name] = v;
    }
  }
  return { ...r, metrics, typed };
}

/** The directory name of a point and repetition. */
export function pointDirName(key: string, rep: number): string {
  return `${key}-r${rep}`;
}
