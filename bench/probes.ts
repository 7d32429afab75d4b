/**
 * What an agent's sampling costs: cpu + mem + net + proc (pid selectors on 3 processes and one
 * cmdline selector, which rescans /proc once a second) sampled at 10 Hz, against a reference
 * measured in the same ticks of the same run: one read of /proc/stat alone. CPU time is
 * process.cpuUsage (user + system) around the sample calls, in percent of one core.
 * Run: npx tsx bench/probes.ts [seconds]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monoMs } from '../src/base/clock.ts';
import { CpuProbe } from '../src/record/probes/cpu.ts';
import { MemProbe } from '../src/record/probes/mem.ts';
import { NetProbe } from '../src/record/probes/net.ts';
import { ProcessProbe } from '../src/record/probes/proc.ts';
import type { Probe } from '../src/record/probe.ts';

const seconds = Number(process.argv[2] ?? 10);
const HZ = 10;

const children = [0, 1, 2].map(() => spawn('sleep', ['600'], { stdio: 'ignore' }));
const probes: Probe[] = [
  new CpuProbe(),
  new MemProbe(),
  new NetProbe(),
  new ProcessProbe({
    select: [
      ...children.map((c, i) => ({ label: `p${i}`, pid: c.pid! })),
      { label: 'sleepers', cmdline: '^sleep 600$' },
    ],
  }),
];

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;
let probeUs = 0;
let refUs = 0;
let ticks = 0;
let values = 0;
let matched = 0;
/** Per probe, measured inside the total (so their sum exceeds it by the cost of measuring). */
const each = new Map<string, number>();
const whole0 = process.cpuUsage();
const t0 = monoMs();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    // The reference first: a bare read of /proc/stat, the least any sampler does.
    const r = process.cpuUsage();
    readFileSync('/proc/stat', 'latin1');
    refUs += cpuUs(process.cpuUsage(r));

    const u = process.cpuUsage();
    const now = monoMs();
    for (const p of probes) {
      const pu = process.cpuUsage();
      values += Object.keys(p.sample(now) as Record<string, number>).length;
      each.set(p.name, (each.get(p.name) ?? 0) + cpuUs(process.cpuUsage(pu)));
    }
    probeUs += cpuUs(process.cpuUsage(u));
    matched = (probes[3] as ProcessProbe).pids('sleepers').length;
    if (++ticks >= seconds * HZ) {
      clearInterval(timer);
      resolve();
    }
  }, 1000 / HZ);
});
const wallS = (monoMs() - t0) / 1000;
const wholeUs = cpuUs(process.cpuUsage(whole0));
for (const c of children) c.kill();

const pct = (us: number) => ((us / 1e6 / wallS) * 100).toFixed(3);
console.log(`${ticks} ticks at ${HZ} Hz over ${wallS.toFixed(2)} s; ${(values / ticks).toFixed(0)} values per tick; cmdline selector matched ${matched} processes`);
console.log(`sampling cpu+mem+net+proc: ${pct(probeUs)} % of one core (${(probeUs / ticks).toFixed(0)} us per tick)`);
console.log(`  per probe (each bracket adds its own getrusage): ${[...each].map(([n, us]) => `${n} ${(us / ticks).toFixed(0)} us`).join(', ')}`);
console.log(`reference, /proc/stat read alone: ${pct(refUs)} % of one core (${(refUs / ticks).toFixed(0)} us per tick)`);
console.log(`ratio sampling / reference: ${(probeUs / refUs).toFixed(1)}x`);
console.log(`whole bench process over the run (timers, reference included): ${pct(wholeUs)} % of one core`);
