/** The `stream` workload as one module: its definition (declare.ts: schema, declarations, resolution; imports base and config only) and its runner (run.ts). */
import { STREAM_WORKLOAD, type StreamWorkload } from './declare.ts';
import type { WorkloadModule } from '../index.ts';
import { StreamRunner } from './run.ts';

export const STREAM: WorkloadModule<StreamWorkload> = { def: STREAM_WORKLOAD, create: (w) => new StreamRunner(w) };
