/**
 * DuckDB over one or more result sets, for SQL and export: the table `points` (one row per point
 * and repetition) and one view per kind of Parquet file a point may hold, each row tagged with
 * its set, point_key and rep: `timeseries` (the workload's own series), `frames` (the stream
 * workload's per-frame records), `samples` (the agents' samples: t, role, probe, name, value),
 * `events` (frame events sent to the agents). A view whose files no point has is empty. The list
 * is documented in `results --help` and the README: change them together.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { errorMessage, StoreError } from '../base/errors.ts';
import { environmentError } from '../base/fs-atomic.ts';
import { pointDirName } from './records.ts';
import type { ResultSet } from './resultset.ts';
import { pointsTable, type Column } from './table.ts';

/** A DuckDB identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A DuckDB string literal. */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export interface SetDatabase {
  conn: DuckDBConnection;
  columns: Column[];
  close(): void;
}

/** Loads the sets' points into an in-memory DuckDB; time series stay in their Parquet files. */
export async function openSetDatabase(sets: readonly ResultSet[]): Promise<SetDatabase> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const rows = sets.flatMap((s) => s.points().map((record) => ({ set: s.name, record, dir: s.pointDir(record.key, record.rep) })));
  const columns = pointsTable(rows);
  await conn.run(`CREATE TABLE points (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
  const app = await conn.createAppender('points');
  for (let i = 0; i < rows.length; i++) {
    for (const c of columns) {
      const v = c.values[i];
      if (v === null || v === undefined) app.appendNull();
      else if (c.type === 'BIGINT') app.appendBigInt(BigInt(v as number));
      else if (c.type === 'DOUBLE') app.appendDouble(v as number);
      else if (c.type === 'BOOLEAN') app.appendBoolean(v as boolean);
      else app.appendVarchar(String(v));
    }
    app.endRow();
  }
  app.closeSync();

  // Per-point Parquet files become one view each over the whole set, tagged with their point.
  for (const [view, file] of [['timeseries', 'timeseries.parquet'], ['frames', 'frames.parquet'], ['samples', 'samples.parquet'], ['events', 'events.parquet']] as const) {
    const present = rows.map((r) => ({ ...r, file: join(r.dir, file) })).filter((r) => existsSync(r.file));
    if (present.length > 0) {
      const parts = present.map(
        (r) => `SELECT ${quoteString(r.set)} AS "set", ${quoteString(r.record.key)} AS point_key, ${r.record.rep} AS rep, * FROM read_parquet(${quoteString(r.file)})`,
      );
      try {
        // DuckDB reads each file's schema here, so a damaged or unreadable file of one point shows now.
        await conn.run(`CREATE VIEW ${view} AS ${parts.join(' UNION ALL BY NAME ')}`);
      } catch (e) {
        conn.closeSync();
        instance.closeSync();
        throw environmentError(e, 'cannot read') ?? new StoreError(`cannot read the ${file} files: ${errorMessage(e).split('\n')[0]}; move the damaged point's directory out of the result set to read the rest`);
      }
    } else {
      await conn.run(`CREATE VIEW ${view} AS SELECT NULL::VARCHAR AS "set", NULL::VARCHAR AS point_key, NULL::INTEGER AS rep, NULL::DOUBLE AS t WHERE false`);
    }
  }
  return {
    conn,
    columns,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Path of a point's file inside a set. */
export function pointFile(set: ResultSet, key: string, rep: number, name: string): string {
  return join(set.dir, 'points', pointDirName(key, rep), name);
}
