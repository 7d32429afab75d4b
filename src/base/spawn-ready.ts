/**
 * Waiting for a process that was just started to say it is ready: its first line on stdout, a
 * JSON object with `ready: true` (what `streambench agent` and the stream roles print once they
 * listen or are connected). One helper, so every caller times out, reports and cleans up alike.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { errorMessage } from './errors.ts';
import { killGroup } from './process-group.ts';

/** How waitReady names the process and bounds the wait. */
export interface ReadyOptions {
  /** What the errors call the process, e.g. `agent guest`, `relay`. */
  name: string;
  /** Where its output goes, named in the errors so the user knows where to look. */
  log: string;
  /** How long it may take to print its ready line. */
  timeoutMs: number;
  /** How long its group gets between SIGTERM and SIGKILL once it failed (default 2000 ms). */
  killGraceMs?: number;
}

/** A ready line, parsed: `{ready: true, ...}` with whatever the process adds (port, role, pid). */
export type ReadyLine = Record<string, unknown>;

/**
 * Resolves with `child`'s ready line. When the child exits first, prints something else first, or
 * prints nothing within `timeoutMs`, its process group is ended (SIGTERM, SIGKILL after the grace:
 * whatever it started goes too) and the promise rejects with one line naming it and its log.
 * The child must have stdout 'pipe' and should lead its own group (spawn with detached: true);
 * what it prints after the ready line is drained, so it never blocks on a full pipe.
 */
export function waitReady(child: ChildProcess, opts: ReadyOptions): Promise<ReadyLine> {
  const stdout = child.stdout;
  if (!stdout) return Promise.reject(new Error(`${opts.name}: its stdout is not a pipe, so its ready line cannot be read`));
  const see = `(see ${opts.log})`;
  return new Promise<ReadyLine>((resolve, reject) => {
    const lines = createInterface({ input: stdout, crlfDelay: Infinity });
    let exit: string | undefined;
    let settled = false;
    const settle = (error: string | undefined, line?: ReadyLine) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      stdout.off('close', onStdoutClosed);
      lines.close();
      // Flowing with no reader: later output is dropped instead of filling the pipe.
      stdout.resume();
      if (error === undefined) {
        resolve(line!);
        return;
      }
      endGroup(child, opts.killGraceMs ?? 2000);
      reject(new Error(`${opts.name} ${error} ${see}`));
    };
    const timer = setTimeout(() => settle(exit ? `exited (${exit}) before it was ready` : `did not start within ${opts.timeoutMs / 1000} s`), opts.timeoutMs);
    lines.once('line', (text) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: reported below with the line itself, which says more than the parser would.
      }
      if (typeof parsed === 'object' && parsed !== null && (parsed as ReadyLine)['ready'] === true) settle(undefined, parsed as ReadyLine);
      else settle(`printed '${text.slice(0, 200)}' instead of its ready line`);
    });
    // 'exit' can come before the last of stdout has been read: the verdict waits for stdout to
    // close, so a ready line printed just before exiting still counts.
    const onStdoutClosed = () => {
      if (exit !== undefined) settle(`exited (${exit}) before it was ready`);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      exit = signal ?? `code ${code}`;
      if (stdout.closed) onStdoutClosed();
    };
    const onError = (e: Error) => settle(`could not start: ${errorMessage(e)}`);
    child.once('exit', onExit);
    child.once('error', onError);
    stdout.once('close', onStdoutClosed);
  });
}

/** SIGTERM to the child's group (or the child alone when it leads none), SIGKILL after `graceMs` unless it has exited. */
function endGroup(child: ChildProcess, graceMs: number): void {
  if (child.pid === undefined) return;
  const signal = (s: NodeJS.Signals) => {
    if (!killGroup(child.pid, s) && child.exitCode === null && child.signalCode === null) child.kill(s);
  };
  signal('SIGTERM');
  // The group may outlive its leader (what it started), so SIGKILL goes to the group even then.
  const late = setTimeout(() => signal('SIGKILL'), graceMs);
  late.unref();
}

/** Ends each child still running (SIGTERM, then SIGKILL after `graceMs`) and resolves once all have exited. */
export async function endChildren(children: readonly ChildProcess[], graceMs: number): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) {
            resolve();
            return;
          }
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), graceMs).unref();
        }),
    ),
  );
}
