/**
 * What the recording agents add to every point, whatever the workload, declared once: the
 * summary figures the engine computes from their samples (src/engine/recorder.ts) and the
 * sample names of each probe (src/record/probes), as `samples.name` holds them.
 */
import type { MetricDecl } from './declare.ts';

const sum = (name: string, unit: string | undefined, better: MetricDecl['better'], doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: '<role>', kind: 'summary', view: 'points', doc });
const sample = (name: string, unit: string | undefined, doc: string, better: MetricDecl['better'] = 'none'): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: '<role>', kind: 'series', view: 'samples', doc });

export const RECORDING_METRICS: readonly MetricDecl[] = [
  sum('<role>.sys.cpu_pct', '%', 'lower', "mean CPU of the role's machine over the window, percent of one core"),
  sum('<role>.sys.mem_used_mb', 'MiB', 'lower', "peak memory used on the role's machine"),
  sum('<role>.proc.<label>.cpu_pct', '%', 'lower', 'mean CPU of a watched process (summed over its matches), percent of one core'),
  sum('<role>.proc.<label>.rss_mb', 'MiB', 'lower', 'peak resident memory of a watched process'),
  sum('<role>.proc.<label>.threads', 'count', 'none', 'most threads of a watched process'),
  sum('<role>.gpu.*', '%', 'lower', 'mean GPU engine use (utilisation or busy) of a GPU probe'),
  sum('<role>.agent.cpu_pct', '%', 'lower', "the agent's own CPU over the point, percent of one core"),
  sum('<role>.clock.uncertainty_ms', 'ms', 'lower', "uncertainty of the agent's clock offset (half the shortest round trip)"),
  { name: 'recording.gaps', unit: 'count', better: 'lower', role: 'all', kind: 'summary', view: 'points', doc: 'stretches with no data from an agent' },
  sample('cpu.<state>_pct', '%', 'CPU of the machine by state (user, system, iowait, steal, idle, busy), percent of one core'),
  sample('cpu.busy_norm_pct', '%', 'busy CPU, percent of all cores'),
  sample('cpu<n>.<state>_pct', '%', 'CPU of one core (cpu0, cpu1, ...) by state'),
  sample('cpu.cores', 'count', 'cores counted'),
  sample('cpu.procs_running', 'count', 'runnable processes'),
  sample('cpu.procs_blocked', 'count', 'processes blocked on I/O'),
  sample('cpu.ctxt_per_s', 'switches/s', 'context switches per second'),
  sample('load.<n>', undefined, 'load average over 1, 5 or 15 minutes'),
  sample('mem.used_pct', '%', 'memory used, percent of the total'),
  sample('mem.<kind>_mb', 'MiB', 'memory: total, available, used, free, cached, buffers, swap_total, swap_used'),
  // Bytes before the other counters: the first declaration that matches a name gives its unit.
  sample('net.<if>.<dir>_bytes_per_s', 'B/s', 'per interface: bytes received (rx) or sent (tx) per second'),
  sample('net.<if>.<counter>_per_s', 'packets/s', 'per interface: rx/tx packets, errors, drops per second (each counts packets)'),
  sample('net.<if>.<dir>_bytes', 'B', 'per interface: bytes received (rx) or sent (tx) since boot'),
  sample('net.<if>.<counter>', 'packets', 'per interface: rx/tx packets, errors, drops since boot'),
  sample('proc.<label>.<state>_pct', '%', 'a watched process: CPU, user, system, percent of one core'),
  sample('proc.<label>.rss_mb', 'MiB', 'a watched process: resident memory'),
  sample('proc.<label>.threads', 'count', 'a watched process: threads'),
  sample('proc.<label>.procs', 'count', 'a watched process: processes matched'),
  sample('cpufreq.<core>.mhz', 'MHz', 'frequency of one core'),
  sample('cpufreq.<stat>_mhz', 'MHz', 'mean, min or max frequency over the cores'),
  sample('gpu.*_pct', '%', 'GPU engine use or memory use (nvidia-smi, intel_gpu_top, amdgpu sysfs)'),
  sample('gpu.*_mb', 'MiB', 'GPU memory'),
  sample('gpu.*_mb_per_s', 'MiB/s', 'GPU bus traffic'),
  sample('gpu.*_mhz', 'MHz', 'GPU clock'),
  sample('gpu.*_w', 'W', 'GPU power'),
  sample('gpu.*_c', '°C', 'GPU temperature'),
  sample('gpu.*', undefined, "another figure of a GPU tool, under the tool's own name"),
  sample('custom.<name>.*', undefined, 'a custom probe: what its command printed, under its own names (no unit, no direction)'),
];
