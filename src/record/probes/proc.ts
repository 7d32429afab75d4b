/**
 * CPU, memory and threads of chosen processes, each selection under its own label.
 *
 * Selection. A selector names processes by `pid` (with `tree: true`, the pid and all its live
 * descendants), `name` (comm, exact), `cmdline` (a regex on /proc/<pid>/cmdline, arguments joined
 * by spaces) or `cgroup` (a substring of one of the paths of /proc/<pid>/cgroup); several of them
 * in one selector must all hold. The selection is re-resolved as processes come and go, at a cost
 * that fits a 10 Hz agent:
 * - a plain pid costs one read of /proc/<pid>/stat per sample (the file is kept open);
 * - name, cmdline and cgroup need every process of the machine, so /proc is rescanned at most
 *   once per `rescanMs` (default 1 s) and the matched pids are reused in between (each one still
 *   read every sample, and dropped as soon as it exits or its pid is reused). A process that
 *   starts matching is thus picked up within one rescan period;
 * - a tree is walked (through /proc/<pid>/task/<tid>/children, or the ppid of every process when
 *   the kernel lacks those files) at the same rescan period, for the same reason.
 * A rescan lists /proc but reads only what it does not know: a process's start time, comm, command
 * line and cgroups are kept per (pid, start time, comm) from its first sighting, and a pid listed
 * at two successive rescans is taken for the same process (reusing it in between would take the
 * whole pid space being cycled within a rescan period). Each known process's stat is read again
 * every 5 to 10 s (spread over the rescans), which notices an exec (it changes comm and command
 * line but neither the pid nor the start time) or a rename within that time; a process younger
 * than one second is read again at the next rescan, with its command line and cgroups, since
 * between fork and exec it still shows its parent's, and a supervisor may move it to its cgroup
 * just after starting it.
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
import { listPids, MB, OpenFile, pageBytes, parsePidStat, readCgroupPaths, readChildren, readCmdline, readText, USER_HZ, type PidStat } from '../procfs.ts';

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
  /** The output names, made once: a 10 Hz probe should not rebuild the same strings. */
  keys: { cpu: string; user: string; system: string; rss: string; threads: string; procs: string };
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

/** What the probe knows of a process between rescans, so that a rescan need not read it again. */
interface Known {
  startTime: number;
  comm: string;
  /** Read when a cmdline selector first asks. */
  cmdline: string | undefined;
  /** Read when a cgroup selector first asks. */
  cgroups: string[] | undefined;
  /** Under a second old when last read: its command line and cgroups may still change. */
  young: boolean;
  /** When a rescan reads its stat again (monotonic ms). */
  recheckMs: number;
}

/** How long a known process goes at most before a rescan reads its stat again (half of it at least). */
const RECHECK_MS = 10_000;

function compile(s: Selector): Compiled {
  if (!s.label) throw new Error('a process selector needs a label');
  if (s.pid === undefined && s.name === undefined && s.cmdline === undefined && s.cgroup === undefined) {
    throw new Error(`process selector '${s.label}' needs one of pid, name, cmdline, cgroup`);
  }
  if (s.tree && s.pid === undefined) throw new Error(`process selector '${s.label}': tree needs a pid`);
  const k = `proc.${s.label}`;
  return {
    label: s.label,
    keys: { cpu: `${k}.cpu_pct`, user: `${k}.user_pct`, system: `${k}.system_pct`, rss: `${k}.rss_mb`, threads: `${k}.threads`, procs: `${k}.procs` },
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
  /** By pid: every process listed at the last rescan, and the processes of pid selectors with criteria. */
  private known = new Map<number, Known>();
  private prevTimes = new Map<number, { startTime: number; utime: number; stime: number }>();
  /** /proc/<pid>/stat of each selected process, kept open between samples (scans read afresh). */
  private readonly files = new Map<number, OpenFile>();
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
      if (stats.has(pid)) return stats.get(pid);
      let text: string | undefined;
      const f = this.files.get(pid);
      if (f) {
        text = f.read();
        // Its process is gone; the pid may already name another one, which a fresh open finds.
        if (text === undefined) this.files.delete(pid);
      }
      text ??= readText(`${proc}/${pid}/stat`);
      const s = text === undefined ? undefined : parsePidStat(text);
      stats.set(pid, s);
      return s;
    };
    const rescan = nowMs - this.lastRescanMs >= this.rescanMs;
    if (rescan) this.lastRescanMs = nowMs;
    let uptimeTicks: number | undefined;
    const uptime = (): number => (uptimeTicks ??= Number((readText(`${proc}/uptime`) ?? '0').split(' ')[0]) * USER_HZ);
    let listed: Map<number, Known> | undefined;
    const list = (): Map<number, Known> => {
      if (!listed) {
        // Selected processes are read at every sample anyway: a rescan checks them for free.
        const selected = new Set<number>();
        for (const ms of this.members.values()) for (const m of ms) selected.add(m.pid);
        listed = this.relist(nowMs, stat, uptime, selected);
      }
      return listed;
    };

    for (const sel of this.sels) {
      const cached = this.members.get(sel.label);
      let members: Member[];
      if (sel.pid !== undefined && !sel.tree) members = this.root(sel, stat);
      else if (!rescan && cached) members = cached;
      else if (sel.pid !== undefined) members = this.tree(sel, stat);
      else {
        members = [];
        for (const [pid, k] of list()) if (this.matches(sel, pid, k)) members.push({ pid, startTime: k.startTime });
      }
      if (sel.pid !== undefined && members !== cached && (sel.name !== undefined || sel.cmdline || sel.cgroup !== undefined)) {
        members = members.filter((m) => {
          const s = stat(m.pid);
          return s !== undefined && s.startTime === m.startTime && this.matches(sel, m.pid, this.know(s, nowMs, uptime));
        });
      }
      this.members.set(sel.label, members);
    }
    if (rescan && !listed) {
      // No listing to prune by: keep what the pid selectors' processes need, and nothing else.
      const wanted = new Set<number>();
      for (const ms of this.members.values()) for (const m of ms) wanted.add(m.pid);
      for (const pid of this.known.keys()) if (!wanted.has(pid)) this.known.delete(pid);
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
          // The kernel keeps both monotonic (cputime_adjust); the clamp only guards against a
          // counter read from another process under the same pid and start time tick.
          utime += Math.max(0, s.utime - p.utime);
          stime += Math.max(0, s.stime - p.stime);
        }
      }
      const k = sel.keys;
      if (dtS > 0) {
        const pct = (ticks: number): number => (ticks * 100) / (USER_HZ * dtS);
        out[k.cpu] = pct(utime + stime);
        out[k.user] = pct(utime);
        out[k.system] = pct(stime);
      }
      out[k.rss] = (rssPages * page) / MB;
      out[k.threads] = threads;
      out[k.procs] = pids.length;
      this.lastPids.set(sel.label, pids);
    }
    // Keep open the stat files of the processes counted now, and only those.
    for (const pid of nextTimes.keys()) if (!this.files.has(pid)) this.files.set(pid, new OpenFile(`${proc}/${pid}/stat`));
    if (this.files.size > nextTimes.size) {
      for (const [pid, f] of this.files) {
        if (nextTimes.has(pid)) continue;
        f.close();
        this.files.delete(pid);
      }
    }
    this.prevTimes = nextTimes;
    this.prevMs = nowMs;
    return out;
  }

  /** Releases the open /proc files. */
  close(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
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
  private tree(sel: Compiled, stat: (pid: number) => PidStat | undefined): Member[] {
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
          // Every process's ppid: the one case that reads all of /proc (kernels without CONFIG_PROC_CHILDREN).
          byParent = new Map();
          for (const p of listPids(this.procRoot)) {
            const s = stat(p);
            if (!s) continue;
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

  /**
   * Lists /proc and brings `known` up to date: a pid not seen at the last rescan, due for a
   * recheck, or selected now has its stat read; a changed start time or comm makes it a new
   * process (nothing kept).
   */
  private relist(nowMs: number, stat: (pid: number) => PidStat | undefined, uptime: () => number, selected: Set<number>): Map<number, Known> {
    const next = new Map<number, Known>();
    for (const pid of listPids(this.procRoot)) {
      const k = this.known.get(pid);
      if (k && nowMs < k.recheckMs && !selected.has(pid)) next.set(pid, k);
      else {
        const s = stat(pid);
        if (s) next.set(pid, this.know(s, nowMs, uptime));
      }
    }
    this.known = next;
    return next;
  }

  /** The known record of a process just read, refreshed (or made anew when the pid is another process now). */
  private know(s: PidStat, nowMs: number, uptime: () => number): Known {
    let k = this.known.get(s.pid);
    if (!k || k.startTime !== s.startTime || k.comm !== s.comm || k.young) {
      k = { startTime: s.startTime, comm: s.comm, cmdline: undefined, cgroups: undefined, young: false, recheckMs: 0 };
      this.known.set(s.pid, k);
    }
    if (k.recheckMs <= nowMs) {
      k.young = uptime() - s.startTime < USER_HZ;
      // Spread over the rescans by pid, so the rechecks do not all fall on one of them.
      k.recheckMs = k.young ? nowMs : nowMs + RECHECK_MS / 2 + ((s.pid % 16) * RECHECK_MS) / 32;
    }
    return k;
  }

  private matches(sel: Compiled, pid: number, k: Known): boolean {
    if (sel.name !== undefined && k.comm !== sel.name) return false;
    if (sel.cgroup !== undefined) {
      k.cgroups ??= readCgroupPaths(this.procRoot, pid);
      if (!k.cgroups || !k.cgroups.some((p) => p.includes(sel.cgroup!))) return false;
    }
    if (sel.cmdline) {
      k.cmdline ??= readCmdline(this.procRoot, pid);
      if (k.cmdline === undefined || !sel.cmdline.test(k.cmdline)) return false;
    }
    return true;
  }
}
