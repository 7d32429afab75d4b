/** Agents the engine starts on this machine, one per role, when the benchmark names no remote one. */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { spawnCli } from '../base/cli-process.ts';
import { newToken } from '../base/request-rules.ts';
import { endChildren, waitReady } from '../base/spawn-ready.ts';
import type { AgentEndpoint } from './collector.ts';

export interface LocalAgents {
  endpoints: AgentEndpoint[];
  pids: number[];
  stop(): Promise<void>;
}

/**
 * Starts `streambench agent` for each role on loopback; resolves once all are listening. Each
 * gets a fresh random token through a pipe on its descriptor 3 (`--token-fd 3`: never argv,
 * which `ps` shows to every user, nor its environment, which /proc/PID/environ shows to the
 * commands it runs), and its endpoint carries it for the collector and the pipeline roles.
 */
export async function startLocalAgents(roles: readonly string[], opts: { allowCommands: boolean; logPath: string; onSpawn?: (pid: number) => void }): Promise<LocalAgents> {
  const children: ChildProcess[] = [];
  const endpoints: AgentEndpoint[] = [];
  const stop = () => endChildren(children, 2000);
  try {
    for (const role of roles) {
      const log = openSync(opts.logPath, 'a');
      const token = newToken();
      // detached: its own process group, so that a next run can reap it if this engine is killed.
      const { STREAMBENCH_TOKEN: _, ...env } = process.env;
      const child = spawnCli('agent', ['--role', role, '--listen', '127.0.0.1:0', '--token-fd', '3', ...(opts.allowCommands ? ['--allow-commands'] : [])], {
        stdio: ['ignore', 'pipe', log, 'pipe'],
        detached: true,
        env,
      });
      closeSync(log);
      const tokenPipe = child.stdio[3] as Writable | null;
      // An agent that died at once closes its end: the error is its exit, which waitReady reports.
      tokenPipe?.on('error', () => undefined);
      tokenPipe?.end(token);
      children.push(child);
      // Told at once, not once all are ready: an engine killed while the next one starts must not leave this one behind.
      if (child.pid !== undefined) opts.onSpawn?.(child.pid);
      const ready = await waitReady(child, { name: `agent ${role}`, log: opts.logPath, timeoutMs: 20_000 });
      endpoints.push({ role, url: `http://127.0.0.1:${String(ready['port'])}`, token });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoints, pids: children.map((c) => c.pid).filter((p) => p !== undefined), stop };
}
