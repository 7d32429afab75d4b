/**
 * fit and impact of src/analyze on 1,000 synthetic runs (6 parameters, 3 repetitions, a sparse
 * selection of 333 of the 576 points of the full matrix), against a reference measured in the same
 * run: one plain OLS solve (ml-matrix QR) of the same runs on the main-effects + pairs design, the
 * least a model with interactions can cost. Each figure is the median of a few timed calls after a
 * warm-up call (the GUI's server is long-lived: its fits run warm). Aim: fit and impact together under
 * 1 s with 1,000 bootstrap resamples (Optuna's fANOVA: over a minute).
 * Run: npx tsx bench/analyze.ts [calls]
 */
import { performance } from 'node:perf_hooks';
import { fit } from '../src/analyze/fit.ts';
import { BOOTSTRAP, impact } from '../src/analyze/impact.ts';
import { ols } from '../src/analyze/ols.ts';
import { seededRandom } from '../src/analyze/stats.ts';
import { synthetic } from '../src/analyze/synthetic.ts';
import { designMatrix, INTERCEPT, term, type Atom } from '../src/config/model-terms.ts';

const CALLS = Number(process.argv[2] ?? 5);
const pick = seededRandom(42);
const keep = new Set<number>();
while (keep.size < 333) keep.add(Math.floor(pick() * 576));
let index = 0;
const ds = synthetic({
  values: { 'resolution.width': [640, 960, 1280, 1920], 'resolution.height': [360, 540, 720, 1080], fps: [15, 30, 60], bitrate: [1e6, 3e6, 8e6], scene: ['typing', 'video'], codec: ['h264', 'vp8'] },
  reps: 3,
  seed: 7,
  noise: (p) => 0.05 * (4 + (p['resolution.width'] as number) * (p['resolution.height'] as number) * (p.fps as number) * 1e-7),
  keep: () => keep.has(index++),
  formula: (p) => 4 + (p['resolution.width'] as number) * (p['resolution.height'] as number) * (p.fps as number) * (p.scene === 'video' ? 2e-7 : 1e-7) * (p.codec === 'vp8' ? 1.3 : 1) + 1e-6 * (p.bitrate as number),
  metric: 'guest.cpu_pct',
});

function median(f: () => void): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const mains: Atom[][] = [...['resolution.width', 'resolution.height', 'fps', 'bitrate'].map((param): Atom[] => [{ kind: 'num', param }]), [{ kind: 'level', param: 'scene', level: 'video' }], [{ kind: 'level', param: 'codec', level: 'vp8' }]];
const pairs = mains.flatMap((a, i) => mains.slice(i + 1).map((b) => [...a, ...b]));
const X = designMatrix([INTERCEPT, ...[...mains, ...pairs].map(term)], ds.rows);
const y = ds.rows.map((r) => r.y);

const ref = median(() => ols(X, y));
const tFit = median(() => fit(ds));
const tImpact = median(() => impact(ds));
const tImpact0 = median(() => impact(ds, { bootstrap: 0 }));
const f = fit(ds);
const im = impact(ds);
console.log(`${ds.rows.length} runs, ${new Set(ds.rows.map((r) => r.key)).size} points, 6 parameters; median of ${CALLS} calls`);
console.log(`reference: one OLS solve, ${X[0]!.length} columns       ${ref.toFixed(1)} ms`);
console.log(`fit (${f.candidates.length} forms x 5 folds + final: chose ${f.form}) ${tFit.toFixed(1)} ms  (${(tFit / ref).toFixed(0)} x reference)`);
console.log(`impact, ${BOOTSTRAP} bootstrap resamples        ${tImpact.toFixed(1)} ms  (${(tImpact / ref).toFixed(0)} x reference)`);
console.log(`impact, no bootstrap                    ${tImpact0.toFixed(1)} ms  (${(tImpact0 / ref).toFixed(0)} x reference)`);
console.log(`fit + impact                            ${(tFit + tImpact).toFixed(1)} ms  (aim < 1000 ms: ${tFit + tImpact < 1000 ? 'met' : 'missed'}; ${((tFit + tImpact) / ref).toFixed(1)} x reference)`);
console.log(
  `cv mape ${(f.cv.mape * 100).toFixed(1)} %; impact: ${im.factors
    .filter((x) => x.share > 0.01)
    .map((x) => `${x.name} ${(x.share * 100).toFixed(1)} %`)
    .join(', ')}, noise ${(im.noise.share * 100).toFixed(1)} %`,
);
