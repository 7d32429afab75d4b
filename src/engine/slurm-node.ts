/**
 * The node side of the Slurm executor: `streambench node point SPEC`, the batch step of a point's
 * job. On the job's first node it starts the recording agents (one per role, on the node of that
 * role, listening on the node's address with the run's token), runs the point's parameter hooks,
 * runs the workload with its roles placed on the job's nodes (`srun --het-group`), collects the
 * recording (the collector reaches each agent at its node's address and measures its clock
 * offset) and writes the result for the engine. Everything it starts ends with the job.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliArgv } from '../base/cli-process.ts';
import { errorMessage } from '../base/errors.ts';
import { writeJsonAtomic } from '../base/fs-atomic.ts';
import { endChildren, waitReady } from '../base/spawn-ready.ts';
import type { TypedValue } from '../config/declare.ts';
import type { Params, Recording, ResolvedHook, ResolvedWorkload } from '../config/resolved.ts';
import type { LocalAgents } from '../record/local.ts';
import type { AgentEndpoint } from '../record/collector.ts';
import type { ClockRecord, PointConditions } from '../store/records.ts';
import { MachineWatch } from './point-checks.ts';
import { createWorkload, registerWorkload, workloadModule, type WorkloadModule } from '../workloads/index.ts';
import type { PointResult, RolePlacement, Workload } from '../workloads/workload.ts';
import { runHook } from './hooks.ts';
import { endPoint, recordingContext } from './point-end.ts';
import { RunRecorder } from './recorder.ts';
import { nodeAddress } from './slurm-cli.ts';

/** What the engine hands a point's job (a JSON file in the set's `.slurm/points/`). */
export interface PointSpec {
  setDir: string;
  /** The point's staging directory. */
  dir: string;
  tokenPath: string;
  resultPath: string;
  logDir: string;
  id: string;
  /** Role of each component of the job, in order (`local` for a one-node point). */
  roles: string[];
  cwd: string;
  workload: ResolvedWorkload;
  /** The URL of the workload's module, where it is not one every streambench process has (WorkloadModule.url). */
  workloadModule?: string;
  recording?: Recording;
  paramHooks: Record<string, { before: ResolvedHook[]; after: ResolvedHook[] }>;
  params: Params;
  typed: Record<string, TypedValue>;
  rep: number;
  key: string;
  warmupS: number;
  durationS?: number;
  values: Record<string, string | number | boolean>;
}

/** What the job gives back to the engine. */
export interface NodeResult {
  result: PointResult;
  nodes: Record<string, string>;
  clocks: Record<string, ClockRecord>;
  /** What the point checked about itself on the job's nodes. */
  conditions?: PointConditions;
}

/** Runs the point of `specPath` on this job's nodes and writes its result; resolves when done. */
export async function runPointJob(specPath: string): Promise<void> {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as PointSpec;
  const token = readFileSync(spec.tokenPath, 'utf8').trim();
  const abort = new AbortController();
  // scancel (and a time limit) send SIGTERM: the point stops as it does on Ctrl-C of a local run.
  // Slurm signals every process of the job, and the batch script passes it on too: the second
  // one must not kill this process before it has written what the point became.
  const stop = () => abort.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const het = process.env['SLURM_HET_SIZE'] !== undefined;
  const nodes: Record<string, string> = {};
  const addrs: Record<string, string> = {};
  for (const [i, role] of spec.roles.entries()) {
    const node = (het ? process.env[`SLURM_JOB_NODELIST_HET_GROUP_${i}`] : process.env['SLURM_JOB_NODELIST']) ?? process.env['SLURMD_NODENAME'];
    if (!node) throw new Error(`no node for role ${role}: not run inside a Slurm job with ${spec.roles.length} component(s)`);
    nodes[role] = node;
    addrs[role] = await nodeAddress(node);
  }
  const group = (role: string) => Math.max(0, spec.roles.indexOf(role));
  const placement: RolePlacement = {
    address: (role) => addrs[role] ?? addrs[spec.roles[0]!]!,
    remote: (role) => group(role) > 0,
    spawn: (role, argv, opts) => launch(group(role), argv, opts),
  };
  mkdirSync(spec.dir, { recursive: true });

  const startAgents = async (roles: readonly string[], opts: { allowCommands: boolean; logPath: string }): Promise<LocalAgents> => {
    const children: ChildProcess[] = [];
    const endpoints: AgentEndpoint[] = [];
    const stopAgents = () => endChildren(children, 3000);
    try {
      for (const role of roles) {
        const log = openSync(join(spec.logDir, `${spec.id}-agents.log`), 'a');
        const addr = placement.address(role);
        // The agent listens on its node's address, beyond loopback, only while this point runs;
        // the run's token guards it (the agent refuses to listen there without one). It reads it
        // from the run's token file (mode 0600): in the environment, srun's /proc/PID/environ would
        // show it to the commands the agent runs.
        const { STREAMBENCH_TOKEN: _, ...env } = process.env;
        const child = launch(group(role), cliArgv('agent', ['--role', role, '--listen', `${addr}:0`, '--token-file', spec.tokenPath, ...(opts.allowCommands ? ['--allow-commands'] : [])]), {
          stdio: ['ignore', 'pipe', log],
          env,
        });
        closeSync(log);
        children.push(child);
        const ready = await waitReady(child, { name: `agent ${role} on ${nodes[spec.roles[group(role)]!]}`, log: join(spec.logDir, `${spec.id}-agents.log`), timeoutMs: 30_000 });
        endpoints.push({ role, url: `http://${addr.includes(':') ? `[${addr}]` : addr}:${String(ready['port'])}`, token });
      }
    } catch (e) {
      await stopAgents();
      throw e;
    }
    return { endpoints, pids: [], stop: stopAgents };
  };

  const hookLog = join(spec.setDir, 'hooks.log');
  let recorder: RunRecorder | undefined;
  let result: PointResult;
  let clocks: NodeResult['clocks'] = {};
  let conditions: PointConditions | undefined;
  let watch: MachineWatch | undefined;
  try {
    let recErr: string | undefined;
    if (spec.recording) {
      try {
        recorder = await RunRecorder.start(spec.recording, spec.setDir, () => undefined, startAgents);
        await recorder.beginPoint(spec.id);
      } catch (e) {
        recErr = `recording did not start: ${errorMessage(e)}`;
      }
    }
    const hook = async (h: ResolvedHook, values: Record<string, unknown>): Promise<string | undefined> => {
      if (h.on !== undefined) {
        const r = recorder ? await recorder.runHook(h, values) : { argv: h.argv, error: 'recording is off, so no agent can run it' };
        const message = r.error ?? r.reply?.error ?? (r.reply && r.reply.exitCode !== 0 ? `exited with code ${r.reply.exitCode}` : undefined);
        return message === undefined ? undefined : `${h.where} on ${h.on} ${JSON.stringify(r.argv)} ${message}`;
      }
      const r = await runHook(h, values, hookLog, abort.signal, spec.cwd, () => undefined);
      return r.ok ? undefined : `${h.where} ${JSON.stringify(r.argv)} ${r.message}`;
    };
    // A job's nodes come fresh to each point: every parameter's `before` hooks run before it, and
    // its `after` hooks after it, on the job's first node (or the `on:` role's agent).
    let hookErr: string | undefined;
    for (const hs of Object.values(spec.paramHooks)) {
      for (const h of hs.before) hookErr ??= await hook(h, spec.values);
    }
    if (hookErr) {
      result = abort.signal.aborted ? interrupted() : { outcome: { status: 'failed', error: `hook failed: ${hookErr}` }, metrics: {}, wallS: 0, flags: [] };
    } else {
      const recording = recorder && !recErr ? recorder : undefined;
      // Without agents, the job watches its first node for the point's conditions.
      watch = recording ? undefined : new MachineWatch();
      watch?.start();
      try {
        result = await (
          await workloadOf(spec)
        ).run({
          params: spec.params,
          typed: spec.typed,
          rep: spec.rep,
          key: spec.key,
          dir: spec.dir,
          warmupS: spec.warmupS,
          ...(spec.durationS !== undefined ? { durationS: spec.durationS } : {}),
          templateValues: spec.values,
          signal: abort.signal,
          // The job's processes are Slurm's: it ends them with the job, whatever becomes of this one.
          onProcess: () => undefined,
          placement,
          ...recordingContext(recording, (m) => (recErr ??= m), placement),
        });
      } catch (e) {
        result = { outcome: { status: 'failed', error: `workload error: ${errorMessage(e)}` }, metrics: {}, wallS: 0, flags: [] };
      }
      for (const hs of Object.values(spec.paramHooks)) {
        for (const h of hs.after) {
          const err = await hook(h, spec.values);
          if (err) result.flags.push(`after hook failed: ${err}`);
        }
      }
    }
    const watched = watch?.stop();
    ({ conditions, clocks } = await endPoint(result, { dir: spec.dir, ...(recorder ? { recorder } : {}), ...(recErr !== undefined ? { recErr } : {}), roles: spec.roles, ...(watched ? { watched } : {}), placement, nodes }));
  } finally {
    await recorder?.stop();
  }
  const { series: _series, ...rest } = result;
  writeJsonAtomic(spec.resultPath, { result: rest, nodes, clocks, ...(conditions ? { conditions } : {}) } satisfies NodeResult);
}

/**
 * The runner of the point's workload: from this process's registry, or from the module the
 * engine named (a workload registered there that this process lacks, loaded as the engine's
 * user loaded it: the spec is the engine's, in the set's private `.slurm/`).
 */
async function workloadOf(spec: PointSpec): Promise<Workload> {
  if (!workloadModule(spec.workload.type) && spec.workloadModule !== undefined) {
    const { tsImport } = await import('tsx/esm/api');
    const mod = (await tsImport(spec.workloadModule, import.meta.url)) as { default?: WorkloadModule };
    if (mod.default) registerWorkload(mod.default);
  }
  return createWorkload(spec.workload);
}

function interrupted(): PointResult {
  return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: 0, flags: [] };
}

/** Starts argv on the node of het group `g`: here for the first, through srun for the others. */
function launch(g: number, argv: readonly string[], opts: SpawnOptions): ChildProcess {
  if (g === 0) return spawn(argv[0]!, argv.slice(1), opts);
  // --overlap: the job's steps share its nodes (the agent and the role on one node);
  // --kill-on-bad-exit=0 and one task: srun's exit is the role's.
  return spawn('srun', [`--het-group=${g}`, '--overlap', '--nodes=1', '--ntasks=1', '--quiet', '--export=ALL', ...argv], opts);
}
