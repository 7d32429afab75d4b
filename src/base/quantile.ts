/** The one quantile of the code base, so a figure in a summary and the same figure asked of DuckDB agree. */

/**
 * The q-quantile of `values` by linear interpolation between the two closest ranks: DuckDB's
 * `quantile_cont`, numpy's default method, R's type 7. NaN values are left out, as SQL leaves out
 * NULLs (a frame that never reached a stage has no time for it); NaN when nothing is left. The
 * input is not changed; an array already in ascending order costs one pass to copy and check.
 */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be between 0 and 1, got ${q}`);
  const s = values.filter((v) => !Number.isNaN(v));
  if (!isAscending(s)) s.sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo]!;
  const b = s[hi]!;
  // a + (b - a) * 0 would be NaN for an infinite a; the rank itself is then the answer.
  return lo === hi || a === b ? a : a + (b - a) * (pos - lo);
}

function isAscending(s: readonly number[]): boolean {
  for (let i = 1; i < s.length; i++) if (s[i - 1]! > s[i]!) return false;
  return true;
}
