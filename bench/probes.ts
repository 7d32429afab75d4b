/**
 * What an agent's sampling costs: cpu + mem + net + proc (pid selectors on 3 processes and one
 * cmdline selector, which rescans /proc once a second) sampled at 10 Hz, against a reference
 * measured in the same run at the same rate: one read of /proc/stat alone, with the same reader
 * the probes use (the file kept open, read again from offset 0). CPU time is process.cpuUsage
 * (user + system) around the calls, in percent of one core. The reference runs 50 ms after each
 * sampling tick, so each starts from the same idle, cold-cache state, as an agent's tick does.
 * Run: npx tsx bench/probes.ts [seconds]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monoMs } from '../src/base/clock.ts';
import type { Probe } from '../src/record/probe.ts';
import { CpuProbe } from '../src/record/probes/cpu.ts';
import { MemProbe } from '../src/record/probes/mem.ts';
import { NetProbe } from '../src/record/probes/net.ts';
import { ProcessProbe } from '../src/record/probes/proc.ts';
import { OpenFile } from '../src/record/procfs.ts';

const seconds = Number(process.argv[2] ?? 10);
const HZ = 10;
const ticks = seconds * HZ;

const children = [0, 1, 2].map(() => spawn('sleep', ['600'], { stdio: 'ignore' }));
const proc = new ProcessProbe({
  select: [...children.map((c, i) => ({ label: `p${i}`, pid: c.pid! })), { label: 'sleepers', cmdline: '^sleep 600$' }],
});
const probes: Probe[] = [new CpuProbe(), new MemProbe(), new NetProbe(), proc];
const procStat = new OpenFile('/proc/stat');

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;
let probeUs = 0;
let refUs = 0;
let plainUs = 0;
let values = 0;
/** Per probe, in odd seconds, each in its own bracket (their sum exceeds a whole tick by the cost of measuring); even seconds give the total. */
const each = new Map<string, number>();

const t0 = monoMs();
const whole0 = process.cpuUsage();
await new Promise<void>((resolve) => {
  let n = 0;
  const timer = setInterval(() => {
    const now = monoMs();
    // Alternate seconds (10 ticks, one /proc rescan each) between the two ways of measuring.
    const outs: Record<string, number>[] = [];
    if (Math.floor(n / HZ) % 2 === 0) {
      // One bracket around all the probes, as around the reference: getrusage costs its own share.
      const u = process.cpuUsage();
      for (const p of probes) outs.push(p.sample(now) as Record<string, number>);
      probeUs += cpuUs(process.cpuUsage(u));
    } else {
      for (const p of probes) {
        const pu = process.cpuUsage();
        outs.push(p.sample(now) as Record<string, number>);
        each.set(p.name, (each.get(p.name) ?? 0) + cpuUs(process.cpuUsage(pu)));
      }
    }
    // Counted outside the brackets: Object.keys is the bench's cost, not the sampling's.
    for (const o of outs) values += Object.keys(o).length;
    setTimeout(
      () => {
        const r = process.cpuUsage();
        procStat.read();
        refUs += cpuUs(process.cpuUsage(r));
        // The naive way for comparison: readFileSync opens, stats, reads and closes each time.
        const q = process.cpuUsage();
        readFileSync('/proc/stat', 'latin1');
        plainUs += cpuUs(process.cpuUsage(q));
        if (++n >= ticks) {
          clearInterval(timer);
          resolve();
        }
      },
      1000 / HZ / 2,
    );
  }, 1000 / HZ);
});
const wallS = (monoMs() - t0) / 1000;
const wholeUs = cpuUs(process.cpuUsage(whole0));
const matched = proc.pids('sleepers').length;
for (const c of children) c.kill();
for (const p of probes) p.close?.();

const pct = (us: number) => ((us / 1e6 / wallS) * 100).toFixed(3);
console.log(`${ticks} ticks at ${HZ} Hz over ${wallS.toFixed(2)} s; ${(values / ticks).toFixed(0)} values per tick; the cmdline selector matched ${matched} processes`);
const half = ticks / 2;
console.log(`sampling cpu+mem+net+proc: ${pct((probeUs / half) * ticks)} % of one core (${(probeUs / half).toFixed(0)} us per tick)`);
console.log(`  per probe, each in its own bracket: ${[...each].map(([n, us]) => `${n} ${(us / half).toFixed(0)} us`).join(', ')}`);
console.log(`reference, /proc/stat read alone (kept open): ${pct(refUs)} % of one core (${(refUs / ticks).toFixed(0)} us per tick)`);
console.log(`  readFileSync('/proc/stat') right after it: ${(plainUs / ticks).toFixed(0)} us per tick`);
console.log(`ratio sampling / reference: ${(probeUs / half / (refUs / ticks)).toFixed(1)}x`);
console.log(`whole bench process over the run (timers, reference, measuring included): ${pct(wholeUs)} % of one core`);
