/** Processes a test started, ended when it is done; and the live processes a run left behind. */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * SIGTERM to each child still running, and waits for all to exit. A child started under
 * `unshare --fork` (which ignores SIGTERM itself) is signalled as its whole group: it must have
 * been spawned detached, leading a group of its own.
 */
export async function endStarted(started: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    started.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) {
            resolve();
            return;
          }
          c.once('exit', () => resolve());
          if (c.spawnargs[0] === 'unshare') process.kill(-c.pid!, 'SIGTERM');
          else c.kill('SIGTERM');
        }),
    ),
  );
}

/** Live processes (zombies left out) whose environment holds `mark` (NAME=VALUE): what a run started, wherever it was started from. Pid and the first words of each command line. */
export function liveWithEnv(mark: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(mark)) out.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' ')}`);
    } catch {
      continue; // gone between listing and reading
    }
  }
  return out;
}
