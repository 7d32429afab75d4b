import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoreError } from '../base/errors.ts';
import { openSetDatabase } from './database.ts';
import { EXPORTERS } from './export.ts';
import { writeSeriesParquet } from './parquet.ts';
import type { PointRecord } from './records.ts';
import { listResultSets, ResultSet } from './resultset.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'sb-store-'));

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

test('a staged point is invisible until commit, and commit lists its files', () => {
  const set = ResultSet.openOrCreate(join(tmp(), 's'), 'b');
  const w = set.beginPoint('aaaa', 1);
  w.writeText('stdout.log', 'hello');
  assert.equal(set.points().length, 0);
  assert.equal(set.read('aaaa', 1), undefined);
  const r = w.commit(record('aaaa', 1, { p: 1 }, { m: 2 }));
  assert.deepEqual(r.files, ['stdout.log']);
  assert.deepEqual(set.read('aaaa', 1)?.metrics, { m: 2 });
  assert.equal(readFileSync(join(set.pointDir('aaaa', 1), 'stdout.log'), 'utf8'), 'hello');
});

test('a staging directory left by kill -9 is cleaned; a record moved aside by a killed rerun is put back', () => {
  const set = ResultSet.openOrCreate(join(tmp(), 's'), 'b');
  set.beginPoint('aaaa', 1).commit(record('aaaa', 1, { p: 1 }, { m: 1 }));
  set.beginPoint('bbbb', 1).writeText('half.log', 'x'); // never committed
  // What a --force rerun killed between its two renames leaves: the old record aside, no final dir.
  mkdirSync(join(set.dir, '.staging'), { recursive: true });
  renameSync(set.pointDir('aaaa', 1), join(set.dir, '.staging', 'aaaa-r1.old.12345'));
  assert.equal(set.points().length, 0);
  set.cleanStaging();
  assert.ok(!existsSync(join(set.dir, '.staging')));
  assert.deepEqual(
    set.points().map((p) => p.key),
    ['aaaa'],
  );
});

test('commit over an earlier record replaces it whole', () => {
  const set = ResultSet.openOrCreate(join(tmp(), 's'), 'b');
  const w1 = set.beginPoint('aaaa', 1);
  w1.writeText('old.log', 'x');
  w1.commit(record('aaaa', 1, { p: 1 }, { m: 1 }));
  set.beginPoint('aaaa', 1).commit(record('aaaa', 1, { p: 1 }, { m: 9 }));
  assert.equal(set.points().length, 1);
  assert.equal(set.read('aaaa', 1)?.metrics['m'], 9);
  assert.deepEqual(readdirSync(set.pointDir('aaaa', 1)), ['point.json']);
});

test('the lock refuses a live holder and takes over from a dead one', () => {
  const set = ResultSet.openOrCreate(join(tmp(), 's'), 'b');
  const lock = join(set.dir, '.lock');
  writeFileSync(lock, JSON.stringify({ pid: 4242, host: hostname() }));
  assert.throws(() => set.lock((pid) => pid === 4242), /in use by process 4242/);
  assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid, 4242, 'a refused run leaves the lock alone');
  const release = set.lock(() => false);
  assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid, process.pid);
  release();
  assert.ok(!existsSync(lock));
});

test('a non-empty directory that is not a set is refused; a set dir lists itself', () => {
  const root = tmp();
  writeFileSync(join(root, 'precious.txt'), 'x');
  assert.throws(() => ResultSet.openOrCreate(root, 'b'), StoreError);
  assert.equal(readFileSync(join(root, 'precious.txt'), 'utf8'), 'x');
  const set = ResultSet.openOrCreate(join(root, 's'), 'b');
  assert.deepEqual(
    listResultSets(root).map((s) => s.dir),
    [set.dir],
  );
  assert.deepEqual(
    listResultSets(set.dir).map((s) => s.dir),
    [set.dir],
  );
});

test('DuckDB reads the set: typed columns, metric/param name clash, time series view, exports', async () => {
  const root = tmp();
  const set = ResultSet.openOrCreate(join(root, 's'), 'b');
  for (const [key, crf, psnr] of [
    ['k1', 23, 40.5],
    ['k2', 33, 35.25],
  ] as const) {
    const w = set.beginPoint(key, 1);
    await writeSeriesParquet(w.path('timeseries.parquet'), { t: [0, 0.1, 0.2], rss_mb: [1, 2, crf] });
    w.commit(record(key, 1, { crf, codec: 'h264' }, { psnr, crf: 'clash', frames: 10, ok: true }));
  }
  const db = await openSetDatabase([set]);
  try {
    const types = Object.fromEntries(db.columns.map((c) => [c.name, c.type]));
    assert.equal(types['crf'], 'BIGINT');
    assert.equal(types['psnr'], 'DOUBLE');
    assert.equal(types['codec'], 'VARCHAR');
    assert.equal(types['ok'], 'BOOLEAN');
    assert.equal(types['metric.crf'], 'VARCHAR');
    const r = await db.conn.runAndReadAll('SELECT crf, psnr FROM points ORDER BY crf');
    assert.deepEqual(r.getRowObjectsJson(), [
      { crf: '23', psnr: 40.5 },
      { crf: '33', psnr: 35.25 },
    ]);
    const j = await db.conn.runAndReadAll('SELECT p.crf, max(t.rss_mb) AS m, count(*) AS n FROM points p JOIN timeseries t USING (point_key, rep) GROUP BY 1 ORDER BY 1');
    assert.deepEqual(j.getRowObjectsJson(), [
      { crf: '23', m: 23, n: '3' },
      { crf: '33', m: 33, n: '3' },
    ]);
    const out = join(root, 'x.parquet');
    await EXPORTERS['parquet']!.write(db.conn, 'SELECT * FROM points', out);
    const back = await db.conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${out}')`);
    assert.deepEqual(back.getRowObjectsJson(), [{ n: '2' }]);
  } finally {
    db.close();
  }
});
