#!/usr/bin/env node
// The test suite in two tiers:
//   fast: the unit tests beside the code (src/**/*.test.ts) and the few checks of test/ that run
//         nothing (FAST_IN_TEST), in parallel: one process per core, each importing its share of
//         the files, so tsx's start-up (about 2 s a process) is paid once per core, not per file;
//   e2e:  the end-to-end tests of test/ (real encoders, sockets, agents, browsers, Slurm), one
//         file after another.
// Usage: node scripts/run-tests.mjs [--quick] [FILE...]
//   --quick  the fast tier only; FILE...  just these files, one process each (either tier).
// Node 20's test runner takes no globs, so the files are listed here.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** Files of test/ that only read the sources or print (no process, socket or browser of their own). */
const FAST_IN_TEST = ['test/layers.test.ts', 'test/schema.test.ts', 'test/model-routes.test.ts'];

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.') || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => a !== '--quick');

/** Runs node's test runner over `files`; returns its exit status. */
function nodeTest(files, concurrency) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
  return r.status ?? 1;
}

if (only.length > 0) process.exit(nodeTest(only, 1));

const fast = [...find('src', []), ...FAST_IN_TEST].sort();
const e2e = find('test', [])
  .filter((f) => !FAST_IN_TEST.includes(f))
  .sort();

// Fast tier: the files dealt to one group per core; each group is one test process.
const groups = Math.max(1, Math.min(availableParallelism(), 4));
const dir = mkdtempSync(join(tmpdir(), 'streambench-fast-'));
const entries = [];
for (let g = 0; g < groups; g++) {
  const mine = fast.filter((_, i) => i % groups === g);
  if (mine.length === 0) continue;
  const entry = join(dir, `fast-${g + 1}.test.ts`);
  writeFileSync(entry, mine.map((f) => `import ${JSON.stringify(pathToFileURL(resolve(f)).href)};`).join('\n') + '\n');
  entries.push(entry);
}
const t0 = Date.now();
console.log(`# fast tier: ${fast.length} files in ${entries.length} processes`);
const fastStatus = nodeTest(entries, groups);
rmSync(dir, { recursive: true, force: true });
console.log(`# fast tier: ${fastStatus === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (quick) process.exit(fastStatus);

const t1 = Date.now();
console.log(`# end-to-end tier: ${e2e.length} files, one after another`);
const e2eStatus = nodeTest(e2e, 1);
console.log(`# end-to-end tier: ${e2eStatus === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
process.exit(fastStatus !== 0 ? fastStatus : e2eStatus);
