// `streambench report`: the file it writes opens from file:// with every other request refused,
// draws every chart, and plots the figures DuckDB gives for the same selection (failed runs left out).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { positiveMetric, tQuantile } from '../../src/analyze/stats.ts';
import { openSetDatabase, quoteIdent } from '../../src/store/database.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import { openBrowser, shot } from './harness.ts';
import { runCli } from '../helpers/cli.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/sets/stream-matrix');
const cli = (args: string[]) => runCli(args, { cwd: root, timeoutMs: 540_000 });

// What the page code below touches, typed here: this file is type-checked without the DOM's types.
type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };
type ChartEl = { dataset: Record<string, string | undefined>; querySelector(s: string): Canvas | null };
type Doc = { querySelectorAll(s: string): Iterable<ChartEl> & { length: number } };

type Hook = { __sbReport?: { charts: string[]; done: boolean; error?: string }; __sb?: { charts: Record<string, { getOption(): { series: { name?: string; type?: string; data: unknown[] }[]; yAxis: { min?: unknown }[] } }> } };

/** A finding as `report --json` prints it (src/server/api-types.ts, ReportFinding). */
type JsonFinding = { metric: string; parameter: string; params: string[]; from: unknown; to: unknown; from_mean: number; to_mean: number; effect: number; effect_pct: number | null; ci: [number, number] | null; F: number | null; p: number | null; significant: boolean | null };
type JsonFindings = { repetitions: boolean; family: { tests: number; correction: string }; warnings: string[]; findings: JsonFinding[] };

/**
 * A copy of the recorded fixture (reading a set writes its index into it) where one run is
 * marked failed and given absurd figures: were failed runs plotted, every mean it enters would
 * be off by orders of magnitude.
 */
function fixtureCopy(): { dir: string; failedKey: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-report-')), 'stream-matrix');
  cpSync(FIXTURE, dir, { recursive: true });
  rmSync(join(dir, 'index'), { recursive: true, force: true });
  rmSync(join(dir, 'report.html'), { force: true });
  const first = readdirSync(join(dir, 'points')).sort()[0]!;
  const file = join(dir, 'points', first, 'point.json');
  const rec = JSON.parse(readFileSync(file, 'utf8')) as { key: string; outcome: unknown; metrics: Record<string, unknown> };
  rec.outcome = { status: 'failed', error: 'made to fail by the report test' };
  for (const m of Object.keys(rec.metrics)) if (typeof rec.metrics[m] === 'number') rec.metrics[m] = 1e12;
  writeFileSync(file, JSON.stringify(rec));
  return { dir, failedKey: rec.key };
}

test('report: one file that opens from file:// with the network refused, every chart drawn, the figures DuckDB gives', { timeout: 600_000 }, async () => {
  const { dir } = fixtureCopy();
  const out = join(dir, 'report.html');
  const r = cli(['report', dir]);
  assert.equal(r.code, 0, `report failed: ${r.err}`);
  assert.match(r.out, /open it in a browser: file:\/\//);
  const html = readFileSync(out, 'utf8');
  // Nothing to fetch: no script or stylesheet file, only inline ones.
  assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
  assert.doesNotMatch(html, /<link[^>]*rel="stylesheet"/i);

  // --json prints the data the page carries: the same figures.
  const j = cli(['report', dir, '--json']);
  assert.equal(j.code, 0, j.err);
  const inPage = JSON.parse(/<script id="sb-report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!) as {
    plots: { metric: string; param: string; matrix: { columns: Record<string, unknown[]> } }[];
    metrics: { name: string; unit: string | null }[];
    findings: JsonFindings;
  };
  const printed = JSON.parse(j.out) as typeof inPage;
  assert.ok(inPage.plots.length > 0);
  assert.deepEqual(
    printed.plots.map((q) => `${q.metric}:${q.param}`),
    inPage.plots.map((q) => `${q.metric}:${q.param}`),
  );
  // Equal but for the last bits: DuckDB sums in parallel, in no fixed order.
  const same = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) : a === b);
  printed.plots.forEach((q, i) => {
    for (const col of ['x', 'value', 'lo', 'hi']) {
      const want = inPage.plots[i]!.matrix.columns[col]!;
      assert.ok(q.matrix.columns[col]!.length === want.length && q.matrix.columns[col]!.every((v, k) => same(v, want[k])), `--json ${q.metric} by ${q.param}: ${col} differs from the page's`);
    }
  });

  // What the figures must be: DuckDB over the same set, the test's own SQL.
  const db = await openSetDatabase([ResultSet.open(dir)], { views: [] });
  const browser = await openBrowser();
  try {
    const [ok, failed, points] = (await db.conn.runAndReadAll(`SELECT count(*) FILTER (status = 'ok'), count(*) FILTER (status = 'failed'), count(DISTINCT point_key) FILTER (status = 'ok') FROM points`)).getRows()[0]!.map(Number) as [number, number, number];
    assert.equal(failed, 1);
    assert.match(r.out, new RegExp(`^wrote .*report\\.html: \\d+ plot\\(s\\), the stage stack, parallel coordinates of ${ok} ok run\\(s\\) \\(1 failed or interrupted, not plotted\\)$`, 'm'));
    // The parameters that vary: each is an x axis of every headline metric.
    const params: string[] = [];
    for (const c of db.columns.filter((c) => c.kind === 'param' && !/\.(label|width|height|pixels)$/.test(c.name))) {
      const n = Number((await db.conn.runAndReadAll(`SELECT count(DISTINCT ${quoteIdent(c.name)}) FROM points`)).getRows()[0]![0]);
      if (n > 1) params.push(c.name);
    }
    assert.ok(params.length >= 2, `the set should vary several parameters: ${params.join(', ')}`);

    const context = await browser.newContext();
    const requests: string[] = [];
    context.on('request', (req) => requests.push(req.url()));
    // Anything but the file itself is refused: a report that needed the network would show nothing.
    await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    const errors: string[] = [];
    const p = await context.newPage();
    await p.setViewportSize({ width: 1400, height: 900 });
    p.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await p.goto(pathToFileURL(out).href);
    await p.waitForFunction(() => (globalThis as Hook).__sbReport?.done === true, null, { timeout: 60_000 });
    const state = await p.evaluate(() => (globalThis as Hook).__sbReport!);
    assert.equal(state.error, undefined);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
      'a request left the file',
    );

    // The header counts what DuckDB counts; failed runs are said, not plotted.
    const header = await p.locator('#header').innerText();
    assert.match(header, new RegExp(`${ok + failed} \\(point x repetition\\): ${ok} ok, 1 failed, 0 interrupted`));
    assert.match(header, /benchmark\s+\S+/);

    // The plots: each headline metric against each of the four parameters, the stage stack, parallel coordinates.
    const plots = state.charts.filter((c) => c.startsWith('plot:'));
    for (const param of params) {
      for (const metric of ['client.bitrate', 'latency.p50', 'guest.cpu_pct']) assert.ok(plots.includes(`plot:${metric}:${param}`), `no plot of ${metric} by ${param} in ${plots.join(', ')}`);
    }
    assert.ok(state.charts.includes('stack') && state.charts.includes('parallel'));

    // The Findings section comes first, right after the header; its table is --json's findings, row by row.
    await p.screenshot({ path: join(root, 'test-artifacts', 'report-findings.png') });
    const firstSection = await p.evaluate(() => (globalThis as unknown as { document: { querySelector(s: string): { firstElementChild: { id: string } | null } } }).document.querySelector('#report').firstElementChild?.id);
    assert.equal(firstSection, 'findings');
    const f = printed.findings;
    assert.equal(f.repetitions, true, 'the fixture repeats each point twice');
    assert.equal(f.family.correction, 'holm');
    assert.ok(
      f.warnings.some((w) => /not checked/.test(w)),
      `the set's conditions line is a warning: ${f.warnings.join('; ')}`,
    );
    const rows = await p.evaluate(() =>
      [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ querySelectorAll(s: string): Iterable<{ dataset: Record<string, string> }> }> } }).document.querySelectorAll('table.findings tbody tr')].map((tr) =>
        Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset['key']!, JSON.parse(td.dataset['raw']!) as unknown])),
      ),
    );
    assert.equal(rows.length, f.findings.length);
    assert.ok(rows.length >= params.length * 3);
    rows.forEach((row, i) => {
      const want = f.findings[i]!;
      assert.deepEqual(row, { metric: want.metric, parameter: want.parameter, levels: [want.from, want.to], effect: want.effect, effect_pct: want.effect_pct, ci: want.ci, F: want.F, p: want.p, significant: want.significant }, `row ${i}`);
    });
    // The sentences: one per significant effect (up to eight), each with its p after Holm over the family.
    const lead = await p.locator('#findings ul.lead').innerText();
    const significant = f.findings.filter((x) => x.significant === true);
    assert.ok(significant.length > 0, 'the fixture has significant effects (bitrate on client.bitrate, at least)');
    assert.match(lead, new RegExp(`after Holm over ${f.family.tests} tests`));
    // One finding's effect from the test's own DuckDB query: marginal means (per bitrate value, the mean of the point means).
    const byBitrate = f.findings.find((x) => x.metric === 'client.bitrate' && x.parameter === 'bitrate')!;
    const marginal = (await db.conn.runAndReadAll(`WITH pts AS (SELECT bitrate, point_key, avg("client.bitrate") AS v FROM points WHERE status = 'ok' GROUP BY ALL) SELECT bitrate, avg(v) FROM pts GROUP BY bitrate ORDER BY bitrate`))
      .getRows()
      .map(([x, v]) => [Number(x), Number(v)] as const);
    const [lowest, highest] = [marginal[0]!, marginal.at(-1)!];
    assert.deepEqual([byBitrate.from, byBitrate.to], [lowest[0], highest[0]]);
    const near = (a: number | null, b: number) => a !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    assert.ok(near(byBitrate.effect, highest[1] - lowest[1]), `effect ${byBitrate.effect}, DuckDB ${highest[1] - lowest[1]}`);
    assert.ok(near(byBitrate.effect_pct, ((highest[1] - lowest[1]) / Math.abs(lowest[1])) * 100));
    // A categorical one: the largest marginal mean minus the smallest, the two codecs named.
    const byCodec = f.findings.find((x) => x.metric === 'latency.p50' && x.parameter === 'codec')!;
    const codecs = (await db.conn.runAndReadAll(`WITH pts AS (SELECT codec, point_key, avg("latency.p50") AS v FROM points WHERE status = 'ok' GROUP BY ALL) SELECT codec, avg(v) AS m FROM pts GROUP BY codec ORDER BY m`)).getRows().map(([x, v]) => [String(x), Number(v)] as const);
    assert.deepEqual([byCodec.from, byCodec.to], [codecs[0]![0], codecs.at(-1)![0]]);
    assert.ok(near(byCodec.effect, codecs.at(-1)![1] - codecs[0]![1]));

    // Plots of no significant effect are folded away, the others shown; opened, every one is drawn below.
    const folded = await p.evaluate(() =>
      [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ querySelectorAll(s: string): Iterable<{ dataset: Record<string, string> }> }> } }).document.querySelectorAll('details.folded')].flatMap((d) =>
        [...d.querySelectorAll('[data-chart]')].map((c) => c.dataset['chart']!),
      ),
    );
    for (const name of plots) {
      const [, metric, param] = name.split(':') as [string, string, string];
      const sig = f.findings.some((x) => x.metric === metric && x.params.includes(param) && x.significant === true);
      assert.equal(folded.includes(name), !sig, `${name}: ${sig ? 'significant, yet folded' : 'not significant, yet shown'}`);
    }
    assert.ok(folded.length > 0);
    await p.evaluate(() => {
      for (const d of (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ open: boolean }> } }).document.querySelectorAll('details.folded')) d.open = true;
    });
    await p.waitForTimeout(500); // the charts resize (ResizeObserver) and paint on the next frame

    // Every chart's canvas is drawn; a plot's means (its colour, #2f5fb3) are on it.
    await p.waitForFunction(() => (globalThis as unknown as { document: Doc }).document.querySelectorAll('[data-chart] canvas').length >= 3);
    await p.waitForTimeout(300); // ECharts paints on the next animation frame
    const drawn = await p.evaluate(() =>
      [...(globalThis as unknown as { document: Doc }).document.querySelectorAll('[data-chart]')].map((d) => {
        const c = d.querySelector('canvas')!;
        const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        let line = 0;
        for (let i = 0; i < px.length; i += 4) {
          if (px[i + 3]! > 0) ink++;
          if (px[i + 3]! > 200 && Math.abs(px[i]! - 0x2f) < 12 && Math.abs(px[i + 1]! - 0x5f) < 12 && Math.abs(px[i + 2]! - 0xb3) < 12) line++;
        }
        return { name: d.dataset['chart']!, ink, line, size: c.width * c.height };
      }),
    );
    assert.equal(drawn.length, state.charts.length);
    for (const d of drawn) {
      assert.ok(d.ink > d.size * 0.01, `${d.name}: its canvas is blank (${d.ink} of ${d.size} pixels drawn)`);
      if (d.name.startsWith('plot:')) assert.ok(d.line > 40, `${d.name}: no means drawn (${d.line} pixels of their colour)`);
    }
    // A categorical x (codec, a frame size) is points with no line between them; a numeric one a line. Ratio-scale metrics start at zero.
    for (const name of plots) {
      const [, metric, param] = name.split(':') as [string, string, string];
      const opt = await p.evaluate((n) => {
        const o = (globalThis as Hook).__sb!.charts[n]!.getOption();
        return { type: o.series[0]!.type, min: o.yAxis[0]!.min };
      }, name);
      const categorical = Number((await db.conn.runAndReadAll(`SELECT count(*) FROM points WHERE typeof(${quoteIdent(param)}) NOT IN ('BIGINT', 'DOUBLE', 'INTEGER')`)).getRows()[0]![0]) > 0;
      assert.equal(opt.type, categorical ? 'scatter' : 'line', `${name}: ${opt.type}`);
      const least = Number((await db.conn.runAndReadAll(`SELECT min(${quoteIdent(metric)}) FROM points WHERE status = 'ok'`)).getRows()[0]![0]);
      assert.equal(opt.min === 0, positiveMetric(inPage.metrics.find((m) => m.name === metric)!.unit, least), `${name}: y axis min ${String(opt.min)}`);
    }

    // Every plotted mean equals DuckDB's: per point the mean of its ok repetitions, then the mean of the points per x value.
    for (const name of plots) {
      const [, metric, param] = name.split(':') as [string, string, string];
      const data = await p.evaluate((n) => (globalThis as Hook).__sb!.charts[n]!.getOption().series[0]!.data as [string | number, number | null][], name);
      const sql = `WITH pts AS (SELECT ${quoteIdent(param)} AS x, point_key, avg(${quoteIdent(metric)}) AS v FROM points
        WHERE status = 'ok' AND ${quoteIdent(metric)} IS NOT NULL GROUP BY x, point_key) SELECT CAST(x AS VARCHAR), avg(v) FROM pts GROUP BY x`;
      const want = new Map((await db.conn.runAndReadAll(sql)).getRows().map(([x, v]) => [String(x), Number(v)]));
      assert.equal(data.length, want.size, `${name}: ${data.length} values plotted, DuckDB has ${want.size} groups`);
      // The caption says how many points and runs are behind each value.
      const counts = (await db.conn.runAndReadAll(`SELECT CAST(count(DISTINCT point_key) AS VARCHAR) || '/' || CAST(count(*) AS VARCHAR) FROM points WHERE status = 'ok' AND ${quoteIdent(metric)} IS NOT NULL GROUP BY ${quoteIdent(param)}`)).getRows().map(([c]) => String(c));
      const caption = await p.locator(`[data-caption="${name}"]`).innerText();
      const said = [...caption.replace(/^.*\(points\/runs\): /s, '').matchAll(/ (\d+\/\d+)/g)].map((x) => x[1]!);
      assert.deepEqual(said.sort(), counts.sort(), `${name}: ${caption}`);
      for (const [x, v] of data) {
        const w = want.get(String(x));
        assert.ok(w !== undefined && v !== null && Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${name} at ${x}: plotted ${v}, DuckDB ${w}`);
      }
    }

    // The error bars: the 95 % interval of a mean of point means from the repetitions' spread
    // (Welch-Satterthwaite), on the log scale for a metric that cannot be negative (a bitrate, a
    // latency, a CPU share; not a PSNR in dB), none where a point of the group has a single ok
    // repetition (the failed run's); each plot's caption says so, with how many groups have none.
    let withBars = 0;
    let withoutBars = 0;
    const scales = new Set<string>();
    for (const name of plots) {
      const [, metric, param] = name.split(':') as [string, string, string];
      const least = Number((await db.conn.runAndReadAll(`SELECT min(${quoteIdent(metric)}) FROM points WHERE status = 'ok'`)).getRows()[0]![0]);
      const log = positiveMetric(inPage.metrics.find((m) => m.name === metric)!.unit, least);
      scales.add(log ? 'log' : 'linear');
      const bars = await p.evaluate((n) => (globalThis as Hook).__sb!.charts[n]!.getOption().series[1]!.data as [string | number, number, number][], name);
      const caption = await p.locator(`[data-caption="${name}"]`).innerText();
      const plotted = await p.evaluate((n) => (globalThis as Hook).__sb!.charts[n]!.getOption().series[0]!.data.length, name);
      if (bars.length === 0) assert.doesNotMatch(caption, /interval|CI|error bar/, `${name}: ${caption}`);
      else assert.ok(caption.startsWith(`Each value: mean of the point means (each point's mean over its repetitions); error bars: 95 % CI of the mean over repetitions${log ? ', on the log scale' : ''} (Student t`), `${name}: ${caption}`);
      if (bars.length > 0 && bars.length < plotted) assert.ok(caption.includes(`; none for ${plotted - bars.length} of ${plotted} groups (a point with a single run)`), `${name}: ${caption}`);
      if (bars.length === plotted) assert.doesNotMatch(caption, /none for/, `${name}: ${caption}`);
      const sql = `SELECT CAST(${quoteIdent(param)} AS VARCHAR), avg(${quoteIdent(metric)}), coalesce(var_samp(${quoteIdent(metric)}), 0), count(*) FROM points
        WHERE status = 'ok' AND ${quoteIdent(metric)} IS NOT NULL GROUP BY ${quoteIdent(param)}, point_key`;
      const groups = new Map<string, { m: number; v: number; n: number }[]>();
      for (const [x, m, v, n] of (await db.conn.runAndReadAll(sql)).getRows()) groups.set(String(x), [...(groups.get(String(x)) ?? []), { m: Number(m), v: Number(v), n: Number(n) }]);
      for (const [x, pts] of groups) {
        const bar = bars.find((b) => String(b[0]) === x);
        if (pts.some((q) => q.n < 2)) {
          assert.equal(bar, undefined, `${name} at ${x}: an interval although a point has one repetition`);
          withoutBars++;
          continue;
        }
        const mean = pts.reduce((a, q) => a + q.m, 0) / pts.length;
        const se2 = pts.reduce((a, q) => a + q.v / q.n, 0);
        if (se2 === 0) continue;
        const df = se2 ** 2 / pts.reduce((a, q) => a + (q.v / q.n) ** 2 / (q.n - 1), 0);
        const half = (tQuantile(0.975, df) * Math.sqrt(se2)) / pts.length;
        const [lo, hi] = log ? [mean / Math.exp(half / mean), mean * Math.exp(half / mean)] : [mean - half, mean + half];
        assert.ok(bar, `${name} at ${x}: no interval`);
        const tol = 1e-6 * Math.max(1, Math.abs(mean));
        assert.ok(Math.abs(bar[1] - lo) <= tol && Math.abs(bar[2] - hi) <= tol, `${name} at ${x}: interval [${bar[1]}, ${bar[2]}], expected [${lo}, ${hi}] (${log ? 'log' : 'linear'} scale)`);
        if (log) assert.ok(bar[1] > 0, `${name} at ${x}: a positive metric's interval reaches ${bar[1]}`);
        withBars++;
      }
    }
    assert.ok(withBars > 0 && withoutBars > 0, `intervals checked: ${withBars} with, ${withoutBars} without`);
    assert.deepEqual([...scales].sort(), ['linear', 'log'], 'the headline metrics include positive ones (log scale) and a PSNR (linear)');

    // The stage stack: per point, the mean over its ok repetitions of each stage's median.
    const stack = await p.evaluate(() => (globalThis as Hook).__sb!.charts['stack']!.getOption().series.map((s) => ({ name: s.name!, data: s.data as (number | null)[] })));
    const encode = stack.find((s) => s.name === 'encode');
    assert.ok(encode, `no encode stage in ${stack.map((s) => s.name).join(', ')}`);
    const wantEncode = (await db.conn.runAndReadAll(`SELECT avg("stage.encode.p50") FROM points WHERE status = 'ok' GROUP BY point_key`))
      .getRows()
      .map(([v]) => Number(v))
      .sort((a, b) => a - b);
    const gotEncode = encode.data.map(Number).sort((a, b) => a - b);
    assert.equal(gotEncode.length, points);
    gotEncode.forEach((v, i) => assert.ok(Math.abs(v - wantEncode[i]!) <= 1e-9 * Math.max(1, wantEncode[i]!), `stage encode: ${v} vs ${wantEncode[i]}`));

    // Parallel coordinates: one line per ok run.
    const lines = await p.evaluate(() => (globalThis as Hook).__sb!.charts['parallel']!.getOption().series[0]!.data.length);
    assert.equal(lines, ok);

    await shot(p, 'report-full');
    await p.locator('[data-chart="stack"]').scrollIntoViewIfNeeded();
    await p.screenshot({ path: join(root, 'test-artifacts', 'report-stack.png') });
    await context.close();
  } finally {
    db.close();
    await browser.close();
  }
});

test('report: a directory that is no result set is one line and exit 4; --help explains', { timeout: 120_000 }, () => {
  const r = cli(['report', join(tmpdir())]);
  assert.equal(r.code, 4, r.err);
  assert.match(r.err, /^error: .* is not a result set/);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  const h = cli(['report', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /Usage: streambench report RESULT-SET\.\.\. \[--out FILE \| --json\]/);
  assert.match(h.out, /leads with its findings[\s\S]*type-II F test[\s\S]*Holm-adjusted/);
});

/**
 * Two sets to compare: the fixture, and a copy named stream-b with only its h264 points (codec then
 * varies in one set only: aggregated, not a row), its latencies doubled (the sets then differ on
 * latency at every setting) and one run failed (left out of the comparison).
 */
function twoSets(): { a: string; b: string } {
  const top = mkdtempSync(join(tmpdir(), 'sb-report-cmp-'));
  const a = join(top, 'stream-matrix');
  const b = join(top, 'stream-b');
  for (const d of [a, b]) {
    cpSync(FIXTURE, d, { recursive: true });
    rmSync(join(d, 'index'), { recursive: true, force: true });
    rmSync(join(d, 'report.html'), { force: true });
  }
  const meta = join(b, 'streambench-set.json');
  writeFileSync(meta, JSON.stringify({ ...(JSON.parse(readFileSync(meta, 'utf8')) as object), name: 'stream-b' }));
  let failedOne = false;
  for (const p of readdirSync(join(b, 'points')).sort()) {
    const file = join(b, 'points', p, 'point.json');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { params: Record<string, unknown>; outcome: unknown; metrics: Record<string, unknown> };
    if (rec.params['codec'] !== 'h264') {
      rmSync(join(b, 'points', p), { recursive: true });
      continue;
    }
    for (const m of Object.keys(rec.metrics)) if (m.startsWith('latency.') && typeof rec.metrics[m] === 'number') rec.metrics[m] *= 2;
    if (!failedOne) {
      rec.outcome = { status: 'failed', error: 'made to fail by the report test' };
      failedOne = true;
    }
    writeFileSync(file, JSON.stringify(rec));
  }
  return { a, b };
}

test('report A B: the sets side by side, each figure the mean of point means DuckDB gives per set and shared setting, the better set marked', { timeout: 600_000 }, async () => {
  const { a, b } = twoSets();
  const r = cli(['report', a, b]);
  assert.equal(r.code, 0, `report failed: ${r.err}`);
  const out = join(a, '..', 'compare-stream-matrix+stream-b.html');
  assert.match(r.out, /^wrote .*compare-stream-matrix\+stream-b\.html: 2 sets side by side on \d+ metric\(s\), /m);
  const j = cli(['report', a, b, '--json']);
  assert.equal(j.code, 0, j.err);
  type Cell = { mean: number | null; min: number | null; max: number | null; points: number };
  const data = JSON.parse(j.out) as {
    sets: { name: string }[];
    params: { name: string }[];
    findings: JsonFindings;
    comparison: { by: { name: string }[]; aggregated: string[]; metrics: { name: string }[]; rows: { set: string; settings: (string | number | null)[]; points: number; runs: number; values: Record<string, Cell> }[] };
  };
  assert.deepEqual(
    data.sets.map((s) => s.name),
    ['stream-matrix', 'stream-b'],
  );
  assert.ok(
    data.params.some((p) => p.name === 'set'),
    'set is a parameter of the plots',
  );
  const c = data.comparison;
  assert.deepEqual(
    c.by.map((p) => p.name),
    ['resolution', 'fps', 'bitrate'],
  );
  assert.deepEqual(
    c.aggregated,
    ['set', 'codec'].filter((n) => n !== 'set'),
  );
  for (const m of ['latency.p50', 'client.bitrate', 'guest.cpu_pct'])
    assert.ok(
      c.metrics.some((x) => x.name === m),
      `${m} not compared`,
    );

  // What each row must be: per set and shared setting, the mean over points of each point's mean over its ok runs.
  const db = await openSetDatabase([ResultSet.open(a), ResultSet.open(b)], { views: [] });
  try {
    for (const m of c.metrics.map((x) => x.name)) {
      const sql = `WITH pts AS (SELECT "set" AS s, CAST(resolution AS VARCHAR) AS res, fps, bitrate, point_key, avg(${quoteIdent(m)}) AS v FROM points WHERE status = 'ok' GROUP BY ALL)
        SELECT s, res, fps, bitrate, avg(v), min(v), max(v), count(v) FROM pts GROUP BY s, res, fps, bitrate`;
      const want = new Map((await db.conn.runAndReadAll(sql)).getRows().map(([s, res, fps, br, mean, lo, hi, n]) => [`${String(s)}|${String(res)}|${Number(fps)}|${Number(br)}`, [Number(mean), Number(lo), Number(hi), Number(n)]]));
      assert.equal(c.rows.length, want.size, `${m}: ${c.rows.length} rows, DuckDB has ${want.size} groups`);
      for (const row of c.rows) {
        const w = want.get(`${row.set}|${String(row.settings[0])}|${Number(row.settings[1])}|${Number(row.settings[2])}`);
        const got = row.values[m]!;
        assert.ok(w, `${m}: no DuckDB group for ${row.set} ${row.settings.join(' ')}`);
        const same = (x: number | null, y: number) => x !== null && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
        assert.ok(same(got.mean, w[0]!) && same(got.min, w[1]!) && same(got.max, w[2]!) && got.points === w[3], `${m} ${row.set} ${row.settings.join(' ')}: ${JSON.stringify(got)} vs DuckDB ${w.join(', ')}`);
      }
    }
    // The failed run of stream-b is not in it: its point has one ok run of two.
    const runsB = c.rows.filter((x) => x.set === 'stream-b').reduce((n, x) => n + x.runs, 0);
    const okB = Number((await db.conn.runAndReadAll(`SELECT count(*) FROM points WHERE "set" = 'stream-b' AND status = 'ok'`)).getRows()[0]![0]);
    assert.equal(runsB, okB);
  } finally {
    db.close();
  }

  const browser = await openBrowser();
  try {
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(pathToFileURL(out).href);
    await p.waitForFunction(() => (globalThis as Hook).__sbReport?.done === true, null, { timeout: 60_000 });
    assert.deepEqual(errors, []);
    assert.equal(await p.evaluate(() => (globalThis as Hook).__sbReport!.error), undefined);
    // The findings lead, before the comparison; set is one of their parameters.
    const order = await p.evaluate(() => [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ id: string; tagName: string; className: string }> } }).document.querySelectorAll('#findings, table.compare')].map((e) => e.id || e.className));
    assert.deepEqual(order, ['findings', 'compare']);
    assert.ok(
      data.findings.findings.some((x) => x.parameter === 'set'),
      'set is a parameter of the findings',
    );
    // The table: a row per set and setting, latency.p50 in bold for stream-matrix (half of stream-b's) at each setting.
    const cells = await p.evaluate(() =>
      [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ dataset: Record<string, string>; querySelector(s: string): { textContent: string; className: string } | null }> } }).document.querySelectorAll('table.compare tbody tr')].map((tr) => {
        const td = tr.querySelector('td[data-metric="latency.p50"] span');
        return { set: tr.dataset['set']!, setting: tr.dataset['setting']!, text: td?.textContent ?? '', best: td?.className === 'best' };
      }),
    );
    assert.equal(cells.length, c.rows.length);
    // Bold where DuckDB's mean is the strictly lower one of its setting (latency: lower is better).
    const rowsAt = (i: number) => c.rows.filter((x) => x.settings.join('|') === c.rows[i]!.settings.join('|'));
    let bold = 0;
    cells.forEach((cell, i) => {
      const row = c.rows[i]!;
      assert.equal(cell.set, row.set);
      const others = rowsAt(i).filter((x) => x !== row);
      const lower = others.every((x) => row.values['latency.p50']!.mean! < x.values['latency.p50']!.mean!);
      assert.equal(cell.best, lower, `${cell.set} at ${cell.setting}: best=${cell.best}`);
      if (cell.best) bold++;
    });
    assert.equal(bold, c.rows.length / 2, 'one set is the better at each setting');
    // The bar chart of latency.p50: a series per set, its bars the comparison's means.
    const series = await p.evaluate(() => (globalThis as Hook).__sb!.charts['compare:latency.p50']!.getOption().series.map((s) => ({ name: s.name!, data: s.data as (number | null)[] })));
    assert.deepEqual(
      series.map((s) => s.name),
      ['stream-matrix', 'stream-b'],
    );
    for (const s of series) {
      const means = c.rows.filter((x) => x.set === s.name).map((x) => x.values['latency.p50']!.mean);
      assert.deepEqual(s.data, means, `${s.name}: bars ${s.data.join(', ')}, means ${means.join(', ')}`);
    }
    // Its CSV says what it holds: metric and unit, the settings, what was aggregated, the sets.
    const [dl] = await Promise.all([p.waitForEvent('download'), p.click('.panel:has([data-chart="compare:latency.p50"]) button[data-export=csv]')]);
    assert.equal(dl.suggestedFilename(), 'compare_latency.p50.csv');
    const csvText = readFileSync(await dl.path(), 'utf8');
    for (const line of ['# metric: latency.p50 (ms)', '# settings: resolution, fps, bitrate', '# sets: stream-matrix, stream-b']) assert.ok(csvText.includes(`${line}\n`), `CSV header lacks "${line}":\n${csvText.slice(0, 500)}`);
    assert.match(csvText, /^# aggregate: .*codec aggregated$/m);
    assert.equal(csvText.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length, 1 + c.rows.length, 'a header row and a row per set and setting');
    await shot(p, 'report-compare');
  } finally {
    await browser.close();
  }
});

test('report without repetitions: the findings say so, show effects with no p and no interval, and fold no plot', { timeout: 600_000 }, async () => {
  // The fixture's first repetition of each point only: every point ran once.
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-report-norep-')), 'stream-matrix');
  cpSync(FIXTURE, dir, { recursive: true });
  rmSync(join(dir, 'index'), { recursive: true, force: true });
  rmSync(join(dir, 'report.html'), { force: true });
  for (const p of readdirSync(join(dir, 'points'))) if (!p.endsWith('-r1')) rmSync(join(dir, 'points', p), { recursive: true });
  const r = cli(['report', dir]);
  assert.equal(r.code, 0, r.err);
  const j = cli(['report', dir, '--json']);
  assert.equal(j.code, 0, j.err);
  const data = JSON.parse(j.out) as { plots: unknown[]; findings: JsonFindings };
  const f = data.findings;
  assert.equal(f.repetitions, false);
  assert.equal(f.family.tests, 0);
  assert.ok(f.findings.length > 0);
  for (const x of f.findings) {
    assert.equal(x.p, null, `${x.metric} by ${x.parameter}`);
    assert.equal(x.significant, null);
    assert.equal(x.ci, null);
    assert.equal(typeof x.effect, 'number');
  }
  const browser = await openBrowser();
  try {
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(pathToFileURL(join(dir, 'report.html')).href);
    await p.waitForFunction(() => (globalThis as Hook).__sbReport?.done === true, null, { timeout: 60_000 });
    assert.deepEqual(errors, []);
    const lead = await p.locator('#findings ul.lead').innerText();
    assert.match(lead, /^No repetitions \(every point ran once\): effects are shown, none is claimed significant\./);
    assert.doesNotMatch(lead, /p = |CI/);
    assert.equal(await p.locator('details.folded').count(), 0, 'nothing tested, nothing folded');
    assert.equal(await p.locator('[data-chart^="plot:"]').count(), data.plots.length);
    const pCells = await p.locator('table.findings td[data-key="p"]').allInnerTexts();
    assert.equal(pCells.length, f.findings.length);
    assert.ok(
      pCells.every((t) => t === '–'),
      pCells.join(' '),
    );
    await p.screenshot({ path: join(root, 'test-artifacts', 'report-norep.png') });
  } finally {
    await browser.close();
  }
});
