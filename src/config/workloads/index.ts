/**
 * The registry of workload definitions config resolves with, and the recording metrics they
 * share. It starts with the built-in workloads' definitions; whoever assembles the program (the
 * workload modules' registry, src/workloads/index.ts) hands it the others with registerWorkloadDef,
 * so config never lists or branches on a workload of its own accord.
 *
 * Why the built-in definitions still live here (config), not in src/workloads/<name>/declare.ts
 * beside their runners, and why this registry seeds them itself instead of being handed them:
 * - the pipeline (src/stream, below the workloads) reads StreamSettings, typed by the stream
 *   declaration's parameters (stream-settings.ts from STREAM_PARAM_DECLS); spice's settings and
 *   the benchmark file's JSON Schema (schema.ts) likewise; that data must stay at or below config;
 * - config's own callers that no top assembles (loadBenchmark in config's and the store's tests,
 *   the store upgrading old records, the server's routes, bench/) read this registry directly:
 *   handing it down means loadBenchmark / resolveBenchmark and the store taking a registry
 *   argument, the next step of issue 20 item 1.
 * Everything above config asks this registry (workloadDecl, declaredRoles, placement,
 * declaredFrameStages, renamedMetrics), never a built-in's module, except a workload's own
 * runner and `streambench stream`, the pipeline's command, which read the stream declaration.
 */
import type { ExecutorPlacement, FrameStageDecl, MetricDecl, MetricRename, ParamDecl, PlacingExecutor } from '../declare.ts';
import type { WorkloadDef } from '../workload-def.ts';
import { COMMAND_WORKLOAD } from './command-resolve.ts';
import { RECORDING_METRICS } from './recording.ts';
import { SPICE_WORKLOAD } from './spice-resolve.ts';
import { STREAM_WORKLOAD } from './stream-resolve.ts';

export { RECORDING_METRICS };

/** The definitions of the workload types this version ships. */
export const WORKLOAD_DECLS: Readonly<Record<string, WorkloadDef>> = { stream: STREAM_WORKLOAD, spice: SPICE_WORKLOAD, command: COMMAND_WORKLOAD };

const registry = new Map<string, WorkloadDef>(Object.entries(WORKLOAD_DECLS));

/** Adds a workload's definition (or replaces the one of its type): from then on benchmark files may name it. */
export function registerWorkloadDef(d: WorkloadDef): void {
  registry.set(d.type, d);
}

/** The workload types known, in registration order. */
export function workloadTypes(): string[] {
  return [...registry.keys()];
}

/** The definition of a workload type; undefined for a type this program does not know. */
export function workloadDecl(type: string): WorkloadDef | undefined {
  return registry.get(type);
}

/** A workload's declared parameter by name. */
export function paramDecl(type: string, name: string): ParamDecl | undefined {
  return workloadDecl(type)?.params.find((p) => p.name === name);
}

/** What a point of this workload may record: its own metrics, then the recording agents'. */
export function declaredMetrics(type: string): readonly MetricDecl[] {
  return [...(workloadDecl(type)?.metrics ?? []), ...RECORDING_METRICS];
}

/** The roles a workload's points have (machines of the chain it places: guest, host, client; `local` for command). */
export function declaredRoles(type: string): readonly string[] {
  return workloadDecl(type)?.roles ?? ['local'];
}

/** How an executor places a workload's points (its machines, one per role), or why it cannot. */
export function placement(type: string, executor: PlacingExecutor): ExecutorPlacement {
  return workloadDecl(type)?.executors[executor] ?? { refused: `unknown workload type '${type}'` };
}

/** The metrics a workload's old records stored under other names or units (its declaration's `renamed`). */
export function renamedMetrics(type: string): readonly MetricRename[] {
  return workloadDecl(type)?.renamed ?? [];
}

/** The frame stages the workloads known declare, in registration order, each name once (the stage stack's and frame view's stages). */
export function declaredFrameStages(): FrameStageDecl[] {
  const out = new Map<string, FrameStageDecl>();
  for (const d of registry.values()) for (const s of d.frameStages ?? []) if (!out.has(s.name)) out.set(s.name, s);
  return [...out.values()];
}
