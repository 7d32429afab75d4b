/**
 * The result sets the GUI server has open, shared by all routes: one in-memory DuckDB with the
 * table `points` (from each set's index, see src/store/database.ts) and `point_flags`, and the
 * sets' joint catalogue. Followed while a run adds points: no answer comes from a look at the sets'
 * indexes older than a second, and when one changed the database is loaded again. While pages ask,
 * the server looks ahead between requests (IndexView.unchanged, in short steps), so that a
 * control change rarely waits for a look (at 10,000 points, about 100 ms of stats and reading).
 */
import { readFileSync } from 'node:fs';
import type { DuckDBConnection, DuckDBResultReader } from '@duckdb/node-api';
import { environmentError, writeJsonAtomic } from '../base/fs-atomic.ts';
import { StoreError } from '../base/errors.ts';
import { setCatalog, type Catalog, type CatalogParam } from '../store/catalog.ts';
import { besideTable, openSetDatabase, quoteIdent, type SetDatabase, type ViewName } from '../store/database.ts';
import { conditionsSummary, runFlags } from '../store/conditions.ts';
import { DuckDatabase } from '../store/duck.ts';
import type { IndexView } from '../store/index-file.ts';
import type { PointRecord } from '../store/records.ts';
import type { ResultSet } from '../store/resultset.ts';
import type { ApiSetInfo, Columns } from './api-types.ts';

/** How old a look at the sets may be when a request is answered from it, in ms: fresh enough to follow a run, cheap at 100,000 points. */
const CHECK_EVERY_MS = 1000;

/** A look ahead starts once the last look is this old, in ms: it ends before the look is too old to answer from. */
const LOOK_AHEAD_AFTER_MS = CHECK_EVERY_MS / 2;

/**
 * How long after a request the server goes on looking ahead, in ms: while someone is at the
 * controls. A page left open polls every 3 s (web/src/views/matrix.ts): those requests look for
 * themselves, about 100 ms every 3 s at 10,000 points, and do not keep looks ahead going.
 */
const ACTIVE_MS = 10_000;

/**
 * No look ahead starts in the first moments of a burst of requests (the first after ACTIVE_MS of
 * quiet), in ms: that is a page opening, the machine's busiest moment (its bundle, its first plot),
 * and a look then (one stat per point.json) would take the CPU from it.
 */
const QUIET_AT_START_MS = 2000;

/**
 * Looks ahead take at most this share of the server's time: at 10,000 points a look holds it about
 * 80 ms in all, so they can come every half second (some 16 % of a core while someone is at the
 * controls); at 100,000 they are spaced out, and requests
 * look for themselves meanwhile, as without them.
 */
const LOOK_AHEAD_SHARE = 0.2;

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
  /** Every run's record, read from the index when first asked for. */
  readonly records: { set: string; record: PointRecord }[];
  infos: ApiSetInfo[];
  /** The flags of each flagged run (the table point_flags). */
  flags: FlagRow[];
  /** Closes the views of the indexes kept for `records`. */
  release(): void;
  /** The indexes' views it was loaded from, one per set: looks ahead ask them whether anything changed. */
  views: readonly IndexView[];
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
  /** The look ahead under way, if any. */
  private lookingAhead: Promise<void> | undefined;
  /** When the next look ahead may start (Date.now()), and its timer while pages ask. */
  private nextLookAhead = 0;
  private lookAheadTimer: NodeJS.Timeout | undefined;
  /** When the last request from someone at the controls came (not a page's polling). */
  private askedAt = 0;
  /** When the current burst of requests began (see QUIET_AT_START_MS). */
  private burstFrom = 0;
  /** What made the last look ahead fail, kept for tests and debugging: the next request looks for itself. */
  lookAheadError: unknown;
  /** Looks made so far: by a request before its answer (`own`), and ahead of requests (`ahead`). */
  readonly looks = { own: 0, ahead: 0 };
  /** How long one read may take, in ms. */
  readonly readTimeoutMs: number;
  /** Whether looks ahead are made (false: every request older than a second looks for itself, the reference of bench/gui-server-looks.ts). */
  private readonly looksAhead: boolean;

  constructor(
    readonly sets: readonly ResultSet[],
    opts: { readTimeoutMs?: number; lookAhead?: boolean } = {},
  ) {
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS;
    this.looksAhead = opts.lookAhead ?? true;
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

  /**
   * The sets' indexes, each checked against its points (one stat per point.json: the slow part of
   * a look at 10,000 points), and their states, which change when a point is committed. The load
   * that follows a change reads these same views: the check is not made again.
   */
  private openIndexes(): { views: IndexView[]; keys: string } {
    const views: IndexView[] = [];
    try {
      for (const s of this.sets) views.push(readOnce(s.index()));
    } catch (e) {
      for (const v of views) v.close();
      throw e;
    }
    return { views, keys: views.map((v) => `${v.key ?? 'none'}:${v.logBytes}`).join('|') };
  }

  private async load(opened: { views: IndexView[]; keys: string }): Promise<Loaded> {
    const { views, keys } = opened;
    let released = false;
    const release = () => {
      released = true;
      for (const v of views) v.close();
    };
    try {
      // The server's other requests (the page's own files) are answered between the steps of a load: each step runs without a break.
      await breather();
      let records: { set: string; record: PointRecord }[] | undefined;
      const readRecords = () => {
        // A request still answering from a state that a newer one replaced (a run committed meanwhile), rarely: its records are no longer at hand.
        if (!records && released) throw new StoreError('the result set changed while this was being answered: ask again');
        return (records ??= this.sets.flatMap((set, i) => views[i]!.records().map((record) => ({ set: set.name, record }))));
      };
      const one = this.sets.length === 1 ? { set: this.sets[0]!, view: views[0]! } : undefined;
      const kept = one ? readSummary(one.set, one.view) : undefined;
      const summary = kept ?? summarize(this.sets, readRecords());
      if (one && !kept) saveSummary(one.set, one.view, summary);
      await breather();
      const db = await openSetDatabase(this.sets, { views: [], indexes: views });
      try {
        await db.duck.use((conn) => addFlags(conn, summary.flags));
      } catch (e) {
        db.close();
        throw e;
      }
      const catalog = summary.catalog;
      if (this.sets.length > 1) {
        const setParam: CatalogParam = { name: 'set', type: 'enum', unit: null, doc: 'the result set (several are open: compare them)', role: 'all', source: 'inferred', values: this.sets.map((s) => s.name) };
        catalog.params.unshift(setParam);
      }
      const infos = summary.infos.map((info, i) => ({ ...info, name: this.sets[i]!.name, dir: this.sets[i]!.dir }));
      const loaded = { db, catalog, infos, flags: summary.flags, keys, version: ++this.version, release, views } as Omit<Loaded, 'records'> as Loaded;
      // The records are read when a route first needs them (a run's record, a report): the first plot needs only what the summary holds.
      Object.defineProperty(loaded, 'records', { get: readRecords, enumerable: true });
      return loaded;
    } catch (e) {
      release();
      throw e;
    }
  }

  /**
   * The current state, loaded again when a set gained points since. `polling`: asked by a page on
   * its own every few seconds to follow a run, not by someone at the controls: it does not keep the
   * looks ahead going.
   */
  async get(opts: { polling?: boolean } = {}): Promise<Loaded> {
    if (this.closed) throw new StoreError('the GUI server is closing');
    const now = Date.now();
    if (!opts.polling) {
      if (now - this.askedAt > ACTIVE_MS) this.burstFrom = now;
      this.askedAt = now;
    }
    if (this.loaded && now - this.checkedAt < CHECK_EVERY_MS) {
      this.planLookAhead();
      return this.loaded;
    }
    const current = this.loaded;
    let opened: { views: IndexView[]; keys: string };
    this.looks.own++;
    try {
      opened = this.openIndexes();
      // Counted from the end of the look: a look that took long is not made again at once.
      this.checkedAt = Date.now();
    } catch (e) {
      this.checkedAt = now;
      // A set found damaged (a point.json changed behind its index): its old figures are not served
      // meanwhile; every request looks again, and answers with the damage until it is dealt with.
      this.loaded = undefined;
      if (current) this.retire(current);
      throw e;
    }
    if (current) {
      const was = await current.catch(() => undefined);
      if (was && was.keys === opened.keys) {
        for (const v of opened.views) v.close();
        this.planLookAhead();
        return current;
      }
      if (was) this.retire(current);
    }
    const loading = this.load(opened);
    this.loaded = loading;
    // A failed load is not kept: the next request tries again. A load that succeeded counts as a
    // look ending when it does: a set that takes most of a second to load (10,000 runs) would
    // otherwise be checked again by the page's first plot, the check it was loaded from still fresh.
    loading.then(
      () => {
        if (this.loaded === loading) this.checkedAt = Math.max(this.checkedAt, Date.now());
        this.planLookAhead();
      },
      () => {
        if (this.loaded === loading) this.loaded = undefined;
      },
    );
    return this.loaded;
  }

  /**
   * Keeps the last look fresh while pages ask (a request in the last ACTIVE_MS): a look ahead
   * starts when the last look is LOOK_AHEAD_AFTER_MS old, unless the last one took so long that
   * looking again now would take more than LOOK_AHEAD_SHARE of the server's time.
   */
  private planLookAhead(): void {
    // checkedAt 0: a look ahead saw a change, and the next request must look for itself first.
    if (!this.looksAhead || this.closed || this.lookingAhead || this.lookAheadTimer || !this.loaded || this.checkedAt === 0) return;
    const now = Date.now();
    if (now - this.askedAt > ACTIVE_MS) return;
    const at = Math.max(this.checkedAt + LOOK_AHEAD_AFTER_MS, this.nextLookAhead, this.burstFrom + QUIET_AT_START_MS);
    if (at <= now) {
      this.lookAhead();
      return;
    }
    this.lookAheadTimer = setTimeout(() => {
      this.lookAheadTimer = undefined;
      this.planLookAhead();
    }, at - now);
    // A server with nothing else to do is not kept alive by its looks.
    this.lookAheadTimer.unref();
  }

  /**
   * Asks the loaded state's index views whether anything changed since they were read, in short
   * steps between requests. Nothing changed: the look counts from its start. Anything else (new
   * points, damage, a set that cannot be read): the next request looks for itself and says so.
   */
  private lookAhead(): void {
    const state = this.loaded!;
    const started = Date.now();
    this.looks.ahead++;
    let busyMs = 0;
    const look = (async () => {
      // A state that failed to load was dropped by get(), which says why to the request that asked.
      const l = await state.catch(() => undefined);
      if (!l) return;
      let same = true;
      try {
        for (const v of l.views) {
          const seen = v.unchanged && (await v.unchanged());
          busyMs += seen ? seen.busyMs : 0;
          same &&= seen !== undefined && seen.same;
        }
      } catch (e) {
        // Not the machine's refusal (those read as a change): the request's own look meets it too and answers with it.
        same = false;
        this.lookAheadError = e;
      }
      if (this.loaded !== state) return;
      if (same) this.checkedAt = Math.max(this.checkedAt, started);
      else this.checkedAt = 0;
    })();
    this.lookingAhead = look;
    void look.finally(() => {
      // Spaced by the time the look held the server, not by its length: requests answered between its steps are not its cost.
      this.nextLookAhead = Date.now() + busyMs / LOOK_AHEAD_SHARE - busyMs;
      this.lookingAhead = undefined;
      this.planLookAhead();
    });
  }

  /** Resolves when no look ahead is under way. */
  async settled(): Promise<void> {
    while (this.lookingAhead) await this.lookingAhead;
  }

  /** Retires a loaded state: queries in flight finish on its databases, which close after the last. */
  private retire(state: Promise<Loaded>): void {
    void state.then(
      (old) => {
        old.release();
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
          await db.duck.use((conn) => addFlags(conn, l.flags));
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
    clearTimeout(this.lookAheadTimer);
    const closeFrames = (l: Loaded) =>
      void l.frames?.then(
        (f) => f.close(),
        () => undefined,
      );
    void this.loaded?.then(
      (l) => {
        l.release();
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

/** Lets the event loop answer what waits (a page's script files) before the next step of a load. */
const breather = () => new Promise<void>((ok) => setImmediate(ok));

/** The view with its records read once and kept: a load reads them, and so may the points table it builds. */
function readOnce(view: IndexView): IndexView {
  let kept: PointRecord[] | undefined;
  const read = view.records.bind(view);
  return Object.assign(view, { records: () => (kept ??= read()) });
}

/** A flagged run's flags, its conditions' included, in one text. */
type FlagRow = [set: string, key: string, rep: number, flags: string];

/** What the server derives from the records of the sets: kept beside a set's index (readSummary) so that opening it again reads no record. */
interface Summary {
  catalog: Catalog;
  /** Per set, in order; name and dir are the set's as opened now. */
  infos: Omit<ApiSetInfo, 'name' | 'dir'>[];
  flags: FlagRow[];
}

/** The summary of the sets from their records. */
function summarize(sets: readonly ResultSet[], records: readonly { set: string; record: PointRecord }[]): Summary {
  const infos = sets.map((s): Summary['infos'][number] => {
    const own = records.filter((r) => r.set === s.name).map((r) => r.record);
    const by = (st: string) => own.filter((r) => r.outcome.status === st).length;
    const c = conditionsSummary(own);
    return { runs: own.length, ok: by('ok'), failed: by('failed'), interrupted: by('interrupted'), flagged: own.filter((r) => runFlags(r).length > 0).length, notChecked: c.notChecked, conditions: c.byCode, conditionsLine: c.line };
  });
  const flags: FlagRow[] = [];
  for (const r of records) {
    const f = runFlags(r.record);
    if (f.length > 0) flags.push([r.set, r.record.key, r.record.rep, f.join('; ')]);
  }
  return { catalog: setCatalog(records.map((r) => r.record)), infos, flags };
}

const SUMMARY_FILE = '.gui-summary.json';

/** The summary saved beside the set's points table for the view's state, if any (a damaged or vanished one is made again). */
function readSummary(set: ResultSet, view: IndexView): Summary | undefined {
  const file = besideTable(set, view, SUMMARY_FILE);
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw environmentError(e, 'cannot read', file) ?? e;
  }
  try {
    const s = JSON.parse(text) as Partial<Summary> | null;
    return s?.catalog && Array.isArray(s.infos) && s.infos.length === 1 && Array.isArray(s.flags) ? { catalog: s.catalog, infos: s.infos, flags: s.flags.map((f) => [set.name, f[1], f[2], f[3]]) } : undefined;
  } catch (e) {
    // Cut short by a full disk, or edited: only a copy, made again.
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** Saves the summary beside the set's points table; a disk that refuses it costs only the next opening's time. */
function saveSummary(set: ResultSet, view: IndexView, summary: Summary): void {
  const file = besideTable(set, view, SUMMARY_FILE);
  if (!file) return;
  try {
    writeJsonAtomic(file, summary);
  } catch (e) {
    if (!environmentError(e)) throw e;
  }
}

/** The table point_flags: the flags of each flagged run, its conditions' included (the points table has no column for them). */
async function addFlags(conn: DuckDBConnection, flags: readonly FlagRow[]): Promise<void> {
  await conn.run('CREATE TABLE point_flags ("set" VARCHAR, point_key VARCHAR, rep BIGINT, flags VARCHAR)');
  if (flags.length === 0) return;
  const app = await conn.createAppender('point_flags');
  for (const [set, key, rep, text] of flags) {
    app.appendVarchar(set);
    app.appendVarchar(key);
    app.appendBigInt(BigInt(rep));
    app.appendVarchar(text);
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
