import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import { compare, parseRule, type CompareSet } from './compare.ts';
import { fullMatrix } from './synthetic.ts';
import { normalDraw, seededRandom } from './stats.ts';

const matrix = fullMatrix({ codec: ['h264', 'vp8'], fps: [15, 30, 60], bitrate: [1e6, 3e6] });

/** A set of the pipeline's figures; `slower` makes one setting's latency 20 % higher. */
function recordSet(seed: number, reps: number, slower?: (p: Record<string, number | string>) => boolean): CompareSet {
  const rand = seededRandom(seed);
  return {
    params: [
      { name: 'codec', kind: 'categorical' },
      { name: 'fps', kind: 'numeric' },
      { name: 'bitrate', kind: 'numeric' },
    ],
    rows: matrix.flatMap((p, i) =>
      Array.from({ length: reps }, (_, rep) => {
        const latency = (40 + 600 / (p.fps as number)) * (slower?.(p) ? 1.2 : 1);
        return { key: `k${seed}-${i}`, rep, params: p, metrics: { 'latency.p95': latency + 1.5 * normalDraw(rand), 'guest.cpu_pct': 5 + (p.fps as number) * 0.5 + normalDraw(rand) } };
      }),
    ),
  };
}

const target = (p: Record<string, number | string>) => p.codec === 'vp8' && p.fps === 60 && p.bitrate === 3e6;

test('a set against itself rerun: no real change, and the gate passes', () => {
  const r = compare(recordSet(1, 5), recordSet(2, 5), { failOn: ['latency.p95>+5%'] });
  assert.equal(r.matched, 12);
  assert.equal(r.changes.length, 24);
  assert.ok(r.changes.every((c) => c.test === 'welch'));
  assert.deepEqual(
    r.changes.filter((c) => c.real),
    [],
  );
  assert.equal(r.fail, false);
  assert.equal(r.correction, 'holm');
});

test('one setting made slower: exactly that change is real and breaks the rule', () => {
  const r = compare(recordSet(1, 5), recordSet(2, 5, target), { failOn: ['latency.p95>+5%', 'guest.cpu_pct>+5%'] });
  const real = r.changes.filter((c) => c.real);
  assert.equal(real.length, 1, JSON.stringify(real));
  assert.equal(real[0]!.metric, 'latency.p95');
  assert.ok(target(real[0]!.params));
  assert.ok(real[0]!.ci[0] > 0 && Math.abs(real[0]!.relative - 0.2) < 0.05, JSON.stringify(real[0]));
  assert.deepEqual(
    r.failures.map((f) => [f.rule, target(f.params)]),
    [['latency.p95>+5%', true]],
  );
  assert.equal(r.fail, true);
  // A threshold above the change does not fire.
  assert.equal(compare(recordSet(1, 5), recordSet(2, 5, target), { failOn: ['latency.p95>+30%'] }).fail, false);
});

test('one run on a side: tested against the pooled noise, and said so; no repetitions at all: no test', () => {
  const r = compare(recordSet(1, 3), recordSet(2, 1, target), { metrics: ['latency.p95'] });
  assert.ok(r.changes.every((c) => c.test === 'pooled' && c.df === 24));
  assert.deepEqual(
    r.changes.filter((c) => c.real).map((c) => target(c.params)),
    [true],
  );
  assert.ok(r.notes.some((n) => n.includes('pooled noise')));
  const none = compare(recordSet(1, 1), recordSet(2, 1, target), { metrics: ['latency.p95'] });
  assert.ok(none.changes.every((c) => c.test === 'none' && Number.isNaN(c.p) && !c.real));
});

test('unmatched settings are listed on their side', () => {
  const b = recordSet(1, 2);
  const n = recordSet(2, 2);
  n.rows = n.rows.filter((r) => r.params.fps !== 15);
  const r = compare(b, n);
  assert.equal(r.matched, 8);
  assert.equal(r.onlyBase.length, 4);
  assert.ok(r.onlyBase.every((p) => p.fps === 15));
  assert.deepEqual(r.onlyNew, []);
});

test('rules: parsed, and bad ones are one-line InputErrors', () => {
  assert.deepEqual(parseRule('latency.p95>+5%'), { text: 'latency.p95>+5%', metric: 'latency.p95', op: '>', value: 0.05, relative: true });
  assert.deepEqual(parseRule('client.fps < -2'), { text: 'client.fps < -2', metric: 'client.fps', op: '<', value: -2, relative: false });
  assert.throws(
    () => parseRule('latency.p95 grows'),
    (e: unknown) => e instanceof InputError && /^--fail-on: "latency\.p95 grows" is not a rule: expected METRIC>\+N%/.test(e.message),
  );
  assert.throws(
    () => compare(recordSet(1, 2), recordSet(2, 2), { failOn: ['client.psnr>+1%'] }),
    (e: unknown) => e instanceof InputError && /client\.psnr is not among the compared metrics/.test(e.message),
  );
});

/** Sets with 30 metrics of pure noise beside latency.p95, which `shift` raises at the target setting. */
function manyMetrics(seed: number, shift: number): CompareSet {
  const rand = seededRandom(seed);
  return {
    params: [
      { name: 'codec', kind: 'categorical' },
      { name: 'fps', kind: 'numeric' },
      { name: 'bitrate', kind: 'numeric' },
    ],
    rows: matrix.flatMap((p, i) =>
      Array.from({ length: 5 }, (_, rep) => {
        const metrics: Record<string, number> = { 'latency.p95': 50 + 1.5 * normalDraw(rand) + (target(p) ? shift : 0) };
        for (let k = 0; k < 30; k++) metrics[`other.m${String(k).padStart(2, '0')}`] = 100 + normalDraw(rand);
        return { key: `k${seed}-${i}`, rep, params: p, metrics };
      }),
    ),
  };
}

test('the correction family is the gated metrics: metrics added beside the gate do not take its power', () => {
  // latency.p95 rises 6 ms (12 %) at one setting: raw p about 3e-4. Corrected over its own 12
  // tests that is real; over all 31 metrics x 12 settings (372 tests) it would not be.
  const gated = compare(manyMetrics(1, 0), manyMetrics(2, 6), { failOn: ['latency.p95>+5%'] });
  assert.deepEqual(gated.family, { metrics: ['latency.p95'], tests: 12, by: 'fail-on' });
  assert.equal(gated.changes.length, 31 * 12, 'every metric is still compared and shown');
  const hit = gated.changes.find((c) => c.metric === 'latency.p95' && target(c.params))!;
  assert.ok(hit.p > 1e-4 && hit.p < 1e-3, `raw p ${hit.p}`);
  assert.ok(Math.abs(hit.pAdj - Math.min(1, hit.p * 12)) < 1e-12, `Holm over the 12 gated tests: ${hit.pAdj}`);
  assert.equal(hit.family, 'gated');
  assert.equal(gated.fail, true);
  assert.deepEqual(
    gated.failures.map((f) => [f.metric, target(f.params)]),
    [['latency.p95', true]],
  );
  // The metrics no rule names are corrected among themselves (a family of their own), gating nothing.
  assert.deepEqual(gated.others, { metrics: Array.from({ length: 30 }, (_, k) => `other.m${String(k).padStart(2, '0')}`), tests: 360 });
  assert.ok(gated.changes.filter((c) => c.metric !== 'latency.p95').every((c) => c.family === 'other'));
  // No rule: the family is every metric compared, as before.
  const all = compare(manyMetrics(1, 0), manyMetrics(2, 6));
  assert.deepEqual(all.family, { metrics: ['latency.p95', ...Array.from({ length: 30 }, (_, k) => `other.m${String(k).padStart(2, '0')}`)], tests: 372, by: 'compared' });
  assert.equal(all.others, undefined);
  const same = all.changes.find((c) => c.metric === 'latency.p95' && target(c.params))!;
  assert.equal(same.real, false, `over 372 tests p ${same.p} is not enough: ${same.pAdj}`);
});
