/**
 * What the result-set index buys. A 10,000-point set in the real store format, written through
 * the ResultSet API (parameters of a stream sweep, ~30 metrics, the Parquet and log files a point
 * has); then `results query` as a whole command, cold (no index: every point.json read, the index
 * and its table written) and warm; and open + query in-process, against the path without index
 * measured in the same run (every point.json read, the table built from them: what every command
 * did before, and what a rebuild does). Then what adding a point costs at 10,000 and at 100,000
 * points: the commit through ResultSet, the index append alone, and a compaction (which runs once
 * the log passes an eighth of the base), with the reader's cost right after the appends (the
 * saved table extended, as a GUI following a run gets it).
 * Run: npx tsx bench/results-query.ts [points] [--big N (default 100000; 0 skips)] [--cli PATH/bin/streambench.js] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { createPointsTable, openSetDatabase } from '../src/store/database.ts';
import { appendToIndex, compact, INDEX_DIR, INDEX_LIMITS, readPointFile } from '../src/store/index-file.ts';
import { writeSeriesParquet } from '../src/store/parquet.ts';
import { pointDirName, STORE_FORMAT, type PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const N = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--big') ?? 10_000);
const BIG = Number(flag('--big') ?? 100_000);
const keep = args.includes('--keep');
const root = mkdtempSync(join(tmpdir(), 'sb-bench-rq-'));
/** The CLI to time: this checkout's (dist/ when fresh, else the sources through tsx), or another copy's (--cli: one with a fresh dist/). */
const CLI = flag('--cli') ?? new URL('../bin/streambench.js', import.meta.url).pathname;
const SQL = 'select codec, resolution, count(*) as n, avg("client.fps") as fps, quantile_cont("latency.p95_ms", 0.95) as p95 from points where status = \'ok\' group by all order by 1, 2';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};
const timeAsync = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
};

/** Settings of the i-th point of a stream sweep: 5 codecs x 5 bitrates x 3 fps x 2 resolutions x 6 scenes x 6 delays x 2 losses = 10,800. */
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

/** About thirty figures, as a stream point records them: numbers, a text, a flag. */
function metrics(i: number, rnd: () => number): PointRecord['metrics'] {
  const m: PointRecord['metrics'] = {};
  for (const role of ['guest', 'host', 'client']) {
    m[`${role}.cpu_pct`] = 5 + rnd() * 90;
    m[`${role}.rss_mb`] = 50 + rnd() * 400;
    m[`${role}.agent.cpu_pct`] = rnd() * 2;
    m[`${role}.net.tx_bitrate`] = rnd() * 8e6;
  }
  Object.assign(m, {
    'client.fps': 10 + rnd() * 50,
    'client.frames': Math.floor(100 + rnd() * 200),
    'client.bitrate': rnd() * 8e6,
    'latency.p50_ms': 5 + rnd() * 50,
    'latency.p95_ms': 10 + rnd() * 150,
    'latency.max_ms': 20 + rnd() * 300,
    'quality.psnr': 25 + rnd() * 20,
    'quality.ssim': 0.8 + rnd() * 0.2,
    'frames.dropped': Math.floor(rnd() * 10),
    'frames.lost': Math.floor(rnd() * 5),
    'frames.late': Math.floor(rnd() * 5),
    'encoder.keyframes': 1 + Math.floor(rnd() * 4),
    'encoder.mean_frame_bytes': rnd() * 40000,
    'network.queue_ms.p95': rnd() * 150,
    'source.si': 20 + rnd() * 60,
    'source.ti': rnd() * 40,
    'codec.used': String(params(i)['codec']),
    'display.shown_all': rnd() > 0.1,
  });
  return m;
}

/** A seeded generator, so every run writes the same set. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

/** The record of the i-th point (what the engine passes to commit). */
function pointRecord(i: number, rnd: () => number): Omit<PointRecord, 'files' | 'format'> {
  const p = params(i);
  return {
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
    wallS: 4 + rnd(),
    metrics: metrics(i, rnd),
    flags: i % 50 === 0 ? ['recording gap: host: 0.3 s'] : [],
  };
}

let seriesFiles: { series: string; samples: string } | undefined;
async function pointFiles(): Promise<{ series: string; samples: string }> {
  if (seriesFiles) return seriesFiles;
  const series = join(root, 'series.parquet');
  await writeSeriesParquet(series, { t: [0, 0.1, 0.2], nprocs: [1, 1, 1], rss_mb: [10, 11, 12], cpu_user_s: [0, 0.01, 0.02], cpu_system_s: [0, 0, 0.01] });
  const samples = join(root, 'samples.parquet');
  await writeSeriesParquet(samples, { t: [0, 0.1], role: ['guest', 'client'], probe: ['cpu', 'cpu'], name: ['cpu_pct', 'cpu_pct'], value: [12, 34] });
  seriesFiles = { series, samples };
  return seriesFiles;
}

/** Commits points from..from+n into the set through ResultSet, each with the files a stream point has (small copies). */
async function commitPoints(set: ResultSet, from: number, n: number): Promise<void> {
  const f = await pointFiles();
  const rnd = random(from + 1);
  for (let i = from; i < from + n; i++) {
    const r = pointRecord(i, rnd);
    const w = set.beginPoint(r.key, r.rep);
    // Plain copies, not writeText: its fsync per file would make writing the set the whole benchmark.
    copyFileSync(f.series, w.path('timeseries.parquet'));
    copyFileSync(f.samples, w.path('samples.parquet'));
    writeFileSync(w.path('client.log'), `point ${i}\n`);
    w.commit(r);
    if (w.indexError) throw new Error(w.indexError);
  }
}

/** n point directories written directly, as commits leave them (for the 100,000-point set, where the commits would take most of an hour here). */
function writePointDirs(dir: string, n: number): ResultSet {
  const set = ResultSet.openOrCreate(dir, 'sweep');
  const rnd = random(7);
  for (let i = 0; i < n; i++) {
    const r = pointRecord(i, rnd);
    const d = join(dir, 'points', pointDirName(r.key, r.rep));
    mkdirSync(d);
    writeFileSync(join(d, 'client.log'), `point ${i}\n`);
    writeFileSync(join(d, 'point.json'), JSON.stringify({ format: STORE_FORMAT, ...r, files: ['client.log'] }, null, 2) + '\n');
  }
  return set;
}

function command(dir: string, argv: string[] = ['results', 'query', dir, SQL]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8' });
  const took = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return took;
}

const rowsText = (rows: unknown[][]) => JSON.stringify(rows, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));

/** In-process through the index: opening the database (DuckDB, index check, points table) and the query, timed apart. */
async function fromIndex(set: ResultSet): Promise<{ open: number; query: number; rows: string }> {
  const [db, open] = await timeAsync(() => openSetDatabase([set], { views: [] }));
  const [r, query] = await timeAsync(() => db.conn.runAndReadAll(SQL));
  db.close();
  return { open, query, rows: rowsText(r.getRowsJS()) };
}

/** The path without an index: every point.json read, the table built from them. */
async function fromPoints(set: ResultSet): Promise<{ open: number; query: number; rows: string }> {
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await createPointsTable(
    conn,
    set.scanPoints().map((record) => ({ set: set.name, record })),
  );
  const open = performance.now() - t0;
  const [r, query] = await timeAsync(() => conn.runAndReadAll(SQL));
  conn.closeSync();
  instance.closeSync();
  return { open, query, rows: rowsText(r.getRowsJS()) };
}

async function duckdbAlone(): Promise<number> {
  const [, t] = await timeAsync(async () => {
    const instance = await DuckDBInstance.create(':memory:');
    (await instance.connect()).closeSync();
    instance.closeSync();
  });
  return t;
}

/** What adding points costs on a set with an index of n points. */
async function addingCost(set: ResultSet, from: number, k: number): Promise<void> {
  const n = set.index();
  const count = n.count;
  n.close();
  // A reader first, so that a table is saved for the state before the commits.
  await fromIndex(set);
  const [, commits] = await timeAsync(() => commitPoints(set, from, k));
  // A reader right after: the table saved before the commits, extended by the new points (a GUI following a run).
  const [, readAfter] = await timeAsync(() => fromIndex(set));
  const [, readWarm] = await timeAsync(() => fromIndex(set));
  // The append alone, k times: one more line for the last point (a rerun of it, as far as the index can tell).
  const v = set.index();
  const last = v.records().at(-1)!;
  v.close();
  const written = { ...last, metrics: { ...last.metrics } };
  const file = readPointFile(join(set.pointDir(last.key, last.rep), 'point.json'))!.file;
  const appends: number[] = [];
  for (let i = 0; i < k; i++) appends.push(time(() => appendToIndex(set.dir, pointDirName(last.key, last.rep), written, file))[1]);
  const idx = join(set.dir, INDEX_DIR);
  const size = (prefix: string) =>
    readdirSync(idx)
      .filter((f) => f.startsWith(prefix))
      .reduce((s, f) => s + statSync(join(idx, f)).size, 0);
  const base = size('base-');
  const line = size('log-') / (2 * k);
  const [, compaction] = time(() => compact(set.dir));
  const every = Math.max(INDEX_LIMITS.compactMinBytes, base / INDEX_LIMITS.compactBaseShare) / line;
  console.log(`\nadding points to a set of ${count} points (index base ${(base / 1e6).toFixed(0)} MB, ~${line.toFixed(0)} bytes a line):`);
  console.log(`  a commit through ResultSet (files, point.json with fsync, renames, index append): ${ms(commits / k)} per point (${k} points)`);
  console.log(`  the index append alone:                                                       ${ms(median(appends))} (median of ${k})`);
  console.log(`  a compaction (the log folded into a new base): ${ms(compaction)}, once every ~${Math.round(every)} points: ${ms(compaction / every)} per point on average`);
  console.log(`  a reader right after the ${k} commits (the saved table extended by them): open + query ${ms(readAfter)}; the next reader: ${ms(readWarm)}`);
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on this machine's cores; Node ${process.version}`,
);
const setDir = join(root, 'set');
const set = ResultSet.openOrCreate(setDir, 'sweep');
const [, written] = await timeAsync(() => commitPoints(set, 0, N));
console.log(`${N} points committed through ResultSet in ${(written / 1000).toFixed(1)} s`);

const refs = [await fromPoints(set), await fromPoints(set), await fromPoints(set)];
rmSync(join(setDir, INDEX_DIR), { recursive: true, force: true });
const cold = command(setDir);
const warm = [0, 1, 2, 3, 4].map(() => command(setDir));
const help = [0, 1, 2].map(() => command(setDir, ['--help']));
// Node with DuckDB loaded and an instance made, nothing else: what any query costs before it reads a set.
const duckStart = [0, 1, 2].map(() => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import { DuckDBInstance } from '@duckdb/node-api'; (await DuckDBInstance.create(':memory:')).closeSync();"], { cwd: new URL('..', import.meta.url).pathname });
  if (r.status !== 0) throw new Error(String(r.stderr));
  return performance.now() - t0;
});
const mine: Awaited<ReturnType<typeof fromIndex>>[] = [];
for (let i = 0; i < 7; i++) mine.push(await fromIndex(set));
const duck: number[] = [];
for (let i = 0; i < 7; i++) duck.push(await duckdbAlone());
const [check, checkMs] = time(() => set.index());
check.close();
const refOpen = median(refs.map((r) => r.open));
const open = median(mine.map((r) => r.open));
console.log(`\nresults query DIR "${SQL}"  (${CLI}: it runs dist/ when that is fresh, else the sources through tsx)`);
console.log(`  whole command, cold (no index: every point.json read, index and table written): ${ms(cold)}`);
console.log(`  whole command, warm:                                                          ${ms(median(warm))} (median of 5; ${(cold / median(warm)).toFixed(1)}x faster than cold)`);
console.log(`  streambench --help, the start-up of Node and the CLI alone:                   ${ms(median(help))}`);
console.log(`  node loading DuckDB and making an instance, nothing else:                     ${ms(median(duckStart))}`);
console.log(`  in-process, without index (every point.json): open ${ms(refOpen)}, query ${ms(median(refs.map((r) => r.query)))}`);
console.log(`  in-process, from the index:                   open ${ms(open)}, query ${ms(median(mine.map((r) => r.query)))} (median of 7; open ${(refOpen / open).toFixed(0)}x faster)`);
console.log(`    of the open: DuckDB's instance alone ${ms(median(duck))}, the index's freshness check ${ms(checkMs)}`);
console.log(`  same answer both ways: ${mine.every((r) => r.rows === refs[0]!.rows)}`);

await addingCost(set, N, 200);

if (BIG > 0) {
  const [big, wrote] = time(() => writePointDirs(join(root, 'big'), BIG));
  console.log(`\n${BIG} point directories written directly in ${(wrote / 1000).toFixed(1)} s`);
  const [v, built] = time(() => big.index());
  v.close();
  console.log(`their index built (every point.json read) in ${(built / 1000).toFixed(1)} s`);
  await addingCost(big, BIG, 200);
  const warmBig = [await fromIndex(big), await fromIndex(big), await fromIndex(big)];
  const checks = [0, 1, 2].map(() => time(() => big.index().close())[1]);
  console.log(`  in-process at ${BIG} points, from the index: open ${ms(median(warmBig.map((r) => r.open)))} (of which the freshness check ${ms(median(checks))}), query ${ms(median(warmBig.map((r) => r.query)))}`);
}

if (keep) console.log(`\nkept ${root}`);
else rmSync(root, { recursive: true, force: true });
