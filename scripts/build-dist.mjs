#!/usr/bin/env node
// Compiles src/ to dist/ (tsc -p tsconfig.build.json) and stamps the build: dist/.build-stamp
// holds the content hash of the sources compiled (src/base/code-identity.ts, the code identity
// of everything run from dist/) and is dated when they were read, so that bin/streambench.js
// takes dist/ as fresh only when no source changed since. The stamp goes first (a half-built
// dist/ is never taken as fresh: the CLI runs the sources meanwhile) and comes back last, by
// rename (a reader sees the old stamp or none or the whole new one). The sources are hashed
// again after compiling: when they changed during the build, it is done again.
// dist/web (the GUI, scripts/build-web.mjs) is left as it is.
// Usage: node scripts/build-dist.mjs [--quiet]
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, utimesSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const { BUILD_STAMP, sourcesHash } = await import('../src/base/code-identity.ts');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const quiet = process.argv.includes('--quiet');

function compile() {
  // Everything but the GUI's build, which has its own stamp (a minute to rebuild for nothing).
  for (const n of readdirSync(dist)) if (n !== 'web') rmSync(join(dist, n), { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`build-dist: tsc failed (${r.status ?? r.signal}); dist/ has no stamp, so the CLI runs the sources\n`);
    process.exit(1);
  }
}

mkdirSync(dist, { recursive: true });
rmSync(join(dist, BUILD_STAMP), { force: true });
for (let attempt = 1; ; attempt++) {
  const started = new Date();
  const before = sourcesHash(join(root, 'src'));
  compile();
  const after = sourcesHash(join(root, 'src'));
  if (after !== before) {
    if (attempt < 3) continue;
    process.stderr.write('build-dist: the sources kept changing while they were compiled; dist/ has no stamp, so the CLI runs the sources\n');
    process.exit(1);
  }
  const stamp = join(dist, BUILD_STAMP);
  const tmp = join(dist, `.${BUILD_STAMP}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify({ sources: before, builtAt: started.toISOString() })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  utimesSync(tmp, started, started);
  renameSync(tmp, stamp);
  if (!quiet) console.log(`build-dist: dist/ compiled from sources ${before.slice(0, 12)} in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`);
  break;
}
