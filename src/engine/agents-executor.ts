/**
 * The agents executor (`--executor agents`): three fixed machines, a guest, a host and a client,
 * each with a recording agent started by hand with --allow-commands and a token (the original
 * toolbox's setting, no scheduler). One point at a time: each role of a stream point is started
 * through the agent named for it in `recording.agents`, listening on that agent's host address;
 * the roles find each other there. The recording is the agents' as in a local run. The roles
 * write their reports into the point's staging directory, so the result set must be on a file
 * system the three machines share, at the same path, with streambench installed at the same path.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EnvironmentError, errorMessage } from '../base/errors.ts';
import type { ResolvedBenchmark } from '../config/resolved.ts';
import { placement } from '../config/registry.ts';
import type { AgentEndpoint } from '../record/collector.ts';
import type { ClockRecord, PointConditions } from '../store/records.ts';
import { createWorkload } from '../workloads/index.ts';
import type { PointResult, RolePlacement } from '../workloads/workload.ts';
import type { ExecutedAttempt, PointAttempt, RemoteExecutor } from './executor.ts';
import { runHook } from './hooks.ts';
import { endPoint, recordingContext } from './point-end.ts';
import { RunRecorder } from './recorder.ts';

/** The agents cannot be used (unreachable, wrong token, no --allow-commands): exit code 5. */
export class AgentsError extends EnvironmentError {
  constructor(message: string) {
    super('agents', '', 'EAGENTS');
    this.message = message;
    this.name = 'AgentsError';
  }
}

/** Why a benchmark cannot run under the agents executor (an input error), or undefined. */
export function agentsProblem(b: Pick<ResolvedBenchmark, 'workload' | 'recording'>): string | undefined {
  const p = placement(b.workload.type, 'agents');
  if ('refused' in p) return p.refused;
  const agents = b.recording?.agents ?? [];
  const missing = p.machines.filter((r) => !agents.some((a) => a.role === r && a.url !== undefined));
  if (missing.length > 0) return `--executor agents needs recording.agents to name a url for each of ${listed(p.machines)} (missing: ${missing.join(', ')})`;
  return undefined;
}

/** guest, host and client. */
function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/** The roles of the benchmark's points, one per agent, as the workload's declaration places them. */
function agentRoles(b: Pick<ResolvedBenchmark, 'workload'>): readonly string[] {
  const p = placement(b.workload.type, 'agents');
  return 'refused' in p ? [] : p.machines;
}

/** Runs one point at a time, each role of it through the agent named for that role. */
export class AgentsExecutor implements RemoteExecutor {
  readonly kind = 'agents';
  readonly parallel = 1;
  private setDir = '';
  private recorder: RunRecorder | undefined;
  private readonly abort = new AbortController();
  private cancelled: string | undefined;

  private readonly roles: readonly string[];

  constructor(private readonly b: ResolvedBenchmark) {
    this.roles = agentRoles(b);
  }

  async open(setDir: string): Promise<string[]> {
    this.setDir = resolve(setDir);
    const problem = agentsProblem(this.b);
    if (problem) throw new AgentsError(problem);
    try {
      this.recorder = await RunRecorder.start(this.b.recording!, this.setDir, () => undefined);
    } catch (e) {
      throw new AgentsError(`the agents of --executor agents cannot be used: ${errorMessage(e)}`);
    }
    const refusing = this.roles.filter((r) => !this.recorder!.hellos[r]?.allowCommands);
    if (refusing.length > 0) {
      await this.recorder.stop();
      throw new AgentsError(`--executor agents starts the roles through their agents, and the agent of ${refusing.join(', ')} does not run commands: start it with --allow-commands and a token`);
    }
    // What an earlier, killed engine left running on the agents ends before this run's first point.
    await this.endProcs();
    return [];
  }

  async execute(a: PointAttempt, signal: AbortSignal): Promise<ExecutedAttempt> {
    const rec = this.recorder!;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted || this.abort.signal.aborted) stop.abort();
    const endpoint = (role: string): AgentEndpoint => rec.agent(role)!;
    const placement: RolePlacement = {
      address: (role) => new URL(endpoint(role).url).hostname.replace(/^\[|\]$/g, ''),
      remote: () => true,
      spawn: (role, argv, opts) => relay(endpoint(role), argv, opts),
    };
    const agents = Object.fromEntries(this.roles.map((r) => [r, endpoint(r).url]));
    const nodes = Object.fromEntries(this.roles.map((r) => [r, placement.address(r)]));
    const session = `${a.run.key}-r${a.run.rep}-a${a.attempt}`;
    const cwd = resolve(this.b.source.file, '..');
    mkdirSync(a.dir, { recursive: true });
    let result: PointResult | undefined;
    let clocks: Record<string, ClockRecord> = {};
    let recErr: string | undefined;
    let conditions: PointConditions | undefined;
    try {
      try {
        await rec.beginPoint(session);
      } catch (e) {
        recErr = `recording did not start: ${errorMessage(e)}`;
      }
      const hook = async (h: ResolvedBenchmark['paramHooks'][string]['before'][number]): Promise<string | undefined> => {
        if (h.on !== undefined) {
          const r = await rec.runHook(h, a.values);
          const message = r.error ?? r.reply?.error ?? (r.reply && r.reply.exitCode !== 0 ? `exited with code ${r.reply.exitCode}` : undefined);
          return message === undefined ? undefined : `${h.where} on ${h.on} ${JSON.stringify(r.argv)} ${message}`;
        }
        const r = await runHook(h, a.values, join(this.setDir, 'hooks.log'), stop.signal, cwd, () => undefined);
        return r.ok ? undefined : `${h.where} ${JSON.stringify(r.argv)} ${r.message}`;
      };
      // As under Slurm, the engine leaves parameter hooks to the executor: each point's run
      // before it and after it (the machines may have been changed by another point).
      let hookErr: string | undefined;
      for (const hs of Object.values(this.b.paramHooks)) for (const h of hs.before) hookErr ??= await hook(h);
      if (hookErr) {
        result = { outcome: { status: 'failed', error: `hook failed: ${hookErr}` }, metrics: {}, wallS: 0, flags: [] };
      } else {
        try {
          result = await createWorkload(this.b.workload).run({
            params: a.run.params,
            typed: a.typing.typed,
            rep: a.run.rep,
            key: a.run.key,
            dir: a.dir,
            warmupS: this.b.warmupS,
            ...(this.b.durationS !== undefined ? { durationS: this.b.durationS } : {}),
            templateValues: a.values,
            signal: stop.signal,
            // The roles are the agents' processes; the point's end ends what is left of them.
            onProcess: () => undefined,
            placement,
            ...recordingContext(!recErr ? rec : undefined, (m) => (recErr ??= m), placement),
          });
        } catch (e) {
          result = { outcome: { status: 'failed', error: `workload error: ${errorMessage(e)}` }, metrics: {}, wallS: 0, flags: [] };
        }
        for (const hs of Object.values(this.b.paramHooks)) {
          for (const h of hs.after) {
            const err = await hook(h);
            if (err) result.flags.push(`after hook failed: ${err}`);
          }
        }
      }
      ({ conditions, clocks } = await endPoint(result, { dir: a.dir, recorder: rec, ...(recErr !== undefined ? { recErr } : {}), roles: this.roles, placement }));
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.abort.signal.removeEventListener('abort', onAbort);
      const left = await this.endProcs();
      // Only a role the workload failed to stop is left: the point says so.
      if (result && left.length > 0) result.flags.push(...left);
    }
    if (result.outcome.status === 'interrupted' && this.cancelled) result.outcome = { status: 'interrupted', reason: this.cancelled };
    const { series: _series, ...rest } = result;
    return { result: rest, info: { kind: 'agents', jobId: session, nodes, agents, ...(Object.keys(clocks).length > 0 ? { clocks } : {}) }, ...(conditions ? { conditions } : {}) };
  }

  /** Ends every process the agents still run for this engine; one line per agent that had some. */
  private async endProcs(): Promise<string[]> {
    const lines: string[] = [];
    for (const role of this.roles) {
      const e = this.recorder?.agent(role);
      if (!e) continue;
      try {
        const r = await agentCall(e, 'POST', '/v1/procs/end');
        const n = (r as { ended?: number }).ended ?? 0;
        if (n > 0) lines.push(`agent ${role} ended ${n} process(es) left running at the point's end`);
      } catch (err) {
        lines.push(`agent ${role} could not end the point's processes: ${errorMessage(err)}`);
      }
    }
    return lines;
  }

  async cancelAll(reason: string): Promise<void> {
    this.cancelled ??= reason;
    this.abort.abort();
  }

  async close(): Promise<void> {
    await this.endProcs();
    await this.recorder?.stop();
  }
}

/** One JSON request to an agent with its token; throws naming the agent, the status and its error. */
async function agentCall(e: AgentEndpoint, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(new URL(path, e.url), {
    method,
    headers: { 'content-type': 'application/json', ...(e.token ? { authorization: `Bearer ${e.token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const j = (await r.json()) as { error?: string };
  if (!r.ok) throw new Error(`${e.url}${path}: HTTP ${r.status}: ${j.error ?? ''}`);
  return j;
}

/**
 * Starts argv through an agent and returns a local process that stands for it: a small Node
 * script (argv array, no shell) that relays the remote process's stdout and stderr, passes
 * SIGTERM and SIGINT on to it, and exits with its exit code. The agent's token reaches the
 * script through its environment, never its argv (which `ps` shows to every user).
 */
export function relay(e: AgentEndpoint, argv: readonly string[], opts: SpawnOptions): ChildProcess {
  const env = (opts.env ?? {}) as Record<string, string | undefined>;
  // The remote process gets the agent's environment and only what a role must be told.
  const pass: Record<string, string> = {};
  if (env['STREAMBENCH_TOKEN']) pass['STREAMBENCH_TOKEN'] = env['STREAMBENCH_TOKEN'];
  return spawn(process.execPath, ['-e', relayScript(e.url, argv, pass)], { ...opts, env: { ...process.env, ...env, STREAMBENCH_RELAY_TOKEN: e.token ?? '' } });
}

function relayScript(url: string, argv: readonly string[], env: Record<string, string>): string {
  return [
    "'use strict';",
    `const url = ${JSON.stringify(url)}, argv = ${JSON.stringify(argv)}, env = ${JSON.stringify(env)};`,
    'const token = process.env.STREAMBENCH_RELAY_TOKEN; delete process.env.STREAMBENCH_RELAY_TOKEN;',
    'const call = async (method, path, body) => {',
    "  const r = await fetch(new URL(path, url), { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });",
    '  const j = await r.json();',
    "  if (!r.ok) throw new Error('HTTP ' + r.status + ': ' + (j.error || ''));",
    '  return j;',
    '};',
    'let id; const pending = [];',
    "const pass = (s) => call('POST', '/v1/procs/' + id + '/signal', { signal: s }).catch((e) => process.stderr.write('relay: cannot signal ' + s + ': ' + e.message + '\\n'));",
    "for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => (id ? pass(s) : pending.push(s)));",
    '(async () => {',
    '  try {',
    "    id = (await call('POST', '/v1/procs', { argv, env })).id;",
    '    for (const s of pending) await pass(s);',
    '    let out = 0, err = 0;',
    '    for (;;) {',
    "      const r = await call('GET', '/v1/procs/' + id + '?out=' + out + '&err=' + err + '&wait=2000');",
    '      if (r.stdout) { process.stdout.write(r.stdout); out += r.stdout.length; }',
    '      if (r.stderr) { process.stderr.write(r.stderr); err += r.stderr.length; }',
    '      if (r.exit) {',
    "        if (r.exit.error) process.stderr.write('agent ' + url + ': ' + r.exit.error + '\\n');",
    "        process.exitCode = r.exit.code ?? (r.exit.signal ? 128 + (require('node:os').constants.signals[r.exit.signal] ?? 1) : 1);",
    '        return;',
    '      }',
    '    }',
    '  } catch (e) {',
    "    process.stderr.write('agent ' + url + ': ' + e.message + '\\n');",
    '    process.exitCode = 70;',
    '  }',
    '})();',
  ].join('\n');
}
