// End-to-end: the real CLI, real FFmpeg, real result sets on disk, real DuckDB.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { csvRows } from './helpers/csv.ts';
import { CLI, runCli } from './helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-cli-'));

const cli = (args: string[]) => runCli(args, { cwd: work });

/** Alive and not a zombie: this container's init may leave killed orphans unreaped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids the run registered as running (its agents and the programs of its points). */
function livePids(results: string): number[] {
  const dir = join(results, '.live');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^\d+\.json$/.test(f))
        .map((f) => Number(f.slice(0, -5)))
    : [];
}

/** The program name of a live process ('' once it is gone). */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.split('/').pop()!;
  } catch {
    return '';
  }
}

function bench(name: string, text: string): string {
  const p = join(work, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

const SWEEP = `name: sweep
workload:
  type: command
  argv: [ffmpeg, -hide_banner, -nostats, -f, lavfi, -i, "testsrc2=size=320x240:rate=30", -frames:v, "15",
         -c:v, libx264, -preset, "{preset}", -crf, "{crf}", -threads, "{threads}",
         -progress, "pipe:1", -f, h264, -y, "{point_dir}/out.h264"]
  metrics:
    - {keyvalue: true, block_end: progress, prefix: ffmpeg.}
matrix:
  preset: [ultrafast, veryfast]
  crf: [23, 35]
  threads: [1, 2]
exclude:
  - {preset: veryfast, threads: 1}
repeat: 2
`;

test('a 3-parameter FFmpeg sweep with an exclusion and 2 repetitions: exact runs, one CSV row each', () => {
  const file = bench('sweep', SWEEP);
  const results = join(work, 'sweep-results');
  const dry = cli(['run', file, '--results', results, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /12 run\(s\): 0 already recorded, 12 to run/);
  assert.ok(!existsSync(results), 'a dry run writes nothing');

  const run = cli(['run', file, '--results', results]);
  assert.equal(run.code, 0, run.err + run.out);
  assert.match(run.out, /12 ok, 0 failed/);

  const exp = cli(['results', 'export', results, '--format', 'csv']);
  assert.equal(exp.code, 0, exp.err);
  const rows = csvRows(exp.out);
  assert.equal(rows.length, 12);
  for (const c of ['point_key', 'rep', 'status', 'preset', 'crf', 'threads', 'wall_time_s', 'cpu_user_s', 'peak_rss_mb', 'ffmpeg.frame', 'ffmpeg.total_size']) {
    assert.ok(c in rows[0]!, `missing column ${c}`);
  }
  assert.ok(rows.every((r) => r['status'] === 'ok' && r['ffmpeg.frame'] === '15'));
  assert.ok(!rows.some((r) => r['preset'] === 'veryfast' && r['threads'] === '1'));
  assert.equal(new Set(rows.map((r) => `${r['point_key']}/${r['rep']}`)).size, 12);

  // Truth: FFmpeg's reported total_size is the byte count of the file it wrote.
  for (const r of rows) {
    const out = join(results, 'points', `${r['point_key']}-r${r['rep']}`, 'out.h264');
    assert.equal(statSync(out).size, Number(r['ffmpeg.total_size']));
  }

  // A second run resumes: nothing left to do.
  const again = cli(['run', file, '--results', results]);
  assert.match(again.out, /0 ok, 0 failed, 12 already recorded/);

  // DuckDB over the set: SQL on points and the sampled time series.
  const q = cli(['results', 'query', results, 'select count(*) as n, count(distinct point_key) as k from points']);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /\n12\s+6\s*$/);

  const pq = join(work, 'sweep.parquet');
  assert.equal(cli(['results', 'export', results, '--format', 'parquet', '-o', pq]).code, 0);
  assert.ok(statSync(pq).size > 0);
  const json = cli(['results', 'export', results, '--format', 'json']);
  assert.equal((JSON.parse(json.out) as unknown[]).length, 12);
});

test('a broken file exits 2 with file:line and a reason, and writes nothing', () => {
  const results = join(work, 'broken-results');
  const cases: [string, RegExp][] = [
    [SWEEP.replace('crf: [23, 35]', 'crf: [23, 35'), /broken\.yaml:\d+:\d+: YAML syntax/],
    [SWEEP.replace('{preset: veryfast, threads: 1}', '{preset: veryfast, thread: 1}'), /broken\.yaml:14:\d+: unknown parameter 'thread' in exclude[^\n]*\n\s+hint: did you mean 'threads'\?/],
    [SWEEP.replace('repeat: 2', 'repeat: "2x"'), /broken\.yaml:15:9: must be integer/],
  ];
  for (const [text, re] of cases) {
    const r = cli(['run', bench('broken', text), '--results', results]);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, re);
    assert.ok(!existsSync(results));
    assert.equal(cli(['validate', join(work, 'broken.yaml')]).code, 2);
  }
});

test('--help on every command, and an unknown command suggests', () => {
  for (const c of ['run', 'validate', 'results', 'schema', 'desktop']) {
    const r = cli([c, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: streambench/);
  }
  const r = cli(['rnu']);
  assert.equal(r.code, 2);
  assert.match(r.err, /did you mean 'run'/);
});

const SLOW = (n: number) => `name: slow
workload: {type: command, argv: [sleep, "{t}"]}
matrix:
  i: {from: 1, to: ${n}}
  t: 0.3
`;

function committed(results: string): string[] {
  const dir = join(results, 'points');
  return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
}

/** The engine's watchdog: its child process that runs scripts/watchdog.mjs. */
function watchdogOf(engine: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== engine) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[1]?.endsWith('scripts/watchdog.mjs')) return Number(name);
    } catch {
      continue; // gone between listing and reading
    }
  }
  return undefined;
}

async function startAndKill(args: string[], until: () => boolean, signal: NodeJS.Signals, beforeKill?: (engine: number) => void) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // No time bound of its own (a busy machine starts the engine slowly): the test's timeout is the bound.
  while (!until() && child.exitCode === null) await sleep(50);
  beforeKill?.(child.pid!);
  child.kill(signal);
  return { code: await exited, out: () => out };
}

test('kill -9 halfway, run again: only the missing points run, each recorded once, DuckDB reads the set', async () => {
  const file = bench('slow', SLOW(8));
  const results = join(work, 'slow-results');
  await startAndKill(['run', file, '--results', results], () => committed(results).length >= 3, 'SIGKILL');
  const before = committed(results);
  assert.ok(before.length >= 3 && before.length < 8, `killed after ${before.length} points`);
  // Whatever is visible is complete: every point directory has its record.
  for (const d of before) assert.ok(existsSync(join(results, 'points', d, 'point.json')));
  const stamps = Object.fromEntries(before.map((d) => [d, readFileSync(join(results, 'points', d, 'point.json'), 'utf8')]));

  const r = cli(['run', file, '--results', results]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`${8 - before.length} ok, 0 failed, ${before.length} already recorded`));
  const after = committed(results);
  assert.equal(after.length, 8);
  for (const d of before) assert.equal(readFileSync(join(results, 'points', d, 'point.json'), 'utf8'), stamps[d], 'recorded points are not rerun');
  const q = cli(['results', 'query', results, "select count(*) as n, count(distinct i) as points from points where status = 'ok'"]);
  assert.match(q.out, /\n8\s+8\s*$/);
});

test('Ctrl-C stops the current point, marks it interrupted, exits 130; the next run resumes it', async () => {
  const file = bench('slow2', SLOW(4).replace('t: 0.3', 't: 5'));
  const results = join(work, 'int-results');
  // The run's recording agent is registered first; the point is running once the program is too.
  const r = await startAndKill(['run', file, '--results', results], () => livePids(results).some((p) => commandOf(p) === 'sleep'), 'SIGINT');
  assert.equal(r.code, 130, r.out());
  const pts = committed(results);
  assert.equal(pts.length, 1);
  const rec = JSON.parse(readFileSync(join(results, 'points', pts[0]!, 'point.json'), 'utf8')) as { outcome: { status: string } };
  assert.equal(rec.outcome.status, 'interrupted');
  const dry = cli(['run', file, '--results', results, '--dry-run']);
  assert.match(dry.out, /0 already recorded, 4 to run/);
});

test('after kill -9 of the engine and of its watchdog mid-point, the next start ends the program they left running', async () => {
  const file = bench('orphan', SLOW(2).replace('t: 0.3', 't: 30'));
  const results = join(work, 'orphan-results');
  const live = join(results, '.live');
  // The watchdog is the first line (test/leftovers.test.ts); with it killed too, the records in
  // .live/ are what is left for the next start to act on.
  const killWatchdog = (engine: number) => {
    const dog = watchdogOf(engine);
    assert.ok(dog, 'the engine runs a watchdog');
    process.kill(dog, 'SIGKILL');
  };
  await startAndKill(['run', file, '--results', results], () => livePids(results).some((p) => commandOf(p) === 'sleep'), 'SIGKILL', killWatchdog);
  const pid = livePids(results).find((p) => commandOf(p) === 'sleep')!;
  const agents = livePids(results).filter((p) => p !== pid);
  assert.ok(existsSync(live));
  assert.ok(running(pid), 'the orphan is alive before the next start');
  const r = cli(['run', file, '--results', results, '--filter', 'i=99']);
  assert.equal(r.code, 2, 'a filter that matches no point is an input error');
  assert.match(r.err, /no point matches/);
  const r2 = cli(['run', file, '--results', results, '--set', 't=0']);
  assert.equal(r2.code, 0, r2.err);
  assert.match(r2.out, new RegExp(`ended process group ${pid}`));
  await sleep(100);
  assert.ok(!running(pid), 'the orphan was ended');
  for (const a of agents) assert.ok(!running(a), `the killed run's recording agent ${a} was ended too`);
});
