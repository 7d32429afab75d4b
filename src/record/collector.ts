/**
 * The collector, inside the engine: talks to every agent of the run, puts their samples on the
 * engine's time base, acknowledges what it received (so agents resend after a broken
 * connection), and says where data is really missing instead of papering over it.
 */
import { EventEmitter } from 'node:events';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { machineIdentity, sameMonotonicClock } from '../base/machine.ts';
import { measureOffset, type ClockEstimate } from './clock.ts';
import { TimeBase, type RoleClock } from './timebase.ts';
import { BatchesReply, checkBody, ProtocolError, Hello, PROTOCOL_VERSION, RunReply, TimeReply, type FrameEvent, type ProbeSettings, type RunBody, type Sample, type Selector } from './protocol.ts';

export interface AgentEndpoint {
  role: string;
  url: string;
  token?: string;
}

/** What one point recorded, on the engine's clock (ms, monotonic). */
export interface PointRecording {
  samples: { t: number; role: string; probe: string; name: string; value: number }[];
  events: { t: number; role: string; frame: number; stage: string; value: number }[];
  /**
   * Per role: its agent's clock (offset and uncertainty at the start, the change of the offset by
   * the end), agent CPU seconds, batches received. Samples and events above are already mapped
   * through `clocks` (interpolated between the two measurements).
   */
  agents: Record<string, { offsetMs: number; uncertaintyMs: number; driftMs: number; agentCpuS: number; batches: number; lastSeq: number }>;
  /** Each agent's clock against this process's, as measured at the point's start and end. */
  clocks: Record<string, RoleClock>;
  /** Missing data, said plainly: 'host: no data from 12.3 s to 15.0 s (agent unreachable)'. */
  gaps: string[];
  /** Probes that failed during the point, per role: how often, and the first and latest reasons. */
  probeErrors: { role: string; probe: string; count: number; first: string; last: string }[];
}

/** A live sample as published to subscribers (`collector.on('sample', ...)`). */
export interface LiveSample {
  role: string;
  t: number;
  probe: string;
  values: Record<string, number>;
}

class AgentLink {
  hello: Hello | undefined;
  /** Undefined while unmeasured; `same` when the agent reads this very clock. */
  clock: ClockEstimate | 'same' | undefined;
  /** The second measurement, at the point's end. */
  endClock: ClockEstimate | undefined;
  session: string | undefined;
  lastSeq = 0;
  lastT = NaN;
  agentCpuS = 0;
  batches = 0;
  done = false;
  unreachableSince: number | undefined;
  /** Why the last poll failed: said in the gap it leaves, so an answer the collector could not use is not called unreachable. */
  lastPollError: string | undefined;
  /** Probe failures reported by the agent in this point, by probe. */
  probeErrors = new Map<string, { count: number; first: string; last: string }>();
  poller: Promise<void> | undefined;

  constructor(readonly ep: AgentEndpoint) {}

  async call<T>(method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<T> {
    const res = await fetch(new URL(path, this.ep.url), {
      method,
      headers: { 'content-type': 'application/json', ...(this.ep.token ? { authorization: `Bearer ${this.ep.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NotJson(`agent ${this.ep.role} at ${this.ep.url} answered ${res.status} with something that is not JSON`);
    }
    if (!res.ok) throw new AgentRefused(res.status, `agent ${this.ep.role} at ${this.ep.url}: ${(json as { error?: string }).error ?? res.status}`);
    return json as T;
  }
}

/** A link's clock as a time base takes it. */
function linkClock(l: AgentLink): RoleClock {
  if (l.clock === 'same') return { kind: 'same' };
  if (l.clock === undefined) return { kind: 'unknown', why: `the clock of agent ${l.ep.role} was never measured` };
  return { kind: 'measured', start: l.clock, ...(l.endClock ? { end: l.endClock } : {}) };
}

/** The agent answered with something that is not JSON (another program on its port?). */
class NotJson extends Error {}

/** The agent answered, and said no (wrong token, commands not allowed, unknown session). */
export class AgentRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Collector extends EventEmitter {
  private readonly links: AgentLink[];
  private rec: PointRecording | undefined;
  /** What the point's agents sent, on their own clocks, with the agent it came through. */
  private raw: { link: string; sample?: PointRecording['samples'][number]; event?: PointRecording['events'][number] }[] = [];
  private pointStart = 0;

  constructor(endpoints: readonly AgentEndpoint[]) {
    super();
    this.links = endpoints.map((e) => new AgentLink(e));
  }

  get roles(): string[] {
    return this.links.map((l) => l.ep.role);
  }

  /** Where a role's agent listens (for the pipeline roles of that machine to send frame events to). */
  endpoint(role: string): AgentEndpoint | undefined {
    return this.links.find((l) => l.ep.role === role)?.ep;
  }

  /** Handshake with every agent: version and facts. Throws naming the agent that cannot be used. */
  async connect(): Promise<Record<string, Hello>> {
    const out: Record<string, Hello> = {};
    for (const l of this.links) {
      const hello = checkBody(Hello, await l.call('GET', '/v1/hello'), `hello from ${l.ep.role}`);
      if (hello.version !== PROTOCOL_VERSION) throw new Error(`agent ${l.ep.role} speaks protocol ${hello.version}, this engine ${PROTOCOL_VERSION}: use the same streambench version on every machine`);
      if (hello.role !== l.ep.role) throw new Error(`the agent at ${l.ep.url} has role '${hello.role}', expected '${l.ep.role}'`);
      l.hello = hello;
      out[l.ep.role] = hello;
    }
    return out;
  }

  /** Starts recording a point on every agent. */
  async startPoint(id: string, probes: ProbeSettings | ((role: string) => ProbeSettings), selectors: Record<string, Selector[]> = {}): Promise<void> {
    this.pointStart = monoMs();
    this.rec = { samples: [], events: [], agents: {}, gaps: [], probeErrors: [], clocks: {} };
    this.raw = [];
    await Promise.all(
      this.links.map(async (l) => {
        l.endClock = undefined;
        l.clock = this.sameClock(l) ? 'same' : await this.measure(l, 16);
        await l.call('POST', '/v1/sessions', { id, probes: typeof probes === 'function' ? probes(l.ep.role) : probes, selectors: selectors[l.ep.role] ?? [] });
        Object.assign(l, { session: id, lastSeq: 0, lastT: NaN, agentCpuS: 0, batches: 0, done: false, unreachableSince: undefined, lastPollError: undefined, probeErrors: new Map() });
        l.poller = this.poll(l);
      }),
    );
  }

  /**
   * An agent that reads this very CLOCK_MONOTONIC (the same boot and the same time namespace, as
   * it says in its hello) has offset 0 exactly, better than any estimate (whose ± half round trip
   * would blur the order of events between roles). A host name or a loopback address proves
   * neither: an agent in its own time namespace on this machine has its own clock.
   */
  private sameClock(l: AgentLink): boolean {
    const f = l.hello?.facts;
    return f !== undefined && sameMonotonicClock(machineIdentity(), { ...(f.bootId !== undefined ? { bootId: f.bootId } : {}), ...(f.timeNs !== undefined ? { timeNs: f.timeNs } : {}) });
  }

  private async measure(l: AgentLink, rounds: number): Promise<ClockEstimate> {
    return measureOffset(async () => checkBody(TimeReply, await l.call('GET', '/v1/time'), 'time').monoMs, rounds);
  }

  /**
   * Measures each agent's clock again, as the point ends (once; stopPoint reuses it), and returns
   * every agent's clock: what a workload maps its roles' stamps with before it computes a figure.
   * An agent that cannot be reached now keeps its start measurement alone.
   */
  async endClocks(): Promise<Record<string, RoleClock>> {
    await Promise.all(
      this.links.map(async (l) => {
        if (l.clock === undefined || l.clock === 'same' || l.endClock !== undefined) return;
        try {
          l.endClock = await this.measure(l, 8);
        } catch {
          // Unreachable at the end: the start measurement stands, and the gap is said by stopPoint.
        }
      }),
    );
    return Object.fromEntries(this.links.map((l) => [l.ep.role, linkClock(l)]));
  }

  /** Watches more processes on a role's machine (e.g. the pids a workload just started). */
  async watch(role: string, selectors: Selector[]): Promise<void> {
    const l = this.links.find((x) => x.ep.role === role);
    if (!l?.session) return;
    await l.call('POST', `/v1/sessions/${l.session}/select`, { selectors });
  }

  /** Stops the point on every agent and returns what was recorded, gaps included. */
  async stopPoint(): Promise<PointRecording> {
    const rec = this.rec!;
    const stopAt = monoMs();
    await Promise.all(
      this.links.map(async (l) => {
        try {
          await l.call('POST', `/v1/sessions/${l.session}/stop`);
        } catch (e) {
          this.gap(l, `could not stop the session: ${errorMessage(e)}`);
        }
        // The final batch, or give up after a while: an agent that is gone stays gone.
        const deadline = setTimeout(() => (l.done = true), 5000);
        await l.poller;
        clearTimeout(deadline);
        if (l.clock !== 'same' && l.clock !== undefined && l.endClock === undefined) {
          try {
            l.endClock = await this.measure(l, 8);
          } catch {
            // Unreachable at the end: the start measurement stands, and the gap is recorded below.
          }
        }
        const c = linkClock(l);
        rec.clocks[l.ep.role] = c;
        const offsetMs = c.kind === 'measured' ? c.start.offsetMs : 0;
        const uncertaintyMs = c.kind === 'measured' ? Math.max(c.start.uncertaintyMs, c.end?.uncertaintyMs ?? 0) : 0;
        const drift = c.kind === 'measured' ? (c.end ? c.end.offsetMs - c.start.offsetMs : NaN) : 0;
        if (l.unreachableSince !== undefined || !Number.isFinite(l.lastT) || l.lastT < stopAt - 2000) {
          const from = Number.isFinite(l.lastT) ? ((l.lastT - this.pointStart) / 1000).toFixed(1) : '0.0';
          const why = l.lastPollError ?? 'agent unreachable';
          rec.gaps.push(`${l.ep.role}: no data from ${from} s to ${((stopAt - this.pointStart) / 1000).toFixed(1)} s (${why})`);
        }
        for (const [probe, e] of l.probeErrors) rec.probeErrors.push({ role: l.ep.role, probe, ...e });
        rec.agents[l.ep.role] = { offsetMs, uncertaintyMs, driftMs: drift, agentCpuS: l.agentCpuS, batches: l.batches, lastSeq: l.lastSeq };
      }),
    );
    // Now that both measurements are in, every stamp goes onto this clock through the
    // interpolated offset (while the point ran, live samples used the start offset alone).
    const base = new TimeBase(0, rec.clocks);
    for (const r of this.raw) {
      if (r.sample) rec.samples.push({ ...r.sample, t: base.toBase(r.link, r.sample.t) });
      else if (r.event) rec.events.push({ ...r.event, t: base.toBase(r.link, r.event.t) });
    }
    this.raw = [];
    this.rec = undefined;
    return rec;
  }

  /** Runs a hook command on a role's machine through its agent. */
  async run(role: string, body: RunBody): Promise<RunReply> {
    const l = this.links.find((x) => x.ep.role === role);
    if (!l) throw new Error(`no agent for role '${role}' (roles: ${this.roles.join(', ')})`);
    return checkBody(RunReply, await l.call('POST', '/v1/run', body, (body.timeoutS + 10) * 1000), 'run reply');
  }

  private gap(l: AgentLink, why: string): void {
    this.rec?.gaps.push(`${l.ep.role}: ${why}`);
  }

  private async poll(l: AgentLink): Promise<void> {
    const session = l.session;
    while (!l.done && session === l.session) {
      let reply: { agentId: string; batches: import('./protocol.ts').Batch[] };
      try {
        reply = checkBody(BatchesReply, await l.call('GET', `/v1/sessions/${session}/batches?after=${l.lastSeq}&wait=1000`, undefined, 8000), 'batches');
      } catch (e) {
        if (e instanceof AgentRefused && e.status === 404) {
          // The agent no longer knows the session: it restarted, and what it held is lost.
          this.gap(l, `the agent lost the session after batch ${l.lastSeq} (restarted?)`);
          l.done = true;
          break;
        }
        l.unreachableSince ??= monoMs();
        // A connection that failed is the usual case; an answer that was no batch list is said as such.
        l.lastPollError = e instanceof AgentRefused || e instanceof ProtocolError || e instanceof NotJson ? errorMessage(e) : undefined;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (l.unreachableSince !== undefined) {
        this.emit('reconnected', { role: l.ep.role, afterMs: monoMs() - l.unreachableSince });
        l.unreachableSince = undefined;
      }
      if (l.hello && reply.agentId !== l.hello.agentId) {
        this.gap(l, 'the agent restarted during the point: what it held is lost');
        l.hello.agentId = reply.agentId;
      }
      for (const b of reply.batches) {
        if (b.seq <= l.lastSeq) continue; // already have it (a resend after a lost reply)
        if (b.seq !== l.lastSeq + 1) this.gap(l, `batches ${l.lastSeq + 1}..${b.seq - 1} missing (the agent dropped ${b.dropped} it could not keep)`);
        l.lastSeq = b.seq;
        l.batches++;
        l.agentCpuS = b.agentCpuS;
        this.take(l, b.samples, b.events);
        for (const e of b.errors ?? []) {
          const had = l.probeErrors.get(e.probe);
          if (had) Object.assign(had, { count: had.count + e.count, last: e.message });
          else l.probeErrors.set(e.probe, { count: e.count, first: e.message, last: e.message });
        }
        if (b.final) l.done = true;
      }
    }
  }

  private take(l: AgentLink, samples: Sample[], events: FrameEvent[]): void {
    if (!this.rec) return;
    const off = l.clock === 'same' || l.clock === undefined ? 0 : l.clock.offsetMs;
    for (const s of samples) {
      const t = s.t - off;
      l.lastT = Math.max(Number.isFinite(l.lastT) ? l.lastT : -Infinity, t);
      // Kept on the agent's clock until the end measurement is in (stopPoint maps them).
      for (const [name, value] of Object.entries(s.values)) this.raw.push({ link: l.ep.role, sample: { t: s.t, role: l.ep.role, probe: s.probe, name, value } });
      this.emit('sample', { role: l.ep.role, t, probe: s.probe, values: s.values } satisfies LiveSample);
    }
    for (const e of events) this.raw.push({ link: l.ep.role, event: { t: e.t, role: e.role || l.ep.role, frame: e.frame, stage: e.stage, value: e.value ?? NaN } });
  }
}
