/**
 * One recording session of an agent (a point): its probes sampled on one timer, the samples and
 * frame events packed into numbered batches every batchMs and kept until the collector
 * acknowledges them, bounded (the oldest dropped past maxBatches, counted).
 *
 * One timer for everything: each probe is due on a grid of its interval from the session's start,
 * and so is packing a batch, so a 100 ms and a 1000 ms probe and the batch share one wake-up every
 * second instead of three. A wake-up has a price of its own before any probe runs (an empty 10 Hz
 * timer costs a Node process about 0.2 % of a core on a busy 2-core VM, a fifth of the agent's
 * sampling: bench/README.md). Due times are absolute: a late wake-up does not push the grid back,
 * and ticks missed altogether are skipped, never made up in a burst.
 */
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { createProbes, ProcessProbe, type ProbeConfig } from './probes/index.ts';
import type { Probe } from './probe.ts';
import { ProtocolError, type Batch, type FrameEvent, type ProbeError, type ProbeSettings, type Sample, type Selector } from './protocol.ts';

function probeConfig(p: ProbeSettings, selectors: Selector[]): ProbeConfig {
  const c: ProbeConfig = {};
  if (p.cpu !== undefined) c.cpu = p.cpu;
  if (p.mem !== undefined) c.mem = p.mem;
  if (p.net !== undefined) c.net = p.net;
  if (p.cpufreq !== undefined) c.cpufreq = p.cpufreq;
  if (p.gpu !== undefined) c.gpu = p.gpu;
  if (selectors.length > 0) c.proc = { intervalMs: p.proc ?? 100, select: selectors };
  if (p.custom) c.custom = p.custom;
  return c;
}

/** A timer may fire this early by Node's cached loop time: a probe due within it is sampled now. */
const EARLY_MS = 2;

/** A probe and when it is next due (monotonic ms). */
interface Due {
  probe: Probe;
  next: number;
}

export class Session {
  readonly batches: Batch[] = [];
  private pending: Sample[] = [];
  private events: FrameEvent[] = [];
  private seq = 0;
  private dropped = 0;
  private dues: Due[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextFlush: number;
  /** The origin of every probe's grid and of the batches'. */
  private readonly origin = monoMs();
  private probes: Probe[] = [];
  private procProbe: Probe | undefined;
  private selectors: Selector[];
  /** Failures per probe since the last batch. */
  private readonly errors = new Map<string, ProbeError>();
  /** The last reason written to the log per probe. */
  private readonly logged = new Map<string, string>();
  private readonly cpu0 = process.cpuUsage();
  private waiters: (() => void)[] = [];
  stopped = false;

  constructor(
    readonly id: string,
    private readonly settings: ProbeSettings,
    selectors: Selector[],
    /** The latest values of each probe, shared by the sessions of one agent (its /metrics). */
    private readonly latest: Map<string, Record<string, number>>,
    private readonly batchMs: number,
    private readonly maxBatches: number,
  ) {
    this.batchMs = Math.max(1, batchMs);
    this.nextFlush = this.origin + this.batchMs;
    this.selectors = [];
    // The selectors first: a bad one refuses the session before any timer runs.
    const proc = this.processProbe(selectors);
    this.probes = createProbes(probeConfig({ ...settings }, []));
    for (const p of this.probes) this.schedule(p);
    if (proc) this.useProcessProbe(proc, selectors);
    this.arm();
  }

  /** Samples a probe now, then on its grid: multiples of its interval from the session's start. */
  private schedule(p: Probe): void {
    const t = monoMs();
    this.sampleOne(p, t);
    this.dues.push({ probe: p, next: after(this.origin, Math.max(1, p.intervalMs), t) });
    this.arm();
  }

  private unschedule(p: Probe): void {
    this.dues = this.dues.filter((d) => d.probe !== p);
    p.close?.();
  }

  /** Sets the one timer to the earliest due time (a probe's or the next batch's). */
  private arm(): void {
    if (this.stopped) return;
    let due = this.nextFlush;
    for (const d of this.dues) due = Math.min(due, d.next);
    clearTimeout(this.timer);
    this.timer = setTimeout(this.tick, Math.max(0, due - monoMs()));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const t = monoMs();
    for (const d of this.dues) {
      if (d.next > t + EARLY_MS) continue;
      this.sampleOne(d.probe, t);
      d.next = after(d.next, Math.max(1, d.probe.intervalMs), t);
    }
    if (this.nextFlush <= t + EARLY_MS) {
      this.flush(false);
      this.nextFlush = after(this.nextFlush, this.batchMs, t);
    }
    this.arm();
  };

  private sampleOne(p: Probe, t: number): void {
    try {
      const v = p.sample(t);
      if (v instanceof Promise)
        v.then(
          (values) => this.record(p, t, values),
          (e: unknown) => this.sampleFailed(p, e),
        );
      else this.record(p, t, v);
    } catch (e) {
      this.sampleFailed(p, e);
    }
  }

  private record(p: Probe, t: number, values: Record<string, number>): void {
    // A sample without values (a probe with nothing to say yet) is not one.
    for (const _ in values) {
      this.pending.push({ t, probe: p.name, values });
      this.latest.set(p.name, values);
      return;
    }
  }

  /** A probe error skips that sample (the others go on) and travels to the collector in the next batch. Once stopped, a failure is the stop's own doing (it kills the commands in flight). */
  private sampleFailed(p: Probe, e: unknown): void {
    if (!this.stopped) this.probeFailed(p.name, errorMessage(e));
  }

  /**
   * Notes a failed sample: counted per probe until the next batch carries it to the collector.
   * The log (agents.log for local agents) gets each distinct reason once per probe, not a line
   * per failed sample: a probe failing at 10 Hz would bury everything else.
   */
  probeFailed(probe: string, message: string): void {
    const e = this.errors.get(probe);
    this.errors.set(probe, { probe, message, count: (e?.count ?? 0) + 1 });
    if (this.logged.get(probe) !== message) {
      this.logged.set(probe, message);
      process.stderr.write(`agent: session ${this.id}: probe ${probe} failed: ${message}\n`);
    }
  }

  /** Watches these processes from now on (the proc probe is rebuilt with the whole selection); throws ProtocolError on a selector it cannot use, watching what it did before. */
  setSelectors(add: Selector[]): void {
    const byLabel = new Map(this.selectors.map((s) => [s.label, s]));
    for (const s of add) byLabel.set(s.label, s);
    const all = [...byLabel.values()];
    const proc = this.processProbe(all);
    if (proc) this.useProcessProbe(proc, all);
  }

  /** The process probe for a whole selection (none for an empty one); ProtocolError naming the bad selector. */
  private processProbe(selectors: Selector[]): ProcessProbe | undefined {
    if (selectors.length === 0) return undefined;
    try {
      return new ProcessProbe({ intervalMs: this.settings.proc ?? 100, select: selectors });
    } catch (e) {
      throw new ProtocolError(`selectors: ${errorMessage(e)}`);
    }
  }

  private useProcessProbe(proc: ProcessProbe, selectors: Selector[]): void {
    if (this.procProbe) {
      this.unschedule(this.procProbe);
      this.probes.splice(this.probes.indexOf(this.procProbe), 1);
    }
    this.selectors = selectors;
    this.procProbe = proc;
    this.probes.push(proc);
    this.schedule(proc);
  }

  addEvents(events: FrameEvent[]): void {
    this.events.push(...events);
  }

  flush(final: boolean): void {
    if (!final && this.pending.length === 0 && this.events.length === 0 && this.errors.size === 0) return;
    const cpu = process.cpuUsage(this.cpu0);
    const errors = [...this.errors.values()];
    this.batches.push({ seq: ++this.seq, session: this.id, samples: this.pending, events: this.events, agentCpuS: (cpu.user + cpu.system) / 1e6, dropped: this.dropped, ...(errors.length > 0 ? { errors } : {}), final });
    this.pending = [];
    this.events = [];
    this.errors.clear();
    while (this.batches.length > this.maxBatches) {
      this.batches.shift();
      this.dropped++;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Forgets what the collector has acknowledged; resolves with what is left (after waiting up to waitMs for news). */
  async after(acked: number, waitMs: number): Promise<Batch[]> {
    while (this.batches.length > 0 && this.batches[0]!.seq <= acked) this.batches.shift();
    if (this.batches.length === 0 && waitMs > 0 && !(this.stopped && this.seq <= acked)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.batches.slice(0, 200);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    for (const p of this.probes) p.close?.();
    this.flush(true);
  }
}

/** The first time on `prev`'s grid of `every` ms that is later than `now` (ticks missed are skipped). */
function after(prev: number, every: number, now: number): number {
  const next = prev + every;
  return next > now + EARLY_MS ? next : prev + (Math.floor((now + EARLY_MS - prev) / every) + 1) * every;
}
