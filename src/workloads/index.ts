/**
 * The registry of workload modules: each is one module that declares everything about its
 * workload (its definition, which config resolves with: parameters, metrics, roles, placement,
 * what it needs installed, how it resolves its part of a benchmark file) and runs its points.
 * Adding a workload is its module and one line here (or one registerWorkload call). Loading
 * this module hands config the built-ins' definitions: every program entry imports it. The engine,
 * the executors and the CLI ask this registry and the definitions; none names a workload.
 */
import { registerWorkloadDef, workloadDecl } from '../config/registry.ts';
import type { ResolvedWorkload } from '../config/resolved.ts';
import type { WorkloadDef } from '../config/workload-def.ts';
import { COMMAND } from './command/index.ts';
import { RDP } from './rdp/index.ts';
import { SPICE } from './spice/index.ts';
import { STREAM } from './stream/index.ts';
import { VNC } from './vnc/index.ts';
import type { Workload } from './workload.ts';

/** A workload: its definition (config's side) and how a point of it runs. */
export interface WorkloadModule<W extends ResolvedWorkload = ResolvedWorkload> {
  def: WorkloadDef<W>;
  /** The runner of a benchmark's resolved workload. */
  create(w: W): Workload;
  /**
   * The module's URL (its `import.meta.url`), whose default export is this object: a process
   * that runs a point elsewhere (a Slurm job's) loads it from there when its own registry
   * lacks the type. Absent for the built-in workloads, which every streambench process has.
   */
  url?: string;
}

/** The workloads this version ships, each its folder's module (src/workloads/<type>/index.ts). */
export const BUILTIN_WORKLOADS: readonly WorkloadModule[] = [STREAM, SPICE, VNC, RDP, COMMAND] as readonly WorkloadModule[];

const modules = new Map<string, WorkloadModule>();
// Config knows no workload of its own (src/config/registry.ts): this registry, which the CLI, the
// library entry point and the tests import, hands it the built-ins' definitions when first loaded.
for (const m of BUILTIN_WORKLOADS) registerWorkload(m);

/** Adds a workload module (its definition goes to config's registry too): benchmark files may name it from then on. */
export function registerWorkload<W extends ResolvedWorkload>(m: WorkloadModule<W>): void {
  modules.set(m.def.type, m);
  registerWorkloadDef(m.def);
}

/** The module of a workload type; undefined for one this process does not know. */
export function workloadModule(type: string): WorkloadModule | undefined {
  return modules.get(type);
}

/** The runner for a resolved benchmark's `workload` section. */
export function createWorkload(w: ResolvedWorkload): Workload {
  const m = modules.get(w.type);
  if (!m || !workloadDecl(w.type)) throw new Error(`no workload module of type '${w.type}' is registered`);
  return m.create(w);
}
