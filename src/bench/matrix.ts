/** Matrix expansion: axes and linked axes -> points, constraints, ordering, repetitions. */
import { stableKey } from '../base/canonical.ts';
import type { Axis, Order, ParamValue, Params, PartialPoint, ResolvedBenchmark } from './resolved.ts';

/** A numeric range as written in the file. */
export interface RangeSpec {
  from: number;
  to: number;
  step?: number;
  count?: number;
  scale?: 'linear' | 'log';
}

/** Values of a range; floating error is rounded away so 0.1 steps give 0.3, not 0.30000000000000004. */
export function expandRange(r: RangeSpec): number[] {
  const round = (x: number) => Number(x.toPrecision(12));
  if (r.count !== undefined) {
    const n = r.count;
    if (r.scale === 'log') {
      if (r.from <= 0 || r.to <= 0) throw new Error('a log range needs from and to above 0');
      const a = Math.log(r.from);
      const b = Math.log(r.to);
      return Array.from({ length: n }, (_, i) => round(Math.exp(a + ((b - a) * i) / (n - 1))));
    }
    return Array.from({ length: n }, (_, i) => round(r.from + ((r.to - r.from) * i) / (n - 1)));
  }
  const step = r.step ?? 1;
  const out: number[] = [];
  const dir = r.to >= r.from ? 1 : -1;
  for (let i = 0; ; i++) {
    const v = round(r.from + dir * step * i);
    if (dir > 0 ? v > r.to + step * 1e-9 : v < r.to - step * 1e-9) break;
    out.push(v);
    if (out.length > 100_000) throw new Error('range has more than 100000 values');
  }
  return out;
}

export interface Point {
  /** Position in the declared (unordered) expansion, 0-based. */
  index: number;
  params: Params;
}

function matches(params: Params, partial: PartialPoint): boolean {
  return Object.entries(partial).every(([k, vs]) => vs.some((v) => sameValue(params[k], v)));
}

/** Values compare as text too, so `--filter crf=23` matches the number 23. */
export function sameValue(a: ParamValue | undefined, b: ParamValue): boolean {
  return a === b || (a !== undefined && String(a) === String(b));
}

/** Expands axes (cartesian product, linked groups zipped), then applies `exclude` and `only`. */
export function expandPoints(axes: readonly Axis[], links: readonly string[][], exclude: readonly PartialPoint[], only: readonly PartialPoint[]): Point[] {
  // A unit is one axis or one linked group; units combine as nested loops, the last fastest.
  const groupOf = new Map<string, string[]>();
  for (const g of links) for (const n of g) groupOf.set(n, g);
  const units: Params[][] = [];
  const done = new Set<string>();
  for (const axis of axes) {
    if (done.has(axis.name)) continue;
    const group = groupOf.get(axis.name) ?? [axis.name];
    const members = group.map((n) => axes.find((a) => a.name === n)!);
    members.forEach((m) => done.add(m.name));
    const len = members[0]!.values.length;
    units.push(Array.from({ length: len }, (_, i) => Object.fromEntries(members.map((m) => [m.name, m.values[i]!]))));
  }
  let combos: Params[] = [{}];
  for (const unit of units) combos = combos.flatMap((c) => unit.map((u) => ({ ...c, ...u })));
  const points: Point[] = [];
  combos.forEach((params, index) => {
    if (exclude.some((e) => matches(params, e))) return;
    if (only.length > 0 && !only.some((o) => matches(params, o))) return;
    points.push({ index, params });
  });
  return points;
}

/** Deterministic PRNG (mulberry32) so a seeded shuffle is the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Puts points in run order: as declared, shuffled with a seed, or grouped by costly parameters. */
export function orderPoints(points: readonly Point[], order: Order, axes: readonly Axis[]): Point[] {
  const out = [...points];
  if (order.kind === 'shuffle') {
    const r = rng(order.seed);
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  } else if (order.kind === 'group') {
    const rank = (name: string, v: ParamValue | undefined) => axes.find((a) => a.name === name)!.values.findIndex((x) => x === v);
    // Array.prototype.sort is stable: points equal on the grouped parameters keep declared order.
    out.sort((a, b) => {
      for (const p of order.params) {
        const d = rank(p, a.params[p]) - rank(p, b.params[p]);
        if (d !== 0) return d;
      }
      return a.index - b.index;
    });
  }
  return out;
}

/** What one execution is: a point and one of its repetitions, with its stable key. */
export interface PlannedRun {
  /** Stable hash of everything that defines what the point runs (see `pointKey`). */
  key: string;
  rep: number;
  index: number;
  params: Params;
}

/** The stable key of a point: parameters, workload and timing, normalised; order and names do not matter. */
export function pointKey(b: ResolvedBenchmark, params: Params): string {
  return stableKey({ params, workload: b.workload, warmup: b.warmupS, duration: b.durationS ?? null });
}

/** The whole plan: points in run order, each repeated `repeat` times back to back. */
export function planRuns(b: ResolvedBenchmark, filter: readonly PartialPoint[] = []): PlannedRun[] {
  const points = expandPoints(b.axes, b.links, b.exclude, b.only).filter((p) => filter.every((f) => matches(p.params, f)));
  return orderPoints(points, b.order, b.axes).flatMap((p) => {
    const key = pointKey(b, p.params);
    return Array.from({ length: b.repeat }, (_, r) => ({ key, rep: r + 1, index: p.index, params: p.params }));
  });
}
