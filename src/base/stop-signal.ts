/**
 * When a long-running role should stop: at SIGTERM or SIGINT, or once a file appears. The file is
 * for roles started through Slurm: `srun` passes a SIGTERM on by cancelling the step, whose tasks
 * are killed KillWait seconds later, often before a role has written its report; a file in the
 * point's directory (which the roles share) asks them to stop without that clock running.
 */
import { existsSync } from 'node:fs';

/** How often the stop file is looked for, ms. */
const POLL_MS = 100;

/** Resolves at SIGTERM, SIGINT, or when `file` (if given) exists. */
export function stopRequested(file?: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearInterval(timer);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    if (file !== undefined) {
      timer = setInterval(() => {
        if (existsSync(file)) done();
      }, POLL_MS);
      timer.unref();
    }
  });
}
