/**
 * CPU, memory and threads of chosen processes, each selection under its own label.
 *
 * Selection. A selector names processes by `pid` (with `tree: true`, the pid and all its live
 * descendants), `name` (comm, exact), `cmdline` (a regex on /proc/<pid>/cmdline, arguments joined
 * by spaces) or `cgroup` (a substring of one of the paths of /proc/<pid>/cgroup); several of them
 * in one selector must all hold. The selection is re-resolved as processes come and go, at a cost
 * that fits a 10 Hz agent:
 * - a plain pid costs one read of /proc/<pid>/stat per sample;
 * - name, cmdline and cgroup need every process of the machine, so /proc is scanned at most once
 *   per `rescanMs` (default 1 s) and the matched pids are reused in between (each one still read
 *   every sample, and dropped as soon as it exits or its pid is reused). A process that starts
 *   matching is thus picked up within one rescan period;
 * - a tree is walked (through /proc/<pid>/task/<tid>/children, or the ppid of every process when
 *   the kernel lacks those files) at the same rescan period, for the same reason.
 * The command line is cached per (pid, start time, comm) so a rescan reads it only for new
 * processes; comm is in the key because exec changes the command line but neither the pid nor the
 * start time, and a process younger than one second is not cached yet (between fork and exec it
 * still shows its parent's command line).
 *
 * CPU accounting. cpu_pct = (utime + stime) of the selected processes over the interval, in
 * percent of ONE core (a process using two cores fully reads 200), from per-process deltas of
 * /proc/<pid>/stat (10 ms ticks: a single 100 ms interval is only good to about +-10 points; the
 * average over many is exact). A process counts from its first sighting: its first sample only
 * records its counters, and what it ran before that (at most one interval, or one rescan period
 * for scan-found processes) is not counted. A process that exited before a sample contributes
 * nothing to that last interval (its final counters are gone with it), nor does a zombie: a
 * process shorter than an interval is not seen at all. rss_mb, threads and procs are sums over the
 * live (non-zombie) selected processes at the sample.
 */
import type { Probe } from '../probe.ts';
import {
  listPids,
  MB,
  pageBytes,
  readCgroupPaths,
  readChildren,
  readCmdline,
  readPidStat,
  readText,
  USER_HZ,
  type PidStat,
} from '../procfs.ts';

/** One labelled selection of processes; at least one of pid, name, cmdline, cgroup; all given ones must hold. */
export interface Selector {
  /** The name's middle part: proc.<label>.cpu_pct. */
  label: string;
  pid?: number;
  /** With pid: the process and all its descendants. */
  tree?: boolean;
  /** comm, exact; the kernel keeps only its first 15 characters, so a longer name is compared by those. */
  name?: string;
  /** Regex tested against the command line, its arguments joined by single spaces. */
  cmdline?: string | RegExp;
  /** Substring of a cgroup path of the process (any hierarchy's line of /proc/<pid>/cgroup). */
  cgroup?: string;
}

/** Options of ProcessProbe; `procRoot` is for tests. */
export interface ProcessProbeOptions {
  intervalMs?: number;
  select: Selector[];
  /** Least time between two scans of /proc (name, cmdline, cgroup) or walks of a tree; default 1000 ms. */
  rescanMs?: number;
  procRoot?: string;
}

/** The kernel's comm length limit (TASK_COMM_LEN 16, NUL included). */
const COMM_MAX = 15;

interface Compiled {
  label: string;
  pid: number | undefined;
  tree: boolean;
  name: string | undefined;
  cmdline: RegExp | undefined;
  cgroup: string | undefined;
}

/** A selected process as resolved: its pid and the start time that tells it from a later process reusing the pid. */
interface Member {
  pid: number;
  startTime: number;
}

interface CachedCmdline {
  startTime: number;
  comm: string;
  cmdline: string;
}

function compile(s: Selector): Compiled {
  if (!s.label) throw new Error('a process selector needs a label');
  if (s.pid === undefined && s.name === undefined && s.cmdline === undefined && s.cgroup === undefined) {
    throw new Error(`process selector '${s.label}' needs one of pid, name, cmdline, cgroup`);
  }
  if (s.tree && s.pid === undefined) throw new Error(`process selector '${s.label}': tree needs a pid`);
  return {
    label: s.label,
    pid: s.pid,
    tree: s.tree ?? false,
    name: s.name === undefined ? undefined : s.name.slice(0, COMM_MAX),
    // Without g and y, test() keeps no lastIndex from one process to the next.
    cmdline: s.cmdline === undefined ? undefined : new RegExp(s.cmdline, typeof s.cmdline === 'string' ? '' : s.cmdline.flags.replace(/[gy]/g, '')),
    cgroup: s.cgroup,
  };
}

/** proc.<label>.{cpu_pct, user_pct, system_pct} (from the second call on) and proc.<label>.{rss_mb, threads, procs}. */
export class ProcessProbe implements Probe {
  readonly name = 'proc';
  readonly intervalMs: number;
  private readonly sels: Compiled[];
  private readonly rescanMs: number;
  private readonly procRoot: string;
  private lastRescanMs = -Infinity;
  private readonly members = new Map<string, Member[]>();
  /** The start time of each pid selector's process at its first sighting: a later different one is a reused pid. */
  private readonly rootStart = new Map<string, number>();
  private readonly cmdlines = new Map<number, CachedCmdline>();
  private prevTimes = new Map<number, { startTime: number; utime: number; stime: number }>();
  private prevMs: number | undefined;
  private readonly lastPids = new Map<string, number[]>();

  constructor(opts: ProcessProbeOptions) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.rescanMs = opts.rescanMs ?? 1000;
    this.procRoot = opts.procRoot ?? '/proc';
    this.sels = opts.select.map(compile);
    const labels = new Set<string>();
    for (const s of this.sels) {
      if (labels.has(s.label)) throw new Error(`process selector label '${s.label}' is used twice`);
      labels.add(s.label);
    }
  }

  /** The pids counted under `label` at the last sample (live, non-zombie). */
  pids(label: string): number[] {
    return this.lastPids.get(label) ?? [];
  }

  /** Resolves the selections (rescanning when due), reads each selected process once, sums per label. */
  sample(nowMs: number): Record<string, number> {
    const proc = this.procRoot;
    // One read of each process's stat per sample, however many selectors name it.
    const stats = new Map<number, PidStat | undefined>();
    const stat = (pid: number): PidStat | undefined => {
      if (!stats.has(pid)) stats.set(pid, readPidStat(proc, pid));
      return stats.get(pid);
    };
    const rescan = nowMs - this.lastRescanMs >= this.rescanMs;
    if (rescan) this.lastRescanMs = nowMs;
    let scanned: PidStat[] | undefined;
    const scan = (): PidStat[] => {
      if (!scanned) {
        scanned = [];
        for (const pid of listPids(proc)) {
          const s = stat(pid);
          if (s) scanned.push(s);
        }
      }
      return scanned;
    };
    let uptimeTicks: number | undefined;
    const uptime = (): number => (uptimeTicks ??= Number((readText(`${proc}/uptime`) ?? '0').split(' ')[0]) * USER_HZ);

    for (const sel of this.sels) {
      const cached = this.members.get(sel.label);
      let members: Member[];
      if (sel.pid !== undefined && !sel.tree) members = this.root(sel, stat);
      else if (!rescan && cached) members = cached;
      else if (sel.pid !== undefined) members = this.tree(sel, stat, scan);
      else members = scan().map((s) => ({ pid: s.pid, startTime: s.startTime }));
      if (members !== cached && (sel.name !== undefined || sel.cmdline || sel.cgroup !== undefined)) {
        members = members.filter((m) => {
          const s = stat(m.pid);
          return s !== undefined && s.startTime === m.startTime && this.matches(sel, s, uptime);
        });
      }
      this.members.set(sel.label, members);
    }
    if (scanned) {
      // Cached command lines of processes no longer there would pile up (and their pids get reused).
      const live = new Set(scanned.map((s) => s.pid));
      for (const pid of this.cmdlines.keys()) if (!live.has(pid)) this.cmdlines.delete(pid);
    }

    const out: Record<string, number> = {};
    const dtS = this.prevMs === undefined ? 0 : (nowMs - this.prevMs) / 1000;
    const nextTimes = new Map<number, { startTime: number; utime: number; stime: number }>();
    const page = pageBytes();
    for (const sel of this.sels) {
      let utime = 0;
      let stime = 0;
      let rssPages = 0;
      let threads = 0;
      const pids: number[] = [];
      for (const m of this.members.get(sel.label) ?? []) {
        const s = stat(m.pid);
        // Gone, or the pid now belongs to another process: the selected one has exited.
        if (!s || s.startTime !== m.startTime || s.state === 'Z' || s.state === 'X') continue;
        pids.push(s.pid);
        rssPages += s.rssPages;
        threads += s.numThreads;
        nextTimes.set(s.pid, { startTime: s.startTime, utime: s.utime, stime: s.stime });
        const p = this.prevTimes.get(s.pid);
        if (p && p.startTime === s.startTime) {
          // utime and stime are each scaled from the precise runtime and may step back by a tick.
          utime += Math.max(0, s.utime - p.utime);
          stime += Math.max(0, s.stime - p.stime);
        }
      }
      const k = `proc.${sel.label}`;
      if (dtS > 0) {
        const pct = (ticks: number): number => (ticks * 100) / (USER_HZ * dtS);
        out[`${k}.cpu_pct`] = pct(utime + stime);
        out[`${k}.user_pct`] = pct(utime);
        out[`${k}.system_pct`] = pct(stime);
      }
      out[`${k}.rss_mb`] = (rssPages * page) / MB;
      out[`${k}.threads`] = threads;
      out[`${k}.procs`] = pids.length;
      this.lastPids.set(sel.label, pids);
    }
    this.prevTimes = nextTimes;
    this.prevMs = nowMs;
    return out;
  }

  /** The pid selector's own process, or nothing once it is gone or its pid was reused. */
  private root(sel: Compiled, stat: (pid: number) => PidStat | undefined): Member[] {
    const s = stat(sel.pid!);
    if (!s) return [];
    const pinned = this.rootStart.get(sel.label);
    if (pinned === undefined) this.rootStart.set(sel.label, s.startTime);
    else if (pinned !== s.startTime) return [];
    return [{ pid: s.pid, startTime: s.startTime }];
  }

  /** The root and its live descendants, breadth first. */
  private tree(sel: Compiled, stat: (pid: number) => PidStat | undefined, scan: () => PidStat[]): Member[] {
    const out = this.root(sel, stat);
    if (out.length === 0) return out;
    // A pid reused mid-walk could otherwise close a loop.
    const seen = new Set([sel.pid!]);
    let byParent: Map<number, PidStat[]> | undefined;
    for (let i = 0; i < out.length; i++) {
      const pid = out[i]!.pid;
      let kids = readChildren(this.procRoot, pid);
      if (kids === undefined) {
        if (!byParent) {
          byParent = new Map();
          for (const s of scan()) {
            const list = byParent.get(s.ppid);
            if (list) list.push(s);
            else byParent.set(s.ppid, [s]);
          }
        }
        kids = (byParent.get(pid) ?? []).map((s) => s.pid);
      }
      for (const child of kids) {
        if (seen.has(child)) continue;
        seen.add(child);
        const s = stat(child);
        if (s) out.push({ pid: child, startTime: s.startTime });
      }
    }
    return out;
  }

  private matches(sel: Compiled, s: PidStat, uptimeTicks: () => number): boolean {
    if (sel.name !== undefined && s.comm !== sel.name) return false;
    if (sel.cgroup !== undefined) {
      // Read afresh at each rescan: a supervisor may move a process to its cgroup after it starts.
      const paths = readCgroupPaths(this.procRoot, s.pid);
      if (!paths || !paths.some((p) => p.includes(sel.cgroup!))) return false;
    }
    if (sel.cmdline) {
      const cmd = this.cmdline(s, uptimeTicks);
      if (cmd === undefined || !sel.cmdline.test(cmd)) return false;
    }
    return true;
  }

  private cmdline(s: PidStat, uptimeTicks: () => number): string | undefined {
    const c = this.cmdlines.get(s.pid);
    if (c && c.startTime === s.startTime && c.comm === s.comm) return c.cmdline;
    const cmdline = readCmdline(this.procRoot, s.pid);
    if (cmdline === undefined) return undefined;
    if (uptimeTicks() - s.startTime >= USER_HZ) this.cmdlines.set(s.pid, { startTime: s.startTime, comm: s.comm, cmdline });
    else this.cmdlines.delete(s.pid);
    return cmdline;
  }
}
