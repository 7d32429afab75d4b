/** The `command` workload as one module: its definition (config's side, src/config/workloads/command*.ts) and its runner. */
import type { CommandWorkload } from '../../config/resolved.ts';
import { COMMAND_WORKLOAD } from '../../config/workloads/command-resolve.ts';
import type { WorkloadModule } from '../index.ts';
import { CommandRunner } from './run.ts';

export const COMMAND: WorkloadModule<CommandWorkload> = { def: COMMAND_WORKLOAD, create: (w) => new CommandRunner(w) };
