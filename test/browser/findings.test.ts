// The GUI's findings view: the same findings as the report and `report --json`, row by row and
// sentence by sentence, over the same set; a row opens the matrix view of its metric against its parameter.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { UiServer } from '../../src/server/server.ts';
import { runCli } from '../helpers/cli.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/sets/stream-matrix');

type JsonFinding = { metric: string; parameter: string; from: unknown; to: unknown; effect: number; effect_pct: number | null; ci: [number, number] | null; F: number | null; p: number | null; significant: boolean | null; level_param: string };

let work: string;
let dir: string;
let server: UiServer;
let browser: Browser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sb-findings-'));
  dir = join(work, 'stream-matrix');
  cpSync(FIXTURE, dir, { recursive: true });
  rmSync(join(dir, 'index'), { recursive: true, force: true });
  server = await startServer([dir]);
  browser = await openBrowser();
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

type Doc = { querySelectorAll(s: string): Iterable<{ querySelectorAll(s: string): Iterable<{ dataset: Record<string, string> }> }> };

test('the findings view shows what the report and report --json find: every row, every lead sentence; a row opens its plot', { timeout: 600_000 }, async () => {
  const json = runCli(['report', dir, '--json'], { cwd: root, timeoutMs: 540_000 });
  assert.equal(json.code, 0, json.err);
  const want = (JSON.parse(json.out) as { findings: { repetitions: boolean; findings: JsonFinding[] } }).findings;
  assert.equal(want.repetitions, true);
  assert.ok(
    want.findings.some((f) => f.significant === true),
    'the fixture has significant effects',
  );

  const { page, errors } = await newPage(browser, 1400, 1000);
  await page.goto(`${server.url.replace(/#.*$/, '')}?view=findings`);
  await waitDraw(page, 0, 120_000);
  const rows = await page.evaluate(() =>
    [...(globalThis as unknown as { document: Doc }).document.querySelectorAll('table.findings tbody tr')].map((tr) =>
      Object.fromEntries([...tr.querySelectorAll('td')].filter((td) => td.dataset['raw'] !== undefined).map((td) => [td.dataset['key']!, JSON.parse(td.dataset['raw']!) as unknown])),
    ),
  );
  assert.equal(rows.length, want.findings.length);
  rows.forEach((row, i) => {
    const w = want.findings[i]!;
    assert.deepEqual(row, { metric: w.metric, parameter: w.parameter, levels: [w.from, w.to], effect: w.effect, effect_pct: w.effect_pct, ci: w.ci, F: w.F, p: w.p, significant: w.significant }, `row ${i}`);
  });
  await shot(page, 'findings-view');

  // The lead sentences are the report page's, word for word.
  const report = runCli(['report', dir, '--out', join(work, 'report.html')], { cwd: root, timeoutMs: 540_000 });
  assert.equal(report.code, 0, report.err);
  const r = await newPage(browser);
  await r.page.goto(pathToFileURL(join(work, 'report.html')).href);
  await r.page.waitForFunction(() => (globalThis as unknown as { __sbReport?: { done: boolean } }).__sbReport?.done === true, null, { timeout: 60_000 });
  const inReport = await r.page.locator('#findings ul.lead').innerText();
  assert.equal(await page.locator('#findings ul.lead').innerText(), inReport);
  assert.ok(inReport.length > 0);

  // A row's plot link: the matrix view of that metric against that parameter.
  const first = want.findings.find((f) => f.significant === true)!;
  const draws = await page.evaluate(() => (globalThis as unknown as { __sb: { draws: number } }).__sb.draws);
  await page.locator(`table.findings tbody tr[data-metric="${first.metric}"][data-parameter="${first.parameter}"] td[data-key="plot"] a`).click();
  await waitDraw(page, draws, 120_000);
  const url = new URL(page.url());
  assert.deepEqual([url.searchParams.get('view'), url.searchParams.get('y'), url.searchParams.get('x')], ['matrix', first.metric, first.level_param]);
  assert.ok(await page.locator('.chart canvas').first().isVisible());
  assert.deepEqual(errors, []);
  assert.deepEqual(r.errors, []);
});
