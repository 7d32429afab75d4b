/** Whether a plan's size is within the limit: counted, never listed (see countRuns). */
import { DEFAULT_MAX_RUNS } from './limits.ts';
import { combinations, countRuns, PlanTooComplexError } from './matrix.ts';
import type { PartialPoint, ResolvedBenchmark } from './resolved.ts';

/** What is wrong with a plan's size, and the key of the file to point at. */
export interface PlanSizeProblem {
  message: string;
  hint?: string;
  key: 'matrix' | 'exclude' | 'only';
}

/** A count for a message: exact while a double holds it exactly, else in powers of ten. */
function bigCount(n: number): string {
  if (!Number.isFinite(n)) return 'more than 1e308';
  return n < 1e15 ? String(n) : n.toExponential(2);
}

/**
 * Refuses a plan of more than `maxRuns` runs, or of none: the count streams through the product
 * and stops at the cap, so 10^12 combinations answer at once instead of filling the heap.
 */
export function planSizeProblem(b: Pick<ResolvedBenchmark, 'axes' | 'links' | 'exclude' | 'only' | 'repeat'>, filter: readonly PartialPoint[], maxRuns: number): PlanSizeProblem | undefined {
  const constrained: 'exclude' | 'only' = b.exclude.length > 0 ? 'exclude' : 'only';
  let count;
  try {
    count = countRuns(b, filter, maxRuns);
  } catch (e) {
    if (e instanceof PlanTooComplexError) return { message: e.message, key: constrained };
    throw e;
  }
  if (count === undefined) {
    const narrowed = [b.exclude.length > 0 && 'exclude', b.only.length > 0 && 'only', filter.length > 0 && '--filter'].filter(Boolean).join('/');
    return {
      message: `the plan has more than ${maxRuns} runs: ${bigCount(combinations(b.axes, b.links))} combinations of ${b.axes.length} parameter(s)${narrowed ? ` (before ${narrowed})` : ''} x repeat ${b.repeat}`,
      hint: `narrow the matrix or the repeat, or raise the limit with --max-runs N (default ${DEFAULT_MAX_RUNS})`,
      key: 'matrix',
    };
  }
  if (count.points === 0 && filter.length === 0) return { message: 'exclude and only leave no point to run', hint: 'check the entries of exclude and only against the matrix', key: constrained };
  return undefined;
}
