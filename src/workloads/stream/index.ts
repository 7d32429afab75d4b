/** The `stream` workload as one module: its definition (config's side, src/config/workloads/stream*.ts) and its runner. */
import type { StreamWorkload } from '../../config/resolved.ts';
import { STREAM_WORKLOAD } from '../../config/workloads/stream-resolve.ts';
import type { WorkloadModule } from '../index.ts';
import { StreamRunner } from './run.ts';

export const STREAM: WorkloadModule<StreamWorkload> = { def: STREAM_WORKLOAD, create: (w) => new StreamRunner(w) };
