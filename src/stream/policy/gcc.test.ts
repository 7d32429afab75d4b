// GCC's parts on synthetic arrival series whose truth is known by construction: a queue that grows
// is over-use, one that drains is under-use, a steady one is normal; the rate controller cuts to
// beta x the incoming rate (draft-ietf-rmcat-gcc-02, section 5.5) and grows again when normal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AimdRateController, createGcc, InterArrival, LossBasedBound, TrendlineDetector, type Usage } from './gcc.ts';
import type { PacketArrival } from './policy.ts';

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
