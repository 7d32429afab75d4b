// The run view's details and the exported SVGs, in the real browser over the recorded fixture sets:
// every axis in the unit the catalogue declares for what it draws (never '1/s'), a watched process's
// line ending where the run's own samples say its process ended, the note when the roles shared a
// machine (as the run's conditions recorded it) and none otherwise, and SVG files that keep the
// axes' units, the legends and the parallel coordinates' brushes.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { findMetric } from '../../src/config/declare.ts';
import { declaredMetrics } from '../../src/config/registry.ts';
import { quoteString } from '../../src/store/database.ts';
import type { PointRecord } from '../../src/store/records.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import type { UiServer } from '../../src/server/server.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';
import { duckRows } from '../helpers/duck.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = '/tmp/shots/hD';

type AxisOpt = { name?: string };
type SeriesOpt = { id?: string; name?: string; yAxisIndex?: number; data: unknown[] };
type Opt = { series: SeriesOpt[]; yAxis: AxisOpt[] | AxisOpt; xAxis: AxisOpt[] | AxisOpt };
type Hook = { __sb: { charts: Record<string, { getOption(): Opt }> } };

let work: string;
let matrixDir: string;
let physicsDir: string;
let server: UiServer;
let browser: Browser;

/** The id of each run of a copied set, as the view's address names it. */
const runParam = (set: ResultSet, r: PointRecord) => encodeURIComponent(`${set.name}/${r.key}/${r.rep}`);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'sb-rundetails-'));
  matrixDir = join(work, 'stream-matrix');
  physicsDir = join(work, 'stream-physics');
  // Copies: reading a set writes its index, and one point of the physics set is changed below.
  cpSync(join(root, 'test/fixtures/sets/stream-matrix'), matrixDir, { recursive: true });
  cpSync(join(root, 'test/fixtures/sets/stream-physics'), physicsDir, { recursive: true });
  rmSync(join(physicsDir, 'index'), { recursive: true, force: true });
  server = await startServer([matrixDir, physicsDir]);
  browser = await openBrowser();
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await browser?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const query = duckRows;

/** Every chart of the run view: its name and its option. */
async function runCharts(page: Page): Promise<[string, Opt][]> {
  return page.evaluate(() => {
    const cs = (globalThis as unknown as Hook).__sb.charts;
    return Object.keys(cs)
      .filter((k) => k.startsWith('run.'))
      .map((k) => {
        const o = cs[k]!.getOption();
        return [k, { series: o.series.map((s) => ({ id: s.id, name: s.name, yAxisIndex: s.yAxisIndex, data: s.data })), yAxis: o.yAxis, xAxis: o.xAxis }] as [string, Opt];
      });
  });
}

const axes = (a: AxisOpt[] | AxisOpt) => (Array.isArray(a) ? a : [a]);

/** The file a download button gives. */
async function saved(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(button).first().click()]);
  return { name: dl.suggestedFilename(), text: readFileSync(await dl.path(), 'utf8') };
}

test("the run view's axes carry the catalogue's units, and a process's line ends with its process", { timeout: 600_000 }, async () => {
  const set = ResultSet.open(matrixDir);
  const file = (r: PointRecord) => quoteString(join(set.pointDir(r.key, r.rep), 'samples.parquet'));
  // A run whose guest process ended while the agents still sampled: its count fell to 0 before the last sample.
  let run: PointRecord | undefined;
  let endT = NaN;
  for (const r of set.points().filter((x) => x.outcome.status === 'ok' && x.files.includes('samples.parquet'))) {
    const [row] = await query(`SELECT max(t) FILTER (WHERE value > 0), max(t) FROM read_parquet(${file(r)}) WHERE role = 'guest' AND name = 'proc.guest.procs'`);
    if (row && Number(row[0]) < Number(row[1])) {
      run = r;
      endT = Number(row[0]);
      break;
    }
  }
  assert.ok(run, 'the fixture has a run whose guest process ended before the sampling did');
  const ids = [
    'samples:guest:cpu.busy_pct',
    'samples:client:cpu.busy_pct',
    'samples:client:cpu.ctxt_per_s',
    'samples:client:load.1',
    'samples:client:mem.used_mb',
    'samples:client:net.lo.rx_bytes_per_s',
    'samples:guest:net.lo.tx_bytes_per_s',
    'samples:client:net.lo.rx_packets_per_s',
    'samples:guest:proc.guest.cpu_pct',
    'samples:guest:proc.guest.rss_mb',
    'samples:host:proc.host.cpu_pct',
    'frames:client:latency_ms',
  ];
  const { page, errors } = await newPage(browser);
  await page.goto(`${server.origin}/?view=run&run=${runParam(set, run)}&series=${encodeURIComponent(ids.join(','))}`);
  await waitDraw(page, 0);
  await page.screenshot({ path: join(SHOTS, 'run-view-units.png'), fullPage: true });
  await shot(page, 'run-details-units');

  // Each series' axis is named by the unit its declaration gives (frames: the frame column latency_ms).
  const decls = declaredMetrics('stream');
  const charts = await runCharts(page);
  const seen = new Set<string>();
  for (const [name, o] of charts) {
    for (const s of o.series) {
      if (!s.id || !ids.includes(s.id)) continue;
      seen.add(s.id);
      const metric = s.id.slice(s.id.lastIndexOf(':') + 1);
      const unit = findMetric(decls, metric, s.id.startsWith('frames:') ? 'frame' : 'series')?.unit;
      const axis = axes(o.yAxis)[s.yAxisIndex ?? 0]!.name ?? '';
      if (unit) assert.equal(axis, unit, `${name}: ${s.id} is in ${unit} (the catalogue), its axis says '${axis}'`);
      else assert.match(axis, /no unit/, `${name}: ${s.id} has no declared unit, and its axis says so`);
    }
    for (const a of axes(o.yAxis)) assert.notEqual(a.name, '1/s', `${name}: no axis in '1/s'`);
  }
  assert.deepEqual([...seen].sort(), [...ids].sort(), 'every series asked is drawn');
  assert.equal(findMetric(decls, 'net.lo.rx_bytes_per_s', 'series')?.unit, 'B/s', 'the catalogue declares bytes per second as B/s');

  // The guest process: every sample while it lived, none drawn after its count fell to 0 (nulls, no line).
  const [, proc] = charts.find(([, o]) => o.series.some((s) => s.id === 'samples:guest:proc.guest.cpu_pct'))!;
  const pts = proc.series.find((s) => s.id === 'samples:guest:proc.guest.cpu_pct')!.data as [number, number | null][];
  const alive = (await query(`SELECT c.t, c.value FROM read_parquet(${file(run)}) c JOIN read_parquet(${file(run)}) p ON p.role = c.role AND p.t = c.t AND p.name = 'proc.guest.procs' WHERE c.role = 'guest' AND c.name = 'proc.guest.cpu_pct' AND p.value > 0 ORDER BY c.t`)).map(
    (r) => [Number(r[0]), Number(r[1])],
  );
  const drawn = pts.filter((p) => p[1] !== null);
  assert.equal(drawn.length, alive.length, 'one point per sample of the living process');
  drawn.forEach((p, i) => {
    assert.ok(Math.abs(p[0] - alive[i]![0]!) < 1e-9 && Math.abs(p[1]! - alive[i]![1]!) < 1e-9, `point ${i}: ${p.join(',')} vs ${alive[i]!.join(',')}`);
  });
  assert.ok(Math.abs(drawn[drawn.length - 1]![0] - endT) < 1e-9, `the line's last point is the last sample with the process alive (${endT} s)`);
  const afterEnd = await query(`SELECT count(*), max(value) FROM read_parquet(${file(run)}) WHERE role = 'guest' AND name = 'proc.guest.cpu_pct' AND t > ${endT}`);
  assert.ok(Number(afterEnd[0]![0]) > 0, 'the agent wrote samples of the ended process (0 %) after its end');
  assert.ok(
    pts.filter((p) => p[0] > endT).every((p) => p[1] === null),
    'after its end, no value is drawn',
  );

  // The exported SVG of the network panel keeps its unit, its prefixed ticks and its legend.
  const netPanel = `.panel:has(h3:text-is("net (B/s)"))`;
  const svg = await saved(page, `${netPanel} button[data-export=svg]`);
  assert.match(svg.text, /^<svg/);
  assert.ok(svg.text.includes('>B/s<'), 'the axis name, B/s, is in the SVG');
  assert.match(svg.text, />[\d.]+ [kMG]?B\/s</, 'ticks are prefixed byte rates');
  for (const legend of ['client net.lo.rx_bytes_per_s', 'guest net.lo.tx_bytes_per_s']) assert.ok(svg.text.includes(legend), `the legend entry '${legend}' is in the SVG`);
  assert.ok(!svg.text.includes('1/s'), 'no 1/s in the SVG');

  // The frame view: its axes in the frame columns' declared units.
  await page.goto(`${server.origin}/?view=frames&run=${runParam(set, run)}`);
  await waitDraw(page, 0);
  const fr = await page.evaluate(() => (globalThis as unknown as Hook).__sb.charts['frames']!.getOption().yAxis as AxisOpt[]);
  const names = fr.map((a) => a.name);
  for (const [label, column] of [
    ['latency', 'latency_ms'],
    ['size', 'bytes'],
    ['PSNR', 'psnr'],
    ['SSIM', 'ssim'],
  ] as const) {
    const unit = findMetric(decls, column, 'frame')?.unit;
    assert.ok(unit, `the catalogue declares the unit of ${column}`);
    assert.ok(names.includes(`${label} (${unit})`), `the frame view's axes ${names.join(' | ')} include ${label} (${unit})`);
  }
  await page.screenshot({ path: join(SHOTS, 'frame-view-units.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test("the note when the run's roles shared a machine, as its conditions recorded it, and none otherwise", { timeout: 600_000 }, async () => {
  const set = ResultSet.open(physicsDir);
  const ok = set.points().filter((r) => r.outcome.status === 'ok');
  const sharing = ok.find((r) => r.conditions?.found.some((c) => c.code === 'roles_share_machine'));
  assert.ok(sharing, 'the physics set was recorded with its roles on one machine');
  // Another point rewritten as if each role had had its own machine: its conditions say nothing of sharing.
  const apart = ok.find((r) => r !== sharing)!;
  const pj = join(set.pointDir(apart.key, apart.rep), 'point.json');
  const rec = JSON.parse(readFileSync(pj, 'utf8')) as PointRecord;
  rec.conditions = {
    ...rec.conditions!,
    found: rec.conditions!.found.filter((c) => c.code !== 'roles_share_machine'),
    placement: { roles: { guest: 0, host: 1, client: 2 }, machines: ['g', 'h', 'c'].map((h) => ({ hostname: h, bootId: `boot-${h}`, cores: 2 })) },
  };
  writeFileSync(pj, JSON.stringify(rec, null, 2));
  const reopened = ResultSet.open(physicsDir);
  const { page, errors } = await newPage(browser);

  await page.goto(`${server.origin}/?view=run&run=${runParam(reopened, sharing)}`);
  await waitDraw(page, 0);
  const note = page.locator('[data-shared]');
  assert.equal(await note.isVisible(), true, 'the note is shown');
  const text = (await note.textContent()) ?? '';
  for (const c of sharing.conditions!.found.filter((x) => x.code === 'roles_share_machine')) assert.ok(text.includes(c.reason), `the note says what the conditions recorded: "${c.reason}" (it says "${text}")`);
  await page.screenshot({ path: join(SHOTS, 'run-view-shared-machine.png'), fullPage: true });

  await page.goto(`${server.origin}/?view=run&run=${runParam(reopened, apart)}`);
  await waitDraw(page, 0);
  assert.equal(await page.locator('[data-shared]').isVisible(), false, 'no note for roles on machines of their own');
  // A record made before conditions were checked says nothing about placement: no note either.
  const m = ResultSet.open(matrixDir);
  const old = m.points().find((r) => r.outcome.status === 'ok')!;
  assert.equal(old.conditions, undefined);
  await page.goto(`${server.origin}/?view=run&run=${runParam(m, old)}`);
  await waitDraw(page, 0);
  assert.equal(await page.locator('[data-shared]').isVisible(), false, 'no note for a record that kept no conditions');
  assert.deepEqual(errors, []);
});

test('exported SVGs keep the legend with its title and the parallel coordinates keep their brushes', { timeout: 600_000 }, async () => {
  const { page, errors } = await newPage(browser);
  const set = ResultSet.open(matrixDir);
  // The matrix view: the legend names its parameter (fps = 15), the y axis the metric's unit.
  await page.goto(`${server.origin}/?view=matrix&c.set=v:${encodeURIComponent(set.name)}&y=latency.p50&x=bitrate&s=fps`);
  await waitDraw(page, 0);
  const svg = await saved(page, 'button[data-export=svg]');
  const unit = findMetric(declaredMetrics('stream'), 'latency.p50', 'summary')?.unit;
  assert.ok(svg.text.includes(`latency.p50 (${unit!})`), `the y axis with its unit (${unit!}) is in the SVG`);
  const fps = [...new Set(set.points().map((r) => String(r.params['fps'])))];
  assert.ok(fps.length >= 2, 'the set varies fps');
  for (const v of fps) assert.ok(svg.text.includes(`fps = ${v}`), `the legend entry 'fps = ${v}' is in the SVG`);
  await page.screenshot({ path: join(SHOTS, 'matrix-legend.png'), fullPage: true });

  // Parallel coordinates with a brush on a metric axis and one on a categorical axis.
  await page.goto(`${server.origin}/?view=parallel`);
  await page.waitForFunction(() => (globalThis as unknown as { __sbParallel?: unknown }).__sbParallel !== undefined, undefined, { timeout: 60_000 });
  const geo = await page.evaluate(() => (globalThis as unknown as { __sbParallel: { geometry(): { name: string; categories?: string[] }[] } }).__sbParallel.geometry());
  assert.ok(
    geo.some((g) => g.name === 'latency.p95'),
    `latency.p95 is an axis (${geo.map((g) => g.name).join(', ')})`,
  );
  const brush = 'latency.p95~20~200,codec~=h264';
  await page.goto(`${server.origin}/?view=parallel&pc.brush=${encodeURIComponent(brush)}&pc.colour=latency.p95`);
  await page.waitForFunction(() => (globalThis as unknown as { __sbParallel?: { brushes: unknown[] } }).__sbParallel?.brushes.length === 2, undefined, { timeout: 60_000 });
  const pc = await saved(page, 'button[data-export=svg]');
  writeFileSync(join(SHOTS, 'parallel-export.svg'), pc.text);
  const rects = [...pc.text.matchAll(/<rect class="brush" data-axis="([^"]+)" x="[\d.-]+" y="([\d.]+)" width="14" height="([\d.]+)"/g)].map((m) => ({ axis: m[1], y: Number(m[2]), h: Number(m[3]) }));
  assert.deepEqual(rects.map((r) => r.axis).sort(), ['codec', 'latency.p95'], 'one rectangle per brush, on its axis');
  assert.ok(
    rects.every((r) => r.h > 0),
    'each brush has a height',
  );
  assert.ok(pc.text.includes('20 to 200 ms'), "the metric brush's range, in its unit, is written beside it");
  assert.match(pc.text, />\(ms\)( log)?</, "a metric axis' unit is in the SVG");
  assert.ok(pc.text.includes('latency.p95 (ms)') && pc.text.includes('colour'), 'the colour legend names its metric and unit');
  await page.screenshot({ path: join(SHOTS, 'parallel-brushed.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
