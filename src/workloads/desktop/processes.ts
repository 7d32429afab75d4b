/**
 * The processes of one desktop point: each started with its own log in the point directory. In the
 * session (the engine's side) each role process leads its own process group registered with the
 * engine (ctx.onProcess, recorded in .live/), so that whatever survives a kill -9 of the engine is
 * ended by its next start; inside a role process the programs it starts stay in the role's group,
 * so that ending that group (the engine's next start, an agent's procs/end) ends them too. Stopped
 * together in reverse order of start. Also the small waits every role's start-up needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { monoMs } from '../../base/clock.ts';
import { killGroup } from '../../base/process-group.ts';
import { groupMembers, processStartTime, sampleTree } from '../proctree.ts';
import type { PointContext } from '../workload.ts';

/** How long a program gets after SIGTERM before its group is killed. */
const STOP_GRACE_MS = 3000;

/** One started process: its name (and log, `<name>.log`), and when it exited. */
export interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** How a process of the set is started. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** 'ignore', a stream, or an open file descriptor the child reads (the caller closes its own copy). */
  stdin?: 'ignore' | Readable | number;
  /** 'pipe': the caller reads its stdout (a ready line, raw frames); else it goes to its log. */
  stdout?: 'pipe' | 'log';
  /** Starts it through the point's placement on this role's machine (ctx.placement), when there is one. */
  on?: string;
}

/** Where a set's processes go: groups of their own (the session's roles), or the starting process's group (a role's programs). */
export type Grouping = 'own' | 'inherit';

/** The process groups of one point, each registered with the engine while it lives. */
export class ProcessSet {
  private readonly procs: Started[] = [];

  constructor(
    private readonly ctx: Pick<PointContext, 'dir' | 'onProcess' | 'placement'>,
    private readonly grouping: Grouping = 'own',
  ) {}

  /** Starts argv (its own process group unless the set inherits), stderr (and stdout unless piped) to `<name>.log` in the point directory. */
  start(name: string, argv: readonly string[], opts: StartOptions = {}): ChildProcess {
    const log = openSync(join(this.ctx.dir, `${name}.log`), 'a');
    const how = { detached: this.grouping === 'own', env: opts.env ?? process.env, stdio: [opts.stdin ?? 'ignore', opts.stdout === 'pipe' ? 'pipe' : log, log] as ('ignore' | 'pipe' | number | Readable)[] };
    const child = opts.on !== undefined && this.ctx.placement ? this.ctx.placement.spawn(opts.on, argv, how) : spawn(argv[0]!, argv.slice(1), how);
    closeSync(log);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    this.procs.push({ name, child, exited });
    if (child.pid !== undefined) {
      const st = processStartTime(child.pid);
      if (st !== undefined) this.ctx.onProcess({ pid: child.pid, startTime: st }, false);
    }
    return child;
  }

  /** Resolves true once every process started has exited, false if some still run after `ms`. */
  async allExited(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    const all = Promise.all(this.procs.map((p) => p.exited)).then(() => true);
    const out = await Promise.race([all, late]);
    clearTimeout(timer);
    return out;
  }

  /**
   * Ends every group, in reverse order of start (the viewer and its screen first, the server
   * last): SIGTERM, then SIGKILL for what did not exit within the grace (X servers may ignore
   * signals), then SIGKILL again for whatever a program left in its group.
   */
  async stopAll(graceMs = STOP_GRACE_MS): Promise<void> {
    const procs = [...this.procs];
    const signal = (p: Started, s: NodeJS.Signals) => {
      if (this.grouping === 'own') killGroup(p.child.pid, s);
      else if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(s);
    };
    for (const p of [...procs].reverse()) signal(p, 'SIGTERM');
    const late = setTimeout(() => procs.forEach((p) => signal(p, 'SIGKILL')), graceMs);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(late);
    for (const p of procs) {
      signal(p, 'SIGKILL');
      if (p.child.pid !== undefined) this.ctx.onProcess({ pid: p.child.pid, startTime: 0 }, true);
    }
    if (this.grouping === 'inherit') await endGroupRest(graceMs);
  }
}

/**
 * Ends what the programs of this process left in its process group after they exited (xrdp's
 * child per connection outlives xrdp for as long as its connection does): SIGTERM, SIGKILL after
 * the grace. Only when this process leads its group (a role started by a session or an agent):
 * the members of a group it does not lead are not its to end.
 */
async function endGroupRest(graceMs: number): Promise<void> {
  const rest = () => groupMembers(process.pid).filter((pid) => pid !== process.pid);
  const send = (pids: number[], s: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, s);
      } catch (e) {
        // Gone between the listing and the signal: what was wanted.
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
  };
  let left = rest();
  if (left.length === 0) return;
  send(left, 'SIGTERM');
  const end = monoMs() + graceMs;
  while ((left = rest()).length > 0 && monoMs() < end) await new Promise((r) => setTimeout(r, 50));
  send(left, 'SIGKILL');
}

/** CPU seconds so far of a process tree, or of several summed (undefined once one is gone). */
export function treeCpuS(children: readonly ChildProcess[]): number | undefined {
  let sum = 0;
  for (const c of children) {
    const t = c.pid === undefined ? undefined : sampleTree(c.pid);
    if (!t) return undefined;
    sum += t.cpuUser + t.cpuSystem;
  }
  return sum;
}

/** Waits until `cond` holds; rejects with `what` when `child` exits first or after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string, child: ChildProcess): Promise<void> {
  const end = monoMs() + timeoutMs;
  while (!cond()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(what);
    if (monoMs() > end) throw new Error(what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    // The listener goes with the timer: a run of many points must not pile them up on one signal.
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
