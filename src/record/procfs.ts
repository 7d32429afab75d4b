/**
 * Cheap readers of /proc and /sys for the probes. An agent samples at 10 Hz and must stay under
 * half a percent of a core, so files are read into one reused buffer with raw syscalls (about half
 * the cost of readFileSync, which also stats and allocates per call), the files read at every
 * sample are kept open (OpenFile), and numbers are parsed in place (scanInts).
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

/**
 * Reads an open /proc or /sys file from offset 0 to its end into the shared buffer; the byte
 * count. pread at explicit offsets: a seq_file (most of /proc) regenerates its text on a read at
 * 0. A seq_file or sysfs read fills the buffer as far as the text goes, so a read that leaves
 * room is the end and no second read (a syscall) is spent to find an empty one.
 */
function readFrom0(fd: number): number {
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const room = buf.length - len;
    const n = readSync(fd, buf, len, room, len);
    len += n;
    if (n < room) return len;
  }
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
    return buf.toString('latin1', 0, readFrom0(fd));
  } catch (e) {
    // A process that exits while its file is open makes read fail with ESRCH.
    if (isGone(e)) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * A /proc or /sys file kept open and read again from offset 0 each time: opening (a path walk,
 * for /proc/<pid> also a pid lookup and a fresh inode) is most of the cost of reading a small
 * /proc file, and a 10 Hz agent reads the same few files all day. An open /proc/<pid> file stays
 * bound to its process: once that process is gone it fails (ESRCH) even if the pid is reused,
 * and read() then returns undefined for good.
 */
export class OpenFile {
  private fd: number | undefined;
  private gone = false;

  constructor(readonly path: string) {}

  /** The file's current text, or undefined when it does not exist or its process is gone. */
  read(): string | undefined {
    if (this.gone) return undefined;
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch (e) {
        if (isGone(e)) return undefined;
        throw e;
      }
    }
    try {
      return buf.toString('latin1', 0, readFrom0(this.fd));
    } catch (e) {
      if (!isGone(e)) throw e;
      this.gone = true;
      this.close();
      return undefined;
    }
  }

  /** Releases the descriptor; a later read() opens the path again (unless the process was gone). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Parses the whitespace-separated integers of text[from, to) into `out` (emptied first), at most
 * `max` of them, without a substring per field: the /proc files sampled at 10 Hz are mostly
 * integers, and split() would allocate a string for each. A token that is not an integer gives NaN.
 */
export function scanInts(text: string, from: number, to: number, out: number[], max = Infinity): number[] {
  out.length = 0;
  to = Math.min(to, text.length);
  let i = from;
  while (i < to && out.length < max) {
    let c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10) {
      i++;
      continue;
    }
    let neg = false;
    if (c === 45 /* - */) {
      neg = true;
      c = text.charCodeAt(++i);
    }
    let v = 0;
    let ok = i < to;
    while (i < to) {
      c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10) break;
      if (c < 48 || c > 57) ok = false;
      else v = v * 10 + (c - 48);
      i++;
    }
    out.push(ok ? (neg ? -v : v) : NaN);
  }
  return out;
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
  /** Process group id. */
  pgrp: number;
  utime: number;
  stime: number;
  /** CPU of the children it has reaped (waited for), in clock ticks. */
  cutime: number;
  cstime: number;
  numThreads: number;
  /** Field 22, in clock ticks since boot: with the pid, it names one process even after pid reuse. */
  startTime: number;
  rssPages: number;
}

const statFields: number[] = [];

/** Parses a /proc/<pid>/stat line; comm may hold spaces and ')', so fields are counted after the last ')'. */
export function parsePidStat(line: string): PidStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open || close + 3 > line.length) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  // Field 3 (state) is the character after ") "; f[0] is then field 4, so field n is f[n - 4].
  const f = scanInts(line, close + 4, line.length, statFields, 21);
  const num = (n: number): number => {
    const v = f[n - 4];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${n} is not a number: ${line.slice(0, 80)}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open)),
    comm: line.slice(open + 1, close),
    state: line[close + 2] ?? '?',
    ppid: num(4),
    pgrp: num(5),
    utime: num(14),
    stime: num(15),
    cutime: num(16),
    cstime: num(17),
    numThreads: num(20),
    startTime: num(22),
    rssPages: num(24),
  };
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
