/** Running hook commands: argv only, a timeout each, output appended to a log file. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { renderTemplate } from '../config/template.ts';
import type { ResolvedHook } from '../config/resolved.ts';
import { killGroup } from '../base/process-group.ts';
import { groupMembers, processStartTime } from '../workloads/proctree.ts';
import type { LiveProcess } from '../workloads/workload.ts';

export interface HookResult {
  ok: boolean;
  exitCode: number | null;
  seconds: number;
  argv: string[];
  message?: string;
}

/**
 * Runs one hook to completion (or timeout, or abort); never throws for the program's own failure.
 * `onProcess` hears of its process group when it starts and once it is gone, as a workload's do.
 */
export async function runHook(hook: ResolvedHook, values: Readonly<Record<string, unknown>>, logPath: string, signal: AbortSignal, cwd: string | undefined, onProcess: (p: LiveProcess, ended: boolean) => void): Promise<HookResult> {
  const argv = hook.argv.map((a) => renderTemplate(a, values));
  const env = { ...process.env, ...Object.fromEntries(Object.entries(hook.env).map(([k, v]) => [k, renderTemplate(v, values)])) };
  const log = openSync(logPath, 'a');
  writeSync(log, `\n# ${new Date().toISOString()} ${hook.where}: ${JSON.stringify(argv)}\n`);
  const t0 = performance.now();
  try {
    // detached: the hook leads its own process group, so a timeout ends what it started too.
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', log, log], env, detached: true, ...(cwd ? { cwd } : {}) });
    const startTime = child.pid === undefined ? undefined : processStartTime(child.pid);
    if (startTime !== undefined) onProcess({ pid: child.pid!, startTime }, false);
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      killGroup(child.pid, 'SIGKILL');
    };
    const timer = setTimeout(() => kill(`timed out after ${hook.timeoutS}s`), hook.timeoutS * 1000);
    const onAbort = () => kill('interrupted');
    signal.addEventListener('abort', onAbort, { once: true });
    const res = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('exit', (code) => resolve({ code }));
    });
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    // What a hook leaves running in its group (a server started with &, for the points to use)
    // stays registered: it may run until the run ends, and no longer.
    if (startTime !== undefined && groupMembers(child.pid!, startTime).length === 0) onProcess({ pid: child.pid!, startTime }, true);
    const seconds = (performance.now() - t0) / 1000;
    if (res.error) return { ok: false, exitCode: null, seconds, argv, message: `cannot start '${argv[0]}': ${(res.error as NodeJS.ErrnoException).code ?? res.error.message}` };
    if (why) return { ok: false, exitCode: res.code, seconds, argv, message: why };
    if (res.code !== 0) return { ok: false, exitCode: res.code, seconds, argv, message: `exited with code ${res.code}` };
    return { ok: true, exitCode: 0, seconds, argv };
  } finally {
    closeSync(log);
  }
}
