// The model view in a real browser over the recorded fixture set: the impact bars are drawn (one
// per parameter that varies, the noise of the repetitions apart, adding up to 1), and a what-if
// answer at a setting never measured equals `streambench model predict SET --metric M --set ...
// --json`. The worst residual's link opens its run. Screenshots go to test-artifacts/ (look at them).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { UiServer } from '../../src/server/server.ts';
import type { ModelPredictResponse, ModelResponse } from '../../src/server/api-types.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
import { runCli } from '../helpers/cli.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/sets/stream-matrix');
const METRIC = 'guest.cpu_pct';

let tmp: string;
let setDir: string;
let server: UiServer;
let browser: Browser;

before(async () => {
  // Reading a set saves its points table beside its index: a copy keeps the fixture as committed.
  tmp = mkdtempSync(join(tmpdir(), 'sb-model-view-'));
  setDir = join(tmp, 'stream-matrix');
  cpSync(FIXTURE, setDir, { recursive: true });
  server = await startServer([setDir]);
  browser = await openBrowser();
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Hook = { __sbModel?: { model?: ModelResponse; predict?: ModelPredictResponse }; __sb: { charts: Record<string, { getOption(): unknown }> } };

async function openView(page: Page): Promise<ModelResponse> {
  const name = server.sets.sets[0]!.name;
  await page.goto(`${server.url.replace(/#.*$/, '')}?view=model&mset=${encodeURIComponent(name)}&mmetric=${encodeURIComponent(METRIC)}`);
  await waitDraw(page, 0, 120_000);
  return page.evaluate(() => (globalThis as unknown as Hook).__sbModel!.model!);
}

test('the impact bars: one per parameter and pair, the noise of the repetitions last, adding up to 1', async () => {
  const { page, errors } = await newPage(browser);
  const m = await openView(page);
  const option = (await page.evaluate(() => (globalThis as unknown as Hook).__sb.charts['model-impact']!.getOption())) as { yAxis: { data: string[] }[]; series: { data: { value: number }[] }[] };
  const names = option.yAxis[0]!.data;
  const shares = option.series[0]!.data.map((d) => d.value);
  for (const p of ['codec', 'resolution', 'fps', 'bitrate']) assert.ok(names.includes(p), `no bar for ${p}: ${names.join(', ')}`);
  assert.equal(names.at(-1), 'noise (repetitions)');
  assert.ok(Math.abs(shares.reduce((s, v) => s + v, 0) - 1) < 1e-9);
  // The bars are the route's figures, and the route's are the CLI's (model impact --json).
  assert.deepEqual(shares.slice(0, -1), m.impact.factors['share']);
  const box = await page.locator('canvas').first().boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100);
  await shot(page, 'model-view');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a what-if answer at an unmeasured setting equals model predict --json; the worst residual opens its run', async () => {
  const { page, errors } = await newPage(browser);
  const m = await openView(page);
  // A frame size that was not measured (an extrapolation), the other parameters at a measured value.
  const sets: string[] = [];
  for (const s of m.settings) {
    const input = page.locator(`.whatif input[name="${s.name}"]`);
    if (s.type === 'resolution') await input.fill('1280x720');
    else if (s.name === 'bitrate') await input.fill('2M');
    sets.push('--set', `${s.name}=${await input.inputValue()}`);
  }
  assert.ok(sets.includes('resolution=1280x720'), `the model of ${METRIC} does not use the resolution: ${JSON.stringify(m.settings)}`);
  await page.locator('.whatif button[type="submit"]').click();
  await page.waitForFunction(() => (globalThis as unknown as Hook).__sbModel?.predict !== undefined, undefined, { timeout: 60_000 });
  const shown = await page.evaluate(() => (globalThis as unknown as Hook).__sbModel!.predict!);
  await shot(page, 'model-view-whatif');

  const cli = runCli(['model', 'predict', setDir, '--metric', METRIC, ...sets, '--json']);
  assert.equal(cli.code, 0, cli.err);
  assert.deepEqual(shown, JSON.parse(cli.out));
  assert.ok(
    shown.predictions[0]!.outside.some((o) => o.param === 'resolution.pixels' || o.param === 'pixel_rate'),
    JSON.stringify(shown),
  );
  assert.match(await page.locator('.whatif .prediction').innerText(), new RegExp(`^${METRIC.replace(/\./g, '\\.')} = `));
  // The model is a log form: the answer is the mean of a run (exp(prediction) x Duan's smearing factor), and the page says so.
  const x = shown.predictions[0]!;
  assert.equal(x.estimate, 'mean');
  assert.ok(typeof x.smearing === 'number' && x.smearing > 1, `the model of ${METRIC} should be a log form here: ${JSON.stringify(x)}`);
  assert.match(await page.locator('.whatif .prediction').innerText(), /\(the mean of a run\); 95 % CI of the mean/);
  assert.match(await page.locator('.whatif .retransform').innerText(), /the mean is that x [\d.]+, Duan's smearing factor/);

  const worst = page.locator('ol.worst a').first();
  const key = await worst.getAttribute('data-key');
  await worst.click();
  await page.waitForURL((u) => u.searchParams.get('view') === 'run');
  const run = new URL(page.url()).searchParams.get('run')!;
  assert.equal(run.split('/')[1], key);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a what-if at a codec no run had is refused in one line naming the codecs measured; no value is shown', async () => {
  const { page, errors } = await newPage(browser);
  const m = await openView(page);
  assert.ok(
    m.settings.some((s) => s.name === 'codec'),
    `the model of ${METRIC} does not use the codec: ${JSON.stringify(m.settings)}`,
  );
  const draws = await page.evaluate(() => (globalThis as unknown as { __sb: { draws: number } }).__sb.draws);
  await page.locator('.whatif input[name="codec"]').fill('h265');
  await page.locator('.whatif button[type="submit"]').click();
  await waitDraw(page, draws, 60_000);
  const error = await page.locator('.whatif .answer .error').innerText();
  assert.match(error, /codec=h265: no run had it, so the model has no estimate for it \(measured: h264, vp8\)$/);
  assert.equal(error.split('\n').length, 1, error);
  assert.equal(await page.locator('.whatif .prediction').count(), 0);
  await shot(page, 'model-view-whatif-refused');
  // The page's console shows the failed request (HTTP 400); nothing else went wrong.
  assert.deepEqual(
    errors.filter((e) => !/status of 400/.test(e)),
    [],
  );
  await page.close();
});
