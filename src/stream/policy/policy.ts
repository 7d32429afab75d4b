/**
 * The rate-control policy interface: what a policy sees (the client's feedback, the encoder's
 * output, the guest's CPU) and what it may decide (bitrate, frame rate, resolution). The guest
 * calls `decide` once per feedback report and applies what comes back; a user's policy file
 * default-exports a `PolicyFactory`. Documented in docs/adaptive.md.
 */
import { errorMessage } from '../../base/errors.ts';
import { parseLiveResolution, type FeedbackReport } from '../wire.ts';

export type { FeedbackReport, PacketArrival } from '../wire.ts';

/** What a policy is created with. */
export interface PolicyInit {
  /** The stream's settings at the start: the encoder begins here. */
  bitrateBps: number;
  fps: number;
  width: number;
  height: number;
  codec: string;
  transport: 'tcp' | 'udp';
  /** `policy_params`, numbers where they read as one (bitrates in bits/s for the built-ins). */
  params: Readonly<Record<string, number | string>>;
}

/** One frame as the encoder gave it. */
export interface EncodedFrame {
  frame: number;
  bytes: number;
  key: boolean;
  /** Encoding time, ms. */
  encodeMs: number;
  /** Guest's monotonic ms when it was sent. */
  sentMs: number;
}

/** A probe the guest sent at a policy's request: padding packets at a rate, to measure what the path can carry. */
export interface ProbeCluster {
  /** Counts the probes of the stream. */
  id: number;
  /** The rate asked for, bits/s. */
  bps: number;
  /** The transport-wide numbers of its packets, in send order: the feedback names them. */
  pkts: readonly number[];
  /** Bytes of each packet on the wire. */
  packetBytes: number;
  /** Guest's monotonic ms of its first and last send. */
  firstSendMs: number;
  lastSendMs: number;
}

/** Everything a policy learns at one feedback report. */
export interface Observation {
  /** Guest's monotonic ms now. */
  nowMs: number;
  /** The report (send stamps on the guest's clock, arrivals on the client's: use differences only). */
  feedback: FeedbackReport;
  /** Frames the encoder produced since the previous call. */
  frames: readonly EncodedFrame[];
  /** Probes sent since the previous call (asked for by `Decision.probe`). */
  probes: readonly ProbeCluster[];
  /** Bytes sent (media and padding) that no feedback has covered yet: what the path holds, as far as the guest knows. */
  inFlightBytes: number;
  /** The guest process's CPU since the previous call, percent of one core. */
  guestCpuPct: number;
  /** What the encoder runs with now. */
  current: { bitrateBps: number; fps: number; width: number; height: number };
}

/**
 * A change the policy asks for; fields left out stay as they are. `estimate` is what led to it
 * (e.g. {bandwidth_bps, state: 'overuse'}), recorded with the decision.
 */
export interface Decision {
  bitrate?: number;
  fps?: number;
  /** 'WxH' */
  resolution?: string;
  /**
   * Send padding at `bps` for `ms` (default 15 ms, at least 5 packets of 1200 bytes), to measure a
   * rate the encoder does not send yet; the packets come back in `Observation.probes`. Asked while
   * one runs, it is not sent.
   */
  probe?: { bps: number; ms?: number };
  /**
   * A congestion window, bytes: while more is in flight, the guest skips capture ticks (counted as
   * skipped, congested) instead of queueing frames in the network; one frame every 500 ms still
   * goes, so feedback keeps coming. Stays until changed; Infinity lifts it.
   */
  window?: number;
  estimate?: Record<string, number | string>;
}

/** A rate-control policy: one call per feedback report; undefined (or null) decides nothing. */
export interface RatePolicy {
  decide(o: Observation): Decision | undefined | null;
}

/** What a policy module default-exports. */
export type PolicyFactory = (init: PolicyInit) => RatePolicy;

/** Bounds a decision must respect to be applied (the built-ins' and the declared parameters' ranges). */
const LIMITS = { bitrate: [1e3, 1e9], fps: [1, 240], probeMs: [1, 1000], window: [1500, Infinity] } as const;

/**
 * Checks what a policy returned; throws saying what is wrong, so a policy returning nonsense
 * fails its point with that message instead of steering the encoder somewhere absurd.
 */
export function checkDecision(d: unknown): Decision | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d !== 'object' || Array.isArray(d)) throw new Error(`decide() returned ${JSON.stringify(d)}, not an object {bitrate?, fps?, resolution?} or undefined`);
  const o = d as Record<string, unknown>;
  const out: Decision = {};
  for (const k of Object.keys(o)) if (!['bitrate', 'fps', 'resolution', 'probe', 'window', 'estimate'].includes(k)) throw new Error(`decide() returned an unknown field '${k}' (it may return bitrate, fps, resolution, probe, window, estimate)`);
  if (o['bitrate'] !== undefined) {
    const b = o['bitrate'];
    if (typeof b !== 'number' || !(b >= LIMITS.bitrate[0] && b <= LIMITS.bitrate[1])) throw new Error(`decide() returned bitrate ${JSON.stringify(b)}: it must be bits/s from ${LIMITS.bitrate[0]} to ${LIMITS.bitrate[1]}`);
    out.bitrate = Math.round(b);
  }
  if (o['fps'] !== undefined) {
    const f = o['fps'];
    if (typeof f !== 'number' || !(f >= LIMITS.fps[0] && f <= LIMITS.fps[1])) throw new Error(`decide() returned fps ${JSON.stringify(f)}: it must be from ${LIMITS.fps[0]} to ${LIMITS.fps[1]}`);
    out.fps = f;
  }
  if (o['resolution'] !== undefined) {
    // The rule a live resolution change is held to wherever it comes from (wire.ts), so a size the
    // guest would refuse fails the policy here, with its message, and never inside the guest's loop.
    let r: { width: number; height: number };
    try {
      r = parseLiveResolution(o['resolution']);
    } catch (e) {
      throw new Error(`decide() returned resolution ${JSON.stringify(o['resolution'])}: ${errorMessage(e)}`);
    }
    out.resolution = `${r.width}x${r.height}`;
  }
  if (o['probe'] !== undefined) {
    const p = o['probe'] as Record<string, unknown> | null;
    const bps = p?.['bps'];
    const ms = p?.['ms'];
    if (p === null || typeof p !== 'object' || typeof bps !== 'number' || !(bps >= LIMITS.bitrate[0] && bps <= LIMITS.bitrate[1]))
      throw new Error(`decide() returned probe ${JSON.stringify(p)}: it must be {bps, ms?} with bps in bits/s from ${LIMITS.bitrate[0]} to ${LIMITS.bitrate[1]}`);
    if (ms !== undefined && (typeof ms !== 'number' || !(ms >= LIMITS.probeMs[0] && ms <= LIMITS.probeMs[1]))) throw new Error(`decide() returned probe ms ${JSON.stringify(ms)}: it must be from ${LIMITS.probeMs[0]} to ${LIMITS.probeMs[1]}`);
    out.probe = { bps: Math.round(bps), ...(ms !== undefined ? { ms } : {}) };
  }
  if (o['window'] !== undefined) {
    const w = o['window'];
    if (typeof w !== 'number' || !(w >= LIMITS.window[0])) throw new Error(`decide() returned window ${JSON.stringify(w)}: it must be bytes, at least ${LIMITS.window[0]} (Infinity lifts it)`);
    out.window = w;
  }
  if (o['estimate'] !== undefined) {
    const e = o['estimate'];
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new Error('decide() returned an estimate that is not an object');
    const est: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(e)) {
      if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`decide() returned estimate.${k} ${JSON.stringify(v)}: a number or text`);
      est[k] = v;
    }
    out.estimate = est;
  }
  return out;
}

/** A number parameter of policy_params, or its default. */
export function numParam(params: Readonly<Record<string, number | string>>, name: string, dflt: number): number {
  const v = params[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`policy_params ${name} ${JSON.stringify(v)} must be a number`);
  return v;
}

/**
 * The delivered rate over a sliding window of arrivals (bits/s), measured on the receiver's
 * clock alone: what GCC calls the incoming (acknowledged) rate.
 */
export class DeliveredRate {
  private readonly arrivals: { t: number; bytes: number }[] = [];
  private sum = 0;

  constructor(private readonly windowMs = 500) {}

  /** Adds a report's packets. */
  add(packets: readonly { arrivalMs: number; bytes: number }[]): void {
    for (const p of packets) {
      this.arrivals.push({ t: p.arrivalMs, bytes: p.bytes });
      this.sum += p.bytes;
    }
    if (this.arrivals.length === 0) return;
    const newest = Math.max(...this.arrivals.slice(-Math.max(1, packets.length)).map((a) => a.t));
    while (this.arrivals.length > 0 && this.arrivals[0]!.t < newest - this.windowMs) this.sum -= this.arrivals.shift()!.bytes;
  }

  /** bits/s over the window; undefined until the window holds enough time to mean something. */
  bps(): number | undefined {
    if (this.arrivals.length < 2) return undefined;
    const span = this.arrivals.at(-1)!.t - this.arrivals[0]!.t;
    if (span < this.windowMs / 4) return undefined;
    // The oldest arrival opens the span: its bytes came before it.
    return ((this.sum - this.arrivals[0]!.bytes) * 8 * 1000) / span;
  }
}

/**
 * Bytes sent and not yet covered by feedback. A report covers everything sent up to the newest
 * send stamp it holds: arrived, or lost behind a packet that arrived.
 */
export class InFlight {
  private sent: { atMs: number; bytes: number }[] = [];
  private total = 0;

  /** Notes bytes handed to the network at `atMs` (guest clock). */
  add(atMs: number, bytes: number): void {
    this.sent.push({ atMs, bytes });
    this.total += bytes;
  }

  /** A report's newest send stamp: what was sent up to it is no longer in flight. */
  covered(newestSendMs: number): void {
    // Paced fragments and probes interleave, so the list is nearly but not strictly in time order.
    if (!this.sent.some((x) => x.atMs <= newestSendMs)) return;
    this.sent = this.sent.filter((x) => x.atMs > newestSendMs);
    this.total = this.sent.reduce((a, x) => a + x.bytes, 0);
  }

  get bytes(): number {
    return this.total;
  }
}
