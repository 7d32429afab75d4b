// The network panel, the decision marks and the freeze marks over a set recorded here by real runs
// (gcc and fixed over two step traces; a schedule over a fixed rate): the run view draws the
// capacity, target, sent and delivered rates and the queueing delay with one mark per decision of
// the point's controls.json (read back by the stream's own reader: the reference); the frame view
// shades the freezes of freezes.json; a damaged controls.json is a run file problem; the matrix
// view plots a policy metric against policy and against net_trace (a path). Screenshots go to
// test-artifacts/ (look at them). SB_NET_SET=DIR keeps the recorded set there and reuses it.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadBenchmark } from '../../src/config/load.ts';
import { runBenchmark } from '../../src/engine/engine.ts';
import type { RunControlRecord, RunMarksResponse } from '../../src/server/api-types.ts';
import { checkControls } from '../../src/server/run-marks.ts';
import type { UiServer } from '../../src/server/server.ts';
import { openSetDatabase } from '../../src/store/database.ts';
import type { PointRecord } from '../../src/store/records.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import type { ControlRecord } from '../../src/stream/report.ts';
import { readControls } from '../../src/workloads/stream/run.ts';
import { ARTIFACTS, newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

// The API's record and the stream's are one shape: the same fields, and a record the stream
// writes is one the API accepts (a field added to one and not the other fails the type check).
const sameFields: [keyof ControlRecord] extends [keyof RunControlRecord] ? ([keyof RunControlRecord] extends [keyof ControlRecord] ? true : false) : false = true;
const asApi = (c: ControlRecord): RunControlRecord => c;

let tmp: string;
let setDir: string;
let set: ResultSet;
let server: UiServer;
let browser: Browser;

/** Records the set: gcc and fixed over a step down and a flat trace, and a schedule's decisions over a fixed rate. */
async function record(dir: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sb-net-bench-'));
  writeFileSync(join(work, 'drop.csv'), 't,rate\n0,3M\n1.5,700k\n');
  writeFileSync(join(work, 'flat.csv'), 't,rate\n0,1M\n');
  const runs: [string, string][] = [
    [
      'net-policy',
      `name: net-policy
workload: {type: stream, resolution: 320x180, fps: 30, scene: motion, bitrate: 3M, net_queue: 1s}
matrix: {policy: [gcc, fixed], net_trace: [drop.csv, flat.csv]}
warmup: 0.5s
duration: 3s
`,
    ],
    [
      'net-schedule',
      `name: net-schedule
workload: {type: stream, resolution: 320x180, fps: 30, scene: motion, bitrate: 3M, net_rate: 1M, net_queue: 1s, schedule: [{at: 1s, bitrate: 800k}, {at: 2s, fps: 15}]}
matrix: {policy: fixed}
warmup: 0.5s
duration: 3s
`,
    ],
  ];
  // Trace paths are read from the working directory, as `streambench run` reads them: the points keep the names as written.
  const cwd = process.cwd();
  process.chdir(work);
  try {
    for (const [name, text] of runs) {
      const file = join(work, `${name}.yaml`);
      writeFileSync(file, text);
      const b = await loadBenchmark(file);
      await runBenchmark(b, { results: ResultSet.openOrCreate(dir, 'net'), signal: new AbortController().signal });
    }
  } finally {
    process.chdir(cwd);
  }
  rmSync(work, { recursive: true, force: true });
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sb-net-'));
  setDir = join(tmp, 'net');
  const keep = process.env['SB_NET_SET'];
  if (keep && existsSync(keep)) cpSync(keep, setDir, { recursive: true });
  else {
    await record(setDir);
    if (keep) cpSync(setDir, keep, { recursive: true });
  }
  set = ResultSet.open(setDir);
  for (const p of set.points()) assert.equal(p.outcome.status, 'ok', `${JSON.stringify(p.params)}: ${JSON.stringify(p.outcome)}`);
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

const trace = (p: PointRecord) => String(p.params['net_trace'] ?? '');
const point = (f: (p: PointRecord) => boolean): PointRecord => {
  const p = set.points().find(f);
  assert.ok(p, 'the set has the point');
  return p;
};
const runUrl = (view: string, p: PointRecord) => `${server.url}?view=${view}&run=${encodeURIComponent(`${set.name}/${p.key}/${p.rep}`)}`;
const dirOf = (p: PointRecord) => set.pointDir(p.key, p.rep);

type Hook = { __sb: { charts: Record<string, { getOption(): Record<string, unknown>; convertToPixel(f: unknown, v: number): number; getDom(): { getBoundingClientRect(): { left: number; top: number } } }> } };
type Opt = { series: { id?: string; name?: string; data: unknown[]; yAxisIndex?: number; markLine?: { data: { xAxis: number; name: string }[] }; markArea?: { data: [{ xAxis: number; name?: string }, { xAxis: number }][] } }[] };

async function option(page: Page, chart: string): Promise<Opt> {
  return page.evaluate((name) => (globalThis as unknown as Hook).__sb.charts[name]?.getOption() as unknown as Opt, chart);
}

/** Moves the mouse onto a chart at time `t` (s) and half-way down its first grid; the tooltip's text. */
async function hoverAt(page: Page, chart: string, t: number, y: number): Promise<string> {
  const at = await page.evaluate(
    ({ name, t }) => {
      const c = (globalThis as unknown as Hook).__sb.charts[name]!;
      const r = c.getDom().getBoundingClientRect();
      return { x: r.left + c.convertToPixel({ xAxisIndex: 0 }, t), top: r.top };
    },
    { name: chart, t },
  );
  await page.mouse.move(at.x, at.top + y);
  await page.waitForTimeout(300);
  // ECharts' tooltip: the absolutely placed div that ignores the pointer (a string: this file is checked without the DOM's types).
  return page.evaluate<string>(`[...document.querySelectorAll('div')].filter((d) => d.style.pointerEvents === 'none' && d.style.display !== 'none' && d.style.position === 'absolute').map((d) => d.innerText).join('\\n')`);
}

test("the run view's network panel draws the link's series and one mark per decision of controls.json", { timeout: 900_000 }, async () => {
  const gcc = point((p) => p.params['policy'] === 'gcc' && trace(p).includes('drop'));
  const reference = readControls(join(dirOf(gcc), 'controls.json')).map(asApi);
  assert.ok(sameFields);
  assert.ok(reference.length >= 1, 'gcc decided something over the step down');
  // The API answers the file's records, checked, in time order.
  const marks = (await (await fetch(`${server.url}api/run/marks?set=${encodeURIComponent(set.name)}&key=${gcc.key}&rep=1`)).json()) as RunMarksResponse;
  assert.deepEqual(marks.problems, []);
  assert.deepEqual(
    marks.decisions,
    JSON.parse(
      JSON.stringify(
        reference.sort((a, b) => a.t - b.t),
        (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v),
      ),
    ) as unknown,
  );
  // The freezes as the stream wrote them, served as they are.
  assert.deepEqual(marks.freezes, JSON.parse(readFileSync(join(dirOf(gcc), 'freezes.json'), 'utf8')) as unknown);

  const { page, errors } = await newPage(browser);
  await page.goto(runUrl('run', gcc));
  await waitDraw(page, 0);
  const net = await option(page, 'run.network');
  assert.ok(net, 'the run view has a network panel');
  const byName = (n: string) => net.series.find((s) => s.id?.endsWith(`:${n}`));
  for (const n of ['capacity_bps', 'target_bps', 'sent_bps', 'delivered_bps', 'queue_delay_ms']) assert.ok((byName(n)?.data.length ?? 0) > 3, `${n} is drawn`);
  assert.equal(byName('queue_delay_ms')!.yAxisIndex, 1, 'the queueing delay on the right axis');
  assert.equal(byName('capacity_bps')!.yAxisIndex ?? 0, 0, 'the capacity on the left axis');
  const lines = net.series.filter((s) => s.id?.startsWith('decisions:')).flatMap((s) => s.markLine?.data ?? []);
  assert.equal(lines.length, reference.length, `one mark per decision: ${lines.length} drawn, ${reference.length} in controls.json`);
  assert.deepEqual(
    lines.map((l) => l.xAxis),
    reference.map((c) => c.t / 1000),
  );
  assert.equal(await page.locator('p.note[data-decisions]').getAttribute('data-decisions'), String(reference.length));
  // Hovering a decision tells what was decided, by whom, whether it was applied and the estimate behind it.
  const first = reference[0]!;
  const tip = await hoverAt(page, 'run.network', first.t / 1000, 60);
  assert.match(tip, /decision at [\d.]+ s by policy: bitrate [\d.]+ [kM]bit\/s/, tip);
  assert.match(tip, new RegExp(`applied: ${first.applied ?? 'live'}`), tip);
  assert.match(tip, new RegExp(`estimate: state ${String(first.estimate?.['state'])}, .*incoming_bps`), tip);
  await shot(page, 'run-network-panel');
  // The recorded window, zoomed: the panel alone, a decision's tooltip open.
  const w = gcc.timeline!.window;
  await page.goto(`${runUrl('run', gcc)}&from=${(w[0] - 0.5).toFixed(2)}&to=${(w[1] + 0.5).toFixed(2)}`);
  await waitDraw(page, 0);
  await hoverAt(page, 'run.network', reference[reference.length - 1]!.t / 1000, 120);
  await page
    .locator('.panel')
    .first()
    .screenshot({ path: join(ARTIFACTS, 'run-network-panel-zoomed.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a schedule's decisions are marked too; without decisions the panel says so", { timeout: 300_000 }, async () => {
  const sched = point((p) => p.params['policy'] === 'fixed' && trace(p) === '');
  const reference = readControls(join(dirOf(sched), 'controls.json'));
  assert.equal(reference.filter((c) => c.from === 'schedule').length, 2, 'the two scheduled changes');
  const { page, errors } = await newPage(browser);
  await page.goto(runUrl('run', sched));
  await waitDraw(page, 0);
  const net = await option(page, 'run.network');
  const lines = net.series.filter((s) => s.id === 'decisions:schedule').flatMap((s) => s.markLine?.data ?? []);
  assert.equal(lines.length, reference.length);
  const tip = await hoverAt(page, 'run.network', reference[1]!.t / 1000, 60);
  assert.match(tip, /by schedule: 15 fps/, tip);
  await shot(page, 'run-network-schedule');

  const fixed = point((p) => p.params['policy'] === 'fixed' && trace(p).includes('drop'));
  assert.ok(!existsSync(join(dirOf(fixed), 'controls.json')), 'fixed decides nothing');
  await page.goto(runUrl('run', fixed));
  await waitDraw(page, 0);
  const plain = await option(page, 'run.network');
  assert.ok(
    plain.series.some((s) => s.id?.endsWith(':capacity_bps')),
    "the trace's capacity is drawn",
  );
  assert.ok(!plain.series.some((s) => s.id?.startsWith('decisions:')));
  assert.match(await page.locator('p.note[data-decisions]').innerText(), /No decisions recorded/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the frame view shades the freezes of freezes.json, each with its length', { timeout: 300_000 }, async () => {
  const gcc = point((p) => p.params['policy'] === 'gcc' && trace(p).includes('drop'));
  // The stream's freezes.json, checked against DuckDB over frames.parquet: every wait of more than
  // the threshold between two pictures shown inside the window is one of its freezes (the window's
  // edges, which the SQL does not see, aside).
  const written = JSON.parse(readFileSync(join(dirOf(gcc), 'freezes.json'), 'utf8')) as { thresholdMs: number; freezes: { fromMs: number; toMs: number }[] };
  const [w0, w1] = gcc.timeline!.window.map((x) => x * 1000) as [number, number];
  const db = await openSetDatabase([set], { views: [] });
  try {
    const rows = (
      await db.conn.runAndReadAll(
        `SELECT prev, display FROM (SELECT display, lag(display) OVER (ORDER BY display) AS prev FROM read_parquet('${join(dirOf(gcc), 'frames.parquet')}') WHERE display IS NOT NULL AND NOT isnan(display) AND display >= ${w0} AND display < ${w1}) WHERE display - prev > ${written.thresholdMs} ORDER BY display`,
      )
    ).getRows();
    const inner = written.freezes.filter((f) => f.fromMs > w0 && f.toMs < w1);
    assert.deepEqual(
      inner.map((f) => [f.fromMs, f.toMs]),
      rows.map(([a, b]) => [Number(a), Number(b)]),
    );
  } finally {
    db.close();
  }
  // The view draws what the file says: a run without a freeze gets one planted, so there is a span to see.
  const freezes = written.freezes.length > 0 ? written.freezes : [{ fromMs: w0 + 500, toMs: w0 + 800 }];
  if (written.freezes.length === 0) writeFileSync(join(dirOf(gcc), 'freezes.json'), JSON.stringify({ thresholdMs: written.thresholdMs, freezes }));
  const { page, errors } = await newPage(browser);
  await page.goto(runUrl('frames', gcc));
  await waitDraw(page, 0);
  const o = await option(page, 'frames');
  const band = o.series.find((s) => s.id === 'freeze band 0');
  assert.ok(band?.markArea, 'the freezes are shaded on the latency plot');
  assert.deepEqual(
    band.markArea.data.map(([a, b]) => [a.xAxis, b.xAxis, a.name]),
    freezes.map((f) => [f.fromMs / 1000, f.toMs / 1000, 'freeze']),
  );
  assert.equal(await page.locator('p.note[data-freezes]').getAttribute('data-freezes'), String(freezes.length));
  const longest = [...freezes].sort((a, b) => b.toMs - b.fromMs - (a.toMs - a.fromMs))[0]!;
  const tip = await hoverAt(page, 'frames', (longest.fromMs + longest.toMs) / 2000, 150);
  await shot(page, 'frames-freezes');
  assert.match(tip, new RegExp(`freeze [\\d.]+ to [\\d.]+ s: ${Math.round(longest.toMs - longest.fromMs)} ms without a new picture`), tip);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a damaged controls.json is a problem of its run: named in its own panel, the rest drawn', { timeout: 300_000 }, async () => {
  const gcc = point((p) => p.params['policy'] === 'gcc' && trace(p).includes('flat'));
  const file = join(dirOf(gcc), 'controls.json');
  assert.ok(existsSync(file));
  writeFileSync(file, '[{"t": 12.5, "from": "policy", "bitr');
  const { page, errors } = await newPage(browser);
  await page.goto(runUrl('run', gcc));
  await waitDraw(page, 0);
  const panel = page.locator('.panel.problem[data-problem="controls.json"]');
  assert.match(await panel.innerText(), /controls\.json is not readable JSON: damaged or cut short/);
  assert.match(await panel.innerText(), /Not shown: the decisions/);
  assert.match(await page.locator('p.note[data-decisions]').innerText(), /The decisions could not be read \(controls\.json/);
  assert.ok(
    (await option(page, 'run.network')).series.some((s) => s.id?.endsWith(':capacity_bps')),
    'the network panel is still drawn',
  );
  await shot(page, 'run-network-damaged-controls');
  // A record of the wrong shape is named by its place and field.
  writeFileSync(file, JSON.stringify([{ t: 1, from: 'policy', bitrate: 'fast' }]));
  const m = (await (await fetch(`${server.url}api/run/marks?set=${encodeURIComponent(set.name)}&key=${gcc.key}&rep=1`)).json()) as RunMarksResponse;
  assert.equal(m.decisions, null);
  assert.match(m.problems[0]!.error, /controls\.json: \[0\]: 'bitrate' must be a number, not "fast"/);
  assert.throws(() => checkControls({}), /a list of decisions/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the matrix view plots a policy metric against policy and against net_trace (a path)', { timeout: 300_000 }, async () => {
  const { page, errors } = await newPage(browser);
  const metric = 'latency.p95';
  const pts = set.points().filter((p) => trace(p) !== '');
  for (const [x, s] of [
    ['policy', 'net_trace'],
    ['net_trace', 'policy'],
  ] as const) {
    await page.goto(`${server.url}?view=matrix&y=${metric}&x=${x}&s=${s}`);
    await waitDraw(page, 0);
    const o = (await option(page, 'matrix')) as unknown as { xAxis: { type: string; data?: string[] }[]; series: { name: string; type: string; data: { value: [string, number] }[] }[] };
    assert.equal(o.xAxis[0]!.type, 'category', `${x} is a category axis`);
    const want = new Map(pts.map((p) => [`${String(p.params[x])}|${String(p.params[s])}`, p.metrics[metric] as number]));
    await shot(page, `matrix-${x}-by-${s}`);
    // The schedule's point sets no trace: its group is left out of the comparison (each trace point is a group of its own).
    const got = new Map<string, number>();
    // The legend names the series parameter (`policy = gcc`): the value is after it.
    for (const ser of o.series.filter((q) => q.type === 'line')) for (const d of ser.data) got.set(`${d.value[0]}|${ser.name.replace(`${s} = `, '')}`, d.value[1]);
    for (const k of got.keys()) if (k.includes('null')) got.delete(k);
    assert.equal(got.size, want.size, `${[...got.keys()].join(', ')} vs ${[...want.keys()].join(', ')}`);
    for (const [k, v] of want) assert.ok(Math.abs(got.get(k)! - v) < 1e-9 * Math.max(1, v), `${k}: ${got.get(k)} vs ${v}`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
