// Grain as a stream parameter: points recorded before it existed keep their keys, bad values
// are refused with their line, and guest and client both draw the grain the point asks for.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../src/base/errors.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { planRuns } from '../src/config/matrix.ts';
import { MAX_GRAIN as SETTINGS_MAX_GRAIN, streamSettings } from '../src/config/stream-settings.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { DEFAULT_GRAIN, MAX_GRAIN } from '../src/stream/scenes/index.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-grain-'));
after(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(work, name);
  writeFileSync(f, text);
  return f;
}

const BEFORE_GRAIN = `name: key-fixture
workload:
  type: stream
  resolution: 640x360
  fps: 30
  codec: h264
matrix:
  scene: [video, motion]
  bitrate: [1M, 2M]
warmup: 1s
duration: 3s
`;

test('a benchmark that does not write grain keeps the point keys it had before grain was a parameter', async () => {
  // Computed with commit 92a14d6, before grain existed: a resumed run must skip these points.
  const keys = planRuns(await loadBenchmark(file('keys.yaml', BEFORE_GRAIN))).map((r) => `${r.key} ${JSON.stringify(r.params)}`);
  assert.deepEqual(keys, ['48b8fb3db51e {"scene":"video","bitrate":"1M"}', 'ec90a277399a {"scene":"video","bitrate":"2M"}', '0f33704d48d4 {"scene":"motion","bitrate":"1M"}', '028b6bfe6325 {"scene":"motion","bitrate":"2M"}']);
  // Grain written by the user is part of the key, as every parameter is.
  const withGrain = planRuns(await loadBenchmark(file('keys-grain.yaml', BEFORE_GRAIN.replace('  codec: h264\n', '  codec: h264\n  grain: 0\n'))));
  assert.ok(withGrain.every((r) => !keys.some((k) => k.startsWith(r.key))));
});

test('grain: default 20, integers 0..50 in both the settings and the scenes, anything else refused with its line', async () => {
  const times = { warmupS: 0, durationS: 1 };
  assert.equal(streamSettings({}, times).grain, DEFAULT_GRAIN);
  assert.equal(SETTINGS_MAX_GRAIN, MAX_GRAIN);
  assert.equal(streamSettings({ grain: 0 }, times).grain, 0);
  assert.equal(streamSettings({ grain: '50' }, times).grain, 50);
  for (const bad of [-1, 2.5, 51, 'lots', '']) assert.throws(() => streamSettings({ grain: bad }, times), /grain .* must be an integer from 0 to 50/, String(bad));
  const f = file('bad.yaml', 'name: g\nworkload: {type: stream, scene: motion}\nmatrix:\n  grain: [0, 20, 60]\n');
  await assert.rejects(loadBenchmark(f), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /bad\.yaml:4:\d+: grain '?60'? must be an integer from 0 to 50/);
    return true;
  });
});

test('guest and client draw the same grain: with none, the client measures a PSNR no grain-20 reference allows', async () => {
  // With grain 20 in the client's reference and none in the stream (or the reverse), the grain
  // alone keeps PSNR below 33 dB (26.9 dB, or 32.3 with its mean brightness removed); a clean
  // 320x240 picture at 2 Mbit/s decodes far above it (49 dB measured).
  const f = file(
    'e2e.yaml',
    `name: grain-e2e
workload: {type: stream, scene: motion, resolution: 320x240, fps: 30, codec: h264, bitrate: 2M}
matrix:
  grain: [0, 20]
warmup: 0.5s
duration: 2s
recording: false
`,
  );
  const b = await loadBenchmark(f);
  const set = ResultSet.openOrCreate(join(work, 'e2e-results'), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const points = set.points();
  const by = (g: number) => points.find((p) => p.params['grain'] === g)!;
  for (const p of points) assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));
  const m = (g: number, k: string) => by(g).metrics[k] as number;
  assert.ok(m(0, 'client.psnr') > 36, `grain 0: PSNR ${m(0, 'client.psnr')}`);
  assert.ok(m(20, 'client.psnr') < m(0, 'client.psnr') - 3, `grain 20: PSNR ${m(20, 'client.psnr')} against ${m(0, 'client.psnr')} without`);
  // Every point records its source's SI/TI; grain raises the TI of the same motion.
  assert.ok(m(20, 'source.ti.mean') > m(0, 'source.ti.mean') + 1.5, `TI ${m(0, 'source.ti.mean')} -> ${m(20, 'source.ti.mean')}`);
  for (const k of ['source.si', 'source.ti', 'source.si.mean', 'source.ti.mean']) assert.ok(m(0, k) > 0, k);
  assert.equal(m(0, 'source.siti_frames'), 60, '2 s at 30 fps after the warm-up');
});
