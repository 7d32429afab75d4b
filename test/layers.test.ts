// design.md: lower folders never import higher ones. This test reads every import and holds the line.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

/** Top to bottom; `base` (errors, durations, atomic writes) sits under everything. */
const LAYERS = ['cli', 'server', 'engine', 'workloads', 'stream', 'record', 'analyze', 'store', 'config', 'base'];
const src = new URL('../src', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

function layerOf(file: string): number {
  const top = relative(src, file).split('/')[0]!;
  return LAYERS.indexOf(top);
}

test('imports only go down the layers of design.md', () => {
  const bad: string[] = [];
  let checked = 0;
  for (const file of files(src)) {
    const from = layerOf(file);
    if (from < 0) continue; // src/index.ts, the package entry, sits above everything
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = resolve(dirname(file), m[1]!);
      const to = layerOf(target);
      checked++;
      if (to < 0) bad.push(`${relative(src, file)} imports ${m[1]} (outside the layers)`);
      else if (to < from) bad.push(`${relative(src, file)} (${LAYERS[from]}) imports ${relative(src, target)} (${LAYERS[to]})`);
    }
  }
  assert.ok(checked > 20, 'the import pattern found imports at all');
  assert.deepEqual(bad, []);
});

test('every folder under src/ is a known layer', () => {
  const dirs = readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.deepEqual(dirs.filter((d) => !LAYERS.includes(d)), []);
});
