/** The workload for a resolved benchmark's `workload` section. */
import type { ResolvedWorkload } from '../config/resolved.ts';
import { CommandRunner } from './command.ts';
import { SpiceRunner } from './spice.ts';
import { StreamRunner } from './stream.ts';
import type { Workload } from './workload.ts';

export function createWorkload(w: ResolvedWorkload): Workload {
  switch (w.type) {
    case 'command':
      return new CommandRunner(w);
    case 'stream':
      return new StreamRunner(w);
    case 'spice':
      return new SpiceRunner(w);
  }
}
