/**
 * DuckDB over one or more result sets, for SQL and export: the table `points` (one row per point
 * and repetition) and one view per kind of Parquet file a point may hold, each row tagged with
 * its set, point_key and rep: `timeseries` (the workload's own series), `frames` (the stream
 * workload's per-frame records), `samples` (the agents' samples: t, role, probe, name, value),
 * `events` (frame events sent to the agents). A view whose files no point has is empty. The list
 * is documented in `results --help` and docs/results.md: change them together.
 */
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { codeIdentity } from '../base/code-identity.ts';
import { EnvironmentError, errorMessage, StoreError } from '../base/errors.ts';
import { environmentError, removePartial, writeJsonAtomic } from '../base/fs-atomic.ts';
import { DuckDatabase, fileProblem } from './duck.ts';
import { INDEX_DIR, type IndexView } from './index-file.ts';
import { pointDirName, type PointRecord } from './records.ts';
import type { ResultSet } from './resultset.ts';
import { extendTable, pointsTable, type BuiltColumn, type Column, type ColumnInfo } from './table.ts';

/** A DuckDB identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A DuckDB string literal. */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export interface SetDatabase {
  /** The connection, for a single owner (a command): work shared by concurrent requests goes through `duck`. */
  conn: DuckDBConnection;
  /** The database: `duck.use` runs work on it alone, bounded in time when asked (the GUI's server). */
  duck: DuckDatabase;
  /** The columns of the table `points`, in order. */
  columns: ColumnInfo[];
  /** Why a set's index or table could not be saved (a read-only or full disk): read all the same, at the cost of reading every point again next time. */
  notes: string[];
  close(): void;
}

/** The views over the points' Parquet files, and the file each reads. */
export const VIEWS = { timeseries: 'timeseries.parquet', frames: 'frames.parquet', samples: 'samples.parquet', events: 'events.parquet' } as const;
export type ViewName = keyof typeof VIEWS;

/** The views an SQL text may read (a view's name as a word in it). */
export function viewsUsedBy(sql: string): ViewName[] {
  return (Object.keys(VIEWS) as ViewName[]).filter((v) => new RegExp(`\\b${v}\\b`, 'i').test(sql));
}

/** Creates the table `points` from the sets' records (columns from table.ts); returns its columns. */
export async function createPointsTable(conn: DuckDBConnection, rows: readonly { set: string; record: PointRecord }[]): Promise<Column[]> {
  const columns = pointsTable(rows);
  await conn.run(`CREATE TABLE points (${columnList(columns)})`);
  await appendRows(conn, 'points', columns, rows.length);
  return columns;
}

function columnList(columns: readonly ColumnInfo[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
}

/** Appends n rows, given as columns of the table's types, to a table with those columns. */
async function appendRows(conn: DuckDBConnection, table: string, columns: readonly Column[], n: number): Promise<void> {
  const app = await conn.createAppender(table);
  for (let i = 0; i < n; i++) {
    for (const c of columns) {
      const v = c.values[i];
      if (v === null || v === undefined) app.appendNull();
      else if (c.type === 'BIGINT') app.appendBigInt(BigInt(v));
      else if (c.type === 'DOUBLE') app.appendDouble(v as number);
      else if (c.type === 'BOOLEAN') app.appendBoolean(v as boolean);
      else app.appendVarchar(String(v));
    }
    app.endRow();
  }
  app.closeSync();
}

/**
 * Loads the sets' points into an in-memory DuckDB, from each set's index (see index-file.ts);
 * time series stay in their Parquet files. `views` limits the views created to those named
 * (each costs a read of every file it covers); all of them by default. `indexes`: views of the
 * sets' indexes the caller opened already (their records() answering every call), left open.
 */
export async function openSetDatabase(sets: readonly ResultSet[], opts: { views?: readonly ViewName[]; indexes?: readonly IndexView[] } = {}): Promise<SetDatabase> {
  // The caller's views of the indexes (one per set, in order, left open), when it has them: each opening checks every point.json again.
  const index = (i: number) => opts.indexes?.[i] ?? sets[i]!.index();
  const done = (v: IndexView) => {
    if (!opts.indexes) v.close();
  };
  const duck = await DuckDatabase.open(`the points of ${sets.map((s) => s.dir).join(', ')}`);
  try {
    return await duck.use(async (conn) => {
      const views = opts.views ?? (Object.keys(VIEWS) as ViewName[]);
      const notes: string[] = [];
      let columns: ColumnInfo[];
      let rows: { set: ResultSet; record: PointRecord }[] | undefined;
      if (sets.length === 1) {
        const cached = await cachedTable(conn, sets[0]!, index(0), views.length > 0, opts.indexes === undefined);
        columns = cached.columns;
        rows = cached.records?.map((record) => ({ set: sets[0]!, record }));
        if (cached.note) notes.push(cached.note);
      } else {
        rows = sets.flatMap((set, i) => {
          const view = index(i);
          try {
            if (view.note) notes.push(view.note);
            return view.records().map((record) => ({ set, record }));
          } finally {
            done(view);
          }
        });
        columns = info(
          await createPointsTable(
            conn,
            rows.map((r) => ({ set: r.set.name, record: r.record })),
          ),
        );
      }
      for (const view of Object.keys(VIEWS) as ViewName[]) {
        await createView(conn, view, views.includes(view) ? (rows ?? []) : []);
      }
      return { conn, duck, columns, notes, close: () => duck.close() };
    });
  } catch (e) {
    duck.close();
    throw e;
  }
}

/** A points table saved beside a set's index: the state of the index it was built from, its columns, its file. */
interface CachedTable {
  logBytes: number;
  columns: BuiltColumn[];
  parquet: string;
}

let identity: { value: string | undefined } | undefined;

/**
 * Names the code reading the sets (src/base/code-identity.ts): the hash of its sources, from
 * dist/'s build stamp when it runs compiled, else from the sources themselves. A table is saved
 * under it, because the table depends on more code than the index (how old records are
 * upgraded, how columns are built and typed): a table saved by another version, or before an
 * edit, is never taken for this one's. Undefined (no table saved or reused) when dist/ has no
 * stamp saying what it was built from.
 */
function codeId(): string | undefined {
  if (identity === undefined) {
    const self = fileURLToPath(import.meta.url);
    identity = { value: codeIdentity(dirname(dirname(self)), self.endsWith('.js')) };
  }
  return identity.value;
}

const tableBase = (set: ResultSet, generation: string, logBytes: number, code: string) => join(set.dir, INDEX_DIR, `table-${generation}-${logBytes}-${code}`);

/**
 * Where a file derived from the records of the index's present state may be kept, beside the
 * points table of that state (`table-...<suffix>`): under the same code identity, and removed with
 * the table's earlier states and generations. Undefined when nothing may be saved for that state
 * (an index that could not be saved, or no code identity).
 */
export function besideTable(set: ResultSet, view: IndexView, suffix: string): string | undefined {
  const code = codeId();
  return view.generation === undefined || code === undefined ? undefined : `${tableBase(set, view.generation, view.logBytes, code)}${suffix}`;
}

/** The table saved for generation at logBytes, or when there is none, the newest saved for an earlier state of it. */
function findCachedTable(set: ResultSet, generation: string, logBytes: number): { exact: boolean; table: CachedTable } | undefined {
  const code = codeId();
  if (code === undefined) return undefined;
  const re = new RegExp(`^table-${generation.replace(/\./g, '\\.')}-(\\d+)-${code}\\.parquet$`);
  let names: string[];
  try {
    names = readdirSync(join(set.dir, INDEX_DIR));
  } catch (e) {
    // Deleted by hand this instant: there is nothing cached.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw environmentError(e, 'cannot list', join(set.dir, INDEX_DIR)) ?? e;
  }
  let best: number | undefined;
  for (const n of names) {
    const m = re.exec(n);
    const at = m ? Number(m[1]) : undefined;
    if (at !== undefined && at <= logBytes && (best === undefined || at > best)) best = at;
  }
  if (best === undefined) return undefined;
  const base = tableBase(set, generation, best, code);
  let columns: unknown;
  try {
    columns = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
  } catch (e) {
    // Being written or replaced this instant, or damaged: it is only a copy, built again below.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw environmentError(e, 'cannot read', `${base}.json`) ?? e;
  }
  if (!Array.isArray(columns)) return undefined;
  return { exact: best === logBytes, table: { logBytes: best, columns: columns as BuiltColumn[], parquet: `${base}.parquet` } };
}

/**
 * Fills the table `points` from a saved table, plus `added` rows (in its layout) for the points
 * committed since it was saved. False when the saved file vanished meanwhile (a newer one replaced
 * it) or is damaged: the caller builds the table from the records instead.
 */
async function loadCachedTable(conn: DuckDBConnection, set: ResultSet, t: CachedTable, added?: Column[]): Promise<boolean> {
  // Not a regular file (a FIFO would block the read until something writes to it): built again instead.
  if (fileProblem(t.parquet)) return false;
  await conn.run(`CREATE TABLE points (${columnList(t.columns)})`);
  const select = t.columns.map((c) => (c.kind === 'meta' && c.name === 'set' ? `${quoteString(set.name)} AS "set"` : quoteIdent(c.name))).join(', ');
  let from = `read_parquet(${quoteString(t.parquet)})`;
  if (added && added[0]!.values.length > 0) {
    const rest = added.filter((c) => !(c.kind === 'meta' && c.name === 'set'));
    await conn.run(`CREATE TEMP TABLE points_added (${columnList(rest)})`);
    await appendRows(conn, 'points_added', rest, added[0]!.values.length);
    // In directory order, as a table built from all the records has its rows.
    from = `(SELECT * FROM ${from} UNION ALL BY NAME SELECT * FROM points_added) ORDER BY point_key || '-r' || rep`;
  }
  try {
    await conn.run(`INSERT INTO points SELECT ${select} FROM ${from}`);
    return true;
  } catch (e) {
    if (!environmentError(e) && !/IO Error|Invalid Input Error|Invalid Error/.test(errorMessage(e))) throw e;
    await conn.run('DROP TABLE points');
    return false;
  } finally {
    if (added) await conn.run('DROP TABLE IF EXISTS points_added');
  }
}

/**
 * The points table of one set: from the table saved beside its index for the index's present
 * state; or that of an earlier state plus the points committed since (a run going on), when that
 * gives the same table; else built from the index's records. What was built is saved for the next
 * reader. The records are returned when they were read, and always when `needRecords`. The view
 * is closed after unless `closeView` is false (the caller's own).
 */
async function cachedTable(conn: DuckDBConnection, set: ResultSet, view: IndexView, needRecords: boolean, closeView: boolean): Promise<{ columns: ColumnInfo[]; records?: PointRecord[]; note?: string }> {
  // A table of a few thousand rows loads and saves fastest on one thread: more only wait for each other (on a busy machine, many times over).
  await conn.run('SET threads = 1');
  try {
    const got = view.generation !== undefined ? findCachedTable(set, view.generation, view.logBytes) : undefined;
    if (got?.exact && (await loadCachedTable(conn, set, got.table))) {
      return { columns: info(got.table.columns), ...(needRecords ? { records: view.records() } : {}) };
    }
    if (got && !got.exact) {
      const since = view.since(got.table.logBytes);
      const added =
        since && !since.replaces
          ? extendTable(
              got.table.columns,
              since.records.map((record) => ({ set: set.name, record })),
            )
          : undefined;
      if (added && (await loadCachedTable(conn, set, got.table, added))) {
        const columns = got.table.columns.map((c, i) => ({ ...c, filled: c.filled || added[i]!.values.some((v) => v !== null) }));
        const note = await saveTable(conn, set, view, columns);
        return { columns: info(columns), ...(needRecords ? { records: view.records() } : {}), ...(note ? { note } : {}) };
      }
    }
    const records = view.records();
    const built = await createPointsTable(
      conn,
      records.map((record) => ({ set: set.name, record })),
    );
    const columns = built.map(({ name, kind, type, values }) => ({ name, kind, type, filled: values.some((v) => v !== null) }));
    const note = view.note ?? (await saveTable(conn, set, view, columns));
    return { columns: info(columns), records, ...(note ? { note } : {}) };
  } finally {
    if (closeView) view.close();
    await conn.run('RESET threads');
  }
}

const info = (columns: readonly ColumnInfo[]): ColumnInfo[] => columns.map(({ name, kind, type }) => ({ name, kind, type }));

/**
 * Saves the table `points` (all but the set's name, which readers supply) beside the index, for
 * the view's state, and removes those of earlier states; returns why it could not.
 */
async function saveTable(conn: DuckDBConnection, set: ResultSet, view: IndexView, columns: BuiltColumn[]): Promise<string | undefined> {
  const code = codeId();
  if (view.generation === undefined || code === undefined) return undefined;
  const base = tableBase(set, view.generation, view.logBytes, code);
  const tmp = join(dirname(base), `.${basename(base)}.${process.pid}.tmp`);
  try {
    // The columns first: the Parquet file, renamed last, is what makes the pair visible.
    writeJsonAtomic(`${base}.json`, columns);
    await conn.run(`COPY (SELECT * EXCLUDE ("set") FROM points) TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    renameSync(tmp, `${base}.parquet`);
    const prefix = `table-${view.generation}-`;
    for (const n of readdirSync(dirname(base))) {
      const at = n.startsWith(prefix) ? /^(\d+)-/.exec(n.slice(prefix.length))?.[1] : undefined;
      if (at !== undefined && Number(at) < view.logBytes) rmSync(join(dirname(base), n), { force: true });
    }
    return undefined;
  } catch (e) {
    removePartial(tmp, e);
    const env = environmentError(e, 'cannot save the points table in', dirname(base));
    if (!env) throw e;
    return env.message;
  }
}

/**
 * Creates one view over a kind of Parquet file of the points (tagged with set, point_key and
 * rep); empty when no point has such a file.
 */
async function createView(conn: DuckDBConnection, view: ViewName, rows: readonly { set: ResultSet; record: PointRecord }[]): Promise<void> {
  const file = VIEWS[view];
  const present = rows.filter((r) => r.record.files.includes(file));
  if (present.length === 0) {
    await conn.run(`CREATE VIEW ${view} AS SELECT NULL::VARCHAR AS "set", NULL::VARCHAR AS point_key, NULL::INTEGER AS rep, NULL::DOUBLE AS t WHERE false`);
    return;
  }
  // Each file checked before DuckDB opens it: a FIFO would block the read, a missing one gives DuckDB's 'No files found'.
  for (const r of present) {
    const p = fileProblem(join(r.set.pointDir(r.record.key, r.record.rep), file));
    if (!p) continue;
    if (p.problem === 'permission') throw new EnvironmentError('cannot read', p.file, 'EACCES');
    throw new StoreError(`${p.message}; move the point's directory out of the result set to read the rest`);
  }
  const parts = present.map((r) => `SELECT ${quoteString(r.set.name)} AS "set", ${quoteString(r.record.key)} AS point_key, ${r.record.rep} AS rep, * FROM read_parquet(${quoteString(join(r.set.pointDir(r.record.key, r.record.rep), file))})`);
  try {
    // DuckDB reads each file's schema here, so a damaged or unreadable file of one point shows now.
    await conn.run(`CREATE VIEW ${view} AS ${parts.join(' UNION ALL BY NAME ')}`);
  } catch (e) {
    throw environmentError(e, 'cannot read') ?? new StoreError(`cannot read the ${file} files: ${errorMessage(e).split('\n')[0]}; move the damaged point's directory out of the result set to read the rest`);
  }
}

/** Path of a point's file inside a set. */
export function pointFile(set: ResultSet, key: string, rep: number, name: string): string {
  return join(set.dir, 'points', pointDirName(key, rep), name);
}
