/**
 * Processes a run has started. Two lines of defence, so that nothing the engine started outlives
 * it: the watchdog (src/base/watchdog.ts), told of each process group as it starts and ends, ends
 * them within a second of the engine's death, however it died; and the record in the result set
 * (`.live/PID.json`), from which the next start ends what is still there (when the watchdog was
 * killed too, or the machine was too busy). A pid is only killed while its start time still
 * matches, so a reused pid is never touched.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../base/errors.ts';
import { killGroup } from '../base/process-group.ts';
import { Watchdog } from '../base/watchdog.ts';
import { groupAlive } from '../workloads/proctree.ts';
import type { LiveProcess } from '../workloads/workload.ts';

export class LiveRegistry {
  private readonly dir: string;
  private watchdog: Watchdog | undefined;
  private fileWarned = false;
  /** What this run has registered and not yet seen end: pid -> start time. */
  private readonly running = new Map<number, number>();

  /** `onWarning` hears what weakens the defence (a record that cannot be written, a watchdog gone) and corrupt records skipped. */
  constructor(
    private readonly resultsDir: string,
    private readonly onWarning: (message: string) => void,
  ) {
    this.dir = join(resultsDir, '.live');
  }

  /** Starts the watchdog: from now on, groups added are ended when this process dies. */
  startWatchdog(): void {
    this.watchdog ??= Watchdog.start(join(this.resultsDir, 'watchdog.log'), this.onWarning);
  }

  /** The watchdog's pid, while there is one. */
  get watchdogPid(): number | undefined {
    return this.watchdog?.pid;
  }

  /** Registers a process group the run started (its leader's pid and start time). */
  add(p: LiveProcess): void {
    this.running.set(p.pid, p.startTime);
    this.watchdog?.add(p.pid, p.startTime);
    // The file is the second line: a full or read-only disk must not stop the run for it (the
    // point's own writes will say so), and the watchdog covers this process meanwhile.
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(join(this.dir, `${p.pid}.json`), JSON.stringify(p));
    } catch (e) {
      this.warnFile(`cannot record process ${p.pid} in ${this.dir}: ${errorMessage(e)}`);
    }
  }

  /** Forgets a process group that is gone. */
  remove(pid: number): void {
    this.running.delete(pid);
    this.watchdog?.remove(pid);
    try {
      rmSync(join(this.dir, `${pid}.json`), { force: true });
    } catch (e) {
      this.warnFile(`cannot remove ${join(this.dir, `${pid}.json`)}: ${errorMessage(e)}`);
    }
  }

  /**
   * Ends the run's registrations: what is still registered (what a hook left running; nothing
   * else after a clean run) is ended by the watchdog as it exits, or here should it be gone.
   */
  async close(): Promise<void> {
    await this.watchdog?.close();
    this.watchdog = undefined;
    for (const [pid, startTime] of this.running) {
      if (groupAlive(pid, startTime)) killGroup(pid, 'SIGKILL');
      this.remove(pid);
    }
  }

  /**
   * Kills the process groups of recorded processes that are still the same processes (and not
   * dead already), and removes the records; returns their pids. A record that cannot be read is
   * skipped with a warning and removed: it is this registry's own file, of no use to anyone.
   */
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
      if (!name.endsWith('.json')) continue;
      const path = join(this.dir, name);
      let p: LiveProcess;
      try {
        p = parseRecord(readFileSync(path, 'utf8'));
      } catch (e) {
        this.onWarning(`${path} is not a process record (${errorMessage(e)}): skipped and removed`);
        rmSync(path, { force: true });
        continue;
      }
      if (groupAlive(p.pid, p.startTime) && killGroup(p.pid, 'SIGKILL')) reaped.push(p.pid);
      rmSync(path, { force: true });
    }
    return reaped;
  }

  private warnFile(message: string): void {
    // Once per run: a full disk would otherwise say so for every process.
    if (this.fileWarned) return;
    this.fileWarned = true;
    this.onWarning(`${message} (the record is the second line of defence, behind the watchdog)`);
  }
}

/** A `.live/PID.json` record; throws saying what is wrong with it. */
function parseRecord(text: string): LiveProcess {
  const v = JSON.parse(text) as unknown;
  if (typeof v !== 'object' || v === null) throw new Error('not a JSON object');
  const { pid, startTime } = v as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1) throw new Error(`pid ${JSON.stringify(pid)} is not a process id`);
  if (typeof startTime !== 'number' || !Number.isInteger(startTime) || startTime < 0) throw new Error(`startTime ${JSON.stringify(startTime)} is not a start time`);
  return { pid, startTime };
}
