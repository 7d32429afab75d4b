// DuckDB's databases and connections come from one module (src/store/duck.ts): nothing else opens
// one; one piece of work at a time per connection (the Parquet writer under `run --parallel`); a
// file that cannot be read is one line naming it; a read that blocks (a FIFO in place of a Parquet
// file) is stopped at its bound while the other connections answer, and never keeps a closing
// process alive. Real DuckDB, real files, a real process for the last.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DuckDatabase, DuckFileError, readsInFlight } from '../src/store/duck.ts';
import { writeSeriesParquet } from '../src/store/parquet.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = join(root, 'test/fixtures/sets/old-stream/points/b0726dabe656-r1/samples.parquet');
const q = (p: string) => `'${p.replace(/'/g, "''")}'`;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Whether a thread of process pid waits in the kernel for a FIFO's other end (opening it blocks there). */
function waitsOnFifo(pid: number | 'self'): boolean {
  const dir = `/proc/${pid}/task`;
  try {
    return readdirSync(dir).some((t) => {
      try {
        return readFileSync(join(dir, t, 'wchan'), 'utf8').includes('wait_for_partner');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Resolves once cond() holds, looking again every 20 ms (no bound: the test's timeout is the bound). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

test('no module but src/store/duck.ts opens a DuckDB database or connection', () => {
  const offenders = sourceFiles(join(root, 'src'))
    .filter((f) => !f.endsWith(join('src', 'store', 'duck.ts')))
    .filter((f) => {
      const text = readFileSync(f, 'utf8');
      // A value import of DuckDBInstance, or a connection made by hand.
      return /import\s*\{[^}]*\bDuckDBInstance\b[^}]*\}\s*from\s*'@duckdb\/node-api'/.test(text.replace(/import type[^;]*;/g, '')) || /DuckDBConnection\.create\(|DuckDBInstance\.create\(/.test(text);
    })
    .map((f) => relative(root, f));
  assert.deepEqual(offenders, []);
});

test('Parquet writes of points recorded at once take turns on their connection, and each file holds its own columns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-duck-write-'));
  const proto = DuckDBConnection.prototype as unknown as { run: (...a: unknown[]) => Promise<unknown> };
  const orig = proto.run;
  const busy = new Map<unknown, number>();
  let most = 0;
  proto.run = function (this: unknown, ...a: unknown[]) {
    const n = (busy.get(this) ?? 0) + 1;
    busy.set(this, n);
    most = Math.max(most, n);
    return orig.apply(this, a).finally(() => busy.set(this, busy.get(this)! - 1));
  };
  try {
    // Eight points committed at once, as `run --parallel 8` does.
    await Promise.all(Array.from({ length: 8 }, (_, k) => writeSeriesParquet(join(dir, `p${k}.parquet`), { t: Float64Array.from({ length: 500 }, (_, i) => i), value: Float64Array.from({ length: 500 }, (_, i) => k * 1000 + i) })));
  } finally {
    proto.run = orig;
  }
  assert.equal(most, 1, `${most} statements ran at once on one connection`);
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    for (let k = 0; k < 8; k++) {
      const r = (await conn.runAndReadAll(`SELECT count(*), min(value), max(value) FROM read_parquet(${q(join(dir, `p${k}.parquet`))})`)).getRows()[0]!;
      assert.deepEqual(r.map(Number), [500, k * 1000, k * 1000 + 499]);
    }
  } finally {
    conn.closeSync();
    inst.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file that cannot be read is one line naming it and what is wrong, never DuckDB's text", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-duck-files-'));
  const files = {
    garbage: join(dir, 'garbage.parquet'),
    cut: join(dir, 'cut.parquet'),
    empty: join(dir, 'empty.parquet'),
    missing: join(dir, 'missing.parquet'),
    folder: join(dir, 'folder.parquet'),
    fifo: join(dir, 'fifo.parquet'),
  };
  writeFileSync(files.garbage, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 251)));
  writeFileSync(files.cut, readFileSync(SAMPLES).subarray(0, 3000));
  writeFileSync(files.empty, '');
  mkdirSync(files.folder);
  execFileSync('mkfifo', [files.fifo]);
  const db = await DuckDatabase.open('a test', { timeoutMs: 60_000 });
  try {
    const expect: Record<keyof typeof files, [string, RegExp]> = {
      garbage: ['damaged', /is not a readable Parquet file: damaged, cut short or not Parquet at all \(no Parquet footer\)$/],
      cut: ['damaged', /is not a readable Parquet file: damaged, cut short or not Parquet at all \(no Parquet footer\)$/],
      empty: ['damaged', /is not a readable Parquet file: empty, or cut short$/],
      missing: ['missing', /is missing$/],
      folder: ['not a file', /is a directory, not a Parquet file/],
      fifo: ['not a file', /is a FIFO \(named pipe\), not a Parquet file/],
    };
    for (const [k, path] of Object.entries(files) as [keyof typeof files, string][]) {
      await assert.rejects(db.read(`SELECT count(*) FROM read_parquet(${q(path)})`, { files: [path] }), (e: unknown) => {
        assert.ok(e instanceof DuckFileError, `${k}: ${String(e)}`);
        assert.equal(e.problem, expect[k][0], `${k}: ${e.message}`);
        assert.match(e.message, expect[k][1]);
        assert.ok(e.message.startsWith(path), `${k}: names the file first: ${e.message}`);
        assert.doesNotMatch(e.message, /\n|LINE 1|Error:|No files found/, k);
        return true;
      });
    }
    // The database still answers after all of them.
    assert.equal(Number((await db.read(`SELECT count(*) FROM read_parquet(${q(SAMPLES)})`, { files: [SAMPLES] })).getRows()[0]![0]) > 0, true);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file this user may not read is "permission denied" naming it (run as nobody when the tests run as root)', { skip: process.getuid?.() === 0 && !existsSetpriv() ? 'root without setpriv: cannot read as another user' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-duck-perm-'));
  execFileSync('chmod', ['755', dir]);
  const closed = join(dir, 'closed.parquet');
  copyFileSync(SAMPLES, closed);
  execFileSync('chmod', ['000', closed]);
  // In a directory this user may not list: DuckDB says "No files found" there.
  mkdirSync(join(dir, 'shut'), { mode: 0o700 });
  const hidden = join(dir, 'shut', 'hidden.parquet');
  copyFileSync(SAMPLES, hidden);
  const script = join(dir, 'read.mts');
  writeFileSync(
    script,
    `import { DuckDatabase } from ${JSON.stringify(join(root, 'src/store/duck.ts'))};\n` +
      `const db = await DuckDatabase.open('a test');\n` +
      `for (const f of ${JSON.stringify([closed, hidden])}) {\n` +
      `  try { await db.read(\`SELECT count(*) FROM read_parquet('\${f}')\`, { files: [f] }); console.log('read'); }\n` +
      `  catch (e) { console.log(JSON.stringify({ problem: e.problem, message: e.message })); }\n` +
      `}\ndb.close();\n`,
  );
  execFileSync('chmod', ['644', script]);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { mode: 0o1777 });
  execFileSync('chmod', ['1777', tmp]);
  try {
    const asRoot = process.getuid?.() === 0;
    const cmd = asRoot ? 'setpriv' : process.execPath;
    const args = [...(asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : []), '--import', 'tsx', script];
    const out = execFileSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, HOME: tmp } });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { problem: string; message: string });
    assert.equal(lines.length, 2, out);
    for (const [i, f] of [closed, hidden].entries()) {
      assert.equal(lines[i]!.problem, 'permission', lines[i]!.message);
      assert.ok(lines[i]!.message.startsWith(`${f} cannot be read: permission denied`), lines[i]!.message);
    }
  } finally {
    execFileSync('chmod', ['-R', 'u+rwx', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

function existsSetpriv(): boolean {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a read blocked on a FIFO holds up no other connection, is stopped at its bound, and its connection is replaced', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-duck-fifo-'));
  const good = join(dir, 'good.parquet');
  copyFileSync(SAMPLES, good);
  const db = await DuckDatabase.open('a test', { connections: 2 });
  const count = async () => Number((await db.read(`SELECT count(*) FROM read_parquet(${q(good)})`, { files: [good] })).getRows()[0]![0]);
  const want = await count();
  /**
   * A read of a file that is a FIFO once DuckDB opens it: checked as a regular file when asked,
   * swapped for a FIFO before it runs (another process racing the check), so DuckDB's thread
   * blocks opening it until something opens its other end.
   */
  const fifoRead = (name: string, timeoutMs?: number) => {
    const p = join(dir, name);
    copyFileSync(SAMPLES, p);
    const read = db.read(`SELECT count(*) FROM read_parquet(${q(p)})`, { files: [p], ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    rmSync(p);
    execFileSync('mkfifo', [p]);
    let ended = false;
    read.then(
      () => (ended = true),
      () => (ended = true),
    );
    return { read, path: p, ended: () => ended };
  };
  try {
    // No bound: it stays blocked until released. The other connection answers meanwhile.
    const a = fifoRead('a.parquet');
    await until(() => waitsOnFifo('self'));
    assert.equal(await count(), want);
    assert.equal(await count(), want);
    assert.equal(a.ended(), false, 'the blocked read is still blocked');
    assert.deepEqual(
      readsInFlight().map((r) => r.files),
      [[a.path]],
    );

    // Bounded: stopped at its bound, with one line naming the file.
    const b = fifoRead('b.parquet', 300);
    await assert.rejects(b.read, (e: unknown) => e instanceof DuckFileError && e.problem === 'timeout' && e.message.startsWith(`reading ${b.path} took longer than 300 ms: stopped`) && !e.message.includes('\n'));
    // Its connection was given a fresh one: reads go on (and the first one is still blocked).
    assert.equal(await count(), want);
    assert.equal(a.ended(), false);

    // Closing never waits: the blocked read is stopped (its FIFO released), and ends.
    db.close();
    await assert.rejects(a.read, DuckFileError);
    await until(() => readsInFlight().length === 0);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a process whose read is blocked on a FIFO ends once it closes its database', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-duck-exit-'));
  const p = join(dir, 'x.parquet');
  copyFileSync(SAMPLES, p);
  const script = join(dir, 'block.mts');
  writeFileSync(
    script,
    `import { execFileSync } from 'node:child_process';\nimport { rmSync } from 'node:fs';\n` +
      `import { DuckDatabase } from ${JSON.stringify(join(root, 'src/store/duck.ts'))};\n` +
      `const db = await DuckDatabase.open('a test');\n` +
      `const p = ${JSON.stringify(p)};\n` +
      `db.read(\`SELECT count(*) FROM read_parquet('\${p}')\`, { files: [p] }).catch(() => undefined);\n` +
      `rmSync(p); execFileSync('mkfifo', [p]);\n` +
      `process.once('SIGTERM', () => db.close());\n` +
      `console.log('reading');\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  try {
    const ended = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    await new Promise<void>((ok) => child.stdout.on('data', (d: Buffer) => d.toString().includes('reading') && ok()));
    // DuckDB's thread waits in the kernel for the FIFO's writer: nothing but a release ends that.
    await until(() => waitsOnFifo(child.pid!) || child.exitCode !== null);
    assert.equal(child.exitCode, null, 'the process waits for its read');
    child.kill('SIGTERM');
    assert.equal(await ended, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test("results query over a view with a FIFO in place of a point's file exits 4 with one line naming it, never waiting on it", { timeout: 300_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sb-duck-query-'));
  const set = join(tmp, 'set');
  cpSync(join(root, 'test/fixtures/sets/old-stream'), set, { recursive: true });
  const samples = join(set, 'points', 'b0726dabe656-r1', 'samples.parquet');
  rmSync(samples);
  execFileSync('mkfifo', [samples]);
  try {
    // The bound is for a build that would open the FIFO: it would wait there for ever.
    const r = spawnSync(process.execPath, [join(root, 'bin', 'streambench.js'), 'results', 'query', set, 'SELECT count(*) FROM samples'], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.signal, null, 'it ended by itself');
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stderr, `error: ${samples} is a FIFO (named pipe), not a Parquet file: not read; move the point's directory out of the result set to read the rest\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
