/**
 * Decimation of long series for a plot `width` pixels wide: per pixel column, the sample with the
 * lowest and the one with the highest value, in their time order. A line through them draws the
 * same envelope as the full series at that width (every spike and every dip keeps its pixel),
 * which plain skipping of samples would not: it misses a one-sample spike most of the time.
 */

/** A decimated series: times and values, NaN where the line must break (a gap). */
export interface Decimated {
  t: number[];
  v: number[];
  /** Samples in the range before decimation. */
  n: number;
  /** True when the samples were reduced (more than two per pixel column). */
  reduced: boolean;
}

/**
 * Reduces the samples (t ascending) in [from, to] to at most two per pixel column, and keeps one
 * sample on each side of the range so the line reaches the plot's edges. A NaN value, or a step
 * in time longer than `gapAfter` (s), is kept as a NaN so the line breaks there instead of
 * drawing across missing data.
 */
export function decimateMinMax(t: ArrayLike<number>, v: ArrayLike<number>, width: number, opts: { from?: number; to?: number; gapAfter?: number } = {}): Decimated {
  const n = t.length;
  if (v.length !== n) throw new Error(`decimate: ${n} times but ${v.length} values`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`decimate: width ${width} is not a positive whole number of pixels`);
  if (n === 0) return { t: [], v: [], n: 0, reduced: false };
  const from = opts.from ?? t[0]!;
  const to = opts.to ?? t[n - 1]!;
  // The first sample inside, and one before it (so the line enters the plot from its left edge).
  let lo = lowerBound(t, from);
  let hi = upperBound(t, to); // exclusive
  const inside = hi - lo;
  lo = Math.max(0, lo - 1);
  hi = Math.min(n, hi + 1);
  const outT: number[] = [];
  const outV: number[] = [];
  const gap = opts.gapAfter ?? Infinity;
  const push = (i: number) => {
    outT.push(t[i]!);
    outV.push(v[i]!);
  };
  // A silence between two consecutive samples (of the full series, not of what is kept) breaks the line there.
  const silence = (i: number) => i > lo && t[i]! - t[i - 1]! > gap;
  const breakAt = (i: number) => {
    outT.push((t[i - 1]! + t[i]!) / 2);
    outV.push(NaN);
  };
  if (inside <= 2 * width) {
    for (let i = lo; i < hi; i++) {
      if (silence(i)) breakAt(i);
      push(i);
    }
    return { t: outT, v: outV, n: inside, reduced: false };
  }
  const span = to > from ? to - from : 1;
  let bucket = -2;
  let minI = -1;
  let maxI = -1;
  let nanI = -1;
  const flush = () => {
    const picks = [minI, maxI, nanI].filter((i) => i >= 0);
    picks.sort((a, b) => a - b);
    let last = -1;
    for (const i of picks) if (i !== last) push((last = i));
    minI = maxI = nanI = -1;
  };
  for (let i = lo; i < hi; i++) {
    const b = t[i]! < from ? -1 : t[i]! > to ? width : Math.min(width - 1, Math.floor(((t[i]! - from) / span) * width));
    if (b !== bucket || silence(i)) {
      flush();
      bucket = b;
      if (silence(i)) breakAt(i);
    }
    const x = v[i]!;
    if (Number.isNaN(x)) {
      // A missing value inside a column still breaks the line there.
      if (nanI < 0) nanI = i;
      continue;
    }
    if (minI < 0 || x < v[minI]!) minI = i;
    if (maxI < 0 || x > v[maxI]!) maxI = i;
  }
  flush();
  return { t: outT, v: outV, n: inside, reduced: true };
}

/** First index whose time is >= x. */
function lowerBound(t: ArrayLike<number>, x: number): number {
  let a = 0;
  let b = t.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (t[m]! < x) a = m + 1;
    else b = m;
  }
  return a;
}

/** First index whose time is > x. */
function upperBound(t: ArrayLike<number>, x: number): number {
  let a = 0;
  let b = t.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (t[m]! <= x) a = m + 1;
    else b = m;
  }
  return a;
}

/**
 * The frames to draw `width` pixels wide: all of them when they fit (two per column), else per
 * pixel column the frame with the highest latency and the first marked one (lost, dropped, late),
 * so the worst frame and every kind of trouble stay visible. Returns indices in ascending order.
 * `x` (frame number or time) must be ascending; frames outside [from, to] are left out.
 */
export function worstPerColumn(x: ArrayLike<number>, latency: ArrayLike<number>, marked: (i: number) => boolean, width: number, opts: { from?: number; to?: number } = {}): { indices: number[]; reduced: boolean } {
  const n = x.length;
  if (!Number.isInteger(width) || width < 1) throw new Error(`decimate: width ${width} is not a positive whole number of pixels`);
  if (n === 0) return { indices: [], reduced: false };
  const from = opts.from ?? x[0]!;
  const to = opts.to ?? x[n - 1]!;
  const lo = lowerBound(x, from);
  const hi = upperBound(x, to);
  if (hi - lo <= 2 * width) return { indices: Array.from({ length: Math.max(0, hi - lo) }, (_, k) => lo + k), reduced: false };
  const span = to > from ? to - from : 1;
  const out: number[] = [];
  let bucket = -1;
  let worst = -1;
  let mark = -1;
  const flush = () => {
    if (worst >= 0 && mark >= 0 && mark !== worst) out.push(Math.min(worst, mark), Math.max(worst, mark));
    else if (worst >= 0 || mark >= 0) out.push(worst >= 0 ? worst : mark);
    worst = mark = -1;
  };
  for (let i = lo; i < hi; i++) {
    const b = Math.min(width - 1, Math.floor(((x[i]! - from) / span) * width));
    if (b !== bucket) {
      flush();
      bucket = b;
    }
    const l = latency[i]!;
    if (!Number.isNaN(l) && (worst < 0 || Number.isNaN(latency[worst]!) || l > latency[worst]!)) worst = i;
    else if (worst < 0) worst = i;
    if (mark < 0 && marked(i)) mark = i;
  }
  flush();
  return { indices: out, reduced: true };
}
