// Models of a real program no one here wrote: x264 (the FFmpeg CLI, installed by scripts/setup.sh)
// through the `command` workload, over frame sizes and presets (examples/x264-frame-size.yaml:
// 30 frames of testsrc2 on one thread). The frame size is a parameter named `size`, declared a
// resolution: the models take it as its pixel count, so a frame size between the measured ones
// is predicted, and a preset no run had is refused. The metric is the output's bytes: with one
// thread x264 writes the same bytes on every run, so a busy machine changes nothing (the runs it
// flags saturated are kept with --include-flagged, as their byte counts are true).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { runCli } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const EXAMPLE = join(root, 'examples/x264-frame-size.yaml');
const METRIC = 'ffmpeg.total_size';
const work = mkdtempSync(join(tmpdir(), 'sb-model-ffmpeg-'));
after(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => runCli([...args, '--include-flagged'], { cwd: work });

/** The example with its frame-size parameter called `name`, over these frame sizes, recorded into a fresh set. */
async function record(name: string, sizes: string[], dir: string): Promise<ResultSet> {
  const doc = parse(readFileSync(EXAMPLE, 'utf8')) as { name: string; params: Record<string, unknown>; workload: { argv: string[] }; matrix: Record<string, unknown> };
  doc.name = `x264-${name}`;
  doc.params = { [name]: doc.params['size'] };
  doc.workload.argv = doc.workload.argv.map((a) => a.replace('{size}', `{${name}}`));
  doc.matrix = { [name]: sizes, preset: doc.matrix['preset'] };
  const file = join(work, `${name}-${sizes.length}.yaml`);
  writeFileSync(file, stringify(doc));
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(dir, b.name);
  const s = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  assert.equal(s.ok, sizes.length * 3, JSON.stringify(s));
  return set;
}

const SIZES = ['320x180', '480x270', '640x360', '1280x720'];
const PRESETS = ['medium', 'ultrafast', 'veryfast'];
const sizeSet = join(work, 'size');
const resolutionSet = join(work, 'resolution');
/** The bytes of 960x540 per preset, measured apart (never in the sets fitted). */
const heldOut = new Map<string, number>();

function bytesOf(set: ResultSet): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of set.points()) out.set(Object.values(r.params).map(String).join(' '), r.metrics[METRIC] as number);
  return out;
}

before(async () => {
  const a = await record('size', SIZES, sizeSet);
  const b = await record('resolution', SIZES, resolutionSet);
  // The same program on the same settings: the same bytes under either name.
  assert.deepEqual(bytesOf(a), bytesOf(b));
  const held = await record('size', ['960x540'], join(work, 'held-out'));
  for (const r of held.points()) heldOut.set(String(r.params['preset']), r.metrics[METRIC] as number);
  assert.deepEqual([...heldOut.keys()].sort(), PRESETS);
});

test('a frame size named `size` enters the formula as its pixel count, and 960x540 (never measured, inside the range) is predicted within its interval', () => {
  const f = cli(['model', 'fit', sizeSet, '--metric', METRIC, '--json']);
  assert.equal(f.code, 0, f.err);
  const fitted = JSON.parse(f.out) as { formula: string; terms: { name: string }[] };
  assert.ok(
    fitted.terms.some((t) => /size\.pixels/.test(t.name)),
    fitted.formula,
  );
  assert.ok(!fitted.terms.some((t) => /size=/.test(t.name)), `the frame size is no category: ${fitted.formula}`);
  for (const preset of PRESETS) {
    const p = cli(['model', 'predict', sizeSet, '--metric', METRIC, '--set', `preset=${preset}`, '--set', 'size=960x540', '--json']);
    assert.equal(p.code, 0, p.err);
    const x = (JSON.parse(p.out) as { predictions: { value: number; pi: [number, number]; outside: unknown[] }[] }).predictions[0]!;
    const measured = heldOut.get(preset)!;
    assert.ok(x.pi[0] <= measured && measured <= x.pi[1], `${preset}: 960x540 measured ${measured} bytes, predicted ${x.value} in ${JSON.stringify(x.pi)}`);
    // Inside the measured range: no note at all.
    assert.deepEqual(x.outside, [], `${preset}: ${JSON.stringify(x.outside)}`);
  }
});

test('the same prediction whatever the frame size is called: `size` and `resolution` over the same bytes', () => {
  const at = (name: string, dir: string) => {
    const r = cli(['model', 'predict', dir, '--metric', METRIC, '--set', 'preset=medium', '--set', `${name}=960x540`, '--json']);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as { setting: Record<string, unknown>; predictions: { coverage?: { kind: string } }[] };
  };
  // The distance from what was measured names the frame size as each set calls it: compared by its kind.
  const byKind = (ps: { coverage?: { kind: string } }[]) => ps.map(({ coverage, ...p }) => ({ ...p, coverage: coverage?.kind }));
  const a = at('size', sizeSet);
  const b = at('resolution', resolutionSet);
  assert.deepEqual(a.setting, { preset: 'medium', size: '960x540' });
  assert.deepEqual(byKind(a.predictions), byKind(b.predictions));
});

test('a preset no run had is refused with the presets that exist (exit 2, one line); a size beyond the range is an extrapolation with its distance', () => {
  const r = cli(['model', 'predict', sizeSet, '--metric', METRIC, '--set', 'preset=slow', '--set', 'size=640x360']);
  assert.equal(r.code, 2, r.out);
  assert.equal(r.out, '');
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /^error: .*preset=slow.* no run had it.*\(measured: medium, ultrafast, veryfast\)/);
  const far = cli(['model', 'predict', sizeSet, '--metric', METRIC, '--set', 'preset=medium', '--set', 'size=1920x1080', '--json']);
  assert.equal(far.code, 0, far.err);
  const outside = (JSON.parse(far.out) as { predictions: { outside: { param: string; value: number; range: [number, number]; distance: number }[] }[] }).predictions[0]!.outside;
  const px = outside.find((o) => o.param === 'size.pixels');
  assert.ok(px, JSON.stringify(outside));
  assert.deepEqual(px.range, [320 * 180, 1280 * 720]);
  assert.equal(px.distance, 1920 * 1080 - 1280 * 720);
});
