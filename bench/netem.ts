/**
 * The emulated link's CPU cost per packet: small packets through an unlimited link and through a
 * 100 Mbit/s link with 10 ms delay, against a plain array push/shift of the same items measured in
 * the same run. CPU time (process.cpuUsage), not wall time, since the rate-limited run mostly waits.
 * Run: npx tsx bench/netem.ts [packets] [bytes]
 */
import { NetemLink, type NetemConfig } from '../src/stream/netem.ts';

const N = Number(process.argv[2] ?? 100_000);
const BYTES = Number(process.argv[3] ?? 100);
const REPS = 5;
const items = Array.from({ length: N }, (_, i) => ({ seq: i, payload: null }));
type Item = (typeof items)[number];

function cpuUs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/**
 * A plain array queue into the same sink, `depth` items held at most: depth 1 is the bare hand-off
 * floor; depth N has the link run's shape, but V8's shift is O(n) beyond ~16k elements.
 */
function reference(depth: number): number {
  let sum = 0;
  const sink = (it: Item) => (sum += it.seq);
  const t0 = process.cpuUsage();
  const q: Item[] = [];
  for (const it of items) {
    q.push(it);
    if (q.length >= depth) sink(q.shift()!);
  }
  while (q.length > 0) sink(q.shift()!);
  const us = cpuUs(t0);
  if (sum !== (N * (N - 1)) / 2) throw new Error('reference lost items');
  return us;
}

/** All N pushed at once, timed until the last one is delivered; every push must be accepted. */
async function throughLink(config: NetemConfig): Promise<number> {
  let sum = 0;
  let delivered = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const link = new NetemLink<Item>(config, (it) => {
    sum += it.seq;
    if (++delivered === N) done();
  });
  const t0 = process.cpuUsage();
  for (const it of items) if (link.push(it, BYTES) !== 'queued') throw new Error('a push was not accepted');
  await finished;
  const us = cpuUs(t0);
  link.close();
  if (sum !== (N * (N - 1)) / 2) throw new Error('link lost items');
  return us;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function measure(f: () => number | Promise<number>): Promise<number> {
  await f(); // warm-up: JIT and heap growth
  const runs: number[] = [];
  for (let i = 0; i < REPS; i++) runs.push(await f());
  return median(runs);
}

// The queue is sized to take the whole burst, so nothing is dropped and every packet is costed.
const rated: NetemConfig = { rateBps: 100e6, delayMs: 10, queueLimitBytes: N * BYTES };
const ref1 = await measure(() => reference(1));
const unlimited = await measure(() => throughLink({}));
const limited = await measure(() => throughLink(rated));
const ref2 = await measure(() => reference(1));
const refDeep = await measure(() => reference(N));
const ref = (ref1 + ref2) / 2;
const ns = (us: number) => ((us * 1000) / N).toFixed(1);
const x = (us: number) => `${(us / ref).toFixed(0)}x reference`;

console.log(`${N} packets of ${BYTES} B, median of ${REPS} runs, CPU time (user+system) per packet:`);
console.log(`  reference: array push then shift, one at a time   ${ns(ref)} ns  (before ${ns(ref1)}, after ${ns(ref2)})`);
console.log(`  array push all, then shift all                     ${ns(refDeep)} ns  (${x(refDeep)})`);
console.log(`  unlimited link, no delay                           ${ns(unlimited)} ns  (${x(unlimited)})`);
console.log(`  100 Mbit/s link, 10 ms delay                       ${ns(limited)} ns  (${x(limited)}; ${((N * BYTES * 8) / 100e6).toFixed(2)} s of wire time)`);
