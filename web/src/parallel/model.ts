/**
 * The data behind the parallel-coordinates view, held as typed arrays: one Float64Array of values
 * per axis (a category's index on a categorical axis, NaN where a run has no value), its position
 * on the axis in 0..1, and the selection as a byte mask. A brush is answered by one pass over the
 * brushed axes' arrays (no objects per run), so 10,000 or 100,000 runs cost a few milliseconds.
 */
import type { RunsAxis } from '../../../src/server/api-types.ts';

/** One axis as the server describes it (what drawing it needs of the API's axis). */
export type AxisSpec = Pick<RunsAxis, 'name' | 'kind' | 'type' | 'unit' | 'categories' | 'log'>;

/** An axis ready to draw: its values and positions. */
export interface Axis extends AxisSpec {
  values: Float64Array;
  /** Position of each run on the axis, 0 (bottom) to 1 (top); NaN without a value. */
  pos: Float32Array;
  /** Numeric axes: the smallest and largest value (the axis ends). */
  min: number;
  max: number;
}

/**
 * A brush on one axis. Numeric axes keep the value range [lo, hi] (inclusive); categorical axes
 * the categories inside the dragged span, so that the brush means the same after a reload
 * whatever the order or the height of the axis.
 */
export type Brush = { axis: string; lo: number; hi: number } | { axis: string; cats: string[] };

/** Builds an axis from its specification and its column of values as received. */
export function makeAxis(spec: AxisSpec, column: readonly (string | number | boolean | null)[]): Axis {
  const n = column.length;
  const values = new Float64Array(n);
  const pos = new Float32Array(n);
  if (spec.type === 'categorical') {
    const cats = spec.categories ?? [...new Set(column.filter((v) => v !== null).map(String))].sort();
    const at = new Map(cats.map((c, i) => [c, i]));
    const span = Math.max(1, cats.length - 1);
    for (let i = 0; i < n; i++) {
      const v = column[i];
      const k = v === null || v === undefined ? undefined : at.get(String(v));
      values[i] = k ?? NaN;
      // One category alone sits in the middle of its axis.
      pos[i] = k === undefined ? NaN : cats.length === 1 ? 0.5 : k / span;
    }
    return { ...spec, categories: cats, values, pos, min: 0, max: cats.length - 1 };
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = column[i];
    const x = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : NaN;
    values[i] = x;
    if (x === x) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  if (min === Infinity) {
    min = 0;
    max = 1;
  }
  const log = spec.log === true && min > 0;
  const axis: Axis = { ...spec, log, values, pos, min, max };
  for (let i = 0; i < n; i++) pos[i] = toPos(axis, values[i]!);
  return axis;
}

/** Where a value lies on a numeric axis, 0..1 (NaN for none). */
export function toPos(axis: Pick<Axis, 'min' | 'max' | 'log'>, v: number): number {
  if (v !== v) return NaN;
  if (axis.max === axis.min) return 0.5;
  if (axis.log) return (Math.log(v) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min));
  return (v - axis.min) / (axis.max - axis.min);
}

/** The value at a position of a numeric axis (the inverse of toPos). */
export function fromPos(axis: Pick<Axis, 'min' | 'max' | 'log'>, p: number): number {
  if (axis.max === axis.min) return axis.min;
  if (axis.log) return Math.exp(Math.log(axis.min) + p * (Math.log(axis.max) - Math.log(axis.min)));
  return axis.min + p * (axis.max - axis.min);
}

/** The brush that a drag from position a to b (0..1, either order) on an axis makes. */
export function brushFromSpan(axis: Axis, a: number, b: number): Brush {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(1, Math.max(a, b));
  if (axis.type === 'categorical') {
    const cats = axis.categories ?? [];
    const span = Math.max(1, cats.length - 1);
    // A quarter step of slack: a drag that starts on a category (at an end of the axis, say) takes
    // it even when the press lands a pixel beside it.
    const slack = 0.25 / span;
    return {
      axis: axis.name,
      cats: cats.filter((_, k) => {
        const p = cats.length === 1 ? 0.5 : k / span;
        return p >= lo - slack && p <= hi + slack;
      }),
    };
  }
  // Rounded as the URL keeps it, so the brush in hand and the one a link restores select the same runs.
  return { axis: axis.name, lo: roundNum(fromPos(axis, lo)), hi: roundNum(fromPos(axis, hi)) };
}

/** The span of a brush on its axis, positions 0..1 (lo, hi), for drawing it. */
export function brushSpan(axis: Axis, brush: Brush): [number, number] {
  if ('cats' in brush) {
    const cats = axis.categories ?? [];
    const span = Math.max(1, cats.length - 1);
    const ps = brush.cats
      .map((c) => cats.indexOf(c))
      .filter((k) => k >= 0)
      .map((k) => (cats.length === 1 ? 0.5 : k / span));
    if (ps.length === 0) return [0, 0];
    // Half a step around the categories, so the rectangle covers them visibly.
    const pad = 0.5 / span;
    return [Math.max(0, Math.min(...ps) - pad), Math.min(1, Math.max(...ps) + pad)];
  }
  return [Math.max(0, toPos(axis, brush.lo)), Math.min(1, toPos(axis, brush.hi))];
}

/**
 * The runs every brush keeps (all brushes AND): mask[i] = 1 when run i is selected. Returns the
 * number selected. A brush on an axis that is not shown is ignored (it names nothing here).
 */
export function select(axes: readonly Axis[], brushes: readonly Brush[], mask: Uint8Array): number {
  const n = mask.length;
  mask.fill(1);
  for (const b of brushes) {
    const axis = axes.find((a) => a.name === b.axis);
    if (!axis) continue;
    const v = axis.values;
    if ('cats' in b) {
      const keep = new Uint8Array((axis.categories ?? []).length);
      for (const c of b.cats) {
        const k = (axis.categories ?? []).indexOf(c);
        if (k >= 0) keep[k] = 1;
      }
      for (let i = 0; i < n; i++) if (mask[i] && !(v[i]! === v[i]! && keep[v[i]!])) mask[i] = 0;
    } else {
      const lo = b.lo;
      const hi = b.hi;
      // NaN fails both comparisons: a run without a value is never inside a brush.
      for (let i = 0; i < n; i++) if (mask[i] && !(v[i]! >= lo && v[i]! <= hi)) mask[i] = 0;
    }
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += mask[i]!;
  return count;
}

/** Brushes as the URL keeps them: `axis~lo~hi` for a range, `axis~=a|b` for categories; `,` between brushes. */
export function brushesToText(brushes: readonly Brush[]): string {
  return brushes.map((b) => ('cats' in b ? `${b.axis}~=${b.cats.map(encodeURIComponent).join('|')}` : `${b.axis}~${fmtNum(b.lo)}~${fmtNum(b.hi)}`)).join(',');
}

/** Reads brushes back from brushesToText; parts that do not parse are left out (a hand-edited URL). */
export function brushesFromText(text: string | undefined): Brush[] {
  if (!text) return [];
  const out: Brush[] = [];
  for (const part of text.split(',')) {
    const cat = /^(.+)~=(.*)$/.exec(part);
    if (cat) {
      out.push({ axis: cat[1]!, cats: cat[2] === '' ? [] : cat[2]!.split('|').map(decodeURIComponent) });
      continue;
    }
    const range = /^(.+)~([^~]+)~([^~]+)$/.exec(part);
    if (range && Number.isFinite(Number(range[2])) && Number.isFinite(Number(range[3]))) {
      out.push({ axis: range[1]!, lo: Number(range[2]), hi: Number(range[3]) });
    }
  }
  return out;
}

/** A brush end rounded to 7 significant digits: short in a URL, and what the URL gives back exactly. */
export function roundNum(x: number): number {
  return Number(x.toPrecision(7));
}

function fmtNum(x: number): string {
  return String(roundNum(x));
}

/** Whether a numeric axis can be drawn on a log scale: all its values are above zero. */
export function canLog(axis: Pick<Axis, 'type' | 'min'>): boolean {
  return axis.type === 'numeric' && axis.min > 0;
}

/** Puts a numeric axis on a log or linear scale (log only where canLog), its positions recomputed in place. */
export function setScale(axis: Axis, log: boolean): void {
  axis.log = log && canLog(axis);
  for (let i = 0; i < axis.values.length; i++) axis.pos[i] = toPos(axis, axis.values[i]!);
}

/**
 * The selected run whose line passes nearest (x, y) between the axes either side of x, within
 * `within` px, or -1. Lines are straight between axes, so each run costs one interpolation.
 */
export function runAt(axes: readonly Axis[], mask: Uint8Array, xs: readonly number[], top: number, height: number, x: number, y: number, within: number): number {
  let k = -1;
  for (let j = 0; j + 1 < xs.length; j++) if (x >= xs[j]! && x <= xs[j + 1]!) k = j;
  if (k < 0) return -1;
  const f = (x - xs[k]!) / (xs[k + 1]! - xs[k]!);
  const a = axes[k]!.pos;
  const b = axes[k + 1]!.pos;
  let best = -1;
  let dist = within;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const p = a[i]! + (b[i]! - a[i]!) * f;
    // NaN (a run without a value on either axis) fails the comparison: no line there.
    const d = Math.abs(top + (1 - p) * height - y);
    if (d <= dist) {
      dist = d;
      best = i;
    }
  }
  return best;
}
