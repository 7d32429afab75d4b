// The model policy following models saved by the real `model fit`: fitted again here from the
// synthetic set of test/helpers/model-fixture.ts (and checked equal to the committed fixture the
// unit tests use), then a real 3 s stream steered by them under a CPU budget its configured
// setting does not fit; and validate's errors for model files that are missing or not models.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { checkSavedModel, evaluateFit } from '../src/config/saved-model.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { readRoleReport } from '../src/stream/report.ts';
import { settingAt } from '../src/stream/policy/model.ts';
import { runCli } from './helpers/cli.ts';
import { FIXTURE_METRICS, fitFixtureModels, fixtureText } from './helpers/model-fixture.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-policy-model-'));

test('policy model steers a real stream to a setting its saved models predict within the CPU budget', async () => {
  const texts = await fitFixtureModels(work);
  for (const metric of FIXTURE_METRICS) assert.equal(texts[metric], fixtureText(metric), `test/fixtures/models/${metric}.json is what model fit saves (npx tsx test/helpers/model-fixture.ts writes it again)`);
  const files = FIXTURE_METRICS.map((metric) => {
    const f = join(work, `${metric}.json`);
    writeFileSync(f, texts[metric]!);
    return f;
  });
  const [quality, cpu] = FIXTURE_METRICS.map((metric) => checkSavedModel(JSON.parse(texts[metric]!)).fit);
  const budget = 3;
  const base = { codec: 'h264', bitrate: 1e6, fps: 15, resolution: '640x360', 'resolution.width': 640, 'resolution.height': 360, 'resolution.pixels': 640 * 360 };
  const configured = { bitrateBps: 1e6, fps: 15, width: 640, height: 360 };
  assert.ok(evaluateFit(cpu!, settingAt(base, configured)) > budget, 'the configured setting is over the budget by the CPU model: the policy must move');

  const yaml = join(work, 'model.yaml');
  writeFileSync(
    yaml,
    `name: model
workload: {type: stream, codec: h264, resolution: 640x360, fps: 15, scene: typing, bitrate: 1M, transport: udp, net_rate: 4M, policy: model, policy_models: "${files.join(',')}"}
matrix: {policy_cpu_budget: [${budget}]}
duration: 3s
`,
  );
  const b = await loadBenchmark(yaml);
  const set = ResultSet.openOrCreate(join(work, 'results'), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const [p] = set.points();
  assert.equal(p!.outcome.status, 'ok', JSON.stringify(p!.outcome));
  const controls = (readRoleReport(join(set.dir, 'points', `${p!.key}-r1`, 'guest.json'), 'guest').controls ?? []).filter((c) => c.from === 'policy');
  assert.ok(controls.length >= 1, 'the policy changed the encoder');
  for (const c of controls) {
    const e = c.estimate!;
    const [w, h] = String(e['resolution']).split('x').map(Number) as [number, number];
    const chosen = { bitrateBps: e['bitrate_bps'] as number, fps: e['fps'] as number, width: w, height: h };
    // Its choice, checked against the saved models here: within the budget, within gcc's estimate, no larger than configured.
    const predicted = evaluateFit(cpu!, settingAt(base, chosen));
    assert.ok(predicted <= budget, `predicted guest CPU ${predicted} % of ${JSON.stringify(chosen)} is within ${budget} %`);
    assert.ok(Math.abs(predicted - (e['cpu_pct'] as number)) < 1e-3 && Math.abs(evaluateFit(quality!, settingAt(base, chosen)) - (e['quality'] as number)) < 1e-3, `the stamped predictions are the models': ${JSON.stringify(e)}`);
    assert.ok(chosen.bitrateBps <= (e['bandwidth_bps'] as number) && w * h <= 640 * 360 && w % 2 === 0 && h % 2 === 0, JSON.stringify(e));
  }
  // The first decision moves off the configured setting the budget does not allow, and the encoder follows.
  const first = controls[0]!;
  assert.ok(first.resolution !== undefined || first.fps !== undefined, `the first decision changes the frame size or rate: ${JSON.stringify(first)}`);
  assert.ok(
    controls.some((c) => c.rejected === undefined && c.encodedFrame !== undefined),
    'a decision reached the encoder',
  );
});

test('validate names a policy_models file that is missing or not a saved model (exit code 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-validate-'));
  writeFileSync(join(dir, 'q.json'), fixtureText('client.psnr'));
  writeFileSync(join(dir, 'c.json'), fixtureText('guest.cpu_pct'));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...JSON.parse(fixtureText('guest.cpu_pct')), fit: { metric: 'x', model: { yLog: true, terms: [], coef: ['a'] } } }));
  const yaml = (models: string, extra = '') => `name: t\nworkload:\n  type: stream\n  policy: model\n${extra}matrix:\n  policy_models: ["${models}"]\n`;
  writeFileSync(join(dir, 'a.yaml'), yaml('q.json,bad.json'));
  const a = runCli(['validate', 'a.yaml'], { cwd: dir });
  assert.equal(a.code, 2, a.err);
  assert.match(a.err, /a\.yaml:\d+:\d+: policy_models: bad\.json: not a saved model this version reads: fit\.model\.coef has 1 coefficients for 0 terms/);
  writeFileSync(join(dir, 'b.yaml'), yaml('q.json,none.json'));
  assert.match(runCli(['validate', 'b.yaml'], { cwd: dir }).err, /policy_models: none\.json: the model file does not exist/);
  // A codec the models never saw has no estimate.
  writeFileSync(join(dir, 'c.yaml'), yaml('q.json,c.json', '  codec: vp8\n'));
  assert.match(runCli(['validate', 'c.yaml'], { cwd: dir }).err, /policy_models: q\.json: codec=vp8: no run had it/);
  writeFileSync(join(dir, 'd.yaml'), yaml('q.json,c.json'));
  const d = runCli(['validate', 'd.yaml'], { cwd: dir });
  assert.equal(d.code, 0, d.err);
  assert.doesNotMatch(a.err + d.err, /\n\s+at /);
});
