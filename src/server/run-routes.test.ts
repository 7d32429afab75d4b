// The run and frame routes over a recorded set (test/fixtures/sets/old-stream, copied: reading a
// set writes its index): what they answer equals the run's Parquet files read by DuckDB, and a
// request naming something the set lacks is refused with a line saying what, never an SQL error.
import './server.ts';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteString } from '../store/database.ts';
import { ResultSet } from '../store/resultset.ts';
import type { FramesResponse, LiveResponse, LiveSeriesResponse, RunInfoResponse, RunSeriesResponse } from './api-types.ts';
import { LiveFeed, attachLive, routes as liveRoutes } from './routes/live.ts';
import { parseGaps, routes } from './routes/run.ts';
import { ApiFailure, type Route } from './route.ts';
import { LoadedSets } from './sets.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/sets/old-stream', import.meta.url));

function route(list: Route[], path: string): Route {
  return list.find((r) => r.path === path)!;
}

async function rows(sql: string): Promise<unknown[][]> {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows();
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

test('run routes answer what the run recorded, and refuse what it lacks', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-runroutes-')), 'set');
  cpSync(FIXTURE, dir, { recursive: true });
  const set = ResultSet.open(dir);
  const sets = new LoadedSets([set]);
  const rec = set.points()[0]!;
  const pdir = set.pointDir(rec.key, rec.rep);
  const ask = <T>(path: string, q: Record<string, string>) => route(routes, path).handle({ params: {}, query: new URLSearchParams(q), sets }) as Promise<T>;
  const base = { set: set.name, key: rec.key, rep: String(rec.rep) };
  try {
    const info = await ask<RunInfoResponse>('/api/run', base);
    const want = await rows(`SELECT DISTINCT role, name FROM read_parquet(${quoteString(join(pdir, 'samples.parquet'))}) ORDER BY ALL`);
    assert.deepEqual(
      info.series
        .filter((s) => s.source === 'samples')
        .map((s) => [s.role, s.name])
        .sort(),
      want.map((r) => [r[0], r[1]]),
    );
    assert.equal(info.series.find((s) => s.name === 'cpu.busy_pct')?.unit, '%', 'units come from the declarations');
    assert.equal(info.frames?.stages.length, 9);
    assert.equal(info.runs.length, 2);

    // A series decimated to 10 px: at most two samples per column, and its extremes kept.
    const id = `samples:client:cpu.busy_pct`;
    const s = await ask<RunSeriesResponse>('/api/run/series', { ...base, ids: id, width: '10' });
    const all = await rows(`SELECT min(value), max(value), count(*) FROM read_parquet(${quoteString(join(pdir, 'samples.parquet'))}) WHERE role = 'client' AND name = 'cpu.busy_pct'`);
    const got = s.series[0]!;
    assert.equal(got.n, Number(all[0]![2]));
    assert.ok(got.reduced && got.columns.t.length <= 2 * 10 + 2);
    const vals = got.columns.v.filter((v): v is number => v !== null);
    assert.equal(Math.min(...vals), all[0]![0]);
    assert.equal(Math.max(...vals), all[0]![1]);

    // Frames: every frame, each stage the difference of its columns.
    const f = await ask<FramesResponse>('/api/run/frames', { ...base, width: '1000' });
    const fr = await rows(`SELECT frame, enc_end - capture_end FROM read_parquet(${quoteString(join(pdir, 'frames.parquet'))}) ORDER BY capture_start, frame`);
    assert.deepEqual(
      f.columns['frame'],
      fr.map((r) => r[0]),
    );
    assert.deepEqual(
      f.columns['stage.encode'],
      fr.map((r) => r[1]),
    );
    assert.equal(f.timeBase, 'run');

    const refused = async (q: Record<string, string>, path: string, status: number, re: RegExp) => {
      await assert.rejects(ask(path, q), (e: unknown) => e instanceof ApiFailure && e.status === status && re.test(e.message) && !e.message.includes('\n'));
    };
    await refused({ ...base, rep: 'x' }, '/api/run', 400, /rep 'x' is not a repetition/);
    await refused({ ...base, rep: '9' }, '/api/run', 404, /has no run .* r9/);
    await refused({ ...base, set: 'nope' }, '/api/run', 404, /no open result set 'nope'/);
    await refused({ ...base, ids: "samples:client:x' OR 1=1 --" }, '/api/run/series', 404, /has no series/);
    await refused({ ...base, ids: id, width: '0' }, '/api/run/series', 400, /width '0'/);
    await refused({ ...base, ids: id, from: '5', to: '1' }, '/api/run/series', 400, /must be after/);
  } finally {
    await sets.close();
  }
});

const OLD_QUEUE = fileURLToPath(new URL('../../test/fixtures/sets/old-queue', import.meta.url));

test("a record without timeline: frames and the relay queue on the point's clock by the capture events; late counted as frames.late, warm-up apart", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-runroutes-')), 'set');
  cpSync(OLD_QUEUE, dir, { recursive: true });
  const set = ResultSet.open(dir);
  const sets = new LoadedSets([set]);
  const rec = set.points()[0]!;
  assert.equal(rec.timeline, undefined, 'the fixture predates the timeline');
  const pdir = set.pointDir(rec.key, rec.rep);
  const ask = <T>(path: string, q: Record<string, string>) => route(routes, path).handle({ params: {}, query: new URLSearchParams(q), sets }) as Promise<T>;
  const base = { set: set.name, key: rec.key, rep: String(rec.rep) };
  try {
    const info = await ask<RunInfoResponse>('/api/run', base);
    assert.equal(info.timeline, null, 'no window is invented for a record without one');
    const offset = Number((await rows(`SELECT median(e.t - f.capture_start / 1000) FROM read_parquet(${quoteString(join(pdir, 'events.parquet'))}) e JOIN read_parquet(${quoteString(join(pdir, 'frames.parquet'))}) f ON e.frame = f.frame WHERE e.stage = 'capture_start'`))[0]![0]);
    assert.ok(offset > 5, `the stream began ${offset} s after the point: far enough to tell the clocks apart`);
    assert.ok(Math.abs(info.frames!.offsetS! - offset) < 1e-9);
    const q = info.series.find((x) => x.name === 'queue_bytes');
    assert.ok(q, 'the relay queue is listed');
    assert.equal(q.clock, undefined, "placed on the point's clock");
    const raw = await rows(`SELECT t, queue_bytes FROM read_parquet(${quoteString(join(pdir, 'timeseries.parquet'))}) ORDER BY t`);
    assert.ok(Math.abs(q.from - (Number(raw[0]![0]) + offset)) < 1e-9, `queue from ${q.from}`);
    const s = await ask<RunSeriesResponse>('/api/run/series', { ...base, ids: q.id, width: '4000' });
    assert.equal(s.series[0]!.columns.t.length, raw.length, 'every queue sample (no decimation at this width)');
    s.series[0]!.columns.t.forEach((t, i) => assert.ok(Math.abs(t - (Number(raw[i]![0]) + offset)) < 1e-9, `queue sample ${i}: ${t}`));
    // The queue, the frames and the host process overlap: the queue's first sample is no earlier than a second before the first frame.
    const f = await ask<FramesResponse>('/api/run/frames', { ...base, width: '1000' });
    assert.ok(f.range && q.from >= f.range[0] - 1 && q.from <= f.range[1], `queue from ${q.from}, frames ${f.range?.join(' to ')}`);
    const lat = info.series.find((x) => x.id === 'frames:client:latency_ms');
    assert.ok(lat && lat.from === f.range[0] && lat.to === f.range[1], "the frames' latency is a run series at the frame view's times");
    const host = info.series.find((x) => x.id === 'samples:host:proc.host.cpu_pct');
    assert.ok(host && host.from <= f.range[1] && host.to >= f.range[0], 'the host process was sampled while the frames went through it');

    // Late: decoded, shown, more than late_ms (20 ms here) after capture; frames.late counts the window only.
    const want = await rows(`SELECT sum((warmup = 0)::INT), sum((warmup = 1)::INT) FROM read_parquet(${quoteString(join(pdir, 'frames.parquet'))}) WHERE shown = 1 AND dropped = 0 AND latency_ms > 20`);
    assert.equal(f.lateMs, 20);
    assert.equal(f.lateFrom, 'threshold');
    assert.equal(f.counts.late, rec.metrics['frames.late'], `late in the window: ${f.counts.late}, frames.late ${String(rec.metrics['frames.late'])}`);
    assert.equal(f.counts.late, Number(want[0]![0]));
    assert.equal(f.counts.lateWarmup, Number(want[0]![1]));
    assert.ok(f.counts.lateWarmup > 0, "the fixture's warm-up has late frames");
    assert.equal(f.counts.warmup, (f.columns['warmup'] as number[]).filter((v) => v === 1).length);
    assert.ok(f.warmupRange && f.warmupRange[0] === f.range[0] && f.warmupRange[1] < f.range[1]);
  } finally {
    await sets.close();
  }
});

test('late_ms set in the workload block of the benchmark file (not a parameter) is the threshold the frame view uses', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-runroutes-')), 'set');
  cpSync(OLD_QUEUE, dir, { recursive: true });
  // The same point as if late_ms had been written in the workload block: the record has no such parameter.
  const pointJson = join(dir, 'points', 'd29b1e013304-r1', 'point.json');
  const p = JSON.parse(readFileSync(pointJson, 'utf8')) as { params: Record<string, unknown>; typed: Record<string, unknown> };
  delete p.params['late_ms'];
  delete p.typed['late_ms'];
  writeFileSync(pointJson, JSON.stringify(p));
  const bench = join(dir, 'benchmarks', readdirSync(join(dir, 'benchmarks'))[0]!);
  writeFileSync(
    bench,
    readFileSync(bench, 'utf8')
      .replace('net_delay: 20ms}', 'net_delay: 20ms, late_ms: 20ms}')
      .replace(/matrix:\n  late_ms: \[20ms\]\n/, ''),
  );
  const set = ResultSet.open(dir);
  const sets = new LoadedSets([set]);
  const rec = set.points()[0]!;
  const ask = <T>(path: string, q: Record<string, string>) => route(routes, path).handle({ params: {}, query: new URLSearchParams(q), sets }) as Promise<T>;
  try {
    assert.equal(rec.params['late_ms'], undefined);
    const f = await ask<FramesResponse>('/api/run/frames', { set: set.name, key: rec.key, rep: String(rec.rep), width: '1000' });
    assert.equal(f.lateMs, 20, 'not the default 150 ms');
    assert.equal(f.counts.late, rec.metrics['frames.late']);
  } finally {
    await sets.close();
  }
});

test('recording gap flags become intervals on the run clock', () => {
  assert.deepEqual(parseGaps(['recording gap: host: no data from 12.3 s to 15.0 s (agent unreachable) (see agents.log)', 'probe cpu failed', 'recording gap: guest: the agent restarted during the point: what it held is lost']), [
    { role: 'host', from: 12.3, to: 15, text: 'recording gap: host: no data from 12.3 s to 15.0 s (agent unreachable) (see agents.log)' },
    { role: 'guest', from: null, to: null, text: 'recording gap: guest: the agent restarted during the point: what it held is lost' },
  ]);
});

test('the live feed follows the engine: plan, points left, running, done, and the samples of the point in progress', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-livefeed-')), 'set');
  cpSync(FIXTURE, dir, { recursive: true });
  const set = ResultSet.open(dir);
  const sets = new LoadedSets([set]);
  const planned = [1, 2].map((x) => ({ key: `k${x}`, rep: 1, index: x - 1, params: { x }, typed: { x } }));
  const feed = new LiveFeed(planned, set.name);
  const ask = <T>(path: string, q: Record<string, string> = {}) => route(liveRoutes, path).handle({ params: {}, query: new URLSearchParams(q), sets }) as Promise<T>;
  try {
    assert.deepEqual(await ask('/api/live'), { active: false, running: false }, 'a server with no run says so');
    attachLive(sets, feed);
    feed.handle({ type: 'plan', total: 2, toRun: 2, recorded: 0, resultsDir: dir });
    assert.deepEqual((await ask<LiveResponse>('/api/live')).runs.state, ['left', 'left']);
    feed.handle({ type: 'point-start', run: planned[0] as never, n: 1, of: 2, attempt: 1 });
    for (let i = 0; i < 100; i++) feed.sample({ role: 'guest', probe: 'cpu', t: i / 10, values: { 'cpu.busy_pct': i === 42 ? 99 : 5 } });
    const st = await ask<LiveResponse>('/api/live');
    assert.deepEqual(st.runs.state, ['running', 'left']);
    assert.equal(st.current?.key, 'k1');
    const series = await ask<LiveSeriesResponse>('/api/live/series', { ids: 'samples:guest:cpu.busy_pct', width: '10' });
    assert.equal(series.list[0]!.unit, '%');
    assert.equal(Math.max(...(series.series[0]!.columns.v as number[])), 99, 'the spike survives decimation live too');
    feed.handle({ type: 'point-end', run: planned[0] as never, n: 1, of: 2, record: { outcome: { status: 'failed', error: 'boom' } } as never, etaS: 3 });
    const after = await ask<LiveResponse>('/api/live');
    assert.deepEqual(after.runs.state, ['failed', 'left']);
    assert.equal(after.runs.error[0], 'boom');
    assert.equal(after.current, null);
    assert.equal(after.etaS, 3);
    feed.handle({ type: 'done', summary: { planned: 2, skipped: 0, ok: 0, failed: 1, interrupted: true, seconds: 1 } });
    assert.equal((await ask<LiveResponse>('/api/live')).active, false);
  } finally {
    await sets.close();
  }
});
