/** Whether a process of this machine is alive: one we may not signal (EPERM) is; a pid that is gone (ESRCH) is not. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
