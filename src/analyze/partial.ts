// Partial dependence (Friedman 2001): what a fitted model says one parameter does, the others left
// as they were measured. For each value x of the parameter, every run's setting with that
// parameter set to x is predicted (the mean of a run, as predict gives it) and the predictions
// averaged: the model's answer over the runs' own mix of the other parameters, not at one
// arbitrary setting of them. Beside it the observed marginal means (the runs' mean per tested
// value), so a reader sees both what the model draws and what was measured.
import { linearPredictor, meanOfLinear } from '../config/saved-model.ts';
import { userName, type Row } from './dataset.ts';
import type { FitResult } from './fit.ts';

/** Values of a number's curve between its lowest and highest tested value (the tested ones are added). */
export const CURVE_STEPS = 24;

/** One parameter's partial dependence and the measured means beside it. */
export interface PartialDependence {
  /** The user's name (`resolution` for `resolution.pixels`). */
  param: string;
  /** The model's name of it (`resolution.pixels`): the unit of `x`. */
  modelParam: string;
  kind: 'numeric' | 'categorical';
  /** The values the curve is drawn at: a number's tested values and CURVE_STEPS between its ends, a category's levels. */
  x: (number | string)[];
  /** The model's mean prediction at each x, averaged over the runs. */
  value: number[];
  /** The tested values, and per value the runs' mean of the metric and their count. */
  observed: { x: number | string; mean: number; n: number }[];
  /**
   * The model's effect: a number's value at its highest tested value minus at its lowest (its sign is
   * the direction), a category's largest minus smallest; `pct` relative to `from`'s value.
   */
  change: { from: number | string; to: number | string; value: number; pct: number | null };
}

/** The model's prediction averaged over the runs with one parameter set to `v`. */
export function averagePrediction(f: FitResult, rows: readonly Row[], param: string, v: number | string): number {
  let s = 0;
  for (const r of rows) s += meanOfLinear(f.model, linearPredictor(f.model, { ...r.params, [param]: v }).lin);
  return s / rows.length;
}

/** The partial dependence of each parameter the model uses, over the runs it was fitted on (`rows`: the runs with a value of the metric). */
export function partialDependence(f: FitResult, rows: readonly Row[]): PartialDependence[] {
  const m = f.model;
  const used = rows.filter((r) => Number.isFinite(r.y));
  return m.params.map((p): PartialDependence => {
    const groups = new Map<string, { x: number | string; sum: number; n: number }>();
    for (const r of used) {
      const x = r.params[p.name]!;
      const g = groups.get(String(x)) ?? { x, sum: 0, n: 0 };
      g.sum += r.y;
      g.n++;
      groups.set(String(x), g);
    }
    const observed = [...groups.values()].map((g) => ({ x: g.x, mean: g.sum / g.n, n: g.n }));
    let x: (number | string)[];
    if (p.kind === 'numeric') {
      observed.sort((a, b) => (a.x as number) - (b.x as number));
      const [lo, hi] = m.ranges[p.name]!;
      const between = Array.from({ length: CURVE_STEPS + 1 }, (_, i) => lo + ((hi - lo) * i) / CURVE_STEPS);
      x = [...new Set([...between, ...observed.map((o) => o.x as number)])].sort((a, b) => a - b);
    } else {
      observed.sort((a, b) => String(a.x).localeCompare(String(b.x)));
      x = [...m.levels[p.name]!];
    }
    const value = x.map((v) => averagePrediction(f, used, p.name, v));
    let from: number;
    let to: number;
    if (p.kind === 'numeric') {
      from = x.indexOf(m.ranges[p.name]![0]);
      to = x.indexOf(m.ranges[p.name]![1]);
    } else {
      from = value.indexOf(Math.min(...value));
      to = value.indexOf(Math.max(...value));
    }
    const d = value[to]! - value[from]!;
    return { param: userName(p), modelParam: p.name, kind: p.kind, x, value, observed, change: { from: x[from]!, to: x[to]!, value: d, pct: value[from] !== 0 ? d / Math.abs(value[from]!) : null } };
  });
}
