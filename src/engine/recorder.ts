/**
 * Recording during a run: starts the local agents (or reaches the remote ones), opens a session
 * per point, writes what came back into the point's directory on the engine's time base, and
 * sums it up as `role.metric` columns.
 */
import { join } from 'node:path';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import type { ProcessSelection, Recording, ResolvedHook } from '../config/resolved.ts';
import { renderTemplate } from '../config/template.ts';
import { Collector, type AgentEndpoint, type LiveSample, type PointRecording } from '../record/collector.ts';
import { startLocalAgents, type LocalAgents } from '../record/local.ts';
import type { Hello, ProbeSettings, RunReply, Selector } from '../record/protocol.ts';
import { TimeBase, type RoleClock, type RoleClockSummary } from '../record/timebase.ts';
import type { MetricValue } from '../store/records.ts';
import { writeSeriesParquet } from '../store/parquet.ts';
import { processStartTime } from '../workloads/proctree.ts';
import type { LiveProcess } from '../workloads/workload.ts';

/** A sample of the point being recorded, as samples.parquet will hold it: t in seconds since the point began. */
export interface PointSample {
  role: string;
  probe: string;
  t: number;
  values: Record<string, number>;
}

export class RunRecorder {
  private pointT0 = 0;

  private constructor(
    readonly collector: Collector,
    private readonly local: LocalAgents | undefined,
    private readonly probes: ProbeSettings,
    readonly hellos: Record<string, Hello>,
  ) {}

  /** Starts local agents and connects to every agent; throws naming the one that cannot be used. */
  static async start(r: Recording, setDir: string, onProcess: (p: LiveProcess) => void, startAgents: typeof startLocalAgents = startLocalAgents): Promise<RunRecorder> {
    const localRoles = r.agents.filter((a) => a.url === undefined).map((a) => a.role);
    const onSpawn = (pid: number) => {
      const st = processStartTime(pid);
      if (st !== undefined) onProcess({ pid, startTime: st });
    };
    // An executor that places roles on other machines starts their agents there (`startAgents`).
    const local = localRoles.length > 0 ? await startAgents(localRoles, { allowCommands: r.allowCommands, logPath: join(setDir, 'agents.log'), onSpawn }) : undefined;
    const endpoints: AgentEndpoint[] = r.agents.map((a) => {
      if (a.url === undefined) return local!.endpoints.find((e) => e.role === a.role)!;
      const token = a.tokenEnv ? process.env[a.tokenEnv] : undefined;
      if (a.tokenEnv && !token) throw new Error(`the token of agent ${a.role} is read from $${a.tokenEnv}, which is not set`);
      return { role: a.role, url: a.url, ...(token ? { token } : {}) };
    });
    const collector = new Collector(endpoints);
    try {
      const hellos = await collector.connect();
      const p = r.probes;
      const probes: ProbeSettings = {
        ...(p.cpu !== undefined ? { cpu: p.cpu } : {}),
        ...(p.mem !== undefined ? { mem: p.mem } : {}),
        ...(p.net !== undefined ? { net: p.net } : {}),
        ...(p.cpufreq !== undefined ? { cpufreq: p.cpufreq } : {}),
        ...(p.gpu !== undefined ? { gpu: p.gpu } : {}),
        ...(p.proc !== undefined ? { proc: p.proc } : {}),
      };
      const rec = new RunRecorder(collector, local, probes, hellos);
      rec.custom = p.custom ?? [];
      rec.processes = r.processes;
      return rec;
    } catch (e) {
      await local?.stop();
      throw e;
    }
  }

  private custom: NonNullable<Recording['probes']['custom']> = [];
  private processes: ProcessSelection[] = [];

  /** The URL and token of a role's agent, when there is one. */
  agent(role: string): AgentEndpoint | undefined {
    return this.collector.endpoint(role);
  }

  /** Role names of the run's agents. */
  get roles(): string[] {
    return this.collector.roles;
  }

  /** When the point began, on this process's monotonic clock (ms): the zero of its samples.parquet. */
  get originMs(): number {
    return this.pointT0;
  }

  /**
   * The point's time base for a workload's roles: a role placed on another machine reads its
   * agent's clock (measured at the point's start and now, at its end); a role started here reads
   * this clock. Call it once the roles have ended, before computing any figure across roles.
   */
  async timeBase(roles: readonly string[], remote: (role: string) => boolean): Promise<TimeBase> {
    const agents = await this.collector.endClocks();
    return new TimeBase(this.pointT0, Object.fromEntries(roles.map((r) => [r, roleClock(r, remote(r), agents)])));
  }

  /** Opens the point's session on every agent, with its custom probes and the benchmark's declared processes. */
  async beginPoint(id: string): Promise<void> {
    this.pointT0 = monoMs();
    const selectors: Record<string, Selector[]> = {};
    for (const p of this.processes) (selectors[p.role] ??= []).push(toSelector(p));
    // Custom probes run on the agent of their role (the first one when none is named).
    await this.collector.startPoint(
      id,
      (role) => {
        const mine = this.customOn(role).map(({ name, argv, format, intervalMs }) => ({ name, argv, format, intervalMs }));
        return mine.length > 0 ? { ...this.probes, custom: mine } : this.probes;
      },
      selectors,
    );
  }

  private customOn(role: string): NonNullable<Recording['probes']['custom']> {
    return this.custom.filter((c) => (c.on ?? this.roles[0]) === role);
  }

  /**
   * Hears each sample as the collector receives it during a point, on the time base of the
   * point's samples.parquet (seconds since the point began): what a live view plots.
   */
  onSample(listener: (s: PointSample) => void): void {
    this.collector.on('sample', (s: LiveSample) => listener({ role: s.role, probe: s.probe, t: (s.t - this.pointT0) / 1000, values: s.values }));
  }

  /** Watches a process on a role's machine (unknown roles go to the first agent, e.g. `local`). */
  watch(role: string, selector: Selector): Promise<void> {
    return this.collector.watch(this.roles.includes(role) ? role : this.roles[0]!, [selector]);
  }

  /** Stops the point's session and writes samples.parquet and events.parquet into `dir`. */
  async endPoint(dir: string, window?: { fromMs: number; toMs: number }): Promise<{ metrics: Record<string, MetricValue>; flags: string[]; clocks: Record<string, RoleClockSummary>; recording: PointRecording }> {
    const rec = await this.collector.stopPoint();
    const wallS = (monoMs() - this.pointT0) / 1000;
    // Summaries cover the workload's recorded window when it says which (start-up and warm-up
    // left out); the Parquet files keep every sample.
    const t0 = this.pointT0;
    if (rec.samples.length > 0) {
      await writeSeriesParquet(join(dir, 'samples.parquet'), {
        t: rec.samples.map((s) => (s.t - t0) / 1000),
        role: rec.samples.map((s) => s.role),
        probe: rec.samples.map((s) => s.probe),
        name: rec.samples.map((s) => s.name),
        value: rec.samples.map((s) => s.value),
      });
    }
    if (rec.events.length > 0) {
      await writeSeriesParquet(join(dir, 'events.parquet'), {
        t: rec.events.map((e) => (e.t - t0) / 1000),
        role: rec.events.map((e) => e.role),
        frame: rec.events.map((e) => e.frame),
        stage: rec.events.map((e) => e.stage),
        value: rec.events.map((e) => e.value),
      });
    }
    const metrics = summarize(rec, wallS, window);
    const flags = recordingFlags(rec, { custom: this.roles.map((role) => ({ role, names: this.customOn(role).map((c) => c.name) })), processes: this.processes, localRoles: this.local?.endpoints.map((e) => e.role) ?? [] }, window);
    const clocks = new TimeBase(t0, rec.clocks).summary();
    return { metrics, flags, clocks, recording: rec };
  }

  /** Runs a hook on its role's machine through the agent; the reply goes to the hooks log. */
  async runHook(h: ResolvedHook, values: Readonly<Record<string, unknown>>): Promise<{ reply?: RunReply; argv: string[]; error?: string }> {
    const argv = h.argv.map((a) => renderTemplate(a, values));
    const env = Object.fromEntries(Object.entries(h.env).map(([k, v]) => [k, renderTemplate(v, values)]));
    try {
      return { argv, reply: await this.collector.run(h.on!, { argv, timeoutS: h.timeoutS, env }) };
    } catch (e) {
      return { argv, error: errorMessage(e) };
    }
  }

  /** Pids of the agents this run started (to drop from the run's live registry once stopped). */
  get localPids(): number[] {
    return this.local?.pids ?? [];
  }

  async stop(): Promise<void> {
    await this.local?.stop();
  }
}

/** A role's clock: this one when it runs here; its agent's when it runs elsewhere; unknown without an agent there. */
export function roleClock(role: string, remote: boolean, agents: Record<string, RoleClock>): RoleClock {
  if (!remote) return { kind: 'same' };
  return agents[role] ?? { kind: 'unknown', why: `role ${role} runs on another machine, and no recording agent of the run is there to measure its clock (recording is off, or has no agent for ${role})` };
}

/** The recorder's selector for a declared process: the same fields, less the role. */
function toSelector(p: ProcessSelection): Selector {
  return {
    label: p.label,
    ...(p.pid !== undefined ? { pid: p.pid } : {}),
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(p.cmdline !== undefined ? { cmdline: p.cmdline } : {}),
    ...(p.cgroup !== undefined ? { cgroup: p.cgroup } : {}),
  };
}

/** How a declared process was selected, as the file said it: `name x11vnc`, `cmdline 'vncviewer .*'`. */
export function describeSelection(p: ProcessSelection): string {
  if (p.name !== undefined) return `name ${p.name}`;
  if (p.cmdline !== undefined) return `cmdline '${p.cmdline}'`;
  if (p.cgroup !== undefined) return `cgroup ${p.cgroup}`;
  return `pid ${p.pid}`;
}

/** What the recorder expected of a point, to say plainly where it got less. */
export interface Expected {
  /** Custom probe names per role. */
  custom: { role: string; names: string[] }[];
  processes: ProcessSelection[];
  /** Roles whose agents the engine started: they log to the result set's agents.log. */
  localRoles: string[];
}

/**
 * The point's flags from its recording: gaps, probes that failed (with how often and why),
 * custom probes that gave no value at all, and declared processes that matched nothing in the
 * window (the whole point when there is none). Silence is never taken for zero.
 */
export function recordingFlags(rec: PointRecording, expected: Expected, window?: { fromMs: number; toMs: number }): string[] {
  const log = (role: string) => (expected.localRoles.includes(role) ? ' (see agents.log)' : '');
  const flags = rec.gaps.map((g) => `recording gap: ${g}${log(g.slice(0, g.indexOf(':')))}`);
  const failed = new Set<string>();
  for (const e of rec.probeErrors) {
    failed.add(`${e.role}\u0000${e.probe}`);
    // Probes name themselves in their messages; the flag names the probe once.
    const own = (m: string) => (m.startsWith(`${e.probe}: `) ? m.slice(e.probe.length + 2) : m);
    const latest = e.last !== e.first ? `; latest: ${own(e.last)}` : '';
    flags.push(`probe ${e.probe} failed on ${e.role} (${e.count} sample${e.count === 1 ? '' : 's'}): ${own(e.first)}${latest}${log(e.role)}`);
  }
  const gave = new Set<string>();
  const matched = new Set<string>();
  for (const s of rec.samples) {
    gave.add(`${s.role}\u0000${s.probe}`);
    if (s.value > 0 && s.name.startsWith('proc.') && s.name.endsWith('.procs') && (!window || (s.t >= window.fromMs && s.t <= window.toMs))) matched.add(`${s.role}\u0000${s.name}`);
  }
  for (const { role, names } of expected.custom) {
    for (const name of names) {
      const key = `${role}\u0000custom.${name}`;
      if (!gave.has(key) && !failed.has(key)) flags.push(`custom probe '${name}' gave no value on ${role}: no run of it finished with a number in its output${log(role)}`);
    }
  }
  for (const p of expected.processes) {
    if (!matched.has(`${p.role}\u0000proc.${p.label}.procs`)) flags.push(`process selector '${p.label}' (${describeSelection(p)}) matched nothing on ${p.role}`);
  }
  return flags;
}

/**
 * Per role: mean system CPU and peak memory; per watched process mean CPU, peak RSS and most
 * threads; GPU use; the agent's own CPU over the point and its clock uncertainty. Only the
 * window counts (the whole point without one). Means of rates are weighted by the part of each
 * sample's interval (the time since its probe's previous sampling) inside the window: under load an
 * agent's ticks come late, and an unweighted mean would count a long busy interval as much as a
 * short idle one. Peaks (memory, threads) are of the samples taken inside the window.
 */
export function summarize(rec: PointRecording, wallS: number, window?: { fromMs: number; toMs: number }): Record<string, MetricValue> {
  const acc = new Map<string, { sum: number; weight: number; n: number; plain: number; max: number }>();
  // Per role and probe: the time of its latest sampling and of the one before (all the values
  // of one sampling share its time, so the interval is the probe's, whichever values it gave).
  const times = new Map<string, { last: number; before: number | undefined }>();
  for (const s of rec.samples) {
    const k = `${s.role}\u0000${s.name}`;
    const pk = `${s.role}\u0000${s.probe}`;
    let tm = times.get(pk);
    if (!tm) times.set(pk, (tm = { last: s.t, before: undefined }));
    else if (s.t !== tm.last) Object.assign(tm, { before: tm.last, last: s.t });
    const prev = tm.before;
    // A rate read at t is the mean over (prev, t]: only the part of that interval inside the
    // window counts, so a start-up burst just before the window (a process loading its modules)
    // or the part of a late tick after it does not leak in at full weight.
    const from = window ? Math.max(prev ?? -Infinity, window.fromMs) : prev;
    const to = window ? Math.min(s.t, window.toMs) : s.t;
    const w = prev !== undefined && from !== undefined && to > from ? to - from : 0;
    const inside = !window || (s.t >= window.fromMs && s.t <= window.toMs);
    if (!inside && w === 0) continue;
    const a = acc.get(k) ?? { sum: 0, weight: 0, n: 0, plain: 0, max: -Infinity };
    a.sum += s.value * w;
    a.weight += w;
    if (inside) {
      a.plain += s.value;
      a.n++;
      a.max = Math.max(a.max, s.value);
    }
    acc.set(k, a);
  }
  // A selection that matched no process in the window has no figures, not zeros (its flag says why).
  const unmatched = new Set<string>();
  for (const [k, a] of acc) {
    const m = /^(.*)\u0000proc\.([^.]+)\.procs$/.exec(k);
    if (m && a.max <= 0) unmatched.add(`${m[1]}\u0000${m[2]}`);
  }
  const out: Record<string, MetricValue> = {};
  const r3 = (x: number) => Number(x.toFixed(3));
  // A series of one sample has no interval to weigh by: its value stands.
  const mean = (a: { sum: number; weight: number; n: number; plain: number }) => (a.weight > 0 ? a.sum / a.weight : a.plain / a.n);
  for (const [k, a] of acc) {
    const [role, name] = k.split('\u0000') as [string, string];
    if (name.startsWith('proc.') && unmatched.has(`${role}\u0000${name.split('.')[1]}`)) continue;
    const peak = a.n > 0;
    if (name === 'cpu.busy_pct') out[`${role}.sys.cpu_pct`] = r3(mean(a));
    else if (name === 'mem.used_mb' && peak) out[`${role}.sys.mem_used_mb`] = r3(a.max);
    else if (/^proc\.[^.]+\.cpu_pct$/.test(name)) out[`${role}.${name}`] = r3(mean(a));
    else if (/^proc\.[^.]+\.(rss_mb|threads)$/.test(name) && peak) out[`${role}.${name}`] = r3(a.max);
    else if (/^gpu\./.test(name) && /(util|busy)/.test(name)) out[`${role}.${name}`] = r3(mean(a));
  }
  for (const [role, a] of Object.entries(rec.agents)) {
    out[`${role}.agent.cpu_pct`] = wallS > 0 ? r3((a.agentCpuS / wallS) * 100) : 0;
    out[`${role}.clock.uncertainty_ms`] = r3(a.uncertaintyMs);
  }
  out['recording.gaps'] = rec.gaps.length;
  return out;
}
