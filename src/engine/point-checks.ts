/**
 * What the engine checks about every point, whatever its workload: whether a machine of the
 * point was saturated, lent its CPUs to other guests (steal), changed its core clock, or carried
 * an agent that weighed on it; where the roles ran (one machine per boot id); and the point's
 * time base. The thresholds are src/config/conditions.ts's; the samples are the recording
 * agents' where an agent sits on the machine, else the engine's own (MachineWatch).
 */
import { cpus, hostname } from 'node:os';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { machineIdentity } from '../base/machine.ts';
import { CONDITION_DOCS, CONDITION_THRESHOLDS } from '../config/conditions.ts';
import type { PointRecording } from '../record/collector.ts';
import { CpuProbe } from '../record/probes/cpu.ts';
import { CpuFreqProbe } from '../record/probes/cpufreq.ts';
import type { Hello } from '../record/protocol.ts';
import { TimeBase } from '../record/timebase.ts';
import type { Condition, MetricValue, Placement, PointConditions } from '../store/records.ts';
import type { PointResult, RolePlacement } from '../workloads/workload.ts';
import type { RunRecorder } from './recorder.ts';

/** A machine's CPU over a point, on the point's base clock: busy and steal in percent of one core (0..100 x cores). */
export interface MachineSeries {
  t: number[];
  busyPct: number[];
  stealPct: number[];
  /** Mean core clock, MHz, with its own times (sampled less often); empty where not exposed. */
  mhzT: number[];
  mhz: number[];
  cores: number;
  /** Whose samples: 'agent <role>' or 'engine'. */
  source: string;
}

/** How often the engine samples its own machine when no agent does. */
const WATCH_MS = 250;

/**
 * The engine's own sampling of its machine (/proc/stat, core clocks) during a point: the check
 * of saturation when recording is off. A timer in the engine's process, costing one read of
 * /proc/stat per tick.
 */
export class MachineWatch {
  private readonly cpu = new CpuProbe({ perCore: false });
  private readonly freq = new CpuFreqProbe();
  private readonly s: MachineSeries = { t: [], busyPct: [], stealPct: [], mhzT: [], mhz: [], cores: cpus().length, source: 'engine' };
  private timer: NodeJS.Timeout | undefined;
  private lastFreq = -Infinity;
  error: string | undefined;

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), WATCH_MS);
    this.timer.unref();
  }

  private tick(): void {
    const t = monoMs();
    try {
      const v = this.cpu.sample(t);
      if (v['cpu.cores'] !== undefined) this.s.cores = v['cpu.cores'];
      // The first reading is the baseline the next one is a difference from: its time is kept
      // (NaN for the value) so that the first value covers the interval since it. Without it a
      // short watch (the pre-run check's 0.2 s, shorter than a tick) had one value and said nothing.
      if (v['cpu.busy_pct'] !== undefined || this.s.t.length === 0) {
        this.s.t.push(t);
        this.s.busyPct.push(v['cpu.busy_pct'] ?? NaN);
        this.s.stealPct.push(v['cpu.steal_pct'] ?? NaN);
      }
      if (this.freq.available && t - this.lastFreq >= 1000) {
        this.lastFreq = t;
        const f = this.freq.sample(t)['cpufreq.mean_mhz'];
        if (f !== undefined) {
          this.s.mhzT.push(t);
          this.s.mhz.push(f);
        }
      }
    } catch (e) {
      this.error ??= errorMessage(e);
    }
  }

  /** Stops sampling (one last sample) and returns the series. */
  stop(): MachineSeries {
    if (this.timer) {
      clearInterval(this.timer);
      this.tick();
    }
    this.timer = undefined;
    this.cpu.close();
    return this.s;
  }
}

/** Each machine's series from the agents' samples: the first agent of each machine (by boot id). */
export function agentMachineSeries(rec: PointRecording, hellos: Record<string, Hello>): Map<string, MachineSeries> {
  const out = new Map<string, MachineSeries>();
  for (const [role, h] of Object.entries(hellos)) {
    const id = h.facts.bootId ?? `host:${h.facts.hostname}`;
    if (out.has(id)) continue;
    const s: MachineSeries = { t: [], busyPct: [], stealPct: [], mhzT: [], mhz: [], cores: h.facts.cores, source: `agent ${role}` };
    const steal = new Map<number, number>();
    for (const x of rec.samples) {
      if (x.role !== role) continue;
      if (x.name === 'cpu.busy_pct') {
        s.t.push(x.t);
        s.busyPct.push(x.value);
      } else if (x.name === 'cpu.steal_pct') steal.set(x.t, x.value);
      else if (x.name === 'cpufreq.mean_mhz') {
        s.mhzT.push(x.t);
        s.mhz.push(x.value);
      } else if (x.name === 'cpu.cores') s.cores = x.value;
    }
    s.stealPct = s.t.map((t) => steal.get(t) ?? 0);
    if (s.t.length > 0) out.set(id, s);
  }
  return out;
}

/** Where each role ran: this machine unless the placement put it elsewhere (then its agent's machine, or the node's name). */
export function pointPlacement(roles: readonly string[], o: { placement?: RolePlacement; hellos?: Record<string, Hello>; nodes?: Record<string, string>; cpus?: Record<string, number[]> }): Placement {
  const me = machineIdentity();
  const machines: Placement['machines'] = [];
  const index = (m: Placement['machines'][number]) => {
    const key = (x: Placement['machines'][number]) => x.bootId ?? `host:${x.hostname}`;
    let i = machines.findIndex((x) => key(x) === key(m));
    if (i < 0) i = machines.push(m) - 1;
    return i;
  };
  const here = { hostname: hostname(), bootId: me.bootId ?? null, cores: cpus().length };
  const out: Placement = { roles: {}, machines };
  for (const role of roles) {
    if (!o.placement?.remote(role)) {
      out.roles[role] = index(here);
      continue;
    }
    const f = o.hellos?.[role]?.facts;
    out.roles[role] = f ? index({ hostname: f.hostname, bootId: f.bootId ?? null, cores: f.cores }) : index({ hostname: o.nodes?.[role] ?? o.placement.address(role), bootId: null, cores: 0 });
  }
  if (o.cpus && Object.keys(o.cpus).length > 0) out.cpus = o.cpus;
  return out;
}

/** The share of [from, to] during which the series was at or above `level` (each sample stands for the interval since the one before). */
export function shareAtOrAbove(t: readonly number[], v: readonly number[], level: number, from: number, to: number): number {
  let busy = 0;
  let total = 0;
  for (let i = 1; i < t.length; i++) {
    const a = Math.max(t[i - 1]!, from);
    const b = Math.min(t[i]!, to);
    if (b <= a) continue;
    total += b - a;
    if (v[i]! >= level) busy += b - a;
  }
  return total > 0 ? busy / total : NaN;
}

/** The mean of a rate series over [from, to], each sample weighted by the part of its interval inside. */
function meanOver(t: readonly number[], v: readonly number[], from: number, to: number): number {
  let sum = 0;
  let total = 0;
  for (let i = 1; i < t.length; i++) {
    const a = Math.max(t[i - 1]!, from);
    const b = Math.min(t[i]!, to);
    if (b <= a) continue;
    total += b - a;
    sum += v[i]! * (b - a);
  }
  return total > 0 ? sum / total : NaN;
}

/**
 * The machine-level conditions of a point: saturation, steal and core clock per machine of the
 * placement (from its series; a machine without one is not checked, and says why), the agents'
 * own CPU, and roles sharing a machine.
 */
export function machineConditions(input: {
  placement: Placement;
  /** Series by machine: the key of pointPlacement's machines (boot id, or `host:<name>`). */
  series: Map<string, MachineSeries>;
  /** The recorded window on the series' clock; absent: the whole of each series. */
  window?: { fromMs: number; toMs: number };
  metrics: Record<string, MetricValue>;
  recordingOff: boolean;
}): PointConditions {
  const T = CONDITION_THRESHOLDS;
  const found: Condition[] = [];
  const checked = new Set<string>();
  const notChecked: PointConditions['notChecked'] = [];
  const add = (code: Condition['code'], reason: string) => found.push({ code, severity: CONDITION_DOCS[code].severity, reason });
  const { placement } = input;
  placement.machines.forEach((m, i) => {
    const roles = Object.entries(placement.roles)
      .filter(([, j]) => j === i)
      .map(([r]) => r);
    const name = `${m.hostname} (${roles.join(', ')})`;
    const s = input.series.get(m.bootId ?? `host:${m.hostname}`);
    if (!s || s.t.length < 2) {
      const why = input.recordingOff ? 'recording is off, and the machine is not the one that ran the point' : 'no CPU samples of it (no agent with the cpu probe there)';
      for (const c of ['saturated', 'cpu_steal']) notChecked.push({ check: `${c} on ${name}`, why });
      return;
    }
    const from = input.window?.fromMs ?? s.t[0]!;
    const to = input.window?.toMs ?? s.t.at(-1)!;
    const cores = s.cores > 0 ? s.cores : m.cores;
    checked.add('saturated');
    const share = shareAtOrAbove(s.t, s.busyPct, T.busyShare * 100 * cores, from, to);
    if (share >= T.busyTimeShare) {
      add('saturated', `${name} was busy on at least ${T.busyShare * 100} % of its ${cores} cores for ${(share * 100).toFixed(0)} % of the window (from ${s.source}'s samples): its CPU figures measure contention`);
    }
    checked.add('cpu_steal');
    const steal = meanOver(s.t, s.stealPct, from, to) / cores;
    if (steal > T.stealPct) add('cpu_steal', `${name} lost ${steal.toFixed(1)} % of its CPU time to steal (above ${T.stealPct} %)`);
    const inW = s.mhz.filter((_, k) => s.mhzT[k]! >= from && s.mhzT[k]! <= to);
    if (inW.length >= 2) {
      checked.add('cpu_frequency_changed');
      const lo = Math.min(...inW);
      const hi = Math.max(...inW);
      if (hi > 0 && ((hi - lo) / hi) * 100 > T.frequencyChangePct) add('cpu_frequency_changed', `the mean core clock of ${name} moved from ${lo.toFixed(0)} to ${hi.toFixed(0)} MHz in the window (more than ${T.frequencyChangePct} %)`);
    } else notChecked.push({ check: `cpu_frequency_changed on ${name}`, why: s.mhz.length === 0 ? 'the machine exposes no core clock' : 'fewer than two core clock readings in the window' });
  });
  const agents = Object.entries(input.metrics).filter(([k, v]) => k.endsWith('.agent.cpu_pct') && typeof v === 'number');
  if (agents.length > 0) {
    checked.add('agent_cpu');
    for (const [k, v] of agents) if ((v as number) > T.agentCpuPct) add('agent_cpu', `the recording agent of ${k.slice(0, -'.agent.cpu_pct'.length)} used ${v as number} % of a core (above ${T.agentCpuPct} %)`);
  } else notChecked.push({ check: 'agent_cpu', why: 'no recording agent' });
  checked.add('roles_share_machine');
  const shared = placement.machines
    .map((m, i) => ({
      m,
      roles: Object.entries(placement.roles)
        .filter(([, j]) => j === i)
        .map(([r]) => r),
    }))
    .filter((x) => x.roles.length > 1);
  for (const x of shared)
    add(
      'roles_share_machine',
      `${x.roles.join(', ')} ran on one machine (${x.m.hostname}, ${x.m.cores} cores)${
        placement.cpus
          ? `, pinned ${Object.entries(placement.cpus)
              .map(([r, c]) => `${r} to CPU ${c.join(',')}`)
              .join(', ')}`
          : ''
      }`,
    );
  return { checked: [...checked], notChecked, found, placement };
}

/** The workload's own conditions and the engine's, as one record. */
export function mergeConditions(engine: PointConditions, workload: PointResult['conditions']): PointConditions {
  if (!workload) return engine;
  return { checked: [...engine.checked, ...workload.checked], notChecked: [...engine.notChecked, ...workload.notChecked], found: [...workload.found, ...engine.found], ...(engine.placement ? { placement: engine.placement } : {}) };
}

/**
 * The time base a workload gets: through the recorder when there is one (remote roles on their
 * agents' clocks), else every role on this clock, and a remote role without an agent unknown.
 */
export function timeBaseFor(recorder: RunRecorder | undefined, originMs: number, placement?: RolePlacement): (roles: readonly string[]) => Promise<TimeBase> {
  return async (roles) => {
    if (recorder) return recorder.timeBase(roles, (r) => placement?.remote(r) ?? false);
    return new TimeBase(originMs, Object.fromEntries(roles.map((r) => [r, placement?.remote(r) ? { kind: 'unknown' as const, why: `role ${r} runs on another machine, and recording is off: no agent is there to measure its clock` } : { kind: 'same' as const }])));
  };
}

/**
 * Everything a point checked about itself, once its workload and recording are done: the
 * placement of `roles`, the machines' conditions from the agents' samples (or the engine's own
 * watch of its machine) over the recorded window, and the workload's own conditions.
 */
export function pointConditions(o: { roles: readonly string[]; result: PointResult; recording?: { rec: PointRecording; hellos: Record<string, Hello> }; watch?: MachineSeries; placement?: RolePlacement; nodes?: Record<string, string> }): PointConditions {
  const placement = pointPlacement(o.roles, { ...(o.placement ? { placement: o.placement } : {}), ...(o.recording ? { hellos: o.recording.hellos } : {}), ...(o.nodes ? { nodes: o.nodes } : {}), ...(o.result.pinned ? { cpus: o.result.pinned } : {}) });
  const series = o.recording ? agentMachineSeries(o.recording.rec, o.recording.hellos) : new Map<string, MachineSeries>();
  if (o.watch) {
    const me = machineIdentity();
    series.set(me.bootId ?? `host:${hostname()}`, o.watch);
  }
  const engine = machineConditions({ placement, series, ...(o.result.window ? { window: o.result.window } : {}), metrics: o.result.metrics, recordingOff: !o.recording });
  return mergeConditions(engine, o.result.conditions);
}

/**
 * The machine's conditions before a run starts: sampling begins now and `finish` reads it at
 * least `minMs` later (two /proc/stat readings that far apart: the kernel counts in 10 ms ticks),
 * giving a warning per condition that would flag the points run now (already busy, CPU steal).
 * Empty when all is well.
 */
export function preRunCheck(minMs = 200): { finish(): Promise<string[]> } {
  const w = new MachineWatch();
  const t0 = monoMs();
  w.start();
  return {
    async finish(): Promise<string[]> {
      const wait = minMs - (monoMs() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = w.stop();
      if (w.error || s.t.length < 2) return [`the machine's load could not be read before the run: ${w.error ?? 'fewer than two readings of /proc/stat'}`];
      const T = CONDITION_THRESHOLDS;
      const from = s.t[0]!;
      const to = s.t.at(-1)!;
      const busy = meanOver(s.t, s.busyPct, from, to);
      const steal = meanOver(s.t, s.stealPct, from, to) / s.cores;
      const out: string[] = [];
      if (busy >= T.busyShare * 100 * s.cores)
        out.push(`this machine is already busy before the run: ${busy.toFixed(0)} % of ${s.cores} cores over the last ${((to - from) / 1000).toFixed(1)} s; points run now will likely be flagged saturated (their CPU figures would measure contention)`);
      if (steal > T.stealPct) out.push(`this machine loses ${steal.toFixed(1)} % of its CPU time to steal (a virtual machine sharing its host): points run now will likely be flagged cpu_steal`);
      return out;
    },
  };
}
