/** Writing numeric time series to Parquet through an embedded DuckDB. */
import { renameSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { environmentError, removePartial } from '../base/fs-atomic.ts';
import { quoteIdent, quoteString } from './database.ts';
import { DuckDatabase } from './duck.ts';

/** Columns of equal length; `t` (seconds) first by convention. Text columns (e.g. role) are string arrays. */
export type SeriesColumns = Record<string, ArrayLike<number> | readonly string[]>;

let shared: Promise<DuckDatabase> | undefined;

/**
 * One in-memory database per process (creating one per point would cost more than the write),
 * with one connection: writes of points recorded at once (`run --parallel`) take turns on it.
 */
function database(): Promise<DuckDatabase> {
  shared ??= DuckDatabase.open('the Parquet writer');
  shared.catch(() => (shared = undefined));
  return shared;
}

let seq = 0;

/** Writes the columns as one Parquet file, atomically (temporary name, then rename). */
export async function writeSeriesParquet(path: string, columns: SeriesColumns): Promise<void> {
  const names = Object.keys(columns);
  const n = names.length === 0 ? 0 : columns[names[0]!]!.length;
  for (const c of names) if (columns[c]!.length !== n) throw new Error(`series column ${c} has ${columns[c]!.length} values, expected ${n}`);
  const db = await database();
  // The whole write on the connection alone: its temporary table, appender and COPY.
  await db.use(async (conn) => {
    const table = `series_${process.pid}_${seq++}`;
    const text = names.map((c) => typeof columns[c]![0] === 'string');
    await conn.run(`CREATE TEMP TABLE ${table} (${names.map((c, i) => `${quoteIdent(c)} ${text[i] ? 'VARCHAR' : 'DOUBLE'}`).join(', ')})`);
    try {
      const app = await conn.createAppender(table, 'main', 'temp');
      for (let i = 0; i < n; i++) {
        names.forEach((c, j) => {
          const v = columns[c]![i]!;
          if (text[j]) app.appendVarchar(String(v));
          else if (Number.isFinite(v)) app.appendDouble(v as number);
          else app.appendNull();
        });
        app.endRow();
      }
      app.closeSync();
      const tmp = join(dirname(path), `.${basename(path)}.tmp`);
      try {
        await conn.run(`COPY ${table} TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
        renameSync(tmp, path);
      } catch (e) {
        // DuckDB leaves what it wrote before the disk filled up: that space is the user's to get back.
        removePartial(tmp, e);
        throw environmentError(e, 'cannot write', path) ?? e;
      }
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}
