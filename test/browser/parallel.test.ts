/**
 * Parallel coordinates in the real browser over the recorded fixture set: a brush dragged with the
 * mouse on a metric axis lists exactly the runs whose value lies in the brushed range (the test's
 * own DuckDB query over the same set), a second brush on a categorical axis ANDs with it, the
 * permalink brings the same brushes and runs back, and a listed run opens in the run view.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openSetDatabase, quoteIdent, quoteString } from '../../src/store/database.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import type { UiServer } from '../../src/server/server.ts';
import { newPage, openBrowser, shot, startServer } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const FIXTURE = new URL('../fixtures/sets/stream-matrix', import.meta.url).pathname;

/** What the view exposes (web/src/views/parallel.ts ParallelHook), seen from here (no DOM types in this file). */
type Geometry = { name: string; x: number; top: number; bottom: number; categories?: string[] };
type Win = {
  __sbParallel?: { runs: number; selected: number; axes: string[]; brushCount: number; lastBrushMs: number; geometry(): Geometry[] };
  __sb?: { error?: string };
};

let dir: string;
let server: UiServer;
let browser: Browser;

before(async () => {
  // A copy: reading a set writes its index, and the fixture stays as recorded.
  dir = join(mkdtempSync(join(tmpdir(), 'sb-parallel-')), 'stream-matrix');
  cpSync(FIXTURE, dir, { recursive: true });
  server = await startServer([dir]);
  browser = await openBrowser();
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  if (dir) rmSync(join(dir, '..'), { recursive: true, force: true });
});

/** The runs (set/key/rep) whose rows satisfy `where` over the points table, by the test's own SQL. */
async function runsWhere(where: string): Promise<string[]> {
  const set = ResultSet.open(dir);
  const db = await openSetDatabase([set], { views: [] });
  try {
    const r = await db.conn.runAndReadAll(`SELECT "set", point_key, rep FROM points WHERE status = 'ok' AND ${where} ORDER BY 1, 2, 3`);
    return r.getRowsJS().map((row) => `${row[0] as string}/${row[1] as string}/${Number(row[2])}`);
  } finally {
    db.close();
  }
}

/** The codec of a point, by the test's own SQL. */
async function codecOf(key: string): Promise<string> {
  const db = await openSetDatabase([ResultSet.open(dir)], { views: [] });
  try {
    const r = await db.conn.runAndReadAll(`SELECT DISTINCT codec FROM points WHERE point_key = ${quoteString(key)}`);
    return r.getRowsJS()[0]![0] as string;
  } finally {
    db.close();
  }
}

async function waitView(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as Win).__sbParallel !== undefined || (globalThis as unknown as Win).__sb?.error !== undefined, undefined, { timeout: 60_000 });
  const error = await page.evaluate(() => (globalThis as unknown as Win).__sb?.error);
  assert.equal(error, undefined, `the view shows an error: ${error}`);
}

/** Drags on an axis from position a to b (0 bottom, 1 top) with the mouse, and waits for the view's answer. */
async function brush(page: Page, axis: string, a: number, b: number): Promise<void> {
  const box = (await page.locator('[data-testid=parallel-canvas]').boundingBox())!;
  const geo = (await page.evaluate(() => (globalThis as unknown as Win).__sbParallel!.geometry())).find((g) => g.name === axis);
  assert.ok(geo, `no axis ${axis}`);
  const y = (p: number) => box.y + geo.bottom + (geo.top - geo.bottom) * p;
  const before = await page.evaluate(() => (globalThis as unknown as Win).__sbParallel!.brushCount);
  await page.mouse.move(box.x + geo.x, y(a));
  await page.mouse.down();
  await page.mouse.move(box.x + geo.x + 1, (y(a) + y(b)) / 2, { steps: 3 });
  await page.mouse.move(box.x + geo.x, y(b), { steps: 3 });
  await page.mouse.up();
  await page.waitForFunction((n) => (globalThis as unknown as Win).__sbParallel!.brushCount > n, before);
}

/** The runs listed below the plot. */
async function listed(page: Page): Promise<string[]> {
  return (await page.locator('.pc-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: Record<string, string> }).dataset['run']!))).sort();
}

/** The brushes the address holds now. */
async function brushParam(page: Page): Promise<string> {
  return new URL(page.url()).searchParams.get('pc.brush') ?? '';
}

test('brushing parallel coordinates lists exactly the runs inside the brushes, keeps them in the link, and opens a run', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(`${server.url.replace(/#.*/, '')}?view=parallel`);
  await waitView(page);
  const hook = await page.evaluate(() => {
    const h = (globalThis as unknown as Win).__sbParallel!;
    return { runs: h.runs, axes: h.axes };
  });
  const ok = await runsWhere('true');
  assert.equal(hook.runs, ok.length, 'every run that ended ok is drawn');
  for (const p of ['codec', 'resolution', 'fps', 'bitrate']) assert.ok(hook.axes.includes(p), `an axis for the parameter ${p} (axes: ${hook.axes.join(', ')})`);
  const metric = ['guest.cpu_pct', 'client.bitrate', 'latency.p95'].find((m) => hook.axes.includes(m));
  assert.ok(metric, `a headline metric axis (axes: ${hook.axes.join(', ')})`);
  await shot(page, 'parallel-all');

  // A range on the metric's axis, dragged upwards from 25 % to 65 % of its height.
  await brush(page, metric, 0.25, 0.65);
  const text = await brushParam(page);
  const m = new RegExp(`^${metric.replace(/\./g, '\\.')}~([^~]+)~([^~]+)$`).exec(text);
  assert.ok(m, `the address holds the brush as ${metric}~lo~hi, not '${text}'`);
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  assert.ok(lo < hi, `a range: ${lo} < ${hi}`);
  const inRange = await runsWhere(`${quoteIdent(metric)} BETWEEN ${lo} AND ${hi}`);
  assert.ok(inRange.length > 0 && inRange.length < ok.length, `the brush keeps some runs and drops others (${inRange.length} of ${ok.length}): else the comparison proves little`);
  assert.deepEqual(await listed(page), inRange, 'the listed runs are those of DuckDB for the range');
  await shot(page, 'parallel-brush-metric');

  // A second brush, on the codec's categorical axis around the codec of one run in the range: both brushes AND.
  const codec = (await page.evaluate(() => (globalThis as unknown as Win).__sbParallel!.geometry())).find((g) => g.name === 'codec')!;
  const cats = codec.categories!;
  assert.ok(cats.length >= 2, `codec takes several values: ${cats.join(', ')}`);
  const [oneKey] = inRange[0]!.split('/').slice(-2);
  const first = await codecOf(oneKey!);
  const at = cats.indexOf(first) / (cats.length - 1);
  // Less than half the step between categories either side, inside the axis (a press beyond its ends is not on it).
  const half = 0.4 / (cats.length - 1);
  await brush(page, 'codec', Math.max(0, at - half), Math.min(1, at + half));
  assert.equal(await brushParam(page), `${text},codec~=${first}`);
  const both = await runsWhere(`${quoteIdent(metric)} BETWEEN ${lo} AND ${hi} AND codec = ${quoteString(first)}`);
  assert.ok(both.length > 0 && both.length < inRange.length, `the second brush narrows the selection (${both.length} of ${inRange.length})`);
  assert.deepEqual(await listed(page), both);
  await shot(page, 'parallel-brush-two-axes');

  // The link brings the same brushes and the same runs back.
  const link = page.url();
  const { page: again, errors: errors2 } = await newPage(browser);
  await again.goto(link);
  await waitView(again);
  assert.equal(await brushParam(again), `${text},codec~=${first}`);
  assert.deepEqual(await listed(again), both, 'the permalink lists the same runs');
  await shot(again, 'parallel-permalink');

  // A click on an axis without a drag clears its brush.
  await brush(again, 'codec', 0.5, 0.5);
  assert.equal(await brushParam(again), text);
  assert.deepEqual(await listed(again), inRange);

  // Opening a listed run goes to the run view with that run.
  const run = both[0]!;
  await page.locator(`.pc-table button[data-run="${run}"]`).click();
  await page.waitForFunction(() => new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).get('view') === 'run');
  assert.equal(new URL(page.url()).searchParams.get('run'), run);
  await shot(page, 'parallel-opened-run');
  assert.deepEqual(
    [...errors, ...errors2].filter((e) => !/\/api\/(run|frames)/.test(e)),
    [],
  );
});

test('/api/runs refuses names it does not know, with the closest one, and never runs them as SQL', async () => {
  const get = async (q: string) => {
    const r = await fetch(`${server.origin}/api/runs?${q}`);
    return { status: r.status, body: (await r.json()) as { error?: string; axes?: { name: string }[]; runs?: number } };
  };
  const typo = await get('metrics=guest.cpu_pc');
  assert.equal(typo.status, 400);
  assert.match(typo.body.error ?? '', /no metric 'guest\.cpu_pc' in the open sets; did you mean 'guest\.cpu_pct'\?/);
  const injected = await get(`metrics=${encodeURIComponent('guest.cpu_pct" FROM points; --')}`);
  assert.equal(injected.status, 400);
  const set = await get(`set=${encodeURIComponent("x' OR '1'='1")}`);
  assert.equal(set.status, 400);
  assert.match(set.body.error ?? '', /no open result set is named/);
  const ok = await get('metrics=guest.cpu_pct');
  assert.equal(ok.status, 200);
  assert.deepEqual(
    ok.body.axes?.filter((a) => a.name.includes('.')).map((a) => a.name),
    ['guest.cpu_pct'],
  );
  assert.equal(ok.body.runs, (await runsWhere('true')).length);
});
