/**
 * The result sets the GUI server has open, shared by all routes: one in-memory DuckDB with the
 * table `points` (from each set's index, see src/store/database.ts) and `point_flags`, and the
 * sets' joint catalogue. Followed while a run adds points: at most once a second a request looks
 * at the sets' indexes, and when one changed the database is loaded again.
 */
import type { DuckDBConnection, DuckDBResultReader } from '@duckdb/node-api';
import { StoreError } from '../base/errors.ts';
import { setCatalog, type Catalog, type CatalogParam } from '../store/catalog.ts';
import { openSetDatabase, quoteIdent, type SetDatabase, type ViewName } from '../store/database.ts';
import { conditionsSummary, runFlags } from '../store/conditions.ts';
import { DuckDatabase } from '../store/duck.ts';
import type { PointRecord } from '../store/records.ts';
import type { ResultSet } from '../store/resultset.ts';
import type { ApiSetInfo, Columns } from './api-types.ts';

/** How often a request may look for new points, in ms: often enough to follow a run, cheap at 100,000 points. */
const CHECK_EVERY_MS = 1000;

/** How long one read of the GUI's may take, in ms, unless the server is told otherwise: past it the read is stopped and the answer says which file took too long. */
export const READ_TIMEOUT_MS = 60_000;

/** Connections reading runs' own files (the run and frame views): one read that hangs leaves the others going. */
const RUN_FILE_CONNECTIONS = 3;

/** A value DuckDB returns, made JSON-friendly (BIGINT as number, dates as text). */
function plain(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- DuckDB's dates, times and decimals have their own toString
  return String(v);
}

/** One loaded state of the sets. */
interface Loaded {
  db: SetDatabase;
  catalog: Catalog;
  records: { set: string; record: PointRecord }[];
  infos: ApiSetInfo[];
  /** The index states it was loaded from. */
  keys: string;
  /** Counts loads, so that clients see that the data changed. */
  version: number;
  /** A database with the `frames` view too, opened when a route first needs it. */
  frames?: Promise<SetDatabase>;
}

/** The open result sets; `get()` answers what is current. */
export class LoadedSets {
  private loaded: Promise<Loaded> | undefined;
  private checkedAt = 0;
  private version = 0;
  /** The runs' own files are read on a database of their own (src/server/routes/run.ts). */
  private files: Promise<DuckDatabase> | undefined;
  private closed = false;
  /** How long one read may take, in ms. */
  readonly readTimeoutMs: number;

  constructor(
    readonly sets: readonly ResultSet[],
    opts: { readTimeoutMs?: number } = {},
  ) {
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS;
    if (sets.length === 0) throw new StoreError('no result set to show: give at least one');
    const names = sets.map((s) => s.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined)
      throw new StoreError(
        `two result sets are named '${twice}' (${sets
          .filter((s) => s.name === twice)
          .map((s) => s.dir)
          .join(', ')}): the set is a parameter of the plots, its names must differ`,
      );
  }

  /** The sets' index states: changes when a point is committed. */
  private indexKeys(): string {
    return this.sets
      .map((s) => {
        const v = s.index();
        try {
          return `${v.key ?? 'none'}:${v.logBytes}`;
        } finally {
          v.close();
        }
      })
      .join('|');
  }

  private async load(keys: string): Promise<Loaded> {
    const records = this.sets.flatMap((set) => {
      const v = set.index();
      try {
        return v.records().map((record) => ({ set: set.name, record }));
      } finally {
        v.close();
      }
    });
    const db = await openSetDatabase(this.sets, { views: [] });
    try {
      await db.duck.use((conn) => addFlags(conn, records));
    } catch (e) {
      db.close();
      throw e;
    }
    const infos = this.sets.map((s): ApiSetInfo => {
      const own = records.filter((r) => r.set === s.name).map((r) => r.record);
      const by = (st: string) => own.filter((r) => r.outcome.status === st).length;
      const c = conditionsSummary(own);
      return { name: s.name, dir: s.dir, runs: own.length, ok: by('ok'), failed: by('failed'), interrupted: by('interrupted'), flagged: own.filter((r) => runFlags(r).length > 0).length, notChecked: c.notChecked, conditions: c.byCode, conditionsLine: c.line };
    });
    const catalog = setCatalog(records.map((r) => r.record));
    if (this.sets.length > 1) {
      const setParam: CatalogParam = { name: 'set', type: 'enum', unit: null, doc: 'the result set (several are open: compare them)', role: 'all', source: 'inferred', values: this.sets.map((s) => s.name) };
      catalog.params.unshift(setParam);
    }
    return { db, catalog, records, infos, keys, version: ++this.version };
  }

  /** The current state, loaded again when a set gained points since. */
  async get(): Promise<Loaded> {
    if (this.closed) throw new StoreError('the GUI server is closing');
    const now = Date.now();
    if (this.loaded && now - this.checkedAt < CHECK_EVERY_MS) return this.loaded;
    this.checkedAt = now;
    const current = this.loaded;
    let keys: string;
    try {
      keys = this.indexKeys();
    } catch (e) {
      // A set found damaged (a point.json changed behind its index): its old figures are not served
      // meanwhile; every request looks again, and answers with the damage until it is dealt with.
      this.loaded = undefined;
      if (current) this.retire(current);
      throw e;
    }
    if (current) {
      const was = await current.catch(() => undefined);
      if (was && was.keys === keys) return current;
      if (was) this.retire(current);
    }
    this.loaded = this.load(keys);
    // A failed load is not kept: the next request tries again.
    this.loaded.catch(() => {
      this.loaded = undefined;
    });
    return this.loaded;
  }

  /** Retires a loaded state: queries in flight finish on its databases, which close after the last. */
  private retire(state: Promise<Loaded>): void {
    void state.then(
      (old) => {
        old.db.duck.retire();
        void old.frames?.then(
          (f) => f.duck.retire(),
          () => undefined,
        );
      },
      () => undefined,
    );
  }

  /** Runs one query on the points database (table points, point_flags) and returns its columns; bounded in time (readTimeoutMs). */
  async query(sql: string, opts: { views?: readonly ViewName[] } = {}): Promise<{ columns: Columns; names: string[] }> {
    const l = await this.get();
    const db = opts.views && opts.views.length > 0 ? await this.framesDb(l) : l.db;
    return db.duck.use((conn) => readColumns(conn, sql), { timeoutMs: this.readTimeoutMs });
  }

  /**
   * Reads files of a run (sql names them, `files` lists them): on a database of its own with a few
   * connections, each read bounded in time, so that a read that hangs holds up no other request.
   * A file that cannot be read gives a DuckFileError naming it (src/store/duck.ts).
   */
  async readFiles(sql: string, files: readonly string[]): Promise<DuckDBResultReader> {
    if (this.closed) throw new StoreError('the GUI server is closing');
    this.files ??= DuckDatabase.open("the runs' files", { connections: RUN_FILE_CONNECTIONS, timeoutMs: this.readTimeoutMs });
    this.files.catch(() => (this.files = undefined));
    return (await this.files).read(sql, { files });
  }

  private framesDb(l: Loaded): Promise<SetDatabase> {
    if (!l.frames) {
      l.frames = openSetDatabase(this.sets, { views: ['frames'] }).then(async (db) => {
        try {
          await db.duck.use((conn) => addFlags(conn, l.records));
          return db;
        } catch (e) {
          db.close();
          throw e;
        }
      });
      l.frames.catch(() => {
        delete l.frames;
      });
    }
    return l.frames;
  }

  /** Closes the databases without waiting for anything in flight: reads are stopped (src/store/duck.ts), a load under way closes when done. */
  async close(): Promise<void> {
    this.closed = true;
    const closeFrames = (l: Loaded) =>
      void l.frames?.then(
        (f) => f.close(),
        () => undefined,
      );
    void this.loaded?.then(
      (l) => {
        l.db.close();
        closeFrames(l);
      },
      () => undefined,
    );
    void this.files?.then(
      (f) => f.close(),
      () => undefined,
    );
  }
}

/** The table point_flags: the flags of each flagged run, its conditions' included (the points table has no column for them). */
async function addFlags(conn: DuckDBConnection, records: readonly { set: string; record: PointRecord }[]): Promise<void> {
  await conn.run('CREATE TABLE point_flags ("set" VARCHAR, point_key VARCHAR, rep BIGINT, flags VARCHAR)');
  const flagged = records.map((r) => ({ r, flags: runFlags(r.record) })).filter((x) => x.flags.length > 0);
  if (flagged.length === 0) return;
  const app = await conn.createAppender('point_flags');
  for (const { r, flags } of flagged) {
    app.appendVarchar(r.set);
    app.appendVarchar(r.record.key);
    app.appendBigInt(BigInt(r.record.rep));
    app.appendVarchar(flags.join('; '));
    app.endRow();
  }
  app.closeSync();
}

/** Runs sql and returns the result as columns. */
export async function readColumns(conn: DuckDBConnection, sql: string): Promise<{ columns: Columns; names: string[] }> {
  const reader = await conn.runAndReadAll(sql);
  const names = reader.columnNames();
  const rows = reader.getRows();
  const columns: Columns = {};
  names.forEach((n, i) => {
    columns[n] = rows.map((r) => plain(r[i]));
  });
  return { columns, names };
}

/** The column of `points` holding a parameter or metric, quoted for SQL. */
export function column(name: string): string {
  return quoteIdent(name);
}
