/**
 * The engine's own cost per point: a 50-point matrix of `true` run through the engine, against a
 * bare spawn-and-wait of the same program measured in the same run.
 * Run: npx tsx bench/engine-overhead.ts [points]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadBenchmark } from '../src/bench/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';

const N = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
const file = join(dir, 'b.yaml');
writeFileSync(file, `name: overhead\nworkload: {type: command, argv: ["true"]}\nmatrix:\n  i: {from: 1, to: ${N}}\n`);

async function bareSpawn(): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = spawn('true', [], { stdio: 'ignore', detached: true });
      c.once('error', reject);
      c.once('exit', () => resolve());
    });
  }
  return (performance.now() - t0) / N;
}

const b = await loadBenchmark(file);
const bare1 = await bareSpawn();
const set = ResultSet.openOrCreate(join(dir, 'results'), b.name);
const t0 = performance.now();
const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
const engineTotal = performance.now() - t0;
const bare2 = await bareSpawn();
const points = set.points();
const commandMs = (points.reduce((s, p) => s + Number(p.metrics['wall_time_s']), 0) / points.length) * 1000;
const perPoint = engineTotal / N;
const bare = (bare1 + bare2) / 2;

console.log(`points run: ${summary.ok}/${N}`);
console.log(`engine, per point:                 ${perPoint.toFixed(2)} ms`);
console.log(`  of which the command (wall_time_s): ${commandMs.toFixed(2)} ms`);
console.log(`  engine overhead beyond warm-up + duration (here 0) and the command: ${(perPoint - commandMs).toFixed(2)} ms`);
console.log(`bare spawn+wait of 'true' (reference): ${bare.toFixed(2)} ms`);
console.log(`ratio engine per point / bare spawn: ${(perPoint / bare).toFixed(2)}x`);
rmSync(dir, { recursive: true, force: true });
