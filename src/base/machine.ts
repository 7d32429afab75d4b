/**
 * Which machine and which clock a process is on. Two processes share a CLOCK_MONOTONIC only when
 * they run on the same booted kernel (boot id) and in the same time namespace (Linux time
 * namespaces give a process its own monotonic offset); a host name says neither.
 */
import { readFileSync, readlinkSync } from 'node:fs';

export interface MachineIdentity {
  /** /proc/sys/kernel/random/boot_id: one per boot of a kernel, so one per machine (VM, host). */
  bootId?: string;
  /** The time namespace, as /proc/self/ns/time names it (`time:[4026531834]`). */
  timeNs?: string;
}

let mine: MachineIdentity | undefined;

/** This process's machine and time namespace, where the system tells them (Linux). */
export function machineIdentity(): MachineIdentity {
  if (mine) return mine;
  const out: MachineIdentity = {};
  try {
    out.bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not Linux, or /proc hidden: no identity, so no clock is ever taken as shared.
  }
  try {
    out.timeNs = readlinkSync('/proc/self/ns/time');
  } catch {
    // Kernels before 5.6 have no time namespaces: every process of the boot shares the clock.
    if (out.bootId) out.timeNs = 'none';
  }
  mine = out;
  return out;
}

/** Whether two identities read the same CLOCK_MONOTONIC: same boot and same time namespace, both known. */
export function sameMonotonicClock(a: MachineIdentity, b: MachineIdentity): boolean {
  return a.bootId !== undefined && a.timeNs !== undefined && a.bootId === b.bootId && a.timeNs === b.timeNs;
}
