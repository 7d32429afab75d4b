/** Whether this machine has what a workload's points need installed (its declaration's `needs`). */
import { existsSync } from 'node:fs';
import { which } from '../base/which.ts';
import type { NeedDecl } from './declare.ts';

/** A need and where it was found on this machine (undefined: not here). */
export interface NeedFound {
  need: NeedDecl;
  at: string | undefined;
}

/** Looks each need up on this machine: a program on PATH, or a file by its absolute path. */
export function findNeeds(needs: readonly NeedDecl[], path = process.env['PATH'] ?? ''): NeedFound[] {
  return needs.map((need) => ({ need, at: need.check.startsWith('/') ? (existsSync(need.check) ? need.check : undefined) : which(need.check, path) }));
}

/** One line per need: found where, or missing with the package that provides it. */
export function describeNeeds(found: readonly NeedFound[]): string[] {
  return found.map(({ need, at }) => (at !== undefined ? `${need.what}: found (${at})` : `${need.what}: NOT FOUND on this machine (${need.check})${need.debian ? `; on Debian: apt-get install ${need.debian}, or ./scripts/setup.sh` : ''}`));
}
