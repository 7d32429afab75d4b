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
  writeFileSync(
    file,
    `name: cwd\nworkload:\n  type: command\n  argv: [${JSON.stringify(process.execPath)}, -e, "console.log(process.cwd())"]\n  cwd: "{results_dir}"\nmatrix: {a: [1]}\nrecording: false\n`,
  );
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--results', results], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const [point] = readdirSync(join(results, 'points'));
  assert.equal(readFileSync(join(results, 'points', point!, 'stdout.log'), 'utf8').trim(), realpathSync(results));
});
