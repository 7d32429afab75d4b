/** Agents the engine starts on this machine, one per role, when the benchmark names no remote one. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { newToken } from '../base/request-rules.ts';
import type { AgentEndpoint } from './collector.ts';

const CLI = fileURLToPath(new URL('../../bin/streambench.js', import.meta.url));

export interface LocalAgents {
  endpoints: AgentEndpoint[];
  pids: number[];
  stop(): Promise<void>;
}

/**
 * Starts `streambench agent` for each role on loopback; resolves once all are listening. Each
 * gets a fresh random token through its environment (never argv, which `ps` shows to every
 * user), and its endpoint carries it for the collector and the pipeline roles.
 */
export async function startLocalAgents(roles: readonly string[], opts: { allowCommands: boolean; logPath: string }): Promise<LocalAgents> {
  const children: ChildProcess[] = [];
  const endpoints: AgentEndpoint[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 2000).unref();
          }),
      ),
    );
  };
  try {
    for (const role of roles) {
      const log = openSync(opts.logPath, 'a');
      const token = newToken();
      // detached: its own process group, so that a next run can reap it if this engine is killed.
      const child = spawn(process.execPath, [CLI, 'agent', '--role', role, '--listen', '127.0.0.1:0', ...(opts.allowCommands ? ['--allow-commands'] : [])], {
        stdio: ['ignore', 'pipe', log],
        detached: true,
        env: { ...process.env, STREAMBENCH_TOKEN: token },
      });
      closeSync(log);
      children.push(child);
      const ready = await new Promise<{ port: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`agent ${role} did not start within 20 s (see ${opts.logPath})`)), 20_000);
        createInterface({ input: child.stdout! }).once('line', (line) => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(line) as { port: number });
          } catch {
            reject(new Error(`agent ${role} printed '${line.slice(0, 200)}' instead of its ready line`));
          }
        });
        child.once('exit', (code) => reject(new Error(`agent ${role} exited with ${code} before it was ready (see ${opts.logPath})`)));
      });
      endpoints.push({ role, url: `http://127.0.0.1:${ready.port}`, token });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoints, pids: children.map((c) => c.pid!).filter((p) => p !== undefined), stop };
}
