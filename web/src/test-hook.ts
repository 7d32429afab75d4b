/**
 * The test hook on `window.__sb`, in a module of its own: the shell sets it up before any view
 * (and ECharts, which only views load) is fetched, so that a failure while the first view loads
 * is recorded too.
 */
import type { ECharts } from 'echarts/core';

/** The test hook: charts by name, and counters and timings the views update. */
export interface TestHook {
  charts: Record<string, ECharts>;
  /** Incremented after each completed draw of a view. */
  draws: number;
  /** Milliseconds: `firstPlot` from navigation start to the first plot, `redraw` from the last control change to its plot. */
  timings: Record<string, number>;
  /** The last error a view showed, if any. */
  error?: string;
}

declare global {
  interface Window {
    __sb: TestHook;
  }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- declared for the tests that read it; absent until this line runs
window.__sb ??= { charts: {}, draws: 0, timings: {} };
