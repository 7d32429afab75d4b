// From a result set on disk to the models' inputs: the catalogue says what each parameter and
// metric is (never a guess from a column name), the typed `points` table (DuckDB) gives the values.
import { InputError, StoreError } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { SettingError, typeValue, type ParamDecl, type TypedValue } from '../config/declare.ts';
import { paramDecls, setCatalog, type Catalog, type CatalogMetric, type CatalogParam } from '../store/catalog.ts';
import { openSetDatabase, quoteIdent } from '../store/database.ts';
import { hasCondition } from '../store/conditions.ts';
import type { ResultSet } from '../store/resultset.ts';
import type { CompareSet } from './compare.ts';
import type { Dataset, ParamInfo, ParamRole, Row } from './dataset.ts';

/** Types whose typed value is a number the models can use as one. */
const NUMERIC_TYPES = new Set(['number', 'integer', 'duration', 'bitrate']);

/** One run as read from the points table: its key, repetition, the parameter columns and the wanted metric columns. */
interface TableRow {
  key: string;
  rep: number;
  cells: Record<string, string | number | boolean | null>;
}

/** A result set opened for the models: its catalogue and its ok runs, parameters typed. */
export interface ModelSource {
  set: ResultSet;
  catalog: Catalog;
  /** The parameters' declarations (range, sizes, allowed values): what a setting is read with (settingDecls). */
  decls: ParamDecl[];
  /** Summary metrics of the catalogue with numeric values (what a model or a comparison can take). */
  metrics: CatalogMetric[];
  /** Runs that failed or were interrupted: never read as results. */
  notOk: number;
  rows: TableRow[];
  /** Ok runs left out because a condition makes their figures untrue (saturated machines), unless asked to keep them. */
  leftOut: { saturated: number };
  /** Ok runs recorded before conditions were checked: kept, but nobody knows whether they were saturated. */
  notChecked: number;
  /** Whether flagged runs were kept on request (--include-flagged). */
  includeFlagged: boolean;
}

/** What a model said about the runs it used: for every --json answer and the GUI. */
export function runsNote(src: Pick<ModelSource, 'leftOut' | 'notChecked' | 'includeFlagged'>): { leftOut: { saturated: number }; notChecked: number; includeFlagged: boolean; text: string | null } {
  const parts: string[] = [];
  if (src.leftOut.saturated > 0) parts.push(`left out ${src.leftOut.saturated} saturated run(s) (a machine busy on at least 90 % of its cores: their CPU figures measure contention); --include-flagged keeps them`);
  if (src.includeFlagged) parts.push('flagged runs kept (--include-flagged)');
  if (src.notChecked > 0) parts.push(`${src.notChecked} run(s) recorded before conditions were checked: whether they were saturated is not known`);
  return { leftOut: src.leftOut, notChecked: src.notChecked, includeFlagged: src.includeFlagged, text: parts.length > 0 ? parts.join('; ') : null };
}

/**
 * How a frame size (any parameter of type resolution, whatever its name) enters a dataset: its
 * pixel count (a number, for formulas), its label (a category, for shares of variance), or its
 * label for the ones named (`{label: ['size']}`: a fit split by that frame size) and its pixel
 * count for the others.
 */
export type ResolutionAs = 'pixels' | 'label' | { label: readonly string[] };

/** Units that make a number a frame rate. */
const FRAME_RATE_UNITS = new Set(['fps', 'frames/s', 'frame/s']);

/** Whether a declared unit is a frame rate's (fps). */
export function isFrameRateUnit(unit: string | null | undefined): boolean {
  return unit !== null && unit !== undefined && FRAME_RATE_UNITS.has(unit.trim().toLowerCase());
}

/** Opens a set's catalogue and reads every ok run's parameters and the named metrics (all numeric summary metrics when none are named) from the points table. */
export async function openModelSource(set: ResultSet, wanted?: readonly string[], opts: { includeFlagged?: boolean } = {}): Promise<ModelSource> {
  const view = set.index();
  let catalog: Catalog;
  let decls: ParamDecl[];
  const saturated = new Set<string>();
  const unchecked = new Set<string>();
  try {
    const records = view.records();
    catalog = setCatalog(records);
    decls = paramDecls(records);
    for (const r of records) {
      if (r.outcome.status !== 'ok') continue;
      if (hasCondition(r, 'saturated')) saturated.add(`${r.key}\u0000${r.rep}`);
      if (r.conditions === undefined) unchecked.add(`${r.key}\u0000${r.rep}`);
    }
  } finally {
    view.close();
  }
  const includeFlagged = opts.includeFlagged ?? false;
  const leftOut = { saturated: 0 };
  let notChecked = 0;
  const db = await openSetDatabase([set], { views: [] });
  try {
    const types = new Map(db.columns.map((c) => [c.name, c.type]));
    const column = (m: CatalogMetric) => m.column ?? m.name;
    const metrics = catalog.metrics.filter((m) => m.kind === 'summary' && m.view === 'points' && ['DOUBLE', 'BIGINT'].includes(types.get(column(m)) ?? ''));
    const names = wanted ?? metrics.map((m) => m.name);
    for (const n of names) metricOf({ set, metrics }, n);
    const paramCols = catalog.params.flatMap((p) => [p.name, ...(p.columns ?? [])]);
    const metricCols = names.map((n) => column(metrics.find((m) => m.name === n)!));
    const cols = [...new Set([...paramCols, ...metricCols])];
    const select = ['point_key', 'rep', 'status', ...cols].map(quoteIdent).join(', ');
    // Through the database's lane (src/store/duck.ts), as every read that may serve the GUI's server.
    const reader = await db.duck.read(`SELECT ${select} FROM points ORDER BY point_key, rep`);
    let notOk = 0;
    const rows: TableRow[] = [];
    for (const r of reader.getRowsJS()) {
      const [key, rep, status, ...rest] = r;
      if (status !== 'ok') {
        notOk++;
        continue;
      }
      const id = `${key as string}\u0000${Number(rep)}`;
      if (saturated.has(id) && !includeFlagged) {
        leftOut.saturated++;
        continue;
      }
      if (unchecked.has(id)) notChecked++;
      const cells: TableRow['cells'] = {};
      cols.forEach((c, i) => {
        const v = rest[i];
        cells[c] = typeof v === 'bigint' ? Number(v) : (v as string | number | boolean | null);
      });
      rows.push({ key: key as string, rep: Number(rep), cells });
    }
    return { set, catalog, decls, metrics, notOk, rows, leftOut, notChecked, includeFlagged };
  } finally {
    db.close();
  }
}

/** The catalogue entry of a summary metric; an unknown name gets the closest ones. */
export function metricOf(src: Pick<ModelSource, 'set' | 'metrics'>, name: string): CatalogMetric {
  const m = src.metrics.find((x) => x.name === name);
  if (m) return m;
  throw InputError.single(
    `--metric ${name}`,
    `${src.set.dir} has no numeric summary metric "${name}"`,
    suggestHint(
      name,
      src.metrics.map((x) => x.name),
    ),
  );
}

/** The parameters of a set as the models see them, and how each run's cells become their values. */
interface ModelParam {
  info: ParamInfo;
  value: (cells: TableRow['cells']) => number | string;
}

function modelParams(catalog: Catalog, rows: readonly TableRow[], resolution: ResolutionAs): ModelParam[] {
  const asLabel = (name: string) => resolution === 'label' || (typeof resolution === 'object' && resolution.label.includes(name));
  return catalog.params.flatMap((p): ModelParam[] => {
    if (p.type === 'resolution') {
      // By its type, whatever its name: a frame size is its pixel count (`<name>.pixels`, the
      // points table's column), read back as `<name>` by userName. A run without a frame size (a
      // value recorded under looser rules) has no pixel count: its label stands as a category.
      const pixels = `${p.name}.pixels`;
      const sized = rows.every((r) => typeof r.cells[pixels] === 'number');
      if (!asLabel(p.name) && sized) {
        return [{ info: { name: pixels, kind: 'numeric' as const, unit: 'px', of: p.name, role: 'pixels' as const }, value: (c: TableRow['cells']) => c[pixels] as number }];
      }
      return [{ info: { name: p.name, kind: 'categorical' as const }, value: (c: TableRow['cells']) => String(c[p.name] ?? 'none') }];
    }
    const numeric = (NUMERIC_TYPES.has(p.type) || p.source === 'inferred') && rows.every((r) => typeof r.cells[p.name] === 'number');
    if (numeric) {
      // The part it can play in the physics forms, from its declaration: a bitrate by its type, a frame rate by its unit.
      const role: ParamRole | undefined = p.type === 'bitrate' ? 'bitrate' : isFrameRateUnit(p.unit) ? 'fps' : undefined;
      return [{ info: { name: p.name, kind: 'numeric' as const, ...(p.unit ? { unit: p.unit } : {}), ...(role ? { role } : {}) }, value: (c: TableRow['cells']) => c[p.name] as number }];
    }
    // A number type with `none` in some runs (net_rate: none) is a category of its labels.
    return [{ info: { name: p.name, kind: 'categorical' as const }, value: (c: TableRow['cells']) => categoryOf(p, c) }];
  });
}

function categoryOf(p: CatalogParam, cells: TableRow['cells']): string {
  const v = cells[p.label ?? p.name] ?? cells[p.name];
  return v === null || v === undefined ? 'none' : String(v);
}

/** One metric of the set as a Dataset of the analyze core (ok runs only; a run without the metric is left out by the core, which says so). */
export function datasetOf(src: ModelSource, metric: string, resolution: ResolutionAs = 'pixels'): Dataset {
  const m = metricOf(src, metric);
  const col = m.column ?? m.name;
  const ps = modelParams(src.catalog, src.rows, resolution);
  const rows: Row[] = src.rows.map((r) => {
    const v = r.cells[col];
    return { key: r.key, rep: r.rep, params: Object.fromEntries(ps.map((p) => [p.info.name, p.value(r.cells)])), y: typeof v === 'number' ? v : NaN };
  });
  if (rows.length === 0)
    throw new StoreError(`${src.set.dir} has no ok run${src.notOk > 0 ? ` (${src.notOk} failed or interrupted)` : ''}${src.leftOut.saturated > 0 ? ` that was not saturated (${src.leftOut.saturated} left out: --include-flagged keeps them)` : ''}: nothing to model`);
  return { params: ps.map((p) => p.info), rows, metric, source: src.set.dir };
}

/** The set as compare reads it: runs matched by parameter values (typed: `2M` and `2000000` are one value), every numeric summary metric. */
export function compareSetOf(src: ModelSource): CompareSet {
  const ps = modelParams(src.catalog, src.rows, 'label');
  return {
    params: ps.map((p) => p.info),
    source: src.set.dir,
    rows: src.rows.map((r) => ({
      key: r.key,
      rep: r.rep,
      params: Object.fromEntries(ps.map((p) => [p.info.name, p.value(r.cells)])),
      metrics: Object.fromEntries(src.metrics.flatMap((m) => (typeof r.cells[m.column ?? m.name] === 'number' ? [[m.name, r.cells[m.column ?? m.name] as number]] : []))),
    })),
  };
}

/** What `--set` needs to read a value the way the set's declarations do: name, type, allowed values. */
export interface SettingDecl {
  name: string;
  type: CatalogParam['type'];
  unit: string | null;
  allowed?: string[];
  /** Values measured (labels), for messages. */
  values?: (string | number | boolean)[];
  /** Its declaration, when known: a value is read with it whole (its range, frame sizes, `none`), as `run --set` reads it. */
  decl?: ParamDecl;
}

/** The declarations `--set` is read with, from the catalogue; with `decls` (ModelSource.decls), each with its whole declaration. */
export function settingDecls(catalog: Catalog, decls?: readonly ParamDecl[]): SettingDecl[] {
  return catalog.params.map((p) => {
    const decl = decls?.find((d) => d.name === p.name);
    return { name: p.name, type: p.type, unit: p.unit, ...(p.allowed ? { allowed: p.allowed } : {}), ...(p.values ? { values: p.values } : {}), ...(decl && decl.type === p.type ? { decl } : {}) };
  });
}

/**
 * A setting from `--set name=value` pairs (values read as `run --set` reads them: `8M`, `1920x1080`),
 * as the model's parameters: a frame size becomes its pixel count (and width, height), a number its
 * base units, anything else its text.
 */
export function settingOf(decls: readonly SettingDecl[], sets: readonly { key: string; value: unknown }[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const { key, value } of sets) {
    const d = decls.find((x) => x.name === key);
    if (!d)
      throw InputError.single(
        `--set ${key}=${String(value)}`,
        `no parameter "${key}" in the model's set`,
        suggestHint(
          key,
          decls.map((x) => x.name),
        ),
      );
    const decl: ParamDecl = d.decl ?? { name: d.name, type: d.type, doc: '', role: 'all', ...(d.unit ? { unit: d.unit } : {}), ...(d.allowed ? { values: d.allowed } : {}) };
    let typed: TypedValue;
    try {
      typed = typeValue(decl, value);
    } catch (e) {
      if (e instanceof SettingError) throw InputError.single(`--set ${key}=${String(value)}`, e.message);
      throw e;
    }
    if (typed !== null && typeof typed === 'object') {
      // Any frame size, whatever its name: its label, and its pixel count, width and height as the dataset has them.
      out[d.name] = `${typed.width}x${typed.height}`;
      out[`${d.name}.width`] = typed.width;
      out[`${d.name}.height`] = typed.height;
      out[`${d.name}.pixels`] = typed.width * typed.height;
    } else if (typed === null) out[d.name] = 'none';
    else out[d.name] = typeof typed === 'boolean' ? String(typed) : typed;
  }
  return out;
}
