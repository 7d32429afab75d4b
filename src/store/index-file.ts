/**
 * The index of a result set: the records of its committed points gathered in `index/`, so that
 * readers (`results`, a GUI following a live run) answer without opening every point.json. It is
 * derived: points/ stays the source of truth, and an index that is missing or disagrees with
 * points/ is rebuilt from it.
 *
 *   index/gen-G.json       generation G: its id, the point directories of its base, its marker
 *                          (written last, by rename: that publishes G)
 *   index/base-G.jsonl     the base: one line per point directory, sorted by directory
 *   index/log-G.jsonl      what was committed since: one complete line per commit, appended with
 *                          one write; kill -9 leaves at most a partial last line, which readers
 *                          skip and the next append cuts off
 *   index/table-*.parquet  the points table of one state of the index (database.ts)
 *   index/table-*.gui-summary.json  the GUI server's catalogue, counts and flags of that state (src/server/sets.ts)
 *   index/.switch          held while a generation is written (a rebuild, a compaction)
 *
 * A line is {"dir", "marker", "file", "record"}, marker being points/'s mtime (ns) right after the
 * commit's rename, file what the point's point.json was when indexed (fileId: its size, inode,
 * modification and change times, and a hash of its bytes; the header keeps the same for the
 * base's directories). The index is fresh when it names exactly the directories of points/, the
 * newest marker it holds is points/'s mtime now (a rename into or out of points/ since, such as
 * a point moved out or copied in by hand or a commit not appended yet, shows), and every
 * point.json is as indexed: one stat each, compared on all four figures. The change time cannot
 * be set by hand (touch -d, cp -p set only the modification time), so any write, truncation or
 * replacement of a point.json shows. One that differs is read: the same bytes (touched, copied
 * with its times, its mode changed) and the index only takes the new figures; other bytes are
 * validated (damaged: StoreError naming the file, as `run` gives) and the index rebuilt. What a
 * stat cannot show: a rewrite keeping size and inode within the file system's timestamp
 * granularity (a few ms) of the moment the point was indexed.
 *
 * Readers take no lock and writers never wait for readers. A commit appends to the current
 * generation's log; a new generation is only written under `.switch`, and whoever writes it copies
 * the lines appended to the old log meanwhile into the new one, while an appender that finds the
 * generation changed under it appends its line again: no commit is lost. Whatever goes wrong all
 * the same (a writer killed between its rename and its append, a full disk) leaves the index
 * stale, never wrong: the freshness check sees it and the next reader rebuilds it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync, type BigIntStats } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { environmentError, removePartial, writeFileAtomic, writeJsonAtomic } from '../base/fs-atomic.ts';
import { errorMessage } from '../base/errors.ts';
import { pidAlive } from '../base/pid-alive.ts';
import { parseIndexedRecord, type PointRecord } from './records.ts';

/** The index's directory inside a result set. */
export const INDEX_DIR = 'index';
/** 2: file ids of each point.json (an index of format 1 is rebuilt once). */
const FORMAT = 2;
/**
 * A log is folded into a new base once it passes `compactMinBytes` and 1/`compactBaseShare` of its
 * base's size: the work per commit stays constant on average. Tests lower them to compact often.
 */
export const INDEX_LIMITS = { compactMinBytes: 1 << 20, compactBaseShare: 8 };
/** While a run holds the set, a stale index may only be a commit between its rename and its append: wait this long (ms, in steps) before rebuilding. */
const IN_FLIGHT_WAITS = [5, 20, 50, 100, 200];

interface Header {
  format: number;
  /** Unique per generation written: a table cached for one generation is never taken for another. */
  id: string;
  generation: number;
  /** points/'s mtime (ns) as of the base. */
  marker: string;
  /** Every directory of points/ the base knows of, sorted; those without a point.json too (see pending). */
  dirs: string[];
  /** Directories that had no point.json when scanned (a copy by hand still running): the index is stale once one has. */
  pending: string[];
  /** The fileId of each directory's point.json as indexed, in the order of dirs; null for the pending ones. */
  files: (string | null)[];
}

/** One line of a base or log: its directory and marker read from the line's start, the record left unparsed until needed. */
interface Line {
  dir: string;
  marker: bigint;
  /** The fileId of the point.json the record is from. */
  file: string;
  text: string;
  /** Where the line ends in its file (just past its newline). */
  end: number;
}

/** What readers get: the index's records, read only when asked for. */
export interface IndexView {
  /** Names the state the view holds (generation and length of its log), unique to it; undefined when the index could not be saved. */
  readonly key: string | undefined;
  /** The generation's id (the start of key), and how much of its log the view holds. */
  readonly generation: string | undefined;
  readonly logBytes: number;
  /**
   * The records committed after the state `logBytes` = `from` of the same generation, in order,
   * and whether any of them replaces a record that state had (a --force rerun): what a table
   * built for that state lacks. Undefined when the view cannot tell (not a saved generation).
   */
  since(from: number): { records: PointRecord[]; replaces: boolean } | undefined;
  /** Point directories with a record. */
  readonly count: number;
  /** Why a rebuilt index could not be saved (it was still read); undefined when all went well. */
  readonly note: string | undefined;
  /** The records, one per point directory (the newest), sorted by directory. */
  records: () => PointRecord[];
  /** Frees the base file kept open for records(); safe to call more than once. */
  close(): void;
  /**
   * Whether the set is still as this view read it, judged without holding the event loop for
   * long (a few hundred stats at a time): true only when the index's generation and log, the
   * points directory and every indexed point.json's stat are what the view saw. False when any
   * may differ, or when this cannot be told: then open the index anew, which says what changed
   * (new points, damage). With it, how long the look held the event loop in all (its steps'
   * time, not the waits between them). Absent on a view that was rebuilt rather than read.
   */
  unchanged?: () => Promise<{ same: boolean; busyMs: number }>;
}

/** What the index needs of the result set it belongs to. */
export interface IndexedSet {
  dir: string;
  /**
   * The record in a point directory as read (upgraded to this version's names), and the JSON value
   * of its point.json as written, which the index keeps (so that records are upgraded by the code
   * reading them); undefined without point.json; throws on a damaged one.
   */
  readPoint(pointDir: string): { record: PointRecord; written: unknown; file: string } | undefined;
  /** Whether a run holds the set now (commits may be in flight). */
  runActive(): boolean;
}

const LINE_START = /^\{"dir":("(?:[^"\\]|\\.)*"),"marker":"(\d+)","file":"([0-9a-f:]+)","record":/;

/** The text of an index line (without its newline); record as point.json holds it. */
function lineText(dir: string, marker: bigint, file: string, record: unknown): string {
  return `{"dir":${JSON.stringify(dir)},"marker":"${marker}","file":"${file}","record":${JSON.stringify(record)}}`;
}

function parseLine(text: string, end: number): Line | undefined {
  const m = LINE_START.exec(text);
  if (!m) return undefined;
  return { dir: JSON.parse(m[1]!) as string, marker: BigInt(m[2]!), file: m[3]!, text, end };
}

/** The figures of a stat that any change of a file's bytes moves: size, inode, modification and change times (ns). */
function statPart(st: BigIntStats): string {
  return `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
}

const sha = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 32);

/** What a point.json is: the figures of its stat (statPart), then a hash of its bytes. */
export function fileId(st: BigIntStats, bytes: string | Uint8Array): string {
  return `${statPart(st)}:${sha(bytes)}`;
}

const idStat = (id: string) => id.slice(0, id.lastIndexOf(':'));
const idHash = (id: string) => id.slice(id.lastIndexOf(':') + 1);

/** A point.json's bytes and fileId, read through one descriptor; undefined when there is none. Throws what the disk said. */
export function readPointFile(path: string): { bytes: Buffer; file: string } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const bytes = readFileSync(fd);
    return { bytes, file: fileId(st, bytes) };
  } finally {
    closeSync(fd);
  }
}

/** The complete lines of a file: a last line without its newline (cut short by kill -9 or a full disk) is not one yet. */
function completeLines(data: Buffer): { lines: Line[]; bytes: number } {
  const end = data.lastIndexOf(10);
  if (end < 0) return { lines: [], bytes: 0 };
  const lines: Line[] = [];
  for (let start = 0; start <= end;) {
    const nl = data.indexOf(10, start);
    const l = parseLine(data.toString('utf8', start, nl), nl + 1);
    if (l) lines.push(l);
    start = nl + 1;
  }
  return { lines, bytes: end + 1 };
}

const paths = (idx: string, g: number) => ({ header: join(idx, `gen-${g}.json`), base: join(idx, `base-${g}.jsonl`), log: join(idx, `log-${g}.jsonl`) });

/** The newest generation published in idx; undefined when there is none (or no index/ at all). */
function currentGeneration(idx: string): number | undefined {
  let names: string[];
  try {
    names = readdirSync(idx);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let best: number | undefined;
  for (const n of names) {
    const m = /^gen-(\d+)\.json$/.exec(n);
    if (m && (best === undefined || Number(m[1]) > best)) best = Number(m[1]);
  }
  return best;
}

function pointsMarker(points: string): bigint {
  return statSync(points, { bigint: true }).mtimeNs;
}

function listPointDirs(points: string): string[] {
  return readdirSync(points)
    .filter((d) => !d.startsWith('.'))
    .sort();
}

/** How long ago path was last written; 0 once it is gone. */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

class IndexDamaged extends Error {}

/** A published generation as read: its header, its base kept open, its log's complete lines. */
interface Snapshot {
  generation: number;
  header: Header;
  baseFd: number;
  log: Line[];
  logBytes: number;
  /** The log file's size when read, a last line cut short included. */
  logSize: number;
}

function readHeader(path: string): Header | undefined {
  let h: unknown;
  try {
    h = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
  const o = h as Partial<Header> | null;
  if (o === null || typeof o !== 'object' || o.format !== FORMAT || typeof o.id !== 'string' || typeof o.marker !== 'string' || !Array.isArray(o.dirs) || !Array.isArray(o.pending) || !Array.isArray(o.files) || o.files.length !== o.dirs.length) return undefined;
  return o as Header;
}

/** The current generation, or undefined when there is none usable (missing, another format, damaged). */
function readSnapshot(idx: string): Snapshot | undefined {
  // A generation replaced between finding it and opening its files: look again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const g = currentGeneration(idx);
    if (g === undefined) return undefined;
    const p = paths(idx, g);
    let baseFd: number | undefined;
    try {
      const header = readHeader(p.header);
      if (!header) return undefined;
      baseFd = openSync(p.base, 'r');
      const logData = readFileSync(p.log);
      const { lines, bytes } = completeLines(logData);
      return { generation: g, header, baseFd, log: lines, logBytes: bytes, logSize: logData.length };
    } catch (e) {
      if (baseFd !== undefined) closeSync(baseFd);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return undefined;
}

function newestMarker(s: Snapshot): bigint {
  let m = BigInt(s.header.marker);
  for (const l of s.log) if (l.marker > m) m = l.marker;
  return m;
}

/** Each indexed directory's fileId: the base's, then the log's in order (the newest wins). */
function indexedFiles(s: Pick<Snapshot, 'header' | 'log'>): Map<string, string> {
  const files = new Map<string, string>();
  s.header.dirs.forEach((d, i) => {
    const f = s.header.files[i];
    if (f) files.set(d, f);
  });
  for (const l of s.log) files.set(l.dir, l.file);
  return files;
}

/** A snapshot found fresh, but for the point.json files whose stat differs from what was indexed. */
interface Freshness {
  /** Point directories with a record. */
  count: number;
  /** Directories whose point.json's stat is not as indexed: read before the snapshot is trusted. */
  changed: string[];
  files: Map<string, string>;
}

/**
 * Whether the snapshot names exactly what points/ holds now, nothing happened in points/ since
 * its newest marker, and every point.json is there; if so, how many of those directories have a
 * record, and which point.json files have another stat than when indexed. Undefined: stale.
 * Throws what the disk said of a point.json it cannot look at (an unreadable point directory).
 */
function freshCheck(s: Snapshot, points: string): Freshness | undefined {
  const marker = pointsMarker(points);
  // Unsorted: only membership counts here.
  const now = readdirSync(points).filter((d) => !d.startsWith('.'));
  const known = new Set(s.header.dirs);
  for (const l of s.log) known.add(l.dir);
  if (marker !== newestMarker(s) || now.length !== known.size || !now.every((d) => known.has(d))) return undefined;
  const logged = new Set(s.log.map((l) => l.dir));
  // A directory scanned before its point.json was there (a copy by hand) has it now: that record is missing.
  const pending = s.header.pending.filter((d) => !logged.has(d));
  if (pending.some((d) => existsSync(join(points, d, 'point.json')))) return undefined;
  const files = indexedFiles(s);
  const changed: string[] = [];
  // Plain concatenation: path.join would cost a tenth of the check at 10,000 points.
  const prefix = `${points}/`;
  for (const [d, id] of files) {
    const path = `${prefix}${d}/point.json`;
    let st: BigIntStats | undefined;
    try {
      st = statSync(path, { bigint: true, throwIfNoEntry: false });
    } catch (e) {
      throw environmentError(e, 'cannot read', path) ?? e;
    }
    // Deleted: the point is not recorded any more (run would run it again).
    if (st === undefined) return undefined;
    if (statPart(st) !== idStat(id)) changed.push(d);
  }
  return { count: known.size - pending.length, changed, files };
}

/**
 * Reads the point.json files whose stat changed: the fileIds to keep when each still has the bytes
 * indexed (touched, copied with its times, its mode changed); undefined when one has other bytes
 * (or is gone), after checking that it is a valid record: a damaged one throws, naming it.
 */
function sameBytes(set: IndexedSet, points: string, fresh: Freshness): Map<string, string> | undefined {
  const now = new Map<string, string>();
  for (const d of fresh.changed) {
    const path = join(points, d, 'point.json');
    let got: { bytes: Buffer; file: string } | undefined;
    try {
      got = readPointFile(path);
    } catch (e) {
      throw environmentError(e, 'cannot read', path) ?? e;
    }
    if (!got) return undefined;
    if (idHash(got.file) === idHash(fresh.files.get(d)!)) {
      now.set(d, got.file);
      continue;
    }
    // Other bytes: a damaged record stops the reader here, as it stops run; another valid record makes the index stale.
    set.readPoint(join(points, d));
    return undefined;
  }
  return now;
}

function recordOf(l: Line): PointRecord {
  let v: unknown;
  try {
    v = (JSON.parse(l.text) as { record: unknown }).record;
  } catch {
    throw new IndexDamaged(`a line of ${l.dir} is not JSON`);
  }
  const r = parseIndexedRecord(v);
  if (typeof r === 'string') throw new IndexDamaged(`${l.dir}: ${r}`);
  return r;
}

/** Newest line per directory, sorted by directory: base lines first, then the log's in order. */
function mergeLines(base: Line[], log: Line[]): Line[] {
  const by = new Map<string, Line>();
  for (const l of base) by.set(l.dir, l);
  for (const l of log) by.set(l.dir, l);
  return [...by.keys()].sort().map((d) => by.get(d)!);
}

/** How many stats stillAsRead makes between two turns of the event loop (256: under 2 ms here). */
const STATS_PER_TURN = 256;

/** What stillAsRead compares, made once per view: the listing it knew, and each point.json's path with its indexed stat. */
interface ReadPlan {
  known: Set<string>;
  pending: string[];
  files: { path: string; stat: string }[];
  marker: bigint;
}

function readPlan(s: Snapshot, points: string, fresh: Freshness): ReadPlan {
  const known = new Set(s.header.dirs);
  for (const l of s.log) known.add(l.dir);
  const logged = new Set(s.log.map((l) => l.dir));
  // Plain concatenation, as in freshCheck.
  const prefix = `${points}/`;
  return {
    known,
    pending: s.header.pending.filter((d) => !logged.has(d)).map((d) => `${prefix}${d}/point.json`),
    files: [...fresh.files].map(([d, id]) => ({ path: `${prefix}${d}/point.json`, stat: idStat(id) })),
    marker: newestMarker(s),
  };
}

/**
 * Whether the set is as freshCheck found it for snapshot s: the same generation and log, the same
 * points directory, every indexed point.json with the stat it had. Made in short steps, so that a
 * server answers its requests meanwhile; busyMs is the steps' time. A point.json whose bytes were
 * kept but whose stat moved (freshCheck's `changed`) reads as a change: the index's own look deals
 * with it. The stats are most of the cost: about 6 µs each here.
 */
async function stillAsRead(s: Snapshot, idx: string, points: string, plan: () => ReadPlan, fresh: Freshness): Promise<{ same: boolean; busyMs: number }> {
  let busyMs = 0;
  let stepFrom = performance.now();
  const pause = async () => {
    busyMs += performance.now() - stepFrom;
    await new Promise<void>((ok) => setImmediate(ok));
    stepFrom = performance.now();
  };
  let same: boolean;
  try {
    same = fresh.changed.length === 0 && (await stillAsReadSteps(s, idx, points, plan(), pause));
  } catch (e) {
    // Anything unreadable is for the index's own look to name (with the file and the machine's error).
    if (!environmentError(e)) throw e;
    same = false;
  }
  return { same, busyMs: busyMs + performance.now() - stepFrom };
}

async function stillAsReadSteps(s: Snapshot, idx: string, points: string, plan: ReadPlan, pause: () => Promise<void>): Promise<boolean> {
  if (currentGeneration(idx) !== s.generation) return false;
  if (statSync(paths(idx, s.generation).log).size !== s.logSize) return false;
  if (pointsMarker(points) !== plan.marker) return false;
  const now = readdirSync(points).filter((d) => !d.startsWith('.'));
  if (now.length !== plan.known.size || !now.every((d) => plan.known.has(d))) return false;
  if (plan.pending.some((p) => existsSync(p))) return false;
  let n = 0;
  for (const f of plan.files) {
    if (++n % STATS_PER_TURN === 0) await pause();
    const st = statSync(f.path, { bigint: true, throwIfNoEntry: false });
    if (st === undefined || statPart(st) !== f.stat) return false;
  }
  return true;
}

function snapshotView(s: Snapshot, count: number): IndexView {
  let fd: number | undefined = s.baseFd;
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    key: `${s.header.id}-${s.logBytes}`,
    generation: s.header.id,
    logBytes: s.logBytes,
    since: (from) => {
      const known = new Set(s.header.dirs);
      const after: Line[] = [];
      for (const l of s.log) {
        if (l.end <= from) known.add(l.dir);
        else after.push(l);
      }
      let replaces = false;
      for (const l of after) {
        if (known.has(l.dir)) replaces = true;
        known.add(l.dir);
      }
      try {
        return { records: after.map(recordOf), replaces };
      } catch (e) {
        // records() tells the damage (and rebuilds): the caller falls back to it.
        if (e instanceof IndexDamaged) return undefined;
        throw e;
      }
    },
    count,
    note: undefined,
    records: () => {
      if (fd === undefined) throw new Error('index view read after close');
      const base = completeLines(readFileSync(fd)).lines;
      close();
      return mergeLines(base, s.log).map(recordOf);
    },
    close,
  };
}

function memoryView(records: PointRecord[], generation: string | undefined, note: string | undefined): IndexView {
  return {
    key: generation !== undefined ? `${generation}-0` : undefined,
    generation,
    logBytes: 0,
    since: () => undefined,
    count: records.length,
    note,
    records: () => records,
    close: () => {},
  };
}

/**
 * The set's points as the index has them, the index first brought up to date: built when missing,
 * rebuilt from points/ when stale. Takes no lock; close the view when done.
 */
export function openIndex(set: IndexedSet): IndexView {
  try {
    return openFresh(set);
  } catch (e) {
    throw environmentError(e, 'cannot read the index of', set.dir) ?? e;
  }
}

function openFresh(set: IndexedSet): IndexView {
  const points = join(set.dir, 'points');
  if (!existsSync(points)) return memoryView([], undefined, undefined);
  const idx = join(set.dir, INDEX_DIR);
  for (let attempt = 0; ; attempt++) {
    const s = readSnapshot(idx);
    if (s) {
      let fresh: Freshness | undefined;
      try {
        fresh = freshCheck(s, points);
        if (fresh && fresh.changed.length > 0) {
          const same = sameBytes(set, points, fresh);
          // Only their stats moved: the records hold; the index takes the new figures, so that the next reader reads none of them.
          if (same) refreshFiles(set.dir, s.header.id, same);
          else fresh = undefined;
        }
      } catch (e) {
        closeSync(s.baseFd);
        throw e;
      }
      if (fresh !== undefined) {
        const view = snapshotView(s, fresh.count);
        const checked = fresh;
        let plan: ReadPlan | undefined;
        view.unchanged = () => stillAsRead(s, idx, points, () => (plan ??= readPlan(s, points, checked)), checked);
        const read = view.records;
        // Damage from outside (a disk error, a hand edit) makes the index unreadable, not the set: rebuild it.
        view.records = () => {
          try {
            return read();
          } catch (e) {
            if (!(e instanceof IndexDamaged)) throw e;
            return rebuild(set).records();
          }
        };
        return view;
      }
      closeSync(s.baseFd);
    }
    if (s && attempt < IN_FLIGHT_WAITS.length && set.runActive()) {
      sleepMs(IN_FLIGHT_WAITS[attempt]!);
      continue;
    }
    return rebuild(set);
  }
}

/** Who holds `.switch`, read back; an empty file is a writer killed between creating and filling it. */
function switchHolder(path: string): { pid?: number; host?: string; ageMs: number } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const ageMs = Date.now() - statSync(path).mtimeMs;
    let o: { pid?: unknown; host?: unknown } | null;
    try {
      o = JSON.parse(text) as { pid?: unknown; host?: unknown } | null;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      // Empty or cut short: it names nobody, and is judged by its age.
      return { ageMs };
    }
    if (o === null || typeof o !== 'object') return { ageMs };
    return { ...(typeof o.pid === 'number' ? { pid: o.pid } : {}), ...(typeof o.host === 'string' ? { host: o.host } : {}), ageMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Takes `.switch` unless someone alive holds it; returns its release, or undefined when it is held. */
function takeSwitch(idx: string): (() => void) | undefined {
  mkdirSync(idx, { recursive: true });
  const path = join(idx, '.switch');
  const mine = JSON.stringify({ pid: process.pid, host: hostname() });
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const h = switchHolder(path);
      if (h === undefined) continue;
      // Another machine's process cannot be checked; one of ours that died (kill -9) left it behind.
      const dead = h.pid !== undefined ? h.host === hostname() && !pidAlive(h.pid) : h.ageMs > 10_000;
      if (!dead) return undefined;
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, mine);
    } catch (e) {
      // Left empty (a full disk), it would keep everyone from writing the index for a while.
      closeSync(fd);
      removePartial(path, e);
      throw e;
    }
    closeSync(fd);
    return () => rmSync(path, { force: true });
  }
  return undefined;
}

/** Appends text with one write; a write cut short (a full disk) is taken back so no partial line is left. */
function appendWhole(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  const before = fstatSync(fd).size;
  try {
    let off = writeSync(fd, bytes);
    while (off < bytes.length) off += writeSync(fd, bytes, off);
  } catch (e) {
    try {
      ftruncateSync(fd, before);
    } catch (undo) {
      // The partial line stays: readers skip it, and the next append cuts it off.
      if (e instanceof Error) e.message += ` (and the partial line could not be taken back: ${errorMessage(undo)})`;
    }
    throw e;
  }
}

/** Cuts off a partial last line (left by kill -9 or a full disk) so the next line starts on its own. */
function repairTail(fd: number): void {
  let size = fstatSync(fd).size;
  if (size === 0) return;
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  for (;;) {
    const start = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - start, start);
    const at = chunk.subarray(0, n).lastIndexOf(10);
    if (at >= 0) {
      size = start + at + 1;
      break;
    }
    if (start === 0) {
      size = 0;
      break;
    }
    end = start;
  }
  if (size !== fstatSync(fd).size) ftruncateSync(fd, size);
}

/**
 * Adds a point just committed (renamed into points/) to the index (record: as written to its point.json), and folds the log into a new
 * base once it has grown past its share. Nothing to do while the set has no index (the next reader
 * builds it). Throws what the disk said; the index is then stale, and the next reader rebuilds it.
 */
export function appendToIndex(setDir: string, pointDir: string, record: PointRecord, file: string): void {
  const idx = join(setDir, INDEX_DIR);
  const points = join(setDir, 'points');
  for (let attempt = 0; attempt < 3; attempt++) {
    const g = currentGeneration(idx);
    if (g === undefined) return;
    const p = paths(idx, g);
    let fd: number;
    try {
      // No O_CREAT: a log removed by a generation switch must not come back as an orphan.
      fd = openSync(p.log, constants.O_RDWR | constants.O_APPEND);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    let logSize: number;
    try {
      repairTail(fd);
      appendWhole(fd, lineText(pointDir, pointsMarker(points), file, record) + '\n');
      logSize = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
    // Published after our check: the switch copies our line over. Published before: append it again there.
    if (currentGeneration(idx) !== g) continue;
    let baseSize: number;
    try {
      baseSize = statSync(p.base).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (logSize > Math.max(INDEX_LIMITS.compactMinBytes, baseSize / INDEX_LIMITS.compactBaseShare)) compact(setDir);
    return;
  }
}

/** Folds the current log into a new base; skipped when another process is writing a generation. */
export function compact(setDir: string): void {
  try {
    compactNow(setDir);
  } catch (e) {
    // index/ deleted while it was being compacted (by hand, or by a reader rebuilding it): the next reader builds it anew.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * A reader found point.json files with the bytes indexed but another stat: a compaction of the
 * generation it read (skipped when that is no longer current, or someone holds `.switch`) that
 * takes their new fileIds. Best effort: a disk that refuses it leaves the next reader to compare again.
 */
function refreshFiles(setDir: string, generation: string, files: Map<string, string>): void {
  try {
    compactNow(setDir, { generation, files });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !environmentError(e)) throw e;
  }
}

function compactNow(setDir: string, refresh?: { generation: string; files: Map<string, string> }): void {
  const idx = join(setDir, INDEX_DIR);
  const release = takeSwitch(idx);
  if (!release) return;
  try {
    const g = currentGeneration(idx);
    if (g === undefined) return;
    const p = paths(idx, g);
    const header = readHeader(p.header);
    if (!header || (refresh && header.id !== refresh.generation)) return;
    const { lines: log, bytes } = completeLines(readFileSync(p.log));
    const base = completeLines(readFileSync(p.base)).lines;
    const merged = mergeLines(base, log);
    let marker = BigInt(header.marker);
    for (const l of log) if (l.marker > marker) marker = l.marker;
    const logged = new Set(log.map((l) => l.dir));
    const dirs = [...new Set([...header.dirs, ...logged])].sort();
    const known = indexedFiles({ header, log });
    if (refresh) for (const [d, f] of refresh.files) if (known.has(d)) known.set(d, f);
    const files = dirs.map((d) => known.get(d) ?? null);
    publish(idx, g, bytes, merged, { dirs, pending: header.pending.filter((d) => !logged.has(d)), marker: marker.toString(), files });
  } finally {
    release();
  }
}

/**
 * Writes generation g+1 from lines (already merged and sorted), then moves over what was appended
 * to g's log past `consumed` bytes meanwhile, and removes the older generations.
 */
function publish(idx: string, g: number | undefined, consumed: number, lines: Line[], h: Pick<Header, 'dirs' | 'pending' | 'marker' | 'files'>): Header {
  const next = (g ?? 0) + 1;
  const p = paths(idx, next);
  const header: Header = { format: FORMAT, id: `${next}.${randomBytes(6).toString('hex')}`, generation: next, ...h };
  writeFileAtomic(p.base, lines.map((l) => l.text + '\n').join(''));
  writeFileAtomic(p.log, '');
  writeJsonAtomic(p.header, header);
  if (g !== undefined) {
    const old = paths(idx, g);
    let late = '';
    try {
      const text = readFileSync(old.log);
      const end = text.lastIndexOf(10);
      if (end + 1 > consumed) late = text.subarray(consumed, end + 1).toString('utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (late) {
      const fd = openSync(p.log, constants.O_WRONLY | constants.O_APPEND);
      try {
        appendWhole(fd, late);
      } finally {
        closeSync(fd);
      }
    }
  }
  removeOlder(idx, next, header.id);
  return header;
}

/** Removes the files of generations before `g`, and tables cached for them. */
function removeOlder(idx: string, g: number, id: string): void {
  for (const n of readdirSync(idx)) {
    const m = /^\.?(?:gen|base|log)-(\d+)\.jsonl?(?:\.\d+\.tmp)?$/.exec(n);
    if (m) {
      if (Number(m[1]) < g) rmSync(join(idx, n), { force: true });
    } else if (/^table-/.test(n) ? !n.startsWith(`table-${id}-`) : /^\.table-.*\.tmp$/.test(n) && ageMs(join(idx, n)) > 600_000) {
      // A table being written by a reader right now has a fresh temporary file; an old one was left by a killed reader.
      rmSync(join(idx, n), { force: true });
    }
  }
}

/**
 * Reads every point directory (the way the set was read before it had an index) and saves the
 * result as a new generation when `.switch` is free. The records are returned in any case; when
 * the disk refused to save them, the view's note says why and the next reader tries again.
 */
export function rebuild(set: IndexedSet): IndexView {
  const points = join(set.dir, 'points');
  const idx = join(set.dir, INDEX_DIR);
  let release: (() => void) | undefined;
  let note: string | undefined;
  try {
    release = takeSwitch(idx);
  } catch (e) {
    const env = environmentError(e, 'cannot write the index in', idx);
    if (!env) throw e;
    note = env.message;
  }
  try {
    // What the current log holds now is in points/ already: only lines appended after this are moved over.
    const g = release ? currentGeneration(idx) : undefined;
    const consumed = g !== undefined ? completeLines(readFileSync(paths(idx, g).log)).bytes : 0;
    const marker = pointsMarker(points);
    const dirs = listPointDirs(points);
    const lines: Line[] = [];
    const records: PointRecord[] = [];
    const pending: string[] = [];
    const files = new Map<string, string>();
    for (const d of dirs) {
      const r = set.readPoint(join(points, d));
      if (!r) {
        pending.push(d);
        continue;
      }
      records.push(r.record);
      files.set(d, r.file);
      lines.push({ dir: d, marker, file: r.file, text: lineText(d, marker, r.file, r.written), end: 0 });
    }
    if (!release) return memoryView(records, undefined, note);
    try {
      const header = publish(idx, g, consumed, lines, { dirs, pending, marker: marker.toString(), files: dirs.map((d) => files.get(d) ?? null) });
      return memoryView(records, header.id, undefined);
    } catch (e) {
      const env = environmentError(e, 'cannot write the index in', idx);
      if (!env) throw e;
      return memoryView(records, undefined, env.message);
    }
  } finally {
    release?.();
  }
}
