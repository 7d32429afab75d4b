/**
 * Resources of a child process tree, read from /proc: CPU, RSS, peak RSS, process count. Built on
 * the probes' /proc readers (src/record/procfs.ts), so both parse /proc/<pid>/stat one way.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { listPids, pageBytes, parsePidStat, readChildren, readText, USER_HZ, type PidStat } from '../record/procfs.ts';

const PROC = '/proc';

function readStat(proc: string, pid: number): PidStat | undefined {
  const text = readText(`${proc}/${pid}/stat`);
  return text === undefined ? undefined : parsePidStat(text);
}

/** CPU seconds of all children this process has reaped, from /proc/self/stat cutime+cstime (fields 16,17, in clock ticks; USER_HZ = 100 on Linux). */
export function reapedChildrenCpu(): { user: number; system: number } {
  const text = readText(`${PROC}/self/stat`);
  if (text === undefined) throw new Error(`${PROC}/self/stat cannot be read: is /proc mounted?`);
  const s = parsePidStat(text);
  return { user: s.cutime / USER_HZ, system: s.cstime / USER_HZ };
}

/** Process start time (field 22 of /proc/<pid>/stat) so a recorded pid can later be told apart from a reused one; undefined if no such process. */
export function processStartTime(pid: number): number | undefined {
  return readStat(PROC, pid)?.startTime;
}

/** Pids of the live members (zombies left out) of process group `pgid` that started at or after `minStart`. */
export function groupMembers(pgid: number, minStart = 0, proc = PROC): number[] {
  const out: number[] = [];
  for (const pid of listPids(proc)) {
    const s = readStat(proc, pid);
    if (s && s.pgrp === pgid && s.state !== 'Z' && s.startTime >= minStart) out.push(s.pid);
  }
  return out;
}

/**
 * Whether the process group registered as led by `pid`, started at `startTime`, is still that
 * group and has a live member, so that signalling it reaches that group only. With its leader
 * still there (alive, or a zombie nobody reaped), the start time must match. With its leader gone,
 * the members it left still hold the group id (Linux gives no new process an id that a live group
 * uses), so they are that group's.
 */
export function groupAlive(pid: number, startTime: number, proc = PROC): boolean {
  const leader = readStat(proc, pid);
  if (leader && leader.startTime !== startTime) return false;
  if (leader && leader.state !== 'Z') return true;
  return groupMembers(pid, startTime, proc).length > 0;
}

export interface TreeSample {
  /** Seconds, monotonic: performance.now() / 1000. */
  t: number;
  nprocs: number;
  rssBytes: number;
  /** Cumulative seconds of the live tree, including each live process's own reaped children (utime+cutime). */
  cpuUser: number;
  /** Same as cpuUser for system time (stime+cstime). */
  cpuSystem: number;
  /** Max VmHWM over the tree's processes. */
  maxHwmBytes: number;
}

/** Whether the kernel has /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN), per procfs mount. */
const childrenFiles = new Map<string, boolean>();

function hasChildrenFiles(proc: string): boolean {
  let has = childrenFiles.get(proc);
  if (has === undefined) {
    // Asked of our own thread, which cannot vanish, so a race never decides it.
    has = existsSync(`${proc}/thread-self/children`);
    childrenFiles.set(proc, has);
  }
  return has;
}

/** Stats of the root and all its live descendants, root first; undefined when the root is gone. */
function treeStats(proc: string, rootPid: number): PidStat[] | undefined {
  if (hasChildrenFiles(proc)) {
    const root = readStat(proc, rootPid);
    if (!root) return undefined;
    const out = [root];
    // A pid reused mid-walk could otherwise close a loop.
    const seen = new Set([rootPid]);
    // out grows while it is walked: a breadth-first walk of the tree.
    for (let i = 0; i < out.length; i++) {
      const pid = out[i]!.pid;
      // Undefined: the process went away since it was listed, so it has no children to follow.
      for (const child of readChildren(proc, pid) ?? []) {
        if (seen.has(child)) continue;
        seen.add(child);
        const s = readStat(proc, child);
        if (s) out.push(s);
      }
    }
    return out;
  }
  // No children files: read every process's stat once and follow ppid links.
  const byParent = new Map<number, PidStat[]>();
  let root: PidStat | undefined;
  for (const pid of listPids(proc)) {
    const s = readStat(proc, pid);
    if (!s) continue;
    if (s.pid === rootPid) root = s;
    const siblings = byParent.get(s.ppid);
    if (siblings) siblings.push(s);
    else byParent.set(s.ppid, [s]);
  }
  if (!root) return undefined;
  const out = [root];
  // Stats are read one by one, not atomically: a pid reused meanwhile could otherwise close a loop.
  const seen = new Set([rootPid]);
  for (let i = 0; i < out.length; i++) {
    for (const s of byParent.get(out[i]!.pid) ?? []) {
      if (seen.has(s.pid)) continue;
      seen.add(s.pid);
      out.push(s);
    }
  }
  return out;
}

function vmHwmBytes(proc: string, pid: number): number {
  const text = readText(`${proc}/${pid}/status`);
  if (!text) return 0;
  const at = text.indexOf('VmHWM:');
  // Zombies and kernel threads have no memory map, hence no VmHWM line.
  return at < 0 ? 0 : parseInt(text.slice(at + 6), 10) * 1024;
}

/** Samples the tree rooted at `rootPid` (descendants found through /proc/<pid>/task/<tid>/children when present, else by following the ppid of every /proc/<pid>/stat). Returns undefined once the root is gone. `proc` is for tests. */
export function sampleTree(rootPid: number, proc = PROC): TreeSample | undefined {
  const stats = treeStats(proc, rootPid);
  if (!stats) return undefined;
  let rssPages = 0;
  let user = 0;
  let system = 0;
  let maxHwm = 0;
  for (const s of stats) {
    rssPages += s.rssPages;
    user += s.utime + s.cutime;
    system += s.stime + s.cstime;
    maxHwm = Math.max(maxHwm, vmHwmBytes(proc, s.pid));
  }
  return {
    t: performance.now() / 1000,
    nprocs: stats.length,
    rssBytes: rssPages * pageBytes(),
    cpuUser: user / USER_HZ,
    cpuSystem: system / USER_HZ,
    maxHwmBytes: maxHwm,
  };
}

/** Periodic sampler: call start(), then stop() returns all samples; keeps the peak of rssBytes and of maxHwmBytes. Ticks at 5 ms, doubling up to intervalMs (unref'd timers). */
export class TreeSampler {
  private readonly samples: TreeSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private error: unknown;
  private peakRss = 0;
  private peakHwm = 0;
  private stopped = false;

  constructor(
    private readonly rootPid: number,
    private readonly intervalMs: number,
  ) {}

  get peakRssBytes(): number {
    return this.peakRss;
  }

  get peakHwmBytes(): number {
    return this.peakHwm;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.tick();
    // Short programs would be over before the first regular tick, so the gaps start at 5 ms and
    // double up to the interval: peak memory of a 50 ms program is still seen.
    const next = (delay: number) => {
      if (this.stopped) return;
      // unref: a sampler must never be what keeps the process alive.
      this.timer = setTimeout(() => {
        this.tick();
        next(Math.min(delay * 2, this.intervalMs));
      }, delay).unref();
    };
    next(Math.min(5, this.intervalMs));
  }

  /** Stops sampling and returns the samples; throws an unexpected /proc read error seen while sampling. */
  stop(): TreeSample[] {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the /proc read threw
    if (this.error !== undefined) throw this.error;
    return this.samples;
  }

  private tick(): void {
    try {
      const s = sampleTree(this.rootPid);
      if (!s) return;
      this.samples.push(s);
      this.peakRss = Math.max(this.peakRss, s.rssBytes);
      this.peakHwm = Math.max(this.peakHwm, s.maxHwmBytes);
    } catch (e) {
      // Thrown from a timer it would crash the process; kept for stop() to report instead.
      this.error ??= e;
      this.stopped = true;
      clearTimeout(this.timer);
    }
  }
}
