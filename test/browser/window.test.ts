// One recorded window for every figure (issue 18): a real stream point with a warm-up, recorded by
// this test, opened in the run view and the frame view. The frame view's late count is the
// point's frames.late (warm-up frames drawn apart, their late ones counted apart); the run view
// shades the warm-up and marks the window where point.json's timeline puts them, and draws the
// host process, the relay's queue and the frames over the same seconds. A set recorded before the
// timeline (test/fixtures/sets/old-queue) gets no invented window, and its queue lands with its
// frames too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { ResultSet } from '../../src/store/resultset.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(root, 'bin/streambench.js');
const WARM = 'warm-up (not in the figures)';

// 1 s of warm-up, 2 s recorded; a 20 ms one-way delay and late_ms 20 ms, so every frame shown is
// late, those of the warm-up too; a 1 Mbit/s link so that the relay's queue is recorded.
const BENCHMARK = `name: window-test
workload: {type: stream, scene: drag, codec: h264, resolution: 320x180, fps: 30, bitrate: 300k, net_rate: 1M, net_delay: 20ms}
matrix:
  late_ms: [20ms]
warmup: 1s
duration: 2s
`;

type MarkItem = { xAxis?: number; name?: string };
type Series = { id?: string; name?: string; type?: string; data: unknown[]; markArea?: { data?: MarkItem[][] }; markLine?: { data?: MarkItem[] } };
type Hook = { __sb: { charts: Record<string, { getOption(): { series: Series[] } }>; draws: number } };

/** Every series of a named chart, with its marks. */
function chartSeries(name: string): Series[] {
  const c = (globalThis as unknown as Hook).__sb.charts[name];
  if (!c) throw new Error(`no chart ${name} (there are ${Object.keys((globalThis as unknown as Hook).__sb.charts).join(', ')})`);
  return c.getOption().series.map((s) => ({ id: s.id, name: s.name, type: s.type, data: s.data, markArea: s.markArea, markLine: s.markLine }));
}

const xs = (s: Series) => s.data.map((d) => (Array.isArray(d) ? d : (d as { value: unknown[] }).value)[0] as number);

/** The data attributes of the view's status line (the element carrying data-<attr>). */
async function statusData(page: Page, attr: string): Promise<Record<string, string>> {
  return page.evaluate((a) => {
    const d = (globalThis as unknown as { document: { querySelector(s: string): { dataset: Record<string, string> } | null } }).document;
    return { ...(d.querySelector(`[data-${a}]`)?.dataset ?? {}) };
  }, attr);
}

test('warm-up and recorded window: frame view counts late frames as frames.late, run view shades the warm-up and aligns every series', { timeout: 900_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sb-window-'));
  const file = join(tmp, 'window.yaml');
  writeFileSync(file, BENCHMARK);
  const setDir = join(tmp, 'set');
  await promisify(execFile)(process.execPath, [CLI, 'run', file, '--results', setDir], { timeout: 600_000, maxBuffer: 16 << 20 });
  const [pointName] = readdirSync(join(setDir, 'points'));
  const point = JSON.parse(readFileSync(join(setDir, 'points', pointName!, 'point.json'), 'utf8')) as {
    key: string;
    rep: number;
    outcome: { status: string };
    metrics: Record<string, number>;
    timeline?: { warmup?: [number, number]; window: [number, number] };
  };
  assert.equal(point.outcome.status, 'ok');
  const tl = point.timeline;
  assert.ok(tl?.warmup, 'the point records its warm-up');
  const old = join(tmp, 'old-queue');
  cpSync(join(root, 'test/fixtures/sets/old-queue'), old, { recursive: true });

  const server = await startServer([setDir, old]);
  const browser = await openBrowser();
  try {
    const { page, errors } = await newPage(browser);
    const run = encodeURIComponent(`${ResultSet.open(setDir).name}/${point.key}/${point.rep}`);

    // The frame view: late frames of the window counted as frames.late, the warm-up's apart.
    await page.goto(`${server.origin}/?view=frames&run=${run}`);
    await waitDraw(page, 0);
    const st = await statusData(page, 'late');
    assert.equal(Number(st['late']), point.metrics['frames.late'], `the frame view says ${st['late']} late, the point's frames.late is ${point.metrics['frames.late']}`);
    assert.ok(Number(st['lateWarmup']) > 0, 'the warm-up has late frames (the case where a count over all frames is wrong)');
    const fr = await page.evaluate(chartSeries, 'frames');
    const late = fr.find((s) => s.id === 'late')!;
    assert.equal(late.data.length, point.metrics['frames.late'], "late marks: the window's late frames");
    const warm = fr.filter((s) => s.name === WARM);
    assert.ok(warm.length > 0, 'warm-up frames have a legend entry of their own');
    const warmLate = fr.find((s) => s.id === 'late (warm-up)')!;
    assert.equal(warmLate.name, WARM);
    assert.equal(warmLate.data.length, Number(st['lateWarmup']));
    const firstStage = fr.find((s) => s.name === 'capture')!;
    // The warm-up's capture stage: its first bar series after the (empty) band carriers.
    const warmStage = fr.find((s) => s.name === WARM && s.type === 'bar' && s.data.length > 0)!;
    assert.equal(warmStage.data.length, Number(st['warmupFrames']));
    assert.equal(firstStage.data.length, point.metrics['frames.sent'], "the window's frames drawn in colour: those frames.sent counts");
    assert.ok(Math.max(...xs(warmStage)) < Math.min(...xs(firstStage)), "the warm-up frames come before the window's");
    const band = fr.find((s) => s.id === 'warm-up band 0')!.markArea!.data![0]!;
    assert.deepEqual([band[0]!.xAxis, band[1]!.xAxis], tl.warmup, "the frame view's warm-up band is the timeline's");
    // A frame belongs to the window its capture tick was due in; its capture starts within a tick of that (1/30 s here).
    const tick = 1 / 30;
    const inside = (ts: number[], [a, b]: readonly [number, number]) => Math.min(...ts) >= a - tick && Math.max(...ts) < b + tick;
    assert.ok(inside(xs(warmStage), tl.warmup), `warm-up frames inside the warm-up (${Math.min(...xs(warmStage))} to ${Math.max(...xs(warmStage))} s)`);
    assert.ok(inside(xs(firstStage), tl.window), `window frames inside the window (${Math.min(...xs(firstStage))} to ${Math.max(...xs(firstStage))} s)`);
    const frameSpan = [Math.min(...xs(warmStage)), Math.max(...xs(firstStage))] as const;
    await shot(page, 'window-frame-view');

    // The run view: the warm-up band and the window's edges on every panel; host process, relay queue and frames over the same seconds.
    await page.goto(`${server.origin}/?view=run&run=${run}`);
    await waitDraw(page, 0);
    const rst = await statusData(page, 'window');
    assert.equal(rst['warmup'], tl.warmup.join(','));
    assert.equal(rst['window'], tl.window.join(','));
    for (const chart of ['run.cpu', 'run.proc', 'run.workload', 'run.frames']) {
      const ss = await page.evaluate(chartSeries, chart);
      const areas = ss[0]!.markArea?.data ?? [];
      const w = areas.find((a) => a[0]?.name === 'warm-up');
      assert.ok(w, `${chart}: the warm-up is shaded`);
      assert.deepEqual([w[0]!.xAxis, w[1]!.xAxis], tl.warmup, `${chart}: the band's edges are timeline.warmup`);
      assert.deepEqual(
        (ss[0]!.markLine?.data ?? []).map((l) => l.xAxis),
        tl.window,
        `${chart}: the window's edges`,
      );
    }
    const queue = (await page.evaluate(chartSeries, 'run.workload')).find((s) => s.id === 'timeseries:host:queue_bytes')!;
    const q = xs(queue);
    assert.ok(q[0]! >= tl.warmup[0] - 0.5 && q[0]! <= frameSpan[0] + 1, `the relay queue starts at ${q[0]} s, the stream at ${tl.warmup[0]} s, the first frame at ${frameSpan[0]} s`);
    assert.ok(q[q.length - 1]! <= tl.window[1] + 2, `the queue ends at ${q[q.length - 1]} s, the window at ${tl.window[1]} s`);
    const host = xs((await page.evaluate(chartSeries, 'run.proc')).find((s) => s.id === 'samples:host:proc.host.cpu_pct')!);
    assert.ok(
      host.some((t) => t >= frameSpan[0] && t <= frameSpan[1]),
      'the host process was sampled while the frames went through it',
    );
    const lat = xs((await page.evaluate(chartSeries, 'run.frames')).find((s) => s.id === 'frames:client:latency_ms')!);
    assert.ok(Math.abs(lat[0]! - frameSpan[0]) < 1e-9, `the frames panel starts with the first frame (${lat[0]} vs ${frameSpan[0]})`);
    await shot(page, 'window-run-view');

    // A set recorded before the timeline: no window drawn, a note; its queue with its frames.
    const oldRun = readdirSync(join(old, 'points'))[0]!.replace(/-r(\d+)$/, '/$1');
    await page.goto(`${server.origin}/?view=run&run=${encodeURIComponent(`old-queue/${oldRun}`)}`);
    await waitDraw(page, 0);
    const ost = await statusData(page, 'window');
    assert.equal(ost['window'], 'none');
    assert.match((await page.locator('[data-window]').textContent()) ?? '', /Window not recorded/);
    for (const chart of ['run.cpu', 'run.workload']) {
      const ss = await page.evaluate(chartSeries, chart);
      assert.equal((ss[0]!.markArea?.data ?? []).length, 0, `${chart}: nothing shaded`);
      assert.equal((ss[0]!.markLine?.data ?? []).length, 0, `${chart}: no window edges`);
    }
    const oq = xs((await page.evaluate(chartSeries, 'run.workload')).find((s) => s.id === 'timeseries:host:queue_bytes')!);
    const ol = xs((await page.evaluate(chartSeries, 'run.frames')).find((s) => s.id === 'frames:client:latency_ms')!);
    assert.ok(Math.abs(oq[0]! - ol[0]!) < 1, `old record: the queue starts at ${oq[0]} s, the frames at ${ol[0]} s`);
    await shot(page, 'window-run-view-old');
    await page.goto(`${server.origin}/?view=frames&run=${encodeURIComponent(`old-queue/${oldRun}`)}`);
    await waitDraw(page, 0);
    const oldMetrics = JSON.parse(readFileSync(join(old, 'points', readdirSync(join(old, 'points'))[0]!, 'point.json'), 'utf8')) as { metrics: Record<string, number> };
    assert.equal(Number((await statusData(page, 'late'))['late']), oldMetrics.metrics['frames.late']);
    await shot(page, 'window-frame-view-old');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
