/**
 * Delay-based rate control after Google Congestion Control (draft-ietf-rmcat-gcc-02, with the
 * trendline filter that replaced its Kalman filter in WebRTC): packets are grouped by send time,
 * the variation of one-way delay between groups (arrival delta minus send delta: differences
 * only, so the two machines' clocks never meet) feeds a trendline whose slope, compared with an
 * adaptive threshold, says over-use, normal or under-use; an AIMD controller turns that into a
 * target (multiplicative decrease to beta x the measured incoming rate), bounded by a loss-based
 * controller. Written from the published design; constants as the draft and WebRTC give them.
 */
import { DeliveredRate, numParam, type Decision, type Observation, type PacketArrival, type PolicyInit, type ProbeCluster, type RatePolicy } from './policy.ts';

/** Packets sent within this span of a group's first belong to it (a burst). */
const BURST_MS = 5;

/** One pair of consecutive packet groups: how much later the second arrived than it was sent, relative to the first. */
export interface GroupDelta {
  /** Send time of the group's last packet minus the previous group's (guest clock). */
  sendDeltaMs: number;
  /** Arrival of the group's last packet minus the previous group's (client clock). */
  arrivalDeltaMs: number;
  /** Arrival time of the group's last packet (client clock): the trendline's x axis. */
  arrivalMs: number;
}

/** Groups packets by send time and yields the delay variation between completed groups. */
export class InterArrival {
  private cur: { firstSend: number; lastSend: number; lastArrival: number } | undefined;
  private prev: { lastSend: number; lastArrival: number } | undefined;

  /** Adds one packet (in arrival order); returns the delta of the group it completed, if any. */
  add(p: Pick<PacketArrival, 'sendMs' | 'arrivalMs'>): GroupDelta | undefined {
    if (this.cur && p.sendMs < this.cur.firstSend) return undefined; // reordered from an older group
    if (this.cur && p.sendMs - this.cur.firstSend <= BURST_MS) {
      this.cur.lastSend = Math.max(this.cur.lastSend, p.sendMs);
      this.cur.lastArrival = Math.max(this.cur.lastArrival, p.arrivalMs);
      return undefined;
    }
    let out: GroupDelta | undefined;
    if (this.cur) {
      if (this.prev) out = { sendDeltaMs: this.cur.lastSend - this.prev.lastSend, arrivalDeltaMs: this.cur.lastArrival - this.prev.lastArrival, arrivalMs: this.cur.lastArrival };
      this.prev = { lastSend: this.cur.lastSend, lastArrival: this.cur.lastArrival };
    }
    this.cur = { firstSend: p.sendMs, lastSend: p.sendMs, lastArrival: p.arrivalMs };
    return out;
  }
}

export type Usage = 'normal' | 'overuse' | 'underuse';

/** Trendline filter and over-use detector with the adaptive threshold (WebRTC's constants). */
export class TrendlineDetector {
  private readonly window: { x: number; y: number }[] = [];
  private accumulated = 0;
  private smoothed = 0;
  private firstArrival = NaN;
  private deltas = 0;
  /** The adaptive threshold (ms), starting where WebRTC starts it. */
  threshold = 12.5;
  private lastUpdate = NaN;
  private overTime = -1;
  private overCount = 0;
  private prevTrend = 0;
  /** The last slope times the gain and the sample count: what is compared with the threshold. */
  modifiedTrend = 0;
  state: Usage = 'normal';

  constructor(
    private readonly size = 20,
    private readonly gain = 4,
  ) {}

  /** Feeds one group delta; returns the detector's state after it. */
  update(d: GroupDelta): Usage {
    const delta = d.arrivalDeltaMs - d.sendDeltaMs;
    this.deltas = Math.min(this.deltas + 1, 1000);
    this.accumulated += delta;
    this.smoothed = 0.9 * this.smoothed + 0.1 * this.accumulated;
    if (Number.isNaN(this.firstArrival)) this.firstArrival = d.arrivalMs;
    this.window.push({ x: d.arrivalMs - this.firstArrival, y: this.smoothed });
    if (this.window.length > this.size) this.window.shift();
    let trend = this.prevTrend;
    if (this.window.length === this.size) trend = slope(this.window) ?? trend;
    this.detect(trend, d.sendDeltaMs, d.arrivalMs);
    return this.state;
  }

  private detect(trend: number, sendDeltaMs: number, nowMs: number): void {
    if (this.deltas < 2) return;
    const modified = Math.min(this.deltas, 60) * trend * this.gain;
    this.modifiedTrend = modified;
    if (modified > this.threshold) {
      this.overTime = this.overTime === -1 ? sendDeltaMs / 2 : this.overTime + sendDeltaMs;
      this.overCount++;
      // Over-use only when it lasts (10 ms, two deltas) and the slope is not falling.
      if (this.overTime > 10 && this.overCount > 1 && trend >= this.prevTrend) {
        this.overTime = 0;
        this.overCount = 0;
        this.state = 'overuse';
      }
    } else if (modified < -this.threshold) {
      this.overTime = -1;
      this.overCount = 0;
      this.state = 'underuse';
    } else {
      this.overTime = -1;
      this.overCount = 0;
      this.state = 'normal';
    }
    this.prevTrend = trend;
    this.adapt(modified, nowMs);
  }

  /** The threshold follows the trend (faster up than down), so a competing flow does not starve it. */
  private adapt(modified: number, nowMs: number): void {
    if (Number.isNaN(this.lastUpdate)) this.lastUpdate = nowMs;
    const abs = Math.abs(modified);
    // A sudden spike (e.g. a route change) would drag the threshold: leave it.
    if (abs > this.threshold + 15) {
      this.lastUpdate = nowMs;
      return;
    }
    const k = abs < this.threshold ? 0.039 : 0.0087;
    const dt = Math.min(nowMs - this.lastUpdate, 100);
    this.threshold = Math.min(600, Math.max(6, this.threshold + k * (abs - this.threshold) * dt));
    this.lastUpdate = nowMs;
  }
}

/** Least-squares slope of y over x; undefined when x does not vary. */
function slope(pts: readonly { x: number; y: number }[]): number | undefined {
  let sx = 0;
  let sy = 0;
  for (const p of pts) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / pts.length;
  const my = sy / pts.length;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

/** AIMD rate controller: hold, increase (multiplicative far from the last capacity, additive near it), decrease to beta x incoming. */
export class AimdRateController {
  target: number;
  private mode: 'hold' | 'increase' | 'decrease' = 'increase';
  private lastMs = NaN;
  /** Incoming rate at the last decreases (mean in bits/s; variance normalised by the mean in kbit/s, as WebRTC keeps it): the link's capacity as seen so far. */
  private capacity: { mean: number; var: number } | undefined;

  constructor(
    start: number,
    private readonly min: number,
    private readonly max: number,
    private readonly beta = 0.85,
  ) {
    this.target = start;
  }

  /** Updates the target with the detector's signal and the incoming rate (bits/s, undefined while unknown). */
  update(usage: Usage, incomingBps: number | undefined, nowMs: number): number {
    const dt = Number.isNaN(this.lastMs) ? 0 : Math.min(nowMs - this.lastMs, 1000);
    this.lastMs = nowMs;
    // The state machine of the draft's section 5.5.
    if (usage === 'overuse') this.mode = 'decrease';
    else if (usage === 'underuse') this.mode = 'hold';
    else if (this.mode === 'hold' || this.mode === 'decrease') this.mode = 'increase';
    if (this.mode === 'decrease') {
      if (incomingBps !== undefined) {
        let next = this.beta * incomingBps;
        if (next > this.target && this.capacity) next = this.beta * this.capacity.mean;
        if (next < this.target) this.target = next;
        // Far below the capacity seen so far: the link changed, so that estimate starts again here.
        if (this.capacity && incomingBps < this.lowerBound()) this.capacity = undefined;
        this.noteCapacity(incomingBps);
      } else this.target *= this.beta;
      this.mode = 'hold';
    } else if (this.mode === 'increase') {
      // The capacity seen at the last decreases no longer holds once more than it arrives: search again.
      if (this.capacity && incomingBps !== undefined && incomingBps > this.upperBound()) this.capacity = undefined;
      // Never far above what actually arrives: an estimate that outruns the link is no estimate.
      const limit = incomingBps === undefined ? Infinity : 1.5 * incomingBps + 10_000;
      if (this.target < limit) {
        let next: number;
        if (this.capacity) {
          // Near the capacity (WebRTC keeps an estimate only while the throughput stays near it): additive,
          // about one 1200-byte packet per response time (100 ms plus a nominal 100 ms RTT) at 30 fps.
          const perFrame = this.target / 30;
          const packets = Math.max(1, Math.ceil(perFrame / (1200 * 8)));
          const increase = Math.max(4000, ((perFrame / packets) * 1000) / 200);
          next = this.target + (increase * dt) / 1000;
        } else next = this.target + Math.max(1000 * (dt / 1000), this.target * (1.08 ** (dt / 1000) - 1));
        this.target = Math.min(next, limit);
      }
    }
    this.target = Math.min(this.max, Math.max(this.min, this.target));
    return this.target;
  }

  /** A probe measured more than the target: the target starts from there (WebRTC's AimdRateControl::SetEstimate). */
  raiseTo(bps: number, nowMs: number): void {
    if (bps <= this.target) return;
    this.target = Math.min(this.max, bps);
    this.lastMs = nowMs;
    // The capacity seen at the last decreases is that of a link that has changed since.
    if (this.capacity && bps > this.upperBound()) this.capacity = undefined;
  }

  /** Whether the controller is increasing (neither holding for a queue to drain nor just decreased). */
  get increasing(): boolean {
    return this.mode === 'increase';
  }

  /** The capacity estimate at the last decreases, bits/s. */
  get capacityBps(): number | undefined {
    return this.capacity?.mean;
  }

  /**
   * WebRTC's LinkCapacityEstimator: the deviation is a variance normalised by the estimate, in
   * kbit/s (clamped to 0.4..2.5), so one standard deviation is sqrt(var x estimate) kbit/s: about
   * 2-5 % at 1 Mbit/s. The bounds at three of them say when the link has changed.
   */
  private noteCapacity(bps: number): void {
    const kbps = bps / 1000;
    if (!this.capacity) {
      this.capacity = { mean: bps, var: 0.4 };
      return;
    }
    const alpha = 0.05;
    const mean = (1 - alpha) * (this.capacity.mean / 1000) + alpha * kbps;
    const err = mean - kbps;
    const v = (1 - alpha) * this.capacity.var + (alpha * err * err) / Math.max(mean, 1);
    this.capacity = { mean: mean * 1000, var: Math.min(2.5, Math.max(0.4, v)) };
  }

  /** Three standard deviations of the capacity estimate, bits/s. */
  private deviation(): number {
    return this.capacity ? 3 * Math.sqrt(this.capacity.var * (this.capacity.mean / 1000)) * 1000 : Infinity;
  }

  private upperBound(): number {
    return this.capacity ? this.capacity.mean + this.deviation() : Infinity;
  }

  private lowerBound(): number {
    return this.capacity ? Math.max(0, this.capacity.mean - this.deviation()) : 0;
  }
}

/** The draft's loss-based controller (section 6): above 10 % loss decrease, below 2 % increase by 5 %. */
export class LossBasedBound {
  constructor(
    public bound: number,
    private readonly min: number,
    private readonly max: number,
  ) {}

  /** Updates the bound with the loss fraction of a report (0..1). */
  update(loss: number): number {
    if (loss > 0.1) this.bound *= 1 - 0.5 * loss;
    else if (loss < 0.02) this.bound *= 1.05;
    this.bound = Math.min(this.max, Math.max(this.min, this.bound));
    return this.bound;
  }
}

/**
 * WebRTC's congestion window (GoogCC: the minimum round trip plus a queue allowance, 350 ms in
 * WebRTC, at the target rate). WebRTC uses it one of two ways: pushback (the encoder's rate
 * lowered while the bytes in flight exceed it) or its pacer's congestion window (nothing more
 * sent while they do). Here the window goes to the guest, which skips capture ticks while it is
 * full: frames wait at the source, where they can be dropped, not in the network's queue, where
 * they only add delay. Pushback on top of it drove the rate to its floor while a queue drained
 * (in the simulation of gcc.test.ts, 67 kbit/s 2.5 s into a 1 Mbit/s link from 4 Mbit/s) and
 * left it there after; without it, the delay-based cut to beta x the link holds, and the skipped
 * frames drain the queue.
 */
export class CongestionWindow {
  /** The smallest (report time - newest send stamp in it) seen: a round trip without queueing. */
  baseRttMs = Infinity;
  /** The time between reports (a moving average): what was sent since the last one is in flight whatever the path. */
  reportGapMs = NaN;
  private lastReportMs = NaN;

  constructor(private readonly queueMs = 350) {}

  /** Notes a report: its time and the newest send stamp it holds (guest clock). */
  onReport(nowMs: number, newestSendMs: number | undefined): void {
    if (newestSendMs !== undefined) this.baseRttMs = Math.min(this.baseRttMs, Math.max(0, nowMs - newestSendMs));
    if (!Number.isNaN(this.lastReportMs)) {
      const gap = Math.min(nowMs - this.lastReportMs, 1000);
      this.reportGapMs = Number.isNaN(this.reportGapMs) ? gap : 0.9 * this.reportGapMs + 0.1 * gap;
    }
    this.lastReportMs = nowMs;
  }

  /**
   * The window at a target (bits/s), bytes: the base round trip, one report interval (what was sent
   * since the last report is in flight however short the path) and the queue allowance, at the
   * target; at least two full-size packets, as WebRTC's minimum.
   */
  bytes(targetBps: number): number {
    if (!Number.isFinite(this.baseRttMs)) return Infinity;
    const gap = Number.isNaN(this.reportGapMs) ? 0 : this.reportGapMs;
    return Math.max(3000, ((targetBps / 8) * (this.baseRttMs + gap + this.queueMs)) / 1000);
  }
}

/**
 * WebRTC's ProbeBitrateEstimator: what a probe cluster measured, once its packets are reported.
 * As in WebRTC, where the pacer sends media inside a cluster, the rates count every packet around
 * the probe's own: sent from its first to its last send stamp, and arrived from its first to its
 * last arrival (`around`: the packets reported near it, its own included). The send rate leaves
 * out the last packet's bytes and the receive rate the first's (each opens its span); a link slower
 * than what was sent shows as a receive rate under 90 % of the send rate, and then 95 % of it is
 * the estimate; otherwise the smaller of the two. Clusters of which less than 80 % arrived, or
 * whose spans are empty or longer than a second, measure nothing.
 */
export function probeResult(c: ProbeCluster, own: readonly PacketArrival[], around: readonly PacketArrival[] = own): number | undefined {
  if (own.length < Math.max(2, Math.ceil(0.8 * c.pkts.length))) return undefined;
  let firstSend = Infinity;
  let lastSend = -Infinity;
  let firstArrival = Infinity;
  let lastArrival = -Infinity;
  for (const a of own) {
    firstSend = Math.min(firstSend, a.sendMs);
    lastSend = Math.max(lastSend, a.sendMs);
    firstArrival = Math.min(firstArrival, a.arrivalMs);
    lastArrival = Math.max(lastArrival, a.arrivalMs);
  }
  const sendSpan = lastSend - firstSend;
  const recvSpan = lastArrival - firstArrival;
  if (!(sendSpan > 0 && sendSpan <= 1000 && recvSpan > 0 && recvSpan <= 1000)) return undefined;
  let sent = 0;
  let lastSendBytes = 0;
  let received = 0;
  let firstArrivalBytes = 0;
  let latest = -Infinity;
  let earliest = Infinity;
  for (const a of around) {
    if (a.sendMs >= firstSend && a.sendMs <= lastSend) {
      sent += a.bytes;
      if (a.sendMs >= latest) {
        latest = a.sendMs;
        lastSendBytes = a.bytes;
      }
    }
    if (a.arrivalMs >= firstArrival && a.arrivalMs <= lastArrival) {
      received += a.bytes;
      if (a.arrivalMs < earliest) {
        earliest = a.arrivalMs;
        firstArrivalBytes = a.bytes;
      }
    }
  }
  const sendBps = ((sent - lastSendBytes) * 8000) / sendSpan;
  const recvBps = ((received - firstArrivalBytes) * 8000) / recvSpan;
  // Received much faster than sent: bunched up on the way, not a rate.
  if (recvBps > 2 * sendBps) return undefined;
  return recvBps < 0.9 * sendBps ? 0.95 * recvBps : Math.min(sendBps, recvBps);
}

/**
 * When to probe, after WebRTC's ProbeController: at twice the target (its exponential probing),
 * again at twice a result that reached 70 % of what was probed ("probe further"), and periodically
 * while the delay-based controller increases with no queue in sight: the periodic probe is what
 * finds, within about a probe interval, capacity that came back after a drop (the AIMD's 8 %/s
 * takes half a minute from 1 to 8 Mbit/s).
 */
export class ProbeController {
  private readonly clusters = new Map<number, { c: ProbeCluster; arrivals: PacketArrival[]; pkts: Set<number>; last: number }>();
  /** Packets reported in the last second (by arrival), media and padding: a cluster's rates count them all. From `head` on. */
  private recent: PacketArrival[] = [];
  private head = 0;
  private lastProbeMs = -Infinity;
  private further: number | undefined;
  /** The last result, bits/s, and when it came (NaN before any). */
  lastResultBps = NaN;
  lastResultMs = NaN;

  constructor(
    private readonly intervalMs: number,
    private readonly maxBps: number,
  ) {}

  /** Notes the clusters sent and the packets of a report; returns the results of the clusters it completed. */
  update(sent: readonly ProbeCluster[], packets: readonly PacketArrival[], nowMs: number): number[] {
    // A cluster is handed over once its last packet is sent: its first ones may have been reported already.
    for (const c of sent) {
      const pkts = new Set(c.pkts);
      const arrivals: PacketArrival[] = [];
      for (let i = this.head; i < this.recent.length; i++) if (pkts.has(this.recent[i]!.pkt)) arrivals.push(this.recent[i]!);
      this.clusters.set(c.id, { c, arrivals, pkts, last: Math.max(...c.pkts) });
    }
    let newestPkt = -1;
    let newestArrival = -Infinity;
    for (const p of packets) {
      this.recent.push(p);
      if (p.pkt > newestPkt) newestPkt = p.pkt;
      if (p.arrivalMs > newestArrival) newestArrival = p.arrivalMs;
      if (this.clusters.size > 0) for (const x of this.clusters.values()) if (x.pkts.has(p.pkt)) x.arrivals.push(p);
    }
    // Reported nearly in arrival order: trimmed from the front, the array compacted now and then.
    while (this.head < this.recent.length && this.recent[this.head]!.arrivalMs < newestArrival - 1000) this.head++;
    if (this.head > 4096 && this.head * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.head);
      this.head = 0;
    }
    const results: number[] = [];
    for (const [id, x] of this.clusters) {
      // Done when a packet sent after it was reported (the rest are lost) or all of it came; dropped after a second.
      const done = x.arrivals.length === x.c.pkts.length || newestPkt > x.last;
      if (!done && nowMs - x.c.lastSendMs < 1000) continue;
      this.clusters.delete(id);
      const r = done ? probeResult(x.c, x.arrivals, this.recent.slice(this.head)) : undefined;
      if (r === undefined) continue;
      results.push(r);
      this.lastResultBps = r;
      this.lastResultMs = nowMs;
      // The link carried most of it: there may be more.
      this.further = r >= 0.7 * x.c.bps && x.c.bps < this.maxBps ? Math.min(this.maxBps, 2 * r) : undefined;
    }
    return results;
  }

  /** The probe to send now, if any: `ready` says the controller increases and no queue builds. */
  next(targetBps: number, ready: boolean, nowMs: number): { bps: number } | undefined {
    if (this.clusters.size > 0 || !ready || targetBps >= this.maxBps) return undefined;
    let bps: number | undefined;
    if (this.further !== undefined && this.further > targetBps) bps = this.further;
    else if (this.intervalMs > 0 && nowMs - this.lastProbeMs >= this.intervalMs) bps = Math.min(this.maxBps, 2 * targetBps);
    this.further = undefined;
    if (bps === undefined) return undefined;
    this.lastProbeMs = nowMs;
    return { bps: Math.round(bps) };
  }
}

/** The `gcc` policy: delay-based AIMD bounded by the loss-based controller; decides a bitrate per report. */
export function createGcc(init: PolicyInit): RatePolicy {
  const min = numParam(init.params, 'min_bitrate', 50_000);
  const max = numParam(init.params, 'max_bitrate', init.bitrateBps);
  const inter = new InterArrival();
  const detector = new TrendlineDetector(numParam(init.params, 'window', init.transport === 'tcp' ? 8 : 20), numParam(init.params, 'threshold_gain', 4));
  const aimd = new AimdRateController(Math.min(max, init.bitrateBps), min, max, numParam(init.params, 'beta', 0.85));
  const loss = new LossBasedBound(Math.min(max, init.bitrateBps), min, max);
  // The incoming rate over the last 250 ms: the decrease goes to beta x this, so a long window still
  // holds the rate from before a drop (500 ms: a first cut to ~2 Mbit/s at a drop from 4 to 1). WebRTC
  // uses 150 ms windows smoothed across windows by a Bayesian filter; one plain window of 250 ms is
  // that compromise without the filter (over TCP a report holds a frame or two at a low rate).
  const incoming = new DeliveredRate(250);
  const cwnd = new CongestionWindow(numParam(init.params, 'window_ms', 100));
  const probes = new ProbeController(numParam(init.params, 'probe_interval_ms', 500), max);
  return {
    decide(o: Observation): Decision {
      const r = o.feedback;
      incoming.add(r.packets);
      cwnd.onReport(o.nowMs, r.packets.length > 0 ? Math.max(...r.packets.map((p) => p.sendMs)) : undefined);
      const probed = probes.update(o.probes, r.packets, o.nowMs);
      // Arrival order: the trendline's x must grow.
      const packets = r.packets.length > 1 ? [...r.packets].sort((a, b) => a.arrivalMs - b.arrivalMs) : r.packets;
      for (const p of packets) {
        const d = inter.add(p);
        if (d) detector.update(d);
      }
      const bps = incoming.bps();
      // What the link showed it carries: the incoming rate, or what a probe of the last second
      // measured if more. While the encoder ramps up to a probe's result its own rate is what
      // arrives, and an over-use then (its first large frames, the probe's own bump) would cut to
      // beta x that ramp instead of beta x the link. Only while at least half the result arrives:
      // far below it, the link has changed since the probe (measured ramps: 0.6 of it).
      const probedRecently = o.nowMs - probes.lastResultMs <= 1000 ? probes.lastResultBps : NaN;
      const throughput = bps === undefined ? undefined : !Number.isNaN(probedRecently) && bps >= 0.5 * probedRecently ? Math.max(bps, probedRecently) : bps;
      let delayBased = aimd.update(detector.state, throughput, o.nowMs);
      // A probe that found more, while no over-use is seen, moves the delay-based estimate up to it.
      if (probed.length > 0 && detector.state !== 'overuse') {
        aimd.raiseTo(Math.max(...probed), o.nowMs);
        delayBased = aimd.target;
      }
      const total = r.packets.length + r.lost;
      const lossBased = total > 0 ? loss.update(r.lost / total) : loss.bound;
      const estimate = Math.min(delayBased, lossBased);
      const target = Math.max(min, estimate);
      const window = cwnd.bytes(estimate);
      const probe = probes.next(estimate, aimd.increasing && detector.state === 'normal' && o.inFlightBytes <= window / 2, o.nowMs);
      return {
        bitrate: target,
        window,
        ...(probe ? { probe } : {}),
        estimate: {
          state: detector.state,
          estimate_bps: Math.round(estimate),
          in_flight_bytes: o.inFlightBytes,
          window_bytes: Number.isFinite(window) ? Math.round(window) : NaN,
          probe_bps: probe?.bps ?? NaN,
          probe_result_bps: probed.length > 0 ? Math.round(Math.max(...probed)) : NaN,
          incoming_bps: bps ?? NaN,
          throughput_bps: throughput ?? NaN,
          delay_based_bps: Math.round(delayBased),
          loss_based_bps: Math.round(lossBased),
          trend: round(detector.modifiedTrend),
          threshold: round(detector.threshold),
        },
      };
    },
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
