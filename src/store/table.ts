/** A result set as one flat table: one row per point and repetition, one column per parameter and metric. */
import type { PointRecord } from './records.ts';

export type ColumnType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';
export interface Column {
  name: string;
  kind: 'meta' | 'param' | 'metric';
  type: ColumnType;
  /** Values in row order; null where a row has none. */
  values: (string | number | boolean | null)[];
}

const META = ['set', 'point_key', 'rep', 'status', 'error', 'started_at', 'wall_s'] as const;

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
  for (const p of params) {
    const values = rows.map(({ record }) => record.params[p] ?? null);
    cols.push({ name: p, kind: 'param', type: typeOf(values), values });
  }
  for (const m of [...metrics].sort()) {
    const values = rows.map(({ record }) => record.metrics[m] ?? null);
    // A metric that shares a parameter's or a meta column's name keeps both, the metric prefixed.
    cols.push({ name: taken.has(m) ? `metric.${m}` : m, kind: 'metric', type: typeOf(values), values });
  }
  return cols;
}
