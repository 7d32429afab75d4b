/**
 * A result set: a plain directory, one subdirectory per executed point and repetition.
 * A point directory appears by rename only once complete, so kill -9 at any moment leaves
 * either the old complete point or none, never a half-written one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { environmentError, onDisk, removePartial, writeFileAtomic, writeJsonAtomic } from '../base/fs-atomic.ts';
import { errorMessage, StoreError } from '../base/errors.ts';
import { pidAlive } from '../base/pid-alive.ts';
import { appendToIndex, fileId, openIndex, readPointFile, type IndexedSet, type IndexView } from './index-file.ts';
import { parsePointRecord, pointDirName, STORE_FORMAT, type PointRecord } from './records.ts';

const MARKER = 'streambench-set.json';

export interface SetInfo {
  format: number;
  name: string;
  createdAt: string;
}

/** A point being written: files go to a staging directory until `commit`. */
export class PointWriter {
  /** Why the committed point could not be added to the set's index (a full or read-only disk), if so; the next reader rebuilds the index. */
  indexError: string | undefined;

  constructor(
    readonly dir: string,
    private readonly finalDir: string,
    private readonly trashDir: string,
    private readonly setDir: string,
  ) {}

  /** Path of a file of the point being written. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes one file of the point, atomically. */
  writeText(name: string, text: string | Uint8Array): void {
    writeFileAtomic(join(this.dir, name), text);
  }

  /** Writes point.json, then swaps the staging directory in place of any earlier attempt. */
  commit(record: Omit<PointRecord, 'files' | 'format'>): PointRecord {
    const files = onDisk('cannot list', this.dir, () => readdirSync(this.dir))
      .filter((f) => f !== 'point.json' && !f.startsWith('.'))
      .sort();
    const full: PointRecord = { format: STORE_FORMAT, ...record, files };
    const text = JSON.stringify(full, null, 2) + '\n';
    writeFileAtomic(join(this.dir, 'point.json'), text);
    const hadEarlier = existsSync(this.finalDir);
    if (hadEarlier) onDisk('cannot move', this.finalDir, () => renameSync(this.finalDir, this.trashDir));
    try {
      // points/ may be missing when creating the set stopped right after its marker.
      mkdirSync(dirname(this.finalDir), { recursive: true });
      renameSync(this.dir, this.finalDir);
    } catch (e) {
      // The earlier record goes back at once; were that to fail too, the next start restores it (cleanStaging).
      if (hadEarlier && !existsSync(this.finalDir)) onDisk('cannot restore', this.finalDir, () => renameSync(this.trashDir, this.finalDir));
      throw environmentError(e, 'cannot write', this.finalDir) ?? e;
    }
    onDisk('cannot remove', this.trashDir, () => rmSync(this.trashDir, { recursive: true, force: true }));
    try {
      // What readers compare point.json with: its stat as it lies in points/ now, and the bytes just written.
      const file = fileId(statSync(join(this.finalDir, 'point.json'), { bigint: true }), text);
      appendToIndex(this.setDir, basename(this.finalDir), full, file);
    } catch (e) {
      // The point is recorded (points/ is the truth); an index that missed it is stale, which readers see and repair.
      const env = environmentError(e, 'cannot add the point to the index of', this.setDir);
      if (!env) throw e;
      this.indexError = env.message;
    }
    return full;
  }

  /** Drops what was staged (used when nothing worth keeping was recorded). */
  discard(): void {
    onDisk('cannot remove', this.dir, () => rmSync(this.dir, { recursive: true, force: true }));
  }
}

export class ResultSet {
  private constructor(
    readonly dir: string,
    readonly info: SetInfo,
  ) {}

  /** Opens an existing result set; throws StoreError when the directory is not one. */
  static open(dir: string): ResultSet {
    const marker = join(dir, MARKER);
    let text: string;
    try {
      text = readFileSync(marker, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !existsSync(dir)) throw new StoreError(`${dir} does not exist`);
      if (code === 'ENOENT') throw new StoreError(`${dir} is not a result set (no ${MARKER})`);
      if (code === 'ENOTDIR') throw new StoreError(`${dir} is a file, not a result set directory`);
      throw environmentError(e, 'cannot read', marker) ?? e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new StoreError(`${marker} is corrupt (${notJson(e)}); it marks ${dir} as a result set: restore it from a copy, or write {"format": ${STORE_FORMAT}, "name": "NAME", "createdAt": "DATE"} into it`);
    }
    if (parsed === null || typeof parsed !== 'object') throw new StoreError(`${marker} is corrupt (not a JSON object); restore it from a copy`);
    const info = parsed as SetInfo;
    if (info.format !== STORE_FORMAT) throw new StoreError(`${dir} has store format ${info.format}; this version reads ${STORE_FORMAT}`);
    return new ResultSet(dir, info);
  }

  /** Opens the result set at dir, creating it when absent. */
  static openOrCreate(dir: string, name: string): ResultSet {
    if (existsSync(join(dir, MARKER))) return ResultSet.open(dir);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new StoreError(`${dir} is a file, not a directory: choose another --results directory`);
    if (existsSync(dir) && onDisk('cannot list', dir, () => readdirSync(dir)).length > 0) {
      throw new StoreError(`${dir} exists, is not empty, and is not a result set: choose another --results directory`);
    }
    const info: SetInfo = { format: STORE_FORMAT, name, createdAt: new Date().toISOString() };
    // The marker first: should it fail (disk full), the directory is left empty, so the next run can still create the set there.
    writeJsonAtomic(join(dir, MARKER), info);
    onDisk('cannot create', join(dir, 'points'), () => mkdirSync(join(dir, 'points'), { recursive: true }));
    return new ResultSet(dir, info);
  }

  private get staging(): string {
    return join(this.dir, '.staging');
  }

  /**
   * Takes the set's lock so two runs never write the same set. The lock (`.lock`) names its
   * holder: pid, host and a nonce, and is born whole (written aside, then linked into place), so
   * a reader never sees it half-written. A lock of another host is refused: whether its run is
   * alive cannot be told from here (`streambench results unlock SET` breaks one known dead). One
   * of this host whose process is gone (kill -9) is stale and taken over, as is an empty one (left
   * by older versions killed between creating and writing it); the takeover has one winner
   * however many starters find it stale at once (see breakStale). A lock with anything else in it
   * is not ours to judge: StoreError, telling the user to delete it once no run uses the set.
   * Returns a function that releases the lock (only while it is still this run's).
   */
  lock(isAlive: (pid: number) => boolean): () => void {
    const path = join(this.dir, '.lock');
    const mine: LockHolder = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex'), startedAt: new Date().toISOString() };
    for (let busy = 0; ;) {
      if (createLock(path, JSON.stringify(mine))) break;
      const held = readLock(path, this.dir);
      // Released between our attempt and the read: try again.
      if (!held) continue;
      const h = held.holder;
      if (h.host !== undefined && h.host !== hostname()) throw new StoreError(otherHost(this.dir, path, h));
      if (h.pid !== undefined && h.pid !== process.pid && isAlive(h.pid)) throw new StoreError(`${this.dir} is in use by process ${h.pid}; wait for it or stop it`);
      const step = breakStale(path, held, this.dir, isAlive);
      if (step === 'busy') {
        // Another starter is taking over that stale lock this instant (its takeover is a few file operations): its lock is there next.
        if (++busy > 500) throw new StoreError(`${this.dir} is being taken over by another run from a stale lock (${path}); run again`);
        sleepMs(10);
      }
    }
    return () => {
      try {
        // A lock broken meanwhile (`results unlock`) and taken by another run is theirs: never removed by us.
        const now = readLock(path, this.dir);
        if (now?.holder.nonce === mine.nonce) rmSync(path, { force: true });
      } catch (e) {
        // A lock left behind names this process, which is gone by the next start: that start takes
        // it over as stale. So failing to remove it (a disk gone read-only, damage) must not hide why the run ended.
        if (!environmentError(e) && !(e instanceof StoreError)) throw e;
      }
    };
  }

  /**
   * `streambench results unlock SET`: removes a lock whose run is known to have ended (another
   * host's, which cannot be checked from here; a damaged one). Refuses one held by a live process
   * of this host. Returns what it removed, or undefined when the set had no lock.
   */
  unlock(isAlive: (pid: number) => boolean = pidAlive): string | undefined {
    const path = join(this.dir, '.lock');
    let held: HeldLock | undefined;
    let what: string;
    try {
      held = readLock(path, this.dir);
      if (!held) return undefined;
      const h = held.holder;
      if (h.host === hostname() && h.pid !== undefined && isAlive(h.pid)) {
        throw new StoreError(`${this.dir} is in use by process ${h.pid} of this host (${path}): stop that run (kill ${h.pid}) rather than unlock the set under it`);
      }
      what = h.pid !== undefined ? `process ${h.pid} on host ${h.host}${h.startedAt ? `, since ${h.startedAt}` : ''}` : 'empty';
    } catch (e) {
      // A damaged lock names nobody: the user asked to break it.
      if (!(e instanceof StoreError) || held) throw e;
      what = 'damaged';
    }
    onDisk('cannot remove', path, () => rmSync(path, { force: true }));
    for (const n of onDisk('cannot list', this.dir, () => readdirSync(this.dir))) {
      if (/^\.lock\.(break-.*|\d+\.[0-9a-f]+\.tmp)$/.test(n)) onDisk('cannot remove', join(this.dir, n), () => rmSync(join(this.dir, n), { force: true }));
    }
    return `${path} (${what})`;
  }

  /**
   * Removes staging directories left by an interrupted run. A killed `--force` rerun can leave the
   * earlier record moved aside and not yet replaced: it is put back, so what was recorded stays.
   */
  cleanStaging(): void {
    if (existsSync(this.staging)) {
      for (const entry of onDisk('cannot list', this.staging, () => readdirSync(this.staging))) {
        const m = /^(.+)\.old\.\d+$/.exec(entry);
        const final = m ? join(this.dir, 'points', m[1]!) : undefined;
        if (final && !existsSync(final) && existsSync(join(this.staging, entry, 'point.json'))) {
          onDisk('cannot restore', final, () => renameSync(join(this.staging, entry), final));
        }
      }
    }
    onDisk('cannot remove', this.staging, () => rmSync(this.staging, { recursive: true, force: true }));
  }

  /**
   * After a run stopped on a failure of the disk: puts back an earlier record a `--force` rerun had
   * moved aside and frees what the unfinished point took. Returns why it could not (a read-only
   * disk), in which case the next start does it.
   */
  abandonUnfinished(): string | undefined {
    try {
      this.cleanStaging();
      return undefined;
    } catch (e) {
      return `${errorMessage(e)}; the next run cleans it up`;
    }
  }

  /** Keeps an exact copy of each benchmark file that wrote into the set. */
  freezeBenchmark(source: { file: string; text: string; sha256: string }): void {
    const ext = /\.(m?[jt]s)$/.exec(source.file)?.[0] ?? '.yaml';
    const path = join(this.dir, 'benchmarks', `${source.sha256.slice(0, 12)}${ext}`);
    if (!existsSync(path)) writeFileAtomic(path, source.text);
  }

  /** The committed record of a point, if any. */
  read(key: string, rep: number): PointRecord | undefined {
    return this.readDir(join(this.dir, 'points', pointDirName(key, rep)));
  }

  /** The record in a point directory; undefined when it has no point.json; StoreError when that is damaged. */
  private readDir(dir: string): PointRecord | undefined {
    return this.readWritten(dir)?.record;
  }

  /** readDir, with the JSON value of point.json as written (before records are upgraded on reading) and its fileId (what the index compares it with). */
  private readWritten(dir: string): { record: PointRecord; written: unknown; file: string } | undefined {
    const file = join(dir, 'point.json');
    let got: { bytes: Buffer; file: string } | undefined;
    try {
      got = readPointFile(file);
    } catch (e) {
      throw environmentError(e, 'cannot read', file) ?? e;
    }
    if (!got) return undefined;
    const text = got.bytes.toString('utf8');
    // Never written half (atomic writes), so damage came from outside: the user decides, we never overwrite it.
    const fix = `move ${dir} out of the result set (or delete it) to run that point again`;
    let written: unknown;
    try {
      written = JSON.parse(text);
    } catch (e) {
      throw new StoreError(`${file} is corrupt (${notJson(e)}); ${fix}`);
    }
    const r = parsePointRecord(written);
    if (typeof r === 'string') throw new StoreError(`${file} is not a valid point record (${r}); ${fix}`);
    return { record: r, written, file: got.file };
  }

  /** Every committed point, in directory order, from the set's index (built or brought up to date first when needed). */
  points(): PointRecord[] {
    const view = this.index();
    try {
      return view.records();
    } finally {
      view.close();
    }
  }

  /** The set's index, fresh: what `points()` and the points table read. Close it when done. */
  index(): IndexView {
    return openIndex(this.indexed);
  }

  private get indexed(): IndexedSet {
    return { dir: this.dir, readPoint: (d) => this.readWritten(d), runActive: () => this.runActive() };
  }

  /** Whether a live process of this machine holds the set's lock (a run that may be committing points). */
  runActive(): boolean {
    let held: unknown;
    try {
      held = JSON.parse(readFileSync(join(this.dir, '.lock'), 'utf8'));
    } catch (e) {
      // No lock, or one being written: nobody commits without a readable lock.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return false;
      throw environmentError(e, 'cannot read', join(this.dir, '.lock')) ?? e;
    }
    if (held === null || typeof held !== 'object' || !('pid' in held) || typeof held.pid !== 'number') return false;
    // Another machine's process cannot be checked from here: take its run as live.
    if (('host' in held ? held.host : undefined) !== hostname()) return true;
    return pidAlive(held.pid);
  }

  /** Every committed point read from its point.json, in directory order: how the index is rebuilt, and what it is checked against. */
  scanPoints(): PointRecord[] {
    const root = join(this.dir, 'points');
    if (!existsSync(root)) return [];
    return onDisk('cannot list', root, () => readdirSync(root))
      .filter((d) => !d.startsWith('.'))
      .sort()
      .flatMap((d) => {
        const r = this.readDir(join(root, d));
        return r ? [r] : [];
      });
  }

  /** Starts writing a point; `commit` makes it visible. */
  beginPoint(key: string, rep: number): PointWriter {
    const name = pointDirName(key, rep);
    const stage = join(this.staging, `${name}.${process.pid}`);
    onDisk('cannot create', stage, () => {
      rmSync(stage, { recursive: true, force: true });
      mkdirSync(stage, { recursive: true });
    });
    return new PointWriter(stage, join(this.dir, 'points', name), join(this.staging, `${name}.old.${process.pid}`), this.dir);
  }

  /** Directory of a committed point. */
  pointDir(key: string, rep: number): string {
    return join(this.dir, 'points', pointDirName(key, rep));
  }

  /** The set's name: as recorded in its marker, else its directory's. */
  get name(): string {
    return this.info.name || basename(this.dir);
  }
}

/** Result sets directly below a results directory, or the one set the directory is. */
export function listResultSets(root: string): ResultSet[] {
  if (!existsSync(root)) return [];
  if (!statSync(root).isDirectory()) throw new StoreError(`${root} is a file, not a directory of result sets`);
  // A result set's own directory lists itself.
  if (existsSync(join(root, MARKER))) return [ResultSet.open(root)];
  return onDisk('cannot list', root, () => readdirSync(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, MARKER)))
    .map((d) => ResultSet.open(join(root, d.name)));
}

/** Why a text is not JSON, without quoting it: a damaged file may hold anything, terminal escapes included. */
function notJson(e: unknown): string {
  const at = /position (\d+)/.exec(errorMessage(e))?.[1];
  return `not valid JSON${at !== undefined ? ` at character ${at}` : ''}`;
}

/** Who a lock names (a break file too); all absent for an empty lock. */
interface LockHolder {
  pid?: number;
  host?: string;
  /** Unique to each lock taken: tells one lock from another that names the same process. */
  nonce?: string;
  startedAt?: string;
}

/** A lock as read: its holder, and what identifies this very lock (its nonce, else its inode and change time). */
interface HeldLock {
  holder: LockHolder;
  id: string;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function otherHost(setDir: string, path: string, h: LockHolder): string {
  return `${setDir} is in use by process ${h.pid} on host ${h.host}${h.startedAt ? ` (since ${h.startedAt})` : ''}, which cannot be checked from this machine (${path}): wait for that run, or if it is known to have ended, \`streambench results unlock ${setDir}\` and run again`;
}

/**
 * Creates path holding text unless it exists (false then). The text is written to a file of its
 * own first and linked into place: the lock is never seen empty or half-written. Where the file
 * system has no hard links, it is created exclusively and written. A write that fails leaves no
 * partial file behind.
 */
function createLock(path: string, text: string): boolean {
  return onDisk('cannot create', path, () => {
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'wx');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      // A lock we created but could not fill (disk full) would block the next run for nothing.
      removePartial(tmp, e);
      throw e;
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
      return createExclusive(path, text);
    } finally {
      rmSync(tmp, { force: true });
    }
  });
}

/** Creates path with text unless it exists (false then); a write that fails leaves no partial file behind. */
function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, text);
    closeSync(fd);
  } catch (e) {
    removePartial(path, e);
    throw e;
  }
  return true;
}

/**
 * The lock at path (its holder, its identity); undefined when there is none. An empty file names
 * nobody (a run of an older version killed between creating and writing it). Anything else that
 * is no holder is damage: StoreError with what to do.
 */
function readLock(path: string, setDir: string): HeldLock | undefined {
  let text: string;
  let id: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd, { bigint: true });
      id = `${st.ino}-${st.ctimeNs}`;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw environmentError(e, 'cannot read', path) ?? e;
  }
  if (text.trim() === '') return { holder: {}, id };
  const fix = `if no streambench run is using ${setDir} (ps -ef | grep streambench), delete ${path} (or \`streambench results unlock ${setDir}\`) and run again`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new StoreError(`${path} is corrupt (${notJson(e)}); ${fix}`);
  }
  const o = v as { pid?: unknown; host?: unknown; nonce?: unknown; startedAt?: unknown } | null;
  if (o === null || typeof o !== 'object' || typeof o.pid !== 'number' || typeof o.host !== 'string') {
    throw new StoreError(`${path} is corrupt (no pid and host of the run holding it); ${fix}`);
  }
  const holder: LockHolder = { pid: o.pid, host: o.host, ...(typeof o.nonce === 'string' ? { nonce: o.nonce } : {}), ...(typeof o.startedAt === 'string' ? { startedAt: o.startedAt } : {}) };
  return { holder, id: holder.nonce ?? id };
}

/**
 * Removes a stale lock so that its finder may take the set, with one winner however many find it
 * stale at once. The right to remove that very lock is a file named after it
 * (`.lock.break-<id>.<n>`), created exclusively: one starter gets it, and it removes the lock only
 * after checking that the lock is still the one judged stale. Everyone then races to create a new
 * lock, exclusively: one wins, the others find a live lock and are refused. A starter killed while
 * it held the right leaves its break file naming a dead process: the next takes `.<n+1>`.
 * 'busy': another starter holds the right now; 'removed': the lock was removed (or was gone).
 */
function breakStale(path: string, stale: HeldLock, setDir: string, isAlive: (pid: number) => boolean): 'busy' | 'removed' {
  const me: LockHolder = { pid: process.pid, host: hostname() };
  for (let n = 0; ; n++) {
    const right = `${path}.break-${stale.id.replace(/[^A-Za-z0-9-]/g, '_')}.${n}`;
    if (!createLock(right, JSON.stringify(me))) {
      let breaker: LockHolder | undefined;
      try {
        breaker = readLock(right, setDir)?.holder;
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
      }
      // Gone again: its holder finished; the lock we judged is gone with it.
      if (breaker === undefined) return 'busy';
      // Dead (or an earlier process of our own pid): it was killed while it held the right; the next one is ours to try.
      if (breaker.host === hostname() && breaker.pid !== undefined && (breaker.pid === process.pid || !isAlive(breaker.pid))) continue;
      return 'busy';
    }
    try {
      const now = readLock(path, setDir);
      if (now && now.id === stale.id) onDisk('cannot remove', path, () => rmSync(path, { force: true }));
    } finally {
      // The lock judged is gone: every right to remove it can go (a latecomer checks the lock before removing anything).
      for (let k = 0; k <= n; k++) rmSync(`${path}.break-${stale.id.replace(/[^A-Za-z0-9-]/g, '_')}.${k}`, { force: true });
    }
    return 'removed';
  }
}
