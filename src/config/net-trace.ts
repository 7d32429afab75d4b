/**
 * Network traces the relay replays (`net_trace`, `net_trace_up`), read and checked where the
 * benchmark is loaded, so that `validate` names the file and line of a bad one, and carried to
 * the relay inside the point's settings, so that a relay on another machine needs no copy of the
 * file. Two forms, told apart by their first line:
 *
 * - Mahimahi's packet-delivery format: one line per delivery opportunity, the time in ms since the
 *   start at which 1500 bytes may leave; a time repeated for several in that ms. The schedule loops
 *   with a period of the last time (Mahimahi's LinkQueue does so): a file holding `1` is 12 Mbit/s.
 * - Steps, CSV with the header `t,rate[,delay][,loss]`: from time t on, the link runs at `rate`
 *   (0: an outage) and adds `delay` and `loss` on top of net_delay and net_loss. t is in seconds
 *   unless it carries a unit (`1.5`, `1500ms`), delay in ms unless it does (`20`, `0.02s`), loss in
 *   percent; the first row is at t = 0, t grows row by row, and the last row holds for ever.
 *
 * The settings form (`NetTraceSpec`) is JSON: a Mahimahi trace's times as deflated varint gaps in
 * base64 (a few bytes per second of trace, not the file's many kilobytes), since settings travel on
 * a command line, where one argument may hold at most 128 KiB.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { parseDuration } from '../base/duration.ts';
import { bitsPerSecond } from './declare.ts';
import { show } from './show.ts';

/** Bytes one Mahimahi delivery opportunity lets leave. */
export const MAHIMAHI_MTU = 1500;
/** The longest trace period, and the latest step, in ms: a day. */
export const MAX_TRACE_MS = 24 * 3600 * 1000;
/** The most delivery opportunities of one Mahimahi trace (a day at about 1 Gbit/s would be far more: no real trace needs it). */
export const MAX_TRACE_OPPORTUNITIES = 10_000_000;
/** The most characters the encoded form of one trace may take in the settings (two fit in one command-line argument with room to spare). */
export const MAX_ENCODED_CHARS = 48 * 1024;
/** The highest rate of a step: 10 Gbit/s. */
const MAX_STEP_BPS = 1e10;

/** One row of a steps trace, in base units. */
export interface TraceStep {
  /** ms since the trace began. */
  tMs: number;
  /** bits/s; 0 is an outage. */
  rateBps: number;
  /** ms added to the link's one-way delay while this step holds. */
  delayMs: number;
  /** 0..1, lost on top of the link's own loss. */
  loss: number;
}

/** A trace in memory, ready to replay. */
export type ParsedTrace = { format: 'mahimahi'; /** Opportunity times in ms, non-decreasing, within one period. */ times: number[]; periodMs: number } | { format: 'steps'; steps: TraceStep[] };

/** A trace as the point's settings carry it: where it came from, its content's hash, and the content. */
export type NetTraceSpec = { name: string; sha256: string } & ({ format: 'mahimahi'; periodMs: number; count: number; /** base64 of the deflated varint gaps between times. */ times: string } | { format: 'steps'; steps: TraceStep[] });

/** A trace file that cannot be replayed: which file, which line (0: the file as a whole), what is wrong. */
export class TraceError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly what: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${what}`);
    this.name = 'TraceError';
  }
}

/** Parses a trace's text; throws TraceError naming `file` and the line. */
export function parseTrace(text: string, file: string): ParsedTrace {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (first < 0) throw new TraceError(file, 0, 'the trace is empty: write Mahimahi delivery times (one ms time a line) or steps (CSV with the header t,rate,delay,loss)');
  return /^\s*[0-9]/.test(lines[first]!) ? parseMahimahi(lines, file) : parseSteps(lines, first, file);
}

function parseMahimahi(lines: string[], file: string): ParsedTrace {
  const times: number[] = [];
  let prev = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '' || l.startsWith('#')) continue;
    if (!/^\d+$/.test(l)) throw new TraceError(file, i + 1, `${show(l, 40)} is not a time in whole ms (a Mahimahi trace holds one non-negative integer a line)`);
    const t = Number(l);
    if (t > MAX_TRACE_MS) throw new TraceError(file, i + 1, `time ${l} ms is beyond a day (${MAX_TRACE_MS} ms)`);
    if (t < prev) throw new TraceError(file, i + 1, `time ${l} ms comes before the line above (${prev} ms): times must not decrease`);
    if (times.length >= MAX_TRACE_OPPORTUNITIES) throw new TraceError(file, i + 1, `more than ${MAX_TRACE_OPPORTUNITIES} delivery opportunities`);
    times.push(t);
    prev = t;
  }
  const periodMs = times.at(-1)!;
  if (periodMs <= 0) throw new TraceError(file, lines.length, 'the last time must be above 0 ms: it is the period after which the trace starts again');
  return { format: 'mahimahi', times, periodMs };
}

const STEP_COLUMNS = ['t', 'rate', 'delay', 'loss'] as const;

function parseSteps(lines: string[], headerAt: number, file: string): ParsedTrace {
  const header = lines[headerAt]!.split(',').map((c) => c.trim().toLowerCase());
  const want = 'the header must be t,rate with delay and loss optional after them (t,rate,delay,loss)';
  if (header[0] !== 't' || header[1] !== 'rate' || header.length > 4 || header.some((c, i) => c !== STEP_COLUMNS[i])) throw new TraceError(file, headerAt + 1, `${show(lines[headerAt]!.trim(), 60)} is neither a Mahimahi time nor a steps header: ${want}`);
  const steps: TraceStep[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const at = i + 1;
    const cells = raw.split(',').map((c) => c.trim());
    if (cells.length !== header.length) throw new TraceError(file, at, `${cells.length} value(s) for the ${header.length} columns ${header.join(',')}`);
    const tS = parseDuration(cells[0]);
    if (tS === undefined) throw new TraceError(file, at, `t ${show(cells[0], 30)} is not a time: write seconds (2.5) or with a unit (2500ms)`);
    const tMs = tS * 1000;
    if (tMs > MAX_TRACE_MS) throw new TraceError(file, at, `t ${show(cells[0], 30)} is beyond a day`);
    const rateBps = bitsPerSecond(cells[1]);
    if (!(rateBps >= 0 && rateBps <= MAX_STEP_BPS)) throw new TraceError(file, at, `rate ${show(cells[1], 30)} is not a bitrate from 0 to 10G: write 8M, 500k or 0 (an outage)`);
    let delayMs = 0;
    if (cells[2] !== undefined) {
      // A bare number is ms, as net_delay's is; text carries its own unit.
      const d = /^\d+(\.\d+)?$/.test(cells[2]) ? Number(cells[2]) : (parseDuration(cells[2]) ?? NaN) * 1000;
      if (!(d >= 0 && d <= 60_000)) throw new TraceError(file, at, `delay ${show(cells[2], 30)} is not a duration from 0 to 60s: write ms (20) or with a unit (0.02s)`);
      delayMs = d;
    }
    let loss = 0;
    if (cells[3] !== undefined) {
      const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(cells[3]);
      const pct = m ? Number(m[1]) : NaN;
      if (!(pct >= 0 && pct <= 100)) throw new TraceError(file, at, `loss ${show(cells[3], 30)} is not a percentage from 0 to 100 (write 2 or 2%)`);
      loss = pct / 100;
    }
    const prev = steps.at(-1);
    if (!prev && tMs !== 0) throw new TraceError(file, at, `the first step is at t ${show(cells[0], 30)}: it must be at 0, so that the link's rate is known from the start`);
    if (prev && tMs <= prev.tMs) throw new TraceError(file, at, `t ${show(cells[0], 30)} is not after the step above (${prev.tMs / 1000} s): steps must be in increasing time`);
    steps.push({ tMs, rateBps, delayMs, loss });
  }
  if (steps.length === 0) throw new TraceError(file, headerAt + 1, 'the header has no steps under it');
  if (steps.at(-1)!.rateBps === 0) throw new TraceError(file, lines.length, 'the last step has rate 0: it holds for ever, so the link would never carry anything again (end on a rate above 0)');
  return { format: 'steps', steps };
}

/** The long-run mean rate of a trace, bits/s: what `net_queue` (time) is converted to bytes at. */
export function traceMeanBps(t: ParsedTrace): number {
  if (t.format === 'mahimahi') return (t.times.length * MAHIMAHI_MTU * 8 * 1000) / t.periodMs;
  // The steps up to the last, each over its span, and the last for as long again as all before it
  // (it holds for ever; a mean over the spans alone would ignore it).
  const s = t.steps;
  if (s.length === 1) return s[0]!.rateBps;
  const lastSpan = Math.max(1, s.at(-1)!.tMs);
  let bits = 0;
  for (let i = 0; i < s.length - 1; i++) bits += s[i]!.rateBps * (s[i + 1]!.tMs - s[i]!.tMs);
  bits += s.at(-1)!.rateBps * lastSpan;
  return bits / (s.at(-1)!.tMs + lastSpan);
}

function encodeTimes(times: readonly number[]): string {
  const bytes: number[] = [];
  let prev = 0;
  for (const t of times) {
    let gap = t - prev;
    prev = t;
    while (gap >= 0x80) {
      bytes.push((gap & 0x7f) | 0x80);
      gap >>>= 7;
    }
    bytes.push(gap);
  }
  return deflateRawSync(Buffer.from(bytes), { level: 9 }).toString('base64');
}

function decodeTimes(b64: string, count: number): number[] {
  const raw = inflateRawSync(Buffer.from(b64, 'base64'), { maxOutputLength: count * 5 + 16 });
  const times: number[] = [];
  let t = 0;
  let i = 0;
  while (i < raw.length) {
    let gap = 0;
    let shift = 0;
    for (;;) {
      const b = raw[i++];
      if (b === undefined) throw new Error('a varint is cut short');
      gap += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 35) throw new Error('a varint is too long');
    }
    t += gap;
    times.push(t);
  }
  return times;
}

/** The settings form of a parsed trace; throws TraceError when it is too long to hand to the roles. */
export function traceSpec(t: ParsedTrace, name: string, sha256: string): NetTraceSpec {
  if (t.format === 'steps') return { name, sha256, format: 'steps', steps: t.steps };
  const times = encodeTimes(t.times);
  if (times.length > MAX_ENCODED_CHARS) throw new TraceError(name, 0, `the trace is too varied to hand to the relay: ${t.times.length} delivery opportunities encode to ${times.length} characters, more than ${MAX_ENCODED_CHARS} (cut it into a shorter trace)`);
  return { name, sha256, format: 'mahimahi', periodMs: t.periodMs, count: t.times.length, times };
}

/** The trace of a settings form, checked where it enters a role; throws Error saying what is wrong. */
export function traceFromSpec(v: unknown): ParsedTrace {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('a trace must be an object');
  const s = v as Record<string, unknown>;
  if (typeof s['name'] !== 'string' || typeof s['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(s['sha256'])) throw new Error('a trace needs its name and the sha256 of its file');
  if (s['format'] === 'mahimahi') {
    const { periodMs, count, times } = s;
    if (typeof periodMs !== 'number' || !Number.isInteger(periodMs) || periodMs <= 0 || periodMs > MAX_TRACE_MS) throw new Error(`periodMs ${show(periodMs)} must be whole ms from 1 to ${MAX_TRACE_MS}`);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_TRACE_OPPORTUNITIES) throw new Error(`count ${show(count)} must be from 1 to ${MAX_TRACE_OPPORTUNITIES}`);
    if (typeof times !== 'string' || times.length > MAX_ENCODED_CHARS) throw new Error(`times must be base64 of at most ${MAX_ENCODED_CHARS} characters`);
    const ts = decodeTimes(times, count);
    if (ts.length !== count || ts.at(-1) !== periodMs) throw new Error(`times hold ${ts.length} opportunities ending at ${ts.at(-1)} ms, not ${count} ending at ${periodMs}`);
    return { format: 'mahimahi', times: ts, periodMs };
  }
  if (s['format'] === 'steps') {
    const steps = s['steps'];
    if (!Array.isArray(steps) || steps.length === 0) throw new Error('steps must be a list of at least one step');
    let prev = -1;
    for (const [i, x] of (steps as unknown[]).entries()) {
      const st = x as Record<string, unknown> | null;
      const ok = (k: string, hi: number) => {
        const n = st?.[k];
        return typeof n === 'number' && n >= 0 && n <= hi;
      };
      if (!ok('tMs', MAX_TRACE_MS) || !ok('rateBps', MAX_STEP_BPS) || !ok('delayMs', 60_000) || !ok('loss', 1)) throw new Error(`steps[${i}] must be {tMs, rateBps, delayMs, loss} within their ranges`);
      const t = st!['tMs'] as number;
      if ((i === 0 && t !== 0) || t <= prev) throw new Error(`steps[${i}].tMs ${t} must be 0 for the first and grow after it`);
      prev = t;
    }
    if ((steps.at(-1) as TraceStep).rateBps === 0) throw new Error('the last step must have a rate above 0');
    return { format: 'steps', steps: (steps as TraceStep[]).map((x) => ({ tMs: x.tMs, rateBps: x.rateBps, delayMs: x.delayMs, loss: x.loss })) };
  }
  throw new Error(`format ${show(s['format'])} is neither mahimahi nor steps`);
}

const cache = new Map<string, { stamp: string; spec: NetTraceSpec; parsed: ParsedTrace }>();

/**
 * Reads, checks and encodes a trace file (relative paths from the current directory, as `source`
 * is read); throws TraceError with the file and line. Cached by path, size and modification time:
 * validation asks once per point of the matrix.
 */
export function loadTrace(path: string): { spec: NetTraceSpec; parsed: ParsedTrace } {
  let stamp: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new TraceError(path, 0, 'is not a regular file');
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch (e) {
    if (e instanceof TraceError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TraceError(path, 0, code === 'ENOENT' ? 'the trace file does not exist' : `the trace file cannot be read (${code ?? 'error'})`);
  }
  const hit = cache.get(path);
  if (hit?.stamp === stamp) return hit;
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new TraceError(path, 0, `the trace file cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const parsed = parseTrace(buf.toString('utf8'), path);
  const spec = traceSpec(parsed, path, createHash('sha256').update(buf).digest('hex'));
  const got = { stamp, spec, parsed };
  cache.set(path, got);
  return got;
}
