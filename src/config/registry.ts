/**
 * The registry of workload definitions config resolves with, and the recording metrics every
 * workload shares. Config lists no workload of its own: it starts empty, and whoever assembles
 * the program hands it the definitions (the workload modules' registry, src/workloads/index.ts,
 * registers the built-ins and any other with registerWorkloadDef; the CLI, the library entry
 * point and the tests import that registry). Everything in config and above asks this registry
 * (workloadDecl, declaredRoles, placement, declaredFrameStages, renamedMetrics), never a
 * workload's module.
 */
import type { ExecutorPlacement, FrameStageDecl, MetricDecl, MetricRename, ParamDecl, PlacingExecutor } from './declare.ts';
import type { WorkloadDef } from './workload-def.ts';
import { RECORDING_METRICS } from './recording-metrics.ts';

export { RECORDING_METRICS };

const registry = new Map<string, WorkloadDef>();

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
