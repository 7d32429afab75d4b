/** The `vnc` workload as one module: its definition (declare.ts: schema, declarations, resolution; imports base and config only) and its runner (run.ts). */
import { VNC_WORKLOAD, type VncWorkload } from './declare.ts';
import type { WorkloadModule } from '../index.ts';
import { VncRunner } from './run.ts';

export const VNC: WorkloadModule<VncWorkload> = { def: VNC_WORKLOAD, create: (w) => new VncRunner(w) };
