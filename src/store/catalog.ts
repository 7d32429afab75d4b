/**
 * The catalogue of a result set: every parameter and metric its points hold, each with its
 * type, unit, definition, direction and role, from the workloads' declarations
 * (src/workloads/<type>/declare.ts), what the benchmark file declared (kept in each point's record), or
 * nothing: a metric no one declared has no unit and no direction, never a guessed one. Its JSON
 * (`results catalog --json`) is what the GUI and the models read; they never guess from a name.
 *
 * How a parameter becomes columns of the `points` table is decided here too (paramColumns), so
 * the catalogue names the columns the table has.
 */
import { findMetric, isPattern, type Better, type MetricDecl, type MetricKind, type MetricView, type ParamDecl, type ParamType, type Resolution, type TypedValue } from '../config/declare.ts';
import { RECORDING_METRICS, workloadDecl } from '../config/registry.ts';
import type { PointRecord } from './records.ts';

/** A parameter of a set. */
export interface CatalogParam {
  name: string;
  type: ParamType;
  /** Unit of its column's values (the typed values, in base units); null: none. */
  unit: string | null;
  doc: string;
  /** The role it configures (guest, host, client, all, local). */
  role: string;
  /** workload: its workload declares it; file: the benchmark file's `params:` section; inferred: from its values. */
  source: 'workload' | 'file' | 'inferred';
  /** The distinct typed values present, sorted (a frame size by its label); left out past MAX_VALUES. */
  values?: (string | number | boolean)[];
  /** Some runs have no typed value of it (written `none`, e.g. `net_rate: none`): a setting of its own, beside `values`. */
  none?: true;
  /** Numeric types: the smallest and largest value present. */
  range?: [number, number];
  /** enum: the values the workload allows. */
  allowed?: string[];
  /** The column of the text the user wrote, where it differs from the value (`bitrate.label`). */
  label?: string;
  /** Columns derived from it: a frame size's `resolution.width`, `.height`, `.pixels`. */
  columns?: string[];
}

/** A metric of a set. */
export interface CatalogMetric {
  name: string;
  unit: string | null;
  better: Better;
  role: string;
  kind: MetricKind;
  /** Where it is: a column of `points` (summary), of the `timeseries` or `frames` view, or a `name` in `samples`. */
  view: MetricView;
  doc: string;
  /** The declared pattern it falls under, when it is one of a family (`<role>.proc.<label>.cpu_pct`). */
  pattern?: string;
  /** The column of `points` it is in, where that differs from its name (a metric named like a parameter). */
  column?: string;
  /** workload, recording (the agents), file (the benchmark file), or undeclared (no unit, no direction). */
  source: 'workload' | 'recording' | 'file' | 'undeclared';
}

export interface Catalog {
  params: CatalogParam[];
  metrics: CatalogMetric[];
}

/** Distinct values listed per parameter at most; past it, the range says enough. */
const MAX_VALUES = 1000;

const NUMERIC: readonly ParamType[] = ['number', 'integer', 'duration', 'bitrate'];

/** The columns of the table's meta part: a parameter or metric of that name is renamed. */
export const META_COLUMNS = ['set', 'point_key', 'rep', 'status', 'error', 'started_at', 'wall_s'] as const;

function isResolution(v: TypedValue | undefined): v is Resolution {
  return typeof v === 'object' && v !== null;
}

/** A record's typed value of a parameter (the value as written when it has none: a parameter it never typed). */
function typedOf(r: PointRecord, name: string): TypedValue | undefined {
  return r.typed && name in r.typed ? r.typed[name] : r.params[name];
}

export type CellValue = string | number | boolean | null;

/** One column a parameter gives the table. */
export interface ParamColumn {
  name: string;
  /** value: the typed value; label: the text written; width, height, pixels: of a frame size. */
  part: 'value' | 'label' | 'width' | 'height' | 'pixels';
  values: CellValue[];
}

/** Types whose written text may differ from the value it stands for (`2M`, `30ms`, `none`): they keep it beside it. */
const LABELLED: readonly ParamType[] = ['bitrate', 'duration'];

/** Suffixes of the columns derived from a parameter's (`bitrate.label`, `resolution.width`, ...). */
export const DERIVED_SUFFIXES = ['.label', '.width', '.height', '.pixels'] as const;

/**
 * How a parameter's values become columns, by its type: its typed value (a number for numeric
 * types, so `order by bitrate` sorts by value); for a bitrate or a duration, whose text may
 * differ from its value, `<param>.label` with the text the user wrote; for a frame size, its
 * label in `<param>` with `<param>.width`, `.height` and `.pixels`. By type, not by the values
 * at hand, so that rows added later give the same columns.
 */
export function paramColumns(name: string, records: readonly PointRecord[]): ParamColumn[] {
  const { decl } = paramDeclOf(name, records);
  const typed = records.map((r) => typedOf(r, name));
  const labels = records.map((r) => (r.params[name] === undefined ? null : String(r.params[name])));
  if (decl.type === 'resolution') {
    const size = (f: (s: Resolution) => number) => typed.map((t) => (isResolution(t) ? f(t) : null));
    return [
      { name, part: 'value', values: labels },
      { name: `${name}.width`, part: 'width', values: size((s) => s.width) },
      { name: `${name}.height`, part: 'height', values: size((s) => s.height) },
      { name: `${name}.pixels`, part: 'pixels', values: size((s) => s.width * s.height) },
    ];
  }
  // A value its type refuses today (recorded under looser rules) stays as written: text in a numeric column makes it text.
  const cols: ParamColumn[] = [{ name, part: 'value', values: typed.map((t) => (t === undefined || isResolution(t) ? null : t)) }];
  if (LABELLED.includes(decl.type)) cols.push({ name: `${name}.label`, part: 'label', values: labels });
  return cols;
}

/** The declarations of the records' parameters (their workload's, their file's, or inferred): what `run --set` reads a value with. */
export function paramDecls(records: readonly PointRecord[]): ParamDecl[] {
  const names: string[] = [];
  for (const r of records) for (const p of Object.keys(r.params)) if (!names.includes(p)) names.push(p);
  return names.map((name) => paramDeclOf(name, records).decl);
}

/** The declaration of a parameter as the records have it: its workload's, the file's, or inferred from its typed values. */
function paramDeclOf(name: string, records: readonly PointRecord[]): { decl: ParamDecl; source: CatalogParam['source'] } {
  for (const r of records) {
    const own = workloadDecl(r.workload)?.params.find((p) => p.name === name);
    if (own && name in r.params) return { decl: own, source: 'workload' };
  }
  for (const r of records) {
    const d = r.declared?.params?.[name];
    if (d?.source === 'file') return { decl: d, source: 'file' };
  }
  // Inferred over the whole set: numbers in every point make a number, as a point's own inference does.
  const present = records.map((r) => typedOf(r, name)).filter((v): v is Exclude<TypedValue, null> => v !== undefined && v !== null);
  const type: ParamType = present.length > 0 && present.every((v) => typeof v === 'number') ? 'number' : present.length > 0 && present.every((v) => typeof v === 'boolean') ? 'boolean' : 'text';
  return { decl: { name, type, doc: '', role: 'all' }, source: 'inferred' };
}

function compare(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** Whether a parameter takes more than one setting in the set (`none` counts as one; too many values to list: it does). */
export function paramVaries(p: Pick<CatalogParam, 'values' | 'none'>): boolean {
  return p.values === undefined || p.values.length + (p.none ? 1 : 0) > 1;
}

/** The parameters of the records, in the order they were declared. */
function catalogParams(records: readonly PointRecord[]): CatalogParam[] {
  const names: string[] = [];
  for (const r of records) for (const p of Object.keys(r.params)) if (!names.includes(p)) names.push(p);
  return names.map((name) => {
    const { decl, source } = paramDeclOf(name, records);
    const cols = paramColumns(name, records);
    const main = cols[0]!.values.filter((v): v is string | number | boolean => v !== null);
    const distinct = [...new Set(main)].sort(compare);
    const out: CatalogParam = { name, type: decl.type, unit: decl.unit ?? null, doc: decl.doc, role: decl.role, source };
    if (distinct.length <= MAX_VALUES) out.values = distinct;
    // A run that has the parameter but no typed value of it (a run without it at all, from another workload, is not `none`).
    if (cols[0]!.values.some((v, i) => v === null && records[i]!.params[name] !== undefined)) out.none = true;
    if (NUMERIC.includes(decl.type) || (source === 'inferred' && decl.type === 'number')) {
      const nums = main.filter((v): v is number => typeof v === 'number');
      if (nums.length > 0) out.range = [Math.min(...nums), Math.max(...nums)];
    }
    if (decl.values) out.allowed = [...decl.values];
    const label = cols.find((c) => c.part === 'label');
    if (label) out.label = label.name;
    const derived = cols.filter((c) => c.part !== 'value' && c.part !== 'label');
    if (derived.length > 0) out.columns = derived.map((c) => c.name);
    return out;
  });
}

/** A metric entry from its declaration (or from nothing). */
function entry(name: string, d: MetricDecl | undefined, source: CatalogMetric['source'], kind: MetricKind, view: MetricView): CatalogMetric {
  if (!d) return { name, unit: null, better: 'none', role: 'all', kind, view, doc: '', source: 'undeclared' };
  // A family named by its role (`<role>.sys.cpu_pct`) belongs to the role its name starts with.
  const role = d.role === '<role>' && d.name.startsWith('<role>.') && d.name !== name ? name.slice(0, name.indexOf('.')) : d.role;
  return { name, unit: d.unit ?? null, better: d.better, role, kind: d.kind, view: d.view, doc: d.doc, ...(isPattern(d.name) && d.name !== name ? { pattern: d.name } : {}), source };
}

/** The declaration of a metric of a record: its workload's, the file's, then the agents'. */
function declOf(r: PointRecord, name: string, kind: MetricKind): { d: MetricDecl; source: CatalogMetric['source'] } | undefined {
  const own = workloadDecl(r.workload)?.metrics ?? [];
  const exact = (ds: readonly MetricDecl[]) => ds.find((d) => d.kind === kind && d.name === name);
  // An exact name anywhere wins over a pattern: a file's `app.*` must not take a built-in's name.
  const byName = exact(own) ?? exact(r.declared?.metrics ?? []) ?? exact(RECORDING_METRICS);
  if (byName) return { d: byName, source: own.includes(byName) ? 'workload' : RECORDING_METRICS.includes(byName) ? 'recording' : 'file' };
  // Patterns: the file's last, since `keyvalue` without a prefix declares `*`.
  for (const [ds, source] of [
    [own, 'workload'],
    [RECORDING_METRICS, 'recording'],
    [r.declared?.metrics ?? [], 'file'],
  ] as const) {
    const d = findMetric(ds, name, kind);
    if (d) return { d, source };
  }
  return undefined;
}

/** The summary metrics of the records (the columns of `points`), and the series and frame columns of the views their files feed. */
function catalogMetrics(records: readonly PointRecord[], paramNames: ReadonlySet<string>): CatalogMetric[] {
  const out = new Map<string, CatalogMetric>();
  for (const r of records) {
    for (const name of Object.keys(r.metrics)) {
      if (out.has(name)) continue;
      const found = declOf(r, name, 'summary');
      const e = entry(name, found?.d, found?.source ?? 'undeclared', 'summary', 'points');
      // The table keeps a metric named like a parameter or a meta column under `metric.<name>`.
      if (paramNames.has(name) || (META_COLUMNS as readonly string[]).includes(name)) e.column = `metric.${name}`;
      out.set(name, e);
    }
  }
  const summary = [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  // The views' columns are those their workloads declare: reading every point's Parquet schema would cost a read per point.
  const views: CatalogMetric[] = [];
  const seen = new Set<string>();
  const viewFile: Partial<Record<MetricView, string>> = { timeseries: 'timeseries.parquet', frames: 'frames.parquet', samples: 'samples.parquet' };
  // The files each workload's points have, gathered once: a set has few workloads and many points.
  const filesBy = new Map<string, Set<string>>();
  for (const r of records) {
    let files = filesBy.get(r.workload);
    if (!files) filesBy.set(r.workload, (files = new Set()));
    for (const f of r.files) files.add(f);
  }
  for (const [workload, files] of filesBy) {
    const own = (workloadDecl(workload)?.metrics ?? []).map((d) => ({ d, source: 'workload' as const }));
    for (const { d, source } of [...own, ...RECORDING_METRICS.map((d) => ({ d, source: 'recording' as const }))]) {
      const key = `${d.view}\u0000${d.name}`;
      if (d.kind === 'summary' || seen.has(key) || !files.has(viewFile[d.view] ?? '')) continue;
      seen.add(key);
      views.push(entry(d.name, d, source, d.kind, d.view));
    }
  }
  return [...summary, ...views];
}

/** The catalogue of a set from its records: every parameter and metric present, described. */
export function setCatalog(records: readonly PointRecord[]): Catalog {
  const params = catalogParams(records);
  return { params, metrics: catalogMetrics(records, new Set(params.flatMap((p) => [p.name, ...(p.label ? [p.label] : []), ...(p.columns ?? [])]))) };
}

/** Metric names of a record that no declaration covers (a workload that stores what it did not declare). */
export function undeclaredMetrics(r: PointRecord): string[] {
  return Object.keys(r.metrics).filter((m) => declOf(r, m, 'summary') === undefined);
}
