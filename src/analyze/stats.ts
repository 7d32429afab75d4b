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

/**
 * Upper tail of the F distribution: the p-value of an F statistic. Computed as the regularized
 * incomplete beta I_x(df2/2, df1/2) at x = df2 / (df2 + df1 f), not as 1 - cdf: that difference is
 * exactly 0 below about 1e-16, and a strong effect's p would print as 0.
 */
export function fUpperP(f: number, df1: number, df2: number): number {
  if (!(df1 > 0) || !(df2 > 0) || Number.isNaN(f)) return NaN;
  if (f <= 0) return 1;
  if (!Number.isFinite(f)) return 0;
  return Math.max(0, Math.min(1, jStat.ibeta(df2 / (df2 + df1 * f), df2 / 2, df1 / 2)));
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
  const idx = ps
    .map((p, i) => [p, i] as const)
    .filter(([p]) => !Number.isNaN(p))
    .sort((a, b) => a[0] - b[0]);
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

/**
 * Units of quantities that cannot be negative: a time taken, a rate, a share, a count, a size.
 * (dB, and no unit at all, are not among them: a level in dB and an undeclared figure may be.)
 */
export const NONNEGATIVE_UNITS: ReadonlySet<string> = new Set(['ms', 's', '%', 'bit/s', 'B', 'KiB', 'MiB', 'GiB', 'fps', 'frames', 'packets', 'count', 'px', 'Hz', 'ratio', 'threads']);

/**
 * Whether a metric's intervals are computed on the log scale: its unit says it cannot be negative
 * and no value of it is. Its mean is then positive (or 0 when every value is), and an interval for
 * it must stay above zero.
 */
export function positiveMetric(unit: string | null | undefined, min: number | null | undefined): boolean {
  return unit !== null && unit !== undefined && NONNEGATIVE_UNITS.has(unit) && typeof min === 'number' && min >= 0;
}

/**
 * The two-sided `level` interval of a mean from its standard error and degrees of freedom
 * (Student t). On the log scale (`log`, for a positive quantity) it is the t-interval of log(mean),
 * whose standard error is se / mean (the delta method), taken back: [mean / f, mean x f] with
 * f = exp(t se / mean): above zero whatever the spread, and wider above the mean than below, as
 * the spread of a positive quantity is. Undefined when it cannot be computed (df <= 0, se NaN).
 */
export function meanInterval(mean: number, se: number, df: number, log: boolean, level = 0.95): [number, number] | undefined {
  if (!Number.isFinite(mean) || !Number.isFinite(se) || se < 0 || !(df > 0)) return undefined;
  const t = tQuantile(1 - (1 - level) / 2, df);
  if (se === 0) return [mean, mean];
  if (!log) return [mean - t * se, mean + t * se];
  if (!(mean > 0)) return undefined;
  const f = Math.exp((t * se) / mean);
  return [mean / f, mean * f];
}
