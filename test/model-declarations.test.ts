// The declarations decide how parameters enter the formulas, not their names: through the real
// engine, a `command` workload whose metric follows a known formula of a frame size, a frame rate
// and a bitrate (plus a small noise that depends on the values and the repetition, never on the
// names), declared in `params:` under names of its own. The physics forms find them by type and
// unit, give the same prediction as under the built-in pipeline's names, and ask which frame size
// to use when two of them vary.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { runCli } from './helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-model-decl-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `model` with the runs a busy machine flags saturated kept: the metric is a formula no contention changes. */
const cli = (args: string[]) => runCli([...args, '--include-flagged'], { cwd: work });

/** cost = 2 + 4e-6 x pixels x fps + 0.5 ln(bitrate / 1e5), +-0.1 of noise from the values and the repetition. */
const truth = (w: number, h: number, fps: number, bps: number) => 2 + 4e-6 * w * h * fps + 0.5 * Math.log(bps / 1e5);
const SCRIPT =
  "const [r,f,b,rep]=process.argv.slice(1); const [w,h]=r.split('x').map(Number); const bps=b.endsWith('M')?parseFloat(b)*1e6:parseFloat(b)*1e3; let s=0; for (const ch of r+f+b+rep) s=(s*31+ch.charCodeAt(0))%997; console.log('cost='+(2+4e-6*w*h*Number(f)+0.5*Math.log(bps/1e5)+(s/997-0.5)*0.2))";

async function record(name: string, yaml: string, runs: number): Promise<string> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, yaml);
  const b = await loadBenchmark(file);
  const dir = join(work, name);
  const s = await runBenchmark(b, { results: ResultSet.openOrCreate(dir, b.name), signal: new AbortController().signal });
  assert.equal(s.ok, runs, JSON.stringify(s));
  return dir;
}

/** The benchmark with its frame size, frame rate and bitrate called `frame`, `rate`, `br`. */
const named = (frame: string, rate: string, br: string) => `name: decl-${frame}
params:
  ${frame}: {type: resolution}
  ${rate}: {type: number, unit: fps}
  ${br}: {type: bitrate}
workload:
  type: command
  argv: [node, -e, ${JSON.stringify(SCRIPT)}, "{${frame}}", "{${rate}}", "{${br}}", "{rep}"]
  metrics:
    - {keyvalue: true, unit: ms, better: lower}
matrix:
  ${frame}: [320x180, 640x360, 960x540]
  ${rate}: [15, 30]
  ${br}: [500k, 2M]
repeat: 2
recording: false
`;

/** Two frame sizes that both vary; the cost follows the window's. */
const TWO = `name: decl-two
params:
  screen: {type: resolution}
  window: {type: resolution}
  rate: {type: number, unit: fps}
workload:
  type: command
  argv: [node, -e, ${JSON.stringify(SCRIPT)}, "{window}", "{rate}", "1M", "{screen}{rep}"]
  metrics:
    - {keyvalue: true, unit: ms, better: lower}
matrix:
  screen: [640x360, 1280x720]
  window: [320x180, 640x360, 960x540]
  rate: [15, 30]
repeat: 1
recording: false
`;

let mine = '';
let builtin = '';
let two = '';
before(async () => {
  mine = await record('mine', named('size', 'rate', 'br'), 24);
  builtin = await record('builtin', named('resolution', 'fps', 'bitrate'), 24);
  two = await record('two', TWO, 12);
});

test('a frame size, a rate in fps and a bitrate under names of their own: the physics forms find them by their declarations and say which they used', () => {
  const r = cli(['model', 'fit', mine, '--metric', 'cost', '--json']);
  assert.equal(r.code, 0, r.err);
  const f = JSON.parse(r.out) as { form: string; formula: string; candidates: { form: string }[]; physics?: unknown; warnings: string[] };
  assert.deepEqual(
    f.candidates.map((c) => c.form).filter((c) => c.startsWith('physics')),
    ['physics', 'physics-log', 'physics-log+pairs'],
  );
  assert.deepEqual(f.physics, { pixels: 'size', fps: 'rate', bitrate: 'br' });
  const text = cli(['model', 'fit', mine, '--metric', 'cost']);
  assert.equal(text.code, 0, text.err);
  if (f.form.startsWith('physics')) assert.match(text.out, /^ {2}pixel_rate = size \(pixels\) x rate \(frames\/s\)/m);
  // Between the measured values of each: near the formula, and no note.
  const p = cli(['model', 'predict', mine, '--metric', 'cost', '--set', 'size=800x450', '--set', 'rate=20', '--set', 'br=1M', '--json']);
  assert.equal(p.code, 0, p.err);
  const x = (JSON.parse(p.out) as { predictions: { value: number; outside: unknown[] }[] }).predictions[0]!;
  assert.ok(Math.abs(x.value - truth(800, 450, 20, 1e6)) < 0.5, `${x.value} vs ${truth(800, 450, 20, 1e6)} (${f.formula})`);
  assert.deepEqual(x.outside, []);
});

test('the same runs under the built-in names (resolution, fps, bitrate) and under size, rate, br: the same fit and the same prediction', () => {
  const fitOf = (dir: string) => {
    const r = cli(['model', 'fit', dir, '--metric', 'cost', '--json']);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as { form: string; cv: unknown; candidates: unknown };
  };
  const a = fitOf(mine);
  const b = fitOf(builtin);
  assert.equal(a.form, b.form);
  assert.deepEqual(a.candidates, b.candidates);
  const at = (dir: string, frame: string, rate: string, br: string) => {
    const r = cli(['model', 'predict', dir, '--metric', 'cost', '--set', `${frame}=800x450`, '--set', `${rate}=20`, '--set', `${br}=1M`, '--json']);
    assert.equal(r.code, 0, r.err);
    // The distance from what was measured names the parameters as each set calls them: compared by its kind.
    return (JSON.parse(r.out) as { predictions: { coverage?: { kind: string } }[] }).predictions.map(({ coverage, ...p }) => ({ ...p, coverage: coverage?.kind }));
  };
  assert.deepEqual(at(mine, 'size', 'rate', 'br'), at(builtin, 'resolution', 'fps', 'bitrate'));
});

test('two frame sizes that both vary: fit asks which (--pixels-from), uses the one named and says so; a name that is no frame size is exit 2', () => {
  const asked = cli(['model', 'fit', two, '--metric', 'cost', '--json']);
  assert.equal(asked.code, 0, asked.err);
  const a = JSON.parse(asked.out) as { candidates: { form: string }[]; warnings: string[]; physics?: unknown };
  assert.ok(!a.candidates.some((c) => c.form.startsWith('physics')), JSON.stringify(a.candidates));
  assert.equal(a.physics, undefined);
  assert.ok(a.warnings.includes('physics forms not tried: the pixel rate could take its frame size from screen or window: --pixels-from NAME says which'), a.warnings.join('\n'));
  const told = cli(['model', 'fit', two, '--metric', 'cost', '--pixels-from', 'window', '--json']);
  assert.equal(told.code, 0, told.err);
  const t = JSON.parse(told.out) as { candidates: { form: string }[]; warnings: string[]; physics?: unknown };
  assert.deepEqual(t.physics, { pixels: 'window', fps: 'rate' });
  assert.ok(t.candidates.some((c) => c.form === 'physics'));
  assert.ok(!t.warnings.some((w) => w.startsWith('physics forms not tried')), t.warnings.join('\n'));
  const wrong = cli(['model', 'fit', two, '--metric', 'cost', '--pixels-from', 'rate']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /^error: .*--pixels-from rate: not a frame size of these runs \(frame sizes: screen, window\)\n$/);
  // A saved model chose when it was fitted: predicting from it takes no --pixels-from.
  const saved = cli(['model', 'predict', join(two, 'models', 'cost.json'), '--set', 'window=640x360', '--set', 'screen=640x360', '--set', 'rate=15', '--pixels-from', 'screen']);
  assert.equal(saved.code, 2, saved.out);
  assert.match(saved.err, /^error: --pixels-from: applies where a model is fitted/);
});
