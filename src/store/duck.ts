/**
 * Every DuckDB database and connection of the program comes from here (test/duck.test.ts checks
 * that no other module opens one). A database has one or more connections ("lanes"); each lane
 * runs one piece of work at a time (DuckDB's connections are not safe for concurrent use:
 * duckdb-node-neo#142), and work waits for a free lane in the order it came.
 *
 * Reads may be bounded in time: past the bound the query is interrupted, the caller gets a
 * DuckFileError saying which file took too long, and the lane gets a fresh connection, so that a
 * query that does not stop (a read blocked in the kernel) holds up nothing after it. The files a
 * piece of work reads are named to `use`: each is checked before DuckDB opens it (present,
 * readable, a regular file: a FIFO in place of a Parquet file would block the opening thread
 * until some process writes to it), and DuckDB's errors about them become one line naming the file
 * and what is wrong, never DuckDB's own text with its SQL excerpt.
 *
 * Closing a database never waits for work in flight: that work is interrupted, a FIFO it may be
 * blocked on is opened for writing and closed at once (which ends the blocked open with an empty
 * read), and the connections close as their work ends.
 */
import { closeSync, constants, openSync, statSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { errorMessage, StoreError } from '../base/errors.ts';

/** What is wrong with a file a query reads. */
export type FileProblem = 'missing' | 'not a file' | 'permission' | 'damaged' | 'timeout' | 'unreadable';

/** A file a query reads that could not be read: one line naming it and what is wrong (exit 4 on the command line). */
export class DuckFileError extends StoreError {
  constructor(
    readonly file: string,
    readonly problem: FileProblem,
    message: string,
  ) {
    super(message);
    this.name = 'DuckFileError';
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Why a file cannot be read as a data file (missing, unreadable, not a regular file), or undefined when it can be opened. */
export function fileProblem(path: string): DuckFileError | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new DuckFileError(path, 'missing', `${path} is missing`);
    if (code === 'EACCES' || code === 'EPERM') return new DuckFileError(path, 'permission', `${path} cannot be read: permission denied (a directory on its path, or the file, is closed to this user)`);
    return new DuckFileError(path, 'unreadable', `${path} cannot be read (${code ?? errorMessage(e)})`);
  }
  if (!st.isFile()) return new DuckFileError(path, 'not a file', `${path} is ${kindOf(st)}, not a Parquet file: not read`);
  try {
    // Opening it (without reading) shows a permission problem before DuckDB does; a regular file never blocks here.
    closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return new DuckFileError(path, 'permission', `${path} cannot be read: permission denied`);
    if (code === 'ENOENT') return new DuckFileError(path, 'missing', `${path} is missing`);
    return new DuckFileError(path, 'unreadable', `${path} cannot be read (${code ?? errorMessage(e)})`);
  }
  return undefined;
}

/** The file of `files` a DuckDB message names (it quotes the path), else the only one, else undefined. */
function fileNamed(message: string, files: readonly string[]): string | undefined {
  const quoted = [...message.matchAll(/["']([^"'\n]+)["']/g)].map((m) => m[1]!);
  return files.find((f) => quoted.includes(f)) ?? files.find((f) => message.includes(f)) ?? (files.length === 1 ? files[0] : undefined);
}

/**
 * A DuckDB error about one of `files` as one line naming the file and what is wrong; undefined
 * when the error concerns none of them (an error of the query itself: a bug).
 */
export function describeDuckError(e: unknown, files: readonly string[]): DuckFileError | undefined {
  if (e instanceof DuckFileError) return e;
  const text = errorMessage(e);
  const first = text.split('\n')[0]!.trim();
  // Without files named, a Parquet file the message's first line quotes (never one of the SQL excerpt below it).
  const file = fileNamed(first, files) ?? (files.length === 0 ? /["']([^"'\n]+\.parquet)["']/.exec(first)?.[1] : undefined);
  if (file === undefined) return undefined;
  // DuckDB's own words, short: without its error class, the SQL excerpt and the caret under it.
  const reason = first.replace(/^[A-Za-z ]*Error: /, '').replace(new RegExp(`["']?${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?`, 'g'), basename(file));
  if (/too small to be a Parquet file/i.test(first)) return new DuckFileError(file, 'damaged', `${file} is not a readable Parquet file: empty, or cut short`);
  if (/No magic bytes found/i.test(first)) return new DuckFileError(file, 'damaged', `${file} is not a readable Parquet file: damaged, cut short or not Parquet at all (no Parquet footer)`);
  if (/not a parquet file|Corrupt|Invalid FileMetaData|out of bounds|Couldn't deserialize thrift|Unexpected end/i.test(first)) {
    return new DuckFileError(file, 'damaged', `${file} is not a readable Parquet file: damaged (${reason})`);
  }
  if (/Permission denied/i.test(first)) return new DuckFileError(file, 'permission', `${file} cannot be read: permission denied`);
  if (/No files found that match the pattern|No such file/i.test(first)) {
    // DuckDB says so for a file in a directory it may not list, too: ask the file system which it is.
    return fileProblem(file) ?? new DuckFileError(file, 'missing', `${file} is missing`);
  }
  const column = /Referenced column "([^"]+)" not found/.exec(first);
  if (column) return new DuckFileError(file, 'damaged', `${file} has no column ${column[1]} (written by another version, or not this run's file)`);
  return new DuckFileError(file, 'unreadable', `${file} could not be read: ${reason}`);
}

/** Opens a FIFO for writing and closes it: a reader blocked in opening it goes on (and reads nothing). Nothing is written. */
function releaseFifo(path: string): void {
  try {
    if (!statSync(path).isFIFO()) return;
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waits on it (ENXIO), or it is gone: nothing to release.
  }
}

/** Options of one piece of work on a database. */
export interface UseOptions {
  /** The files it reads: checked before, named in its errors, released (a FIFO) when it is stopped. */
  files?: readonly string[];
  /** Past this many ms the query is interrupted and the caller gets a DuckFileError (problem 'timeout'); default: the database's. */
  timeoutMs?: number;
}

interface Lane {
  conn: DuckDBConnection;
  busy: boolean;
}

interface Job {
  files: readonly string[];
  lane: Lane;
  conn: DuckDBConnection;
  since: number;
  /** Resolves when the work has ended, however. */
  settled: Promise<void>;
  /** Set once it was stopped. */
  stopped?: boolean;
  /** Set once its lane got a fresh connection: its own is closed when it ends. */
  givenUp?: boolean;
}

/** Every database open now, and every closed one whose work has not ended yet: what is in flight, for a process that ends (src/cli/commands/ui.ts). */
const OPEN = new Set<DuckDatabase>();

/** A DuckDB database with its connections; see the module's comment. */
export class DuckDatabase {
  private readonly waiting: ((lane: Lane | undefined) => void)[] = [];
  private readonly jobs = new Set<Job>();
  private closed = false;

  private constructor(
    /** What it is for, in messages: `points of results/x`, `run files`, `Parquet writer`. */
    readonly purpose: string,
    private readonly instance: DuckDBInstance,
    private readonly lanes: Lane[],
    private readonly timeoutMs: number | undefined,
  ) {
    OPEN.add(this);
  }

  /** Opens an in-memory database with `connections` lanes (default 1); `timeoutMs` bounds each piece of work unless it says otherwise. */
  static async open(purpose: string, opts: { connections?: number; timeoutMs?: number } = {}): Promise<DuckDatabase> {
    const instance = await DuckDBInstance.create(':memory:');
    const lanes: Lane[] = [];
    try {
      for (let i = 0; i < Math.max(1, opts.connections ?? 1); i++) lanes.push({ conn: await instance.connect(), busy: false });
    } catch (e) {
      for (const l of lanes) l.conn.closeSync();
      instance.closeSync();
      throw e;
    }
    return new DuckDatabase(purpose, instance, lanes, opts.timeoutMs);
  }

  /**
   * Runs `work` on a lane alone. `files` are checked first (a DuckFileError for one that cannot
   * be read, before anything runs). DuckDB's errors about them come back as a DuckFileError.
   */
  async use<T>(work: (conn: DuckDBConnection) => Promise<T>, opts: UseOptions = {}): Promise<T> {
    const files = opts.files ?? [];
    // Checked now, before the work is queued: a file that cannot be read never reaches DuckDB.
    for (const f of files) {
      const p = fileProblem(f);
      if (p) throw p;
    }
    const lane = await this.acquire();
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    let running: Promise<T>;
    try {
      running = work(lane.conn);
    } catch (e) {
      this.release(lane);
      throw describeDuckError(e, files) ?? e;
    }
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    const job: Job = { files, lane, conn: lane.conn, since: Date.now(), settled };
    this.jobs.add(job);
    void settled.then(() => {
      if (job.givenUp) job.conn.closeSync();
      this.jobs.delete(job);
      // A closed database is listed (readsInFlight) until its last piece of work has ended.
      if (this.closed && this.jobs.size === 0) OPEN.delete(this);
      if (this.closed) this.closeInstanceWhenIdle();
      else this.closeIfRetiredAndIdle();
    });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false as boolean; // set by the timer
    try {
      if (timeoutMs === undefined) return await running;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error('timeout'));
        }, timeoutMs);
      });
      return await Promise.race([running, bound]);
    } catch (e) {
      if (timedOut) {
        this.giveUp(job);
        const file = files[0];
        const what = files.length === 0 ? `a query on ${this.purpose}` : files.length === 1 ? `reading ${file}` : `reading ${files.join(', ')}`;
        throw new DuckFileError(file ?? '', 'timeout', `${what} took longer than ${fmtSeconds(timeoutMs!)}: stopped (a file being written, a slow or hung disk, or not a plain file)`);
      }
      throw describeDuckError(e, files) ?? e;
    } finally {
      clearTimeout(timer);
      if (!timedOut) this.release(lane);
    }
  }

  /** Runs sql and reads every row. */
  read(sql: string, opts: UseOptions = {}) {
    return this.use((c) => c.runAndReadAll(sql), opts);
  }

  /** What is in flight: the files each piece of work reads and since when (ms since the epoch). */
  inFlight(): { purpose: string; files: readonly string[]; since: number }[] {
    return [...this.jobs].map((j) => ({ purpose: this.purpose, files: j.files, since: j.since }));
  }

  /**
   * Stops a piece of work that ran past its bound: interrupts it, releases a FIFO it may be
   * blocked on, and gives its lane a fresh connection; the old one is closed once the work ends.
   */
  private giveUp(job: Job): void {
    stop(job);
    job.givenUp = true;
    const lane = job.lane;
    const drop = () => {
      this.lanes.splice(this.lanes.indexOf(lane), 1);
      if (this.closed) this.closeInstanceWhenIdle();
      else if (this.lanes.length === 0) for (const w of this.waiting.splice(0)) w(undefined);
    };
    if (this.closed) {
      drop();
      return;
    }
    this.instance.connect().then(
      (conn) => {
        if (this.closed) {
          conn.closeSync();
          drop();
          return;
        }
        lane.conn = conn;
        this.release(lane);
      },
      // No fresh connection: the lane is given up, the others go on.
      drop,
    );
  }

  private acquire(): Promise<Lane> {
    if (this.closed) return Promise.reject(new StoreError(`the database of ${this.purpose} is closed`));
    const free = this.lanes.find((l) => !l.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.lanes.length === 0) return Promise.reject(new StoreError(`the database of ${this.purpose} has no connection left`));
    return new Promise((resolve, reject) => {
      this.waiting.push((lane) => (lane ? resolve(lane) : reject(new StoreError(`the database of ${this.purpose} is closed`))));
    });
  }

  private release(lane: Lane): void {
    if (this.closed) {
      lane.busy = false;
      lane.conn.closeSync();
      this.closeInstanceWhenIdle();
      return;
    }
    const next = this.waiting.shift();
    if (next) next(lane);
    else {
      lane.busy = false;
      this.closeIfRetiredAndIdle();
    }
  }

  private instanceClosed = false;
  private retiring = false;

  /** Closes the database once nothing is in flight or waiting (work still comes in meanwhile): for a database replaced by a newer one. */
  retire(): void {
    this.retiring = true;
    this.closeIfRetiredAndIdle();
  }

  private closeIfRetiredAndIdle(): void {
    if (this.retiring && !this.closed && this.jobs.size === 0 && this.waiting.length === 0 && !this.lanes.some((l) => l.busy)) this.close();
  }

  private closeInstanceWhenIdle(): void {
    if (this.instanceClosed || this.lanes.some((l) => l.busy) || this.jobs.size > 0) return;
    this.instanceClosed = true;
    this.instance.closeSync();
  }

  /**
   * Closes the database without waiting: idle connections now; work in flight is interrupted (a
   * FIFO it reads released) and its connection closed when it ends. Work waiting for a lane is refused.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.jobs.size === 0) OPEN.delete(this);
    for (const w of this.waiting.splice(0)) w(undefined);
    this.stopAll();
    for (const l of this.lanes) if (!l.busy) l.conn.closeSync();
    // Busy lanes close as their work ends (release), the instance after the last of them.
    this.closeInstanceWhenIdle();
  }

  /** Interrupts every piece of work in flight and releases a FIFO it may be blocked on. */
  stopAll(): void {
    for (const j of this.jobs) stop(j);
  }
}

/** How often a FIFO that stopped work reads is released again, in ms, until the work has ended. */
const RELEASE_EVERY_MS = 200;

/**
 * Interrupts a piece of work and releases a FIFO among its files; again and again until the work
 * ends, since DuckDB's thread may reach the FIFO's opening only after the first release.
 */
function stop(job: Job): void {
  try {
    job.conn.interrupt();
  } catch {
    // Already closed: nothing runs on it.
  }
  if (job.stopped) return;
  job.stopped = true;
  const release = () => {
    for (const f of job.files) releaseFifo(f);
  };
  release();
  if (job.files.length === 0) return;
  const again = setInterval(release, RELEASE_EVERY_MS);
  // It never holds the process up by itself: the work it waits for does, while it runs.
  again.unref();
  void job.settled.then(() => clearInterval(again));
}

function fmtSeconds(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/** Every piece of work in flight on any open database (a process about to end says what it waits for). */
export function readsInFlight(): { purpose: string; files: readonly string[]; since: number }[] {
  return [...OPEN].flatMap((d) => d.inFlight());
}
