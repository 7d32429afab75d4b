/** The probes an agent runs, built from its probe settings. */
import type { Probe } from '../probe.ts';
import { CpuProbe } from './cpu.ts';
import { CpuFreqProbe } from './cpufreq.ts';
import { CommandProbe } from './custom.ts';
import { gpuProbes } from './gpu/index.ts';
import { MemProbe } from './mem.ts';
import { NetProbe } from './net.ts';
import { ProcessProbe, type Selector } from './proc.ts';

export type { Probe } from '../probe.ts';
export { CpuProbe, parseProcStat, type CpuProbeOptions } from './cpu.ts';
export { CpuFreqProbe, parseCpuinfoMhz, type CpuFreqProbeOptions } from './cpufreq.ts';
export { CommandProbe, parseJsonLines, parsePrometheusText, type CommandProbeOptions } from './custom.ts';
export { AmdGpuProbe, IntelGpuProbe, NvidiaProbe, parseIntelGpuTopJson, parseNvidiaDmon, parseNvidiaSmiCsv, type IntelGpuSample, type NvidiaDmonRow, type NvidiaGpuRow } from './gpu/index.ts';
export { MemProbe, parseMeminfo, type MemProbeOptions } from './mem.ts';
export { NetProbe, parseNetDev, type NetProbeOptions } from './net.ts';
export { ProcessProbe, type ProcessProbeOptions, type Selector } from './proc.ts';

/** One custom command probe's settings. */
export interface CustomProbeConfig {
  name: string;
  argv: string[];
  format: 'jsonl' | 'prometheus';
  intervalMs: number;
  timeoutMs?: number;
}

/** Which probes to run and how often (numbers are intervals in ms; false turns a default probe off). */
export interface ProbeConfig {
  /** Default 100 ms. */
  cpu?: number | false;
  /** Default 100 ms. */
  mem?: number | false;
  /** Default 100 ms, all interfaces. */
  net?: number | false | { intervalMs: number; interfaces?: string[] };
  /** Default 1000 ms; left out where the machine exposes no frequencies. */
  cpufreq?: number | false;
  /** Only when given: processes have to be named. */
  proc?: { intervalMs: number; select: Selector[]; rescanMs?: number };
  /** Default 1000 ms, one probe per vendor whose tool or driver is present. */
  gpu?: number | false;
  custom?: CustomProbeConfig[];
}

function interval(v: number | false | undefined, dflt: number): number | undefined {
  return v === false ? undefined : (v ?? dflt);
}

/**
 * The probes of a configuration, the process probe first (so `const [proc] = createProbes({ proc })`
 * picks it), then cpu, mem, net, cpufreq, the GPUs and the custom commands. Probes with nothing to
 * report on this machine (no cpufreq, no GPU of a vendor) are left out.
 */
export function createProbes(config: ProbeConfig): Probe[] {
  const out: Probe[] = [];
  if (config.proc) out.push(new ProcessProbe({ intervalMs: config.proc.intervalMs, select: config.proc.select, ...(config.proc.rescanMs !== undefined ? { rescanMs: config.proc.rescanMs } : {}) }));
  const cpu = interval(config.cpu, 100);
  if (cpu !== undefined) out.push(new CpuProbe({ intervalMs: cpu }));
  const mem = interval(config.mem, 100);
  if (mem !== undefined) out.push(new MemProbe({ intervalMs: mem }));
  const net = config.net;
  if (typeof net === 'object') out.push(new NetProbe({ intervalMs: net.intervalMs, ...(net.interfaces ? { interfaces: net.interfaces } : {}) }));
  else {
    const ms = interval(net, 100);
    if (ms !== undefined) out.push(new NetProbe({ intervalMs: ms }));
  }
  const freq = interval(config.cpufreq, 1000);
  if (freq !== undefined) {
    const p = new CpuFreqProbe({ intervalMs: freq });
    if (p.available) out.push(p);
  }
  const gpu = interval(config.gpu, 1000);
  if (gpu !== undefined) {
    out.push(...gpuProbes(gpu));
  }
  for (const c of config.custom ?? []) out.push(new CommandProbe(c));
  return out;
}
