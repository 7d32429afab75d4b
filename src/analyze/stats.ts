// Distribution functions come from jstat (one dependency-free package); this module is the only
// place that touches it, so swapping the library later changes one file.
import jStat from 'jstat';

/** The p-quantile of Student's t with df degrees of freedom (jstat; about 1e-7 relative of scipy's). */
export function tQuantile(p: number, df: number): number {
  if (!(df > 0)) return NaN;
  return jStat.studentt.inv(p, df);
}

/** Two-sided p-value of a t statistic with df degrees of freedom. */
export function tTwoSidedP(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, 2 * jStat.studentt.cdf(-Math.abs(t), df));
}

/** Upper tail of the F distribution: the p-value of an F statistic. */
export function fUpperP(f: number, df1: number, df2: number): number {
  if (!(df1 > 0) || !(df2 > 0) || Number.isNaN(f)) return NaN;
  return Math.max(0, Math.min(1, 1 - jStat.centralF.cdf(Math.max(f, 0), df1, df2)));
}

/** The seeded generator of the folds and bootstraps (one for the whole project, in base). */
export { seededRandom } from '../base/random.ts';

/** A standard normal draw from a uniform generator (Box-Muller). */
export function normalDraw(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Fisher-Yates shuffle in place with a given generator. */
export function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Holm's step-down adjustment: adjusted p-values in the input's order (NaN stays NaN and counts for nothing). */
export function holm(ps: number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => !Number.isNaN(p)).sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/** Mean of a list (NaN when empty). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample variance (n - 1 in the denominator; NaN under two values). */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return s / (xs.length - 1);
}

/** Percentile of sorted values, linear between ranks (as DuckDB's quantile_cont). */
export function percentileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
