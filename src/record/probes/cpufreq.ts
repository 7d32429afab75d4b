/**
 * Core clock frequencies, in MHz: cpufreq's scaling_cur_freq (kHz) of each core in sysfs, or,
 * where cpufreq is absent (most VMs and containers), the "cpu MHz" lines of /proc/cpuinfo (x86
 * only). With neither, the probe reports nothing and says so with `available`.
 */
import type { Probe } from '../probe.ts';
import { listDir, readText } from '../procfs.ts';

/** The "cpu MHz" of each processor block of /proc/cpuinfo, by its "processor" number (offline cores leave gaps). */
export function parseCpuinfoMhz(text: string): { cpu: number; mhz: number }[] {
  const out: { cpu: number; mhz: number }[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const cpu = /^processor\s*:\s*(\d+)/m.exec(block);
    const mhz = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(block);
    if (cpu && mhz) out.push({ cpu: Number(cpu[1]), mhz: Number(mhz[1]) });
  }
  return out;
}

/** Options of CpuFreqProbe; the roots are for tests. */
export interface CpuFreqProbeOptions {
  intervalMs?: number;
  sysRoot?: string;
  procRoot?: string;
}

/** cpufreq.cpu<N>.mhz per core and cpufreq.{mean,min,max}_mhz. */
export class CpuFreqProbe implements Probe {
  readonly name = 'cpufreq';
  readonly intervalMs: number;
  /** Where the figures come from, decided once at construction. */
  readonly source: 'sysfs' | 'cpuinfo' | 'none';
  private readonly files: { core: string; path: string }[] = [];
  private readonly cpuinfo: string;

  constructor(opts: CpuFreqProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    const cpuDir = `${opts.sysRoot ?? '/sys'}/devices/system/cpu`;
    this.cpuinfo = `${opts.procRoot ?? '/proc'}/cpuinfo`;
    const cores = listDir(cpuDir)
      .filter((n) => /^cpu\d+$/.test(n))
      .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
    for (const core of cores) {
      const path = `${cpuDir}/${core}/cpufreq/scaling_cur_freq`;
      if (readText(path) !== undefined) this.files.push({ core, path });
    }
    if (this.files.length > 0) this.source = 'sysfs';
    else if (parseCpuinfoMhz(readText(this.cpuinfo) ?? '').length > 0) this.source = 'cpuinfo';
    else this.source = 'none';
  }

  /** Whether this machine exposes core frequencies at all. */
  get available(): boolean {
    return this.source !== 'none';
  }

  /** The current frequencies; an empty record where none is exposed. */
  sample(_nowMs: number): Record<string, number> {
    const mhz: [string, number][] = [];
    if (this.source === 'sysfs') {
      for (const f of this.files) {
        // An offline core has no readable cpufreq node until it comes back.
        const khz = Number(readText(f.path));
        if (Number.isFinite(khz) && khz > 0) mhz.push([f.core, khz / 1000]);
      }
    } else if (this.source === 'cpuinfo') {
      for (const c of parseCpuinfoMhz(readText(this.cpuinfo) ?? '')) mhz.push([`cpu${c.cpu}`, c.mhz]);
    }
    const out: Record<string, number> = {};
    if (mhz.length === 0) return out;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const [core, v] of mhz) {
      out[`cpufreq.${core}.mhz`] = v;
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    out['cpufreq.mean_mhz'] = sum / mhz.length;
    out['cpufreq.min_mhz'] = min;
    out['cpufreq.max_mhz'] = max;
    return out;
  }
}
