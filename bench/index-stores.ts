/**
 * The index decided by measurement (issue 20, item 8): the custom index (src/store/index-file.ts:
 * a base and a log of JSON lines, the points table saved beside it as Parquet) against embedded
 * stores made for the job, on the figures of bench/results-query.ts, in the same run and in turns:
 *
 *   duckdb-file  one DuckDB database file per set (index-duck/points.duckdb) holding the points
 *                table itself and, per point directory, its record and its point.json's fileId.
 *                DuckDB locks its file against every other process, readers included, so a run
 *                cannot keep it open between commits: each append opens, writes and closes it.
 *   sqlite-wal   SQLite in WAL mode (better-sqlite3; synchronous=NORMAL: a commit survives kill -9,
 *                not a power cut, as the custom log's write does), one row per point directory
 *                with its record, fileId and a sequence number; the writer keeps its connection
 *                open (WAL lets readers in meanwhile); readers build the points table in DuckDB
 *                and save it as Parquet keyed by the sequence reached, as the custom index does.
 *                Only when better-sqlite3 can be loaded: it is not a dependency (see --sqlite).
 *
 * points/ stays the source of truth whatever the store: every reader first checks that the store
 * names exactly the point directories there and that each point.json has the size, inode,
 * modification and change times recorded (one stat each; a different one is read, and its hash
 * tells a touch from a rewrite). The alternatives do that check with the same figures (fileId).
 *
 * Figures, at --points (10,000) and --big (100,000) points, each store's as a ratio to the custom
 * index's measured in the same run (under 1: faster than the custom index):
 *   build         the store built from scratch (every point.json read): a first read, a rebuild
 *   open          a reader's open: the check, then a DuckDB connection with the table points ready
 *   query         the SQL of bench/results-query.ts on it
 *   append        adding one committed point to the store (what a commit adds after its rename):
 *                 median, and the mean that carries the custom log's compactions
 *   reader after  the first open + query after those appends (a GUI following a run)
 * Then, on small sets, robustness, each a yes/no per store:
 *   kill -9       a child process commits points (point directory renamed in, then the store's
 *                 append, then it says so on stdout) and gets SIGKILL at a random moment, --kills
 *                 times: the store must open, hold every point the child said was added, and no
 *                 record that is not the complete one of its point.json
 *   lagging mtime point.json files and directories changed and their modification times set back
 *                 with utimes (as an NFS client's attribute cache can show them): a rewrite in place
 *                 of the same size, a replacement by rename of the same size, a point copied in with
 *                 its old times (cp -p), a point removed: does the next reader see the change?
 *                 (utimes cannot set back a change time; an NFS cache that lags on it too is beyond
 *                 what any stat-based check can see, whatever the store.)
 * Medians of --rounds rounds taken in turns (the order rotated each round), so that a busy machine
 * weighs on all stores alike: read the ratios, not the milliseconds.
 *
 * Run: node --import tsx bench/index-stores.ts [--points N] [--big N (0 skips)] [--rounds R] [--appends K] [--kills K] [--sqlite DIR]
 *   --sqlite DIR: a folder whose node_modules has better-sqlite3 (e.g. `mkdir /tmp/sq && cd /tmp/sq &&
 *   npm init -y && npm install better-sqlite3@12`: it builds from source, about a minute); by
 *   default it is looked up from this checkout and from ./.sqlite-probe, and the column is left
 *   out when it is not found.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync, type BigIntStats } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createPointsTable, openSetDatabase, quoteString } from '../src/store/database.ts';
import { appendToIndex, fileId, INDEX_DIR, readPointFile } from '../src/store/index-file.ts';
import { parsePointRecord, pointDirName, STORE_FORMAT, type PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { extendTable, type BuiltColumn, type Column } from '../src/store/table.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const SQL = 'select codec, resolution, count(*) as n, avg("client.fps") as fps, quantile_cont("latency.p95_ms", 0.95) as p95 from points where status = \'ok\' group by all order by 1, 2';
// Rounded: a sum of doubles depends on the order of the rows, which is no store's to keep.
const CHECK_SQL = 'select count(*) as n, round(sum("client.fps"), 6) as fps from points';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rowsText = (rows: unknown[][]) => JSON.stringify(rows, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));

// ---------------------------------------------------------------- the points (as results-query.ts writes them)

function params(i: number): PointRecord['params'] {
  const pick = <T>(xs: readonly T[], div: number) => xs[Math.floor(i / div) % xs.length]!;
  return {
    codec: pick(['h264', 'h265', 'vp8', 'vp9', 'av1'], 1),
    bitrate: pick(['500k', '1M', '2M', '4M', '8M'], 5),
    fps: pick([15, 30, 60], 25),
    resolution: pick(['1280x720', '1920x1080'], 75),
    scene: pick(['idle', 'typing', 'scrolling', 'drag', 'video', 'motion'], 150),
    net_delay: pick(['0ms', '10ms', '20ms', '40ms', '80ms', '150ms'], 900),
    net_loss: pick([0, 0.5], 5400),
    transport: 'tcp',
  };
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

/** The i-th point's point.json, as a commit writes it: about thirty figures. */
function pointRecord(i: number): PointRecord {
  const rnd = random(i + 1);
  const m: PointRecord['metrics'] = {};
  for (const role of ['guest', 'host', 'client']) {
    m[`${role}.cpu_pct`] = 5 + rnd() * 90;
    m[`${role}.rss_mb`] = 50 + rnd() * 400;
    m[`${role}.net.tx_bitrate`] = rnd() * 8e6;
  }
  // Three decimals, so that a rewrite of one digit keeps the file's size (the lagging-mtime cases).
  m['client.fps'] = Math.round((10 + rnd() * 50) * 1000) / 1000 + 0.0001;
  Object.assign(m, {
    'client.bitrate': rnd() * 8e6,
    'latency.p50_ms': 5 + rnd() * 50,
    'latency.p95_ms': 10 + rnd() * 150,
    'latency.max_ms': 20 + rnd() * 300,
    'quality.psnr': 25 + rnd() * 20,
    'quality.ssim': 0.8 + rnd() * 0.2,
    'frames.dropped': Math.floor(rnd() * 10),
    'frames.lost': Math.floor(rnd() * 5),
    'encoder.mean_frame_bytes': rnd() * 40000,
    'source.si': 20 + rnd() * 60,
    'codec.used': String(params(i)['codec']),
    'display.shown_all': rnd() > 0.1,
  });
  const p = params(i);
  return {
    format: STORE_FORMAT,
    key: createHash('sha256')
      .update(JSON.stringify([p, i]))
      .digest('hex')
      .slice(0, 12),
    rep: 1,
    index: i,
    params: p,
    outcome: i % 97 === 0 ? { status: 'failed', error: 'client exited with code 1' } : { status: 'ok' },
    attempts: 1,
    workload: 'stream',
    benchmark: { name: 'sweep', sha256: 'f'.repeat(64) },
    startedAt: new Date(1_700_000_000_000 + i * 5000).toISOString(),
    endedAt: new Date(1_700_000_004_000 + i * 5000).toISOString(),
    wallS: 4,
    metrics: m,
    flags: i % 50 === 0 ? ['recording gap: host: 0.3 s'] : [],
    files: ['client.log'],
  };
}

/** Writes the i-th point's directory aside and renames it into points/ (as a commit does, without its fsyncs); returns its name and fileId. */
function writePoint(setDir: string, i: number): { dir: string; record: PointRecord; file: string } {
  const record = pointRecord(i);
  const dir = pointDirName(record.key, record.rep);
  const stage = join(setDir, '.staging', `${dir}.${process.pid}`);
  mkdirSync(stage, { recursive: true });
  writeFileSync(join(stage, 'client.log'), `point ${i}\n`);
  const text = JSON.stringify(record, null, 2) + '\n';
  writeFileSync(join(stage, 'point.json'), text);
  renameSync(stage, join(setDir, 'points', dir));
  return { dir, record, file: fileId(statSync(join(setDir, 'points', dir, 'point.json'), { bigint: true }), text) };
}

function makeSet(dir: string, n: number): ResultSet {
  const set = ResultSet.openOrCreate(dir, 'sweep');
  for (let i = 0; i < n; i++) writePoint(dir, i);
  return set;
}

// ---------------------------------------------------------------- the check every store does (points/ is the truth)

const statPart = (st: BigIntStats) => `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;

/** A point.json read and validated; undefined when there is none. */
function readPoint(path: string): { record: PointRecord; file: string; text: string } | undefined {
  const got = readPointFile(path);
  if (!got) return undefined;
  const text = got.bytes.toString('utf8');
  const r = parsePointRecord(JSON.parse(text));
  if (typeof r === 'string') throw new Error(`${path}: ${r}`);
  return { record: r, file: got.file, text: JSON.stringify(JSON.parse(text)) };
}

interface Changes {
  /** Directories to (re)read: new ones, and those whose point.json has other bytes. */
  upsert: { dir: string; record: PointRecord; file: string; text: string }[];
  removed: string[];
  /** Same bytes, another stat (touched, copied with its times): only the fileId changes. */
  refile: { dir: string; file: string }[];
}

/** What the store (known: directory -> fileId) lacks against points/: one listing and one stat per point.json, as index-file.ts's freshCheck. */
function changesSince(points: string, known: Map<string, string>): Changes {
  const now = readdirSync(points).filter((d) => !d.startsWith('.'));
  const seen = new Set(now);
  const c: Changes = { upsert: [], removed: [], refile: [] };
  const prefix = `${points}/`;
  for (const [d, id] of known) {
    if (!seen.has(d)) {
      c.removed.push(d);
      continue;
    }
    const st = statSync(`${prefix}${d}/point.json`, { bigint: true, throwIfNoEntry: false });
    if (st === undefined) c.removed.push(d);
    else if (statPart(st) !== id.slice(0, id.lastIndexOf(':'))) {
      const got = readPoint(`${prefix}${d}/point.json`)!;
      if (got.file.slice(got.file.lastIndexOf(':')) === id.slice(id.lastIndexOf(':'))) c.refile.push({ dir: d, file: got.file });
      else c.upsert.push({ dir: d, ...got });
    }
  }
  for (const d of now) {
    if (known.has(d)) continue;
    const got = readPoint(`${prefix}${d}/point.json`);
    if (got) c.upsert.push({ dir: d, ...got });
  }
  return c;
}

const changed = (c: Changes) => c.upsert.length + c.removed.length + c.refile.length > 0;

/** Every point directory's record, sorted by directory: a build from scratch. */
function scanAll(points: string): { dir: string; record: PointRecord; file: string; text: string }[] {
  return readdirSync(points)
    .filter((d) => !d.startsWith('.'))
    .sort()
    .flatMap((dir) => {
      const got = readPoint(join(points, dir, 'point.json'));
      return got ? [{ dir, ...got }] : [];
    });
}

// ---------------------------------------------------------------- the stores

interface Reader {
  query(sql: string): Promise<string>;
  close(): void;
}

interface Store {
  readonly name: string;
  build(): Promise<void>;
  /** The store's own part of an open: brought up to date with points/ (listing, a stat per point.json), nothing loaded into DuckDB. */
  check(): Promise<void> | void;
  open(): Promise<Reader>;
  /** Adds a point just renamed into points/. */
  append(dir: string, record: PointRecord, file: string): Promise<void> | void;
  /** Whatever the writer holds between appends (a run's connection). */
  endWriter(): void;
  /** The store's own content, not checked against points/: each directory's record as JSON text, or undefined when the store cannot be opened. */
  raw(): Promise<{ records: Map<string, string>; partialTail: boolean } | { error: string }>;
}

async function inMemory(): Promise<{ conn: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  return {
    conn,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

const readerOn = (conn: DuckDBConnection, close: () => void): Reader => ({ query: async (sql) => rowsText((await conn.runAndReadAll(sql)).getRowsJS()), close });

/** The custom index, through the code every reader uses. */
class CustomStore implements Store {
  readonly name = 'custom';
  constructor(private readonly set: ResultSet) {}

  async build(): Promise<void> {
    rmSync(join(this.set.dir, INDEX_DIR), { recursive: true, force: true });
    this.set.index().close();
    // The first reader saves the points table, as `results` does.
    (await openSetDatabase([this.set], { views: [] })).close();
  }

  check(): void {
    this.set.index().close();
  }

  async open(): Promise<Reader> {
    const db = await openSetDatabase([this.set], { views: [] });
    return readerOn(db.conn, () => db.close());
  }

  append(dir: string, record: PointRecord, file: string): void {
    appendToIndex(this.set.dir, dir, record, file);
  }

  endWriter(): void {}

  async raw(): Promise<{ records: Map<string, string>; partialTail: boolean } | { error: string }> {
    const idx = join(this.set.dir, INDEX_DIR);
    const gens = readdirSync(idx)
      .flatMap((n) => /^gen-(\d+)\.json$/.exec(n)?.[1] ?? [])
      .map(Number);
    if (gens.length === 0) return { error: 'no generation' };
    const g = Math.max(...gens);
    const records = new Map<string, string>();
    let partialTail = false;
    for (const f of [`base-${g}.jsonl`, `log-${g}.jsonl`]) {
      const text = readFileSync(join(idx, f), 'utf8');
      const lines = text.split('\n');
      // What follows the last newline is a line cut short: readers skip it, the next append cuts it off.
      if (lines.at(-1) !== '') partialTail = true;
      for (const l of lines.slice(0, -1)) {
        const o = JSON.parse(l) as { dir: string; record: unknown };
        records.set(o.dir, JSON.stringify(o.record));
      }
    }
    return { records, partialTail };
  }
}

/** The columns of a points table, with whether each holds a value (what extendTable needs). */
const built = (cols: Column[]): BuiltColumn[] => cols.map(({ name, kind, type, values }) => ({ name, kind, type, filled: values.some((v) => v !== null) }));

async function appendColumns(conn: DuckDBConnection, table: string, columns: readonly Column[]): Promise<void> {
  const app = await conn.createAppender(table);
  const n = columns[0]?.values.length ?? 0;
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

/** One DuckDB file per set: the points table itself, plus each directory's record and fileId. */
class DuckFileStore implements Store {
  readonly name = 'duckdb-file';
  private readonly file: string;
  constructor(private readonly set: ResultSet) {
    this.file = join(set.dir, 'index-duck', 'points.duckdb');
  }

  private async connect(): Promise<{ conn: DuckDBConnection; close: () => void }> {
    const instance = await DuckDBInstance.create(this.file);
    const conn = await instance.connect();
    return {
      conn,
      close: () => {
        conn.closeSync();
        instance.closeSync();
      },
    };
  }

  /** The whole store written again from these records (a build, or a change the table cannot take row by row). */
  private async writeAll(conn: DuckDBConnection, rows: { dir: string; record: PointRecord; file: string; text: string }[]): Promise<void> {
    await conn.run('BEGIN');
    await conn.run('DROP TABLE IF EXISTS points; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS layout');
    const cols = await createPointsTable(
      conn,
      rows.map((r) => ({ set: this.set.name, record: r.record })),
    );
    await conn.run('CREATE TABLE files (dir VARCHAR PRIMARY KEY, file VARCHAR NOT NULL, record VARCHAR NOT NULL)');
    await appendColumns(conn, 'files', [
      { name: 'dir', kind: 'meta', type: 'VARCHAR', values: rows.map((r) => r.dir) },
      { name: 'file', kind: 'meta', type: 'VARCHAR', values: rows.map((r) => r.file) },
      { name: 'record', kind: 'meta', type: 'VARCHAR', values: rows.map((r) => r.text) },
    ]);
    await conn.run(`CREATE TABLE layout AS SELECT ${quoteString(JSON.stringify(built(cols)))} AS columns`);
    await conn.run('COMMIT');
  }

  async build(): Promise<void> {
    rmSync(join(this.set.dir, 'index-duck'), { recursive: true, force: true });
    mkdirSync(join(this.set.dir, 'index-duck'));
    const db = await this.connect();
    try {
      await this.writeAll(db.conn, scanAll(join(this.set.dir, 'points')));
    } finally {
      db.close();
    }
  }

  /** Rows added or replaced, in one transaction; false when the table's layout cannot take them (then written again whole). */
  private async upsert(conn: DuckDBConnection, rows: { dir: string; record: PointRecord; file: string; text: string }[], removed: string[]): Promise<boolean> {
    const layout = JSON.parse((await conn.runAndReadAll('SELECT columns FROM layout')).getRowsJS()[0]![0] as string) as BuiltColumn[];
    const cols = extendTable(
      layout,
      rows.map((r) => ({ set: this.set.name, record: r.record })),
    );
    if (!cols) return false;
    await conn.run('BEGIN');
    const gone = [...removed, ...rows.map((r) => r.dir)];
    if (gone.length > 0) {
      const list = gone.map(quoteString).join(', ');
      await conn.run(`DELETE FROM points WHERE point_key || '-r' || rep IN (${list}); DELETE FROM files WHERE dir IN (${list})`);
    }
    await appendColumns(conn, 'points', cols);
    await appendColumns(conn, 'files', [
      { name: 'dir', kind: 'meta', type: 'VARCHAR', values: rows.map((r) => r.dir) },
      { name: 'file', kind: 'meta', type: 'VARCHAR', values: rows.map((r) => r.file) },
      { name: 'record', kind: 'meta', type: 'VARCHAR', values: rows.map((r) => r.text) },
    ]);
    await conn.run('COMMIT');
    return true;
  }

  /** The store brought up to date with points/, on an open connection. */
  private async bringUp(conn: DuckDBConnection): Promise<void> {
    const known = new Map((await conn.runAndReadAll('SELECT dir, file FROM files')).getRowsJS().map((r) => [r[0] as string, r[1] as string] as const));
    const c = changesSince(join(this.set.dir, 'points'), known);
    if (!changed(c)) return;
    for (const r of c.refile) await conn.run(`UPDATE files SET file = ${quoteString(r.file)} WHERE dir = ${quoteString(r.dir)}`);
    if (c.upsert.length + c.removed.length > 0 && !(await this.upsert(conn, c.upsert, c.removed))) await this.writeAll(conn, scanAll(join(this.set.dir, 'points')));
  }

  async check(): Promise<void> {
    const db = await this.connect();
    try {
      await this.bringUp(db.conn);
    } finally {
      db.close();
    }
  }

  async open(): Promise<Reader> {
    const db = await this.connect();
    try {
      await db.conn.run('SET threads = 1');
      await this.bringUp(db.conn);
      await db.conn.run('RESET threads');
      return readerOn(db.conn, db.close);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** A run cannot hold the file between commits (DuckDB locks it against every other process, readers too): open, write, close. */
  async append(dir: string, record: PointRecord, file: string): Promise<void> {
    const db = await this.connect();
    try {
      // The table takes the record as readers upgrade it (parameters typed), the store keeps it as written.
      const text = JSON.stringify(record);
      const row = { dir, record: parsePointRecord(JSON.parse(text)) as PointRecord, file, text };
      if (!(await this.upsert(db.conn, [row], []))) throw new Error('layout changed');
    } finally {
      db.close();
    }
  }

  endWriter(): void {}

  async raw(): Promise<{ records: Map<string, string>; partialTail: boolean } | { error: string }> {
    let db: Awaited<ReturnType<DuckFileStore['connect']>>;
    try {
      db = await this.connect();
    } catch (e) {
      return { error: String(e) };
    }
    try {
      const rows = (await db.conn.runAndReadAll('SELECT dir, record FROM files')).getRowsJS();
      const n = Number((await db.conn.runAndReadAll('SELECT count(*) FROM points')).getRowsJS()[0]![0]);
      if (n !== rows.length) return { error: `${rows.length} records but ${n} rows in points` };
      return { records: new Map(rows.map((r) => [r[0] as string, r[1] as string])), partialTail: false };
    } finally {
      db.close();
    }
  }
}

interface SqliteDb {
  pragma(s: string): unknown;
  exec(s: string): void;
  prepare(s: string): { run(...a: unknown[]): unknown; all(...a: unknown[]): unknown[]; get(...a: unknown[]): unknown };
  transaction<T extends (...a: never[]) => void>(f: T): T;
  close(): void;
}
type SqliteCtor = new (file: string) => SqliteDb;

/** SQLite in WAL mode: a row per directory (record, fileId, sequence); readers build the points table and save it as Parquet per sequence reached. */
class SqliteStore implements Store {
  readonly name = 'sqlite-wal';
  private readonly dir: string;
  private readonly file: string;
  private writer: { db: SqliteDb; put: { run(...a: unknown[]): unknown } } | undefined;
  constructor(
    private readonly set: ResultSet,
    private readonly Database: SqliteCtor,
  ) {
    this.dir = join(set.dir, 'index-sqlite');
    this.file = join(this.dir, 'points.sqlite');
  }

  private connect(): SqliteDb {
    const db = new this.Database(this.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS recs (dir TEXT PRIMARY KEY, file TEXT NOT NULL, record TEXT NOT NULL, seq INTEGER NOT NULL); CREATE INDEX IF NOT EXISTS recs_seq ON recs(seq)');
    return db;
  }

  private put(db: SqliteDb) {
    return db.prepare('INSERT OR REPLACE INTO recs VALUES (?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM recs))');
  }

  async build(): Promise<void> {
    this.endWriter();
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir);
    const db = this.connect();
    const put = this.put(db);
    db.transaction(() => {
      for (const r of scanAll(join(this.set.dir, 'points'))) put.run(r.dir, r.file, r.text);
    })();
    db.close();
    (await this.open()).close();
  }

  /** The store brought up to date with points/; the sequence reached and the number of records. */
  private bringUp(db: SqliteDb): { seq: number; n: number } {
    const known = new Map((db.prepare('SELECT dir, file FROM recs').all() as { dir: string; file: string }[]).map((r) => [r.dir, r.file] as const));
    const c = changesSince(join(this.set.dir, 'points'), known);
    if (changed(c)) {
      const put = this.put(db);
      const refile = db.prepare('UPDATE recs SET file = ? WHERE dir = ?');
      const del = db.prepare('DELETE FROM recs WHERE dir = ?');
      db.transaction(() => {
        for (const d of c.removed) del.run(d);
        for (const r of c.upsert) put.run(r.dir, r.file, r.text);
        for (const r of c.refile) refile.run(r.file, r.dir);
      })();
      // A removal or a replacement cannot be added to a saved table: the next table is built whole.
      if (c.removed.length > 0 || c.upsert.some((r) => known.has(r.dir))) for (const n of readdirSync(this.dir)) if (n.startsWith('table-')) rmSync(join(this.dir, n));
    }
    return db.prepare('SELECT coalesce(max(seq), 0) AS seq, count(*) AS n FROM recs').get() as { seq: number; n: number };
  }

  check(): void {
    const db = this.connect();
    try {
      this.bringUp(db);
    } finally {
      db.close();
    }
  }

  async open(): Promise<Reader> {
    const db = this.connect();
    let state: { seq: number; n: number };
    try {
      state = this.bringUp(db);
    } catch (e) {
      db.close();
      throw e;
    }
    const mem = await inMemory();
    try {
      await mem.conn.run('SET threads = 1');
      const saved = readdirSync(this.dir)
        .flatMap((n) => /^table-(\d+)\.json$/.exec(n)?.[1] ?? [])
        .map(Number)
        .filter((s) => s <= state.seq);
      const from = saved.length > 0 ? Math.max(...saved) : undefined;
      let loaded = false;
      if (from !== undefined) {
        const layout = JSON.parse(readFileSync(join(this.dir, `table-${from}.json`), 'utf8')) as BuiltColumn[];
        const since = (db.prepare('SELECT record FROM recs WHERE seq > ? ORDER BY seq').all(from) as { record: string }[]).map((r) => ({ set: this.set.name, record: parsePointRecord(JSON.parse(r.record)) as PointRecord }));
        const added = since.length > 0 ? extendTable(layout, since) : [];
        if (added) {
          await mem.conn.run(`CREATE TABLE points AS SELECT ${quoteString(this.set.name)} AS "set", * FROM read_parquet(${quoteString(join(this.dir, `table-${from}.parquet`))})`);
          if (added.length > 0) await appendColumns(mem.conn, 'points', added);
          loaded = true;
          if (since.length > 0) await this.save(mem.conn, state.seq, layout);
        }
      }
      if (!loaded) {
        const records = (db.prepare('SELECT record FROM recs ORDER BY dir').all() as { record: string }[]).map((r) => ({ set: this.set.name, record: parsePointRecord(JSON.parse(r.record)) as PointRecord }));
        const cols = await createPointsTable(mem.conn, records);
        await this.save(mem.conn, state.seq, built(cols));
      }
      await mem.conn.run('RESET threads');
    } catch (e) {
      mem.close();
      throw e;
    } finally {
      db.close();
    }
    return readerOn(mem.conn, mem.close);
  }

  private async save(conn: DuckDBConnection, seq: number, layout: BuiltColumn[]): Promise<void> {
    writeFileSync(join(this.dir, `table-${seq}.json`), JSON.stringify(layout));
    const tmp = join(this.dir, `.table-${seq}.${process.pid}.tmp`);
    await conn.run(`COPY (SELECT * EXCLUDE ("set") FROM points) TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    renameSync(tmp, join(this.dir, `table-${seq}.parquet`));
    for (const n of readdirSync(this.dir)) {
      const at = /^table-(\d+)\./.exec(n)?.[1];
      if (at !== undefined && Number(at) < seq) rmSync(join(this.dir, n), { force: true });
    }
  }

  /** A run keeps its connection open between commits: WAL lets readers in meanwhile. */
  append(dir: string, record: PointRecord, file: string): void {
    if (!this.writer) {
      const db = this.connect();
      this.writer = { db, put: this.put(db) };
    }
    this.writer.put.run(dir, file, JSON.stringify(record));
  }

  endWriter(): void {
    this.writer?.db.close();
    this.writer = undefined;
  }

  async raw(): Promise<{ records: Map<string, string>; partialTail: boolean } | { error: string }> {
    try {
      const db = this.connect();
      try {
        const rows = db.prepare('SELECT dir, record FROM recs').all() as { dir: string; record: string }[];
        return { records: new Map(rows.map((r) => [r.dir, r.record])), partialTail: false };
      } finally {
        db.close();
      }
    } catch (e) {
      return { error: String(e) };
    }
  }
}

/** better-sqlite3 when it can be loaded (it is no dependency of streambench). */
function loadSqlite(): SqliteCtor | undefined {
  const at = args.includes('--sqlite') ? [resolve(args[args.indexOf('--sqlite') + 1]!)] : [resolve('.'), resolve('.sqlite-probe')];
  for (const dir of at) {
    try {
      return createRequire(join(dir, 'package.json'))('better-sqlite3') as SqliteCtor;
    } catch {
      // Not there: the next place, else no SQLite column.
    }
  }
  return undefined;
}

function storesOf(set: ResultSet, Sqlite: SqliteCtor | undefined): Store[] {
  return [new CustomStore(set), new DuckFileStore(set), ...(Sqlite ? [new SqliteStore(set, Sqlite)] : [])];
}

// ---------------------------------------------------------------- kill -9: the child that appends

if (args[0] === '--child') {
  const [, storeName, setDir, fromText] = args;
  const set = ResultSet.open(setDir!);
  const store = storesOf(set, storeName === 'sqlite-wal' ? loadSqlite() : undefined).find((s) => s.name === storeName)!;
  writeSync(1, 'ready\n');
  for (let i = Number(fromText); ; i++) {
    const p = writePoint(setDir!, i);
    await store.append(p.dir, p.record, p.file);
    // Written straight to the pipe: what the parent reads was appended.
    writeSync(1, `${p.dir}\n`);
  }
}

// ---------------------------------------------------------------- the figures

const POINTS = flag('--points', 10_000);
const BIG = flag('--big', 100_000);
const ROUNDS = flag('--rounds', 5);
const APPENDS = flag('--appends', 100);
const KILLS = flag('--kills', 5);
/** DuckDB appends timed per batch (each takes most of a second). */
const DUCK_APPENDS = 3;
const Sqlite = loadSqlite();
const root = mkdtempSync(join(tmpdir(), 'sb-bench-stores-'));
const table: { figure: string; values: Map<string, string> }[] = [];
const row = (figure: string, values: Map<string, string>) => {
  table.push({ figure, values });
  console.log(`  ${figure}: ${[...values].map(([k, v]) => `${k} ${v}`).join(' | ')}`);
};

/** Each store's milliseconds and its ratio to the custom index's. */
function ratios(stores: Store[], times: Map<string, number>): Map<string, string> {
  const ref = times.get('custom')!;
  return new Map(stores.map((s) => [s.name, s.name === 'custom' ? `${fmt(ref)} ms` : `${fmt(times.get(s.name)!)} ms (${(times.get(s.name)! / ref).toFixed(2)}x)`]));
}
const fmt = (x: number) => x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 0);

async function figuresAt(n: number): Promise<void> {
  const dir = join(root, `set-${n}`);
  const t0 = performance.now();
  const set = makeSet(dir, n);
  console.log(`\n${n} points written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const stores = storesOf(set, Sqlite);
  const buildMs = new Map<string, number>();
  for (const s of stores) {
    const t = performance.now();
    await s.build();
    buildMs.set(s.name, performance.now() - t);
  }
  row(`build, ${n} points`, ratios(stores, buildMs));

  const checks = new Map(stores.map((s) => [s.name, [] as number[]]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < stores.length; k++) {
      const s = stores[(r + k) % stores.length]!;
      const t = performance.now();
      await s.check();
      checks.get(s.name)!.push(performance.now() - t);
    }
  }
  row(`the store's check alone, ${n} points (median of ${ROUNDS})`, ratios(stores, new Map([...checks].map(([k, v]) => [k, median(v)]))));
  const opens = new Map(stores.map((s) => [s.name, [] as number[]]));
  const queries = new Map(stores.map((s) => [s.name, [] as number[]]));
  const answers = new Map<string, string>();
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < stores.length; k++) {
      const s = stores[(r + k) % stores.length]!;
      let t = performance.now();
      const reader = await s.open();
      opens.get(s.name)!.push(performance.now() - t);
      t = performance.now();
      answers.set(s.name, await reader.query(SQL));
      queries.get(s.name)!.push(performance.now() - t);
      reader.close();
    }
  }
  const same = [...answers.values()].every((a) => a === answers.get('custom'));
  row(`open, ${n} points (median of ${ROUNDS})`, ratios(stores, new Map([...opens].map(([k, v]) => [k, median(v)]))));
  row(`query, ${n} points`, ratios(stores, new Map([...queries].map(([k, v]) => [k, median(v)]))));
  row(`open + query, ${n} points`, ratios(stores, new Map(stores.map((s) => [s.name, median(opens.get(s.name)!.map((o, i) => o + queries.get(s.name)![i]!))]))));
  console.log(`  same answer from every store: ${same}`);

  // Appends, in ROUNDS batches: each new point renamed into points/ once, then added to every store,
  // the order rotated; after each batch, each store's first reader (a GUI following the run). A
  // DuckDB append takes most of a second here: only the first few of a batch are timed, the rest
  // are taken up by its next check in one transaction (untimed).
  const appends = new Map(stores.map((s) => [s.name, [] as number[]]));
  const after = new Map(stores.map((s) => [s.name, [] as number[]]));
  const afterAnswers = new Map<string, string>();
  const batch = Math.max(1, Math.round(APPENDS / ROUNDS));
  let added = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < batch; i++) {
      const p = writePoint(dir, n + added++);
      for (let k = 0; k < stores.length; k++) {
        const s = stores[(i + k) % stores.length]!;
        if (s.name === 'duckdb-file' && i >= DUCK_APPENDS) continue;
        const t = performance.now();
        await s.append(p.dir, p.record, p.file);
        appends.get(s.name)!.push(performance.now() - t);
      }
    }
    for (const s of stores) s.endWriter();
    const duck = stores.find((s) => s.name === 'duckdb-file');
    if (duck && batch > DUCK_APPENDS) await duck.check();
    for (let k = 0; k < stores.length; k++) {
      const s = stores[(r + k) % stores.length]!;
      const t = performance.now();
      const reader = await s.open();
      afterAnswers.set(s.name, await reader.query(CHECK_SQL));
      after.get(s.name)!.push(performance.now() - t);
      reader.close();
    }
  }
  row(`append, ${n} points (median of ${added}; duckdb-file: of ${appends.get('duckdb-file')!.length})`, ratios(stores, new Map([...appends].map(([k, v]) => [k, median(v)]))));
  row(`append, ${n} points (mean, compactions/checkpoints included)`, ratios(stores, new Map([...appends].map(([k, v]) => [k, mean(v)]))));
  row(`reader right after ${batch} appends, ${n} points (open + query, median of ${ROUNDS})`, ratios(stores, new Map([...after].map(([k, v]) => [k, median(v)]))));
  const agree = [...afterAnswers.values()].every((a) => a === afterAnswers.get('custom'));
  console.log(`  same answer from every store after the appends: ${agree} (${agree ? afterAnswers.get('custom') : [...afterAnswers].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  rmSync(dir, { recursive: true, force: true });
}

/** kill -9 during appends, `KILLS` times per store, each on a set of its own. */
async function killTest(name: string): Promise<string> {
  const dir = join(root, `kill-${name}`);
  const set = makeSet(dir, 2000);
  const store = storesOf(set, Sqlite).find((s) => s.name === name)!;
  await store.build();
  let next = 2000;
  let acked = 0;
  let tails = 0;
  const problems: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', name, dir, String(next)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const said: string[] = [];
    let err = '';
    let buf = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Killed at a random moment once the first append is done (a DuckDB append takes most of a second here).
    const first = new Promise<void>((ok) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          if (l === 'ready') continue;
          said.push(l);
          ok();
        }
      });
    });
    const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
    await Promise.race([first, exited]);
    await new Promise((ok) => setTimeout(ok, Math.random() * 1500));
    child.kill('SIGKILL');
    await exited;
    if (said.length === 0) problems.push(`round ${k}: no append before the kill (${err.trim().split('\n').at(-1) ?? ''})`);
    acked += said.length;
    next += said.length + 50;
    const raw = await store.raw();
    if ('error' in raw) {
      problems.push(`round ${k}: the store does not open: ${raw.error}`);
      continue;
    }
    if (raw.partialTail) tails++;
    const missing = said.filter((d) => !raw.records.has(d));
    if (missing.length > 0) problems.push(`round ${k}: ${missing.length} acknowledged appends missing`);
    // Every record the store holds is the complete one of its point.json.
    let wrong = 0;
    for (const [d, text] of raw.records) {
      const got = readPoint(join(dir, 'points', d, 'point.json'));
      if (!got || got.text !== JSON.stringify(JSON.parse(text))) wrong++;
    }
    if (wrong > 0) problems.push(`round ${k}: ${wrong} records unlike their point.json`);
    // And a reader sees every point of points/.
    const reader = await store.open();
    const count = (JSON.parse(await reader.query('select count(*) from points')) as number[][])[0]![0];
    reader.close();
    const onDisk = readdirSync(join(dir, 'points')).length;
    if (count !== onDisk) problems.push(`round ${k}: a reader sees ${count} points of ${onDisk}`);
    rmSync(join(dir, '.staging'), { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  return problems.length === 0 ? `ok: ${KILLS} kills, ${acked} acknowledged appends all held${tails > 0 ? `, ${tails}x a partial last line (skipped)` : ''}` : `FAILED: ${problems.join('; ')}`;
}

/** Point files and directories changed with their modification times set back: does the next reader see it? */
async function laggingMtimes(stores: Store[], set: ResultSet): Promise<Map<string, string>> {
  const points = join(set.dir, 'points');
  const dirs = readdirSync(points).sort();
  const back = (path: string, st: { atime: Date; mtime: Date }) => utimesSync(path, st.atime, st.mtime);
  const ask = async (s: Store) => {
    const reader = await s.open();
    try {
      return JSON.parse(await reader.query(CHECK_SQL)) as [number, number][];
    } finally {
      reader.close();
    }
  };
  const truth = () => {
    let fps = 0;
    let n = 0;
    for (const r of scanAll(points)) {
      n++;
      fps += Number(r.record.metrics['client.fps']);
    }
    return [n, fps] as const;
  };
  const cases: [string, () => void][] = [
    [
      'point.json rewritten in place, same size, mtimes set back',
      () => {
        const d = dirs[10]!;
        const f = join(points, d, 'point.json');
        const st = statSync(f);
        const pst = statSync(points);
        const dst = statSync(join(points, d));
        const text = readFileSync(f, 'utf8');
        writeFileSync(
          f,
          text.replace(/("client\.fps": )(\d)/, (_, a: string, b: string) => `${a}${b === '9' ? '1' : '9'}`),
        );
        back(f, st);
        back(join(points, d), dst);
        back(points, pst);
      },
    ],
    [
      'point.json replaced by rename, same size, mtimes set back',
      () => {
        const d = dirs[20]!;
        const f = join(points, d, 'point.json');
        const st = statSync(f);
        const pst = statSync(points);
        const dst = statSync(join(points, d));
        const text = readFileSync(f, 'utf8');
        writeFileSync(
          `${f}.tmp`,
          text.replace(/("client\.fps": )(\d)/, (_, a: string, b: string) => `${a}${b === '9' ? '1' : '9'}`),
        );
        renameSync(`${f}.tmp`, f);
        back(f, st);
        back(join(points, d), dst);
        back(points, pst);
      },
    ],
    [
      'a point copied in with its times (cp -p), points/ mtime set back',
      () => {
        const pst = statSync(points);
        const src = join(root, 'outside');
        rmSync(src, { recursive: true, force: true });
        mkdirSync(join(src, 'points'), { recursive: true });
        mkdirSync(join(src, '.staging'));
        const p = writePoint(src, 900_000);
        cpSync(join(src, 'points', p.dir), join(points, p.dir), { recursive: true, preserveTimestamps: true });
        back(points, pst);
      },
    ],
    [
      'a point removed, points/ mtime set back',
      () => {
        const pst = statSync(points);
        rmSync(join(points, dirs[30]!), { recursive: true });
        back(points, pst);
      },
    ],
  ];
  const seen = new Map(stores.map((s) => [s.name, [] as string[]]));
  for (const [what, act] of cases) {
    act();
    const [n, fps] = truth();
    for (const s of stores) {
      const [[gotN, gotFps]] = (await ask(s)) as [[number, number]];
      const ok = gotN === n && Math.abs(gotFps - fps) < 1e-6 * Math.abs(fps);
      seen.get(s.name)!.push(ok ? 'seen' : 'MISSED');
    }
    console.log(`  ${what}: ${stores.map((s) => `${s.name} ${seen.get(s.name)!.at(-1)}`).join(' | ')}`);
  }
  return new Map([...seen].map(([k, v]) => [k, v.every((x) => x === 'seen') ? `all ${v.length} seen` : v.join(', ')]));
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on this machine's cores; Node ${process.version}; stores: custom, duckdb-file${Sqlite ? ', sqlite-wal' : ' (sqlite-wal left out: better-sqlite3 not found, see --sqlite)'}`,
);
await figuresAt(POINTS);
if (BIG > 0) await figuresAt(BIG);

console.log('\nrobustness');
{
  const set = makeSet(join(root, 'lag'), 2000);
  const stores = storesOf(set, Sqlite);
  for (const s of stores) await s.build();
  row('lagging mtimes (4 cases)', await laggingMtimes(stores, set));
}
{
  // A run appends while a reader has the store open (the GUI's server, a long export): the child
  // process's first append must get through within 10 s.
  const held = new Map<string, string>();
  for (const name of ['custom', 'duckdb-file', ...(Sqlite ? ['sqlite-wal'] : [])]) {
    const dir = join(root, `held-${name}`);
    const set = makeSet(dir, 500);
    const store = storesOf(set, Sqlite).find((s) => s.name === name)!;
    await store.build();
    const reader = await store.open();
    const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', name, dir, '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const got = await new Promise<string>((ok) => {
      const timer = setTimeout(() => ok('no append in 10 s'), 10_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').length > 2) {
          clearTimeout(timer);
          ok('ok');
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        ok(/Could not set lock/.test(err) ? 'refused: DuckDB "Could not set lock on file" (the reader holds it)' : `the append failed: ${err.trim().split('\n').at(-1)?.slice(0, 120)}`);
      });
    });
    child.kill('SIGKILL');
    reader.close();
    held.set(name, got);
    rmSync(dir, { recursive: true, force: true });
  }
  row('a run appends while a reader has the store open', held);
}
if (KILLS > 0) {
  const killed = new Map<string, string>();
  for (const name of ['custom', 'duckdb-file', ...(Sqlite ? ['sqlite-wal'] : [])]) killed.set(name, await killTest(name));
  row('kill -9 during appends', killed);
}

console.log('\n| figure | ' + [...table[0]!.values.keys()].join(' | ') + ' |');
console.log('|---|' + [...table[0]!.values.keys()].map(() => '---').join('|') + '|');
for (const t of table) console.log(`| ${t.figure} | ${[...t.values.values()].join(' | ')} |`);
rmSync(root, { recursive: true, force: true });
if (!existsSync(root)) process.exit(0);
