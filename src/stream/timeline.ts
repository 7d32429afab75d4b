/**
 * A role's own account over time: its CPU time and its counters, sampled on the machine's
 * monotonic clock every few tens of milliseconds while it streams. The workload reads them at the
 * edges of the recorded window (mapped onto the point's clock), so what the warm-up cost, dropped
 * or skipped stays out of the figures of the window.
 */
export interface TimelineRecord {
  /** Sampling times, monotonic ms of the role's machine. */
  t: number[];
  /** User + system CPU seconds of the process at each time. */
  cpuS: number[];
  /** Each counter's value at each time (counters only grow). */
  counters: Record<string, number[]>;
}

/** How often a role samples its own account: an edge of the window is placed within half of it. */
export const TIMELINE_MS = 50;

export class RoleTimeline {
  private readonly rec: TimelineRecord = { t: [], cpuS: [], counters: {} };
  private timer: NodeJS.Timeout | undefined;

  /** @param read the counters now (absent ones read as 0); @param now the monotonic clock */
  constructor(
    private readonly read: () => Record<string, number>,
    private readonly now: () => number,
  ) {}

  /** Takes one sample now (e.g. at the stream's start, at the window's start, at its end). */
  mark(): void {
    const u = process.cpuUsage();
    const t = this.now();
    const c = this.read();
    const n = this.rec.t.length;
    this.rec.t.push(t);
    this.rec.cpuS.push((u.user + u.system) / 1e6);
    for (const [name, v] of Object.entries(c)) (this.rec.counters[name] ??= new Array<number>(n).fill(0)).push(v);
    for (const [name, xs] of Object.entries(this.rec.counters)) if (xs.length === n) xs.push(c[name] ?? xs.at(-1) ?? 0);
  }

  /** Samples now and then every `everyMs` until stop. */
  start(everyMs = TIMELINE_MS): void {
    this.mark();
    this.timer = setInterval(() => this.mark(), everyMs);
    this.timer.unref();
  }

  /** Takes a last sample and returns the record. */
  stop(): TimelineRecord {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.mark();
    return this.rec;
  }
}

/**
 * The value of a sampled, growing series at time `at`, interpolated between the samples around it
 * (clamped to the first and last). NaN when there is no sample.
 */
export function valueAt(t: readonly number[], v: readonly number[], at: number): number {
  const n = Math.min(t.length, v.length);
  if (n === 0 || !Number.isFinite(at)) return NaN;
  if (at <= t[0]!) return v[0]!;
  if (at >= t[n - 1]!) return v[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= at) lo = mid;
    else hi = mid;
  }
  const span = t[hi]! - t[lo]!;
  return span > 0 ? v[lo]! + ((v[hi]! - v[lo]!) * (at - t[lo]!)) / span : v[hi]!;
}

/** How much a growing series grew between two times (interpolated at both edges). */
export function growthBetween(t: readonly number[], v: readonly number[], from: number, to: number): number {
  return valueAt(t, v, to) - valueAt(t, v, from);
}

/**
 * Series sampled at their own times, merged onto the union of their times: each column holds its
 * last value until its next sample (queue, capacity per window and delay are all step series), and
 * is NaN before its first. One table with one `t` is how a point stores its series.
 */
export function mergeStepSeries(parts: readonly { t: readonly number[]; cols: Record<string, readonly number[]> }[]): Record<string, number[]> {
  const ts = [...new Set(parts.flatMap((p) => p.t))].sort((a, b) => a - b);
  const out: Record<string, number[]> = { t: ts };
  for (const p of parts) {
    for (const [name, v] of Object.entries(p.cols)) {
      const col = new Array<number>(ts.length);
      let j = -1;
      for (let i = 0; i < ts.length; i++) {
        while (j + 1 < p.t.length && p.t[j + 1]! <= ts[i]!) j++;
        col[i] = j >= 0 ? v[j]! : NaN;
      }
      out[name] = col;
    }
  }
  return out;
}
