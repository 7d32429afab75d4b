/**
 * What a workload declares about itself, once: its parameters (type, unit, default, allowed
 * values or range, doc, role) and its metrics (unit, definition, direction, role, kind).
 * Validation, the JSON Schema, `--help`, the CLI's headline columns, the tables of docs/, the
 * typed columns of the store and a result set's catalogue all read these declarations
 * (src/workloads/<type>/declare.ts), so a parameter or a metric is described in one place.
 */
import { parseDuration } from '../base/duration.ts';
import { quoted } from './show.ts';

/** A setting that cannot be used, naming the parameter so the message can point at its line. */
export class SettingError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a parameter's values are. `boolean` is beyond the issue's list: SPICE's `window` is
 * true or false, and an enum of the words would store text where a flag is meant.
 */
export const PARAM_TYPES = ['number', 'integer', 'enum', 'duration', 'bitrate', 'resolution', 'path', 'text', 'boolean'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** A value as written in a benchmark file. */
export type RawValue = string | number | boolean;

/** A frame size, as a resolution parameter's typed value. */
export interface Resolution {
  width: number;
  height: number;
}

/**
 * A parameter's value in base units: bits/s for a bitrate, ms for a duration, a number for
 * number and integer, the size for a resolution, the text for enum, path and text; null for
 * the word that means "absent" (`net_rate: none`).
 */
export type TypedValue = string | number | boolean | null | Resolution;

/** One parameter of a workload (or of a benchmark file's own `params:` section). */
export interface ParamDecl {
  name: string;
  type: ParamType;
  /** Unit of the typed value (bit/s, ms, fps, ...); absent: none. */
  unit?: string;
  /** The value used when a point does not give one, as a user would write it; absent: none, or one that depends on others (the doc says). */
  default?: RawValue;
  /** enum: the values allowed. */
  values?: readonly string[];
  /** number, integer, bitrate, duration: the smallest and largest typed value allowed (base units). */
  range?: readonly [number, number];
  /** resolution: the smallest and largest frame, and whether both sides must be even. */
  size?: { min: Resolution; max: Resolution; even: boolean };
  /** Values that stand for "absent" (typed as null), e.g. `none` (and 0) for an unlimited link; the first is the one documented. */
  none?: readonly RawValue[];
  /** What a number is, for messages: `fps '0' must be a number from 1 to 240 (what)`. */
  what?: string;
  /** One line: what it does. */
  doc: string;
  /** The role it configures: guest, host, client, all (every role), or local (command). */
  role: string;
  /**
   * A value that names a file is read by the point (a trace, a policy): the file's content is part
   * of what the point runs, so its sha256 joins the point's key and an edited file makes new points.
   */
  content?: boolean;
}

export const BETTER = ['higher', 'lower', 'none'] as const;
/** Which direction of a metric is the better one; `none` where neither is (a byte count, a codec name). */
export type Better = (typeof BETTER)[number];

/** summary: one value per point (the `points` table); series: sampled over time; frame: one value per frame. */
export type MetricKind = 'summary' | 'series' | 'frame';

/** Where a series or frame metric is read: a column of a view (timeseries, frames) or a `name` of `samples`. */
export type MetricView = 'points' | 'timeseries' | 'frames' | 'samples';

/** One metric, or a family of them named by a pattern (see metricPattern). */
export interface MetricDecl {
  /** The name, or a pattern: `<x>` stands for one name part (no dot), `*` for anything (dots too). */
  name: string;
  /** Unit of the value; absent: none (a count is in `count`, a ratio in `ratio`). */
  unit?: string;
  /** One line: what it measures. */
  doc: string;
  better: Better;
  /** The role whose work it measures: guest, host, client, all (end to end), engine (computed after the point), local (command), or `<role>` (any). */
  role: string;
  kind: MetricKind;
  view: MetricView;
}

/**
 * What a benchmark file says about its points beyond its workload's declaration, kept in each
 * point's record: the parameters the workload does not declare (typed by the file's `params:`
 * section, or inferred from their values) and the metrics its extraction rules describe.
 */
export interface DeclaredByFile {
  params?: Record<string, ParamDecl & { source: 'file' | 'inferred' }>;
  metrics?: MetricDecl[];
}

/**
 * How an executor that spreads a point over machines places this workload's roles: one machine
 * per role, in this order (the first runs the point itself), and how the roles reach each other.
 */
export interface Placement {
  /** The machines a point takes, one per role (a one-machine point: its one role). */
  machines: readonly string[];
  /** How the roles find each other: `address` (each listens on its machine's address, the placement tells the others), or `none` (one machine, nothing to reach). */
  reach: 'address' | 'none';
  /** Why its points need the recording agents under this executor (their clocks are measured only through them); absent: they do not. */
  needsRecording?: string;
}

/** What an executor does with a workload: places it, or refuses it, saying why (an input error) and what to do. */
export type ExecutorPlacement = Placement | { refused: string; hint?: string };

/** The executors that place a point's roles on machines other than this one (the local executor runs every workload here). */
export const PLACING_EXECUTORS = ['agents', 'slurm'] as const;
export type PlacingExecutor = (typeof PLACING_EXECUTORS)[number];

/** One stage of a frame's way from capture to display: the frame columns it spans. */
export interface FrameStageDecl {
  name: string;
  from: string;
  to: string;
  what: string;
}

/** A metric renamed since old records were written: its old name, the new one, and what old values are multiplied by. */
export interface MetricRename {
  from: string;
  to: string;
  factor?: number;
}

/** Something a workload's points need installed on the machines of its roles. */
export interface NeedDecl {
  /** What it is, for messages and docs. */
  what: string;
  /** What shows it is there: a program looked up on PATH, or an absolute path of a file. */
  check: string;
  /** The Debian package that provides it (scripts/setup.sh installs the same when missing). */
  debian?: string;
}

/** A workload's declaration: the module src/workloads/<type>/declare.ts exports one. */
export interface WorkloadDecl {
  type: string;
  /** The roles its points run (the recording agents' default roles, the roles whose conditions a point checks). */
  roles: readonly string[];
  params: readonly ParamDecl[];
  metrics: readonly MetricDecl[];
  /** The summary metrics a user reads first: the CLI's table shows them first, in this order. */
  headline: readonly string[];
  /** The labels it watches its own processes under: `recording.processes` may not take them. */
  processLabels: readonly string[];
  /** Per executor that places roles on machines: how it places this workload's, or why it cannot. */
  executors: Readonly<Record<PlacingExecutor, ExecutorPlacement>>;
  /** What its points need installed on the machines of its roles: `validate` says which this machine lacks. */
  needs: readonly NeedDecl[];
  /** The stages its frames (frames.parquet) pass, in order, whose times add up to the latency; absent: its points record no frames. */
  frameStages?: readonly FrameStageDecl[];
  /**
   * Metrics its old records (those without typed parameters) stored under other names or units,
   * as they were written then (a list of history, not of today's roles): read under today's.
   */
  renamed?: readonly MetricRename[];
  /**
   * `frames`: its records written before points had a timeline kept its own series
   * (timeseries.parquet) on its frames' clock (s since capture began), not the point's; absent:
   * its series were always on the point's clock.
   */
  untimedSeriesClock?: 'frames';
}

const NUMBER_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?\s*$/i;

/** A number written as a number or as decimal text ("30"); true, '' and words are not numbers. */
export function numberOf(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && NUMBER_TEXT.test(v) ? Number(v) : NaN;
}

/** 1000 -> 1k, 1e9 -> 1G: bitrates in messages as users write them. */
export function formatBitrate(bps: number): string {
  for (const [div, suffix] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const)
    if (bps >= div && bps % div === 0) return `${bps / div}${suffix}`;
  return String(bps);
}

/** Parses "2M", "500k", "2.5m", "2000000" (bits/s, decimal prefixes as networks use); NaN when it is none. */
export function bitsPerSecond(v: unknown): number {
  if (typeof v === 'number') return Math.round(v);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bps|bit\/s|b\/s)?\s*$/.exec(typeof v === 'string' ? v : '');
  if (!m) return NaN;
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function isResolution(v: unknown): v is Resolution {
  return typeof v === 'object' && v !== null && typeof (v as Resolution).width === 'number' && typeof (v as Resolution).height === 'number';
}

/**
 * The typed value of a parameter (base units), from what a user wrote or from a value typed
 * already (parsing is idempotent: 2000000 stays 2000000 bits/s, a size stays a size), within the
 * declared range or values. Throws SettingError naming the parameter.
 */
export function typeValue(d: ParamDecl, v: unknown): TypedValue {
  const name = d.name;
  if (v === null || (d.none !== undefined && d.none.includes(v as RawValue))) return null;
  const [lo, hi] = d.range ?? [-Infinity, Infinity];
  switch (d.type) {
    case 'number':
    case 'integer': {
      const text = d.unit === '%' && typeof v === 'string' ? v.replace(/%\s*$/, '') : v;
      const n = numberOf(text);
      const integer = d.type === 'integer';
      if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
        if (d.unit === '%') throw new SettingError(name, `${name} ${quoted(v)} is not a ${d.what ? `${d.what} ` : ''}percentage between ${lo} and ${hi}`);
        const bounds = Number.isFinite(lo) && Number.isFinite(hi) ? ` from ${lo} to ${hi}` : Number.isFinite(lo) ? ` from ${lo}` : '';
        throw new SettingError(name, `${name} ${quoted(v)} must be ${integer ? 'an integer' : 'a number'}${bounds}${d.what ? ` (${d.what})` : ''}`);
      }
      return n;
    }
    case 'bitrate': {
      const bps = bitsPerSecond(v);
      if (Number.isNaN(bps)) throw new SettingError(name, `${name} ${quoted(v)} is not a bitrate: write 2M, 500k or 2000000`);
      if (!(bps >= lo && bps <= hi)) throw new SettingError(name, `${name} ${quoted(v)} must be between ${formatBitrate(lo)} and ${formatBitrate(hi)} bits/s`);
      return bps;
    }
    case 'duration': {
      // A bare number is in the declared unit (ms here: `net_delay: [0, 30, 100]`); text carries its own ("30ms", "0.1s").
      const ms = typeof v === 'number' ? v : typeof v === 'string' ? (parseDuration(v) ?? NaN) * 1000 : NaN;
      if (typeof v === 'string' && !Number.isFinite(ms)) throw new SettingError(name, `${name} ${quoted(v)} is not a duration: write 30ms or 0.1s`);
      if (!(ms >= lo && ms <= hi)) throw new SettingError(name, `${name} ${quoted(v)} must be a duration from ${lo === 0 ? '0' : `${lo / 1000}s`} to ${hi / 1000}s`);
      return ms;
    }
    case 'resolution': {
      const size = d.size ?? { min: { width: 1, height: 1 }, max: { width: Infinity, height: Infinity }, even: false };
      const m = /^\s*(\d+)x(\d+)\s*$/.exec(typeof v === 'string' ? v : '');
      const r = isResolution(v) ? v : m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
      const odd = r !== undefined && size.even && (r.width % 2 !== 0 || r.height % 2 !== 0);
      if (!r || odd || !Number.isInteger(r.width) || !Number.isInteger(r.height) || r.width < size.min.width || r.height < size.min.height || r.width > size.max.width || r.height > size.max.height) {
        throw new SettingError(name, `${name} ${quoted(isResolution(v) ? `${v.width}x${v.height}` : v)} must be WxH${size.even ? ' with even numbers' : ''} from ${size.min.width}x${size.min.height} to ${size.max.width}x${size.max.height}, e.g. 1280x720`);
      }
      return { width: r.width, height: r.height };
    }
    case 'enum':
      if (typeof v === 'string' && (d.values ?? []).includes(v)) return v;
      throw new SettingError(name, `${name} ${quoted(v)} is not one of ${(d.values ?? []).join(', ')}`);
    case 'boolean':
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false') return false;
      throw new SettingError(name, `${name} ${quoted(v)} must be true or false`);
    case 'path':
      if (typeof v !== 'string' && typeof v !== 'number') throw new SettingError(name, `${name} ${quoted(v)} must be a path`);
      if (String(v).trim() === '') throw new SettingError(name, `${name} is empty: name a file, or leave ${name} out`);
      return String(v);
    case 'text':
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new SettingError(name, `${name} ${quoted(v)} must be text`);
      return String(v);
  }
}

/** The typed values of the named parameters of `p` (those it gives); unknown names are left out. */
export function typeValues(decls: readonly ParamDecl[], p: Readonly<Record<string, unknown>>): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  for (const d of decls) if (p[d.name] !== undefined) out[d.name] = typeValue(d, p[d.name]);
  return out;
}

/** The text of a typed value, as a label or a comparison with what the user wrote. */
export function typedText(v: TypedValue): string {
  return isResolution(v) ? `${v.width}x${v.height}` : String(v);
}

/**
 * The declaration of a parameter no workload declares and the file's `params:` section does
 * not describe: from its values, never guessed further (all numbers: number; all true/false:
 * boolean; anything else: text). Its unit stays unknown.
 */
export function inferParam(name: string, values: readonly RawValue[]): ParamDecl {
  const type: ParamType = values.length > 0 && values.every((v) => typeof v === 'number') ? 'number' : values.length > 0 && values.every((v) => typeof v === 'boolean') ? 'boolean' : 'text';
  return { name, type, doc: '', role: 'all' };
}

/** The regular expression of a metric name pattern: `<x>` is one name part, `*` anything. */
export function metricPattern(name: string): RegExp {
  const re = name
    .split(/(<[^>]+>|\*)/)
    .map((part) => (part === '*' ? '.+' : /^<[^>]+>$/.test(part) ? '[^.]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`);
}

/** Whether a declared name is a pattern rather than one name. */
export function isPattern(name: string): boolean {
  return /<[^>]+>|\*/.test(name);
}

/** The declaration a metric name falls under: an exact name first, else the first pattern that matches. */
export function findMetric(decls: readonly MetricDecl[], name: string, kind?: MetricKind): MetricDecl | undefined {
  const of = kind ? decls.filter((d) => d.kind === kind) : decls;
  return of.find((d) => d.name === name) ?? of.find((d) => isPattern(d.name) && metricPattern(d.name).test(name));
}

/** One line for --help, the schema's descriptions and docs/workloads.md: the doc, its values or range, its unit and default. */
export function describeParam(d: ParamDecl): string {
  const parts = [d.doc];
  if (d.values) parts.push(`one of ${d.values.join(', ')}`);
  const unit = d.unit ? ` ${d.unit}` : '';
  if (d.range && d.type === 'bitrate') parts.push(`${formatBitrate(d.range[0])} to ${formatBitrate(d.range[1])}${unit}`);
  else if (d.range && d.type === 'duration') parts.push(`0 to ${d.range[1] / 1000}s`);
  else if (d.range) parts.push(`${d.type === 'integer' ? 'integer ' : ''}${d.range[0]} to ${d.range[1]}${unit}`);
  else if (d.unit && d.type !== 'resolution') parts.push(d.unit);
  if (d.size) parts.push(`WxH${d.size.even ? ', even' : ''}, ${d.size.min.width}x${d.size.min.height} to ${d.size.max.width}x${d.size.max.height}`);
  if (d.default !== undefined) parts.push(`default ${String(d.default)}`);
  return parts.join('; ');
}
