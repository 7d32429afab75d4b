/**
 * The desktop stacks a role process (`streambench desktop guest|client`) can run, by id: the
 * machinery (src/workloads/desktop/) may not import a workload's folder, so the table that joins
 * the two lives beside the workloads' registry. Adding a stack is its folder and one line here.
 */
import type { DesktopStack } from './desktop/stack.ts';
import { RDP_STACK } from './rdp/stack.ts';
import { SPICE_STACK } from './spice/stack.ts';
import { VNC_STACK } from './vnc/stack.ts';

/** Every stack by its id. */
export const DESKTOP_STACKS: Readonly<Record<string, DesktopStack>> = Object.fromEntries([SPICE_STACK, VNC_STACK, RDP_STACK].map((s) => [s.id, s as unknown as DesktopStack]));
