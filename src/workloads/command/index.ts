/** The `command` workload as one module: its definition (declare.ts: schema, declarations, resolution; imports base and config only) and its runner (run.ts). */
import { COMMAND_WORKLOAD, type CommandWorkload } from './declare.ts';
import type { WorkloadModule } from '../index.ts';
import { CommandRunner } from './run.ts';

export const COMMAND: WorkloadModule<CommandWorkload> = { def: COMMAND_WORKLOAD, create: (w) => new CommandRunner(w) };
