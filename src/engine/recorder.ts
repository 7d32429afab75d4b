/**
 * Recording during a run: starts the local agents (or reaches the remote ones), opens a session
 * per point, writes what came back into the point's directory on the engine's time base, and
 * sums it up as `role.metric` columns.
 */
import { join } from 'node:path';
import { monoMs } from '../base/clock.ts';
import type { Recording, ResolvedHook } from '../bench/resolved.ts';
import { renderTemplate } from '../bench/template.ts';
import { Collector, type AgentEndpoint, type PointRecording } from '../record/collector.ts';
import { startLocalAgents, type LocalAgents } from '../record/local.ts';
import type { Hello, ProbeSettings, RunReply, Selector } from '../record/protocol.ts';
import type { MetricValue } from '../store/records.ts';
import { writeSeriesParquet } from '../store/parquet.ts';
import { processStartTime } from '../workloads/proctree.ts';
import type { LiveProcess } from '../workloads/workload.ts';

export class RunRecorder {
  private pointT0 = 0;

  private constructor(
    readonly collector: Collector,
    private readonly local: LocalAgents | undefined,
    private readonly probes: ProbeSettings,
    readonly hellos: Record<string, Hello>,
  ) {}

  /** Starts local agents and connects to every agent; throws naming the one that cannot be used. */
  static async start(r: Recording, setDir: string, onProcess: (p: LiveProcess) => void): Promise<RunRecorder> {
    const localRoles = r.agents.filter((a) => a.url === undefined).map((a) => a.role);
    const local = localRoles.length > 0 ? await startLocalAgents(localRoles, { allowCommands: r.allowCommands, logPath: join(setDir, 'agents.log') }) : undefined;
    for (const pid of local?.pids ?? []) {
      const st = processStartTime(pid);
      if (st !== undefined) onProcess({ pid, startTime: st });
    }
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
      return rec;
    } catch (e) {
      await local?.stop();
      throw e;
    }
  }

  private custom: NonNullable<Recording['probes']['custom']> = [];

  /** The URL and token of a role's agent, when there is one. */
  agent(role: string): AgentEndpoint | undefined {
    return this.collector.endpoint(role);
  }

  /** Role names of the run's agents. */
  get roles(): string[] {
    return this.collector.roles;
  }

  async beginPoint(id: string): Promise<void> {
    this.pointT0 = monoMs();
    // Custom probes run on the agent of their role (the first one when none is named).
    await this.collector.startPoint(id, (role) => {
      const mine = this.custom.filter((c) => (c.on ?? this.roles[0]) === role).map(({ name, argv, format, intervalMs }) => ({ name, argv, format, intervalMs }));
      return mine.length > 0 ? { ...this.probes, custom: mine } : this.probes;
    });
  }

  /** Watches a process on a role's machine (unknown roles go to the first agent, e.g. `local`). */
  watch(role: string, selector: Selector): Promise<void> {
    return this.collector.watch(this.roles.includes(role) ? role : this.roles[0]!, [selector]);
  }

  /** Stops the point's session and writes samples.parquet and events.parquet into `dir`. */
  async endPoint(dir: string, window?: { fromMs: number; toMs: number }): Promise<{ metrics: Record<string, MetricValue>; flags: string[] }> {
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
    const summarized = window ? { ...rec, samples: rec.samples.filter((s) => s.t >= window.fromMs && s.t <= window.toMs) } : rec;
    return { metrics: summarize(summarized, wallS), flags: rec.gaps.map((g) => `recording gap: ${g}`) };
  }

  /** Runs a hook on its role's machine through the agent; the reply goes to the hooks log. */
  async runHook(h: ResolvedHook, values: Readonly<Record<string, unknown>>): Promise<{ reply?: RunReply; argv: string[]; error?: string }> {
    const argv = h.argv.map((a) => renderTemplate(a, values));
    const env = Object.fromEntries(Object.entries(h.env).map(([k, v]) => [k, renderTemplate(v, values)]));
    try {
      return { argv, reply: await this.collector.run(h.on!, { argv, timeoutS: h.timeoutS, env }) };
    } catch (e) {
      return { argv, error: (e as Error).message };
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

/** Per role: mean system CPU and peak memory, per watched process mean CPU and peak RSS (over the samples given), the agent's own CPU over the point and its clock uncertainty. */
export function summarize(rec: PointRecording, wallS: number): Record<string, MetricValue> {
  const acc = new Map<string, { sum: number; n: number; max: number }>();
  for (const s of rec.samples) {
    const k = `${s.role}\u0000${s.name}`;
    const a = acc.get(k) ?? { sum: 0, n: 0, max: -Infinity };
    a.sum += s.value;
    a.n++;
    a.max = Math.max(a.max, s.value);
    acc.set(k, a);
  }
  const out: Record<string, MetricValue> = {};
  const r3 = (x: number) => Number(x.toFixed(3));
  for (const [k, a] of acc) {
    const [role, name] = k.split('\u0000') as [string, string];
    if (name === 'cpu.busy_pct') out[`${role}.sys.cpu_pct`] = r3(a.sum / a.n);
    else if (name === 'mem.used_mb') out[`${role}.sys.mem_used_mb`] = r3(a.max);
    else if (/^proc\.[^.]+\.cpu_pct$/.test(name)) out[`${role}.${name}`] = r3(a.sum / a.n);
    else if (/^proc\.[^.]+\.rss_mb$/.test(name)) out[`${role}.${name}`] = r3(a.max);
    else if (/^gpu\./.test(name) && /(util|busy)/.test(name)) out[`${role}.${name}`] = r3(a.sum / a.n);
  }
  for (const [role, a] of Object.entries(rec.agents)) {
    out[`${role}.agent.cpu_pct`] = wallS > 0 ? r3((a.agentCpuS / wallS) * 100) : 0;
    out[`${role}.clock.uncertainty_ms`] = r3(a.uncertaintyMs);
  }
  out['recording.gaps'] = rec.gaps.length;
  return out;
}
