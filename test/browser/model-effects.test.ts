// The model view's effects, fit verdict and what-if distance in a real browser, over a small set
// with known formulas (test/helpers/additive-set.ts). The partial dependence drawn equals this
// test's own computation from the coefficients `streambench model fit --json` prints and the runs'
// mix of settings DuckDB gives; the measured means beside it are DuckDB's. A noise-only metric
// gets the poor-fit warning, the clean linear one does not; a metric that never varies is not in
// the menu; an extrapolated what-if is greyed and says why; the what-if survives a reload.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ModelPredictResponse, ModelResponse } from '../../src/server/api-types.ts';
import type { UiServer } from '../../src/server/server.ts';
import { openSetDatabase } from '../../src/store/database.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import { runCli } from '../helpers/cli.ts';
import { writeAdditiveSet } from '../helpers/additive-set.ts';
import { newPage, openBrowser, startServer, waitDraw } from './harness.ts';
import '../../src/workloads/index.ts';

const SHOTS = '/tmp/shots/hC';
let tmp: string;
let dir: string;
let server: UiServer;
let browser: Browser;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sb-model-effects-'));
  dir = writeAdditiveSet(tmp);
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer([dir]);
  browser = await openBrowser();
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Hook = { __sbModel?: { model?: ModelResponse; predict?: ModelPredictResponse }; __sb: { draws: number; charts: Record<string, { getOption(): unknown }> } };
type EffectOption = { series: { name: string; data: [number | string, number][] }[] };

async function open(page: Page, query: string): Promise<ModelResponse> {
  await page.goto(`${server.url.replace(/#.*$/, '')}?view=model&${query}`);
  await waitDraw(page, 0, 120_000);
  return page.evaluate(() => (globalThis as unknown as Hook).__sbModel!.model!);
}

async function duck(sql: string): Promise<unknown[][]> {
  const db = await openSetDatabase([ResultSet.open(dir)], { views: [] });
  try {
    return (await db.duck.read(sql)).getRowsJS();
  } finally {
    db.close();
  }
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

test('the partial dependence drawn is the fitted model averaged over the runs; the dots are the measured means', async () => {
  const { page, errors } = await newPage(browser);
  await page.setViewportSize({ width: 1400, height: 1100 });
  await open(page, 'mmetric=clean');
  // The model as the CLI fits it: clean = b0 + bx x + bz z + b_b [c=b] + b_c [c=c].
  const cli = runCli(['model', 'fit', dir, '--metric', 'clean', '--json']);
  assert.equal(cli.code, 0, cli.err);
  const fit = JSON.parse(cli.out) as { form: string; terms: { name: string; coef: number }[] };
  assert.equal(fit.form, 'linear', 'the clean metric should be fitted by the linear form');
  const b = Object.fromEntries(fit.terms.map((t) => [t.name, t.coef]));
  // The runs' mix of the other settings, from DuckDB.
  const [mix] = (await duck(`SELECT avg(x), avg(z), avg(CASE WHEN c = 'b' THEN 1 ELSE 0 END), avg(CASE WHEN c = 'c' THEN 1 ELSE 0 END) FROM points WHERE status = 'ok'`)) as [number, number, number, number][];
  const [mx, mz, fb, fc] = mix!.map(Number) as [number, number, number, number];
  const at = (x: number, z: number, cb: number, cc: number) => b['(intercept)']! + b['x']! * x + b['z']! * z + b['c=b']! * cb + b['c=c']! * cc;
  const want: Record<string, (v: number | string) => number> = {
    x: (v) => at(Number(v), mz, fb, fc),
    z: (v) => at(mx, Number(v), fb, fc),
    c: (v) => at(mx, mz, v === 'b' ? 1 : 0, v === 'c' ? 1 : 0),
  };
  for (const param of ['x', 'z', 'c']) {
    const option = (await page.evaluate((name) => (globalThis as unknown as Hook).__sb.charts[name]!.getOption(), `model-effect-${param}`)) as EffectOption;
    const model = option.series.find((s) => s.name === 'model (partial dependence)')!;
    assert.ok(model.data.length >= (param === 'c' ? 3 : 2), `${param}: ${JSON.stringify(model.data)}`);
    for (const [v, y] of model.data) assert.ok(close(y, want[param]!(v)), `${param}=${v}: drawn ${y}, the model's average ${want[param]!(v)}`);
    // The measured means per tested value, from DuckDB.
    const measured = option.series.find((s) => s.name === 'measured mean')!.data;
    const rows = (await duck(`SELECT ${param}, avg(clean) FROM points WHERE status = 'ok' GROUP BY ${param} ORDER BY ${param}`)) as [number | string, number][];
    assert.equal(measured.length, rows.length);
    for (const [v, mean] of rows) {
      const shown = measured.find(([x]) => String(x) === String(v));
      assert.ok(shown && close(shown[1], mean), `${param}=${String(v)}: measured mean ${mean}, shown ${JSON.stringify(shown)}`);
    }
  }
  // Direction in words: x rises (its slope over 1..4 is the change), c's largest level is b.
  assert.ok((await page.locator('.effect[data-param="x"] h3').innerText()).startsWith(`x: rises from 1 to 4: +${Number((3 * b['x']!).toPrecision(3))} ms`));
  assert.match(await page.locator('.effect[data-param="c"] h3').innerText(), /^c: b is [\d.]+ ms above c/);
  assert.equal(await page.locator('.poor-fit').count(), 0, 'a clean linear fit is not flagged');
  await page.screenshot({ path: join(SHOTS, 'model-effects-clean.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a noise-only metric gets the poor-fit warning with its figures; a metric that never varies is not in the menu', async () => {
  const { page, errors } = await newPage(browser);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await open(page, 'mmetric=noise');
  const warning = await page.locator('.poor-fit').innerText();
  assert.match(warning, /^Poor fit/);
  assert.match(warning, /cross-validated R² -?[\d.]+ is below 0\.5/);
  const options = await page.locator('select[data-control="mmetric"] option').allInnerTexts();
  assert.deepEqual(options.sort(), ['clean', 'noise']);
  assert.match(await page.locator('.left-out').innerText(), /1 metric\(s\) left out/);
  await page.locator('.left-out summary').click();
  assert.match(await page.locator('.left-out').innerText(), /flat: the same in every run \(7 ms\): nothing to model/);
  await page.screenshot({ path: join(SHOTS, 'model-poor-fit.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("'keep saturated runs' asks the models with the saturated runs (flagged=include), is in the address and survives a reload", async () => {
  const { page, errors } = await newPage(browser);
  await open(page, 'mmetric=clean');
  const box = page.locator('input[data-control="mflagged"]');
  assert.equal(await box.isChecked(), false);
  const asked = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/model' && new URL(r.url()).searchParams.get('flagged') === 'include');
  const drawn = await page.evaluate(() => (globalThis as unknown as Hook).__sb.draws);
  await box.check();
  await asked;
  // The model with them drawn before the reload (which would abort its request).
  await waitDraw(page, drawn, 120_000);
  assert.equal(new URL(page.url()).searchParams.get('mflagged'), 'include');
  await page.reload();
  await waitDraw(page, 0, 120_000);
  assert.equal(await page.locator('input[data-control="mflagged"]').isChecked(), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('an extrapolated what-if is greyed and says why; the setting is in the address and a reload asks it again', async () => {
  const { page, errors } = await newPage(browser);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await open(page, 'mmetric=clean');
  const draws = await page.evaluate(() => (globalThis as unknown as Hook).__sb.draws);
  await page.locator('.whatif input[name="x"]').fill('8');
  await page.locator('.whatif input[name="z"]').fill('10');
  await page.locator('.whatif input[name="c"]').fill('a');
  await page.locator('.whatif button[type="submit"]').click();
  await waitDraw(page, draws, 60_000);
  const url = new URL(page.url());
  assert.deepEqual([url.searchParams.get('w.x'), url.searchParams.get('w.z'), url.searchParams.get('w.c')], ['8', '10', 'a']);
  assert.equal(await page.locator('.whatif .answer.extrapolated').count(), 1);
  assert.match(await page.locator('.whatif .coverage').innerText(), /^extrapolated: x 8 outside tested 1–4/);
  const first = await page.evaluate(() => (globalThis as unknown as Hook).__sbModel!.predict!);
  // The greyed value is the CLI's.
  const cli = runCli(['model', 'predict', dir, '--metric', 'clean', '--set', 'x=8', '--set', 'z=10', '--set', 'c=a', '--json']);
  assert.equal(cli.code, 0, cli.err);
  assert.deepEqual(first.predictions, (JSON.parse(cli.out) as ModelPredictResponse).predictions);
  // The page's own style, read in the page (this file is type-checked without the DOM's types).
  const color = await page.locator('.whatif .prediction').evaluate((e) => (globalThis as unknown as { getComputedStyle(x: unknown): { color: string } }).getComputedStyle(e).color);
  assert.equal(color, 'rgb(154, 160, 168)');
  await page.screenshot({ path: join(SHOTS, 'model-whatif-extrapolated.png'), fullPage: true });

  // A reload of the address asks the same what-if again, unasked.
  await page.reload();
  await page.waitForFunction(() => (globalThis as unknown as Hook).__sbModel?.predict !== undefined, undefined, { timeout: 60_000 });
  assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Hook).__sbModel!.predict!), first);
  assert.equal(await page.locator('.whatif input[name="x"]').inputValue(), '8');

  // A combination the matrix skipped (x=4 never ran with c=c) is an extrapolation too; a tested setting is not.
  for (const [x, c, far] of [
    ['4', 'c', true],
    ['2', 'b', false],
  ] as const) {
    const before = await page.evaluate(() => (globalThis as unknown as Hook).__sb.draws);
    await page.locator('.whatif input[name="x"]').fill(x);
    await page.locator('.whatif input[name="c"]').fill(c);
    await page.locator('.whatif button[type="submit"]').click();
    await waitDraw(page, before, 60_000);
    assert.equal(await page.locator('.whatif .answer.extrapolated').count(), far ? 1 : 0, `x=${x} c=${c}`);
    if (far) {
      assert.match(await page.locator('.whatif .coverage').innerText(), /^extrapolated: this combination was never measured .* differs in x$/);
      await page.screenshot({ path: join(SHOTS, 'model-whatif-unseen-combination.png'), fullPage: true });
    } else assert.equal(await page.locator('.whatif .coverage').innerText(), 'a setting that was measured');
  }
  assert.deepEqual(
    errors.filter((e) => !/status of 400/.test(e)),
    [],
  );
  await page.close();
});
