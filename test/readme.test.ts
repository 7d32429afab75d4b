// The examples of the README and of docs/ are run here so they never lie: every YAML snippet
// loads, every CLI line parses.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { anchors, codeBlocks, docPages, docText, root } from './helpers/docs.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const pages = docPages();
const readme = docText('README.md');
// The snippets when the README was split into docs/ (8 YAML and 25 CLI lines, then the landing
// page's tour: 1 and 8): fewer means a page or a snippet stopped being read.
const YAML_SNIPPETS = 9;
const CLI_LINES = 33;

test('every YAML snippet of the README and docs/ loads (a workload snippet inside a minimal benchmark)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-readme-'));
  const yaml = codeBlocks(pages, 'yaml');
  t.diagnostic(`${yaml.length} YAML snippets in ${new Set(yaml.map((b) => b.file)).size} pages`);
  assert.ok(yaml.length >= YAML_SNIPPETS, `${yaml.length} YAML snippets, ${YAML_SNIPPETS} expected at least`);
  for (const [i, { file: page, text }] of yaml.entries()) {
    const workload = /^workload:/m.test(text) ? '' : 'workload: {type: command, argv: ["true"]}\n';
    const matrix = /^matrix:/m.test(text) ? '' : 'matrix:\n  rate: [1, 2]\n';
    const full = text.startsWith('name:') ? text : `name: snippet\n${workload}${text}${matrix}`;
    const file = join(dir, `snippet${i}.yaml`);
    writeFileSync(file, full);
    const b = await loadBenchmark(file).catch((e: unknown) => assert.fail(`${page}, YAML snippet ${i}: ${e instanceof Error ? e.message : String(e)}`));
    assert.ok(['command', 'stream', 'spice', 'vnc', 'rdp'].includes(b.workload.type), page);
  }
});

test('the CLI lines of the README and docs/ name real commands and options', (t) => {
  const lines = codeBlocks(pages, 'sh').flatMap(({ file, text }) =>
    text
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((l) => l.startsWith('bin/streambench.js'))
      .map((l) => ({ file, l })),
  );
  t.diagnostic(`${lines.length} CLI lines`);
  assert.ok(lines.length >= CLI_LINES, `${lines.length} CLI lines, ${CLI_LINES} expected at least`);
  for (const { file, l } of lines) {
    const line = `${file}: ${l}`;
    // The command and its options, up to the first argument that is data.
    const words = l
      .replace(/#.*$/, '')
      .replace(/'[^']*'/g, 'SQL')
      .replace(/>.*$/, '')
      .trim()
      .split(/\s+/)
      .slice(1);
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

test('the table of conditions (docs/conditions.md) is the declared one: every code, its severity and its threshold text', async () => {
  const { CONDITION_DOCS } = await import('../src/config/conditions.ts');
  const page = docText('docs/conditions.md');
  for (const [code, d] of Object.entries(CONDITION_DOCS)) assert.ok(page.includes(`| \`${code}\` | ${d.severity} | ${d.when} |`), `docs/conditions.md lacks the row of ${code}: | \`${code}\` | ${d.severity} | ${d.when} |`);
});

test('every relative link of the README and docs/ reaches a file, and a heading where it names one; every docs page is linked from the README', () => {
  const problems: string[] = [];
  for (const { file, text } of pages) {
    const prose = text.replace(/^```[\s\S]*?^```/gm, '');
    for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const to = path === '' ? file : join(dirname(file), path);
      if (!existsSync(join(root, to))) {
        problems.push(`${file}: ${target} (no ${to})`);
        continue;
      }
      if (anchor !== undefined && !anchors(docText(to)).has(anchor)) problems.push(`${file}: ${target} (no heading #${anchor} in ${to})`);
    }
  }
  assert.deepEqual(problems, []);
  for (const { file } of pages.filter((p) => p.file.startsWith('docs/'))) assert.ok(readme.includes(`](${file})`), `README.md links to ${file}`);
});
