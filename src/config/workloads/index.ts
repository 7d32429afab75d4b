/** Every workload's declaration, by type, and the recording metrics they share. */
import type { MetricDecl, ParamDecl, WorkloadDecl } from '../declare.ts';
import { COMMAND_DECL } from './command.ts';
import { RECORDING_METRICS } from './recording.ts';
import { SPICE_DECL } from './spice.ts';
import { STREAM_DECL } from './stream.ts';

export { RECORDING_METRICS };

/** The declarations of the workload types this version knows. */
export const WORKLOAD_DECLS: Readonly<Record<string, WorkloadDecl>> = { stream: STREAM_DECL, spice: SPICE_DECL, command: COMMAND_DECL };

/** The declaration of a workload type; undefined for a type this version does not know. */
export function workloadDecl(type: string): WorkloadDecl | undefined {
  return Object.hasOwn(WORKLOAD_DECLS, type) ? WORKLOAD_DECLS[type] : undefined;
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
