// The policy interface's guards and the loss-based aimd policy; the feedback report's wire format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFeedback, parseFeedback, type FeedbackReport } from '../wire.ts';
import { FeedbackCollector } from '../feedback.ts';
import { createAimd } from './aimd.ts';
import { checkDecision, DeliveredRate } from './policy.ts';

const init = { bitrateBps: 2e6, fps: 30, width: 640, height: 360, codec: 'h264', transport: 'udp' as const, params: {} };
const obs = (nowMs: number, received: number, lost: number) => ({
  nowMs,
  feedback: { report: 0, atMs: nowMs, lost, packets: Array.from({ length: received }, (_, i) => ({ pkt: i, sendMs: nowMs, arrivalMs: nowMs, bytes: 1200 })) },
  frames: [],
  probes: [],
  inFlightBytes: 0,
  guestCpuPct: 0,
  current: { bitrateBps: 2e6, fps: 30, width: 640, height: 360 },
});

test('aimd cuts to beta on loss (once per hold), and climbs additively without it', () => {
  const p = createAimd({ ...init, params: { beta: 0.5, increase: 100_000, hold_ms: 300, max_bitrate: 4e6 } });
  assert.equal(p.decide(obs(0, 10, 0))?.bitrate, 2e6);
  assert.equal(p.decide(obs(1000, 10, 0))?.bitrate, 2.1e6, '100 kbit/s per second');
  assert.equal(p.decide(obs(1050, 9, 1))?.bitrate, 1.05e6, '10 % loss halves it');
  assert.equal(p.decide(obs(1100, 9, 1))?.bitrate, 1.05e6, 'the same loss event within hold_ms does not cut again');
  assert.equal(p.decide(obs(1400, 9, 1))?.bitrate, 0.525e6);
});

test('a decision out of range, of the wrong type or with unknown fields is refused with what is wrong', () => {
  assert.throws(() => checkDecision({ bitrate: -5 }), /bitrate -5: it must be bits\/s/);
  assert.throws(() => checkDecision({ bitrate: NaN }), /bitrate null/);
  assert.throws(() => checkDecision({ fps: 0 }), /fps 0/);
  assert.throws(() => checkDecision({ resolution: '641x360' }), /resolution "641x360"/);
  // A size the guest's encoders cannot open (below 64x64) is the policy's fault, said here, not a crash in the guest's loop.
  assert.throws(() => checkDecision({ resolution: '32x32' }), /resolution "32x32": control resolution 32x32 must be from 64x64/);
  assert.equal(checkDecision({ resolution: ' 640 x 360 ' })?.resolution, '640x360');
  assert.throws(() => checkDecision({ bitrat: 1e6 }), /unknown field 'bitrat'/);
  assert.throws(() => checkDecision(42), /returned 42/);
  assert.equal(checkDecision(undefined), undefined);
  assert.deepEqual(checkDecision({ bitrate: 1e6 + 0.4, estimate: { state: 'normal' } }), { bitrate: 1e6, estimate: { state: 'normal' } });
  assert.deepEqual(checkDecision({ probe: { bps: 2e6 + 0.3 }, window: 50_000 }), { probe: { bps: 2e6 }, window: 50_000 });
  assert.equal(checkDecision({ window: Infinity })?.window, Infinity, 'Infinity lifts the window');
  assert.throws(() => checkDecision({ probe: 2e6 }), /probe 2000000: it must be \{bps, ms\?\}/);
  assert.throws(() => checkDecision({ probe: { bps: 2e6, ms: 0 } }), /probe ms 0: it must be from 1 to 1000/);
  assert.throws(() => checkDecision({ window: 100 }), /window 100: it must be bytes, at least 1500/);
});

test('a feedback report reads back as written, and a damaged one is refused', () => {
  const r: FeedbackReport = {
    report: 7,
    atMs: 123.5,
    lost: 2,
    packets: [
      { pkt: 1, sendMs: 10.25, arrivalMs: 99_999.5, bytes: 1400 },
      { pkt: 4, sendMs: 11, arrivalMs: 100_001, bytes: 300 },
    ],
  };
  const b = encodeFeedback(r);
  assert.deepEqual(parseFeedback(b), r);
  assert.throws(() => parseFeedback(b.subarray(0, b.length - 1)), /says 2 packets but has/);
  assert.throws(() => parseFeedback(Buffer.alloc(3)), /shorter than/);
});

test('the collector counts gaps in packet numbers as losses, and a late packet takes one back', () => {
  const c = new FeedbackCollector();
  for (const n of [0, 1, 4, 3]) c.arrived(n, n, n, 100);
  const r = c.take(10);
  assert.equal(r.packets.length, 4);
  assert.equal(r.lost, 1, '2 and 3 were missing when 4 came; 3 came later');
  assert.equal(c.take(20).packets.length, 0, 'a report starts the next');
});

test('the delivered rate is bytes over the arrival span', () => {
  const d = new DeliveredRate(500);
  d.add(Array.from({ length: 11 }, (_, i) => ({ arrivalMs: i * 50, bytes: 1250 })));
  assert.equal(d.bps(), (10 * 1250 * 8 * 1000) / 500);
});
