/** Signals a whole process group: what a program started goes with it. */

/** Sends `signal` to the group led by `pid`; true if it was delivered, false if the group is already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
