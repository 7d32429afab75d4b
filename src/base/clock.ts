/**
 * One time base for every process of a run on one machine: CLOCK_MONOTONIC through
 * process.hrtime, in milliseconds. Unlike performance.now() (relative to each process's own
 * start), it is shared by all processes of the machine, so guest, host and client timestamps
 * compare directly. Across machines the agents' clock-offset estimate applies.
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
