/**
 * Processes a run has started, recorded in the result set (`.live/`), so that after kill -9 of the
 * engine the next start can end them. A pid is only killed if its start time still matches, so a
 * reused pid is never touched.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../workloads/proctree.ts';
import type { LiveProcess } from '../workloads/workload.ts';
import { killGroup } from '../base/process-group.ts';

export class LiveRegistry {
  private readonly dir: string;
  constructor(resultsDir: string) {
    this.dir = join(resultsDir, '.live');
  }

  add(p: LiveProcess): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, `${p.pid}.json`), JSON.stringify(p));
  }

  remove(pid: number): void {
    rmSync(join(this.dir, `${pid}.json`), { force: true });
  }

  /** Kills the process groups of recorded processes that are still the same processes; returns their pids. */
  reap(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const reaped: number[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const p = JSON.parse(readFileSync(path, 'utf8')) as LiveProcess;
      if (processStartTime(p.pid) === p.startTime) {
        if (killGroup(p.pid, 'SIGKILL')) reaped.push(p.pid);
      }
      rmSync(path, { force: true });
    }
    return reaped;
  }
}
