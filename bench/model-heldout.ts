/**
 * How well the models predict settings they never saw, on real recorded sets. Whole frame sizes
 * (the set's parameter of type resolution, whatever its name) are held out and predicted from a
 * fit on the rest: one inside the measured range (the middle one, or --hold LABEL) and the top
 * one (an extrapolation). Per metric, the form cross-validation chose on the rest, and the error
 * per form, so the choice can be judged. Errors are over points (the mean of their repetitions).
 * Printed, never asserted: a busy machine changes CPU figures.
 *
 * Sets: SET (default test/fixtures/sets/stream-matrix, the built-in pipeline: codec x resolution
 * x fps x bitrate x 2 repetitions; metrics the guest role's process CPU and the client's bitrate,
 * issue 14 aims at under 10 % MAPE inside the range), and with --ffmpeg also a sweep of a real
 * program recorded first into a temporary directory: examples/x264-frame-size.yaml (x264 through
 * the `command` workload, its frame size a parameter named `size`) over 320x180, 480x270,
 * 640x360, 960x540 and 1280x720 x 3 presets x 2 repetitions, 960x540 held out; metrics the output
 * bytes (the same on every run), x264's utime (-benchmark) and the process tree's user CPU. Runs
 * flagged saturated are kept for the sweep (a busy machine flags them all; the line says how
 * many), left out of SET unless --include-flagged.
 *
 * Run: npx tsx bench/model-heldout.ts [--ffmpeg] [--only PARAM=VALUE]... [--hold LABEL] [--include-flagged] [SET] [metric ...]
 * (--ffmpeg: the x264 sweep first; --only, --hold, --include-flagged and the metrics are SET's)
 * e.g. npx tsx bench/model-heldout.ts test/fixtures/sets/stream-physics guest.cpu_ms_per_frame client.bitrate
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { InputError } from '../src/base/errors.ts';
import { fit, predict, type FitByResult, type FitResult } from '../src/analyze/fit.ts';
import { FORMS, type FormName } from '../src/analyze/fit.ts';
import { groupPoints, type Dataset } from '../src/analyze/dataset.ts';
import { datasetOf, openModelSource, runsNote } from '../src/analyze/load.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';

const args = process.argv.slice(2);
/** Takes `--name VALUE` (repeatable) out of the arguments. */
function option(name: string): string[] {
  const out: string[] = [];
  for (let i = args.indexOf(name); i >= 0; i = args.indexOf(name)) {
    out.push(args[i + 1] ?? '');
    args.splice(i, 2);
  }
  return out;
}
function flag(name: string): boolean {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}
// --only PARAM=VALUE (repeatable): hold the rows to one level of a category (e.g. --only codec=h264).
const only: [string, string][] = option('--only').map((o) => {
  const [k, v] = o.split('=');
  if (!k || v === undefined) throw new Error('--only takes PARAM=VALUE');
  return [k, v];
});
const hold = option('--hold')[0];
const includeFlagged = flag('--include-flagged');
const ffmpeg = flag('--ffmpeg');
const given = args[0];
const metrics = args.length > 1 ? args.slice(1) : undefined;

/** Records the x264 sweep (examples/x264-frame-size.yaml with 960x540 and 2 repetitions) into a temporary directory. */
async function recordSweep(dir: string): Promise<string> {
  const doc = parse(readFileSync(new URL('../examples/x264-frame-size.yaml', import.meta.url), 'utf8')) as { matrix: Record<string, unknown>; repeat: number };
  doc.matrix['size'] = ['320x180', '480x270', '640x360', '960x540', '1280x720'];
  doc.repeat = 2;
  const file = join(dir, 'x264-frame-size.yaml');
  writeFileSync(file, stringify(doc));
  const b = await loadBenchmark(file);
  const set = join(dir, 'set');
  const t0 = performance.now();
  const s = await runBenchmark(b, { results: ResultSet.openOrCreate(set, b.name), signal: new AbortController().signal });
  console.log(`recorded ${s.ok} runs of examples/x264-frame-size.yaml (5 frame sizes x 3 presets x 2) into ${set} in ${((performance.now() - t0) / 1000).toFixed(0)} s${s.failed > 0 ? `; ${s.failed} failed` : ''}`);
  return set;
}

/** MAPE over the held-out points of a fit on the others. */
function heldOutError(ds: Dataset, pixels: string, px: number, opts: { forms?: FormName[]; by?: string }): { mape: number; points: number; form: string } {
  const train = { ...ds, rows: ds.rows.filter((r) => r.params[pixels] !== px) };
  const test = groupPoints(ds.rows.filter((r) => r.params[pixels] === px && Number.isFinite(r.y)));
  const f: FitResult | FitByResult = opts.by ? fit(train, { by: opts.by, ...(opts.forms ? { forms: opts.forms } : {}) }) : fit(train, opts.forms ? { forms: opts.forms } : {});
  let sum = 0;
  for (const p of test) {
    const y = p.ys.reduce((s, v) => s + v, 0) / p.ys.length;
    sum += Math.abs(predict(f, p.params).value - y) / Math.abs(y);
  }
  const form = 'levels' in f ? f.levels.map((l) => `${l.level}: ${l.form}`).join(', ') : f.form;
  return { mape: sum / test.length, points: test.length, form };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

async function report(dir: string, metrics: string[], opts: { includeFlagged: boolean; hold?: string; only?: [string, string][]; shown?: string }): Promise<void> {
  const src = await openModelSource(ResultSet.open(dir), metrics, { includeFlagged: opts.includeFlagged });
  const only = opts.only ?? [];
  src.rows = src.rows.filter((r) => only.every(([k, v]) => String(r.cells[k]) === v));
  if (only.length > 0) console.log(`\nonly ${only.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  // The frame size: the set's parameter of type resolution (by its declaration, not its name) whose values vary.
  const frame = src.catalog.params.find((p) => p.type === 'resolution' && new Set(src.rows.map((r) => r.cells[p.name])).size > 1);
  if (!frame) throw new Error(`${dir}: no parameter of type resolution varies: nothing to hold out`);
  const pixels = `${frame.name}.pixels`;
  const sizes = [...new Set(src.rows.map((r) => r.cells[pixels] as number))].sort((a, b) => a - b);
  const label = (px: number) => String(src.rows.find((r) => r.cells[pixels] === px)!.cells[frame.name]);
  if (sizes.length < 3) throw new Error(`${dir}: ${sizes.length} frame sizes; holding one out needs at least 3`);
  const inside = opts.hold !== undefined ? sizes.find((px) => label(px) === opts.hold) : sizes[Math.floor(sizes.length / 2)];
  if (inside === undefined) throw new Error(`--hold ${opts.hold}: not a frame size of ${dir} (${sizes.map(label).join(', ')})`);
  if (inside === sizes[0] || inside === sizes[sizes.length - 1]) throw new Error(`--hold ${opts.hold}: the smallest or largest frame size is no point inside the range`);
  const held = [
    { what: `inside the range (${opts.hold !== undefined ? 'asked' : 'middle'} frame size)`, px: inside },
    { what: 'extrapolation (top frame size)', px: sizes[sizes.length - 1]! },
  ];
  const runs = runsNote(src).text;
  console.log(`\n${opts.shown ?? dir}: ${src.rows.length} ok runs${runs ? ` (${runs})` : ''}; frame size ${frame.name}: ${sizes.map(label).join(', ')}`);
  for (const metric of metrics) {
    const ds = datasetOf(src, metric);
    const all = fit(ds);
    console.log(`\n${metric}: on all runs, form ${all.form}, R^2 ${all.r2.toFixed(3)}, CV MAPE ${pct(all.cv.mape)}; ${all.formula}`);
    for (const h of held) {
      const chosen = heldOutError(ds, pixels, h.px, {});
      const by = ds.params.some((p) => p.name === 'codec' && p.kind === 'categorical') ? heldOutError(ds, pixels, h.px, { by: 'codec' }) : undefined;
      console.log(`  held out ${label(h.px)}, ${h.what}: MAPE ${pct(chosen.mape)} over ${chosen.points} points (form chosen on the rest: ${chosen.form})${by ? `; per codec (--by codec): ${pct(by.mape)} (${by.form})` : ''}`);
      const perForm = FORMS.map((form) => {
        try {
          return `${form} ${pct(heldOutError(ds, pixels, h.px, { forms: [form] }).mape)}`;
        } catch (e) {
          // A form the data do not allow (a log form of a metric with zeros, a physics form without a frame rate) has no figure.
          if (!(e instanceof InputError)) throw e;
          return `${form} -`;
        }
      });
      console.log(`    each form: ${perForm.join(', ')}`);
    }
  }
}

if (ffmpeg) {
  const tmp = mkdtempSync(join(tmpdir(), 'sb-heldout-x264-'));
  try {
    await report(await recordSweep(tmp), ['ffmpeg.total_size', 'utime_s', 'cpu_user_s'], { includeFlagged: true, hold: '960x540', shown: 'x264 sweep (examples/x264-frame-size.yaml, 5 frame sizes)' });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
// Beside it (or alone), SET with its metrics. Reading a set saves its points table beside its
// index: a set below test/fixtures is read from a copy, so the fixtures stay as committed.
const set = given ?? new URL('../test/fixtures/sets/stream-matrix', import.meta.url).pathname;
const fixtures = new URL('../test/fixtures/', import.meta.url).pathname;
const copy = resolve(set).startsWith(fixtures) ? mkdtempSync(join(tmpdir(), 'sb-heldout-')) : undefined;
try {
  if (copy) cpSync(set, join(copy, basename(resolve(set))), { recursive: true });
  await report(copy ? join(copy, basename(resolve(set))) : set, metrics ?? ['guest.cpu_pct', 'client.bitrate'], { includeFlagged, only, shown: set, ...(hold !== undefined ? { hold } : {}) });
} finally {
  if (copy) rmSync(copy, { recursive: true, force: true });
}
