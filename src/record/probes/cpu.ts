/**
 * Machine CPU use from /proc/stat, for the whole machine and per core, plus /proc/loadavg.
 *
 * Convention (the one of top's per-process column and of pidstat): every percentage is a percent
 * of ONE core. A per-core value (`cpu3.busy_pct`) is therefore within 0..100, and a whole-machine
 * value (`cpu.busy_pct`, the "cpu" line) within 0..100 x cores: 150 means one and a half cores
 * busy. `cpu.busy_norm_pct` gives the whole machine's busy share within 0..100 for those who want
 * the share of all cores (top's summary line). In a container these are the host's figures:
 * /proc/stat is not namespaced.
 */
import type { Probe } from '../probe.ts';
import { putRate, readText } from '../procfs.ts';

/** The jiffy counters of one "cpu" line of /proc/stat that the percentages are made of. */
interface CpuTimes {
  user: number;
  system: number;
  iowait: number;
  steal: number;
  idle: number;
  total: number;
}

/**
 * Parses one "cpuN ..." line: user nice system idle iowait irq softirq steal guest guest_nice.
 * guest and guest_nice are already counted in user and nice, so the total leaves them out.
 */
function parseCpuLine(fields: string[]): CpuTimes {
  const v = (i: number): number => Number(fields[i] ?? 0) || 0;
  const user = v(1) + v(2);
  const system = v(3) + v(6) + v(7);
  const idle = v(4);
  const iowait = v(5);
  const steal = v(8);
  return { user, system, iowait, steal, idle, total: user + system + idle + iowait + steal };
}

/** What one read of /proc/stat holds: the "cpu" line, each "cpuN" line by name, and the scalar counters. */
export interface ProcStatSnapshot {
  all: CpuTimes;
  cores: Map<string, CpuTimes>;
  ctxt: number | undefined;
  procsRunning: number | undefined;
  procsBlocked: number | undefined;
}

/** Parses the text of /proc/stat. */
export function parseProcStat(text: string): ProcStatSnapshot {
  let all: CpuTimes | undefined;
  const cores = new Map<string, CpuTimes>();
  let ctxt: number | undefined;
  let procsRunning: number | undefined;
  let procsBlocked: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu')) {
      const fields = line.split(/\s+/);
      const name = fields[0]!;
      if (name === 'cpu') all = parseCpuLine(fields);
      else cores.set(name, parseCpuLine(fields));
    } else if (line.startsWith('ctxt ')) ctxt = Number(line.slice(5));
    else if (line.startsWith('procs_running ')) procsRunning = Number(line.slice(14));
    else if (line.startsWith('procs_blocked ')) procsBlocked = Number(line.slice(14));
  }
  if (!all) throw new Error('/proc/stat has no "cpu" line');
  return { all, cores, ctxt, procsRunning, procsBlocked };
}

/**
 * Percentages of one interval: each category's share of the interval's jiffies, times `scale`
 * (1 for a core, the number of cores for the whole machine). The categories sum to 100 x scale.
 */
function putPercents(out: Record<string, number>, prefix: string, now: CpuTimes, prev: CpuTimes, scale: number): void {
  const dt = now.total - prev.total;
  // No tick accounted on this line in the interval (or a reset, after CPU hotplug): nothing to say.
  if (dt <= 0) return;
  // iowait may step backwards on tickless idle CPUs; clamped, so no category goes negative.
  const pct = (a: number, b: number): number => (Math.max(0, a - b) / dt) * 100 * scale;
  const user = pct(now.user, prev.user);
  const system = pct(now.system, prev.system);
  const iowait = pct(now.iowait, prev.iowait);
  const steal = pct(now.steal, prev.steal);
  out[`${prefix}.user_pct`] = user;
  out[`${prefix}.system_pct`] = system;
  out[`${prefix}.iowait_pct`] = iowait;
  out[`${prefix}.steal_pct`] = steal;
  out[`${prefix}.idle_pct`] = pct(now.idle, prev.idle);
  // Busy is what ran: user + system (irq, softirq included). iowait is idle time, and steal is time
  // another guest of the hypervisor had the core: neither is work done here.
  out[`${prefix}.busy_pct`] = user + system;
}

/** Options of CpuProbe; `procRoot` is for tests. */
export interface CpuProbeOptions {
  intervalMs?: number;
  /** Per-core values (cpu0.*, cpu1.*, ...); default true. */
  perCore?: boolean;
  procRoot?: string;
}

/**
 * Whole-machine and per-core CPU percentages (user = user+nice, system = system+irq+softirq,
 * iowait, steal, idle, busy = user+system), all in percent of one core; `cpu.cores`, the load
 * averages, the context switch rate and the run queue.
 */
export class CpuProbe implements Probe {
  readonly name = 'cpu';
  readonly intervalMs: number;
  private readonly perCore: boolean;
  private readonly procRoot: string;
  private prev: ProcStatSnapshot | undefined;
  private prevMs = 0;

  constructor(opts: CpuProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.perCore = opts.perCore ?? true;
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /** Gauges on every call; the percentages and rates from the second call on. */
  sample(nowMs: number): Record<string, number> {
    const text = readText(`${this.procRoot}/stat`);
    if (text === undefined) throw new Error(`${this.procRoot}/stat is missing`);
    const snap = parseProcStat(text);
    const out: Record<string, number> = {};
    const cores = snap.cores.size;
    out['cpu.cores'] = cores;
    if (snap.procsRunning !== undefined) out['cpu.procs_running'] = snap.procsRunning;
    if (snap.procsBlocked !== undefined) out['cpu.procs_blocked'] = snap.procsBlocked;
    const prev = this.prev;
    if (prev) {
      putPercents(out, 'cpu', snap.all, prev.all, cores);
      const busy = out['cpu.busy_pct'];
      if (busy !== undefined && cores > 0) out['cpu.busy_norm_pct'] = busy / cores;
      if (snap.ctxt !== undefined) putRate(out, 'cpu.ctxt_per_s', snap.ctxt, prev.ctxt, (nowMs - this.prevMs) / 1000);
      if (this.perCore) {
        for (const [name, now] of snap.cores) {
          const before = prev.cores.get(name);
          // A core brought online since the last call has no previous counters yet.
          if (before) putPercents(out, name, now, before, 1);
        }
      }
    }
    const load = readText(`${this.procRoot}/loadavg`);
    if (load !== undefined) {
      const [l1, l5, l15] = load.split(' ').map(Number);
      if (Number.isFinite(l1)) out['load.1'] = l1!;
      if (Number.isFinite(l5)) out['load.5'] = l5!;
      if (Number.isFinite(l15)) out['load.15'] = l15!;
    }
    this.prev = snap;
    this.prevMs = nowMs;
    return out;
  }
}
