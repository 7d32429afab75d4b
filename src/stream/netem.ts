/**
 * Network emulation in user space for the host relay, because the benchmark kernel has no netem,
 * fq or cake. One NetemLink is one direction of one link: a bounded FIFO queue in front of an exact
 * serialiser at the link rate, then a propagation stage (delay plus jitter), with random or bursty
 * loss, and a reliable mode that behaves like a TCP stream (no drops, in order, retransmission
 * penalty, backpressure).
 *
 * Design decisions, stated once here:
 * - Loss is decided at enqueue, before the queue limit and the rate limiter, as netem does: a packet
 *   lost in unreliable mode consumes neither queue space nor link capacity. The loss decision draws
 *   from its own random stream, so the drop pattern depends only on the seed and the packet's index,
 *   not on timing, queue state or jitter settings.
 * - Serialisation is exact: a packet's last bit leaves at max(enqueue time, previous departure) +
 *   bytes * 8 / rate. Since the queue is FIFO with a fixed rate, departure and delivery times are
 *   known at enqueue, so timer lateness only delays the callback and never accumulates into the
 *   emulated timeline. A packet counts in the queue until its last bit has left.
 * - Jitter: each packet's propagation delay is delay + N(0, jitter^2), clipped at 0 so the total is
 *   never negative (the clip changes the spread only when jitter is comparable to delay). In
 *   unreliable mode packets may overtake each other, as with netem's jitter.
 * - Reliable mode: a "lost" packet is retransmitted after retransmitPenaltyMs() (an RTO with Linux's
 *   200 ms floor) and still needs the one-way delay to arrive; its retransmitted copy takes link
 *   capacity again, charged in the slot right after the original so throughput is right (goodput
 *   R/(1+p)) though the copy really goes out an RTO later. The copy is never lost itself, and
 *   congestion control (cwnd shrinking after a loss) is not modelled. Delivery is in order: a packet
 *   is never delivered before the one ahead of it (head-of-line blocking).
 */
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../base/random.ts';
import { traceFromSpec, traceMeanBps, type ParsedTrace } from '../config/net-trace.ts';
import { queueLimitBytes, type NetSettings } from '../config/stream-settings.ts';
import { RateServer, traceServer, type LinkServer } from './link-server.ts';

/** How a link behaves; every field is optional and a missing one means "no impairment". */
export interface NetemConfig {
  /** Link rate in bits/s; undefined (or Infinity) is unlimited: no queue, no serialisation time. */
  rateBps?: number;
  /**
   * A trace replayed instead of a fixed rate (both given: an error), from the link's creation on:
   * Mahimahi delivery opportunities or steps, whose delay and loss add to delayMs and loss.
   */
  trace?: ParsedTrace;
  /** Bytes the queue in front of the serialiser holds; default defaultQueueLimitBytes of the rate (a trace's mean rate). Ignored when unlimited. */
  queueLimitBytes?: number;
  /** One-way propagation delay in ms, added after serialisation. */
  delayMs?: number;
  /** Standard deviation in ms of a normal per-packet delay variation, clipped so the total delay is >= 0. */
  jitterMs?: number;
  /** Long-run loss probability, 0..1. */
  loss?: number;
  /** Mean length in packets of a loss burst (Gilbert-Elliott); 1 or undefined is independent loss. */
  lossBurst?: number;
  /** A TCP-like stream: never drops, keeps order, retransmits "lost" packets late, applies backpressure. */
  reliable?: boolean;
  /** Seed of the random streams; the same seed gives the same loss pattern and jitter samples. */
  seed?: number;
  /** Resolution in ms of queueSeries(): at most one sample, the last state, per interval. Default 1. */
  seriesIntervalMs?: number;
}

/** What the link knew about an item when it handed it over; times are ms on the link's clock. */
export interface Delivery {
  /** When push() accepted it. */
  enqueuedAt: number;
  /** When its last bit left the serialiser (the original transmission for a retransmitted one). */
  sentAt: number;
  /** When the emulated network delivers it; the callback runs at or after this. */
  dueAt: number;
  /** When the callback actually ran (dueAt plus timer lateness). */
  deliveredAt: number;
  bytes: number;
  /** Reliable mode: the first transmission was lost and this is the retransmission. */
  retransmitted: boolean;
}

/**
 * 'queued': accepted; 'dropped-loss': lost (unreliable); 'dropped-queue': queue full (unreliable);
 * 'full': reliable mode accepted it but the queue has reached its limit; stop pushing until onDrain.
 */
export type PushResult = 'queued' | 'dropped-queue' | 'dropped-loss' | 'full';

/** Counters since construction; queue figures are at the time of the call. */
export interface NetemStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  droppedQueue: number;
  droppedLoss: number;
  retransmitted: number;
  queueBytes: number;
  queuePackets: number;
  maxQueueBytes: number;
}

/** Queue occupancy over time, one sample per change (at most one per seriesIntervalMs). */
export interface QueueSeries {
  t: number[];
  bytes: number[];
  packets: number[];
  /** The queueing delay a byte arriving then would wait before it starts to leave, ms (absent in reports written before it existed). */
  delayMs?: number[];
}

/** Offered capacity per window, whatever was sent: t is each window's start. */
export interface CapacitySeries {
  t: number[];
  bps: number[];
}

/** The window of capacitySeries(): the replay accuracy is judged per 100 ms. */
export const CAPACITY_WINDOW_MS = 100;

/** Linux's minimum retransmission timeout (TCP_RTO_MIN). */
export const MIN_RTO_MS = 200;
/** The default queue holds this much time at the link rate... */
export const DEFAULT_QUEUE_MS = 150;
/** ...but never less than this, so slow links still hold a few full-size frames. */
export const MIN_QUEUE_BYTES = 64 * 1024;

/** The default queue limit for a rate: 150 ms of bytes at rateBps, at least 64 KiB. */
export function defaultQueueLimitBytes(rateBps: number): number {
  return Math.max(MIN_QUEUE_BYTES, Math.ceil((rateBps * DEFAULT_QUEUE_MS) / 1000 / 8));
}

/**
 * The relay's two links from a point's network settings: down (guest to client) with net_rate or
 * net_trace, the queue, delay, jitter and loss; up (client to guest) with the same delay and jitter,
 * and net_trace_up when given (else no rate limit and no loss, as before traces existed).
 */
export function linkConfigs(net: NetSettings, reliable: boolean): { down: NetemConfig; up: NetemConfig } {
  const down: NetemConfig = { delayMs: net.delayMs, jitterMs: net.jitterMs, loss: net.loss, lossBurst: net.lossBurst, reliable, seed: 1 };
  if (net.trace) {
    down.trace = traceFromSpec(net.trace);
    down.queueLimitBytes = queueLimitBytes(net, traceMeanBps(down.trace), MIN_QUEUE_BYTES);
  } else if (net.rateBps !== undefined) {
    down.rateBps = net.rateBps;
    down.queueLimitBytes = queueLimitBytes(net, net.rateBps, MIN_QUEUE_BYTES);
  }
  const up: NetemConfig = { delayMs: net.delayMs, jitterMs: net.jitterMs, reliable, seed: 2 };
  if (net.traceUp) {
    up.trace = traceFromSpec(net.traceUp);
    up.queueLimitBytes = queueLimitBytes(net, traceMeanBps(up.trace), MIN_QUEUE_BYTES);
  }
  return { down, up };
}

/** Extra delay in ms of a reliable-mode loss: an RTO of max(200 ms, 2 * delay + jitter). */
export function retransmitPenaltyMs(config: Pick<NetemConfig, 'delayMs' | 'jitterMs'>): number {
  return Math.max(MIN_RTO_MS, 2 * (config.delayMs ?? 0) + (config.jitterMs ?? 0));
}

/** Derives independent stream seeds from one user seed (murmur3's finaliser). */
function mixSeed(seed: number, stream: number): number {
  let h = (Math.trunc(seed) ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Independent loss, or the simplified Gilbert-Elliott chain (Bad always loses, Good never): leaving
 * Bad with p = 1/burst makes bursts geometric with mean `burst`; entering Bad with
 * q = loss * p / (1 - loss) makes the stationary loss rate `loss`.
 */
class LossModel {
  private bad: boolean;
  private readonly enterBad: number;
  private readonly leaveBad: number;

  constructor(
    private readonly loss: number,
    burst: number,
    private readonly rng: () => number,
  ) {
    this.leaveBad = 1 / burst;
    this.enterBad = loss < 1 ? (loss * this.leaveBad) / (1 - loss) : 1;
    // Starting from the stationary distribution keeps the first packets at the right average.
    this.bad = burst > 1 && loss > 0 && rng() < loss;
  }

  /** Whether the next packet is lost. */
  next(): boolean {
    if (this.loss <= 0) return false;
    if (this.loss >= 1) return true;
    if (this.leaveBad >= 1) return this.rng() < this.loss;
    this.bad = this.bad ? this.rng() >= this.leaveBad : this.rng() < this.enterBad;
    return this.bad;
  }
}

interface Entry<T> {
  item: T;
  bytes: number;
  seq: number;
  enqueuedAt: number;
  sentAt: number;
  dueAt: number;
  retransmitted: boolean;
}

/** The propagation stage: entries ordered by (dueAt, seq). */
interface Stage<T> {
  readonly size: number;
  peek(): Entry<T> | undefined;
  pop(): Entry<T> | undefined;
  push(e: Entry<T>): void;
  clear(): void;
}

/**
 * An array queue with a moving head: Array.prototype.shift is O(n) in V8 beyond ~16k elements. As the
 * propagation stage it serves when due times never decrease (no jitter, or reliable mode).
 */
class Fifo<T> implements Stage<T> {
  private a: Entry<T>[] = [];
  private head = 0;

  get size(): number {
    return this.a.length - this.head;
  }

  peek(): Entry<T> | undefined {
    return this.a[this.head];
  }

  pop(): Entry<T> | undefined {
    const e = this.a[this.head];
    if (e === undefined) return undefined;
    this.head++;
    if (this.head === this.a.length) this.clear();
    else if (this.head >= 4096 && this.head * 2 >= this.a.length) {
      this.a = this.a.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  push(e: Entry<T>): void {
    this.a.push(e);
  }

  /** The k-th entry from the head. */
  get(k: number): Entry<T> | undefined {
    return this.a[this.head + k];
  }

  clear(): void {
    this.a = [];
    this.head = 0;
  }
}

/** Min-heap, for jitter in unreliable mode, where packets may overtake each other. */
class HeapStage<T> implements Stage<T> {
  private readonly a: Entry<T>[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Entry<T> | undefined {
    return this.a[0];
  }

  push(e: Entry<T>): void {
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!before(e, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = e;
  }

  pop(): Entry<T> | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r]!, a[l]!) ? r : l;
      const child = a[c]!;
      if (!before(child, last)) break;
      a[i] = child;
      i = c;
    }
    a[i] = last;
    return top;
  }

  clear(): void {
    this.a.length = 0;
  }
}

function before<T>(x: Entry<T>, y: Entry<T>): boolean {
  return x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.seq < y.seq);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`netem: ${what}`);
}

/** One direction of an emulated link, generic over what it carries. */
export class NetemLink<T> {
  private readonly server: LinkServer | undefined;
  private readonly origin: number;
  private readonly stepLoss: boolean;
  private readonly extraLossRng: () => number;
  private readonly limited: boolean;
  private readonly limitBytes: number;
  private readonly delayMs: number;
  private readonly jitterMs: number;
  private readonly reliable: boolean;
  private readonly penaltyMs: number;
  private readonly seriesMs: number;
  private readonly lossModel: LossModel;
  private readonly jitterRng: () => number;
  private spareNormal: number | undefined;

  // Packets waiting or being serialised.
  private readonly queue = new Fifo<T>();
  private readonly inFlight: Stage<T>;
  private lastDueAt = -Infinity;
  private seq = 0;

  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private timerAt = Infinity;
  private firing = false;
  private closed = false;

  private drainPending = false;
  private drainAtCache: number | undefined;
  private readonly drainListeners: (() => void)[] = [];

  private readonly s: NetemStats = {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    droppedQueue: 0,
    droppedLoss: 0,
    retransmitted: 0,
    queueBytes: 0,
    queuePackets: 0,
    maxQueueBytes: 0,
  };
  private readonly series: Required<QueueSeries> = { t: [], bytes: [], packets: [], delayMs: [] };
  /** When the last byte queued leaves: the queueing delay a new byte would see is what remains of it. */
  private lastSentAt = -Infinity;
  private lastBucket = NaN;

  /** Throws RangeError on a config that cannot be emulated (negative delay, loss > 1, ...). */
  constructor(
    config: NetemConfig,
    private readonly deliver: (item: T, info: Delivery) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    const rate = config.rateBps ?? Infinity;
    check(rate > 0, `rateBps must be > 0, got ${rate}`);
    check(config.trace === undefined || config.rateBps === undefined, 'a trace replaces rateBps: give one of them');
    this.origin = now();
    this.server = config.trace ? traceServer(config.trace, this.origin) : Number.isFinite(rate) ? new RateServer(rate) : undefined;
    this.limited = this.server !== undefined;
    const steps = config.trace?.format === 'steps' ? config.trace.steps : [];
    this.stepLoss = steps.some((x) => x.loss > 0);
    const varyingDelay = steps.some((x) => x.delayMs !== steps[0]!.delayMs);
    const meanBps = config.trace ? traceMeanBps(config.trace) : rate;
    this.limitBytes = this.limited ? (config.queueLimitBytes ?? defaultQueueLimitBytes(meanBps)) : Infinity;
    check(this.limitBytes > 0, `queueLimitBytes must be > 0, got ${config.queueLimitBytes}`);
    this.delayMs = config.delayMs ?? 0;
    this.jitterMs = config.jitterMs ?? 0;
    check(this.delayMs >= 0 && Number.isFinite(this.delayMs), `delayMs must be a finite number >= 0, got ${config.delayMs}`);
    check(this.jitterMs >= 0 && Number.isFinite(this.jitterMs), `jitterMs must be a finite number >= 0, got ${config.jitterMs}`);
    const loss = config.loss ?? 0;
    const burst = config.lossBurst ?? 1;
    check(loss >= 0 && loss <= 1, `loss must be within 0..1, got ${config.loss}`);
    check(burst >= 1 && Number.isFinite(burst), `lossBurst must be a finite number >= 1, got ${config.lossBurst}`);
    // With a mean burst of B packets and at least one good packet between bursts, loss can reach B/(B+1) at most.
    check(loss >= 1 || burst === 1 || loss / (1 - loss) / burst <= 1, `loss ${loss} is impossible with mean bursts of ${burst} (max ${(burst / (burst + 1)).toFixed(3)})`);
    this.seriesMs = config.seriesIntervalMs ?? 1;
    check(this.seriesMs > 0, `seriesIntervalMs must be > 0, got ${config.seriesIntervalMs}`);
    const seed = config.seed ?? 0x5eed;
    check(Number.isFinite(seed), `seed must be a finite number, got ${config.seed}`);
    this.reliable = config.reliable ?? false;
    this.penaltyMs = retransmitPenaltyMs(config);
    this.lossModel = new LossModel(loss, burst, seededRandom(mixSeed(seed, 1)));
    this.jitterRng = seededRandom(mixSeed(seed, 2));
    this.extraLossRng = seededRandom(mixSeed(seed, 3));
    // Delays that change (jitter, or steps of delay) let packets overtake each other unless the link keeps order.
    this.inFlight = (this.jitterMs > 0 || varyingDelay) && !this.reliable ? new HeapStage<T>() : new Fifo<T>();
  }

  /** Offers an item of `bytes` bytes to the link; the deliver callback runs once it is due: inside push when it is due at once with nothing ahead of it (no rate limit, no delay), else later, never before its due time. */
  push(item: T, bytes: number): PushResult {
    if (this.closed) throw new Error('netem: push on a closed link');
    check(bytes >= 0 && Number.isFinite(bytes), `bytes must be a finite number >= 0, got ${bytes}`);
    const t = this.now();
    this.advance(t);
    const s = this.s;
    s.packetsIn++;
    s.bytesIn += bytes;
    // A step's loss is its own draw on top of the link's: both streams advance once per packet.
    const stepLost = this.stepLoss && this.extraLossRng() < this.server!.extraAt(t).loss;
    const lost = this.lossModel.next() || stepLost;
    if (lost && !this.reliable) {
      s.droppedLoss++;
      return 'dropped-loss';
    }
    if (this.limited && !this.reliable && s.queueBytes + bytes > this.limitBytes) {
      s.droppedQueue++;
      return 'dropped-queue';
    }
    const e: Entry<T> = { item, bytes, seq: this.seq++, enqueuedAt: t, sentAt: t, dueAt: t, retransmitted: lost };
    const server = this.server;
    if (server) {
      e.sentAt = server.serve(t, bytes);
      // The retransmitted copy is charged right after the original.
      if (lost) server.serve(e.sentAt, bytes);
      this.lastSentAt = server.freeAt;
      this.queue.push(e);
      s.queueBytes += bytes;
      s.queuePackets++;
      if (s.queueBytes > s.maxQueueBytes) s.maxQueueBytes = s.queueBytes;
      this.sample(t);
    }
    e.dueAt = e.sentAt + this.propagationMs() + (server ? server.extraAt(e.sentAt).delayMs : 0) + (lost ? this.penaltyMs : 0);
    if (lost) s.retransmitted++;
    if (this.reliable) {
      if (e.dueAt < this.lastDueAt) e.dueAt = this.lastDueAt;
      this.lastDueAt = e.dueAt;
    }
    // Nothing to emulate for it (due now, nothing ahead, no queue to watch): handed on at once. A
    // deferred hand-over (setImmediate) costs a relay about 0.06 ms per frame, measured between
    // bare Node processes (bench/tcp-hops.ts), for a link that only counts.
    if (e.dueAt <= t && !server && this.inFlight.peek() === undefined && !this.firing && !this.drainPending) {
      s.packetsOut++;
      s.bytesOut += bytes;
      this.deliver(item, { enqueuedAt: t, sentAt: t, dueAt: e.dueAt, deliveredAt: t, bytes, retransmitted: lost });
      return 'queued';
    }
    this.inFlight.push(e);
    let result: PushResult = 'queued';
    if (this.reliable && s.queueBytes >= this.limitBytes) {
      this.drainPending = true;
      result = 'full';
    }
    this.drainAtCache = undefined;
    if (!this.firing) this.arm();
    return result;
  }

  /** Calls cb each time the queue, after a 'full' push, has emptied to half its limit. */
  onDrain(cb: () => void): void {
    this.drainListeners.push(cb);
  }

  /** A snapshot of the counters. */
  stats(): NetemStats {
    if (!this.closed) this.advance(this.now());
    return { ...this.s };
  }

  /** Queue occupancy and queueing delay samples so far (copies). */
  queueSeries(): Required<QueueSeries> {
    if (!this.closed) this.advance(this.now());
    return { t: this.series.t.slice(), bytes: this.series.bytes.slice(), packets: this.series.packets.slice(), delayMs: this.series.delayMs.slice() };
  }

  /** The capacity the link offered per window of windowMs from its creation up to `to` (default now); empty for an unlimited link. */
  capacitySeries(to = this.now(), windowMs = CAPACITY_WINDOW_MS): CapacitySeries {
    const out: CapacitySeries = { t: [], bps: [] };
    const server = this.server;
    if (!server) return out;
    for (let a = this.origin; a < to; a += windowMs) {
      out.t.push(a);
      out.bps.push((server.offeredBits(a, a + windowMs) * 1000) / windowMs);
    }
    return out;
  }

  /** When the link began: the time 0 of its trace. */
  get startedAt(): number {
    return this.origin;
  }

  /** Stops the link: cancels timers and discards what is still queued or in flight. */
  close(): void {
    this.closed = true;
    this.disarm();
    this.queue.clear();
    this.inFlight.clear();
  }

  private propagationMs(): number {
    if (this.jitterMs === 0) return this.delayMs;
    return Math.max(0, this.delayMs + this.jitterMs * this.normal());
  }

  /** A standard normal sample (Box-Muller, both values used). */
  private normal(): number {
    const spare = this.spareNormal;
    if (spare !== undefined) {
      this.spareNormal = undefined;
      return spare;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.jitterRng()));
    const th = 2 * Math.PI * this.jitterRng();
    this.spareNormal = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Takes packets whose last bit left by time t off the queue, sampling at their exact departure times. */
  private advance(t: number): void {
    const s = this.s;
    for (;;) {
      const e = this.queue.peek();
      if (e === undefined || e.sentAt > t) break;
      this.queue.pop();
      s.queueBytes -= e.bytes;
      s.queuePackets--;
      this.sample(e.sentAt);
    }
    // Float sums can leave a residue when the queue is empty.
    if (s.queuePackets === 0) s.queueBytes = 0;
  }

  private sample(t: number): void {
    const bucket = Math.floor(t / this.seriesMs);
    const { t: ts, bytes, packets, delayMs } = this.series;
    const delay = this.s.queuePackets > 0 ? Math.max(0, this.lastSentAt - t) : 0;
    if (bucket === this.lastBucket && ts.length > 0) {
      const i = ts.length - 1;
      ts[i] = t;
      bytes[i] = this.s.queueBytes;
      packets[i] = this.s.queuePackets;
      delayMs[i] = delay;
    } else {
      ts.push(t);
      bytes.push(this.s.queueBytes);
      packets.push(this.s.queuePackets);
      delayMs.push(delay);
      this.lastBucket = bucket;
    }
  }

  /** When the queue will have emptied to the low-water mark, given what is queued now. */
  private drainAt(): number {
    if (this.drainAtCache !== undefined) return this.drainAtCache;
    const low = this.limitBytes / 2;
    let left = this.s.queueBytes;
    let at = -Infinity;
    for (let k = 0; k < this.queue.size && left > low; k++) {
      const e = this.queue.get(k)!;
      left -= e.bytes;
      at = e.sentAt;
    }
    this.drainAtCache = at;
    return at;
  }

  /** One timer for the whole link, armed for the earliest event; re-armed after each firing. */
  private arm(): void {
    let at = this.inFlight.peek()?.dueAt ?? Infinity;
    if (this.drainPending) at = Math.min(at, this.drainAt());
    if (at === Infinity) {
      this.disarm();
      return;
    }
    if ((this.timer !== undefined || this.immediate !== undefined) && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    const wait = at - this.now();
    // setTimeout truncates to whole ms and libuv's cached loop time can fire it early, hence the
    // ceil here and the re-check against now() in fire().
    if (wait <= 0) this.immediate = setImmediate(this.fire);
    else this.timer = setTimeout(this.fire, Math.ceil(wait));
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.timerAt = Infinity;
  }

  /** Delivers everything due by now, so a late timer catches up instead of falling behind. */
  private readonly fire = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    this.firing = true;
    try {
      const t = this.now();
      this.advance(t);
      const s = this.s;
      for (;;) {
        const e = this.inFlight.peek();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- deliver() runs the receiver, which may close the link
        if (e === undefined || e.dueAt > t || this.closed) break;
        this.inFlight.pop();
        s.packetsOut++;
        s.bytesOut += e.bytes;
        this.deliver(e.item, {
          enqueuedAt: e.enqueuedAt,
          sentAt: e.sentAt,
          dueAt: e.dueAt,
          deliveredAt: t,
          bytes: e.bytes,
          retransmitted: e.retransmitted,
        });
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
      if (this.drainPending && !this.closed && s.queueBytes <= this.limitBytes / 2) {
        this.drainPending = false;
        this.drainAtCache = undefined;
        for (const cb of this.drainListeners.slice()) cb();
      }
    } finally {
      this.firing = false;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
      if (!this.closed) this.arm();
    }
  };
}
