// The saved models test/fixtures/models/ holds, made by the real `model fit` (fitAndSave) from a
// small synthetic set of stream points whose quality and guest CPU follow known formulas:
// quality grows with bitrate and frame size, falls with frame rate; CPU grows with the pixel rate.
// `npx tsx test/helpers/model-fixture.ts` writes them; test/policy-model.test.ts fits them again
// and checks the files are what the fit gives, so the fixture keeps the format the fit writes.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitAndSave } from '../../src/analyze/models.ts';
import { openModelSource } from '../../src/analyze/load.ts';
import { normalDraw, seededRandom } from '../../src/analyze/stats.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import '../../src/workloads/index.ts';

/** Where the fixture models live. */
export const MODEL_FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
/** The metrics modelled, quality first. */
export const FIXTURE_METRICS = ['client.psnr', 'guest.cpu_pct'] as const;

/** The known formulas: PSNR in dB, guest CPU in percent of one core. */
export function truth(p: { width: number; height: number; fps: number; bitrate: number }): { psnr: number; cpu: number } {
  const px = p.width * p.height;
  return { psnr: 32 + 3 * Math.log(p.bitrate / 1e6) + 2 * Math.log(px / 921600) - Math.log(p.fps / 30), cpu: 40 * ((px * p.fps) / (921600 * 30)) ** 0.8 * (p.bitrate / 2e6) ** 0.1 };
}

/** Writes the synthetic set under `dir`, fits both metrics with fitAndSave, and returns the saved files' texts by metric. */
export async function fitFixtureModels(dir: string): Promise<Record<string, string>> {
  const set = ResultSet.openOrCreate(join(dir, 'set'), 'model-fixture');
  set.index().close();
  const rand = seededRandom(7);
  let index = 0;
  for (const [width, height] of [
    [640, 360],
    [960, 540],
    [1280, 720],
  ] as const) {
    for (const fps of [15, 30]) {
      for (const bitrate of [5e5, 1e6, 2e6, 4e6]) {
        index++;
        const key = `p${String(index).padStart(2, '0')}`;
        for (const rep of [1, 2]) {
          const t = truth({ width, height, fps, bitrate });
          const w = set.beginPoint(key, rep);
          w.commit({
            key,
            rep,
            index,
            params: { codec: 'h264', resolution: `${width}x${height}`, fps, bitrate },
            typed: { codec: 'h264', resolution: { width, height }, fps, bitrate },
            outcome: { status: 'ok' },
            attempts: 1,
            workload: 'stream',
            benchmark: { name: 'model-fixture', sha256: '0'.repeat(64) },
            startedAt: '2026-01-01T00:00:00.000Z',
            endedAt: '2026-01-01T00:00:05.000Z',
            wallS: 5,
            metrics: { 'client.psnr': t.psnr + 0.2 * normalDraw(rand), 'guest.cpu_pct': t.cpu * Math.exp(0.03 * normalDraw(rand)) },
            flags: [],
            conditions: { checked: ['saturated'], notChecked: [], found: [] },
          });
        }
      }
    }
  }
  const src = await openModelSource(set, [...FIXTURE_METRICS]);
  const out: Record<string, string> = {};
  for (const metric of FIXTURE_METRICS) {
    const { saved } = fitAndSave(src, metric);
    // Where and when it was fitted differ from run to run; the rest is the fit's, to the last digit.
    out[metric] = JSON.stringify({ ...saved, set: 'model-fixture', dir: 'test/fixtures/models', createdAt: '2026-01-01T00:00:00.000Z' }, null, 2) + '\n';
  }
  return out;
}

/** The committed fixture's text of a metric's model. */
export function fixtureText(metric: string): string {
  return readFileSync(join(MODEL_FIXTURES, `${metric}.json`), 'utf8');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const texts = await fitFixtureModels(mkdtempSync(join(tmpdir(), 'sb-model-fixture-')));
  mkdirSync(MODEL_FIXTURES, { recursive: true });
  for (const [metric, text] of Object.entries(texts)) {
    writeFileSync(join(MODEL_FIXTURES, `${metric}.json`), text);
    process.stdout.write(`test/fixtures/models/${metric}.json: ${(JSON.parse(text) as { fit: { formula: string } }).fit.formula}\n`);
  }
}
