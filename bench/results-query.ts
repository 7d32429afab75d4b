/**
 * What the result-set index buys: a 10,000-point set in the real store format (written through
 * the ResultSet API: params of a stream sweep, ~30 metrics, the Parquet and log files a point
 * has), then `results query` as a whole command cold (no index: built) and warm, and the open +
 * query in-process, against the path without index measured in the same run (every point.json
 * read, as the index is rebuilt). Then what adding one point costs at 10,000 and at 100,000
 * points (the log append, and the commit around it), which must not grow with the set.
 * Run: npx tsx bench/results-query.ts [points] [--big 100000] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { createPointsTable, openSetDatabase } from '../src/store/database.ts';
import { appendToIndex, INDEX_DIR } from '../src/store/index-file.ts';
import { writeSeriesParquet } from '../src/store/parquet.ts';
import type { PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
const BIG = Number(args[args.indexOf('--big') + 1] ?? 100_000);
const keep = args.includes('--keep');
const root = mkdtempSync(join(tmpdir(), 'sb-bench-rq-'));
const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const SQL = 'select codec, resolution, count(*) as n, avg("client.fps") as fps, quantile_cont("latency.p95_ms", 0.95) as p95 from points where status = \'ok\' group by all order by 1, 2';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

/** Settings of the i-th point of a stream sweep: 5 codecs x 5 bitrates x 3 fps x 2 resolutions x 6 scenes x 12 networks = 10,800. */
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
    m[`${role}.cpu_percent`] = 5 + rnd() * 90;
    m[`${role}.rss_mb`] = 50 + rnd() * 400;
    m[`${role}.agent.cpu_pct`] = rnd() * 2;
    m[`${role}.net.tx_kbps`] = rnd() * 8000;
  }
  Object.assign(m, {
    'client.fps': 10 + rnd() * 50,
    'client.frames': Math.floor(100 + rnd() * 200),
    'client.bitrate': rnd() * 8000,
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
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

/** Writes n points into the set through the ResultSet API, each with the files a stream point has (small copies). */
async function generate(dir: string, n: number, from = 0): Promise<ResultSet> {
  const set = ResultSet.openOrCreate(dir, 'sweep');
  const series = join(root, 'series.parquet');
  statSafe(series) || (await writeSeriesParquet(series, { t: [0, 0.1, 0.2], nprocs: [1, 1, 1], rss_mb: [10, 11, 12], cpu_user_s: [0, 0.01, 0.02], cpu_system_s: [0, 0, 0.01] }));
  const samples = join(root, 'samples.parquet');
  statSafe(samples) || (await writeSeriesParquet(samples, { t: [0, 0.1], role: ['guest', 'client'], probe: ['cpu', 'cpu'], name: ['cpu_pct', 'cpu_pct'], value: [12, 34] }));
  const rnd = random(from + 1);
  for (let i = from; i < from + n; i++) {
    const p = params(i);
    const key = createHash('sha256').update(JSON.stringify([p, i])).digest('hex').slice(0, 12);
    const w = set.beginPoint(key, 1);
    // Plain copies, not writeText: its fsync per file would make writing the set the whole benchmark.
    copyFileSync(series, w.path('timeseries.parquet'));
    copyFileSync(samples, w.path('samples.parquet'));
    writeFileSync(w.path('client.log'), `point ${i}\n`);
    w.commit({
      key,
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
    });
  }
  return set;
}

function statSafe(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function command(dir: string): { ms: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'results', 'query', dir, SQL], { encoding: 'utf8' });
  const took = performance.now() - t0;
  if (r.status !== 0) throw new Error(`results query failed (${r.status}): ${r.stderr}`);
  return { ms: took, out: r.stdout };
}

/** In-process: open the set's database, then run the query; both timed. */
async function inProcess(set: ResultSet): Promise<{ open: number; query: number; rows: unknown[][] }> {
  const t0 = performance.now();
  const db = await openSetDatabase([set], { views: [] });
  const t1 = performance.now();
  const rows = (await db.conn.runAndReadAll(SQL)).getRowsJS();
  const t2 = performance.now();
  db.close();
  return { open: t1 - t0, query: t2 - t1, rows };
}

/** The path without an index: every point.json read, the table built from them (as a rebuild does). */
async function reference(set: ResultSet): Promise<{ open: number; query: number; rows: unknown[][] }> {
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await createPointsTable(conn, set.scanPoints().map((record) => ({ set: set.name, record })));
  const t1 = performance.now();
  const rows = (await conn.runAndReadAll(SQL)).getRowsJS();
  const t2 = performance.now();
  conn.closeSync();
  instance.closeSync();
  return { open: t1 - t0, query: t2 - t1, rows };
}

/** Per point (ms): a commit of `k` more points into a set with an index, and the index append alone; and whether a compaction ran. */
async function appendCost(set: ResultSet, k: number): Promise<{ commit: number; append: number; compacted: boolean }> {
  const gen = () => readdirSync(join(set.dir, INDEX_DIR)).find((n) => n.startsWith('gen-'));
  const before = gen();
  const t0 = performance.now();
  await generate(set.dir, k, 1_000_000_000 + Math.floor(performance.now()));
  const commit = (performance.now() - t0) / k;
  // The append alone: one more line for the last point (to the index, a --force rerun of it).
  const view = set.index();
  const last = view.records().at(-1)!;
  view.close();
  const times: number[] = [];
  for (let i = 0; i < k; i++) {
    const t = performance.now();
    appendToIndex(set.dir, `${last.key}-r${last.rep}`, last);
    times.push(performance.now() - t);
  }
  return { commit, append: median(times), compacted: before !== gen() };
}

const setDir = join(root, 'set');
let t = performance.now();
const set = await generate(setDir, N);
console.log(`${N} points written through ResultSet in ${((performance.now() - t) / 1000).toFixed(1)} s (${setDir})`);

const ref = await reference(set);
rmSync(join(setDir, INDEX_DIR), { recursive: true, force: true });
const cold = command(setDir);
const warm = [0, 1, 2, 3, 4].map(() => command(setDir).ms);
const refs = [ref, await reference(set), await reference(set)];
const mine = [] as { open: number; query: number; rows: unknown[][] }[];
for (let i = 0; i < 7; i++) mine.push(await inProcess(set));
const bare = [0, 1, 2].map(() => {
  const t0 = performance.now();
  spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  return performance.now() - t0;
});
const text = (rows: unknown[][]) => JSON.stringify(rows, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
const same = text(mine[0]!.rows) === text(ref.rows);

console.log(`\nresults query DIR "${SQL}"`);
console.log(`  whole command, cold (no index: every point.json read, the index written): ${ms(cold.ms)}`);
console.log(`  whole command, warm (index and table cached):                            ${ms(median(warm))}  (median of 5; cold/warm ${(cold.ms / median(warm)).toFixed(1)}x)`);
console.log(`  streambench --help, for the start-up of Node and the CLI alone:          ${ms(median(bare))}`);
const refOpen = median(refs.map((r) => r.open));
const refQuery = median(refs.map((r) => r.query));
const open = median(mine.map((r) => r.open));
const query = median(mine.map((r) => r.query));
console.log(`  in-process, without index (every point.json): open ${ms(refOpen)}, query ${ms(refQuery)}`);
console.log(`  in-process, from the index:                   open ${ms(open)}, query ${ms(query)}  (open ${(refOpen / open).toFixed(0)}x faster; median of 7)`);
console.log(`  same answer both ways: ${same}`);

const at10k = await appendCost(set, 200);
console.log(`\nadding a point at ${N} points: commit ${ms(at10k.commit)} (files, point.json, renames, index), index append alone ${ms(at10k.append)}${at10k.compacted ? ' (a compaction ran among them)' : ''}`);

if (BIG > 0) {
  const bigDir = join(root, 'big');
  t = performance.now();
  const big = await generate(bigDir, BIG);
  console.log(`${BIG} points written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const v = big.index();
  v.close();
  console.log(`index of ${v.count} points built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const atBig = await appendCost(big, 200);
  console.log(`adding a point at ${BIG} points: commit ${ms(atBig.commit)}, index append alone ${ms(atBig.append)}${atBig.compacted ? ' (a compaction ran among them)' : ''}`);
}

if (keep) console.log(`kept ${root}`);
else rmSync(root, { recursive: true, force: true });
