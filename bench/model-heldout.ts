/**
 * How well the models predict settings they never saw, on a real recorded matrix of the built-in
 * pipeline (default test/fixtures/sets/stream-matrix: codec x resolution x fps x bitrate x 2
 * repetitions). Whole levels of resolution are held out and predicted from a fit on the rest:
 * the middle one (error inside the measured range) and the top one (extrapolation). Per metric
 * (the guest role's process CPU and the client's bitrate; issue 14 aims at under 10 % MAPE
 * inside the range), the form cross-validation chose on the rest, and the error per form, so the
 * choice can be judged. Errors are over points (the mean of their repetitions). Printed, never
 * asserted: a busy machine changes CPU figures.
 * Run: npx tsx bench/model-heldout.ts [--only PARAM=VALUE]... [SET] [metric ...]
 * e.g. npx tsx bench/model-heldout.ts test/fixtures/sets/stream-physics guest.cpu_ms_per_frame client.bitrate
 */
import { InputError } from '../src/base/errors.ts';
import { fit, predict, type FitByResult, type FitResult } from '../src/analyze/fit.ts';
import { FORMS, type FormName } from '../src/analyze/fit.ts';
import { groupPoints, type Dataset } from '../src/analyze/dataset.ts';
import { datasetOf, openModelSource } from '../src/analyze/load.ts';
import { PIXELS } from '../src/analyze/terms.ts';
import { ResultSet } from '../src/store/resultset.ts';

// --only PARAM=VALUE (repeatable): hold the rows to one level of a category (e.g. --only codec=h264).
const args = process.argv.slice(2);
const only: [string, string][] = [];
for (let i = args.indexOf('--only'); i >= 0; i = args.indexOf('--only')) {
  const [k, v] = (args[i + 1] ?? '').split('=');
  if (!k || v === undefined) throw new Error('--only takes PARAM=VALUE');
  only.push([k, v]);
  args.splice(i, 2);
}
const dir = args[0] ?? new URL('../test/fixtures/sets/stream-matrix', import.meta.url).pathname;
const metrics = args.length > 1 ? args.slice(1) : ['guest.cpu_pct', 'client.bitrate'];

const src = await openModelSource(ResultSet.open(dir), metrics);
src.rows = src.rows.filter((r) => only.every(([k, v]) => String(r.cells[k]) === v));
if (only.length > 0) console.log(`only ${only.map(([k, v]) => `${k}=${v}`).join(', ')}`);
const pixels = [...new Set(src.rows.map((r) => r.cells[PIXELS] as number))].sort((a, b) => a - b);
const label = (px: number) => String(src.rows.find((r) => r.cells[PIXELS] === px)!.cells['resolution']);
if (pixels.length < 3) throw new Error(`${dir}: ${pixels.length} resolutions; holding one out needs at least 3`);
const held = [
  { what: 'inside the range (middle resolution)', px: pixels[Math.floor(pixels.length / 2)]! },
  { what: 'extrapolation (top resolution)', px: pixels[pixels.length - 1]! },
];

/** MAPE over the held-out points of a fit on the others. */
function heldOutError(ds: Dataset, px: number, opts: { forms?: FormName[]; by?: string }): { mape: number; points: number; form: string } {
  const train = { ...ds, rows: ds.rows.filter((r) => r.params[PIXELS] !== px) };
  const test = groupPoints(ds.rows.filter((r) => r.params[PIXELS] === px && Number.isFinite(r.y)));
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
console.log(`${dir}: ${src.rows.length} ok runs; resolutions ${pixels.map(label).join(', ')}`);
for (const metric of metrics) {
  const ds = datasetOf(src, metric);
  const all = fit(ds);
  console.log(`\n${metric}: on all runs, form ${all.form}, R^2 ${all.r2.toFixed(3)}, CV MAPE ${pct(all.cv.mape)}`);
  for (const h of held) {
    const chosen = heldOutError(ds, h.px, {});
    const by = ds.params.some((p) => p.name === 'codec' && p.kind === 'categorical') ? heldOutError(ds, h.px, { by: 'codec' }) : undefined;
    console.log(`  held out ${label(h.px)}, ${h.what}: MAPE ${pct(chosen.mape)} over ${chosen.points} points (form chosen on the rest: ${chosen.form})${by ? `; per codec (--by codec): ${pct(by.mape)} (${by.form})` : ''}`);
    const perForm = FORMS.map((form) => {
      try {
        return `${form} ${pct(heldOutError(ds, h.px, { forms: [form] }).mape)}`;
      } catch (e) {
        // A form the data do not allow (a log form of a metric with zeros) has no figure.
        if (!(e instanceof InputError)) throw e;
        return `${form} -`;
      }
    });
    console.log(`    each form: ${perForm.join(', ')}`);
  }
}
