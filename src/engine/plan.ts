/** Which planned runs still need to run, and how long that should take. */
import { planRuns, type PlannedRun } from '../config/matrix.ts';
import type { PartialPoint, ResolvedBenchmark } from '../config/resolved.ts';
import type { PointRecord } from '../store/records.ts';
import type { ResultSet } from '../store/resultset.ts';

export interface RunPlan {
  runs: PlannedRun[];
  /** For each run, its committed record if it is already recorded successfully (and not forced). */
  recorded: (PointRecord | undefined)[];
  /** Seconds per point to expect, when it can be told (from duration, or from recorded points). */
  perPointS?: number;
}

/** Plans a run of `b` into `set` (which may not exist yet): resume skips points recorded ok. */
export function makePlan(b: ResolvedBenchmark, set: ResultSet | undefined, opts: { filter?: PartialPoint[]; force?: boolean }): RunPlan {
  const runs = planRuns(b, opts.filter ?? []);
  const recorded = runs.map((r) => {
    if (!set || opts.force) return undefined;
    const rec = set.read(r.key, r.rep);
    return rec?.outcome.status === 'ok' ? rec : undefined;
  });
  const done = recorded.filter((r): r is PointRecord => r !== undefined);
  let perPointS: number | undefined;
  if (b.durationS !== undefined) perPointS = b.warmupS + b.durationS;
  else if (done.length > 0) perPointS = done.reduce((s, r) => s + r.wallS, 0) / done.length;
  return { runs, recorded, ...(perPointS !== undefined ? { perPointS } : {}) };
}
