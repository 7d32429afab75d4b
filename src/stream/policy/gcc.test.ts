// GCC's parts on synthetic arrival series whose truth is known by construction: a queue that grows
// is over-use, one that drains is under-use, a steady one is normal; the rate controller cuts to
// beta x the incoming rate (draft-ietf-rmcat-gcc-02, section 5.5) and grows again when normal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AimdRateController, CongestionWindowPushback, createGcc, InterArrival, LossBasedBound, TrendlineDetector, type Usage } from './gcc.ts';
import type { PacketArrival } from './policy.ts';
import { PACING_FACTOR, paceOffsets } from '../pacer.ts';

/** Frames every 33 ms whose one-way delay changes by `growMs` per frame; the client's clock is 5000 s off (differences only). */
function states(growMs: number, frames = 60): Usage[] {
  const ia = new InterArrival();
  const det = new TrendlineDetector();
  const out: Usage[] = [];
  for (let i = 0; i < frames; i++) {
    const send = 1000 + i * 33;
    const d = ia.add({ sendMs: send, arrivalMs: 5_000_000 + send + 400 + i * growMs });
    if (d) out.push(det.update(d));
  }
  return out;
}

test('a one-way delay that grows is over-use, one that falls under-use, a steady one normal', () => {
  assert.equal(states(3).at(-1), 'overuse');
  assert.equal(states(-3).at(-1), 'underuse');
  assert.ok(
    states(0).every((s) => s === 'normal'),
    'a constant delay never signals',
  );
});

test('packets sent within 5 ms form one group: a burst of fragments is one delta', () => {
  const ia = new InterArrival();
  const deltas = [];
  for (let f = 0; f < 4; f++) for (let k = 0; k < 10; k++) deltas.push(ia.add({ sendMs: f * 33 + k * 0.2, arrivalMs: f * 33 + k * 1.5 }));
  const got = deltas.filter((d) => d !== undefined);
  assert.equal(got.length, 2, 'four groups give two deltas (a group completes when the next begins)');
  assert.ok(Math.abs(got[0]!.sendDeltaMs - 33) < 1e-9);
});

test('over-use cuts the target to beta x the incoming rate; normal then grows it again', () => {
  const c = new AimdRateController(4e6, 5e4, 4e6, 0.85);
  assert.equal(c.update('overuse', 1e6, 0), 0.85e6);
  // Repeated over-use measures the same incoming rate: the cut does not compound.
  assert.equal(c.update('overuse', 1e6, 50), 0.85e6);
  let t = 50;
  let last = c.target;
  for (let i = 0; i < 20; i++) {
    t += 50;
    const next = c.update('normal', 1e6, t);
    assert.ok(next >= last, 'normal never lowers the target');
    last = next;
  }
  assert.ok(last > 0.85e6, 'it grew');
  assert.ok(last <= 1.5e6 + 10_000, 'never far above what arrives');
  const held = c.update('underuse', 1e6, t + 50);
  assert.equal(held, last, 'under-use holds');
});

test('the loss-based bound falls above 10 % loss and grows below 2 %', () => {
  const b = new LossBasedBound(1e6, 1e4, 1e7);
  assert.equal(b.update(0.2), 1e6 * 0.9);
  assert.equal(b.update(0.05), 0.9e6, 'between 2 and 10 % it holds');
  assert.ok(Math.abs(b.update(0) - 0.9e6 * 1.05) < 1e-6);
});

test('the gcc policy follows a link of 1 Mbit/s from 4 Mbit/s, using differences of two clocks only', () => {
  const p = createGcc({ bitrateBps: 4e6, fps: 30, width: 640, height: 360, codec: 'h264', transport: 'udp', params: {} });
  // A bottleneck of 1 Mbit/s: each packet leaves it after the one before, at the link's pace.
  let linkFree = 0;
  let rate = 4e6;
  let pkt = 0;
  let pending: PacketArrival[] = [];
  let reportAt = 50;
  const targets: number[] = [];
  for (let now = 0; now < 20_000; now += 1000 / 30) {
    const bytes = Math.round(rate / 8 / 30);
    for (let left = bytes; left > 0; left -= 1200) {
      const size = Math.min(1200, left);
      linkFree = Math.max(linkFree, now) + (size * 8 * 1000) / 1e6;
      // The client's clock reads 7 hours ahead of the guest's.
      pending.push({ pkt: pkt++, sendMs: now, arrivalMs: linkFree + 20 + 25_200_000, bytes: size });
    }
    while (reportAt <= now) {
      const arrived = pending.filter((x) => x.arrivalMs - 25_200_000 <= reportAt);
      pending = pending.filter((x) => x.arrivalMs - 25_200_000 > reportAt);
      const d = p.decide({ nowMs: reportAt, feedback: { report: 0, atMs: reportAt, lost: 0, packets: arrived }, frames: [], guestCpuPct: 0, current: { bitrateBps: rate, fps: 30, width: 640, height: 360 } });
      if (d?.bitrate !== undefined) rate = d.bitrate;
      targets.push(rate);
      reportAt += 50;
    }
  }
  const lastSecond = targets.slice(-20);
  const mean = lastSecond.reduce((a, b) => a + b, 0) / lastSecond.length;
  assert.ok(mean > 0.6e6 && mean < 1.3e6, `the target settles near the link's 1 Mbit/s (last second's mean ${Math.round(mean)})`);
  assert.ok(Math.min(...targets) >= 5e4, 'never below its floor');
});

test("the capacity estimate is WebRTC's: near it the target grows additively, above its upper bound (3 deviations, a few % of it) multiplicatively again", () => {
  const c = new AimdRateController(4e6, 5e4, 8e6, 0.85);
  c.update('overuse', 1e6, 0);
  assert.equal(c.capacityBps, 1e6);
  // One second of normal at the capacity: additive, about a packet per 200 ms (~48 kbit/s at 0.85 Mbit/s).
  let t = 0;
  for (let i = 0; i < 20; i++) c.update('normal', 1e6, (t += 50));
  assert.ok(c.target > 0.85e6 && c.target < 0.85e6 + 60_000, `additive near the capacity (${Math.round(c.target)})`);
  // The throughput leaves the estimate's band (1 Mbit/s + 3 x sqrt(0.4 x 1000) kbit/s = 1.06 Mbit/s): the link grew, multiplicative (8 %/s).
  const before = c.target;
  for (let i = 0; i < 20; i++) c.update('normal', 1.1e6, (t += 50));
  assert.equal(c.capacityBps, undefined, 'the estimate is dropped');
  assert.ok(Math.abs(c.target / before - 1.08) < 0.005, `8 % in a second (${(c.target / before).toFixed(4)})`);
  // An over-use far below the estimate starts it again there instead of averaging a link that is gone.
  c.update('overuse', 4e6, (t += 50));
  c.update('overuse', 1e6, (t += 50));
  assert.equal(c.capacityBps, 1e6);
});

test('congestion-window pushback: bytes in flight beyond (base RTT + 350 ms) at the target push the rate back, and it comes back as they arrive', () => {
  const w = new CongestionWindowPushback();
  assert.equal(w.apply(1e6), 1e6, 'no round trip seen yet: no window');
  w.onSent([{ sentMs: 0, bytes: 1000 }]);
  w.onReport(40, 0);
  assert.equal(w.baseRttMs, 40);
  assert.equal(w.bytesInFlight, 0);
  // The window at 1 Mbit/s is 125 kB/s x 0.39 s = 48750 B; 100 kB in flight is over 1.5 windows.
  w.onSent(Array.from({ length: 100 }, (_, i) => ({ sentMs: 100 + i, bytes: 1000 })));
  assert.ok(Math.abs(w.apply(1e6) - 0.9e6) < 1e-6);
  assert.ok(Math.abs(w.apply(1e6) - 0.81e6) < 1e-6);
  // Half of it reported: 50 kB in flight, between one and 1.5 windows.
  w.onReport(300, 149);
  assert.equal(w.bytesInFlight, 50_000);
  assert.ok(Math.abs(w.apply(1e6) - 0.81e6 * 0.95) < 1e-6);
  w.onReport(400, 199);
  assert.equal(w.apply(1e6), 1e6, 'an empty window gives the rate back');
  for (let i = 0; i < 100; i++) w.apply(1e6);
  w.onSent(Array.from({ length: 1000 }, (_, i) => ({ sentMs: 500 + i, bytes: 1000 })));
  for (let i = 0; i < 100; i++) w.apply(1e6);
  assert.equal(w.apply(1e6), 30_000, 'never below its floor');
  assert.equal(w.apply(20_000), 20_000, 'unless the target is');
});

/**
 * The whole policy against a simulated bottleneck whose rate follows `linkBps(ms)`, fed as the
 * guest feeds it (the frames it sent, reports every 50 ms), the encoder following each decision
 * at the next frame. Returns per report its time, the target and the queueing delay then.
 */
function simulate(linkBps: (ms: number) => number, endMs: number, pace = false, start = 4e6, params: Record<string, number> = {}) {
  const p = createGcc({ bitrateBps: start, fps: 30, width: 640, height: 360, codec: 'h264', transport: 'udp', params });
  let linkFree = 0;
  let rate = start;
  let pkt = 0;
  let pending: PacketArrival[] = [];
  let frames: { frame: number; bytes: number; key: boolean; encodeMs: number; sentMs: number }[] = [];
  let reportAt = 50;
  const out: { t: number; target: number; queueMs: number; state: unknown }[] = [];
  let frame = 0;
  for (let now = 0; now < endMs; now += 1000 / 30) {
    const bytes = Math.round(rate / 8 / 30);
    const sizes: number[] = [];
    for (let left = bytes; left > 0; left -= 1200) sizes.push(Math.min(1200, left));
    // Paced as the guest paces over UDP with a policy, else the whole frame at once.
    const offsets = pace ? paceOffsets(sizes, PACING_FACTOR * rate, 500 / 30) : sizes.map(() => 0);
    for (const [i, size] of sizes.entries()) {
      const sendMs = now + offsets[i]!;
      // The link serves bit by bit at its rate of the moment (steps of 1 ms).
      let t = Math.max(linkFree, sendMs);
      for (let bits = size * 8; bits > 0; t += 1) bits -= linkBps(t) / 1000;
      linkFree = t;
      pending.push({ pkt: pkt++, sendMs, arrivalMs: linkFree + 20, bytes: size });
    }
    frames.push({ frame: frame++, bytes, key: false, encodeMs: 5, sentMs: now });
    while (reportAt <= now) {
      const arrived = pending.filter((x) => x.arrivalMs <= reportAt);
      pending = pending.filter((x) => x.arrivalMs > reportAt);
      // The report reaches the guest 20 ms later.
      const d = p.decide({ nowMs: reportAt + 20, feedback: { report: 0, atMs: reportAt, lost: 0, packets: arrived }, frames, guestCpuPct: 0, current: { bitrateBps: rate, fps: 30, width: 640, height: 360 } });
      frames = [];
      if (d?.bitrate !== undefined) rate = d.bitrate;
      out.push({ t: reportAt, target: rate, queueMs: Math.max(0, linkFree - reportAt), state: d?.estimate?.['state'] });
      reportAt += 50;
    }
  }
  return out;
}

test('after a drop from 8 to 1 Mbit/s the queue the reaction left drains in a few seconds, not at (1 - beta) of the link', () => {
  const run = simulate((ms) => (ms >= 3000 ? 1e6 : 8e6), 10_000);
  const at = (t: number) => run.find((r) => r.t >= t)!;
  const peak = Math.max(...run.map((r) => r.queueMs));
  assert.ok(peak > 300, `the drop did fill the queue (${Math.round(peak)} ms)`);
  // Without pushback the backlog drains at 0.15 Mbit/s: a second of 3 Mbit/s too much takes 20 s.
  assert.ok(at(6000).queueMs < 200, `3 s after the drop the queue is down to ${Math.round(at(6000).queueMs)} ms (peak ${Math.round(peak)} ms)`);
  const last = run.filter((r) => r.t >= 8000);
  const mean = last.reduce((a, r) => a + r.target, 0) / last.length;
  assert.ok(mean > 0.7e6 && mean < 1.1e6, `then the target follows the link (${Math.round(mean)})`);
});

test('paced at 2.5 x the target, a frame is several packet groups: over-use is seen in a few groups of ~50 ms, not ~4 frames of 133 ms', () => {
  const firstOveruse = (pace: boolean) => simulate((ms) => (ms >= 3000 ? 1e6 : 8e6), 6000, pace).find((r) => r.t >= 3000 && r.state === 'overuse')!.t - 3000;
  const peak = (pace: boolean) => Math.max(...simulate((ms) => (ms >= 3000 ? 1e6 : 8e6), 6000, pace).map((r) => r.queueMs));
  // A 4 Mbit/s frame paced at 10 Mbit/s is three 5 ms bursts, each ~50 ms through 1 Mbit/s: the
  // detector needs about four groups and two reports (measured: 250 ms; unpaced 600 ms).
  assert.ok(firstOveruse(true) <= 300, `paced: over-use ${firstOveruse(true)} ms after the drop`);
  // Unpaced, one group per frame arrives every 133 ms through the 1 Mbit/s link.
  assert.ok(firstOveruse(false) >= 2 * firstOveruse(true), `unpaced: ${firstOveruse(false)} ms`);
  assert.ok(peak(true) < 0.6 * peak(false), `the queue peaks at ${Math.round(peak(true))} ms paced, ${Math.round(peak(false))} ms unpaced`);
});
