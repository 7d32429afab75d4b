// The matrix view in a real browser over a recorded result set: what it plots is compared with
// what DuckDB answers to this test's own SQL over the points, after changing the x parameter and
// fixing another one; a permalink gives the same view; two sets compare as series. Screenshots
// go to test-artifacts/ (look at them).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { tQuantile } from '../../src/analyze/stats.ts';
import { openSetDatabase, type SetDatabase } from '../../src/store/database.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import type { UiServer } from '../../src/server/server.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/sets/stream-matrix', import.meta.url));

let tmp: string;
let setDir: string;
let server: UiServer;
let browser: Browser;
let db: SetDatabase;

before(async () => {
  // Reading a set saves its points table beside its index: a copy keeps the fixture as committed.
  tmp = mkdtempSync(join(tmpdir(), 'sb-matrix-'));
  setDir = join(tmp, 'stream-matrix');
  cpSync(FIXTURE, setDir, { recursive: true });
  server = await startServer([setDir]);
  browser = await openBrowser();
  db = await openSetDatabase([ResultSet.open(setDir)], { views: [] });
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  db?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Plotted = Record<string, [number | string, number][]>;

/** What the matrix chart plots: per line series, its [x, y] pairs (error bar series left out). */
async function plotted(page: Page, chart = 'matrix'): Promise<Plotted> {
  return page.evaluate((name) => {
    const sb = (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; name: string; data: { value: [number | string, number] }[] }[] } }> } }).__sb;
    const out: Record<string, [number | string, number][]> = {};
    for (const s of sb.charts[name]!.getOption().series) if (s.type !== 'custom') out[s.name] = s.data.map((d) => d.value);
    return out;
  }, chart);
}

/** The error bars drawn: per series, [x, lo, hi]. */
async function errorBars(page: Page): Promise<Record<string, [number | string, number, number][]>> {
  return page.evaluate(() => {
    const sb = (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; name: string; data: [number | string, number, number][] }[] } }> } }).__sb;
    const out: Record<string, [number | string, number, number][]> = {};
    for (const s of sb.charts['matrix']!.getOption().series) if (s.type === 'custom') out[s.name] = s.data;
    return out;
  });
}

async function sql(text: string): Promise<Record<string, unknown>[]> {
  const r = await db.conn.runAndReadAll(text);
  const names = r.columnNames();
  return r.getRows().map((row) => Object.fromEntries(row.map((v, i) => [names[i]!, typeof v === 'bigint' ? Number(v) : v])));
}

function assertClose(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: plotted ${got}, DuckDB ${want}`);
}

/** Two plots alike: the same series and x values, the y values equal up to the order DuckDB summed them in. */
function assertSamePlot(a: Plotted, b: Plotted): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    assert.deepEqual(
      a[k]!.map((p) => p[0]),
      b[k]!.map((p) => p[0]),
      k,
    );
    a[k]!.forEach((p, i) => assertClose(p[1], b[k]![i]![1], `${k} at ${p[0]}`));
  }
}

async function controls(page: Page): Promise<Record<string, string>> {
  const pairs = await page.$$eval('select', (els) => els.map((e) => [(e as unknown as { name: string }).name, (e as unknown as { value: string }).value] as const));
  return Object.fromEntries(pairs);
}

test('the matrix view plots what DuckDB answers: x changed, a parameter fixed, the rest averaged; a permalink gives the same view', { timeout: 300_000 }, async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(`${server.url}?view=matrix&y=latency.p50&x=fps&s=codec`);
  let draws = await waitDraw(page, 0);
  await shot(page, 'matrix-1-fps');
  const first = await plotted(page);
  assert.deepEqual(Object.keys(first).sort(), ['codec = h264', 'codec = vp8']);

  // x: fps -> bitrate (a numeric axis, its values in bits/s), then resolution fixed to one value.
  await page.selectOption('select[name=x]', 'bitrate');
  draws = await waitDraw(page, draws);
  await page.selectOption('select[name="c.resolution"]', 'v:640x360');
  draws = await waitDraw(page, draws);
  await shot(page, 'matrix-2-bitrate-640x360');
  const got = await plotted(page);
  const axis = await page.evaluate(() => (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { xAxis: { type: string; name: string }[]; yAxis: { name: string }[] } }> } }).__sb.charts['matrix']!.getOption());
  // 300k..3M is one decade: a linear axis (log from two decades on).
  assert.equal(axis.xAxis[0]!.type, 'value');
  assert.match(axis.xAxis[0]!.name, /bitrate \(bit\/s\)/);
  assert.match(axis.yAxis[0]!.name, /latency\.p50 \(ms\)/);

  // The test's own SQL: each point's repetitions averaged, then the points of a group (all fps) averaged.
  const want = await sql(`
    WITH pts AS (SELECT codec, bitrate, point_key, avg("latency.p50") AS m, var_samp("latency.p50") AS s2, count(*) AS n
                 FROM points WHERE status = 'ok' AND resolution = '640x360' AND "latency.p50" IS NOT NULL GROUP BY codec, bitrate, point_key)
    SELECT codec, bitrate, avg(m) AS value, sum(s2 / n) AS var_sum, sum(power(s2 / n, 2) / (n - 1)) AS ws, count(*) AS k, min(n) AS min_n
    FROM pts GROUP BY codec, bitrate ORDER BY codec, bitrate`);
  assert.ok(want.length >= 4, `DuckDB found ${want.length} groups`);
  const flat = Object.entries(got).flatMap(([codec, pts]) => pts.map(([x, y]) => ({ codec, x, y })));
  assert.equal(flat.length, want.length, `plotted ${JSON.stringify(got)}, DuckDB ${JSON.stringify(want)}`);
  for (const w of want) {
    // The legend names the series parameter: `codec = h264`.
    const p = flat.find((f) => f.codec === `codec = ${String(w['codec'])}` && f.x === w['bitrate']);
    assert.ok(p, `no plotted point for codec=${String(w['codec'])} bitrate=${String(w['bitrate'])}: ${JSON.stringify(got)}`);
    assertClose(p.y, w['value'] as number, `codec=${String(w['codec'])} bitrate=${String(w['bitrate'])}`);
  }
  // The error bars: the 95 % t-interval of the mean over repetitions (Welch-Satterthwaite df), on
  // the log scale since a latency in ms cannot be negative: mean / f to mean x f, f = exp(t se / mean).
  const bars = await errorBars(page);
  for (const w of want.filter((x) => (x['min_n'] as number) >= 2)) {
    const bar = bars[`codec = ${String(w['codec'])}`]?.find((b) => b[0] === w['bitrate']);
    assert.ok(bar, `no error bar for codec=${String(w['codec'])} bitrate=${String(w['bitrate'])}`);
    const varSum = w['var_sum'] as number;
    const df = (w['ws'] as number) > 0 ? (varSum * varSum) / (w['ws'] as number) : 1;
    const se = Math.sqrt(varSum) / (w['k'] as number);
    const f = Math.exp((tQuantile(0.975, df) * se) / (w['value'] as number));
    assertClose(bar[1], (w['value'] as number) / f, 'lower end of the interval');
    assertClose(bar[2], (w['value'] as number) * f, 'upper end of the interval');
    assert.ok(bar[1] > 0);
  }
  assert.match((await page.textContent('.note')) ?? '', /error bars: 95 % CI of the mean over repetitions, on the log scale/);

  // Exports: the CSV holds the plotted groups, the SVG is a drawing of the plot, the PNG an image.
  const saved = async (which: string) => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`button[data-export=${which}]`)]);
    return { name: dl.suggestedFilename(), data: readFileSync(await dl.path()) };
  };
  const csv = await saved('csv');
  // The file says what it holds: its name the selection, its first lines metric, unit, selection, sets, aggregate.
  assert.equal(csv.name, 'latency.p50-by-bitrate-s=codec-mean-resolution=640x360.csv');
  const text = csv.data.toString('utf8');
  for (const line of ['# metric: latency.p50 (ms)', '# x: bitrate (bit/s)', '# series: codec', '# aggregate: mean', `# sets: ${ResultSet.open(setDir).info.name} (${setDir})`]) assert.ok(text.includes(`${line}\n`), `CSV header lacks "${line}":\n${text.slice(0, 600)}`);
  assert.match(text, /^# selection: .*resolution = 640x360.*fps: mean over all/m);
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('#'));
  const head = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.equal(rows.length, want.length);
  for (const w of want) {
    const row = rows.find((r) => r[head.indexOf('series')] === w['codec'] && Number(r[head.indexOf('x')]) === w['bitrate']);
    assert.ok(row, `CSV lacks codec=${String(w['codec'])} bitrate=${String(w['bitrate'])}`);
    assertClose(Number(row[head.indexOf('value')]), w['value'] as number, 'CSV value');
  }
  const svg = (await saved('svg')).data.toString('utf8');
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /latency\.p50 by bitrate/);
  assert.deepEqual([...(await saved('png')).data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

  // The address holds the whole view: a new page opened on it shows the same controls and values.
  const link = page.url();
  assert.match(link, /x=bitrate/);
  assert.match(link, /c\.resolution=v%3A640x360/);
  const mine = await controls(page);
  const other = await newPage(browser);
  await other.page.goto(link);
  await waitDraw(other.page, 0);
  await shot(other.page, 'matrix-3-permalink');
  assert.deepEqual(await controls(other.page), mine);
  assertSamePlot(await plotted(other.page), got);
  // Back goes to the view before the last change (fps as x was two changes ago).
  await page.goBack();
  await waitDraw(page, draws);
  assert.equal((await controls(page))['c.resolution'], 'agg');
  assert.deepEqual(errors, []);
  assert.deepEqual(other.errors, []);
  // The page imports only the parts of ECharts its views use: a part it lacks (a pie, a toolbox)
  // is refused out loud, where ECharts' production build would leave it out without a word.
  const refused = await page.evaluate(() => {
    const chart = (globalThis as unknown as { __sb: { charts: Record<string, { setOption(o: unknown): void }> } }).__sb.charts['matrix']!;
    return [{ series: [{ type: 'pie', data: [1] }] }, { toolbox: {} }].map((o) => {
      try {
        chart.setOption(o);
        return 'drawn';
      } catch (e) {
        return (e as Error).message;
      }
    });
  });
  assert.deepEqual(refused, ["chart: the series type 'pie' is not registered with ECharts (add it in web/src/chart.ts)", "chart: the component of 'toolbox' is not registered with ECharts (add it in web/src/chart.ts)"]);
  await other.page.close();
  await page.close();
});

test('a group of one point opens its run on click; small multiples with an overlaid parameter; heatmap, box (runs, frames) and stage stack draw', { timeout: 300_000 }, async () => {
  const { page, errors } = await newPage(browser);
  // Every other parameter fixed, one series: each plotted value is one point (its two repetitions).
  await page.goto(`${server.url}?view=matrix&y=latency.p50&x=bitrate&s=&c.codec=v:h264&c.resolution=v:320x180&c.fps=v:30`);
  await waitDraw(page, 0);
  const want = await sql(`SELECT point_key, min(rep) AS rep FROM points WHERE status = 'ok' AND codec = 'h264' AND resolution = '320x180' AND fps = 30 AND bitrate = 1000000 GROUP BY point_key`);
  assert.equal(want.length, 1);
  // Where ECharts drew that point, in page pixels.
  const at = await page.evaluate(() => {
    const chart = (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; data: { value: number[] }[] }[] }; convertToPixel(f: object, v: number[]): number[]; getDom(): { getBoundingClientRect(): { left: number; top: number } } }> } })
      .__sb.charts['matrix']!;
    const v = chart
      .getOption()
      .series.find((x) => x.type === 'line')!
      .data.find((d) => d.value[0] === 1000000)!.value;
    const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, v);
    const r = chart.getDom().getBoundingClientRect();
    return { x: r.left + x!, y: r.top + y! };
  });
  // Hover: the settings of the point (x, the fixed ones), its value with the unit, the interval, what a click does.
  await page.mouse.move(at.x, at.y);
  const tip = await page.waitForFunction(() => {
    const t = [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ textContent: string | null }> } }).document.querySelectorAll('.chart div')].map((d) => d.textContent ?? '').find((x) => x.includes('click: open the run'));
    return t ?? false;
  });
  const text = String(await tip.jsonValue());
  for (const part of ['bitrate = 1M', 'codec = h264', 'resolution = 320x180', 'fps = 30', 'latency.p50: ', ' ms', '95 % CI of the mean (t, log scale)', '1 point(s), 2 run(s)']) assert.ok(text.includes(part), `tooltip lacks '${part}': ${text}`);
  await shot(page, 'matrix-4-tooltip');
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).get('view') === 'run');
  const run = new URL(page.url()).searchParams.get('run');
  assert.equal(run, `${ResultSet.open(setDir).info.name}/${String(want[0]!['point_key'])}/${String(want[0]!['rep'])}`);

  // Small multiples by resolution, fps overlaid: one chart per frame size, one series per codec and fps.
  const facets = await newPage(browser);
  await facets.page.goto(`${server.url}?view=matrix&y=client.bitrate&x=bitrate&s=codec&f=resolution&c.fps=overlay`);
  await waitDraw(facets.page, 0);
  await shot(facets.page, 'matrix-4-facets');
  const names = await facets.page.evaluate(() => Object.keys((globalThis as unknown as { __sb: { charts: Record<string, unknown> } }).__sb.charts).sort());
  assert.deepEqual(names, ['matrix:320x180', 'matrix:480x270', 'matrix:640x360']);
  const small = await plotted(facets.page, 'matrix:480x270');
  assert.deepEqual(Object.keys(small).sort(), ['codec = h264, fps = 15', 'codec = h264, fps = 30', 'codec = vp8, fps = 15', 'codec = vp8, fps = 30']);
  const [one] = await sql(`SELECT avg("client.bitrate") AS v FROM points WHERE status = 'ok' AND codec = 'vp8' AND fps = 30 AND resolution = '480x270' AND bitrate = 3000000`);
  assertClose(small['codec = vp8, fps = 30']!.find((p) => p[0] === 3000000)![1], one!['v'] as number, 'vp8 fps=30 480x270 3M');
  assert.deepEqual(facets.errors, []);
  await facets.page.close();

  for (const [kind, extra] of [
    ['heatmap', ''],
    ['box', ''],
    ['box', '&y=latency_ms'],
    ['stack', '&y=latency.p50'],
  ] as const) {
    const p = await newPage(browser);
    await p.page.goto(`${server.url}?view=matrix&y=latency.p50&x=bitrate&s=codec&kind=${kind}${extra}`);
    await waitDraw(p.page, 0);
    await shot(p.page, `matrix-4-${kind}${extra.includes('latency_ms') ? '-frames' : ''}`);
    if (extra.includes('latency_ms')) assert.match((await p.page.textContent('.note')) ?? '', /over the frames of the recorded windows/);
    const types = await p.page.evaluate(() => (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; data: unknown[] }[] } }> } }).__sb.charts['matrix']!.getOption().series.map((s) => [s.type, s.data.length]));
    const expect = kind === 'stack' ? 'bar' : kind === 'box' ? 'boxplot' : 'heatmap';
    // A box plot's outliers are points beside its boxes.
    const drawn = types.filter(([t]) => !(kind === 'box' && t === 'scatter'));
    assert.ok(drawn.length > 0 && drawn.every(([t, n]) => t === expect && (n as number) > 0), `${kind}: ${JSON.stringify(types)}`);
    assert.deepEqual(p.errors, []);
    await p.page.close();
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('two result sets compare: the set is a parameter, each set a series', { timeout: 300_000 }, async () => {
  // A second set: the fixture under another name.
  const second = join(tmp, 'stream-matrix-b');
  cpSync(FIXTURE, second, { recursive: true });
  const marker = join(second, 'streambench-set.json');
  writeFileSync(marker, JSON.stringify({ ...JSON.parse(readFileSync(marker, 'utf8')), name: 'stream-matrix-b' }));
  const two = await startServer([setDir, second]);
  try {
    const { page, errors } = await newPage(browser);
    await page.goto(`${two.url}?view=matrix&y=latency.p50&x=fps&s=set&c.codec=v:h264`);
    await waitDraw(page, 0);
    await shot(page, 'matrix-5-compare');
    const got = await plotted(page);
    const name = ResultSet.open(setDir).info.name;
    assert.deepEqual(Object.keys(got).sort(), [`set = ${name}`, 'set = stream-matrix-b']);
    // The same runs under two names: the same values (up to the order DuckDB summed them in).
    assertSamePlot({ x: got[`set = ${name}`]! }, { x: got['set = stream-matrix-b']! });
    const want = await sql(`WITH pts AS (SELECT fps, point_key, avg("latency.p50") AS m FROM points WHERE status = 'ok' AND codec = 'h264' GROUP BY fps, point_key) SELECT fps, avg(m) AS v FROM pts GROUP BY fps ORDER BY fps`);
    assert.equal(got[`set = ${name}`]!.length, want.length);
    want.forEach((w, i) => assertClose(got[`set = ${name}`]![i]![1], w['v'] as number, `fps=${String(w['fps'])}`));
    // A value the set does not have (an edited link) is said above the plot, which draws without it.
    await page.goto(`${two.url}?view=matrix&y=latency.p50&x=fps&c.codec=v:nope`);
    await waitDraw(page, 0);
    const shown = await page.locator('.address-problems').innerText();
    assert.match(shown, /codec = nope, a value these sets do not have \(they have h264, vp8\)/);
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    );
    await page.close();
  } finally {
    await two.close();
  }
});

test('the matrix view follows a set that gains points (a run going on): the plot fills in', { timeout: 300_000 }, async () => {
  // A copy with one run held back, put in place while the page is open, as a run commits a point.
  const growing = join(tmp, 'growing');
  cpSync(FIXTURE, growing, { recursive: true });
  const [held] = (await sql(`SELECT point_key || '-r' || rep AS dir FROM points WHERE status = 'ok' AND rep = 2 ORDER BY point_key LIMIT 1`)).map((r) => String(r['dir']));
  renameSync(join(growing, 'points', held!), join(tmp, 'held'));
  const live = await startServer([growing]);
  try {
    const { page, errors } = await newPage(browser);
    await page.goto(`${live.url}?view=matrix&y=latency.p50&x=codec&s=`);
    const draws = await waitDraw(page, 0);
    const runs = () => page.evaluate(() => (globalThis as unknown as { __sb: { matrix: { r: { columns: { runs: number[] } } } } }).__sb.matrix.r.columns.runs.reduce((a, b) => a + b, 0));
    const total = (await sql(`SELECT count(*) AS n FROM points WHERE status = 'ok' AND "latency.p50" IS NOT NULL`))[0]!['n'] as number;
    assert.equal(await runs(), total - 1);
    renameSync(join(tmp, 'held'), join(growing, 'points', held!));
    await waitDraw(page, draws);
    assert.equal(await runs(), total);
    const want = await sql(`WITH pts AS (SELECT codec, point_key, avg("latency.p50") AS m FROM points WHERE status = 'ok' GROUP BY ALL) SELECT codec, avg(m) AS v FROM pts GROUP BY codec ORDER BY codec`);
    const got = (await plotted(page))['latency.p50']!;
    want.forEach((w, i) => assertClose(got[i]![1], w['v'] as number, `codec=${String(w['codec'])}`));
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await live.close();
  }
});

test("the tooltip counts what its group combines (not the catalogue's values); the legend claims no interval a plot lacks", { timeout: 300_000 }, async () => {
  // A copy without one point (both runs): h264 320x180 at 15 fps and 1M. Its group (fps aggregated) then holds one fps value.
  const holed = join(tmp, 'holed');
  cpSync(FIXTURE, holed, { recursive: true });
  const gone = await sql(`SELECT DISTINCT point_key || '-r' || rep AS dir FROM points WHERE codec = 'h264' AND resolution = '320x180' AND fps = 15 AND bitrate = 1000000`);
  assert.equal(gone.length, 2);
  for (const g of gone) rmSync(join(holed, 'points', String(g['dir'])), { recursive: true });
  const srv = await startServer([holed]);
  try {
    const { page, errors } = await newPage(browser);
    await page.goto(`${srv.url}?view=matrix&y=latency.p50&x=bitrate&s=&c.codec=v:h264&c.resolution=v:320x180`);
    let draws = await waitDraw(page, 0);
    const tipAt = async (bitrate: number): Promise<string> => {
      const at = await page.evaluate((b) => {
        const chart = (
          globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; data: { value: number[] }[] }[] }; convertToPixel(f: object, v: number[]): number[]; getDom(): { getBoundingClientRect(): { left: number; top: number } } }> } }
        ).__sb.charts['matrix']!;
        const v = chart
          .getOption()
          .series.find((x) => x.type === 'line')!
          .data.find((d) => d.value[0] === b)!.value;
        const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, v);
        const r = chart.getDom().getBoundingClientRect();
        return { x: r.left + x!, y: r.top + y! };
      }, bitrate);
      await page.mouse.move(at.x, at.y);
      const tip = await page.waitForFunction(
        (want) => {
          const t = [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ textContent: string | null }> } }).document.querySelectorAll('.chart div')].map((d) => d.textContent ?? '').find((x) => x.includes(want));
          return t ?? false;
        },
        `bitrate = ${bitrate === 1000000 ? '1M' : '3M'}`,
      );
      return String(await tip.jsonValue());
    };
    const one = await tipAt(1000000);
    assert.ok(one.includes('fps: 1 value in this group') && one.includes('1 point(s), 2 run(s)'), `1M: ${one}`);
    await page.mouse.move(5, 5);
    const two = await tipAt(3000000);
    assert.ok(two.includes('fps: mean over 2 values') && two.includes('2 point(s), 4 run(s)'), `3M: ${two}`);
    await shot(page, 'matrix-6-group-counts');
    // A median has no interval: the note says what each value is and nothing of intervals, and no error bar is drawn.
    await page.selectOption('select[name=agg]', 'median');
    draws = await waitDraw(page, draws);
    const note = (await page.textContent('.note')) ?? '';
    assert.match(note, /^each value: median of the point means/);
    assert.doesNotMatch(note, /interval|CI|error bar/);
    assert.deepEqual(await errorBars(page), {});
    // Bars: intervals in the tooltip, none drawn, and the note says so.
    await page.selectOption('select[name=agg]', 'mean');
    draws = await waitDraw(page, draws);
    await page.selectOption('select[name=kind]', 'bar');
    await waitDraw(page, draws);
    assert.match((await page.textContent('.note')) ?? '', /^each bar: mean of the point means .*; the tooltip gives its 95 % CI/);
    assert.deepEqual(await errorBars(page), {});
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await srv.close();
  }
});

test(
  'legend titles name the parameter; a value keeps its colour when others are left out; a subset of values; Tukey box whiskers and outliers as DuckDB computes them; a log y axis; indicator descriptions on hover; what the address asks that the sets lack is said',
  { timeout: 300_000 },
  async () => {
    const { page, errors } = await newPage(browser);
    const colours = async () =>
      page.evaluate(() => {
        const sb = (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; name: string; itemStyle?: { color?: string } }[] } }> } }).__sb;
        return Object.fromEntries(
          sb.charts['matrix']!.getOption()
            .series.filter((s) => s.type !== 'custom')
            .map((s) => [s.name, s.itemStyle?.color ?? '']),
        );
      });
    await page.goto(`${server.url}?view=matrix&y=latency.p50&x=bitrate&s=fps`);
    let draws = await waitDraw(page, 0);
    const both = await colours();
    assert.deepEqual(Object.keys(both).sort(), ['fps = 15', 'fps = 30']);
    // Narrowing the series to 30 fps: its colour stays (not the first colour of whatever is left).
    await page.goto(`${server.url}?view=matrix&y=latency.p50&x=bitrate&s=fps&c.fps=in:30`);
    draws = await waitDraw(page, 0);
    assert.deepEqual(await colours(), { 'fps = 30': both['fps = 30'] });
    // A subset of x's values: only those plotted, each the value of the full plot.
    const full = await plotted(page);
    await page.goto(`${server.url}?view=matrix&y=latency.p50&x=bitrate&s=fps&c.fps=in:30&c.bitrate=in:300000,3000000`);
    draws = await waitDraw(page, 0);
    const some = await plotted(page);
    assert.deepEqual(
      some['fps = 30']!.map((p) => p[0]),
      [300000, 3000000],
    );
    for (const [x, y] of some['fps = 30']!) assertClose(y, full['fps = 30']!.find((p) => p[0] === x)![1], `bitrate ${x}`);
    // The ticked boxes say so.
    const ticked = await page.$$eval('.subset[data-param="bitrate"] input', (els) => els.filter((e) => (e as unknown as { checked: boolean }).checked).map((e) => (e as unknown as { value: string }).value));
    assert.equal(ticked.length, 2);

    // Box over the runs: whiskers at Tukey's fences, outliers as DuckDB finds them.
    await page.goto(`${server.url}?view=matrix&y=latency.p95&x=codec&s=&kind=box`);
    draws = await waitDraw(page, 0);
    const box = await page.evaluate(() => {
      const sb = (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { series: { type: string; data: ({ value: number[] } | { value: [string, number] })[] }[] } }> } }).__sb;
      const s = sb.charts['matrix']!.getOption().series;
      return { boxes: s.filter((x) => x.type === 'boxplot').flatMap((x) => x.data.map((d) => d.value)), outliers: s.filter((x) => x.type === 'scatter').flatMap((x) => x.data.map((d) => d.value)) };
    });
    const want = await sql(`WITH r AS (SELECT codec, "latency.p95" AS v FROM points WHERE status = 'ok' AND "latency.p95" IS NOT NULL),
    q AS (SELECT codec, quantile_cont(v, 0.25) AS q1, quantile_cont(v, 0.75) AS q3 FROM r GROUP BY codec)
    SELECT codec, min(v) FILTER (WHERE v >= q1 - 1.5 * (q3 - q1)) AS wlo, max(v) FILTER (WHERE v <= q3 + 1.5 * (q3 - q1)) AS whi,
      FROM r JOIN q USING (codec) GROUP BY codec ORDER BY codec`);
    assert.equal(box.boxes.length, want.length);
    want.forEach((w, i) => {
      assertClose(box.boxes[i]![0] as number, w['wlo'] as number, `${String(w['codec'])} lower whisker`);
      assertClose(box.boxes[i]![4] as number, w['whi'] as number, `${String(w['codec'])} upper whisker`);
    });
    const outRows = await sql(`WITH r AS (SELECT codec, "latency.p95" AS v FROM points WHERE status = 'ok' AND "latency.p95" IS NOT NULL),
      q AS (SELECT codec, quantile_cont(v, 0.25) AS q1, quantile_cont(v, 0.75) AS q3 FROM r GROUP BY codec)
      SELECT codec, v FROM r JOIN q USING (codec) WHERE v < q1 - 1.5 * (q3 - q1) OR v > q3 + 1.5 * (q3 - q1)`);
    const wantOut = outRows.map((w) => `${String(w['codec'])}:${w['v'] as number}`);
    assert.deepEqual(box.outliers.map((o) => `${String(o[0])}:${o[1]}`).sort(), wantOut.sort());
    assert.ok(wantOut.length > 0, 'the fixture has outliers of latency.p95 by codec: the test can see them');
    // A log y axis on request.
    await page.selectOption('select[name=ylog]', '1');
    await waitDraw(page, draws);
    const yType = await page.evaluate(() => (globalThis as unknown as { __sb: { charts: Record<string, { getOption(): { yAxis: { type: string }[] } }> } }).__sb.charts['matrix']!.getOption().yAxis[0]!.type);
    assert.equal(yType, 'log');
    await shot(page, 'matrix-box-tukey-log');
    // The indicator's description on hover (its title), from the catalogue.
    const title = await page.$eval('select[name=y]', (e) => (e as unknown as { title: string }).title);
    assert.match(title, /95th percentile/);

    // An address with what these sets lack: said, the rest drawn.
    await page.goto(`${server.url}?view=matrix&y=no.such&x=bitrate&c.nothere=agg&c.fps=v:99`);
    await waitDraw(page, 0);
    const warning = await page.locator('.address-problems').innerText();
    assert.match(warning, /indicator 'no\.such'/);
    assert.match(warning, /parameter 'nothere'/);
    assert.match(warning, /fps = 99/);
    assert.deepEqual(errors, []);
  },
);
