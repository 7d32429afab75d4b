/**
 * What opening a set through its index costs, against references measured in the same run: a
 * set of N points (default 10,000) committed through ResultSet (its index appended as a run
 * appends it, then compacted by a first read), then
 *   check  the index brought up to date and closed (set.index(): the freshness check a reader pays
 *          on every open: points/ listed, each point.json compared with what was indexed)
 *   open   openSetDatabase (DuckDB instance, check, points table from its saved copy)
 *   stat   a bare stat of every point.json (what a per-point comparison cannot go below)
 *   scan   every point.json read and parsed (what a read cost without an index, and a rebuild)
 * Medians of several rounds, taken in turns so that a busy machine weighs on all alike.
 * Runs against whatever code it sits in: copy it into another checkout to compare two versions
 * (only APIs both have are used).
 * Run: npx tsx bench/index-check.ts [points] [--rounds R (default 9)]
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSetDatabase } from '../src/store/database.ts';
import { pointDirName, type PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const args = process.argv.slice(2);
const N = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--rounds') ?? 10_000);
const ROUNDS = Number(args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : 9);
const root = mkdtempSync(join(tmpdir(), 'sb-bench-check-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

function record(i: number): Omit<PointRecord, 'files' | 'format'> {
  const params = { codec: ['h264', 'vp8', 'vp9', 'av1'][i % 4]!, bitrate: ['500k', '1M', '2M', '4M', '8M'][Math.floor(i / 4) % 5]!, fps: [15, 30, 60][Math.floor(i / 20) % 3]!, scene: `s${Math.floor(i / 60)}` };
  const metrics: PointRecord['metrics'] = {};
  for (let m = 0; m < 30; m++) metrics[`m${m}.value`] = ((i * 7919 + m * 104729) % 10007) / 7;
  return {
    key: createHash('sha256')
      .update(JSON.stringify([params, i]))
      .digest('hex')
      .slice(0, 12),
    rep: 1,
    index: i,
    params,
    outcome: { status: 'ok' },
    attempts: 1,
    workload: 'command',
    benchmark: { name: 'b', sha256: 'f'.repeat(64) },
    startedAt: new Date(1.7e12 + i * 1000).toISOString(),
    endedAt: new Date(1.7e12 + i * 1000 + 900).toISOString(),
    wallS: 0.9,
    metrics,
    flags: [],
  };
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; Node ${process.version}; ${N} points`,
);
const set = ResultSet.openOrCreate(join(root, 'set'), 'b');
const t0 = performance.now();
// A first read before the commits, so that they are appended to an index as a run's are.
set.points();
for (let i = 0; i < N; i++) {
  const r = record(i);
  const w = set.beginPoint(r.key, r.rep);
  writeFileSync(w.path('stdout.log'), `${i}\n`);
  w.commit(r);
}
console.log(`committed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const files = set.points().map((p) => join(set.dir, 'points', pointDirName(p.key, p.rep), 'point.json'));
if (files.length !== N) throw new Error(`${files.length} points read, ${N} committed`);
(await openSetDatabase([set], { views: [] })).close();

const times: Record<'check' | 'open' | 'stat' | 'scan', number[]> = { check: [], open: [], stat: [], scan: [] };
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  set.index().close();
  times.check.push(performance.now() - t);
  t = performance.now();
  const db = await openSetDatabase([set], { views: [] });
  times.open.push(performance.now() - t);
  db.close();
  t = performance.now();
  for (const f of files) statSync(f);
  times.stat.push(performance.now() - t);
  if (r % 3 === 0) {
    t = performance.now();
    set.scanPoints();
    times.scan.push(performance.now() - t);
  }
}
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof times, number>;
console.log(`check ${ms(m.check)}   open ${ms(m.open)}   stat of every point.json ${ms(m.stat)}   scan of every point.json ${ms(m.scan)}   (medians of ${ROUNDS}, scan of ${times.scan.length})`);
console.log(`check / stat ${(m.check / m.stat).toFixed(2)}   check / scan ${(m.check / m.scan).toFixed(3)}   open / scan ${(m.open / m.scan).toFixed(3)}`);
rmSync(root, { recursive: true, force: true });
