// The top-level usage lists each command with the summary its own --help gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
