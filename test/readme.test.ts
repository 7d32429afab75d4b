// README examples are run here so they never lie: every YAML snippet loads, every CLI line parses.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = (lang: string) => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

test('every YAML snippet of the README loads (a workload snippet inside a minimal benchmark)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-readme-'));
  const yaml = blocks('yaml');
  assert.ok(yaml.length >= 2);
  for (const [i, text] of yaml.entries()) {
    const workload = /^workload:/m.test(text) ? '' : 'workload: {type: command, argv: ["true"]}\n';
    const matrix = /^matrix:/m.test(text) ? '' : 'matrix:\n  rate: [1, 2]\n';
    const full = text.startsWith('name:') ? text : `name: snippet\n${workload}${text}${matrix}`;
    const file = join(dir, `snippet${i}.yaml`);
    writeFileSync(file, full);
    const b = await loadBenchmark(file);
    assert.ok(['command', 'stream', 'spice'].includes(b.workload.type));
  }
});

test("the README's CLI lines name real commands and options", () => {
  const lines = blocks('sh')
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.startsWith('bin/streambench.js'));
  assert.ok(lines.length >= 5);
  for (const line of lines) {
    // The command and its options, up to the first argument that is data.
    const words = line.replace(/#.*$/, '').replace(/'[^']*'/g, 'SQL').replace(/>.*$/, '').trim().split(/\s+/).slice(1);
    const [cmd, ...rest] = words;
    const sub = cmd === 'results' ? [rest.shift()!] : [];
    const r = spawnSync(process.execPath, [join(root, 'bin/streambench.js'), cmd!, ...sub, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
    for (const opt of rest.filter((w) => w.startsWith('--'))) assert.ok(r.stdout.includes(opt), `${line}: --help does not mention ${opt}`);
  }
  assert.match(readme, /^\.\/run\.sh /m);
  assert.match(readme, /^\.\/test\.sh /m);
  assert.match(readFileSync(join(root, '.ci/run'), 'utf8'), /exec \.\/test\.sh\b/);
});

test("the README's table of conditions is the declared one: every code, its severity and its threshold text", async () => {
  const { CONDITION_DOCS } = await import('../src/config/conditions.ts');
  for (const [code, d] of Object.entries(CONDITION_DOCS)) assert.ok(readme.includes(`| \`${code}\` | ${d.severity} | ${d.when} |`), `README lacks the row of ${code}: | \`${code}\` | ${d.severity} | ${d.when} |`);
});
