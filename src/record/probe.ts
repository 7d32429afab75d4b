/** The contract between the recording agent and the indicators it samples on one machine. */

/** One probe: sampled by the agent every intervalMs; returns flat named values. */
export interface Probe {
  /** e.g. 'cpu', 'mem', 'net', 'proc', 'cpufreq', 'gpu.nvidia', 'gpu.intel', 'gpu.amd', 'custom.<name>' */
  readonly name: string;
  readonly intervalMs: number;
  /** Values at time `nowMs` (monotonic ms). Rates are computed from the previous call's counters (the first call may return only gauges). Names use dots: 'cpu.user_pct', 'cpu0.user_pct', 'mem.used_mb', 'net.eth0.rx_bytes_per_s', 'proc.<label>.cpu_pct'. */
  sample(nowMs: number): Record<string, number> | Promise<Record<string, number>>;
  /** Stops any child process the probe runs. */
  close?(): void;
}
