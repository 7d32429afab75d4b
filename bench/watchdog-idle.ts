/**
 * What the engine's watchdog (scripts/watchdog.mjs) costs while the engine runs: its CPU time
 * (/proc/<pid>/stat utime + stime), the wake-ups of its main thread (voluntary context switches)
 * and its resident memory, over a stretch of time after its start-up, with a process group
 * registered; then how long it takes to end that group once its pipe closes.
 * Run: npx tsx bench/watchdog-idle.ts [seconds, default 30]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watchdog } from '../src/base/watchdog.ts';
import { processStartTime } from '../src/workloads/proctree.ts';

const seconds = Number(process.argv[2] ?? 30);
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const dir = mkdtempSync(join(tmpdir(), 'sb-watchdog-'));

const status = (pid: number, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const cpuS = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ;
};

const dog = Watchdog.start(join(dir, 'watchdog.log'), (m) => console.error(`warning: ${m}`));
const pid = dog.pid!;
const sleeper = spawn('sleep', ['3600'], { detached: true, stdio: 'ignore' });
dog.add(sleeper.pid!, processStartTime(sleeper.pid!)!);
// Start-up is over once a second passes without a wake-up.
for (let last = -1, i = 0; i < 60 && status(pid, 'voluntary_ctxt_switches') !== last; i++) {
  last = status(pid, 'voluntary_ctxt_switches');
  await sleep(1000);
}
const c0 = cpuS(pid);
const w0 = status(pid, 'voluntary_ctxt_switches');
await sleep(seconds * 1000);
const cpu = cpuS(pid) - c0;
const woke = status(pid, 'voluntary_ctxt_switches') - w0;
console.log(`idle ${seconds} s: CPU ${(cpu * 1000).toFixed(0)} ms (${((cpu / seconds) * 100).toFixed(3)} % of a core), main thread woke ${woke} times, RSS ${(status(pid, 'VmRSS') / 1024).toFixed(1)} MiB`);

const t0 = performance.now();
await dog.close();
const gone = spawnSync('kill', ['-0', String(sleeper.pid)]).status !== 0 || readFileSync(`/proc/${sleeper.pid}/stat`, 'latin1').split(') ')[1]!.startsWith('Z');
console.log(`pipe closed: the registered group ${gone ? 'ended' : 'STILL ALIVE'}, the watchdog exited after ${(performance.now() - t0).toFixed(0)} ms`);
rmSync(dir, { recursive: true, force: true });
