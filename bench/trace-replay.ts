/**
 * The relay's cost of replaying a trace, per packet, against plain forwarding measured in the same
 * run: an unlimited link (forwarding only) and a fixed 100 Mbit/s rate (the serialiser traces
 * replace), then a Mahimahi trace and a steps trace of about the same mean rate. CPU time
 * (process.cpuUsage) from the first push to the last delivery, median of 5 runs after a warm-up.
 * Run: npx tsx bench/trace-replay.ts [packets] [bytes]
 */
import { parseTrace } from '../src/config/net-trace.ts';
import { NetemLink, type NetemConfig } from '../src/stream/netem.ts';

const N = Number(process.argv[2] ?? 20_000);
const BYTES = Number(process.argv[3] ?? 1400);
const REPS = 5;

/** A seeded Mahimahi trace of 1 s wandering between about 50 and 150 Mbit/s (4 to 12 opportunities a ms). */
function mahimahi(): string {
  let a = 99;
  const rnd = () => (a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines: number[] = [];
  let perMs = 8;
  for (let ms = 1; ms <= 1000; ms++) {
    if (ms % 20 === 0) perMs = Math.min(12, Math.max(4, perMs + (rnd() - 0.5) * 4));
    for (let k = 0; k < Math.round(perMs); k++) lines.push(ms);
  }
  if (lines.at(-1) !== 1000) lines.push(1000);
  return `${lines.join('\n')}\n`;
}

/** Steps of 100 ms alternating 150 and 50 Mbit/s, with 1 ms of delay and no loss added. */
function steps(): string {
  const rows = ['t,rate,delay,loss'];
  for (let i = 0; i < 100; i++) rows.push(`${(i / 10).toFixed(1)},${i % 2 === 0 ? 150 : 50}M,1,0`);
  return `${rows.join('\n')}\n`;
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/** All N pushed at once (the queue takes them all), timed until the last is delivered. */
async function through(config: NetemConfig): Promise<number> {
  let delivered = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const link = new NetemLink<number>({ ...config, queueLimitBytes: N * BYTES }, () => {
    if (++delivered === N) done();
  });
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) if (link.push(i, BYTES) !== 'queued') throw new Error('a push was not accepted');
  await finished;
  const us = cpuUs(t0);
  link.close();
  return us;
}

async function measure(config: NetemConfig): Promise<number> {
  await through(config); // warm-up: JIT and heap growth
  const runs: number[] = [];
  for (let i = 0; i < REPS; i++) runs.push(await through(config));
  return runs.sort((a, b) => a - b)[REPS >> 1]!;
}

const plain1 = await measure({});
const rate = await measure({ rateBps: 100e6 });
const mm = await measure({ trace: parseTrace(mahimahi(), 'bench.trace') });
const st = await measure({ trace: parseTrace(steps(), 'bench.csv') });
const plain2 = await measure({});
const plain = (plain1 + plain2) / 2;
const ns = (us: number) => ((us * 1000) / N).toFixed(0).padStart(6);
const x = (us: number) => `${(us / plain).toFixed(2)}x forwarding, ${(us / rate).toFixed(2)}x fixed rate`;

console.log(`${N} packets of ${BYTES} B, median of ${REPS} runs, CPU time (user+system) per packet:`);
console.log(`  reference: unlimited link (forwarding)   ${ns(plain)} ns  (before ${ns(plain1).trim()}, after ${ns(plain2).trim()})`);
console.log(`  fixed rate 100 Mbit/s                    ${ns(rate)} ns  (${(rate / plain).toFixed(2)}x forwarding)`);
console.log(`  Mahimahi trace, ~100 Mbit/s mean         ${ns(mm)} ns  (${x(mm)})`);
console.log(`  steps trace 150/50 Mbit/s every 100 ms   ${ns(st)} ns  (${x(st)})`);
