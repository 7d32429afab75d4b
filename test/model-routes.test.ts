// The model view's routes over a small set with known formulas (test/helpers/additive-set.ts):
// the metric menu leaves out a metric that never varies and says why; the fit of a noise-only
// metric is flagged poor and a clean linear one is not; every refusal the routes give is in the
// GUI's words: no command-line option, no `streambench` command, no server path.
import '../src/server/server.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeAdditiveSet } from './helpers/additive-set.ts';
import { ResultSet } from '../src/store/resultset.ts';
import type { ModelMetricsResponse, ModelPredictResponse, ModelResponse } from '../src/server/api-types.ts';
import { routes } from '../src/server/routes/model.ts';
import { ApiFailure } from '../src/server/route.ts';
import { LoadedSets } from '../src/server/sets.ts';
import '../src/workloads/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-model-routes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const dir = writeAdditiveSet(tmp);
const set = ResultSet.open(dir);
const sets = new LoadedSets([set]);
const ask = <T>(path: string, q: [string, string][]) => routes.find((r) => r.path === path)!.handle({ params: {}, query: new URLSearchParams(q), sets }) as Promise<T>;

async function refusal(path: string, q: [string, string][]): Promise<string> {
  try {
    await ask(path, q);
  } catch (e) {
    assert.ok(e instanceof ApiFailure, String(e));
    return e.message;
  }
  assert.fail(`${path} ${JSON.stringify(q)} was answered`);
}

test('the metric menu lists what varies and leaves out a constant metric, saying why', async () => {
  const m = await ask<ModelMetricsResponse>('/api/model/metrics', [['set', set.name]]);
  assert.deepEqual(m.metrics.map((x) => x.name).sort(), ['clean', 'noise']);
  assert.deepEqual(m.leftOut, [{ name: 'flat', why: 'the same in every run (7 ms): nothing to model' }]);
});

test('a noise-only metric is a poor fit, with its figures; a clean linear one is not', async () => {
  const noise = await ask<ModelResponse>('/api/model', [
    ['set', set.name],
    ['metric', 'noise'],
  ]);
  assert.equal(noise.quality.poor, true);
  assert.ok(noise.quality.cvR2! < 0.5, JSON.stringify(noise.quality));
  assert.match(noise.quality.reasons.join('\n'), /cross-validated R² -?[\d.]+ is below 0.5/);
  const clean = await ask<ModelResponse>('/api/model', [
    ['set', set.name],
    ['metric', 'clean'],
  ]);
  assert.equal(clean.quality.poor, false, JSON.stringify(clean.quality));
  assert.deepEqual(clean.quality.reasons, []);
});

test('every refusal of the model routes is in the GUI words: no option, no command, no path', async () => {
  const base: [string, string][] = [
    ['set', set.name],
    ['metric', 'clean'],
  ];
  const cases: [string, [string, string][], RegExp][] = [
    [
      '/api/model',
      [
        ['set', set.name],
        ['metric', 'clen'],
      ],
      /^metric clen: result set 'additive' has no numeric summary metric "clen"; did you mean 'clean'\?$/,
    ],
    [
      '/api/model',
      [
        ['set', set.name],
        ['metric', 'flat'],
      ],
      /flat is the same in every run \(7\): there is no variance to explain/,
    ],
    ['/api/model/predict', [...base, ['s.x', '2'], ['s.z', '10']], /^the model of clean needs a value of c; give c=a in the what-if form$/],
    ['/api/model/predict', [...base, ['s.x', '2'], ['s.z', '10'], ['s.c', 'q']], /^c=q: /],
    ['/api/model/predict', [...base, ['s.x', '2.5'], ['s.z', '10'], ['s.c', 'a']], /^x=2\.5: .*integer/],
    ['/api/model/predict', [...base, ['s.x', '2'], ['s.z', '10'], ['s.c', 'a'], ['s.y', '1']], /^y=1: no parameter "y" in the model's set/],
    ['/api/model/predict', [...base, ['s.x', '2'], ['s.x', '3']], /x is set more than once/],
  ];
  for (const [path, q, want] of cases) {
    const message = await refusal(path, q);
    assert.match(message, want);
    assert.doesNotMatch(message, /(^|\s)--[a-z]|streambench |hint:/, message);
    assert.ok(!message.includes(tmp), message);
    assert.equal(message.split('\n').length, 1, message);
  }
});

test('a what-if is told apart by its distance from the points measured', async () => {
  const at = async (x: string, z: string, c: string) =>
    (
      await ask<ModelPredictResponse>('/api/model/predict', [
        ['set', set.name],
        ['metric', 'clean'],
        ['s.x', x],
        ['s.z', z],
        ['s.c', c],
      ])
    ).predictions[0]!.coverage!;
  assert.equal((await at('2', '10', 'b')).kind, 'measured');
  assert.equal((await at('2', '15', 'b')).kind, 'between');
  const unseen = await at('4', '10', 'c');
  assert.equal(unseen.kind, 'unseen-combination');
  assert.deepEqual(unseen.nearest.differs, ['x']);
  assert.equal((await at('8', '10', 'a')).kind, 'outside');
});
