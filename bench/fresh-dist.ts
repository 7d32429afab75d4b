// Benchmarks of what runs from dist/ (the stream roles, the agent) compile it first when it is
// stale: run through tsx instead, they would measure its loader's CPU too (bench/loader-idle.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readBuildStamp, sourcesHash } from '../src/base/code-identity.ts';

const root = join(import.meta.dirname, '..');

/** Compiles dist/ (scripts/build-dist.mjs) unless its stamp is of the sources as they are; `what` says who runs from it. */
export function ensureFreshDist(what: string): void {
  if (readBuildStamp(join(root, 'dist'))?.sources === sourcesHash(join(root, 'src'))) return;
  console.log(`dist/ is older than src/: building it first (node scripts/build-dist.mjs), so ${what} run${what.endsWith('s') ? '' : 's'} compiled`);
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-dist.mjs'), '--quiet'], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error(`building dist/ failed: ${what} would run through tsx`);
}
