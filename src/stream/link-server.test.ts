// Trace replay on an injected clock: a greedy sender keeps the link's queue full, and what leaves
// per 100 ms window is compared with what the trace's own lines offer there, counted here from the
// text without the replaying code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAHIMAHI_MTU, parseTrace } from '../config/net-trace.ts';
import { MahimahiServer, StepsServer } from './link-server.ts';
import { NetemLink, type Delivery } from './netem.ts';

const WINDOW = 100;

/** A seeded Mahimahi trace: rates wandering from 0 to about 18 Mbit/s, with a 400 ms outage. */
function wanderingTrace(periodMs: number): string {
  let a = 7;
  const rnd = () => (a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines: number[] = [];
  let perMs = 0.7;
  for (let ms = 0; ms < periodMs; ms++) {
    if (ms % 50 === 0) perMs = Math.min(1.5, Math.max(0, perMs + (rnd() - 0.5) * 0.6));
    if (ms >= 1200 && ms < 1600) continue;
    const n = Math.floor(perMs) + (rnd() < perMs % 1 ? 1 : 0);
    for (let k = 0; k < n; k++) lines.push(ms);
  }
  lines.push(periodMs);
  return `${lines.join('\n')}\n`;
}

/** Bytes the trace's lines offer in each window of [0, spanMs), looping as Mahimahi does. */
function offeredPerWindow(text: string, spanMs: number): number[] {
  const times = text.trim().split('\n').map(Number);
  const period = times.at(-1)!;
  const out = new Array<number>(Math.ceil(spanMs / WINDOW)).fill(0);
  for (let base = 0; base < spanMs; base += period) for (const t of times) if (base + t < spanMs) out[Math.floor((base + t) / WINDOW)]! += MAHIMAHI_MTU;
  return out;
}

/** Drives a greedy sender of `size`-byte packets for spanMs on an injected clock; returns what left per window (by departure) and the link. */
async function greedy(trace: string, spanMs: number, size: number, reliable: boolean): Promise<{ left: number[]; link: NetemLink<number>; got: Delivery[] }> {
  let now = 0;
  const got: Delivery[] = [];
  const link = new NetemLink<number>(
    { trace: parseTrace(trace, 'w'), reliable, queueLimitBytes: 64 * 1024 },
    (_, d) => got.push(d),
    () => now,
  );
  let full = false;
  link.onDrain(() => (full = false));
  for (let ms = 0; ms < spanMs; ms += 0.5) {
    now = ms;
    if (reliable) {
      // The queue's reports of drain come through timers: on this clock, resume once it is below half.
      if (full && link.stats().queueBytes <= 32 * 1024) full = false;
      while (!full) full = link.push(0, size) === 'full';
    } else while (link.stats().queueBytes + size <= 64 * 1024) link.push(0, size);
  }
  now = 1e9;
  while (got.length < link.stats().packetsIn - link.stats().droppedQueue - link.stats().droppedLoss) await new Promise((r) => setTimeout(r, 5));
  const left = new Array<number>(Math.ceil(spanMs / WINDOW)).fill(0);
  for (const d of got) if (d.sentAt < spanMs) left[Math.floor(d.sentAt / WINDOW)]! += d.bytes;
  return { left, link, got };
}

for (const reliable of [false, true]) {
  test(`a greedy sender gets what a Mahimahi trace offers, per 100 ms window within 5 % (${reliable ? 'reliable' : 'datagrams'})`, async () => {
    const text = wanderingTrace(3000);
    // Past one period, so the loop is replayed too.
    const span = 4500;
    const size = 250;
    const { left, link } = await greedy(text, span, size, reliable);
    const offered = offeredPerWindow(text, span);
    let cum = 0;
    let cumOffered = 0;
    for (let w = 0; w < offered.length - 1; w++) {
      const o = offered[w]!;
      // A packet counts where its last byte leaves, so one may straddle a window's edge.
      assert.ok(Math.abs(left[w]! - o) <= Math.max(0.05 * o, 0), `window ${w}: ${left[w]} B left, the trace offers ${o} B`);
      cum += left[w]!;
      cumOffered += o;
      assert.ok(Math.abs(cum - cumOffered) < size, `up to window ${w}: ${cum} B left, ${cumOffered} B offered`);
    }
    // The outage (1.2 s to 1.6 s of each period) carries nothing.
    for (const w of [12, 13, 14, 15, 42, 43, 44]) assert.equal(left[w], 0, `window ${w} is in the outage`);
    // The capacity series is the trace, window by window.
    const cap = link.capacitySeries(span);
    assert.deepEqual(
      cap.bps.map((b) => Math.round((b * WINDOW) / 8000)),
      offered,
    );
    assert.deepEqual(
      cap.t,
      offered.map((_, i) => i * WINDOW),
    );
    link.close();
  });
}

test('credit unused in its ms is lost, and a packet is spread over opportunities', () => {
  // Opportunities at 0, 0, 5 and 10 ms, then again from 10.
  const s = new MahimahiServer([0, 0, 5, 10], 10, 0);
  assert.equal(s.serve(0, 2000), 0);
  // 1000 bytes are left at 0 ms; a packet that comes at 1 ms cannot use them: it waits for 5 ms.
  assert.equal(s.serve(1, 1000), 5);
  // Opportunity 5 has 500 left: 2000 bytes take it, 10 ms (1500) and end at 10 ms (the next period's 0 ms).
  assert.equal(s.serve(2, 2000), 10);
  assert.equal(s.offeredBits(0, 10), 3 * MAHIMAHI_MTU * 8);
  assert.equal(s.offeredBits(0, 20), 7 * MAHIMAHI_MTU * 8);
});

test('steps: rate per step, outage, and the step delay and loss added to the link own', async () => {
  let now = 0;
  const got: Delivery[] = [];
  const trace = parseTrace('t,rate,delay,loss\n0,1M,10,0\n1,0,0,0\n2,2M,30,50\n', 's');
  const link = new NetemLink<number>(
    { trace, delayMs: 5, queueLimitBytes: 1e6, seed: 3 },
    (_, d) => got.push(d),
    () => now,
  );
  const pushed: number[] = [];
  for (let ms = 0; ms < 4000; ms += 10) {
    now = ms;
    // 1250 B every 10 ms: 1 Mbit/s offered, so the link keeps up except in the outage.
    if (link.push(ms, 1250) === 'queued') pushed.push(ms);
  }
  now = 1e9;
  while (got.length < pushed.length) await new Promise((r) => setTimeout(r, 5));
  const at = (t: number) => got.find((d) => d.enqueuedAt === t)!;
  // 1250 B at 1 Mbit/s: 10 ms on the wire; then 5 ms of the link and 10 of the step.
  assert.deepEqual([at(0).sentAt, at(0).dueAt], [10, 25]);
  // What came during the outage leaves from 2 s, at 2 Mbit/s (5 ms a packet), 5 + 30 ms later.
  assert.deepEqual([at(1000).sentAt, at(1000).dueAt], [2005, 2040]);
  const cap = link.capacitySeries(4000);
  assert.deepEqual([cap.bps[0], cap.bps[10], cap.bps[19], cap.bps[20], cap.bps[39]], [1e6, 0, 0, 2e6, 2e6]);
  // Half of what came after 2 s is lost by the step's loss, on top of none of the link's own: 200 packets, binomial (99.9 % within 70..130).
  const late = got.filter((d) => d.enqueuedAt >= 2000).length;
  assert.ok(late > 70 && late < 130, `${late} of 200 packets came through a 50 % step loss`);
  assert.equal(link.stats().droppedLoss, 200 - late);
  link.close();
});

test('a trace and a rate together are refused', () => {
  assert.throws(() => new NetemLink({ rateBps: 1e6, trace: parseTrace('1\n', 'x') }, () => undefined), /a trace replaces rateBps/);
});

test("steps: a window that starts at a step's time gets that step's rate, whatever the clock's magnitude", () => {
  const trace = parseTrace('t,rate\n0,20M\n3,10M\n', 's');
  if (trace.format !== 'steps') throw new Error('a steps trace');
  // Monotonic clocks of machines up for hours: t + 1 ns rounds back to t there.
  for (const origin of [0, 1234.5, 36450733.512542, 9.87654321e9]) {
    const server: StepsServer = new StepsServer(trace.steps, origin);
    const at = origin + 3000;
    assert.equal(server.offeredBits(at, at + 100), 10e6 * 0.1, `origin ${origin}`);
    assert.equal(server.offeredBits(at - 100, at), 20e6 * 0.1, `origin ${origin}`);
    // A packet offered at the step's time is served at the new rate: 1250 B at 10 Mbit/s take 1 ms.
    assert.equal(server.serve(at, 1250) - at, 1, `origin ${origin}`);
  }
});
