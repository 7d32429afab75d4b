import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import { fit } from './fit.ts';
import { paretoFront, recommend } from './recommend.ts';
import { synthetic } from './synthetic.ts';

test('Pareto front of a known set (maximise both scores)', () => {
  const pts = [
    [1, 9],
    [2, 8],
    [2, 7], // beaten by [2, 8]
    [5, 5],
    [4, 4], // beaten by [5, 5]
    [9, 1],
    [9, 1], // a tie is on the front with its twin
    [0, 0],
  ];
  assert.deepEqual(
    paretoFront(pts, (p) => p),
    [
      [1, 9],
      [2, 8],
      [5, 5],
      [9, 1],
      [9, 1],
    ],
  );
});

const values = { fps: [15, 30, 60], bitrate: [1e6, 2e6, 4e6] };
const psnr = synthetic({ values, reps: 2, seed: 1, noise: 0.05, metric: 'client.psnr', formula: (p) => 30 + 2 * Math.log2((p.bitrate as number) / 1e6) - 0.05 * (p.fps as number) });
const cpu = synthetic({ values, reps: 2, seed: 2, noise: 0.05, metric: 'guest.cpu_pct', formula: (p) => 0.5 * (p.fps as number) + 2 * ((p.bitrate as number) / 1e6) });
const models = [fit(psnr, { forms: ['linear+pairs'] }), fit(cpu, { forms: ['linear+pairs'] })];

test('one objective under a budget: the best setting fits the budget and beats the other measured ones', () => {
  const r = recommend(models, { maximize: ['client.psnr'], where: [{ metric: 'guest.cpu_pct', op: '<', value: 20 }] });
  assert.equal(r.fits, true);
  const best = r.best[0]!;
  assert.ok((best.metrics['guest.cpu_pct']!.measured ?? best.metrics['guest.cpu_pct']!.value) < 20);
  // Among measured settings with cpu < 20 (fps 15 with any bitrate, fps 30 up to 2M), 15 fps at 4M has the best PSNR.
  const measured = r.best.filter((c) => c.source === 'measured');
  assert.deepEqual(measured[0]!.params, { fps: 15, bitrate: 4e6 });
  assert.ok(best.metrics['client.psnr']!.pi[0] < best.metrics['client.psnr']!.value);
  assert.ok(r.considered > 9, 'grid settings beside the 9 measured');
});

test('two objectives: the front trades PSNR for CPU, and no setting on it is beaten on both', () => {
  const r = recommend(models, { maximize: ['client.psnr'], minimize: ['guest.cpu_pct'] });
  assert.ok(r.best.length >= 3, `${r.best.length} on the front`);
  const v = (c: (typeof r.best)[number], m: string) => c.metrics[m]!.measured ?? c.metrics[m]!.value;
  for (const a of r.best) for (const b of r.best) assert.ok(!(v(b, 'client.psnr') > v(a, 'client.psnr') && v(b, 'guest.cpu_pct') < v(a, 'guest.cpu_pct')), 'a front member is dominated');
  for (let i = 1; i < r.best.length; i++) assert.ok(v(r.best[i]!, 'client.psnr') <= v(r.best[i - 1]!, 'client.psnr'), 'sorted by the first objective');
});

test('no setting fits: the answer says so and gives the closest ones', () => {
  const r = recommend(models, {
    maximize: ['client.psnr'],
    where: [
      { metric: 'guest.cpu_pct', op: '<', value: 5 },
      { param: 'fps', op: '>=', value: 30 },
    ],
  });
  assert.equal(r.fits, false);
  assert.deepEqual(r.best, []);
  assert.equal(r.closest.length, 5);
  for (let i = 1; i < r.closest.length; i++) assert.ok(r.closest[i]!.violation >= r.closest[i - 1]!.violation);
  assert.ok(r.closest[0]!.violations.length > 0);
  assert.throws(
    () => recommend(models, { maximize: ['latency.p95'] }),
    (e: unknown) => e instanceof InputError && /no model of latency\.p95/.test(e.message),
  );
});
