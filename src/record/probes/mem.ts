/**
 * Machine memory from /proc/meminfo, in MB (MiB, like free -m). "Used" is total minus available:
 * the kernel's MemAvailable already counts reclaimable page cache as available, so used is what
 * applications hold and a file read does not inflate it. In a container these are the host's
 * figures unless something like lxcfs stands in for /proc/meminfo.
 */
import type { Probe } from '../probe.ts';
import { readText } from '../procfs.ts';

/** The /proc/meminfo fields (in kB, as the file states them) by name. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const v = parseInt(line.slice(colon + 1), 10);
    if (Number.isFinite(v)) out.set(line.slice(0, colon), v);
  }
  return out;
}

/** Options of MemProbe; `procRoot` is for tests. */
export interface MemProbeOptions {
  intervalMs?: number;
  procRoot?: string;
}

/** mem.total_mb, available_mb, used_mb (total - available), used_pct, free_mb, cached_mb, buffers_mb, swap_total_mb, swap_used_mb. */
export class MemProbe implements Probe {
  readonly name = 'mem';
  readonly intervalMs: number;
  private readonly procRoot: string;

  constructor(opts: MemProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /** All gauges: memory has no rates. */
  sample(_nowMs: number): Record<string, number> {
    const text = readText(`${this.procRoot}/meminfo`);
    if (text === undefined) throw new Error(`${this.procRoot}/meminfo is missing`);
    const m = parseMeminfo(text);
    const kb = (k: string): number => m.get(k) ?? 0;
    const total = kb('MemTotal');
    // MemAvailable exists since Linux 3.14; before it, free + buffers + page cache is the usual stand-in.
    const available = m.get('MemAvailable') ?? kb('MemFree') + kb('Buffers') + kb('Cached');
    const mb = (k: number): number => k / 1024;
    const out: Record<string, number> = {
      'mem.total_mb': mb(total),
      'mem.available_mb': mb(available),
      'mem.used_mb': mb(total - available),
      'mem.free_mb': mb(kb('MemFree')),
      'mem.cached_mb': mb(kb('Cached')),
      'mem.buffers_mb': mb(kb('Buffers')),
      'mem.swap_total_mb': mb(kb('SwapTotal')),
      'mem.swap_used_mb': mb(kb('SwapTotal') - kb('SwapFree')),
    };
    if (total > 0) out['mem.used_pct'] = ((total - available) / total) * 100;
    return out;
  }
}
