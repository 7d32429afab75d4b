/** A result set as one flat table: one row per point and repetition, one column per parameter and metric. */
import { DERIVED_SUFFIXES, paramColumns } from './catalog.ts';
import { runFlags } from './conditions.ts';
import type { PointRecord } from './records.ts';

export type ColumnType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';
export interface ColumnInfo {
  name: string;
  kind: 'meta' | 'param' | 'metric';
  type: ColumnType;
}
export interface Column extends ColumnInfo {
  /** Values in row order; null where a row has none. */
  values: (string | number | boolean | null)[];
}

const META = ['set', 'point_key', 'rep', 'status', 'error', 'started_at', 'wall_s', 'flags', 'conditions'] as const;

function typeOf(values: readonly (string | number | boolean | null)[]): ColumnType {
  const present = values.filter((v) => v !== null);
  // Integers stay integers (a CRF of 23 exports as 23, not 23.0); any fraction makes the column DOUBLE.
  if (present.length > 0 && present.every((v) => typeof v === 'number')) return present.every((v) => Number.isSafeInteger(v)) ? 'BIGINT' : 'DOUBLE';
  if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return 'BOOLEAN';
  return 'VARCHAR';
}

/** Columns of the flat table; parameters keep the order they were declared in. */
export function pointsTable(rows: readonly { set: string; record: PointRecord }[]): Column[] {
  const params: string[] = [];
  const metrics = new Set<string>();
  for (const { record } of rows) {
    for (const p of Object.keys(record.params)) if (!params.includes(p)) params.push(p);
    for (const m of Object.keys(record.metrics)) metrics.add(m);
  }
  const taken = new Set<string>([...META, ...params]);
  const cols: Column[] = [];
  const meta = (name: string, f: (r: PointRecord, set: string) => string | number | null) => {
    const values = rows.map(({ record, set }) => f(record, set));
    cols.push({ name, kind: 'meta', type: name === 'rep' ? 'BIGINT' : name === 'wall_s' ? 'DOUBLE' : 'VARCHAR', values });
  };
  meta('set', (_, s) => s);
  meta('point_key', (r) => r.key);
  meta('rep', (r) => r.rep);
  meta('status', (r) => r.outcome.status);
  meta('error', (r) => (r.outcome.status === 'failed' ? r.outcome.error : r.outcome.status === 'interrupted' ? r.outcome.reason : null));
  meta('started_at', (r) => r.startedAt);
  meta('wall_s', (r) => r.wallS);
  // Whether each figure can be trusted travels with it, into every export and query: the run's
  // flags ('; '-joined, null when none) and the codes of the conditions it found ('' when none,
  // 'not checked' for a record written before conditions were checked).
  meta('flags', (r) => runFlags(r).join('; ') || null);
  meta('conditions', (r) => (r.conditions ? r.conditions.found.map((c) => c.code).join(',') : 'not checked'));
  const records = rows.map((r) => r.record);
  for (const p of params) {
    // Its typed value, and the columns derived from it (catalog.ts decides, so the catalogue names them); a derived name that another parameter has is left out.
    for (const c of paramColumns(p, records)) {
      if (c.part !== 'value' && taken.has(c.name)) continue;
      taken.add(c.name);
      cols.push({ name: c.name, kind: 'param', type: typeOf(c.values), values: c.values });
    }
  }
  for (const m of [...metrics].sort()) {
    const values = rows.map(({ record }) => record.metrics[m] ?? null);
    // A metric that shares a parameter's or a meta column's name keeps both, the metric prefixed.
    cols.push({ name: taken.has(m) ? `metric.${m}` : m, kind: 'metric', type: typeOf(values), values });
  }
  return cols;
}

/** A column of a table already built, and whether it holds any value (an empty one takes its type from the first values added). */
export interface BuiltColumn extends ColumnInfo {
  filled: boolean;
}

/**
 * The columns of rows added to a table that pointsTable built (`built`: its columns, in order),
 * when pointsTable over the old and the new rows together would give the very same columns:
 * names, order and types. Undefined when it would not (a new parameter or metric, parameters in
 * another order, a column whose type would change): the table is then built again, whole. The
 * new rows must be new points, not replacements of rows already in the table.
 */
export function extendTable(built: readonly BuiltColumn[], rows: readonly { set: string; record: PointRecord }[]): Column[] | undefined {
  const columns = built.filter((c) => c.kind === 'param').map((c) => c.name);
  // The columns derived from a parameter (`bitrate.label`, `resolution.width`) follow it; they are no parameter of the rows.
  const params = columns.filter((n) => !DERIVED_SUFFIXES.some((s) => n.endsWith(s) && columns.includes(n.slice(0, -s.length))));
  // Same parameters in the same order in every new row: the first-seen order of all rows stays the table's.
  for (const { record } of rows) {
    const keys = Object.keys(record.params);
    if (keys.length !== params.length || keys.some((k, i) => k !== params[i])) return undefined;
  }
  const added = new Map(pointsTable(rows).map((c) => [c.name, c]));
  for (const c of added.values()) {
    const b = built.find((x) => x.name === c.name);
    if (!b || b.kind !== c.kind) return undefined;
    if (c.kind === 'meta' || c.values.every((v) => v === null)) continue;
    // What typeOf would say over both: a column with text stays text, whole numbers fit a DOUBLE column.
    const same = b.filled && (b.type === c.type || b.type === 'VARCHAR' || (b.type === 'DOUBLE' && c.type === 'BIGINT'));
    if (!same) return undefined;
  }
  return built.map(({ name, kind, type }) => ({ name, kind, type, values: added.get(name)?.values ?? rows.map(() => null) }));
}
