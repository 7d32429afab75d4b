// The top-level usage lists each command with the summary its own --help gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;

test('every command in the usage has --help, starting with the same summary', () => {
  const usage = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  const lines = [...usage.matchAll(/^ {2}(\w+) +(.+)$/gm)];
  assert.ok(lines.length >= 6);
  for (const [, name, summary] of lines) {
    const help = spawnSync(process.execPath, [CLI, name!, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `${name} --help`);
    assert.equal(help.stdout.split('\n')[0], summary, `${name}: usage and --help agree`);
  }
});

test('validate and run --help state the limits a benchmark file is held to, and --max-runs', () => {
  const help = (cmd: string) => spawnSync(process.execPath, [CLI, cmd, '--help'], { encoding: 'utf8' }).stdout;
  for (const cmd of ['validate', 'run']) assert.match(help(cmd), /--max-runs N +allow a plan of up to N runs \(points x repeat; default 100000\)/, cmd);
  const v = help('validate');
  assert.match(v, /up to 168h \(7 days\)/);
  assert.match(v, /at least 10ms/);
  assert.match(v, /the first 20 are printed/);
});

test("a command's cwd takes placeholders, as its argv does", () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'sb-cwd-')));
  const file = join(dir, 'cwd.yaml');
  const results = join(dir, 'results');
  writeFileSync(file, `name: cwd\nworkload:\n  type: command\n  argv: [${JSON.stringify(process.execPath)}, -e, "console.log(process.cwd())"]\n  cwd: "{results_dir}"\nmatrix: {a: [1]}\nrecording: false\n`);
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--results', results], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const [point] = readdirSync(join(results, 'points'));
  assert.equal(readFileSync(join(results, 'points', point!, 'stdout.log'), 'utf8').trim(), realpathSync(results));
});

test('run and results show: the table says how many metric columns it hides and how --metrics shows them, gives values the digits that tell them apart, and lists the flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-table-'));
  const file = join(dir, 'table.yaml');
  const results = join(dir, 'results');
  // Twelve metrics from one JSON line; `rate` differs between points only in the fifth digit.
  const program = "const o = {rate: 1000 + {n} / 7}; for (let i = 0; i < 11; i++) o['m' + i] = i; console.log(JSON.stringify(o))";
  writeFileSync(
    file,
    `name: table\nworkload:\n  type: command\n  argv: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(program.replace(/[{}]/g, (b) => b + b).replace('{{n}}', '{n}'))}]\n  metrics:\n    - {jsonl: true}\n    - {regex: 'lat=(?<latency_ms>\\d+)', from: stderr}\nmatrix: {n: [10, 11, 12]}\nrecording: false\n`,
  );
  const run = spawnSync(process.execPath, [CLI, 'run', file, '--results', results], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  for (const out of [run.stdout, spawnSync(process.execPath, [CLI, 'results', 'show', results], { encoding: 'utf8' }).stdout]) {
    const lines = out.split('\n');
    const header = lines.findIndex((l) => l.startsWith('n '));
    assert.equal(lines[header]!.trim().split(/\s+/).length, 3 + 9, lines[header]);
    // 5 commands metrics + 12 from the program + exit_code; 9 shown.
    assert.match(out, /\n9 of 18 metric columns shown; 9 hidden \((m\d, ){6}\.\.\.\): --metrics PATTERN shows those it matches, e.g. --metrics 'm\d'/);
    assert.match(out, /\nFlags \(each point\.json has its own\):\n( {2}.*\n)* {2}3 points \(e\.g\. \w+ r1\): workload\.metrics\[1\] \(regex 'lat=\(\?<latency_ms>\\d\+\)'\) matched nothing in stderr: no metric from it\n/);
  }
  const picked = spawnSync(process.execPath, [CLI, 'results', 'show', results, '--metrics', 'rate'], { encoding: 'utf8' });
  assert.equal(picked.status, 0, picked.stderr);
  // 1001.43, 1001.57, 1001.71: four digits would show 1001, 1002, 1002.
  assert.deepEqual(
    picked.stdout
      .split('\n')
      .filter((l) => /^1\d /.test(l))
      .map((l) => l.trim().split(/\s+/)),
    [
      ['10', '1', 'ok', '1001.4'],
      ['11', '1', 'ok', '1001.6'],
      ['12', '1', 'ok', '1001.7'],
    ],
  );
  assert.match(picked.stdout, /\(numbers rounded to 5 significant digits, the fewest that keep each column's values apart; `results export` has them in full\)\n1 of 18 metric columns match --metrics 'rate'\./);
  const none = spawnSync(process.execPath, [CLI, 'results', 'show', results, '--metrics', 'rat'], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^error: --metrics: 'rat' matches none of the 18 metrics of these points\n {2}hint: did you mean 'rate'\?/);
});

test('the table printer takes 200000 rows (no spread of rows into arguments) and can show the first few with a count', async () => {
  const { renderTable } = await import('../src/cli/table.ts');
  const rows = Array.from({ length: 200_000 }, (_, i) => [i, `v${i}`, i / 3]);
  const all = renderTable(['#', 'name', 'x'], rows);
  assert.equal(all.split('\n').length, 200_002);
  const few = renderTable(['#', 'name', 'x'], rows, { maxRows: 3 }).split('\n');
  assert.equal(few.length, 6);
  assert.equal(few.at(-1), '... and 199997 more row(s)');
});
