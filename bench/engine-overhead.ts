/**
 * The engine's own cost per point: a 50-point matrix of `true` run through the engine, without
 * and with recording (one local agent, a session per point), against a bare spawn-and-wait of
 * the same program measured in the same run.
 * Run: npx tsx bench/engine-overhead.ts [points]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';

const N = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));

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

/** Per point: total engine time, and the command's own wall time. */
async function engine(name: string, recording: boolean): Promise<{ perPoint: number; command: number; ok: number }> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nworkload: {type: command, argv: ["true"]}\nmatrix:\n  i: {from: 1, to: ${N}}\n${recording ? '' : 'recording: false\n'}`);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(dir, name), b.name);
  const t0 = performance.now();
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const total = performance.now() - t0;
  const points = set.points();
  const command = (points.reduce((s, p) => s + Number(p.metrics['wall_time_s']), 0) / points.length) * 1000;
  return { perPoint: total / N, command, ok: summary.ok };
}

const bare1 = await bareSpawn();
const plain = await engine('plain', false);
const recorded = await engine('recorded', true);
const bare = (bare1 + (await bareSpawn())) / 2;

console.log(`${N} points of 'true'`);
console.log(`bare spawn+wait (reference):           ${bare.toFixed(2)} ms`);
for (const [label, r] of [
  ['engine, recording off', plain],
  ['engine, one local agent', recorded],
] as const) {
  console.log(`${label.padEnd(24)} ${r.perPoint.toFixed(2)} ms per point (${r.ok}/${N} ok); the command ${r.command.toFixed(2)} ms; overhead beyond it ${(r.perPoint - r.command).toFixed(2)} ms; ratio to bare ${(r.perPoint / bare).toFixed(2)}x`);
}
console.log('(the agent start-up, once per run, is included in the recorded figure, spread over the points)');
rmSync(dir, { recursive: true, force: true });
