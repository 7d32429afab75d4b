/**
 * GPU probes, one file per vendor: NVIDIA (nvidia.ts) and Intel (intel.ts) through their vendors'
 * tools run as long-lived children (common.ts), AMD (amd.ts) through amdgpu's sysfs files.
 */
import type { Probe } from '../../probe.ts';
import { AmdGpuProbe } from './amd.ts';
import { IntelGpuProbe } from './intel.ts';
import { NvidiaProbe } from './nvidia.ts';

export { AmdGpuProbe, type AmdGpuProbeOptions } from './amd.ts';
export { which, type ToolProbeOptions } from './common.ts';
export { IntelGpuProbe, intelSample, intelValues, JsonObjectStream, parseIntelGpuTopJson, type IntelGpuSample } from './intel.ts';
export { NVIDIA_QUERY_FIELDS, nvidiaCsvValues, NvidiaDmonParser, nvidiaDmonValues, NvidiaProbe, parseNvidiaDmon, parseNvidiaSmiCsv, type NvidiaDmonRow, type NvidiaGpuRow } from './nvidia.ts';

/** The probe of each GPU vendor whose tool or driver this machine has (none, one, or several), sampling every `intervalMs`. */
export function gpuProbes(intervalMs: number): Probe[] {
  // Every vendor is asked: a machine can hold an integrated Intel GPU beside a discrete card.
  return [new NvidiaProbe({ intervalMs }), new IntelGpuProbe({ intervalMs }), new AmdGpuProbe({ intervalMs })].filter((p) => p.available);
}
