/**
 * Quality-of-experience figures of one stream point, from what its roles recorded: freezes of the
 * displayed picture, the worst latency over sliding windows, how much of the offered capacity was
 * delivered, and how the sending rate followed the capacity (rate switches, reaction after a
 * drop, recovery after a rise). Pure functions over times in ms on the point's clock, so the
 * same definitions serve the summary, the time series and the GUI's marks (docs/adaptive.md).
 */
import { quantile } from '../base/quantile.ts';

/** A step series: value[i] holds from t[i] until t[i + 1] (the last until the window ends). */
export interface StepSeries {
  t: readonly number[];
  v: readonly number[];
}

/** A stretch of time in ms: [fromMs, toMs). */
export interface Span {
  fromMs: number;
  toMs: number;
}

/**
 * The freezes of a window: each time the displayed picture was not renewed for longer than
 * `thresholdMs`. A freeze lasts its whole gap (from the picture shown last to the next one, or to
 * the window's end when none came), as WebRTC's freeze statistics count it, cut to the window.
 * `shownMs`: display times of the pictures shown, any order. `shownBefore`: the last one shown
 * before the window (undefined: none, so the window starts frozen until its first picture).
 */
export function freezes(shownMs: readonly number[], window: Span, thresholdMs: number, shownBefore: number | undefined): Span[] {
  const inside = shownMs.filter((t) => t >= window.fromMs && t < window.toMs).sort((a, b) => a - b);
  const out: Span[] = [];
  let prev = shownBefore ?? window.fromMs;
  for (const t of [...inside, window.toMs]) {
    if (t - prev > thresholdMs) out.push({ fromMs: Math.max(prev, window.fromMs), toMs: t });
    prev = t;
  }
  return out;
}

/**
 * The worst p95 of latency over sliding windows of `windowMs` stepped by `stepMs`, by capture
 * time: how bad the worst stretch was, which a whole-point p95 averages away. Windows with fewer
 * than `minFrames` frames are left out (a lone frame is no percentile); NaN when none is left.
 */
export function latencyP95Max(captureMs: readonly number[], latencyMs: readonly number[], window: Span, windowMs: number, stepMs: number, minFrames = 5): number {
  const rows = captureMs.map((t, i) => [t, latencyMs[i]!] as const).filter(([t, l]) => Number.isFinite(l) && t >= window.fromMs && t < window.toMs);
  rows.sort((a, b) => a[0] - b[0]);
  let worst = NaN;
  const lastStart = Math.max(window.fromMs, window.toMs - windowMs);
  for (let from = window.fromMs; from <= lastStart + 1e-9; from += stepMs) {
    const xs = rows.filter(([t]) => t >= from && t < from + windowMs).map(([, l]) => l);
    if (xs.length < minFrames) continue;
    const p = quantile(
      xs.sort((a, b) => a - b),
      0.95,
    );
    if (!(p <= worst)) worst = p;
  }
  return worst;
}

/** The integral of a step series over a span, in value x seconds (bits for a rate in bit/s). */
export function integrate(s: StepSeries, span: Span): number {
  let total = 0;
  for (let i = 0; i < s.t.length; i++) {
    const from = Math.max(s.t[i]!, span.fromMs);
    const to = Math.min(i + 1 < s.t.length ? s.t[i + 1]! : span.toMs, span.toMs);
    if (to > from) total += (s.v[i]! * (to - from)) / 1000;
  }
  return total;
}

/** Delivered over offered: bits delivered in the window over the capacity's integral there (0..1, more when the link carried what it had queued); NaN without a finite capacity. */
export function utilization(deliveredBits: number, capacity: StepSeries, window: Span): number {
  if (capacity.v.some((v) => !Number.isFinite(v))) return NaN;
  const offered = integrate(capacity, window);
  return offered > 0 ? deliveredBits / offered : NaN;
}

/** A change of capacity: when, from what to what (bit/s). */
export interface CapacityChange {
  atMs: number;
  fromBps: number;
  toBps: number;
}

/**
 * The capacity's steps inside the window that change it by more than `minRatio` (10 % by
 * default): the events a rate controller should answer. Steps that follow each other closer than
 * `settleMs` are taken as one (a trace's ramp), from the first level to the last.
 */
export function capacityChanges(capacity: StepSeries, window: Span, minRatio = 0.1, settleMs = 500): CapacityChange[] {
  const out: CapacityChange[] = [];
  for (let i = 1; i < capacity.t.length; i++) {
    const at = capacity.t[i]!;
    if (at < window.fromMs || at >= window.toMs) continue;
    const from = capacity.v[i - 1]!;
    const to = capacity.v[i]!;
    if (from === to) continue;
    const last = out.at(-1);
    if (last && at - last.atMs < settleMs) last.toBps = to;
    else out.push({ atMs: at, fromBps: from, toBps: to });
  }
  return out.filter((c) => Math.abs(c.toBps - c.fromBps) > minRatio * Math.max(c.fromBps, c.toBps));
}

/** How the sending rate answered one capacity change: ms until it did, or undefined when it never did in the window. */
export interface RateAnswer extends CapacityChange {
  kind: 'drop' | 'rise';
  answeredMs: number | undefined;
}

/**
 * Reaction after each drop: ms from the drop until the sending rate (`sent`, bit/s in bins of
 * `binMs`, see rateSeries) is at or below the new capacity for a whole bin. Recovery after each
 * rise: until it reaches `recoverShare` (80 %) of the new capacity for a whole bin. Counted to the
 * end of that bin (the rate met it by then), so the resolution is one bin. A change that the
 * window's end or the next change comes before answering has `answeredMs` undefined: a policy
 * that never follows (fixed) is seen as such, not averaged in.
 */
export function rateAnswers(capacity: StepSeries, sent: StepSeries, binMs: number, window: Span, recoverShare = 0.8): RateAnswer[] {
  const changes = capacityChanges(capacity, window);
  return changes.map((c, k): RateAnswer => {
    const kind = c.toBps < c.fromBps ? 'drop' : 'rise';
    const met = (v: number) => (kind === 'drop' ? v <= c.toBps : v >= recoverShare * c.toBps);
    const until = Math.min(changes[k + 1]?.atMs ?? Infinity, window.toMs);
    let answeredMs: number | undefined;
    for (let i = 0; i < sent.t.length; i++) {
      const t = sent.t[i]!;
      if (t < c.atMs) continue;
      if (t + binMs > until) break;
      if (met(sent.v[i]!)) {
        answeredMs = t + binMs - c.atMs;
        break;
      }
    }
    return { ...c, kind, answeredMs };
  });
}

/** Bytes at times, binned into a rate step series (bit/s) of `binMs` bins over the window. */
export function rateSeries(atMs: readonly number[], bytes: readonly number[], window: Span, binMs: number): StepSeries {
  const n = Math.max(1, Math.ceil((window.toMs - window.fromMs) / binMs));
  const bins = new Array<number>(n).fill(0);
  atMs.forEach((t, i) => {
    if (t >= window.fromMs && t < window.toMs) bins[Math.floor((t - window.fromMs) / binMs)]! += bytes[i]!;
  });
  return { t: bins.map((_, i) => window.fromMs + i * binMs), v: bins.map((b) => (b * 8 * 1000) / binMs) };
}

/** Rate switches: changes of the encoder's targets (bitrate, fps or resolution) applied in the window, each decision that changed at least one. */
export function rateSwitches(decisions: readonly { t: number; bitrate?: number; fps?: number; resolution?: string }[], window: Span, initial: { bitrate?: number; fps?: number; resolution?: string }): number {
  const now = { ...initial };
  let n = 0;
  for (const d of [...decisions].sort((a, b) => a.t - b.t)) {
    let changed = false;
    for (const k of ['bitrate', 'fps', 'resolution'] as const) {
      const v = d[k];
      if (v !== undefined && v !== now[k]) {
        (now as Record<string, unknown>)[k] = v;
        changed = true;
      }
    }
    if (changed && d.t >= window.fromMs && d.t < window.toMs) n++;
  }
  return n;
}
