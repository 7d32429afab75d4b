// The machine's errors (a read-only mount, a full disk, permissions, files damaged from outside)
// reach the user as one line naming the file and what to do, with a documented exit code, never a
// stack trace; and the points already recorded stay exactly as they were. Real mounts (tmpfs), real
// CLI processes, real DuckDB: as root, file modes prove nothing, so a read-only mount and a full
// file system are the real thing here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { ExitCode } from '../src/base/errors.ts';
import { reportError } from '../src/cli/main.ts';
import { runCli } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-env-'));
const mounts: string[] = [];

after(() => {
  // Always, failed tests included: a tmpfs left mounted would outlive the test run.
  for (const m of mounts.reverse()) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

const cli = (args: string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; nodeArgs?: string[] } = {}): Run => runCli(args, { ...opts, cwd: work, env: { STREAMBENCH_DEBUG: '', ...opts.env } });

/** One line on stderr, `error: ...`, no stack frame, the expected exit code, and each pattern in it. */
function assertCleanError(r: Run, code: number, ...patterns: RegExp[]): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.err})`);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.err}`);
  assert.match(lines[0]!, /^error: /);
  assert.doesNotMatch(r.err, /^\s+at /m, 'no stack trace');
  for (const p of patterns) assert.match(lines[0]!, p);
}

function bench(name: string, n: number[], attempts: string): string {
  // Each point appends its n to `attempts` (outside the result set's disk), then prints ~100 KB.
  const p = join(work, `${name}.yaml`);
  writeFileSync(
    p,
    `name: env
workload:
  type: command
  argv: [awk, "BEGIN {{ print {n} >> \\"${attempts}\\"; close(\\"${attempts}\\"); for (i = 0; i < 5000; i++) print \\"a line of output\\", i }}"]
recording: false
on_error: continue
matrix:
  n: [${n.join(', ')}]
`,
  );
  return p;
}

/** point directory -> the bytes of its point.json. */
function snapshot(set: string): Map<string, string> {
  const pts = join(set, 'points');
  return new Map(readdirSync(pts).map((d) => [d, readFileSync(join(pts, d, 'point.json'), 'latin1')]));
}

function assertKept(set: string, before: Map<string, string>): void {
  const now = snapshot(set);
  for (const [d, bytes] of before) assert.equal(now.get(d), bytes, `${d}/point.json unchanged`);
}

/** Files a failed write could have left: temporary files and staged points. */
function leftovers(set: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.tmp') || p.includes('/.staging/')) found.push(p);
    }
  };
  walk(set);
  return found;
}

/** A fresh tmpfs of `kb` KiB, or why there can be none here. */
function tmpfs(name: string, kb: number): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = join(work, name);
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `mount not permitted here: ${r.stderr.trim()}` };
  mounts.push(dir);
  return dir;
}

function remount(dir: string, mode: 'ro' | 'rw'): void {
  const r = spawnSync('mount', ['-o', `remount,${mode}`, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Fills the file system of dir with `name` until exactly `leaveKb` KiB are left (tmpfs counts whole pages). */
function fill(dir: string, name: string, leaveKb: number): void {
  const s = statfsSync(dir);
  const bytes = s.bavail * s.bsize - leaveKb * 1024;
  assert.ok(bytes > 0, `only ${s.bavail * s.bsize} bytes free`);
  writeFileSync(join(dir, name), Buffer.alloc(bytes));
  const left = statfsSync(dir);
  assert.equal(left.bavail * left.bsize, leaveKb * 1024);
}

test('every exit code is documented in the table of docs/exit-codes.md and in the --help of the command that gives it', () => {
  const page = readFileSync(join(root, 'docs/exit-codes.md'), 'utf8');
  assert.ok(page.includes('| code | meaning |'), 'docs/exit-codes.md has the table of exit codes');
  const table = page.slice(page.indexOf('| code | meaning |'));
  // `run` gives every code but the regression gate's, which only `compare` gives.
  const helpOf = (cmd: string) => cli([cmd, '--help']).out.replace(/\s+/g, ' ');
  const runHelp = helpOf('run');
  const compareHelp = helpOf('compare');
  for (const [name, code] of Object.entries(ExitCode)) {
    assert.match(table, new RegExp(`^\\| ${code} \\| \\S`, 'm'), `docs/exit-codes.md documents ${name} (${code})`);
    const [cmd, help] = code === ExitCode.regression ? ['compare', compareHelp] : ['run', runHelp];
    assert.match(help, new RegExp(`\\b${code} [a-z]|[Ee]xit code ${code}\\b`), `${cmd} --help documents ${name} (${code})`);
  }
});

test('read-only result set: run stops with one line naming the path and EROFS (exit 5); what was recorded still reads, unchanged', (t) => {
  const mnt = tmpfs('ro', 2048);
  if (typeof mnt !== 'string') {
    t.skip(mnt.skip);
    return;
  }
  const attempts = join(work, 'ro-attempts.log');
  const set = join(mnt, 'set');
  const first = cli(['run', bench('ro3', [1, 2, 3], attempts), '--results', set]);
  assert.equal(first.code, 0, first.err);
  const before = snapshot(set);
  assert.equal(before.size, 3);

  remount(mnt, 'ro');
  const more = bench('ro5', [1, 2, 3, 4, 5], attempts);
  assertCleanError(cli(['run', more, '--results', set]), ExitCode.environment, new RegExp(`${set}/\\.lock`), /read-only file system \(EROFS\)/, /remount/);
  // mkdir -p below a read-only mount says ENOENT; the error gives the real cause.
  const fresh = join(mnt, 'new', 'set');
  assertCleanError(cli(['run', more, '--results', fresh]), ExitCode.environment, new RegExp(fresh), /\(EROFS\)/);
  assert.deepEqual(readFileSync(attempts, 'utf8').trim().split('\n'), ['1', '2', '3'], 'no point ran on the read-only set');

  const show = cli(['results', 'show', set]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /3 point\(s\)/);
  const q = cli(['results', 'query', set, "select count(*) as n from points where status = 'ok'"]);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /^3\s*$/m);
  // DuckDB's own write (COPY) and the temporary directory of an export to stdout, on the read-only disk.
  assertCleanError(cli(['results', 'export', set, '--format', 'csv', '-o', join(mnt, 'out.csv')]), ExitCode.environment, new RegExp(`${mnt}/out\\.csv`), /\(EROFS\)/);
  assertCleanError(cli(['results', 'export', set], { env: { TMPDIR: mnt } }), ExitCode.environment, new RegExp(mnt), /\(EROFS\)/);
  assertKept(set, before);

  remount(mnt, 'rw');
  const resumed = cli(['run', more, '--results', set]);
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(snapshot(set).size, 5);
  assertKept(set, before);
});

test('full disk during a point: one line with ENOSPC (exit 5), the run stops, no half point, recorded points unchanged; with space back it resumes', (t) => {
  const mnt = tmpfs('full', 2048);
  if (typeof mnt !== 'string') {
    t.skip(mnt.skip);
    return;
  }
  const attempts = join(work, 'full-attempts.log');
  const set = join(mnt, 'set');
  const first = cli(['run', bench('full3', [1, 2, 3], attempts), '--results', set]);
  assert.equal(first.code, 0, first.err);
  const before = snapshot(set);

  // 64 KiB left: room for the run's lock and bookkeeping, not for a point's 100 KB of output.
  fill(mnt, 'filler', 64);
  const more = bench('full6', [1, 2, 3, 4, 5, 6], attempts);
  const r = cli(['run', more, '--results', set]);
  assertCleanError(r, ExitCode.environment, new RegExp(`${set}/`), /no space left on device \(ENOSPC\)/, /recorded points are kept/);
  const ran = readFileSync(attempts, 'utf8').trim().split('\n').slice(3);
  assert.equal(ran[0], '4', 'the failure came during a point, not before it');
  // The first point to find the disk full stops the run. (Its program failing to write may still
  // leave room for its own record, as `failed`: then the next point is the one that stops it.)
  assert.ok(!ran.includes('6'), `the run stopped instead of failing every point: ran ${ran.join(', ')}`);
  const now = snapshot(set);
  for (const [d, text] of now) {
    if (before.has(d)) continue;
    assert.equal((JSON.parse(text) as { outcome: { status: string } }).outcome.status, 'failed', `${d}: a point the disk cut short is never recorded as ok`);
  }
  assert.deepEqual(leftovers(set), [], 'no staged point or temporary file left');
  assert.ok(!existsSync(join(set, '.lock')), 'the lock is released');
  assertKept(set, before);

  // DuckDB's "IO Error ... No space left on device" is the disk's error too.
  fill(mnt, 'filler2', 0);
  assertCleanError(cli(['results', 'export', set, '--format', 'csv', '-o', join(mnt, 'out.csv')]), ExitCode.environment, /out\.csv/, /\(ENOSPC\)/);
  const show = cli(['results', 'show', set]);
  assert.equal(show.code, 0, 'a full disk still reads');

  rmSync(join(mnt, 'filler'));
  rmSync(join(mnt, 'filler2'));
  rmSync(join(mnt, 'out.csv'), { force: true });
  const resumed = cli(['run', more, '--results', set]);
  assert.equal(resumed.code, 0, resumed.err);
  const all = snapshot(set);
  assert.equal(all.size, 6);
  for (const text of all.values()) assert.equal((JSON.parse(text) as { outcome: { status: string } }).outcome.status, 'ok');
  assertKept(set, before);
});

test('a damaged .lock stops run with its path and what to do (exit 4); an empty one is taken over as stale', () => {
  const set = join(work, 'lock-set');
  const file = bench('lock', [1, 2], join(work, 'lock-attempts.log'));
  assert.equal(cli(['run', file, '--results', set]).code, 0);
  const before = snapshot(set);
  const lock = join(set, '.lock');

  // Escape sequences in the file must not reach the terminal.
  writeFileSync(lock, '\x1b[31mnot a lock{');
  const r = cli(['run', file, '--results', set, '--force']);
  assertCleanError(r, ExitCode.store, new RegExp(`${lock} is corrupt`), /delete/);
  assert.ok(!r.err.includes('\x1b'));
  writeFileSync(lock, '{"pid": 1}');
  assertCleanError(cli(['run', file, '--results', set, '--force']), ExitCode.store, new RegExp(lock), /no pid and host/);
  assert.equal(readFileSync(lock, 'utf8'), '{"pid": 1}', 'never removed behind the user');
  assertKept(set, before);

  writeFileSync(lock, '');
  const taken = cli(['run', file, '--results', set]);
  assert.equal(taken.code, 0, taken.err);
  assert.ok(!existsSync(lock));
});

test('a damaged point.json stops run and results with its path and what to do (exit 4), and is never overwritten', () => {
  const set = join(work, 'point-set');
  const file = bench('point', [1, 2], join(work, 'point-attempts.log'));
  assert.equal(cli(['run', file, '--results', set]).code, 0);
  const [dir] = [...snapshot(set).keys()];
  const pj = join(set, 'points', dir!, 'point.json');
  const good = readFileSync(pj, 'utf8');

  writeFileSync(pj, good.slice(0, 40));
  const fix = new RegExp(`move ${join(set, 'points', dir!)} out of the result set`);
  assertCleanError(cli(['run', file, '--results', set]), ExitCode.store, new RegExp(`${pj} is corrupt \\(not valid JSON`), fix);
  assertCleanError(cli(['results', 'show', set]), ExitCode.store, new RegExp(pj), fix);
  assert.equal(readFileSync(pj, 'utf8'), good.slice(0, 40));
  writeFileSync(pj, '{"format": 1}');
  assertCleanError(cli(['results', 'query', set, 'select 1']), ExitCode.store, new RegExp(`${pj} is not a valid point record`));

  writeFileSync(pj, good);
  const ok = cli(['run', file, '--results', set]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /2 already recorded/);
});

test('results on what is not a result set: a missing path, a file, a plain directory, an unreadable set', (t) => {
  const file = join(work, 'plain.txt');
  writeFileSync(file, 'not a set\n');
  const plain = join(work, 'plain-dir');
  mkdirSync(plain, { recursive: true });
  assertCleanError(cli(['results', 'show', join(work, 'no-such-dir')]), ExitCode.store, /no-such-dir does not exist/);
  assertCleanError(cli(['results', 'export', file]), ExitCode.store, /plain\.txt is a file, not a result set directory/);
  assertCleanError(cli(['results', 'query', plain, 'select 1']), ExitCode.store, /plain-dir is not a result set/);
  assertCleanError(cli(['results', 'list', '--root', file]), ExitCode.store, /plain\.txt is a file/);

  // Permissions only bind a process that is not root: the same CLI as `nobody`.
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) {
    t.skip('needs root and setpriv to run the CLI as another user');
    return;
  }
  const set = join(work, 'private-set');
  assert.equal(cli(['run', bench('private', [1], join(work, 'private-attempts.log')), '--results', set]).code, 0);
  chmodSync(work, 0o755);
  chmodSync(set, 0o700);
  assertCleanError(cli(['results', 'show', set], { uid: 65534 }), ExitCode.environment, new RegExp(`${set}/streambench-set.json`), /permission denied \(EACCES\)/);
  chmodSync(set, 0o755);
  assertCleanError(cli(['run', join(work, 'private.yaml'), '--results', set], { uid: 65534 }), ExitCode.environment, new RegExp(`${set}/\\.lock`), /\(EACCES\)/);
});

test('an unexpected error anywhere is one line and exit 70; STREAMBENCH_DEBUG=1 adds the stack', () => {
  // A fault injected into a real CLI process once its last-resort handlers are in place: a throw
  // in a timer and an unhandled rejection, as a long-running command's event handlers could.
  for (const [name, fault] of [
    ['throw', "throw new TypeError('boom in a handler')"],
    ['reject', "Promise.reject(new RangeError('boom in a promise'))"],
  ] as const) {
    const preload = join(work, `fault-${name}.mjs`);
    // Fired as soon as the CLI's handlers are in place, or at the latest when it would exit; never keeps it alive.
    writeFileSync(
      preload,
      `let fired = false;
const fire = () => { if (fired) return; fired = true; ${fault}; };
const t = setInterval(() => { if (process.listenerCount('uncaughtException') > 0) { clearInterval(t); fire(); } }, 5);
t.unref();
process.on('beforeExit', () => { if (!fired) setImmediate(fire); });
`,
    );
    const r = cli(['--help'], { nodeArgs: ['--import', preload] });
    assertCleanError(r, ExitCode.internal, /^error: boom in a (handler|promise) \(internal error; run with STREAMBENCH_DEBUG=1 for the stack\)$/);
    const debug = cli(['--help'], { nodeArgs: ['--import', preload], env: { STREAMBENCH_DEBUG: '1' } });
    assert.equal(debug.code, ExitCode.internal);
    assert.match(debug.err, /^\s+at .*fault-/m, 'the stack, when asked for');
  }
});

test('the CLI reporter: an fs error that escaped unnamed is still the disk (exit 5); a bug is internal (exit 70)', () => {
  let full: unknown;
  try {
    writeFileSync('/dev/full', 'x');
  } catch (e) {
    full = e;
  }
  assert.ok(full, '/dev/full refuses writes');
  const text = (e: unknown) => {
    const s = new PassThrough();
    const code = reportError(e, s);
    return { code, line: String(s.read() ?? '') };
  };
  const disk = text(full);
  assert.equal(disk.code, ExitCode.environment);
  assert.match(disk.line, /^error: cannot write: no space left on device \(ENOSPC\); free space/);
  const bug = text(new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere"));
  assert.equal(bug.code, ExitCode.internal);
  assert.equal(bug.line, "error: Cannot read properties of undefined (reading 'x') (internal error; run with STREAMBENCH_DEBUG=1 for the stack)\n");
});
