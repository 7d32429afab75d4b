// Truth checks with real timers and the real clock. What is asserted comes from the timestamps the
// link records (enqueuedAt, sentAt, deliveredAt), never from the test's own wall clock, so a slow
// machine stretches the run but does not change the figures.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { defaultQueueLimitBytes, NetemLink, retransmitPenaltyMs, type Delivery, type NetemConfig, type PushResult } from './netem.ts';

interface Got {
  i: number;
  info: Delivery;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function std(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * Resolves once cond() holds. There is no deadline here: how long a loaded machine takes is not
 * what these tests check (the test runner's own timeout catches a hang).
 */
async function until(cond: () => boolean, _what: string): Promise<void> {
  while (!cond()) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Offers `perSecond` packets a second for `durationMs`, by the clock: a late tick sends what it owes,
 * so the offered load does not sag when timers are late. While paused() the source holds back, as a
 * relay stops reading its socket, and resumes with whatever has accumulated.
 */
async function offer(durationMs: number, perSecond: number, send: (i: number) => void, paused: () => boolean = () => false): Promise<number> {
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const owed = Math.min(Math.floor((Math.min(elapsed, durationMs) * perSecond) / 1000), Math.round((durationMs * perSecond) / 1000));
      while (sent < owed && !paused()) send(sent++);
      if (elapsed >= durationMs) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  return sent;
}

/** A link that records deliveries as (index, info). */
function recorder(config: NetemConfig): { link: NetemLink<number>; got: Got[] } {
  const got: Got[] = [];
  const link = new NetemLink<number>(config, (i, info) => got.push({ i, info }));
  return { link, got };
}

/**
 * Mbit/s the serialiser sent between the first and last departure (the link's own times, which
 * timer lateness never moves): the bytes after the first over the time span.
 */
function sentMbps(got: Got[]): number {
  const first = got[0]!.info;
  const last = got.at(-1)!.info;
  const bytes = got.slice(1).reduce((a, g) => a + g.info.bytes, 0);
  return (bytes * 8) / (last.sentAt - first.sentAt) / 1000;
}

/**
 * The serialiser is exact and work-conserving: each packet's last bit leaves at max(its entry,
 * the previous departure) + its wire time. So the link is never idle while it holds a packet, and
 * never faster than its rate, however late the source's or the link's timers ran.
 */
function assertSerialised(got: Got[], rateBps: number): void {
  let prev = -Infinity;
  for (const { i, info } of got) {
    const expected = Math.max(info.enqueuedAt, prev) + (info.bytes * 8000) / rateBps;
    assert.ok(Math.abs(info.sentAt - expected) < 1e-6, `packet ${i} left at ${info.sentAt}, expected ${expected}`);
    assert.ok(info.deliveredAt >= info.dueAt, `packet ${i} delivered before it was due`);
    prev = info.sentAt;
  }
}

test('serialisation, queue limit and queue series are exact on an injected clock', async () => {
  let now = 0;
  const got: Delivery[] = [];
  const link = new NetemLink<number>(
    { rateBps: 1e6, queueLimitBytes: 3000, delayMs: 5 },
    (_, info) => got.push(info),
    () => now,
  );
  // 1250 bytes at 1 Mbit/s take 10 ms on the wire.
  assert.equal(link.push(0, 1250), 'queued');
  assert.equal(link.push(1, 1250), 'queued');
  assert.equal(link.push(2, 1250), 'dropped-queue');
  now = 10;
  assert.deepEqual(link.stats().queueBytes, 1250);
  assert.equal(link.push(3, 1250), 'queued');
  now = 1000;
  await until(() => got.length === 3, 'deliveries');
  link.close();
  assert.deepEqual(
    got.map((d) => [d.enqueuedAt, d.sentAt, d.dueAt]),
    [
      [0, 10, 15],
      [0, 20, 25],
      [10, 30, 35],
    ],
  );
  assert.ok(got.every((d) => d.deliveredAt === 1000));
  const s = link.stats();
  assert.deepEqual([s.packetsIn, s.packetsOut, s.droppedQueue, s.maxQueueBytes, s.queueBytes], [4, 3, 1, 2500, 0]);
  // One sample per ms bucket with the last state in it: t=10 holds the departure then the enqueue.
  // The queueing delay: what remains until the last queued byte leaves (at 10 the third packet, due to leave at 30, has just come).
  assert.deepEqual(link.queueSeries(), { t: [0, 10, 20, 30], bytes: [2500, 2500, 1250, 0], packets: [2, 2, 1, 0], delayMs: [20, 20, 10, 0] });
});

test('config that cannot be emulated is refused', () => {
  const ok = () => undefined;
  assert.throws(() => new NetemLink({ rateBps: 0 }, ok), RangeError);
  assert.throws(() => new NetemLink({ loss: 1.5 }, ok), RangeError);
  assert.throws(() => new NetemLink({ delayMs: -1 }, ok), RangeError);
  assert.throws(() => new NetemLink({ lossBurst: 0.5 }, ok), RangeError);
  // Bursts of 2 with at least one good packet between them cap loss at 2/3.
  assert.throws(() => new NetemLink({ loss: 0.7, lossBurst: 2 }, ok), /impossible/);
  assert.equal(defaultQueueLimitBytes(2e6), 64 * 1024);
  assert.equal(defaultQueueLimitBytes(100e6), 1_875_000);
  assert.equal(retransmitPenaltyMs({ delayMs: 20 }), 200);
  assert.equal(retransmitPenaltyMs({ delayMs: 150, jitterMs: 10 }), 310);
});

test('30 ms delay, no rate limit: every packet due 30 ms after entry, delivered no sooner', async (t) => {
  const { link, got } = recorder({ delayMs: 30 });
  await offer(1500, 200, (i) => link.push(i, 1200)); // 300 packets, one every 5 ms
  await until(() => got.length === 300, '300 deliveries');
  link.close();
  const delays = got.map((g) => g.info.deliveredAt - g.info.enqueuedAt);
  const late = got.map((g) => g.info.deliveredAt - g.info.dueAt);
  const med = median(delays);
  t.diagnostic(`median delay ${med.toFixed(3)} ms, min ${Math.min(...delays).toFixed(3)}, max ${Math.max(...delays).toFixed(3)}; timer lateness median ${median(late).toFixed(3)} ms`);
  // Each packet is due exactly 30 ms after it entered; how late the timer delivers it is the
  // machine's load (bench/netem.ts measures it on a quiet machine), so it is only bounded below.
  for (const g of got) assert.ok(Math.abs(g.info.dueAt - g.info.enqueuedAt - 30) < 1e-9, `due ${g.info.dueAt - g.info.enqueuedAt} ms after entry`);
  assert.ok(med >= 30, `median delay ${med} ms`);
  assert.ok(Math.min(...delays) >= 30, 'nothing arrives before the propagation delay');
  assert.deepEqual(
    got.map((g) => g.i),
    got.map((_, i) => i),
  );
});

const RATE = 2e6;
const PKT = 1200;
const OFFERED_PPS = 4e6 / 8 / PKT; // 4 Mbit/s of 1200-byte packets

test('2 Mbit/s link offered 4 Mbit/s: throughput capped, queue delay grows, queue drops once full', async (t) => {
  const { link, got } = recorder({ rateBps: RATE });
  const results: PushResult[] = [];
  const pushed = await offer(2000, OFFERED_PPS, (i) => results.push(link.push(i, PKT)));
  const queued = results.filter((r) => r === 'queued').length;
  await until(() => got.length === queued, 'the queue to empty');
  const s = link.stats();
  const series = link.queueSeries();
  link.close();
  const limit = defaultQueueLimitBytes(RATE);
  const mbps = sentMbps(got);
  const firstDrop = results.indexOf('dropped-queue');
  const waits = got.map((g) => g.info.sentAt - g.info.enqueuedAt);
  const early = mean(waits.slice(0, 10));
  const late = mean(waits.slice(-50));
  t.diagnostic(`pushed ${pushed}, delivered ${got.length}, queue drops ${s.droppedQueue} (first at push #${firstDrop}); throughput ${mbps.toFixed(4)} Mbit/s`);
  t.diagnostic(`queue wait: first 10 ${early.toFixed(1)} ms, last 50 ${late.toFixed(1)} ms, longest ${Math.max(...waits).toFixed(1)} ms; max queue ${s.maxQueueBytes} B of ${limit}; ${series.t.length} series samples`);
  // In order, each packet out at max(entry, previous departure) + wire time: capped at the rate,
  // never idle while it holds a packet.
  assertSerialised(got, RATE);
  assert.ok(mbps <= 2 * (1 + 1e-9), `throughput ${mbps} Mbit/s`);
  // A full queue of 64 KiB at 2 Mbit/s is ~262 ms of waiting: the longest wait is that of a packet
  // that found the queue full (within two packets' wire time), and no packet waits longer.
  const fullWait = (limit * 8000) / RATE;
  const wire = (PKT * 8000) / RATE;
  assert.ok(Math.max(...waits) <= fullWait + wire + 1e-6 && Math.max(...waits) >= fullWait - 2 * wire, `longest queue wait ${Math.max(...waits)} ms, a full queue's ${fullWait} ms`);
  assert.ok(s.droppedQueue > 0);
  assert.ok(firstDrop >= Math.floor(limit / PKT), `dropped at push #${firstDrop}, before the queue could be full`);
  assert.ok(s.maxQueueBytes <= limit && s.maxQueueBytes > limit - PKT);
  assert.equal(s.droppedQueue + got.length, pushed);
  assert.equal(Math.max(...series.bytes), s.maxQueueBytes);
});

test('2 Mbit/s reliable link offered 4 Mbit/s: backpressure instead of drops, in order', async (t) => {
  const { link, got } = recorder({ rateBps: RATE, reliable: true });
  let paused = false;
  let fulls = 0;
  let drains = 0;
  link.onDrain(() => {
    drains++;
    paused = false;
  });
  const pushed = await offer(
    2000,
    OFFERED_PPS,
    (i) => {
      if (link.push(i, PKT) === 'full') {
        fulls++;
        paused = true;
      }
    },
    () => paused,
  );
  await until(() => got.length === pushed, 'the queue to empty');
  const s = link.stats();
  link.close();
  const limit = defaultQueueLimitBytes(RATE);
  const mbps = sentMbps(got);
  t.diagnostic(`pushed ${pushed}, delivered ${got.length}, 'full' ${fulls} times, drains ${drains}; throughput ${mbps.toFixed(4)} Mbit/s; max queue ${s.maxQueueBytes} B of ${limit}`);
  assert.ok(fulls > 0 && drains > 0);
  assert.equal(s.droppedQueue + s.droppedLoss, 0);
  assert.deepEqual(
    got.map((g) => g.i),
    got.map((_, i) => i),
  );
  // Capped at the rate and never idle while it holds a packet. Whether the source refills it in
  // time after a 'drain' is the machine's speed (the news rides the link's timer): not checked
  // here (a link that never resumed would fail drains > 0 above).
  assertSerialised(got, RATE);
  assert.ok(mbps <= 2 * (1 + 1e-9), `throughput ${mbps} Mbit/s`);
  assert.ok(s.maxQueueBytes < limit + PKT, `a source that honours 'full' keeps the queue near the limit: ${s.maxQueueBytes}`);
});

/** Lengths of the runs of consecutive losses. */
function bursts(results: PushResult[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (const r of results) {
    if (r === 'dropped-loss') run++;
    else if (run > 0) {
      out.push(run);
      run = 0;
    }
  }
  if (run > 0) out.push(run);
  return out;
}

async function lossRun(config: NetemConfig, n: number): Promise<PushResult[]> {
  let delivered = 0;
  const link = new NetemLink<number>(config, () => delivered++);
  const results = Array.from({ length: n }, (_, i) => link.push(i, 100));
  const accepted = results.filter((r) => r === 'queued').length;
  await until(() => delivered === accepted, 'deliveries');
  const s = link.stats();
  link.close();
  assert.equal(s.droppedLoss, n - accepted);
  assert.equal(s.packetsOut, accepted);
  return results;
}

test('5 % loss, independent and in bursts of 4: average and burst length', async (t) => {
  const n = 20000;
  const plain = await lossRun({ loss: 0.05, seed: 1 }, n);
  const bursty = await lossRun({ loss: 0.05, lossBurst: 4, seed: 1 }, n);
  const rate = (r: PushResult[]) => r.filter((x) => x === 'dropped-loss').length / n;
  const plainBursts = mean(bursts(plain));
  const burstyBursts = mean(bursts(bursty));
  t.diagnostic(`independent: loss ${(rate(plain) * 100).toFixed(2)} %, mean burst ${plainBursts.toFixed(3)}`);
  t.diagnostic(`lossBurst=4: loss ${(rate(bursty) * 100).toFixed(2)} %, mean burst ${burstyBursts.toFixed(3)} over ${bursts(bursty).length} bursts`);
  assert.ok(Math.abs(rate(plain) - 0.05) <= 0.015, `independent loss ${rate(plain)}`);
  assert.ok(Math.abs(rate(bursty) - 0.05) <= 0.015, `bursty loss ${rate(bursty)}`);
  assert.ok(Math.abs(burstyBursts - 4) <= 1, `mean burst ${burstyBursts}`);
  // Independent loss at 5 % has mean runs of 1 / 0.95.
  assert.ok(Math.abs(plainBursts - 1 / 0.95) < 0.05, `independent mean burst ${plainBursts}`);
});

test('reliable link with loss: nothing dropped, in order, lost ones late by the penalty, head-of-line blocking', async (t) => {
  const config: NetemConfig = { rateBps: 10e6, delayMs: 20, loss: 0.03, reliable: true, seed: 7 };
  const { link, got } = recorder(config);
  const pushed = await offer(1000, 200, (i) => assert.notEqual(link.push(i, PKT), 'full'));
  await until(() => got.length === pushed, 'deliveries');
  const s = link.stats();
  link.close();
  const penalty = retransmitPenaltyMs(config);
  assert.equal(s.droppedLoss + s.droppedQueue, 0);
  assert.deepEqual(
    got.map((g) => g.i),
    got.map((_, i) => i),
  );
  // Each packet is due at its own arrival (plus the penalty if lost) or when the one ahead of it is,
  // whichever is later; the callback never runs before that.
  let ahead = -Infinity;
  let blocked = 0;
  const unaffected: number[] = [];
  const retxDelay: number[] = [];
  for (const { info } of got) {
    const own = info.sentAt + 20 + (info.retransmitted ? penalty : 0);
    assert.ok(Math.abs(info.dueAt - Math.max(own, ahead)) < 1e-9, `due ${info.dueAt}, expected max(${own}, ${ahead})`);
    assert.ok(info.deliveredAt >= info.dueAt);
    if (info.retransmitted) retxDelay.push(info.deliveredAt - info.sentAt);
    else if (ahead > own) blocked++;
    else unaffected.push(info.dueAt - info.sentAt);
    ahead = info.dueAt;
  }
  t.diagnostic(`pushed ${pushed}, retransmitted ${retxDelay.length}, their delay after sending ${Math.min(...retxDelay).toFixed(1)}..${Math.max(...retxDelay).toFixed(1)} ms (penalty ${penalty} + 20); head-of-line blocked ${blocked}; unaffected ${unaffected.length}`);
  assert.equal(s.retransmitted, retxDelay.length);
  assert.ok(retxDelay.length > 0 && blocked > 0 && unaffected.length > 0);
  for (const d of retxDelay) assert.ok(d >= penalty + 20, `retransmitted after only ${d} ms`);
  // A packet neither lost nor blocked is due its 20 ms after it left (when the timer then runs
  // is the machine's load: delivered at or after it, checked above).
  for (const d of unaffected) assert.ok(Math.abs(d - 20) < 1e-9, `an unaffected packet due ${d} ms after it left`);
});

test('30 ms delay with 10 ms jitter: delay spread has a std within 25 % of 10 ms', async (t) => {
  const { link, got } = recorder({ delayMs: 30, jitterMs: 10, seed: 3 });
  await offer(500, 2000, (i) => link.push(i, 200)); // 1000 packets
  await until(() => got.length === 1000, 'deliveries');
  link.close();
  // The emulated delay is the link's decision (dueAt); the timer's lateness on top of it is the
  // machine's, checked for direction only (a loaded machine delivers late, never early).
  const delays = got.map((g) => g.info.dueAt - g.info.enqueuedAt);
  const sd = std(delays);
  const reordered = got.filter((g, k) => k > 0 && g.i < got[k - 1]!.i).length;
  const late = got.map((g) => g.info.deliveredAt - g.info.dueAt);
  t.diagnostic(`delay mean ${mean(delays).toFixed(2)} ms, std ${sd.toFixed(2)} ms, reordered ${reordered}; timer lateness median ${median(late).toFixed(3)} ms`);
  assert.ok(Math.min(...late) >= 0, 'nothing is delivered before it is due');
  assert.ok(Math.abs(sd - 10) <= 2.5, `std ${sd}`);
  assert.ok(Math.abs(mean(delays) - 30) <= 2, `mean ${mean(delays)}`);
  assert.ok(reordered > 0, 'unreliable jitter reorders, like netem');

  const r = recorder({ delayMs: 30, jitterMs: 10, seed: 3, reliable: true });
  await offer(200, 2000, (i) => r.link.push(i, 200));
  await until(() => r.got.length === 400, 'deliveries');
  r.link.close();
  assert.deepEqual(
    r.got.map((g) => g.i),
    r.got.map((_, i) => i),
  );
});

test('the same seed gives the same drop pattern, whatever the jitter', () => {
  const pattern = (config: NetemConfig) => {
    const link = new NetemLink<number>(config, () => undefined);
    const out = Array.from({ length: 5000 }, (_, i) => link.push(i, 100) === 'dropped-loss');
    link.close();
    return out;
  };
  const a = pattern({ loss: 0.1, lossBurst: 3, seed: 42 });
  assert.deepEqual(pattern({ loss: 0.1, lossBurst: 3, seed: 42 }), a);
  assert.deepEqual(pattern({ loss: 0.1, lossBurst: 3, seed: 42, jitterMs: 5, delayMs: 10 }), a);
  assert.notDeepEqual(pattern({ loss: 0.1, lossBurst: 3, seed: 43 }), a);
  const b = pattern({ loss: 0.1 });
  assert.deepEqual(pattern({ loss: 0.1 }), b, 'the default seed is fixed');
});

test('a link with nothing to emulate hands a packet on inside push; with a delay or a rate limit it waits its turn, in order', async () => {
  // A fake clock: what is asserted is when deliver ran relative to push, not how long anything took.
  let now = 0;
  const got: { item: string; in: boolean }[] = [];
  let inPush = false;
  const plain = new NetemLink<string>(
    {},
    (item) => got.push({ item, in: inPush }),
    () => now,
  );
  inPush = true;
  assert.equal(plain.push('a', 100), 'queued');
  assert.equal(plain.push('b', 100), 'queued');
  inPush = false;
  assert.deepEqual(got, [
    { item: 'a', in: true },
    { item: 'b', in: true },
  ]);
  assert.equal(plain.stats().packetsOut, 2);
  assert.equal(plain.stats().bytesOut, 200);
  plain.close();

  got.length = 0;
  const delayed = new NetemLink<string>(
    { delayMs: 5 },
    (item) => got.push({ item, in: inPush }),
    () => now,
  );
  inPush = true;
  delayed.push('c', 100);
  inPush = false;
  assert.equal(got.length, 0, 'a 5 ms delay is not handed on inside push');
  now = 6;
  await until(() => got.length === 1, 'the delayed packet');
  assert.deepEqual(got, [{ item: 'c', in: false }]);
  delayed.close();

  // A rate limit queues: the second packet is behind the first, and neither goes inside push.
  got.length = 0;
  now = 0;
  const limited = new NetemLink<string>(
    { rateBps: 8000 },
    (item) => got.push({ item, in: inPush }),
    () => now,
  );
  inPush = true;
  limited.push('d', 100);
  limited.push('e', 100);
  inPush = false;
  assert.equal(got.length, 0);
  now = 1000;
  await until(() => got.length === 2, 'both limited packets');
  assert.deepEqual(
    got.map((g) => g.item),
    ['d', 'e'],
  );
  limited.close();
});
