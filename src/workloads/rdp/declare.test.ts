// `validate` (loading a benchmark file) refuses what this machine's xrdp cannot run: gfx and h264
// need the graphics pipeline of xrdp 0.10, and the refusal names the version `xrdp --version`
// stated here (Debian 12's 0.9.21); remotefx and bitmap resolve.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../base/errors.ts';
import { loadBenchmark } from '../../config/load.ts';
import { xrdpBuild } from '../../config/rdp-settings.ts';
import '../index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-rdp-declare-'));

async function load(codecs: string): Promise<unknown> {
  const file = join(dir, `${codecs.replace(/\W/g, '_')}.yaml`);
  writeFileSync(file, `name: rdp-validate\nworkload: {type: rdp, resolution: 800x600}\nmatrix: {rdp_codec: [${codecs}]}\nduration: 2s\n`);
  return loadBenchmark(file);
}

test('validate: remotefx and bitmap resolve; gfx and h264 are refused at their line with the xrdp version that lacks them', async () => {
  await load('remotefx, bitmap');
  const build = xrdpBuild();
  let problems: { message: string; where?: unknown }[] = [];
  try {
    await load('remotefx, gfx, h264');
    assert.fail('gfx and h264 were accepted');
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    problems = e.problems;
  }
  const text = JSON.stringify(problems);
  assert.equal(problems.length, 2, text);
  // Either this machine's xrdp is named by its version, or its absence is said: never accepted silently.
  const why = build ? new RegExp(`xrdp is ${build.version.replace(/\./g, '\\.')}`) : /not installed here/;
  assert.match(text, /rdp_codec gfx needs/);
  assert.match(text, /rdp_codec h264 needs/);
  assert.match(text, why);
});
