// The run view and the frame view open a recorded run of the fixture set and plot what its Parquet
// files hold: the test reads the same files with DuckDB and compares what the charts were given.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { quoteString } from '../../src/store/database.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';
import { duckRows } from '../helpers/duck.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = process.env['SB_RUN_FIXTURE'] ?? join(root, 'test/fixtures/sets/stream-matrix');

type Series = { id?: string; name?: string; type?: string; data: unknown[]; lineStyle?: { type?: string } };
type Hook = { __sb: { charts: Record<string, { getOption(): { series: Series[]; dataZoom?: unknown[] } }>; draws: number; timings: Record<string, number> } };

/** The series a named chart was given. */
function chartSeries(name: string): Series[] {
  const c = (globalThis as unknown as Hook).__sb.charts[name];
  if (!c) throw new Error(`no chart ${name}`);
  return c.getOption().series.map((s) => ({ id: s.id, name: s.name, type: s.type, data: s.data, lineStyle: s.lineStyle }));
}

const query = duckRows;

const num = (v: unknown) => (v === null ? null : Number(v));
/** Pairs compared to 1e-9 (JSON and DuckDB both carry doubles; only the last bit may differ). */
function samePairs(got: unknown[], want: (number | null)[][], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} points plotted, ${want.length} in the file`);
  got.forEach((p, i) => {
    const [x, y] = p as [number, number | null];
    const wx = want[i]![0]!;
    const wy = want[i]![1] ?? null;
    assert.ok(Math.abs(x - wx) < 1e-9, `${what}[${i}]: t ${x} vs ${wx}`);
    if (wy === null || y === null) assert.equal(y, wy, `${what}[${i}] at t=${x}`);
    else assert.ok(Math.abs(y - wy) < 1e-9 * Math.max(1, Math.abs(wy)), `${what}[${i}]: ${y} vs ${wy}`);
  });
}

test("run view and frame view plot the run's own samples and frames", { timeout: 600_000, skip: existsSync(FIXTURE) ? false : `no fixture set at ${FIXTURE}` }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-runview-')), 'set');
  cpSync(FIXTURE, dir, { recursive: true });
  rmSync(join(dir, 'index'), { recursive: true, force: true });
  const set = ResultSet.open(dir);
  const runs = set.points().filter((r) => r.outcome.status === 'ok' && r.files.includes('frames.parquet') && r.files.includes('samples.parquet'));
  assert.ok(runs.length >= 2, 'the fixture has recorded runs with frames and samples');
  const [a, b] = [runs[0]!, runs[runs.length - 1]!];
  const pa = set.pointDir(a.key, a.rep);
  const pb = set.pointDir(b.key, b.rep);
  const server = await startServer([dir]);
  const browser = await openBrowser();
  try {
    const { page, errors } = await newPage(browser);
    const runParam = encodeURIComponent(`${set.name}/${a.key}/${a.rep}`);
    await page.goto(`${server.origin}/?view=run&run=${runParam}`);
    await waitDraw(page, 0);
    // Every sample of the client's CPU, at its time: a 2 s run is no longer than the panel is wide.
    const cpu = await page.evaluate(chartSeries, 'run.cpu');
    const client = cpu.find((s) => s.id === 'samples:client:cpu.busy_pct');
    assert.ok(client, `the cpu panel plots the client's CPU (it has ${cpu.map((s) => s.id).join(', ')})`);
    const want = (await query(`SELECT t, value FROM read_parquet(${quoteString(join(pa, 'samples.parquet'))}) WHERE role = 'client' AND name = 'cpu.busy_pct' ORDER BY t`)).map((r) => [num(r[0]), num(r[1])]);
    samePairs(client.data, want, 'client cpu.busy_pct');
    for (const role of ['guest', 'host', 'client'])
      assert.ok(
        cpu.some((s) => s.id === `samples:${role}:cpu.busy_pct`),
        `${role}'s CPU is plotted`,
      );
    await shot(page, 'run-view');

    // A second run overlaid, dashed, on its own run-relative times.
    const draws = await page.evaluate(() => (globalThis as unknown as Hook).__sb.draws);
    await page.selectOption('select[name=run2]', `${set.name}/${b.key}/${b.rep}`);
    await waitDraw(page, draws);
    const both = await page.evaluate(chartSeries, 'run.cpu');
    const second = both.find((s) => s.id === 'samples:client:cpu.busy_pct@2');
    assert.ok(second, 'the second run is overlaid');
    assert.equal(second.lineStyle?.type, 'dashed');
    const want2 = (await query(`SELECT t, value FROM read_parquet(${quoteString(join(pb, 'samples.parquet'))}) WHERE role = 'client' AND name = 'cpu.busy_pct' ORDER BY t`)).map((r) => [num(r[0]), num(r[1])]);
    samePairs(second.data, want2, 'second run client cpu.busy_pct');
    await shot(page, 'run-view-overlay');

    // Zoom as a user does (the chart's own dataZoom action): the window goes into the address,
    // and the series come again for it: the samples inside, and one beyond each edge.
    const [lo, hi] = [Number(want[Math.floor(want.length / 4)]![0]), Number(want[Math.floor(want.length / 2)]![0])];
    const before = await page.evaluate(() => (globalThis as unknown as Hook).__sb.draws);
    await page.evaluate(
      ([a, z]) => {
        const c = (globalThis as unknown as { __sb: { charts: Record<string, { dispatchAction(x: unknown): void }> } }).__sb.charts['run.cpu']!;
        c.dispatchAction({ type: 'dataZoom', startValue: a, endValue: z });
      },
      [lo, hi],
    );
    await waitDraw(page, before);
    const url = new URL(page.url());
    assert.equal(Number(url.searchParams.get('from')), Number(lo.toFixed(3)));
    assert.equal(Number(url.searchParams.get('to')), Number(hi.toFixed(3)));
    const zoomed = (await page.evaluate(chartSeries, 'run.cpu')).find((s) => s.id === 'samples:client:cpu.busy_pct')!;
    const from = Number(url.searchParams.get('from'));
    const to = Number(url.searchParams.get('to'));
    const first = want.findIndex((r) => r[0]! >= from);
    const last = want.findLastIndex((r) => r[0]! <= to);
    samePairs(zoomed.data, want.slice(Math.max(0, first - 1), last + 2), 'zoomed client cpu.busy_pct');
    await shot(page, 'run-view-zoomed');

    // The frame view: each stage of each frame, its size and its quality, as frames.parquet has them.
    await page.goto(`${server.origin}/?view=frames&run=${runParam}`);
    await waitDraw(page, 0);
    const fr = await page.evaluate(chartSeries, 'frames');
    const offset = num((await query(`SELECT median(e.t - f.capture_start / 1000) FROM read_parquet(${quoteString(join(pa, 'events.parquet'))}) e JOIN read_parquet(${quoteString(join(pa, 'frames.parquet'))}) f ON e.frame = f.frame WHERE e.stage = 'capture_start'`))[0]![0])!;
    const frames = await query(`SELECT capture_start / 1000 + ${offset}, enc_end - capture_end, recv_end - host_out, display - dec_end, bytes, psnr, key FROM read_parquet(${quoteString(join(pa, 'frames.parquet'))}) ORDER BY capture_start, frame`);
    assert.ok(frames.length > 10 && frames.length < 2000, `${frames.length} frames: all drawn, none reduced`);
    const series = (name: string) => {
      const s = fr.find((x) => x.name === name);
      assert.ok(s, `the frame view has ${name} (it has ${fr.map((x) => x.name).join(', ')})`);
      return s.data.map((d) => (Array.isArray(d) ? (d as unknown[]) : (d as { value: unknown[] }).value));
    };
    samePairs(
      series('encode'),
      frames.map((r) => [num(r[0]), num(r[1])]),
      'encode stage',
    );
    samePairs(
      series('downlink'),
      frames.map((r) => [num(r[0]), num(r[2])]),
      'downlink stage',
    );
    samePairs(
      series('display_wait'),
      frames.map((r) => [num(r[0]), num(r[3])]),
      'display_wait stage',
    );
    samePairs(
      series('size'),
      frames.filter((r) => r[6] !== 1).map((r) => [num(r[0]), num(r[4])]),
      'size',
    );
    // Keyframes are marked: their sizes are a series of their own colour.
    samePairs(
      series('keyframe size'),
      frames.filter((r) => r[6] === 1).map((r) => [num(r[0]), num(r[4])]),
      'keyframe size',
    );
    assert.ok(
      frames.some((r) => r[6] === 1),
      'the run has a keyframe',
    );
    samePairs(
      series('PSNR'),
      frames.map((r) => [num(r[0]), num(r[5])]),
      'PSNR',
    );
    await shot(page, 'frame-view');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
