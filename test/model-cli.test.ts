// `streambench model`: a result set recorded by the real engine (a command workload whose metric
// follows a known formula of resolution, fps and bitrate, with a small noise that depends on the
// repetition), fitted, saved, predicted, decomposed and searched through the CLI.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { runCli } from './helpers/cli.ts';
import type { FitByResult, FitResult } from '../src/analyze/fit.ts';
import type { ImpactResult } from '../src/analyze/impact.ts';
import type { PredictAnswer } from '../src/analyze/models.ts';
import type { RecommendResult } from '../src/analyze/recommend.ts';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-model-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * `model` keeps the runs a busy machine flagged saturated (--include-flagged): this metric is a
 * formula of the parameters that no contention changes, and CI's machine is busy.
 */
function cli(args: string[]) {
  if (args[0] === 'model' && !args.includes('--help')) args = [...args, '--include-flagged'];
  return runCli(args, { cwd: work });
}

/** The metric's formula; the program below computes the same, plus up to +-0.1 of noise per repetition. */
const truth = (w: number, h: number, fps: number, bps: number) => 2 + 4e-6 * w * h * fps + 0.5 * Math.log(bps / 1e5);

const BENCH = `name: model-cli
params:
  resolution: {type: resolution}
  bitrate: {type: bitrate}
  fps: {type: number, unit: fps}
workload:
  type: command
  argv: [node, -e, "const [r,f,b,rep]=process.argv.slice(1); const [w,h]=r.split('x').map(Number); const bps=b.endsWith('M')?parseFloat(b)*1e6:parseFloat(b)*1e3; let s=0; for (const ch of r+f+b+rep) s=(s*31+ch.charCodeAt(0))%997; console.log('cost='+(2+4e-6*w*h*Number(f)+0.5*Math.log(bps/1e5)+(s/997-0.5)*0.2))", "{resolution}", "{fps}", "{bitrate}", "{rep}"]
  metrics:
    - {keyvalue: true, unit: ms, better: lower}
matrix:
  resolution: [320x180, 640x360, 960x540]
  fps: [15, 30]
  bitrate: [500k, 2M]
repeat: 2
recording: false
`;

let setDir = '';
before(async () => {
  const file = join(work, 'model.yaml');
  writeFileSync(file, BENCH);
  const b = await loadBenchmark(file);
  setDir = join(work, 'set');
  const set = ResultSet.openOrCreate(setDir, b.name);
  const s = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  assert.equal(s.ok, 24, JSON.stringify(s));
});

test('fit --json: the stable shape, the formula found within its intervals, saved atomically as models/<metric>.json', () => {
  const r = cli(['model', 'fit', setDir, '--metric', 'cost', '--json']);
  assert.equal(r.code, 0, r.err);
  const f = JSON.parse(r.out) as FitResult;
  for (const k of ['metric', 'formula', 'terms', 'r2', 'n', 'cv', 'warnings']) assert.ok(k in f, `fit --json lacks ${k}`);
  assert.equal(f.metric, 'cost');
  assert.equal(f.n, 24);
  assert.equal(f.residuals.length, 12);
  for (const t of f.terms)
    assert.deepEqual(
      Object.keys(t)
        .filter((k) => ['name', 'coef', 'ci'].includes(k))
        .sort(),
      ['ci', 'coef', 'name'],
    );
  assert.ok(f.cv.mape < 0.05, `cross-validated MAPE ${f.cv.mape}`);
  // The pixel rate's slope is what the formula says, wherever the form put it.
  const pr = f.terms.find((t: { name: string }) => t.name === 'pixel_rate' || t.name === 'pixel_rate*fps');
  if (f.form === 'physics') assert.ok(pr!.ci[0] <= 4e-6 && 4e-6 <= pr!.ci[1], `pixel_rate ${JSON.stringify(pr)}`);
  const saved = JSON.parse(readFileSync(join(setDir, 'models', 'cost.json'), 'utf8')) as { fit: FitResult; runs: number };
  assert.equal(saved.fit.formula, f.formula);
  assert.equal(saved.runs, 24);
  assert.ok(!existsSync(join(setDir, 'models', '.cost.json.tmp')));
});

test('predict from the set and from the saved model: the same answer, near the formula, and extrapolation said', () => {
  const at = ['--set', 'resolution=640x360', '--set', 'fps=30', '--set', 'bitrate=1M'];
  const fromSet = cli(['model', 'predict', setDir, '--metric', 'cost', ...at, '--json']);
  assert.equal(fromSet.code, 0, fromSet.err);
  const fromFile = cli(['model', 'predict', join(setDir, 'models', 'cost.json'), ...at, '--json']);
  assert.equal(fromFile.code, 0, fromFile.err);
  const a = JSON.parse(fromSet.out) as PredictAnswer;
  const b = JSON.parse(fromFile.out) as PredictAnswer;
  // From the set, the answer also says how far the setting is from what was measured (the saved
  // model keeps no runs, so it cannot): 1M lies between the 500k and 2M measured.
  const { coverage, ...fromSetPrediction } = a.predictions[0] as PredictAnswer['predictions'][number] & { coverage?: { kind: string; nearest: { differs: string[] } } };
  assert.equal(coverage?.kind, 'between');
  assert.deepEqual(coverage.nearest.differs, ['bitrate']);
  assert.equal('coverage' in b.predictions[0]!, false);
  assert.deepEqual({ ...a, predictions: [fromSetPrediction] }, b);
  assert.deepEqual(a.setting, { resolution: '640x360', fps: 30, bitrate: 1e6 });
  const p = a.predictions[0]!;
  const want = truth(640, 360, 30, 1e6);
  // 1M was not measured (500k and 2M were): an interpolation, within a noise's width of the truth.
  assert.ok(Math.abs(p.value - want) < 0.5, `${p.value} vs ${want}`);
  assert.ok(p.pi[0] < p.value && p.value < p.pi[1]);
  assert.deepEqual(p.outside, []);

  const far = cli(['model', 'predict', join(setDir, 'models', 'cost.json'), '--set', 'resolution=1920x1080', '--set', 'fps=60', '--set', 'bitrate=8M']);
  assert.equal(far.code, 0, far.err);
  assert.match(far.out, /outside the measured range: cost: fps 60 is outside the measured 15 \.\. 30/);
  assert.match(far.out, /resolution\.pixels .* an extrapolation/);
});

test('predict: a missing or bad value is one line naming the --set to give, exit 2', () => {
  const missing = cli(['model', 'predict', join(setDir, 'models', 'cost.json'), '--set', 'resolution=640x360']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /needs a value of fps, bitrate/);
  assert.match(missing.err, /--set fps=/);
  const bad = cli(['model', 'predict', join(setDir, 'models', 'cost.json'), '--set', 'resolution=640x360', '--set', 'fps=30', '--set', 'bitrate=fast']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^error: --set bitrate=fast: bitrate 'fast' is not a bitrate/);
  assert.doesNotMatch(bad.err + missing.err, /\n\s+at /);
});

test('impact --json: shares and noise add up to 1; resolution first, then fps; bitrate small', () => {
  const r = cli(['model', 'impact', setDir, '--metric', 'cost', '--bootstrap', '20', '--json']);
  assert.equal(r.code, 0, r.err);
  const im = JSON.parse(r.out) as ImpactResult;
  assert.equal(im.metric, 'cost');
  const total = im.factors.reduce((s: number, f: { share: number }) => s + f.share, 0) + im.noise.share;
  assert.ok(Math.abs(total - 1) < 1e-9, String(total));
  const share = (n: string) => im.factors.find((f: { name: string }) => f.name === n)!.share;
  assert.ok(share('resolution') > share('fps') && share('fps') > share('bitrate'), r.out);
  assert.ok(share('bitrate') < 0.02);
  for (const f of im.factors) assert.equal(f.ci.length, 2);
});

test('recommend: the cheapest setting under a parameter constraint; "no setting fits" with the closest', () => {
  const r = cli(['model', 'recommend', setDir, '--minimize', 'cost', '--where', 'bitrate>=1M', '--json']);
  assert.equal(r.code, 0, r.err);
  const rec = JSON.parse(r.out) as RecommendResult;
  assert.equal(rec.fits, true);
  const best = rec.best[0]!;
  assert.equal(best.params.resolution, '320x180');
  assert.equal(best.params.fps, 15);
  assert.ok(Number(best.params.bitrate) >= 1e6);
  for (const c of rec.best) assert.ok(Number(c.params.bitrate) >= 1e6);

  const none = cli(['model', 'recommend', setDir, '--minimize', 'cost', '--where', 'cost<1']);
  assert.equal(none.code, 0, none.err);
  assert.match(none.out, /^no setting fits where cost<1/);
  assert.match(none.out, /320x180/);
});

test('a metric misspelt gets the closest name; --help lists the subcommands', () => {
  const r = cli(['model', 'fit', setDir, '--metric', 'cots']);
  assert.equal(r.code, 2);
  assert.match(r.err, /no numeric summary metric "cots"/);
  assert.match(r.err, /did you mean 'cost'\?/);
  assert.equal(r.err.trim().split('\n').length, 2);
  const h = cli(['model', '--help']);
  assert.equal(h.code, 0);
  for (const s of ['fit', 'impact', 'predict', 'recommend', '--by', '--where', '--maximize', '--json']) assert.ok(h.out.includes(s), s);
});

test('fit --by resolution: one model per frame size, each in the stable shape, and predict answers from the level asked', () => {
  const r = cli(['model', 'fit', setDir, '--metric', 'cost', '--by', 'resolution', '--json']);
  assert.equal(r.code, 0, r.err);
  const f = JSON.parse(r.out) as FitByResult;
  assert.equal(f.metric, 'cost');
  assert.equal(f.by, 'resolution');
  assert.deepEqual(
    f.levels.map((l: { level: string }) => l.level),
    ['320x180', '640x360', '960x540'],
  );
  for (const l of f.levels) {
    for (const k of ['formula', 'terms', 'r2', 'n', 'cv', 'warnings']) assert.ok(k in l, `level ${l.level} lacks ${k}`);
    assert.equal(l.n, 8);
  }
  const p = cli(['model', 'predict', join(setDir, 'models', 'cost.json'), '--set', 'resolution=960x540', '--set', 'fps=30', '--set', 'bitrate=2M', '--json']);
  assert.equal(p.code, 0, p.err);
  const x = (JSON.parse(p.out) as PredictAnswer).predictions[0]!;
  assert.equal(x.level, '960x540');
  assert.ok(Math.abs(x.value - truth(960, 540, 30, 2e6)) < 0.3, JSON.stringify(x));
  const number = cli(['model', 'fit', setDir, '--metric', 'cost', '--by', 'fps']);
  assert.equal(number.code, 2);
  assert.match(number.err, /fps is a number: --by takes a category/);
});

test("predict reads each setting with its parameter's declaration: an fps the stream workload refuses is refused, exit 2", () => {
  // A copy: reading a set builds its index, and the fixture stays as committed.
  const physics = join(work, 'physics');
  cpSync(join(root, 'test/fixtures/sets/stream-physics'), physics, { recursive: true });
  const at = (fps: string) => ['model', 'predict', physics, '--metric', 'client.bitrate', '--set', 'codec=h264', '--set', 'resolution=960x540', '--set', `fps=${fps}`, '--set', 'bitrate=2M'];
  const bad = cli(at('-1'));
  assert.equal(bad.code, 2, bad.out + bad.err);
  assert.match(bad.err, /^error: --set fps=-1: fps '-1' must be a number from 1 to 240/);
  const ok = cli(at('20'));
  assert.equal(ok.code, 0, ok.err);
});
