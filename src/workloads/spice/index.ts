/** The `spice` workload as one module: its definition (config's side, src/config/workloads/spice*.ts) and its runner. */
import type { SpiceWorkload } from '../../config/resolved.ts';
import { SPICE_WORKLOAD } from '../../config/workloads/spice-resolve.ts';
import type { WorkloadModule } from '../index.ts';
import { SpiceRunner } from './run.ts';

export const SPICE: WorkloadModule<SpiceWorkload> = { def: SPICE_WORKLOAD, create: (w) => new SpiceRunner(w) };
