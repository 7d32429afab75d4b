// How far a what-if setting is from what was measured. A number beyond its tested range is an
// extrapolation (predict's `outside` says by how much); a setting whose values were each tested
// but never together (a combination a constrained matrix skipped) is one too, for the model then
// answers from other points' trends; a number between tested values with the rest a tested
// combination is an interpolation; a tested setting is measured. The nearest tested point says
// how much differs.
import { userName, type Row } from './dataset.ts';
import type { FitResult, Outside } from './fit.ts';

/** Where a setting stands against the points measured, the most distant first. */
export type CoverageKind = 'outside' | 'unseen-combination' | 'between' | 'measured';

/** A setting's distance from the points measured. */
export interface Coverage {
  kind: CoverageKind;
  /** The measured point closest to the setting (fewest parameters differing, then the smallest relative distance). */
  nearest: { key: string; params: Record<string, number | string>; differs: string[] };
}

const same = (a: number | string | undefined, b: number | string | undefined) => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) : String(a) === String(b));

/** Where `setting` (the model's names: `resolution.pixels`, `bitrate` in bits/s) stands against the runs the model `f` was fitted on. */
export function coverageOf(f: FitResult, rows: readonly Row[], setting: Record<string, number | string>, outside: readonly Outside[]): Coverage {
  const params = f.model.params;
  const points = new Map<string, Row>();
  for (const r of rows) if (Number.isFinite(r.y) && !points.has(r.key)) points.set(r.key, r);
  // A number's tested values: a value among them is "tested", one between them is interpolated along.
  const tested = new Map(params.map((p) => [p.name, [...new Set([...points.values()].map((r) => r.params[p.name]!))]]));
  const isTested = (name: string) => tested.get(name)!.some((v) => same(v, setting[name]));
  const span = (name: string) => {
    const r = f.model.ranges[name];
    return r && r[1] > r[0] ? r[1] - r[0] : 1;
  };
  let best: { row: Row; differs: string[]; distance: number } | undefined;
  for (const row of points.values()) {
    const differs = params.filter((p) => !same(row.params[p.name], setting[p.name]));
    const distance = differs.reduce((s, p) => s + (p.kind === 'numeric' ? Math.abs(Number(row.params[p.name]) - Number(setting[p.name])) / span(p.name) : 1), 0);
    if (!best || differs.length < best.differs.length || (differs.length === best.differs.length && distance < best.distance)) best = { row, differs: differs.map((p) => p.name), distance };
  }
  const row = best!.row;
  const differs = [...new Set(best!.differs.map((n) => userName(params.find((p) => p.name === n)!)))];
  const nearest = { key: row.key, params: Object.fromEntries(params.map((p) => [p.name, row.params[p.name]!])), differs };
  if (outside.length > 0) return { kind: 'outside', nearest };
  if (differs.length === 0) return { kind: 'measured', nearest };
  // The parameters at a tested value must have been measured together somewhere; the rest lie between tested values.
  const fixed = params.filter((p) => isTested(p.name));
  const together = [...points.values()].some((r) => fixed.every((p) => same(r.params[p.name], setting[p.name])));
  return { kind: together ? 'between' : 'unseen-combination', nearest };
}
