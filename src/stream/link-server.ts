/**
 * The bottleneck of an emulated link: when the last byte of a packet leaves, given the packets
 * served before it (first in, first out). A fixed rate; a Mahimahi trace (1500-byte delivery
 * opportunities at given ms, looping); or steps of rate (src/config/net-trace.ts reads both). Since
 * the service depends only on arrival times and sizes, NetemLink knows each packet's departure when
 * it is queued, whatever the timers do.
 */
import { MAHIMAHI_MTU, type ParsedTrace, type TraceStep } from '../config/net-trace.ts';

/** One link's service; times are ms on the link's clock. */
export interface LinkServer {
  /** Serves `bytes` arriving at t, after everything served before; returns when its last byte leaves. */
  serve(t: number, bytes: number): number;
  /** When the last byte served so far leaves. */
  readonly freeAt: number;
  /** The bits the link could carry in [from, to), whatever was offered to it. */
  offeredBits(from: number, to: number): number;
  /** Delay and loss a steps trace adds at time t (none for the others). */
  extraAt(t: number): { delayMs: number; loss: number };
}

const NONE = { delayMs: 0, loss: 0 };

/** A fixed rate: exact serialisation, bytes * 8 / rate after the link is free. */
export class RateServer implements LinkServer {
  freeAt = -Infinity;
  constructor(private readonly rateBps: number) {}

  serve(t: number, bytes: number): number {
    this.freeAt = Math.max(t, this.freeAt) + (bytes * 8000) / this.rateBps;
    return this.freeAt;
  }

  offeredBits(from: number, to: number): number {
    return Math.max(0, to - from) * (this.rateBps / 1000);
  }

  extraAt(): { delayMs: number; loss: number } {
    return NONE;
  }
}

/** The first index of sorted `a` whose value is >= x (a.length when none). */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Mahimahi's delivery opportunities: at each, up to 1500 bytes of the queue leave (a packet may be
 * spread over several; one that arrives after an opportunity's time cannot use what is left of it,
 * so credit unused in its ms is lost); the schedule repeats every periodMs from `origin`.
 */
export class MahimahiServer implements LinkServer {
  freeAt = -Infinity;
  /** The opportunity the next byte may use, as an index over all periods, and the bytes left in it. */
  private k = 0;
  private left = MAHIMAHI_MTU;
  private readonly n: number;
  /** Opportunities at the period's very end: they fall on the next period's first ms. */
  private readonly atEnd: number;

  constructor(
    private readonly times: readonly number[],
    private readonly periodMs: number,
    private readonly origin: number,
  ) {
    this.n = times.length;
    this.atEnd = this.n - lowerBound(times, periodMs);
  }

  private timeOf(k: number): number {
    const p = Math.floor(k / this.n);
    return this.origin + p * this.periodMs + this.times[k - p * this.n]!;
  }

  /** How many opportunities fall before time x. */
  private countBefore(x: number): number {
    const rel = Math.max(0, x - this.origin);
    const p = Math.floor(rel / this.periodMs);
    const r = rel - p * this.periodMs;
    // The previous period's last opportunities sit at x itself when x starts a period: not before it.
    return p * this.n + lowerBound(this.times, r) - (r === 0 && p > 0 ? this.atEnd : 0);
  }

  serve(t: number, bytes: number): number {
    if (bytes <= 0) return Math.max(t, this.freeAt);
    if (this.timeOf(this.k) < t) {
      // The link idled: what was left of earlier opportunities is lost.
      this.k = this.countBefore(t);
      this.left = MAHIMAHI_MTU;
    }
    let last = this.timeOf(this.k);
    let rest = bytes;
    while (rest > 0) {
      const take = Math.min(rest, this.left);
      rest -= take;
      this.left -= take;
      last = this.timeOf(this.k);
      if (this.left === 0) {
        this.k++;
        this.left = MAHIMAHI_MTU;
      }
    }
    this.freeAt = Math.max(t, last);
    return this.freeAt;
  }

  offeredBits(from: number, to: number): number {
    return to <= from ? 0 : (this.countBefore(to) - this.countBefore(from)) * MAHIMAHI_MTU * 8;
  }

  extraAt(): { delayMs: number; loss: number } {
    return NONE;
  }
}

/** Steps of rate from `origin`: a fluid server whose rate changes at each step's time; the last step holds for ever. */
export class StepsServer implements LinkServer {
  freeAt = -Infinity;
  private readonly at: number[];

  constructor(
    private readonly steps: readonly TraceStep[],
    private readonly origin: number,
  ) {
    this.at = steps.map((s) => origin + s.tMs);
  }

  /** The step in force at t (the first before the trace began); a step's own time is in it. */
  private stepAt(t: number): number {
    // Exactly, not by adding an epsilon to t: at a monotonic clock's magnitude (1e7 ms and more) a
    // nanosecond is below a double's resolution, and t = a step's time then fell in the step before.
    const i = lowerBound(this.at, t);
    return Math.max(0, i < this.at.length && this.at[i] === t ? i : i - 1);
  }

  serve(t: number, bytes: number): number {
    let s = Math.max(t, this.freeAt, this.origin);
    let bits = bytes * 8;
    for (let i = this.stepAt(s); ; i++) {
      const rate = this.steps[i]!.rateBps;
      const end = this.at[i + 1] ?? Infinity;
      const cap = (rate * (end - s)) / 1000;
      if (bits <= cap) {
        s += rate > 0 ? (bits * 1000) / rate : 0;
        break;
      }
      bits -= cap;
      s = end;
    }
    this.freeAt = s;
    return s;
  }

  offeredBits(from: number, to: number): number {
    let bits = 0;
    for (let i = this.stepAt(from); i < this.steps.length; i++) {
      const a = Math.max(from, this.at[i]!);
      const b = Math.min(to, this.at[i + 1] ?? Infinity);
      if (b <= a) break;
      bits += (this.steps[i]!.rateBps * (b - a)) / 1000;
    }
    return bits;
  }

  extraAt(t: number): { delayMs: number; loss: number } {
    const s = this.steps[this.stepAt(t)]!;
    return { delayMs: s.delayMs, loss: s.loss };
  }
}

/** The server that replays a trace from `origin`. */
export function traceServer(t: ParsedTrace, origin: number): LinkServer {
  return t.format === 'mahimahi' ? new MahimahiServer(t.times, t.periodMs, origin) : new StepsServer(t.steps, origin);
}
