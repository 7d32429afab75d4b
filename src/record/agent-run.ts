/** How an agent runs a hook's command to its end (`POST /v1/run`): an argv, never a shell, with a timeout; output capped. */
import { spawn } from 'node:child_process';
import { monoMs } from '../base/clock.ts';
import { killGroup } from '../base/process-group.ts';
import type { RunBody, RunReply } from './protocol.ts';

/** Most of each of stdout and stderr kept: a runaway command must not fill the agent's memory. */
const MAX_OUTPUT = 1024 * 1024;

/** Runs a hook's argv (never through a shell), with a timeout; output is capped. */
export function runCommand(b: RunBody): Promise<RunReply> {
  return new Promise((resolve) => {
    const t0 = monoMs();
    const child = spawn(b.argv[0]!, b.argv.slice(1), { env: { ...process.env, ...(b.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-MAX_OUTPUT)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-MAX_OUTPUT)));
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), b.timeoutS * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ exitCode: null, signal: null, stdout, stderr, seconds: (monoMs() - t0) / 1000, error: `cannot start '${b.argv[0]}': ${(e as NodeJS.ErrnoException).code ?? e.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, stdout, stderr, seconds: (monoMs() - t0) / 1000 });
    });
  });
}
