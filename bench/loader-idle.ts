/**
 * Why long-running processes run compiled JavaScript from dist/: the CPU an idle Node process
 * uses with tsx's loader registered, against the same idle process without it, measured from
 * /proc/<pid>/stat over the same length of time in the same run.
 * Run: npx tsx bench/loader-idle.ts [seconds, default 10]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const seconds = Number(process.argv[2] ?? 10);
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const dir = mkdtempSync(join(tmpdir(), 'sb-loader-'));
writeFileSync(join(dir, 'idle.mjs'), 'setInterval(() => {}, 1e9);\n');
writeFileSync(join(dir, 'idle.ts'), 'setInterval((): void => {}, 1e9);\n');

function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ;
}

async function idlePercent(args: string[]): Promise<number> {
  const p = spawn(process.execPath, args, { stdio: 'ignore', cwd: process.cwd() });
  await sleep(2000); // start-up is not what is measured
  const c0 = cpuS(p.pid!);
  await sleep(seconds * 1000);
  const pct = ((cpuS(p.pid!) - c0) / seconds) * 100;
  p.kill();
  return pct;
}

const plain = await idlePercent([join(dir, 'idle.mjs')]);
const tsx = await idlePercent(['--import', 'tsx', join(dir, 'idle.ts')]);
console.log(`idle node, plain JavaScript (reference): ${plain.toFixed(2)} % of one core`);
console.log(`idle node with the tsx loader:           ${tsx.toFixed(2)} % of one core  (difference ${(tsx - plain).toFixed(2)} points; clock tick ${(100 / HZ / seconds).toFixed(2)} %)`);
rmSync(dir, { recursive: true, force: true });
