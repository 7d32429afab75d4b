/** Runs a benchmark point by point into a result set: hooks, retries, resume, abort. */
import type { ResolvedBenchmark } from '../config/resolved.ts';
import { BenchmarkRun, type EngineOptions } from './benchmark-run.ts';
import type { RunSummary } from './events.ts';

export type { EngineOptions } from './benchmark-run.ts';

/** Runs every planned point not yet recorded; returns what happened. Never prints. */
export async function runBenchmark(b: ResolvedBenchmark, opts: EngineOptions): Promise<RunSummary> {
  const run = new BenchmarkRun(b, opts);
  try {
    await run.prepare();
    // Nothing left to run: no machine check, no agents, no hooks.
    if (run.plan().length > 0) {
      await run.checkMachine();
      if (!(await run.startRecording()) || !(await run.setup())) return run.finish();
      await run.executeAll();
      await run.teardown();
    }
    return run.finish();
  } finally {
    await run.close();
  }
}
