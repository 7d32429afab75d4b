// The result set's lock (src/store/resultset.ts): a stale lock (its process gone) is taken over by
// exactly one of the runs that find it at once; a lock of another host is refused with its host
// and pid and a documented way to break it (`results unlock`), never taken over silently. Real
// processes racing on real files; nothing here depends on how fast they are.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResultSet } from '../src/store/resultset.ts';
import { runCli } from './helpers/cli.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-lock-'));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(String(r.stdout).trim());
}

// A starter: opens the set, says ready, waits for "go", takes the lock (or is refused), says which,
// and holds what it took until its stdin closes.
const STARTER = join(work, 'starter.mts');
writeFileSync(
  STARTER,
  `import { createInterface } from 'node:readline';
import { ResultSet } from ${JSON.stringify(join(root, 'src/store/resultset.ts'))};
import { pidAlive } from ${JSON.stringify(join(root, 'src/base/pid-alive.ts'))};
// Config knows no workload of its own: like the CLI, this starter hands it the built-ins' definitions.
import ${JSON.stringify(join(root, 'src/workloads/index.ts'))};
const set = ResultSet.open(process.argv[2]!);
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\\n');
for await (const line of lines) {
  if (line !== 'go') continue;
  let release: (() => void) | undefined;
  try {
    release = set.lock(pidAlive);
    process.stdout.write('got\\n');
  } catch (e) {
    process.stdout.write('refused: ' + (e instanceof Error ? e.message : String(e)) + '\\n');
  }
  // Held until the test has heard from every starter.
  for await (const _ of lines) void _;
  release?.();
  break;
}
`,
);

/** Output lines of a child, as they come. */
function lines(c: ChildProcess): { next(): Promise<string> } {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let buf = '';
  c.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      queue.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  c.on('exit', () => {
    queue.push(`(exited${buf ? `: ${buf}` : ''})`);
    wake?.();
  });
  return {
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      return queue.shift()!;
    },
  };
}

/** n starters released at once on the set; what each said. */
async function race(dir: string, n: number): Promise<string[]> {
  const kids = Array.from({ length: n }, () => spawn(process.execPath, ['--import', 'tsx', STARTER, dir], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] }));
  const outs = kids.map(lines);
  try {
    for (const o of outs) assert.equal(await o.next(), 'ready');
    for (const k of kids) k.stdin.write('go\n');
    const said: string[] = [];
    for (const o of outs) said.push(await o.next());
    return said;
  } finally {
    for (const k of kids) k.stdin.end();
    await Promise.all(kids.map((k) => (k.exitCode !== null ? Promise.resolve() : new Promise((r) => k.on('exit', r)))));
  }
}

test('several runs finding the same stale lock at once: exactly one takes the set, the others are refused naming it', async () => {
  for (const stale of ['dead process', 'empty', 'dead process', 'empty', 'dead process']) {
    const set = ResultSet.openOrCreate(join(work, `race-${seq++}`), 'b');
    const lock = join(set.dir, '.lock');
    writeFileSync(lock, stale === 'empty' ? '' : JSON.stringify({ pid: deadPid(), host: hostname() }));
    const said = await race(set.dir, 6);
    const got = said.filter((s) => s === 'got');
    assert.equal(got.length, 1, `${stale} lock: exactly one proceeds; they said:\n${said.join('\n')}`);
    for (const s of said.filter((x) => x !== 'got')) assert.match(s, /^refused: .*(in use by process \d+; wait for it|being taken over by another run)/, `${stale}: ${s}`);
    assert.ok(!existsSync(lock), 'released by the one that took it');
    assert.deepEqual(
      readdirSync(set.dir).filter((n) => n.startsWith('.lock')),
      [],
      'no file of the takeover is left',
    );
  }
});

test('a takeover interrupted (its starter killed while it held the right to remove the stale lock): the next run takes the set', () => {
  const set = ResultSet.openOrCreate(join(work, `interrupted-${seq++}`), 'b');
  const lock = join(set.dir, '.lock');
  writeFileSync(lock, JSON.stringify({ pid: deadPid(), host: hostname(), nonce: 'abc123' }));
  // What a starter killed mid-takeover leaves: its right to break that lock, naming it.
  writeFileSync(`${lock}.break-abc123.0`, JSON.stringify({ pid: deadPid(), host: hostname() }));
  const release = set.lock((pid) => pid === process.pid);
  assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid, process.pid);
  release();
  assert.ok(!existsSync(lock));
  assert.deepEqual(
    readdirSync(set.dir).filter((n) => n.startsWith('.lock')),
    [],
  );
});

const cli = (args: string[]) => runCli(args, { cwd: work, env: { STREAMBENCH_DEBUG: '' } });

test("another host's lock is refused with its host and pid (exit 4) and left alone; `results unlock` breaks it, then run goes on", () => {
  const file = join(work, 'b.yaml');
  writeFileSync(file, 'name: lock\nworkload:\n  type: command\n  argv: [sh, -c, "echo v={n}"]\nmatrix:\n  n: [1]\n');
  const set = join(work, `other-host-${seq++}`);
  ResultSet.openOrCreate(set, 'lock');
  const lock = join(set, '.lock');
  const theirs = JSON.stringify({ pid: 4321, host: 'bench-node-7.lan' });
  writeFileSync(lock, theirs);
  const r = cli(['run', file, '--results', set]);
  assert.equal(r.code, 4, r.err);
  assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
  assert.match(r.err, /^error: .* in use by process 4321 on host bench-node-7\.lan/);
  assert.match(r.err, new RegExp(`streambench results unlock ${set}`));
  assert.equal(readFileSync(lock, 'utf8'), theirs, 'never taken over, never removed');
  assert.equal(existsSync(join(set, 'points')) ? readdirSync(join(set, 'points')).length : 0, 0, 'nothing ran');

  // A live lock of this host: unlock refuses, naming the process.
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname() }));
  const live = cli(['results', 'unlock', set]);
  assert.equal(live.code, 4, live.err);
  assert.match(live.err, new RegExp(`in use by process ${process.pid} of this host`));
  assert.ok(existsSync(lock));

  writeFileSync(lock, theirs);
  const u = cli(['results', 'unlock', set]);
  assert.equal(u.code, 0, u.err);
  assert.match(u.out, /removed the lock .*process 4321 on host bench-node-7\.lan/);
  assert.ok(!existsSync(lock));
  const again = cli(['run', file, '--results', set]);
  assert.equal(again.code, 0, again.err);
  assert.equal(readdirSync(join(set, 'points')).length, 1);
  assert.match(cli(['results', 'unlock', set]).out, /has no lock/);
});
