// GCC's parts on synthetic arrival series whose truth is known by construction: a queue that grows
// is over-use, one that drains is under-use, a steady one is normal; the rate controller cuts to
// beta x the incoming rate (draft-ietf-rmcat-gcc-02, section 5.5) and grows again when normal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AimdRateController, CongestionWindow, createGcc, InterArrival, LossBasedBound, ProbeController, probeResult, TrendlineDetector, type Usage } from './gcc.ts';
import { InFlight, type PacketArrival, type ProbeCluster } from './policy.ts';
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
      const d = p.decide({ nowMs: reportAt, feedback: { report: 0, atMs: reportAt, lost: 0, packets: arrived }, frames: [], probes: [], inFlightBytes: 0, guestCpuPct: 0, current: { bitrateBps: rate, fps: 30, width: 640, height: 360 } });
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

test('congestion window: (base RTT + one report interval + the allowance) at the target; in flight is what no report covered yet', () => {
  const w = new CongestionWindow(350);
  const flight = new InFlight();
  assert.equal(w.bytes(1e6), Infinity, 'no round trip seen yet: no window');
  flight.add(0, 1000);
  w.onReport(40, 0);
  flight.covered(0);
  assert.equal(w.baseRttMs, 40);
  assert.equal(flight.bytes, 0);
  // At 1 Mbit/s: 125 kB/s x (40 + 350) ms = 48750 B, before a second report gives the interval.
  assert.equal(w.bytes(1e6), 48_750);
  w.onReport(90, 60);
  assert.equal(w.baseRttMs, 30, 'the smallest round trip seen');
  assert.equal(w.reportGapMs, 50);
  assert.equal(w.bytes(1e6), (125_000 * (30 + 50 + 350)) / 1000);
  for (let i = 0; i < 100; i++) flight.add(100 + i, 1000);
  flight.covered(149);
  assert.equal(flight.bytes, 50_000, 'half of it reported: the other half in flight');
  flight.covered(120);
  assert.equal(flight.bytes, 50_000, 'an older report changes nothing');
  flight.covered(199);
  assert.equal(flight.bytes, 0);
  assert.equal(w.bytes(10_000), 3000, 'the window is at least two full-size packets');
});

test('without pushback on top of the window, the cut to beta x the link holds while skipped frames drain the queue: a 4:1 start ends near the link', () => {
  for (const mode of [{ tcp: true }, { pace: true }]) {
    const g = simulate(() => 1e6, 6000, mode);
    const at3 = g.reports.find((r) => r.t >= 3000)!;
    assert.ok(at3.target > 0.7e6 && at3.target < 1.1e6, `${JSON.stringify(mode)}: 3 s into a 1 Mbit/s link from 4 Mbit/s the target is ${Math.round(at3.target)}`);
    assert.ok(Math.min(...g.reports.filter((r) => r.t >= 1500).map((r) => r.target)) > 0.5e6, `${JSON.stringify(mode)}: and it never fell far below the link on the way`);
  }
});

test("a probe's result: the smaller of send and receive rate, 95 % of the receive rate when the link was slower, nothing from too few packets", () => {
  const cluster = (n: number, bps: number) => ({ id: 1, bps, pkts: Array.from({ length: n }, (_, i) => i), packetBytes: 1200, firstSendMs: 0, lastSendMs: ((n - 1) * 9600) / (bps / 1000) });
  // Ten packets sent at 4 Mbit/s (2.4 ms apart), through a link of 8 Mbit/s: they arrive as sent.
  const c = cluster(10, 4e6);
  const asSent = c.pkts.map((pkt) => ({ pkt, sendMs: pkt * 2.4, arrivalMs: 7e6 + pkt * 2.4, bytes: 1200 }));
  assert.ok(Math.abs(probeResult(c, asSent)! - 4e6) < 1);
  // Through a 1 Mbit/s link they leave 9.6 ms apart: the link is the measure, less 5 %.
  const slow = c.pkts.map((pkt) => ({ pkt, sendMs: pkt * 2.4, arrivalMs: 7e6 + pkt * 9.6, bytes: 1200 }));
  assert.ok(Math.abs(probeResult(c, slow)! - 0.95e6) < 1);
  assert.equal(probeResult(c, slow.slice(0, 7)), undefined, 'under 80 % of the cluster measures nothing');
  assert.equal(
    probeResult(
      c,
      asSent.map((a) => ({ ...a, arrivalMs: 7e6 })),
    ),
    undefined,
    'arrivals all at once are no rate',
  );
});

test('probing: at twice the target while increasing with no queue, further at twice a result that reached 70 %, periodically after', () => {
  const pc = new ProbeController(1000, 8e6);
  assert.deepEqual(pc.next(1e6, true, 0), { bps: 2e6 });
  assert.equal(pc.next(1e6, true, 10), undefined, 'not again within the interval');
  // The guest sent it: ten packets at 2 Mbit/s; reported as they went (the link carried it all).
  const c = { id: 1, bps: 2e6, pkts: Array.from({ length: 10 }, (_, i) => 100 + i), packetBytes: 1200, firstSendMs: 0, lastSendMs: 43.2 };
  const arrivals = c.pkts.map((pkt, i) => ({ pkt, sendMs: i * 4.8, arrivalMs: 9e6 + i * 4.8, bytes: 1200 }));
  assert.deepEqual(pc.update([c], arrivals.slice(0, 5), 60), [], 'half of it reported: not done');
  const [r] = pc.update([], arrivals.slice(5), 110);
  assert.ok(Math.abs(r! - 2e6) < 1);
  assert.deepEqual(pc.next(2e6, true, 120), { bps: 4e6 }, 'probe further at twice the result');
  assert.equal(pc.next(2e6, false, 2000), undefined, 'not while a queue builds or drains');
  assert.equal(pc.next(8e6, true, 2000), undefined, 'not at the maximum');
});

/** One frame of a simulation: captured at, bytes, and when its last byte reached the client (NaN: never). */
interface SimFrame {
  capture: number;
  bytes: number;
  arrival: number;
  parts: number;
}

/**
 * The whole policy against a simulated bottleneck whose rate follows `linkBps(ms)`, in steps of
 * 1 ms, fed as the guest feeds it: frames every 33 ms at the rate decided (one packet per frame as
 * over TCP, or 1200-byte fragments paced as over UDP), the congestion window's skipped ticks (one
 * frame still every 500 ms), probes sent as padding at their rate; a report every 50 ms, 20 ms each
 * way; the client's clock 7 hours ahead. Returns per report its time, the target, the queueing
 * delay then and the detector's state, and every frame sent.
 */
function simulate(linkBps: (ms: number) => number, endMs: number, opts: { pace?: boolean; tcp?: boolean; start?: number; params?: Record<string, number>; fixed?: boolean } = {}) {
  const start = opts.start ?? 4e6;
  const p = createGcc({ bitrateBps: start, fps: 30, width: 640, height: 360, codec: 'h264', transport: opts.tcp ? 'tcp' : 'udp', params: opts.params ?? {} });
  const ONE_WAY = 20;
  const OFFSET = 25_200_000;
  type Pkt = { pkt: number; sendMs: number; bytes: number; frame: number };
  const link: Pkt[] = [];
  let budget = 0;
  let queued = 0;
  const arriving: PacketArrival[] = [];
  const reports: { at: number; packets: PacketArrival[] }[] = [];
  const sends: { at: number; pkt: Pkt; probe?: ProbeCluster }[] = [];
  const flight = new InFlight();
  const frames: SimFrame[] = [];
  let probesDone: ProbeCluster[] = [];
  let probing = false;
  let window = Infinity;
  let lastFrameSent = -Infinity;
  let rate = start;
  let pkt = 0;
  let nextTick = 0;
  let nextReport = 50;
  let skipped = 0;
  const out: { t: number; target: number; queueMs: number; state: unknown; probe: unknown; probeResult: number }[] = [];
  for (let t = 0; t < endMs; t++) {
    if (t >= nextTick) {
      nextTick += 1000 / 30;
      if (flight.bytes > window && t - lastFrameSent < 500) skipped++;
      else {
        const bytes = Math.round(rate / 8 / 30);
        const sizes: number[] = [];
        if (opts.tcp) sizes.push(bytes);
        else for (let left = bytes; left > 0; left -= 1200) sizes.push(Math.min(1200, left));
        const offsets = opts.pace ? paceOffsets(sizes, PACING_FACTOR * rate, 500 / 30) : sizes.map(() => 0);
        frames.push({ capture: t, bytes, arrival: NaN, parts: sizes.length });
        for (const [i, size] of sizes.entries()) sends.push({ at: t + Math.round(offsets[i]!), pkt: { pkt: pkt++, sendMs: NaN, bytes: size, frame: frames.length - 1 } });
        lastFrameSent = t;
      }
    }
    sends.sort((a, b) => a.at - b.at);
    while (sends.length > 0 && sends[0]!.at <= t) {
      const x = sends.shift()!;
      x.pkt.sendMs = t;
      link.push(x.pkt);
      queued += x.pkt.bytes;
      flight.add(t, x.pkt.bytes);
      if (x.probe) {
        x.probe.lastSendMs = t;
        if (Number.isNaN(x.probe.firstSendMs)) x.probe.firstSendMs = t;
        if (x.pkt.pkt === x.probe.pkts.at(-1)) {
          probesDone.push(x.probe);
          probing = false;
        }
      }
    }
    // The link: its rate's bits each millisecond, credit kept only while there is something to send.
    if (link.length === 0) budget = 0;
    else budget += linkBps(t) / 1000;
    while (link.length > 0 && link[0]!.bytes * 8 <= budget) {
      const x = link.shift()!;
      budget -= x.bytes * 8;
      queued -= x.bytes;
      arriving.push({ pkt: x.pkt, sendMs: x.sendMs, arrivalMs: t + ONE_WAY + OFFSET, bytes: x.bytes });
      if (x.frame >= 0 && --frames[x.frame]!.parts === 0) frames[x.frame]!.arrival = t + ONE_WAY;
    }
    if (t >= nextReport) {
      const now = arriving.filter((a) => a.arrivalMs - OFFSET <= t);
      arriving.splice(0, arriving.length, ...arriving.filter((a) => a.arrivalMs - OFFSET > t));
      reports.push({ at: t + ONE_WAY, packets: now });
      nextReport += 50;
    }
    while (reports.length > 0 && reports[0]!.at <= t) {
      const r = reports.shift()!;
      if (opts.fixed) continue;
      if (r.packets.length > 0) flight.covered(Math.max(...r.packets.map((a) => a.sendMs)));
      const d = p.decide({ nowMs: t, feedback: { report: 0, atMs: t + OFFSET, lost: 0, packets: r.packets }, frames: [], probes: probesDone, inFlightBytes: flight.bytes, guestCpuPct: 0, current: { bitrateBps: rate, fps: 30, width: 640, height: 360 } });
      probesDone = [];
      if (d?.bitrate !== undefined) rate = d.bitrate;
      if (d?.window !== undefined) window = d.window;
      if (d?.probe && !probing) {
        probing = true;
        const n = Math.max(5, Math.ceil((d.probe.bps * 15) / 8000 / 1200));
        const cluster: ProbeCluster = { id: t, bps: d.probe.bps, pkts: Array.from({ length: n }, (_, i) => pkt + i), packetBytes: 1200, firstSendMs: NaN, lastSendMs: NaN };
        for (let i = 0; i < n; i++) sends.push({ at: t + 1 + Math.floor(((i * 9600) / d.probe.bps) * 1000), pkt: { pkt: pkt++, sendMs: NaN, bytes: 1200, frame: -1 }, probe: cluster });
      }
      if (process.env['SIM_DEBUG']) console.log(t, Math.round(rate), Math.round((queued * 8 * 1000) / linkBps(t)), flight.bytes, Math.round(window), JSON.stringify(d?.probe), JSON.stringify(d?.estimate));
      out.push({ t, target: rate, queueMs: (queued * 8 * 1000) / linkBps(t), state: d?.estimate?.['state'], probe: d?.probe, probeResult: Number(d?.estimate?.['probe_result_bps'] ?? NaN) });
    }
  }
  return { reports: out, frames, skipped };
}

/** The 95th percentile of frame latency (capture to the last byte at the client) of the frames that arrived. */
function p95Latency(frames: readonly SimFrame[]): number {
  const l = frames
    .filter((f) => !Number.isNaN(f.arrival))
    .map((f) => f.arrival - f.capture)
    .sort((a, b) => a - b);
  return l[Math.ceil(0.95 * l.length) - 1]!;
}

test('after a drop from 8 to 1 Mbit/s the queue the reaction left drains in a few seconds, not at (1 - beta) of the link', () => {
  const run = simulate((ms) => (ms >= 3000 ? 1e6 : 8e6), 10_000).reports;
  const at = (t: number) => run.find((r) => r.t >= t)!;
  const peak = Math.max(...run.map((r) => r.queueMs));
  assert.ok(peak > 300, `the drop did fill the queue (${Math.round(peak)} ms)`);
  // Sending on at beta x the link, the backlog would drain at 0.15 Mbit/s: a second of 3 Mbit/s too much takes 20 s; the window's skipped frames drain it.
  assert.ok(at(6000).queueMs < 200, `3 s after the drop the queue is down to ${Math.round(at(6000).queueMs)} ms (peak ${Math.round(peak)} ms)`);
  const last = run.filter((r) => r.t >= 8000);
  const mean = last.reduce((a, r) => a + r.target, 0) / last.length;
  assert.ok(mean > 0.7e6 && mean < 1.1e6, `then the target follows the link (${Math.round(mean)})`);
});

test('paced at 2.5 x the target, a frame is several packet groups: over-use is seen in a few groups of ~50 ms, not ~4 frames of 133 ms', () => {
  // The detector alone: no probes, and a window too large to hold frames back.
  const params = { probe_interval_ms: 0, window_ms: 1e6 };
  const firstOveruse = (pace: boolean) => simulate((ms) => (ms >= 3000 ? 1e6 : 8e6), 6000, { pace, params }).reports.find((r) => r.t >= 3000 && r.state === 'overuse')!.t - 3000;
  const peak = (pace: boolean) => Math.max(...simulate((ms) => (ms >= 3000 ? 1e6 : 8e6), 6000, { pace, params }).reports.map((r) => r.queueMs));
  // A 4 Mbit/s frame paced at 10 Mbit/s is three 5 ms bursts, each ~50 ms through 1 Mbit/s: the
  // detector needs about four groups and two reports (measured: 250 ms; unpaced 600 ms).
  assert.ok(firstOveruse(true) <= 300, `paced: over-use ${firstOveruse(true)} ms after the drop`);
  // Unpaced, one group per frame arrives every 133 ms through the 1 Mbit/s link.
  assert.ok(firstOveruse(false) >= 2 * firstOveruse(true), `unpaced: ${firstOveruse(false)} ms`);
  assert.ok(peak(true) < 0.6 * peak(false), `the queue peaks at ${Math.round(peak(true))} ms paced, ${Math.round(peak(false))} ms unpaced`);
});

test('a step 8 -> 1 -> 8 Mbit/s, simulated: gcc keeps latency p95 under a third of a fixed 4 Mbit/s and uses 70 % of the link, paced (UDP) and one packet per frame (TCP)', () => {
  const step = (ms: number) => (ms >= 3000 && ms < 7000 ? 1e6 : 8e6);
  const offered = (8e6 * 2.5 + 1e6 * 4 + 8e6 * 3) / 8;
  for (const mode of [{ pace: true }, { tcp: true }]) {
    const fixed = simulate(step, 10_000, { ...mode, fixed: true });
    const gcc = simulate(step, 10_000, { ...mode, params: { max_bitrate: 8e6 } });
    const delivered = gcc.frames.filter((f) => f.arrival >= 500 && f.arrival < 10_000).reduce((a, f) => a + f.bytes, 0);
    const name = mode.pace ? 'paced' : 'tcp';
    assert.ok(p95Latency(fixed.frames) > 2000, `${name}: fixed queues seconds (${p95Latency(fixed.frames)} ms)`);
    assert.ok(p95Latency(gcc.frames) <= p95Latency(fixed.frames) / 3, `${name}: gcc's p95 ${p95Latency(gcc.frames)} ms is at most a third of fixed's ${p95Latency(fixed.frames)} ms`);
    assert.ok(delivered / offered >= 0.7, `${name}: gcc delivered ${((100 * delivered) / offered).toFixed(1)} % of the offered capacity`);
  }
});

test("a probe's result is not the cut's base once the link fell far below it: a drop right after a probe is followed to the new link", () => {
  // An 8 Mbit/s link under a 12 Mbit/s ceiling: gcc probes every 500 ms and finds ~8 Mbit/s; the
  // link falls to 1 Mbit/s within a second of a result.
  const DROP = 2000;
  const g = simulate((ms) => (ms < DROP ? 8e6 : 1e6), 4000, { pace: true, params: { max_bitrate: 12e6 } });
  const results = g.reports.filter((r) => r.t < DROP && r.t > DROP - 1000 && r.probeResult > 6e6);
  assert.ok(results.length > 0, `a probe found the 8 Mbit/s within the second before the drop: ${JSON.stringify(g.reports.filter((r) => r.t < DROP).map((r) => [r.t, Math.round(r.probeResult)]))}`);
  const firstCut = g.reports.find((r) => r.t > DROP && r.state === 'overuse')!;
  assert.ok(firstCut.target < 1.5e6, `the first cut after the drop goes to ${Math.round(firstCut.target)}, near the new 1 Mbit/s, not to beta x the probe's ~8 Mbit/s`);
});
