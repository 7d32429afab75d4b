/** The `spice` workload as one module: its definition (declare.ts: schema, declarations, resolution; imports base and config only) and its runner (run.ts). */
import { SPICE_WORKLOAD, type SpiceWorkload } from './declare.ts';
import type { WorkloadModule } from '../index.ts';
import { SpiceRunner } from './run.ts';

export const SPICE: WorkloadModule<SpiceWorkload> = { def: SPICE_WORKLOAD, create: (w) => new SpiceRunner(w) };
