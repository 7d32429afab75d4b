/**
 * Delay-based rate control after Google Congestion Control (draft-ietf-rmcat-gcc-02, with the
 * trendline filter that replaced its Kalman filter in WebRTC): packets are grouped by send time,
 * the variation of one-way delay between groups (arrival delta minus send delta: differences
 * only, so the two machines' clocks never meet) feeds a trendline whose slope, compared with an
 * adaptive threshold, says over-use, normal or under-use; an AIMD controller turns that into a
 * target (multiplicative decrease to beta x the measured incoming rate), bounded by a loss-based
 * controller. Written from the published design; constants as the draft and WebRTC give them.
 */
import { DeliveredRate, numParam, type Decision, type Observation, type PacketArrival, type PolicyInit, type RatePolicy } from './policy.ts';

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
 * WebRTC's congestion-window pushback (GoogCC's CongestionWindowPushbackController, on by default
 * with a 350 ms queue allowance): the delay-based cut to beta x the incoming rate leaves what the
 * reaction time put in the queue to drain at only (1 - beta) x the link, seconds after a deep drop;
 * while the bytes in flight exceed a window of (base RTT + 350 ms) at the target, the encoder's
 * rate is pushed back (x0.9 per report above 1.5 windows, x0.95 above one), and given back (x1.05)
 * as the window empties. In flight: what was sent after the newest send stamp the client reported.
 */
export class CongestionWindowPushback {
  private readonly sent: { atMs: number; bytes: number }[] = [];
  private inFlight = 0;
  /** The smallest (report time - newest send stamp in it) seen: a round trip without queueing, plus at most one report interval. */
  baseRttMs = Infinity;
  ratio = 1;

  constructor(
    private readonly queueMs = 350,
    private readonly minBps = 30_000,
  ) {}

  /** Notes what the encoder sent (guest clock). */
  onSent(frames: readonly { sentMs: number; bytes: number }[]): void {
    for (const f of frames) {
      this.sent.push({ atMs: f.sentMs, bytes: f.bytes });
      this.inFlight += f.bytes;
    }
  }

  /** Notes a report: everything sent up to its newest send stamp has arrived or is lost. */
  onReport(nowMs: number, newestSendMs: number | undefined): void {
    if (newestSendMs === undefined) return;
    this.baseRttMs = Math.min(this.baseRttMs, Math.max(0, nowMs - newestSendMs));
    while (this.sent.length > 0 && this.sent[0]!.atMs <= newestSendMs) this.inFlight -= this.sent.shift()!.bytes;
  }

  /** Bytes sent and not yet reported. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** The encoder's rate for a target (bits/s), pushed back while the window is over-full. */
  apply(targetBps: number): number {
    if (!Number.isFinite(this.baseRttMs)) return targetBps;
    // At least two full-size packets, as WebRTC's minimum window.
    const window = Math.max(3000, ((targetBps / 8) * (this.baseRttMs + this.queueMs)) / 1000);
    const fill = this.inFlight / window;
    if (fill > 1.5) this.ratio *= 0.9;
    else if (fill > 1) this.ratio *= 0.95;
    else if (fill < 0.1) this.ratio = 1;
    else this.ratio = Math.min(1, this.ratio * 1.05);
    const pushed = targetBps * this.ratio;
    // Never below its own floor unless the target itself is.
    return pushed < this.minBps ? Math.min(targetBps, this.minBps) : pushed;
  }
}

/** The `gcc` policy: delay-based AIMD bounded by the loss-based controller; decides a bitrate per report. */
export function createGcc(init: PolicyInit): RatePolicy {
  const min = numParam(init.params, 'min_bitrate', 50_000);
  const max = numParam(init.params, 'max_bitrate', init.bitrateBps);
  const inter = new InterArrival();
  const detector = new TrendlineDetector(numParam(init.params, 'window', 20), numParam(init.params, 'threshold_gain', 4));
  const aimd = new AimdRateController(Math.min(max, init.bitrateBps), min, max, numParam(init.params, 'beta', 0.85));
  const loss = new LossBasedBound(Math.min(max, init.bitrateBps), min, max);
  // The incoming rate over the last 250 ms: the decrease goes to beta x this, so a long window still
  // holds the rate from before a drop (500 ms: a first cut to ~2 Mbit/s at a drop from 4 to 1). WebRTC
  // uses 150 ms windows smoothed across windows by a Bayesian filter; one plain window of 250 ms is
  // that compromise without the filter (over TCP a report holds a frame or two at a low rate).
  const incoming = new DeliveredRate(250);
  const pushback = new CongestionWindowPushback();
  return {
    decide(o: Observation): Decision {
      const r = o.feedback;
      incoming.add(r.packets);
      pushback.onSent(o.frames);
      pushback.onReport(o.nowMs, r.packets.length > 0 ? Math.max(...r.packets.map((p) => p.sendMs)) : undefined);
      // Arrival order: the trendline's x must grow.
      const packets = r.packets.length > 1 ? [...r.packets].sort((a, b) => a.arrivalMs - b.arrivalMs) : r.packets;
      for (const p of packets) {
        const d = inter.add(p);
        if (d) detector.update(d);
      }
      const bps = incoming.bps();
      const delayBased = aimd.update(detector.state, bps, o.nowMs);
      const total = r.packets.length + r.lost;
      const lossBased = total > 0 ? loss.update(r.lost / total) : loss.bound;
      const estimate = Math.min(delayBased, lossBased);
      const target = Math.max(min, pushback.apply(estimate));
      return {
        bitrate: target,
        estimate: {
          state: detector.state,
          estimate_bps: Math.round(estimate),
          in_flight_bytes: pushback.bytesInFlight,
          pushback: round(pushback.ratio),
          incoming_bps: bps ?? NaN,
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
