// The model policy on models saved by the real `model fit` (test/fixtures/models/, made by
// test/helpers/model-fixture.ts from a set whose truth is known: quality grows with bitrate and
// frame size and falls with frame rate, CPU grows with the pixel rate): it picks the candidate of
// highest predicted quality within the CPU budget, and another when the budget changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evaluateFit, modelFromCode, type SavedFit } from '../../config/saved-model.ts';
import { policyHash } from '../../config/stream-settings.ts';
import { best, candidates, createModelPolicy, knobsRead, score, settingAt, type ModelPolicyModels } from './model.ts';
import type { Observation, PolicyInit } from './policy.ts';

function fixture(metric: string): SavedFit {
  const name = fileURLToPath(new URL(`../../../test/fixtures/models/${metric}.json`, import.meta.url));
  const source = readFileSync(name, 'utf8');
  return modelFromCode({ name, source, sha256: policyHash(source) });
}

const quality = fixture('client.psnr');
const cpu = fixture('guest.cpu_pct');
const base = { codec: 'h264', bitrate: 2e6, fps: 30, resolution: '1280x720', 'resolution.width': 1280, 'resolution.height': 720, 'resolution.pixels': 921600 };
const init: PolicyInit = { bitrateBps: 2e6, fps: 30, width: 1280, height: 720, codec: 'h264', transport: 'udp', params: {} };
const models = (budgetPct: number): ModelPolicyModels => ({ quality, cpu, base, budgetPct });

/** The pick under an estimate and a budget, and every candidate scored on its own by the saved models. */
function pickAt(estimateBps: number, budgetPct: number) {
  const read = knobsRead([quality, cpu], base);
  const cands = candidates(init, 50_000, estimateBps, 12, read, init.bitrateBps);
  const all = cands.map((k) => ({ k, q: evaluateFit(quality, settingAt(base, k)), c: evaluateFit(cpu, settingAt(base, k)) }));
  return { pick: best(score(models(budgetPct), cands))!, all };
}

test('the models read bitrate, frame rate and frame size, so all three are chosen among', () => {
  assert.deepEqual(knobsRead([quality, cpu], base), { bitrate: true, fps: true, size: true });
  const cands = candidates(init, 50_000, 1.5e6, 12, { bitrate: true, fps: true, size: true }, 2e6);
  assert.deepEqual([...new Set(cands.map((c) => `${c.width}x${c.height}`))], ['1280x720', '960x540', '640x360']);
  assert.deepEqual([...new Set(cands.map((c) => c.fps))], [30, 20, 15]);
  assert.ok(
    cands.every((c) => c.bitrateBps <= 1.5e6 && c.bitrateBps >= 50_000),
    'bitrates up to the estimate',
  );
});

test('it picks the predicted-best setting within the budget, and another when the budget shrinks', () => {
  const estimate = 1.5e6;
  const picks = [100, 12].map((budget) => {
    const { pick, all } = pickAt(estimate, budget);
    assert.ok(pick.cpuPct <= budget && pick.bitrateBps <= estimate, `within the budget ${budget} % and the estimate: ${JSON.stringify(pick)}`);
    // No candidate the models predict better fits the budget.
    const better = all.filter((x) => x.q > pick.quality + 1e-9 && x.c <= budget);
    assert.deepEqual(better, [], `budget ${budget} %: nothing better fits`);
    assert.ok(
      all.some((x) => x.k.width === pick.width && x.k.fps === pick.fps && x.k.bitrateBps === pick.bitrateBps && Math.abs(x.q - pick.quality) < 1e-9),
      "its prediction is the saved model's",
    );
    return pick;
  });
  // With a whole core the biggest frame at the lowest rate and the most bits win; 12 % of a core cannot pay for 1280x720.
  assert.deepEqual([picks[0]!.width, picks[0]!.fps, picks[0]!.bitrateBps], [1280, 15, 1.5e6]);
  assert.ok(picks[1]!.width * picks[1]!.height < 1280 * 720, `a smaller frame under 12 %: ${JSON.stringify(picks[1])}`);
  const { all } = pickAt(estimate, 12);
  assert.ok(
    all.some((x) => x.q > picks[1]!.quality && x.c > 12),
    'a better setting exists, over the budget',
  );
});

test('a budget nothing fits takes the setting of least predicted CPU', () => {
  const { pick, all } = pickAt(1e6, 0.01);
  assert.equal(pick.fits, false);
  assert.equal(pick.cpuPct, Math.min(...all.map((x) => x.c)));
});

/** Reports of a steady path: every 50 ms, 1200-byte packets at `bps`, one-way delay constant. */
function* reports(bps: number): Generator<Observation> {
  let pkt = 0;
  for (let r = 0; ; r++) {
    const t0 = 1000 + r * 50;
    const n = Math.max(2, Math.round((bps * 0.05) / 8 / 1200));
    const packets = Array.from({ length: n }, (_, i) => ({ pkt: pkt++, sendMs: t0 + (i * 50) / n, arrivalMs: 9e6 + t0 + (i * 50) / n + 20, bytes: 1200 }));
    yield { nowMs: t0 + 70, feedback: { report: r, atMs: 9e6 + t0 + 70, lost: 0, packets }, frames: [], probes: [], inFlightBytes: 0, guestCpuPct: 10, current: { bitrateBps: 2e6, fps: 30, width: 1280, height: 720 } };
  }
}

test('over feedback, it holds the frame size it chose and stamps its predictions; a smaller budget picks a smaller frame', () => {
  const run = (budget: number) => {
    const p = createModelPolicy(init, models(budget));
    const gen = reports(2e6);
    const ds = Array.from({ length: 40 }, () => p.decide(gen.next().value as Observation)!);
    return ds;
  };
  for (const [budget, ds] of [
    [100, run(100)],
    [12, run(12)],
  ] as const) {
    const sizes = new Set(ds.map((d) => d.estimate!['resolution']));
    assert.equal(sizes.size, 1, `budget ${budget} %: one frame size held on a steady path (${[...sizes].join(', ')})`);
    for (const d of ds) {
      const e = d.estimate!;
      assert.ok((e['bitrate_bps'] as number) <= (e['bandwidth_bps'] as number), `the bitrate is within gcc's estimate: ${JSON.stringify(e)}`);
      assert.ok((e['cpu_pct'] as number) <= budget && e['fits'] === 1, `within the budget: ${JSON.stringify(e)}`);
    }
    assert.equal(ds[0]!.resolution, ds[0]!.estimate!['resolution'] === '1280x720' ? undefined : ds[0]!.estimate!['resolution'], "the frame size is asked for where it differs from the encoder's");
  }
  assert.notEqual(run(100)[0]!.estimate!['resolution'], run(12)[0]!.estimate!['resolution']);
});
