// The input contract of the models: one metric over runs, each run with its parameter values.
// The store's catalogue (typed parameters in base units) fills it; tests build it directly.
import { InputError } from '../base/errors.ts';

// A parameter as the models see it, and its user's name: declared in config, where a saved model is evaluated too.
export { userName, type ParamInfo, type ParamRole } from '../config/saved-model.ts';
import type { ParamInfo } from '../config/saved-model.ts';

/** One recorded run: its point key, repetition, parameter values and the metric's value. */
export interface Row {
  key: string;
  rep: number;
  params: Record<string, number | string>;
  y: number;
}

/** One metric over the runs of a result set. */
export interface Dataset {
  params: ParamInfo[];
  rows: Row[];
  /** The metric's name (e.g. `guest.cpu_pct`); `y` when absent. */
  metric?: string;
  /** Where the data came from, for messages (a result set path). */
  source?: string;
}

/** The runs of one point, in the order they came. */
export interface PointRuns {
  key: string;
  params: Record<string, number | string>;
  ys: number[];
}

/** Checks the contract (every run has every parameter, numbers are finite) and drops runs whose metric is missing. */
export function checkDataset(ds: Dataset): { rows: Row[]; dropped: number } {
  const source = ds.source ?? `metric ${ds.metric ?? 'y'}`;
  const names = new Set<string>();
  for (const p of ds.params) {
    if (names.has(p.name)) throw InputError.single(source, `parameter "${p.name}" is declared twice`);
    names.add(p.name);
  }
  const rows: Row[] = [];
  let dropped = 0;
  for (const r of ds.rows) {
    for (const p of ds.params) {
      const v = r.params[p.name];
      if (v === undefined) throw InputError.single(source, `run ${r.key}#${r.rep} has no value for parameter "${p.name}"`);
      if (p.kind === 'numeric' && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw InputError.single(source, `run ${r.key}#${r.rep}: numeric parameter "${p.name}" is ${JSON.stringify(v)}, not a finite number`);
      }
    }
    if (Number.isFinite(r.y)) rows.push(r);
    else dropped++;
  }
  return { rows, dropped };
}

/** Runs grouped by point key, in the order of first appearance. */
export function groupPoints(rows: readonly Row[]): PointRuns[] {
  const byKey = new Map<string, PointRuns>();
  for (const r of rows) {
    let p = byKey.get(r.key);
    if (!p) byKey.set(r.key, (p = { key: r.key, params: r.params, ys: [] }));
    p.ys.push(r.y);
  }
  return [...byKey.values()];
}

/** The distinct values of a categorical parameter, sorted, as strings. */
export function levelsOf(rows: readonly Row[], name: string): string[] {
  return [...new Set(rows.map((r) => String(r.params[name])))].sort();
}
