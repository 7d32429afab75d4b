// The compare view in a real browser over three small sets written here (test/helpers/compare-sets.ts):
// `after` is `before` with latency.p50 9 to 12 ms higher everywhere and guest.cpu_pct 6 points lower
// at 30 fps (real), client.psnr 0.05 dB higher and guest.cpu_pct 0.1 higher at 15 fps (within the
// noise); `elsewhere` shares no setting with them. Every figure of the table is checked against
// `streambench compare BASE NEW --metric M... --json` with the metrics shown (the same correction
// family), and the changes against the figures the sets were written with. Screenshots go to
// test-artifacts/ (look at them).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CompareResult } from '../../src/analyze/compare.ts';
import type { CompareResponse } from '../../src/server/api-types.ts';
import type { UiServer } from '../../src/server/server.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import { runCli } from '../helpers/cli.ts';
import { truth, writeCompareSet } from '../helpers/compare-sets.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

/** The headline metrics of the stream workload these sets have, in its declared order. */
const HEADLINE = ['latency.p50', 'client.psnr', 'guest.cpu_pct'];

let tmp: string;
const dirs: Record<string, string> = {};
let server: UiServer;
let browser: Browser;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sb-compare-view-'));
  for (const name of ['before', 'after', 'elsewhere'] as const) dirs[name] = writeCompareSet(tmp, name);
  server = await startServer([dirs['before']!, dirs['after']!, dirs['elsewhere']!]);
  browser = await openBrowser();
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Hook = { __sbCompare?: { compare?: CompareResponse } };

async function open(page: Page, query: string, draws = 0): Promise<CompareResponse> {
  await page.goto(`${server.url.replace(/#.*$/, '')}?view=compare&${query}`);
  await waitDraw(page, draws, 120_000);
  return page.evaluate(() => (globalThis as unknown as Hook).__sbCompare!.compare!);
}

/** One row of the table as the page shows it: the raw values its cells carry, its verdict and its colour. */
interface Shown {
  metric: string;
  real: string;
  cls: string;
  background: string;
  params: Record<string, string>;
  base: string;
  baseN: string;
  next: string;
  newN: string;
  change: string;
  relative: string;
  lo: string;
  hi: string;
  p: string;
  verdict: string;
}

async function rows(page: Page): Promise<Shown[]> {
  // No helper functions inside: tsx names them with a function (__name) the page does not have.
  // The page's elements, typed as far as read here (this file is type-checked without the DOM's types).
  type Elem = { dataset: Record<string, string>; className: string; textContent: string | null; children: ArrayLike<Elem> };
  type Page_ = { getComputedStyle(e: Elem): { backgroundColor: string } };
  const raw = await page.$$eval('table.compare-table tbody tr', (trs) =>
    trs.map((e) => {
      const tr = e as unknown as Elem;
      return {
        data: { ...tr.dataset },
        cls: tr.className,
        background: (globalThis as unknown as Page_).getComputedStyle(tr).backgroundColor,
        cells: Array.from(tr.children).map((td) => ({ cls: td.className, data: { ...td.dataset }, text: td.textContent })),
      };
    }),
  );
  const heads = await page.$$eval('table.compare-table thead th', (ths) => ths.map((th) => (th as unknown as Elem).dataset['sort'] ?? ''));
  return raw.map((tr) => {
    const td = (cls: string) => tr.cells.find((c) => c.cls.split(' ').includes(cls))!;
    const params: Record<string, string> = {};
    tr.cells.forEach((c, k) => {
      if (heads[k]?.startsWith('param:')) params[heads[k].slice(6)] = c.data['raw'] ?? '';
    });
    return {
      metric: tr.data['metric']!,
      real: tr.data['real']!,
      cls: tr.cls,
      background: tr.background,
      params,
      base: td('base').data['raw']!,
      baseN: td('base').data['n']!,
      next: td('new').data['raw']!,
      newN: td('new').data['n']!,
      change: td('change').data['raw']!,
      relative: td('relative').data['raw']!,
      lo: td('ci').data['lo']!,
      hi: td('ci').data['hi']!,
      p: td('p').data['raw']!,
      verdict: td('verdict').text ?? '',
    };
  });
}

function cliCompare(metrics: readonly string[]): CompareResult {
  const r = runCli(['compare', dirs['before']!, dirs['after']!, ...metrics.flatMap((m) => ['--metric', m]), '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as CompareResult;
}

/** Each shown row is the CLI's change at the same metric and setting, to the last digit. */
function assertSameAsCli(shown: Shown[], cli: CompareResult): void {
  assert.equal(shown.length, cli.changes.length);
  for (const ch of cli.changes) {
    const row = shown.find((r) => r.metric === ch.metric && Number(r.params['fps']) === ch.params['fps'] && Number(r.params['bitrate']) === ch.params['bitrate']);
    assert.ok(row, `no row for ${ch.metric} at ${JSON.stringify(ch.params)}`);
    assert.equal(Number(row.base), ch.base.mean);
    assert.equal(Number(row.baseN), ch.base.n);
    assert.equal(Number(row.next), ch.new.mean);
    assert.equal(Number(row.newN), ch.new.n);
    assert.equal(Number(row.change), ch.change);
    assert.equal(Number(row.relative), ch.relative);
    assert.equal(Number(row.lo), ch.ci[0]);
    assert.equal(Number(row.hi), ch.ci[1]);
    assert.equal(Number(row.p), ch.pAdj);
    assert.equal(row.real, String(ch.real));
  }
}

test('the table is `compare --json` row by row; the real changes are the designed ones, highlighted by direction', async () => {
  const { page, errors } = await newPage(browser);
  const r = await open(page, 'cbase=before&cnew=after');
  // Default: the headline metrics both sets have; the family is them.
  assert.deepEqual(
    r.metrics.map((m) => m.name),
    HEADLINE,
  );
  assert.deepEqual(r.family, { metrics: HEADLINE, tests: 12 });
  const shown = await rows(page);
  const cli = cliCompare(HEADLINE);
  assert.equal(cli.family.tests, 12);
  assertSameAsCli(shown, cli);

  // The changes are those the sets were written with (the repetitions' noise cancels in the means).
  for (const row of shown) {
    const [fps, bitrate] = [Number(row.params['fps']), Number(row.params['bitrate'])];
    const want = [1, 2, 3].reduce((s, rep) => s + truth('after', fps, bitrate, rep)[row.metric]! - truth('before', fps, bitrate, rep)[row.metric]!, 0) / 3;
    assert.ok(Math.abs(Number(row.change) - want) < 1e-9, `${row.metric} at fps ${fps}: ${row.change}, written ${want}`);
  }
  const real = (m: string, fps?: number) => shown.filter((x) => x.metric === m && (fps === undefined || Number(x.params['fps']) === fps));
  // latency.p50 (lower is better) went up everywhere: real, the worse way, red.
  for (const x of real('latency.p50')) assert.deepEqual([x.real, x.cls, x.verdict], ['true', 'real worse', 'worse']);
  // guest.cpu_pct fell by 6 at 30 fps: real, the better way; 0.1 up at 15 fps: not shown to differ.
  for (const x of real('guest.cpu_pct', 30)) assert.deepEqual([x.real, x.cls, x.verdict], ['true', 'real better', 'better']);
  for (const x of [...real('guest.cpu_pct', 15), ...real('client.psnr')]) assert.deepEqual([x.real, x.cls, x.verdict], ['false', '', '']);
  // What the eye sees: a real row is coloured, a row without a real change is not, worse and better differ.
  const bg = (x: Shown) => x.background;
  const plain = bg(real('client.psnr')[0]!);
  assert.notEqual(bg(real('latency.p50')[0]!), plain);
  assert.notEqual(bg(real('guest.cpu_pct', 30)[0]!), plain);
  assert.notEqual(bg(real('latency.p50')[0]!), bg(real('guest.cpu_pct', 30)[0]!));
  // The default order: corrected p, smallest first (the real changes on top).
  assert.deepEqual(
    shown.map((x) => Number(x.p)),
    shown.map((x) => Number(x.p)).sort((a, b) => a - b),
  );
  assert.match(await page.locator('p.note').first().innerText(), /4 setting\(s\) run in both, matched by fps, bitrate \(codec = h264 throughout\); 3 metric\(s\), 12 test\(s\), Holm-corrected at 0\.05: 6 real change\(s\) \(4 worse, 2 better\)/);
  // The metric's description is on hover of its cell and of its box in the chooser.
  assert.match((await page.locator('tr[data-metric="latency.p50"] td.metric').first().getAttribute('title')) ?? '', /^latency\.p50 \(ms\): median end-to-end latency.*; lower is better$/);
  await shot(page, 'compare-view');
  assert.deepEqual(errors, []);
  await page.close();
});

test('sorting by any column, in the address; the correction family follows the metrics chosen', async () => {
  const { page, errors } = await newPage(browser);
  await open(page, 'cbase=before&cnew=after');
  let draws = await page.evaluate(() => (globalThis as unknown as { __sb: { draws: number } }).__sb.draws);
  const sortBy = async (key: string) => {
    await page.locator(`th[data-sort="${key}"] button`).click();
    draws = await waitDraw(page, draws);
    return rows(page);
  };
  // |change %|, largest first; again, smallest first.
  let shown = await sortBy('relative');
  assert.equal(new URL(page.url()).searchParams.get('csort'), 'relative');
  assert.equal(new URL(page.url()).searchParams.get('cdir'), 'desc');
  const size = (xs: Shown[]) => xs.map((x) => Math.abs(Number(x.relative)));
  assert.deepEqual(
    size(shown),
    size(shown).sort((a, b) => b - a),
  );
  assert.equal(shown[0]!.metric, 'latency.p50');
  assert.equal(await page.locator('th[data-sort="relative"]').getAttribute('aria-sort'), 'descending');
  shown = await sortBy('relative');
  assert.equal(new URL(page.url()).searchParams.get('cdir'), 'asc');
  assert.deepEqual(
    size(shown),
    size(shown).sort((a, b) => a - b),
  );
  // By a parameter, and by the change itself (signed).
  shown = await sortBy('param:fps');
  assert.deepEqual(
    shown.map((x) => Number(x.params['fps'])),
    [15, 15, 15, 15, 15, 15, 30, 30, 30, 30, 30, 30],
  );
  shown = await sortBy('change');
  assert.deepEqual(
    shown.map((x) => Number(x.change)),
    shown.map((x) => Number(x.change)).sort((a, b) => a - b),
  );
  await shot(page, 'compare-view-sorted-by-change');

  // Fewer metrics: the family is the metrics shown (4 tests), as compare --metric latency.p50 corrects it.
  await page.locator('details.metrics summary').click();
  for (const m of ['client.psnr', 'guest.cpu_pct']) {
    await page.locator(`details.metrics input[value="${m}"]`).uncheck();
    draws = await waitDraw(page, draws);
    if (m === 'client.psnr') await page.locator('details.metrics summary').click();
  }
  assert.equal(new URL(page.url()).searchParams.get('cmetrics'), 'latency.p50');
  const r = await page.evaluate(() => (globalThis as unknown as Hook).__sbCompare!.compare!);
  assert.deepEqual(r.family, { metrics: ['latency.p50'], tests: 4 });
  assertSameAsCli(await rows(page), cliCompare(['latency.p50']));
  assert.deepEqual(errors, []);
  await page.close();
});

test("a row's links open its runs: each side's run at that setting, and both overlaid", async () => {
  const { page, errors } = await newPage(browser);
  await open(page, 'cbase=before&cnew=after&csort=p');
  const row = page.locator('table.compare-table tbody tr[data-real="true"]').first();
  const fps = Number(await row.locator('td.param').first().getAttribute('data-raw'));
  const href = await row.locator('a[data-open="both"]').getAttribute('href');
  assert.ok(href);
  const both = new URLSearchParams(href.slice(1));
  // The runs are of the right set at the row's setting (read from the sets themselves).
  for (const [side, key] of [
    ['before', 'run'],
    ['after', 'run2'],
  ] as const) {
    const [set, pointKey, rep] = both.get(key)!.split('/');
    assert.equal(set, side);
    const v = ResultSet.open(dirs[side]!).index();
    try {
      const rec = v.records().find((x) => x.key === pointKey && x.rep === Number(rep));
      assert.ok(rec, `${both.get(key)!} is no run of ${side}`);
      assert.equal(rec.typed?.['fps'], fps);
    } finally {
      v.close();
    }
  }
  await row.locator('a[data-open="new"]').click();
  await page.waitForURL((u) => u.searchParams.get('view') === 'run');
  assert.equal(new URL(page.url()).searchParams.get('run'), both.get('run2'));
  await page.goBack();
  await page.waitForURL((u) => u.searchParams.get('view') === 'compare');
  await page.locator('table.compare-table tbody tr[data-real="true"]').first().locator('a[data-open="both"]').click();
  await page.waitForURL((u) => u.searchParams.get('view') === 'run');
  const u = new URL(page.url()).searchParams;
  assert.deepEqual([u.get('run'), u.get('run2')], [both.get('run'), both.get('run2')]);
  // The run view over the two runs (these sets hold no recorded series: what it says of that is its own).
  await page.waitForFunction(() => (globalThis as unknown as { __sb: { draws: number; error?: string } }).__sb.draws > 0 || (globalThis as unknown as { __sb: { error?: string } }).__sb.error !== undefined, undefined, { timeout: 60_000 });
  // The run view says which run is overlaid, though it is of the other set.
  assert.equal(await page.locator('select[name="run2"]').inputValue(), both.get('run2'));
  await shot(page, 'compare-view-opened-both-runs');
  assert.deepEqual(errors, []);
  await page.close();
});

test('two sets that share no setting: said plainly, nothing compared; the address naming what is not there is told', async () => {
  const { page, errors } = await newPage(browser);
  await open(page, 'cbase=before&cnew=after');
  // A third set is chosen in the view (three are open).
  const draws = await page.evaluate(() => (globalThis as unknown as { __sb: { draws: number } }).__sb.draws);
  await page.locator('select[data-control="cnew"]').selectOption('elsewhere');
  await waitDraw(page, draws);
  assert.equal(new URL(page.url()).searchParams.get('cnew'), 'elsewhere');
  const warning = await page.locator('p.no-shared').innerText();
  assert.match(warning, /^before and elsewhere share no settings: no combination of parameter values was run in both \(before: 4, e\.g\. codec=h264 fps=15 bitrate=1M;.*elsewhere: 2, e\.g\. codec=h264 fps=60 bitrate=1M/);
  assert.equal(await page.locator('table.compare-table').count(), 0);
  await shot(page, 'compare-view-no-shared-settings');

  // An address with a metric the sets lack and a set that is not open: each named, the rest drawn.
  await open(page, 'cbase=nosuch&cnew=after&cmetrics=latency.p50,nosuch.metric');
  const notes = await page.locator('.address-notes .warning').allInnerTexts();
  assert.deepEqual(notes, ["the address asks for the set 'nosuch' as base, which is not open (open: before, after, elsewhere)", "the address asks for 'nosuch.metric', which before and after do not both have a value of: left out"]);
  assert.deepEqual([...new Set((await rows(page)).map((x) => x.metric))], ['latency.p50']);
  await shot(page, 'compare-view-address-notes');
  assert.deepEqual(errors, []);
  await page.close();
});
