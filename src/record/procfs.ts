/**
 * Cheap readers of /proc and /sys for the probes. An agent samples at 10 Hz and must stay far
 * under 1 % of a core, so files are read with one reused buffer and raw open/read/close, about
 * half the cost of readFileSync (which stats and allocates per call).
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';

/** Clock ticks per second of the times in /proc/stat and /proc/<pid>/stat (USER_HZ: fixed at 100 by the Linux ABI, whatever CONFIG_HZ is). */
export const USER_HZ = 100;

/** Bytes in the MB (MiB) every probe reports, as free -m and top do. */
export const MB = 1024 * 1024;

let buf = Buffer.allocUnsafe(64 * 1024);

/** Whether an fs error only means the file's process or device went away between listing and reading. */
function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENODEV' || code === 'ENXIO';
}

/** A /proc or /sys file's text (latin1), or undefined when it does not exist or its process is gone. */
export function readText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
  try {
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      // Position null: procfs files are read sequentially; a seq_file may hand out less than asked.
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    return buf.toString('latin1', 0, len);
  } catch (e) {
    // A process that exits while its file is open makes read fail with ESRCH.
    if (isGone(e)) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** Names in a directory, or [] when it does not exist (a process gone, a sysfs node absent). */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (e) {
    if (isGone(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}

/** Pids of all processes visible in `procRoot`, from its numeric entries. */
export function listPids(procRoot: string): number[] {
  const out: number[] = [];
  for (const name of listDir(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/** The fields of one /proc/<pid>/stat line that the probes use; times in clock ticks, rss in pages. */
export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  numThreads: number;
  /** Field 22, in clock ticks since boot: with the pid, it names one process even after pid reuse. */
  startTime: number;
  rssPages: number;
}

/** Parses a /proc/<pid>/stat line; comm may hold spaces and ')', so fields are counted after the last ')'. */
export function parsePidStat(line: string): PidStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  // f[0] is field 3 (state), so field n of proc(5) is f[n - 3].
  const f = line.slice(close + 2).split(' ');
  const num = (n: number): number => {
    const v = Number(f[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${n} is not a number: ${line.slice(0, 80)}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open)),
    comm: line.slice(open + 1, close),
    state: f[0] ?? '?',
    ppid: num(4),
    utime: num(14),
    stime: num(15),
    numThreads: num(20),
    startTime: num(22),
    rssPages: num(24),
  };
}

/** /proc/<pid>/stat of one process, or undefined when it is gone. */
export function readPidStat(procRoot: string, pid: number): PidStat | undefined {
  const text = readText(`${procRoot}/${pid}/stat`);
  return text === undefined ? undefined : parsePidStat(text);
}

/** /proc/<pid>/cmdline with its NUL separators turned into spaces (trailing NUL dropped); '' for kernel threads and zombies. */
export function readCmdline(procRoot: string, pid: number): string | undefined {
  const text = readText(`${procRoot}/${pid}/cmdline`);
  if (text === undefined) return undefined;
  const trimmed = text.endsWith('\0') ? text.slice(0, -1) : text;
  return trimmed.replaceAll('\0', ' ');
}

/** The cgroup paths of a process, one per hierarchy line ("id:controllers:path" in /proc/<pid>/cgroup). */
export function readCgroupPaths(procRoot: string, pid: number): string[] | undefined {
  const text = readText(`${procRoot}/${pid}/cgroup`);
  if (text === undefined) return undefined;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // The path is everything after the second ':' (controller lists have none, paths may).
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b >= 0) out.push(line.slice(b + 1));
  }
  return out;
}

/**
 * Pids of the live children of a process, from /proc/<pid>/task/<tid>/children (one file per
 * thread, each listing the children that thread forked), or undefined when the kernel lacks those
 * files (CONFIG_PROC_CHILDREN).
 */
export function readChildren(procRoot: string, pid: number): number[] | undefined {
  const tids = listDir(`${procRoot}/${pid}/task`);
  const out: number[] = [];
  let any = false;
  for (const tid of tids) {
    const text = readText(`${procRoot}/${pid}/task/${tid}/children`);
    if (text === undefined) continue;
    any = true;
    for (const c of text.split(' ')) {
      // The list ends in a space, so the last piece is empty (Number('') is 0).
      const child = Number(c);
      if (child > 0) out.push(child);
    }
  }
  // A process with no task directory is gone; one whose tasks have no children file means no support.
  return any || tids.length === 0 ? out : undefined;
}

let pageSize: number | undefined;

/**
 * Bytes per page of the rss field of /proc/<pid>/stat, a property of the running kernel. Linux
 * has no file that states it, and getconf would be a spawn: it is derived once from our own
 * VmRSS (kB, /proc/self/status) over resident pages (/proc/self/statm), rounded to a power of two,
 * which tells 4 KiB from 16 and 64 KiB pages even though the two files are read a moment apart.
 */
export function pageBytes(): number {
  if (pageSize !== undefined) return pageSize;
  const status = readText('/proc/self/status') ?? '';
  const statm = readText('/proc/self/statm') ?? '';
  const at = status.indexOf('VmRSS:');
  const rssKb = at < 0 ? NaN : parseInt(status.slice(at + 6), 10);
  const pages = Number(statm.split(' ')[1]);
  const ratio = (rssKb * 1024) / pages;
  pageSize = Number.isFinite(ratio) && ratio > 0 ? 2 ** Math.round(Math.log2(ratio)) : 4096;
  return pageSize;
}

/** Sets the per-interval rate of a counter, or nothing when the counter went backwards (reset, wrap, interface re-created). */
export function putRate(out: Record<string, number>, key: string, now: number, prev: number | undefined, dtS: number): void {
  if (prev === undefined || dtS <= 0) return;
  const d = now - prev;
  if (d >= 0) out[key] = d / dtS;
}
