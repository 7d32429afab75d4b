// The code identity (src/base/code-identity.ts) under which readers save the points table beside
// a set's index: from dist/'s build stamp (written by scripts/build-dist.mjs) when the CLI runs
// compiled, from the sources' content when it runs through tsx; never a walk of dist/, where a
// report's page build writes its temporary folder while other commands read. A real copy of the
// program, compiled by its own build script, real CLI processes, a real process writing into dist/.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResultSet } from '../src/store/resultset.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-identity-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the program (its sources, bin/, scripts, configs; node_modules linked), with dist/ compiled by the copy's own build script. */
function programCopy(): string {
  const prog = join(work, 'prog');
  for (const p of ['bin', 'src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(root, p), join(prog, p), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(root, 'node_modules'), join(prog, 'node_modules'));
  const r = spawnSync(process.execPath, [join(prog, 'scripts/build-dist.mjs'), '--quiet'], { cwd: prog, encoding: 'utf8' });
  assert.equal(r.status, 0, `build: ${r.stderr}`);
  return prog;
}

/** A set of three points, committed through the store as a run commits them. */
function makeSet(dir: string): ResultSet {
  const set = ResultSet.openOrCreate(dir, 'b');
  for (const [i, key] of ['aaaa', 'bbbb', 'cccc'].entries()) {
    const w = set.beginPoint(key, 1);
    w.commit({
      key,
      rep: 1,
      index: i,
      params: { n: i },
      outcome: { status: 'ok' },
      attempts: 1,
      workload: 'command',
      benchmark: { name: 'b', sha256: 'x' },
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:01.000Z',
      wallS: 1,
      metrics: { v: i * 10 },
      flags: [],
    });
  }
  return set;
}

test('a folder appearing and vanishing in dist/ (a report build) while commands read: every read answers, under the one identity the build stamp names', async () => {
  const prog = programCopy();
  const dist = join(prog, 'dist');
  const stamp = JSON.parse(readFileSync(join(dist, '.build-stamp'), 'utf8')) as { sources: string };
  assert.match(stamp.sources, /^[0-9a-f]{64}$/, 'the stamp holds the hash of the sources compiled');
  // A source changed after the build, its time put back: the CLI still runs dist/ (it goes by times), and the
  // sources' hash now differs from the stamp's, so the name of the table saved tells which identity was used.
  const edited = join(prog, 'src', 'store', 'records.ts');
  const { atime, mtime } = statSync(edited);
  appendFileSync(edited, '// edited after the build\n');
  utimesSync(edited, atime, mtime);
  const set = makeSet(join(work, 'set'));

  // What a report's page build leaves in dist/ while it runs: its folder, files in it that come and go.
  // A link whose file is gone stands for one removed between a listing and a read.
  const building = join(dist, 'report.build-held');
  mkdirSync(building);
  symlinkSync(join(building, 'gone.js'), join(building, 'chunk.js'));
  const churn = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs'); for (let n = 0; ; n++) { const d = ${JSON.stringify(dist)} + '/report.build-' + n; fs.mkdirSync(d); fs.writeFileSync(d + '/a.js', 'x'); fs.mkdirSync(d + '/assets'); fs.writeFileSync(d + '/assets/b.js', 'y'); fs.rmSync(d, { recursive: true }); }`,
    ],
    { stdio: 'ignore' },
  );
  try {
    for (let i = 0; i < 6; i++) {
      const r = spawnSync(process.execPath, [join(prog, 'bin/streambench.js'), 'results', 'query', set.dir, 'select sum(v) as s from points'], { encoding: 'utf8', env: { ...process.env, STREAMBENCH_DEBUG: '', STREAMBENCH_FROM_SOURCE: '' } });
      assert.equal(r.status, 0, `query ${i}: ${r.stderr}`);
      assert.match(r.stdout, /\b30\b/);
    }
  } finally {
    churn.kill('SIGKILL');
  }
  // Saved once under the stamp's identity, then reused by every later read.
  const tables = readdirSync(join(set.dir, 'index')).filter((n) => n.startsWith('table-') && n.endsWith('.parquet'));
  assert.deepEqual(
    tables.map((n) => n.split('-').at(-1)),
    [`${stamp.sources.slice(0, 12)}.parquet`],
  );
  assert.ok(existsSync(building), 'the report build folder is left alone');
});

test('the identity from the sources (tsx) is their content: the same for the same text, another for an edit; tests and hidden files do not count', async () => {
  const { codeIdentity, sourcesHash } = await import('../src/base/code-identity.ts');
  const src = join(work, 'src-a');
  mkdirSync(join(src, 'store'), { recursive: true });
  writeFileSync(join(src, 'store', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(src, 'b.ts'), 'export const b = 2;\n');
  const first = sourcesHash(src);
  const copy = join(work, 'src-b');
  cpSync(src, copy, { recursive: true });
  assert.equal(sourcesHash(copy), first, 'content, not times or inodes');
  writeFileSync(join(copy, 'store', 'a.test.ts'), 'test');
  writeFileSync(join(copy, 'store', '.a.ts.swp'), 'swap');
  assert.equal(sourcesHash(copy), first, 'tests and hidden files are not the code');
  writeFileSync(join(copy, 'store', 'a.ts'), 'export const a = 2;\n');
  assert.notEqual(sourcesHash(copy), first, 'an edit changes it');
  assert.equal(codeIdentity(src, false), first.slice(0, 12));
  // Compiled: the stamp says it, and nothing else in dist/ is looked at; no usable stamp, no identity.
  const dist = join(work, 'dist-a');
  mkdirSync(join(dist, 'report.build-x'), { recursive: true });
  symlinkSync(join(dist, 'nowhere.js'), join(dist, 'report.build-x', 'gone.js'));
  assert.equal(codeIdentity(dist, true), undefined);
  writeFileSync(join(dist, '.build-stamp'), '');
  assert.equal(codeIdentity(dist, true), undefined, 'an empty stamp (an older build) names no identity');
  writeFileSync(join(dist, '.build-stamp'), JSON.stringify({ sources: first, builtAt: new Date().toISOString() }));
  assert.equal(codeIdentity(dist, true), first.slice(0, 12));
});
