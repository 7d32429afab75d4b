/**
 * Parallel coordinates in the real browser over the recorded fixture set: a brush dragged with the
 * mouse on a metric axis lists exactly the runs whose value lies in the brushed range (the test's
 * own DuckDB query over the same set), a second brush on a categorical axis ANDs with it, the
 * permalink brings the same brushes and runs back, and a listed run opens in the run view. The
 * table under the plot: its rows, sorted and filtered, are the test's own queries; hovering a row
 * draws out its line where DuckDB's value puts it, hovering a line marks its row; the brush's
 * read-out says the range set; no label leaves the plot; a log axis says so and its ticks sit
 * where a log scale puts them.
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
type Geometry = { name: string; x: number; top: number; bottom: number; categories?: string[]; log: boolean };
type Label = { kind: string; axis?: string; text: string; full: string; x: number; y: number; w: number; h: number };
type Win = {
  __sbParallel?: { runs: number; selected: number; axes: string[]; brushCount: number; lastBrushMs: number; highlighted?: string; geometry(): Geometry[]; labels(): Label[]; size(): { width: number; height: number }; tableRuns(): string[] };
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

/**
 * The runs of the table in its order, read from the page's rows: the table makes only the rows in
 * view, so its box is scrolled from top to bottom and each row seen is kept once.
 */
async function tableRows(page: Page): Promise<string[]> {
  type Box = { scrollTop: number; scrollHeight: number; clientHeight: number; querySelectorAll(s: string): Iterable<{ dataset: Record<string, string> }> };
  return page.locator('.pc-scroll').evaluate(async (el) => {
    const box = el as unknown as Box;
    // No helper functions in here: the page gets this function's source, without the bundler's helpers they would call.
    type Raf = { requestAnimationFrame(f: () => void): void };
    const seen: string[] = [];
    for (let top = 0; ; top += box.clientHeight / 2) {
      box.scrollTop = top;
      for (let k = 0; k < 2; k++) await new Promise((done) => (globalThis as unknown as Raf).requestAnimationFrame(() => done(undefined)));
      for (const tr of box.querySelectorAll('tr[data-run]')) if (!seen.includes(tr.dataset['run']!)) seen.push(tr.dataset['run']!);
      if (top + box.clientHeight >= box.scrollHeight) break;
    }
    box.scrollTop = 0;
    await new Promise((done) => (globalThis as unknown as Raf).requestAnimationFrame(() => done(undefined)));
    return seen;
  });
}

/** The runs listed below the plot, in any order. */
async function listed(page: Page): Promise<string[]> {
  return (await tableRows(page)).sort();
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

/** Rows of the test's own SQL over the points of the ok runs. */
async function rows(sql: string): Promise<unknown[][]> {
  const db = await openSetDatabase([ResultSet.open(dir)], { views: [] });
  try {
    return (await db.conn.runAndReadAll(sql)).getRowsJS();
  } finally {
    db.close();
  }
}

const hook = async (page: Page) =>
  page.evaluate(() => {
    const h = (globalThis as unknown as Win).__sbParallel!;
    return { geometry: h.geometry(), labels: h.labels(), size: h.size(), highlighted: h.highlighted, selected: h.selected };
  });

/** A tick label's number (fmt's k, M and G suffixes read back). */
function tickValue(text: string): number {
  const m = /^(-?[\d.]+)([kMG]?)$/.exec(text);
  assert.ok(m, `a tick reads as a number: '${text}'`);
  return Number(m[1]) * { '': 1, k: 1e3, M: 1e6, G: 1e9 }[m[2] as '' | 'k' | 'M' | 'G'];
}

test('the table under the plot: brushed runs sorted and filtered as DuckDB says, hover linked both ways, brush read-out, labels inside, log axes marked', async () => {
  // Long metric names on a narrow page: titles must wrap or shorten to stay in their room.
  const metrics = ['guest.cpu_pct', 'client.cpu_pct', 'latency.p95', 'client.proc.client.rss_mb', 'latency.to_decoded.p95', 'stage.display_wait.p50', 'client.clock.uncertainty_ms', 'host.max_queue_kb'];
  const { page, errors } = await newPage(browser, 1000, 900);
  await page.goto(`${server.url.replace(/#.*/, '')}?view=parallel&pc.metrics=${metrics.join(',')}`);
  await waitView(page);
  const ok = `status = 'ok'`;

  // No label leaves the canvas, and no two axes' titles overlap.
  let h = await hook(page);
  assert.ok(h.labels.length > 20, `the overlay reports its labels (${h.labels.length})`);
  for (const b of h.labels)
    assert.ok(
      b.x >= 0 && b.y >= 0 && b.x + b.w <= h.size.width && b.y + b.h <= h.size.height,
      `label '${b.text}' (${b.kind} of ${b.axis ?? 'legend'}) at x ${b.x.toFixed(1)}..${(b.x + b.w).toFixed(1)}, y ${b.y.toFixed(1)}..${(b.y + b.h).toFixed(1)} stays inside ${h.size.width}x${h.size.height}`,
    );
  const titles = h.labels.filter((b) => b.kind === 'title');
  for (const a of titles) for (const b of titles) if (a.axis !== b.axis) assert.ok(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `titles of ${a.axis} and ${b.axis} overlap`);
  for (const m of metrics)
    assert.ok(
      titles.some((t) => t.axis === m),
      `a title for ${m}`,
    );
  // A title shortened or wrapped shows its whole name on hover.
  const cut = titles.find((t) => t.text !== t.full && t.text.includes('…'));
  assert.ok(cut, `some title is shortened at this width: ${titles.map((t) => t.text).join(' | ')}`);
  const canvas = page.locator('[data-testid=parallel-canvas]');
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + cut.x + cut.w / 2, box.y + cut.y + cut.h / 2);
  assert.match((await canvas.getAttribute('title')) ?? '', new RegExp(`^${cut.full.replace(/\./g, '\\.')}`));
  await shot(page, 'parallel-narrow-labels');

  // The log axis: latency.p95 spans over 20x in this set, so the view draws it log and says so.
  const [[lmin, lmax]] = (await rows(`SELECT min("latency.p95"), max("latency.p95") FROM points WHERE ${ok}`)) as [[number, number]];
  assert.ok(lmax / lmin >= 20, `latency.p95 spans ${lmin}..${lmax}: a log axis is expected`);
  const logTicks = (labels: Label[], g: Geometry, log: boolean) => {
    const ticks = labels.filter((b) => b.kind === 'tick' && b.axis === 'latency.p95');
    assert.ok(ticks.length >= (log ? 3 : 2), `latency.p95 has ticks: ${ticks.map((t) => t.text).join(', ')}`);
    for (const t of ticks) {
      const v = tickValue(t.text);
      const p = log ? Math.log(v / lmin) / Math.log(lmax / lmin) : (v - lmin) / (lmax - lmin);
      assert.ok(Math.abs(t.y + t.h / 2 - (g.bottom + (g.top - g.bottom) * p)) < 1, `tick ${t.text} sits where a ${log ? 'log' : 'linear'} scale puts it`);
    }
    return ticks.map((t) => tickValue(t.text));
  };
  let lat = h.geometry.find((g) => g.name === 'latency.p95')!;
  assert.equal(lat.log, true);
  assert.match(h.labels.find((b) => b.kind === 'unit' && b.axis === 'latency.p95')!.text, /\(ms\) \(log\)/);
  for (const v of logTicks(h.labels, lat, true)) assert.ok(Number.isInteger(v / 10 ** Math.floor(Math.log10(v))), `log ticks are whole multiples of a decade: ${v}`);
  // Its box in the log chooser takes it back to linear, and the address keeps it.
  await page.locator('details.pc-log summary').click();
  await page.locator('details.pc-log input[data-axis="latency.p95"]').uncheck();
  assert.ok(!(new URL(page.url()).searchParams.get('pc.log') ?? 'x').split(',').includes('latency.p95'));
  h = await hook(page);
  lat = h.geometry.find((g) => g.name === 'latency.p95')!;
  assert.equal(lat.log, false);
  assert.doesNotMatch(h.labels.find((b) => b.kind === 'unit' && b.axis === 'latency.p95')!.text, /log/);
  logTicks(h.labels, lat, false);
  await page.locator('details.pc-log input[data-axis="latency.p95"]').check();
  await page.locator('details.pc-log summary').click();

  // A brush on guest.cpu_pct: its read-out (list and canvas) says the range the address holds.
  await brush(page, 'guest.cpu_pct', 0.2, 0.7);
  const m = /^guest\.cpu_pct~([^~]+)~([^~]+)$/.exec(await brushParam(page));
  assert.ok(m, `the address holds the brush: ${await brushParam(page)}`);
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  const li = page.locator('.pc-brushes li[data-axis="guest.cpu_pct"]');
  const said = /^guest\.cpu_pct: ([\d,.]+) – ([\d,.]+) %/.exec((await li.textContent()) ?? '');
  assert.ok(said, `the read-out says the range: '${await li.textContent()}'`);
  assert.deepEqual([Number(said[1]!.replace(/,/g, '')), Number(said[2]!.replace(/,/g, ''))], [Number(lo.toPrecision(4)), Number(hi.toPrecision(4))]);
  assert.deepEqual([Number(await li.getAttribute('data-lo')), Number(await li.getAttribute('data-hi'))], [lo, hi]);
  h = await hook(page);
  assert.deepEqual(
    h.labels.filter((b) => b.kind === 'readout' && b.axis === 'guest.cpu_pct').map((b) => Number(b.text.replace(/,/g, ''))),
    [Number(hi.toPrecision(4)), Number(lo.toPrecision(4))],
    'the canvas writes the upper end above the brush and the lower one below',
  );
  const where = `${ok} AND "guest.cpu_pct" BETWEEN ${lo} AND ${hi}`;
  const id = (r: unknown[]) => `${r[0] as string}/${r[1] as string}/${Number(r[2])}`;
  const inRange = (await rows(`SELECT "set", point_key, rep FROM points WHERE ${where} ORDER BY 1, 2, 3`)).map(id);
  assert.ok(inRange.length > 20 && inRange.length < (await runsWhere('true')).length, `the brush keeps many runs but not all (${inRange.length})`);
  assert.deepEqual(await tableRows(page), inRange, "the table lists the brushed runs, in the runs' order");
  // Only the rows in view exist in the page (the table is virtualised).
  const made = await page.locator('.pc-table tr[data-i]').count();
  assert.ok(made > 0 && made < inRange.length, `${made} rows made for ${inRange.length} runs`);

  // Sorting by a metric, up then down: DuckDB's order (ties in the runs' order, runs without a value last).
  const th = page.locator('.pc-table th[data-col="latency.p95"]');
  await th.click();
  assert.equal(await th.getAttribute('aria-sort'), 'ascending');
  assert.deepEqual(await tableRows(page), (await rows(`SELECT "set", point_key, rep FROM points WHERE ${where} ORDER BY "latency.p95" ASC NULLS LAST, 1, 2, 3`)).map(id));
  await th.click();
  assert.equal(await th.getAttribute('aria-sort'), 'descending');
  assert.deepEqual(await tableRows(page), (await rows(`SELECT "set", point_key, rep FROM points WHERE ${where} ORDER BY "latency.p95" DESC NULLS LAST, 1, 2, 3`)).map(id));
  assert.equal(new URL(page.url()).searchParams.get('pc.sort'), 'latency.p95~desc');
  await shot(page, 'parallel-table-sorted');

  // The filter keeps the rows holding every word typed, in the table and the plot.
  await page.locator('.pc-filter').fill('vp8');
  await page.waitForFunction(() => new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).get('pc.filter') === 'vp8');
  const vp8 = (await rows(`SELECT "set", point_key, rep FROM points WHERE ${where} AND codec = 'vp8' ORDER BY "latency.p95" DESC NULLS LAST, 1, 2, 3`)).map(id);
  assert.ok(vp8.length > 0 && vp8.length < inRange.length);
  assert.deepEqual(await tableRows(page), vp8);
  assert.equal((await hook(page)).selected, vp8.length, 'the plot draws the filtered runs alone');
  await shot(page, 'parallel-table-filtered');
  await page.locator('.pc-filter').fill('');
  await page.waitForFunction(() => !new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).has('pc.filter'));

  // The geometry of the two CPU axes, side by side, and every run's values there by DuckDB.
  h = await hook(page);
  const [ga, gb] = ['guest.cpu_pct', 'client.cpu_pct'].map((a) => h.geometry.find((g) => g.name === a)!) as [Geometry, Geometry];
  assert.equal(h.geometry.indexOf(gb), h.geometry.indexOf(ga) + 1, 'the CPU axes are neighbours');
  const [[amin, amax, bmin, bmax]] = (await rows(`SELECT min("guest.cpu_pct"), max("guest.cpu_pct"), min("client.cpu_pct"), max("client.cpu_pct") FROM points WHERE ${ok}`)) as [[number, number, number, number]];
  const values = new Map((await rows(`SELECT "set", point_key, rep, "guest.cpu_pct", "client.cpu_pct" FROM points WHERE ${where}`)).map((r) => [id(r), [r[3] as number, r[4] as number] as const]));
  const yOn = (g: Geometry, v: number, min: number, max: number) => g.bottom + (g.top - g.bottom) * ((v - min) / (max - min));

  // Hovering a row draws out its line: a red dot where DuckDB's value puts the run on guest.cpu_pct.
  const row = page.locator('.pc-table tr[data-i]').nth(2);
  const rowRun = (await row.getAttribute('data-run'))!;
  await row.hover();
  await page.waitForFunction((r) => (globalThis as unknown as Win).__sbParallel!.highlighted === r, rowRun);
  const y = yOn(ga, values.get(rowRun)![0], amin, amax);
  const px = await canvas.evaluate(
    (c, [x, yy]) => Array.from((c as unknown as { getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }).getContext('2d').getImageData(Math.round(x! + 2), Math.round(yy!), 1, 1).data),
    [ga.x, y],
  );
  assert.ok(px[0]! > 180 && px[1]! < 90 && px[2]! < 90 && px[3]! > 200, `the hovered run's dot at guest.cpu_pct = ${values.get(rowRun)![0]} is red: rgba(${px.join(',')})`);
  await shot(page, 'parallel-hover-row');

  // Hovering a line marks its row: a run whose line lies clear of the others halfway between the CPU axes.
  const mid = (ga.x + gb.x) / 2;
  const ys = [...values].map(([r, [a, b]]) => ({ r, y: (yOn(ga, a, amin, amax) + yOn(gb, b, bmin, bmax)) / 2 }));
  const clear = ys.map((p) => ({ ...p, gap: Math.min(...ys.filter((q) => q.r !== p.r).map((q) => Math.abs(q.y - p.y))) })).sort((a, b) => b.gap - a.gap)[0]!;
  assert.ok(clear.gap >= 6, `a line lies 6 px clear of the others (${clear.gap.toFixed(1)})`);
  await page.mouse.move(box.x + mid, box.y + clear.y);
  await page.waitForFunction((r) => (globalThis as unknown as Win).__sbParallel!.highlighted === r, clear.r);
  const marked = page.locator(`.pc-table tr.hover[data-run="${clear.r}"]`);
  assert.equal(await marked.count(), 1, 'its row is marked');
  const [rb, sb] = [(await marked.boundingBox())!, (await page.locator('.pc-scroll').boundingBox())!];
  assert.ok(rb.y >= sb.y && rb.y + rb.height <= sb.y + sb.height, "and scrolled into the table's view");
  await shot(page, 'parallel-hover-line');

  // A click on the row opens its run.
  await page.locator(`.pc-table tr[data-run="${clear.r}"] td`).nth(3).click();
  await page.waitForFunction(() => new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).get('view') === 'run');
  assert.equal(new URL(page.url()).searchParams.get('run'), clear.r);
  assert.deepEqual(
    errors.filter((e) => !/\/api\/(run|frames)/.test(e)),
    [],
  );
});
