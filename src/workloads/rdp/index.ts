/** The `rdp` workload as one module: its definition (declare.ts: schema, declarations, resolution; imports base and config only) and its runner (run.ts). */
import { RDP_WORKLOAD, type RdpWorkload } from './declare.ts';
import type { WorkloadModule } from '../index.ts';
import { RdpRunner } from './run.ts';

export const RDP: WorkloadModule<RdpWorkload> = { def: RDP_WORKLOAD, create: (w) => new RdpRunner(w) };
