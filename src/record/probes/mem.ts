/**
 * Machine memory from /proc/meminfo, in MB (MiB, like free -m). "Used" is total minus available:
 * the kernel's MemAvailable already counts reclaimable page cache as available, so used is what
 * applications hold and a file read does not inflate it. In a container these are the host's
 * figures unless something like lxcfs stands in for /proc/meminfo.
 */
import type { Probe } from '../probe.ts';
import { OpenFile } from '../procfs.ts';

/** The kB value of one /proc/meminfo field ("Name:   1234 kB"), or undefined when the file lacks it. */
function field(text: string, name: string): number | undefined {
  const key = `${name}:`;
  // Searched at a line start, so "Cached:" does not find "SwapCached:".
  const at = text.startsWith(key) ? 0 : text.indexOf(`\n${key}`) + 1;
  if (at === 0 && !text.startsWith(key)) return undefined;
  // parseInt skips the padding and stops at " kB"; the slice only bounds the copy.
  const v = parseInt(text.slice(at + key.length, at + key.length + 32), 10);
  return Number.isFinite(v) ? v : undefined;
}

/** The /proc/meminfo fields the probe uses, in kB as the file states them. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of ['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapTotal', 'SwapFree']) {
    const v = field(text, name);
    if (v !== undefined) out.set(name, v);
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
  private readonly meminfo: OpenFile;

  constructor(opts: MemProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.meminfo = new OpenFile(`${opts.procRoot ?? '/proc'}/meminfo`);
  }

  /** All gauges: memory has no rates. */
  sample(_nowMs: number): Record<string, number> {
    const text = this.meminfo.read();
    if (text === undefined) throw new Error(`${this.meminfo.path} is missing`);
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

  /** Releases the open /proc file. */
  close(): void {
    this.meminfo.close();
  }
}
