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
import { OpenFile, putRate, scanInts } from '../procfs.ts';

/** The jiffy counters of one "cpu" line of /proc/stat that the percentages are made of. */
interface CpuTimes {
  user: number;
  system: number;
  iowait: number;
  steal: number;
  idle: number;
  total: number;
}

const fields: number[] = [];

/**
 * Parses the numbers of one "cpuN ..." line: user nice system idle iowait irq softirq steal guest
 * guest_nice. guest and guest_nice are already counted in user and nice, so the total leaves them out.
 */
function parseCpuLine(text: string, from: number, to: number): CpuTimes {
  const f = scanInts(text, from, to, fields, 8);
  const v = (i: number): number => f[i] || 0;
  const user = v(0) + v(1);
  const system = v(2) + v(5) + v(6);
  const idle = v(3);
  const iowait = v(4);
  const steal = v(7);
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

/** Parses the text of /proc/stat, line by line in place: the long intr and softirq lines are never copied. */
export function parseProcStat(text: string): ProcStatSnapshot {
  let all: CpuTimes | undefined;
  const cores = new Map<string, CpuTimes>();
  let ctxt: number | undefined;
  let procsRunning: number | undefined;
  let procsBlocked: number | undefined;
  const scalar = (from: number, to: number): number => scanInts(text, from, to, fields, 1)[0] ?? NaN;
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (text.startsWith('cpu', at)) {
      const sp = text.indexOf(' ', at);
      if (sp === at + 3) all = parseCpuLine(text, sp, end);
      else if (sp > at && sp < end) cores.set(text.slice(at, sp), parseCpuLine(text, sp, end));
    } else if (text.startsWith('ctxt ', at)) ctxt = scalar(at + 5, end);
    else if (text.startsWith('procs_running ', at)) procsRunning = scalar(at + 14, end);
    else if (text.startsWith('procs_blocked ', at)) procsBlocked = scalar(at + 14, end);
    at = end + 1;
  }
  if (!all) throw new Error('/proc/stat has no "cpu" line');
  return { all, cores, ctxt, procsRunning, procsBlocked };
}

/** The output names of one cpu line's percentages (cpu3.user_pct, ...). */
type PctNames = Record<'user' | 'system' | 'iowait' | 'steal' | 'idle' | 'busy', string>;

/**
 * Percentages of one interval: each category's share of the interval's jiffies, times `scale`
 * (1 for a core, the number of cores for the whole machine). The categories sum to 100 x scale.
 */
function putPercents(out: Record<string, number>, keys: PctNames, now: CpuTimes, prev: CpuTimes, scale: number): void {
  const dt = now.total - prev.total;
  // No tick accounted on this line in the interval (or a reset, after CPU hotplug): nothing to say.
  if (dt <= 0) return;
  // iowait may step backwards on tickless idle CPUs; clamped, so no category goes negative.
  const d = (a: number, b: number): number => Math.max(0, a - b);
  const pct = (jiffies: number): number => Math.min(1, jiffies / dt) * 100 * scale;
  const user = d(now.user, prev.user);
  const system = d(now.system, prev.system);
  out[keys.user] = pct(user);
  out[keys.system] = pct(system);
  out[keys.iowait] = pct(d(now.iowait, prev.iowait));
  out[keys.steal] = pct(d(now.steal, prev.steal));
  out[keys.idle] = pct(d(now.idle, prev.idle));
  // Busy is what ran: user + system (irq, softirq included). iowait is idle time, and steal is time
  // another guest of the hypervisor had the core: neither is work done here. Summed in jiffies, so
  // a fully busy core reads exactly 100.
  out[keys.busy] = pct(user + system);
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
  private readonly stat: OpenFile;
  private readonly loadavg: OpenFile;
  /** Output names per core, made once: a 10 Hz probe should not rebuild the same strings. */
  private readonly keys = new Map<string, PctNames>();
  private prev: ProcStatSnapshot | undefined;
  private prevMs = 0;
  private load: number[] = [];
  private loadMs = -Infinity;

  constructor(opts: CpuProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.perCore = opts.perCore ?? true;
    const proc = opts.procRoot ?? '/proc';
    this.stat = new OpenFile(`${proc}/stat`);
    this.loadavg = new OpenFile(`${proc}/loadavg`);
  }

  /** Gauges on every call; the percentages and rates from the second call on. */
  sample(nowMs: number): Record<string, number> {
    const text = this.stat.read();
    if (text === undefined) throw new Error(`${this.stat.path} is missing`);
    const snap = parseProcStat(text);
    const out: Record<string, number> = {};
    const cores = snap.cores.size;
    out['cpu.cores'] = cores;
    if (snap.procsRunning !== undefined) out['cpu.procs_running'] = snap.procsRunning;
    if (snap.procsBlocked !== undefined) out['cpu.procs_blocked'] = snap.procsBlocked;
    const prev = this.prev;
    if (prev) {
      putPercents(out, this.keysOf('cpu'), snap.all, prev.all, cores);
      const busy = out['cpu.busy_pct'];
      if (busy !== undefined && cores > 0) out['cpu.busy_norm_pct'] = busy / cores;
      if (snap.ctxt !== undefined) putRate(out, 'cpu.ctxt_per_s', snap.ctxt, prev.ctxt, (nowMs - this.prevMs) / 1000);
      if (this.perCore) {
        for (const [name, now] of snap.cores) {
          const before = prev.cores.get(name);
          // A core brought online since the last call has no previous counters yet.
          if (before) putPercents(out, this.keysOf(name), now, before, 1);
        }
      }
    }
    // The kernel recomputes the load averages every 5 s: once a second is reading them often enough.
    if (nowMs - this.loadMs >= 1000) {
      this.loadMs = nowMs;
      this.load = (this.loadavg.read() ?? '').split(' ', 3).map(Number);
    }
    const [l1, l5, l15] = this.load;
    if (Number.isFinite(l1)) out['load.1'] = l1!;
    if (Number.isFinite(l5)) out['load.5'] = l5!;
    if (Number.isFinite(l15)) out['load.15'] = l15!;
    this.prev = snap;
    this.prevMs = nowMs;
    return out;
  }

  /** Releases the open /proc files. */
  close(): void {
    this.stat.close();
    this.loadavg.close();
  }

  private keysOf(prefix: string): PctNames {
    let k = this.keys.get(prefix);
    if (!k) {
      k = { user: `${prefix}.user_pct`, system: `${prefix}.system_pct`, iowait: `${prefix}.iowait_pct`, steal: `${prefix}.steal_pct`, idle: `${prefix}.idle_pct`, busy: `${prefix}.busy_pct` };
      this.keys.set(prefix, k);
    }
    return k;
  }
}
