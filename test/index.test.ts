// The result-set index (src/store/index-file.ts): readers answer from index/ instead of every
// point.json, and the answers are the point.json files' answers whatever happened to the set:
// a set written before the index existed, points committed while it is read, points moved out,
// copied in or run again, a log cut short by kill -9, a disk that refuses the index. Real files,
// real child processes writing while this one reads, real DuckDB, real tmpfs mounts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { createPointsTable, openSetDatabase } from '../src/store/database.ts';
import { EXPORTERS } from '../src/store/export.ts';
import { INDEX_DIR, readPointFile, rebuild } from '../src/store/index-file.ts';
import { parsePointRecord, type PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { extendTable, pointsTable, type BuiltColumn } from '../src/store/table.ts';
import { runCli } from './helpers/cli.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = new URL('..', import.meta.url).pathname;
const FIXTURE = join(root, 'test/fixtures/sets/old-3pt');
const work = mkdtempSync(join(tmpdir(), 'sb-index-'));
const mounts: string[] = [];

after(() => {
  // Always, failed tests included: a tmpfs left mounted would outlive the test run.
  for (const m of mounts.reverse()) if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

let seq = 0;
const fresh = (name: string) => join(work, `${name}-${seq++}`);

function record(key: string, rep: number, params: PointRecord['params'], metrics: PointRecord['metrics']): Omit<PointRecord, 'files' | 'format'> {
  return {
    key,
    rep,
    index: 0,
    params,
    outcome: { status: 'ok' },
    attempts: 1,
    workload: 'command',
    benchmark: { name: 'b', sha256: 'x' },
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    wallS: 1,
    metrics,
    flags: [],
  };
}

function commit(set: ResultSet, key: string, metrics: PointRecord['metrics'], params: PointRecord['params'] = { codec: 'h264', rate: 1 }): string | undefined {
  const w = set.beginPoint(key, 1);
  w.writeText('stdout.log', `${key}\n`);
  w.commit(record(key, 1, params, metrics));
  return w.indexError;
}

/** The generation the index is at (changes when it is rebuilt or compacted). */
function generation(set: ResultSet): string | undefined {
  const h = readdirSync(join(set.dir, INDEX_DIR)).find((n) => /^gen-\d+\.json$/.test(n));
  return h ? (JSON.parse(readFileSync(join(set.dir, INDEX_DIR, h), 'utf8')) as { id: string }).id : undefined;
}

/** What the points table says, row by row in point order, as text: compared against the table built from every point.json. */
async function table(set: ResultSet): Promise<string> {
  const db = await openSetDatabase([set], { views: [] });
  try {
    const r = await db.conn.runAndReadAll('SELECT * FROM points ORDER BY point_key, rep');
    const types = db.columns.map((c) => `${c.name}:${c.type}:${c.kind}`);
    return JSON.stringify({ types, names: r.columnNames(), rows: r.getRowsJS() }, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } finally {
    db.close();
  }
}

/** The same from every point.json, as the set was read before it had an index. */
async function tableFromPoints(set: ResultSet): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const cols = await createPointsTable(
      conn,
      set.scanPoints().map((record) => ({ set: set.name, record })),
    );
    const r = await conn.runAndReadAll('SELECT * FROM points ORDER BY point_key, rep');
    const types = cols.map((c) => `${c.name}:${c.type}:${c.kind}`);
    return JSON.stringify({ types, names: r.columnNames(), rows: r.getRowsJS() }, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function assertSameAnswers(set: ResultSet, why: string): Promise<void> {
  assert.deepEqual(set.points(), set.scanPoints(), `${why}: records`);
  assert.equal(await table(set), await tableFromPoints(set), `${why}: points table`);
}

/** `results export --format csv` as it was computed before the index: from every point.json. */
async function exportFromPoints(set: ResultSet): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const file = join(work, `export-${seq++}.csv`);
  try {
    await createPointsTable(
      conn,
      set.scanPoints().map((record) => ({ set: set.name, record })),
    );
    await EXPORTERS['csv']!.write(conn, 'SELECT * FROM points ORDER BY point_key, rep', file);
    return readFileSync(file, 'utf8');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const cli = (args: string[]) => runCli(args, { env: { STREAMBENCH_DEBUG: '' } });

test('a set written before the index: the first read builds it; export and show answer as from every point.json', async () => {
  const dir = fresh('old');
  cpSync(FIXTURE, dir, { recursive: true });
  assert.ok(!existsSync(join(dir, INDEX_DIR)));
  const set = ResultSet.open(dir);
  const fromPoints = await exportFromPoints(set);
  const exp = cli(['results', 'export', dir, '--format', 'csv']);
  assert.equal(exp.code, 0, exp.err);
  assert.ok(existsSync(join(dir, INDEX_DIR)), 'the first read wrote the index');
  assert.equal(exp.out, fromPoints);
  // What export printed before the index existed: the same points, outcomes and errors (names of metrics may have changed since).
  const keep = (csv: string) =>
    csv
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').slice(0, 6).join(','));
  assert.deepEqual(keep(exp.out), keep(readFileSync(`${FIXTURE}.export.csv`, 'utf8')));
  const gen = generation(set);
  assert.ok(gen);
  const again = cli(['results', 'export', dir, '--format', 'csv']);
  assert.equal(again.out, fromPoints, 'from the index and its saved table');
  assert.equal(generation(set), gen, 'read again from the index, not rebuilt');
  // show: from the index as built (the records just scanned), then from it as saved.
  const shown = cli(['results', 'show', dir]);
  rmSync(join(dir, INDEX_DIR), { recursive: true });
  const rebuilt = cli(['results', 'show', dir]);
  assert.equal(rebuilt.code, 0, rebuilt.err);
  assert.match(rebuilt.out, /: 3 point\(s\)/);
  assert.equal(shown.out, rebuilt.out);
  assert.equal(cli(['results', 'show', dir]).out, rebuilt.out);
  await assertSameAnswers(set, 'fixture');
});

test('points are appended as they land; a --force rerun replaces its record; nothing is rebuilt for either', async () => {
  const set = ResultSet.openOrCreate(fresh('append'), 'b');
  commit(set, 'aaaa', { fps: 30 });
  assert.equal(set.points().length, 1);
  const gen = generation(set);
  assert.equal(await table(set), await tableFromPoints(set));
  for (const [i, key] of ['bbbb', 'cccc', 'dddd'].entries()) assert.equal(commit(set, key, { fps: 31 + i, psnr: 40.5 }), undefined);
  const log = readFileSync(join(set.dir, INDEX_DIR, `log-${gen!.split('.')[0]}.jsonl`), 'utf8');
  assert.equal(log.split('\n').filter(Boolean).length, 3, 'one line per commit');
  await assertSameAnswers(set, 'appended');
  // A rerun with a value that changes the column's type (30 -> 29.5): the table is built again, typed as from the point.json files.
  commit(set, 'aaaa', { fps: 29.5 });
  assert.equal(set.points().find((p) => p.key === 'aaaa')!.metrics['fps'], 29.5);
  await assertSameAnswers(set, 'replaced');
  assert.match(await table(set), /"fps:DOUBLE:metric"/);
  // And one that keeps the types: the saved table is extended, the old row replaced, not kept beside the new one.
  commit(set, 'bbbb', { fps: 41.5, psnr: 40.5 });
  await assertSameAnswers(set, 'replaced, same types');
  assert.equal(generation(set), gen, 'appended, never rebuilt');
});

test('commits landing while the index is rebuilt are carried into the new generation', async () => {
  const set = ResultSet.openOrCreate(fresh('carry'), 'b');
  for (const key of ['aaaa', 'bbbb']) commit(set, key, { fps: 30 });
  set.points();
  const before = generation(set);
  let landed = false;
  const view = rebuild({
    dir: set.dir,
    runActive: () => true,
    readPoint: (dir) => {
      // The engine commits while the rebuild reads the points: a new point, and a rerun of one being read.
      if (!landed) {
        landed = true;
        commit(set, 'cccc', { fps: 31 });
        commit(set, 'aaaa', { fps: 32 });
      }
      const got = readPointFile(join(dir, 'point.json'));
      if (!got) return undefined;
      const written = JSON.parse(got.bytes.toString('utf8')) as unknown;
      return { record: parsePointRecord(written) as PointRecord, written, file: got.file };
    },
  });
  view.close();
  const after = generation(set);
  assert.notEqual(after, before);
  assert.deepEqual(
    set.points().map((p) => [p.key, p.metrics['fps']]),
    [
      ['aaaa', 32],
      ['bbbb', 30],
      ['cccc', 31],
    ],
  );
  assert.equal(generation(set), after, 'what landed meanwhile was carried over: no second rebuild');
  await assertSameAnswers(set, 'carried over');
});

test('stale: a point moved out, a point copied in from another set, a point replaced by hand; all rebuilt from points/', async () => {
  const set = ResultSet.openOrCreate(fresh('stale'), 'b');
  for (const key of ['aaaa', 'bbbb', 'cccc']) commit(set, key, { fps: 30 });
  await assertSameAnswers(set, 'start');
  let gen = generation(set);

  // As error messages tell users to do with a damaged point.
  renameSync(set.pointDir('bbbb', 1), join(work, `moved-out-${seq++}`));
  assert.deepEqual(
    set.points().map((p) => p.key),
    ['aaaa', 'cccc'],
  );
  assert.notEqual(generation(set), gen, 'rebuilt');
  await assertSameAnswers(set, 'moved out');

  const other = ResultSet.openOrCreate(fresh('other'), 'b');
  commit(other, 'eeee', { fps: 12, extra: 'yes' }, { codec: 'vp8', rate: 2 });
  gen = generation(set);
  cpSync(other.pointDir('eeee', 1), set.pointDir('eeee', 1), { recursive: true });
  assert.deepEqual(
    set.points().map((p) => p.key),
    ['aaaa', 'cccc', 'eeee'],
  );
  assert.notEqual(generation(set), gen, 'rebuilt');
  await assertSameAnswers(set, 'copied in');

  // Same name, other record: only points/'s mtime can tell. Time passes first, so the mtime moves whatever its granularity.
  gen = generation(set);
  const elsewhere = fresh('replacement');
  const src = ResultSet.openOrCreate(elsewhere, 'b');
  commit(src, 'cccc', { fps: 99 });
  await new Promise((r) => setTimeout(r, 50));
  rmSync(set.pointDir('cccc', 1), { recursive: true });
  renameSync(src.pointDir('cccc', 1), set.pointDir('cccc', 1));
  assert.equal(set.points().find((p) => p.key === 'cccc')!.metrics['fps'], 99);
  assert.notEqual(generation(set), gen, 'rebuilt');
  await assertSameAnswers(set, 'replaced by hand');
});

test('a partial last line (kill -9 mid-append) is skipped by readers and cut off by the next append', async () => {
  const set = ResultSet.openOrCreate(fresh('partial'), 'b');
  commit(set, 'aaaa', { fps: 30 });
  set.points();
  const gen = generation(set)!;
  commit(set, 'bbbb', { fps: 31 });
  const log = join(set.dir, INDEX_DIR, `log-${gen.split('.')[0]}.jsonl`);
  // What a write cut short leaves: the start of a line for a point that is in points/ already.
  const whole = readFileSync(log, 'utf8');
  appendFileSync(log, whole.slice(0, Math.floor(whole.length / 2)));
  await assertSameAnswers(set, 'with a partial line');
  assert.equal(generation(set), gen, 'the partial line did not make the index stale');
  commit(set, 'cccc', { fps: 32 });
  const text = readFileSync(log, 'utf8');
  assert.ok(text.endsWith('\n'));
  assert.deepEqual(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { dir: string }).dir),
    ['bbbb-r1', 'cccc-r1'],
    'every line whole, the partial one gone',
  );
  await assertSameAnswers(set, 'repaired');
  assert.equal(generation(set), gen);
});

/** A child process that runs like the engine: holds the set's lock and commits `n` points, rerunning every 7th an earlier one. */
function writer(dir: string, n: number, compactBytes: number): ReturnType<typeof spawn> {
  const code = `
    import { ResultSet } from ${JSON.stringify(join(root, 'src/store/resultset.ts'))};
    import { INDEX_LIMITS } from ${JSON.stringify(join(root, 'src/store/index-file.ts'))};
    INDEX_LIMITS.compactMinBytes = ${compactBytes};
    const set = ResultSet.open(${JSON.stringify(dir)});
    const unlock = set.lock(() => true);
    let next = 0;
    for (let i = 0; i < ${n}; i++) {
      const rerun = i % 7 === 6;
      const at = rerun ? next - 5 : next++;
      const key = 'k' + String(at).padStart(5, '0');
      const w = set.beginPoint(key, 1);
      w.writeText('stdout.log', key);
      w.commit({ key, rep: 1, index: at, params: { codec: 'h264', rate: at }, outcome: { status: 'ok' }, attempts: 1, workload: 'command',
        benchmark: { name: 'b', sha256: 'x' }, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', wallS: 1,
        metrics: { at, version: rerun ? 2 : 1, fps: 30 + (at % 5) }, flags: [] });
      if (w.indexError) throw new Error(w.indexError);
    }
    unlock();
  `;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Keys committed so far must be k00000.. in order with no gap: a consistent prefix. */
function assertPrefix(keys: string[], why: string): void {
  keys.forEach((k, i) => assert.equal(k, `k${String(i).padStart(5, '0')}`, `${why}: a prefix of the commits (${keys.length} points)`));
}

test('readers during a running write see a consistent set, and never hold the writer up, through appends, compactions and rebuilds', async () => {
  const set = ResultSet.openOrCreate(fresh('live'), 'b');
  set.points(); // an index from the start, so the writer appends
  const n = 300;
  // A tiny compaction threshold: the writer switches generations all along, under the readers' feet.
  const child = writer(set.dir, n, 8 * 1024);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exited = false as boolean; // set when the writer ends
  void done.then(() => (exited = true));
  let reads = 0;
  let lastCount = 0;
  while (!exited) {
    const recs = set.points();
    assertPrefix(
      recs.map((r) => r.key),
      'records',
    );
    for (const r of recs) assert.equal(r.metrics['at'], r.index, 'each record whole');
    const db = await openSetDatabase([set], { views: [] });
    try {
      const rows = (await db.conn.runAndReadAll('SELECT point_key FROM points ORDER BY point_key')).getRowsJS();
      assertPrefix(
        rows.map((r) => r[0] as string),
        'table',
      );
      assert.ok(rows.length >= lastCount, 'the table never loses a point');
      lastCount = rows.length;
    } finally {
      db.close();
    }
    // Now and then, the index deleted: readers rebuild it while the writer goes on appending.
    if (reads % 5 === 4 && existsSync(join(set.dir, INDEX_DIR))) {
      // Moved away whole (rm -r would race with the writer's files appearing in it).
      const gone = fresh('deleted-index');
      renameSync(join(set.dir, INDEX_DIR), gone);
      rmSync(gone, { recursive: true, force: true });
    }
    reads++;
  }
  assert.equal(await done, 0, err);
  assert.ok(reads >= 2, `read while writing (${reads} reads)`);
  await assertSameAnswers(set, 'after the run');
  const last = set.points();
  assert.equal(last.length, n - Math.floor(n / 7));
  assert.equal(last.find((p) => p.key === 'k00001')!.metrics['version'], 2, 'a rerun replaced its record');
});

test('kill -9 of a writer at any moment: the next read answers as the point.json files do', async () => {
  const set = ResultSet.openOrCreate(fresh('killed'), 'b');
  set.points();
  const committed = () => readdirSync(join(set.dir, 'points')).length;
  // Killed once it has committed a few more points each time: anywhere in a commit, an append or a compaction.
  for (const more of [3, 11, 29]) {
    const start = committed();
    const child = writer(set.dir, 100_000, 4 * 1024);
    const exited = new Promise((r) => child.on('exit', r));
    while (committed() < start + more && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    set.cleanStaging();
    rmSync(join(set.dir, '.lock'), { force: true });
    await assertSameAnswers(set, `killed after ${committed() - start} more points`);
  }
});

/** Mounts a tmpfs of kb KiB at dir, or says why it cannot here. */
function tmpfs(dir: string, kb: number): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount not permitted here: ${r.stderr.trim()}`;
  mounts.push(dir);
  return undefined;
}

test('an index the disk refuses (read-only, full): the point is committed all the same, readers still answer, the index is rebuilt once it can be', async (t) => {
  const set = ResultSet.openOrCreate(fresh('refused'), 'b');
  commit(set, 'aaaa', { fps: 30 });
  set.points();
  // index/ on a file system of its own, so that only the index is refused.
  const idx = join(set.dir, INDEX_DIR);
  const saved = fresh('saved-index');
  renameSync(idx, saved);
  const skip = tmpfs(idx, 256);
  if (skip) {
    t.skip(skip);
    return;
  }
  cpSync(saved, idx, { recursive: true });
  assert.equal(set.points().length, 1);

  assert.equal(spawnSync('mount', ['-o', 'remount,ro', idx]).status, 0);
  const err = commit(set, 'bbbb', { fps: 31 });
  assert.match(err ?? '', /cannot add the point to the index of .*read-only file system \(EROFS\)/);
  assert.ok(existsSync(join(set.pointDir('bbbb', 1), 'point.json')), 'the point is recorded');
  await assertSameAnswers(set, 'read-only index');
  const q = cli(['results', 'query', set.dir, 'select count(*) as n from points']);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /\n2\s*\n/);

  assert.equal(spawnSync('mount', ['-o', 'remount,rw', idx]).status, 0);
  // Full: what is left is less than a line.
  const s = statfsSync(idx);
  writeFileSync(join(idx, 'filler'), Buffer.alloc(s.bavail * s.bsize - 0));
  const full = commit(set, 'cccc', { fps: 32, note: 'x'.repeat(8192) });
  assert.match(full ?? '', /no space left on device \(ENOSPC\)/);
  assert.ok(existsSync(join(set.pointDir('cccc', 1), 'point.json')));
  await assertSameAnswers(set, 'full index disk');

  rmSync(join(idx, 'filler'));
  const gen = generation(set);
  await assertSameAnswers(set, 'space again');
  assert.notEqual(generation(set), gen, 'rebuilt and saved once the disk took it');
  const g2 = generation(set);
  await assertSameAnswers(set, 'read again');
  assert.equal(generation(set), g2, 'and read from it since');
});

test('extendTable gives the columns pointsTable gives over old and new rows together, or declines', () => {
  // Seeded: the same cases every run.
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  // Each column draws from one pool per case, mostly of one type: the cases where the types agree are the ones that extend.
  const pools: PointRecord['metrics'][string][][] = [
    [1, 2, 10],
    [1, 2, 10],
    [3.5, -0.25, 2],
    [3.5, 2, 7],
    ['h264', 'N/A'],
    [true, false],
    [1, 3.5, 'h264', true],
  ];
  let extended = 0;
  let declined = 0;
  for (let c = 0; c < 400; c++) {
    const paramSets = [
      ['codec', 'rate'],
      ['codec', 'rate'],
      ['codec', 'rate'],
      ['rate', 'codec'],
      ['codec', 'rate', 'fps'],
    ];
    const metricNames = ['fps', 'psnr', 'rate', 'status', 'lat'];
    const pool = Object.fromEntries([...metricNames, 'codec', 'rate'].map((n) => [n, pick(pools)]));
    const value = (name: string) => pick(pool[name]!);
    const rows = Array.from({ length: 2 + Math.floor(rnd() * 8) }, (_, i) => {
      const params = Object.fromEntries((rnd() < 0.8 ? paramSets[0]! : pick(paramSets)).map((p) => [p, value(p)])) as PointRecord['params'];
      const metrics = Object.fromEntries(metricNames.filter(() => rnd() < 0.8).map((m) => [m, value(m)])) as PointRecord['metrics'];
      return { set: 's', record: { ...record(`k${String(i).padStart(3, '0')}`, 1, params, metrics), format: 1, files: [] } };
    });
    const cut = 1 + Math.floor(rnd() * (rows.length - 1));
    const order = rows.map((_, i) => i).sort(() => rnd() - 0.5);
    const old = order
      .slice(0, cut)
      .sort((a, b) => a - b)
      .map((i) => rows[i]!);
    const added = order
      .slice(cut)
      .sort((a, b) => a - b)
      .map((i) => rows[i]!);
    const built: BuiltColumn[] = pointsTable(old).map(({ name, kind, type, values }) => ({ name, kind, type, filled: values.some((v) => v !== null) }));
    const ext = extendTable(built, added);
    const whole = pointsTable(rows);
    if (!ext) {
      declined++;
      continue;
    }
    extended++;
    assert.deepEqual(
      ext.map(({ name, kind, type }) => ({ name, kind, type })),
      whole.map(({ name, kind, type }) => ({ name, kind, type })),
      `case ${c}: same columns`,
    );
    const pos = added.map((r) => rows.indexOf(r));
    for (const [j, col] of ext.entries())
      assert.deepEqual(
        col.values,
        pos.map((i) => whole[j]!.values[i]),
        `case ${c}: ${col.name}`,
      );
  }
  assert.ok(extended > 40 && declined > 40, `both ways tried (${extended} extended, ${declined} declined)`);
});
