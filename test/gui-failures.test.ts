// What the GUI's API answers when a run's files are damaged, missing or not files at all, and when
// a request asks for something impossible: the parts it could read with one line per file that it
// could not (never DuckDB's own text), and a 400 with one line for a value the declarations refuse
// or an id asked twice. Over HTTP, against a real server on the recorded fixture sets (copied: the
// test damages them).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FramesResponse, RunInfoResponse, RunSeriesResponse } from '../src/server/api-types.ts';
import { startUiServer, type UiServer } from '../src/server/server.ts';
import { ResultSet } from '../src/store/resultset.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const OLD_STREAM = join(root, 'test/fixtures/sets/old-stream');
const MATRIX = join(root, 'test/fixtures/sets/stream-matrix');

let tmp: string;
let server: UiServer;
let set: ResultSet;
let matrix: ResultSet;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sb-gui-failures-'));
  cpSync(OLD_STREAM, join(tmp, 'old-stream'), { recursive: true });
  cpSync(MATRIX, join(tmp, 'stream-matrix'), { recursive: true });
  set = ResultSet.open(join(tmp, 'old-stream'));
  matrix = ResultSet.open(join(tmp, 'stream-matrix'));
  // The GUI is not built for this test: the API is all it asks.
  const web = join(tmp, 'web');
  mkdirSync(web);
  writeFileSync(join(web, 'index.html'), '<!doctype html>');
  server = await startUiServer({ sets: [set, matrix], webRoot: web });
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body's type, as with fetch's json()
async function get<T>(path: string, q: Record<string, string> | [string, string][]): Promise<{ status: number; body: T & { error?: string } }> {
  const res = await fetch(`${server.origin}${path}?${new URLSearchParams(q).toString()}`);
  return { status: res.status, body: (await res.json()) as T & { error?: string } };
}

/** One line, no DuckDB class name, no SQL excerpt. */
function oneLine(text: string | undefined): void {
  assert.ok(text !== undefined && text !== '', 'a message');
  assert.doesNotMatch(text, /\n|LINE 1|Invalid Input Error|IO Error|Binder Error|No files found that match/, text);
}

test('a missing events.parquet leaves the run view its samples and frames; a damaged samples.parquet leaves out its series only', async () => {
  const [a, b] = set.points();
  assert.ok(a && b && !a.timeline && a.files.includes('events.parquet'), 'the fixture: two older stream runs, placed by their capture events');
  const runA = { set: set.name, key: a.key, rep: String(a.rep) };
  const runB = { set: set.name, key: b.key, rep: String(b.rep) };
  const events = join(set.pointDir(a.key, a.rep), 'events.parquet');
  rmSync(events);
  const samples = join(set.pointDir(b.key, b.rep), 'samples.parquet');
  writeFileSync(samples, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256)));

  const infoA = await get<RunInfoResponse>('/api/run', runA);
  assert.equal(infoA.status, 200, infoA.body.error);
  assert.ok(
    infoA.body.series.some((s) => s.source === 'samples'),
    'its samples are listed',
  );
  const latency = infoA.body.series.find((s) => s.id === 'frames:client:latency_ms');
  assert.ok(latency, 'its frames are listed');
  assert.equal(latency.clock, 'stream', "without capture events the frames stay on the stream's clock");
  assert.equal(infoA.body.frames?.offsetS, null);
  assert.deepEqual(
    infoA.body.problems.map((p) => [p.file, p.problem]),
    [['events.parquet', 'missing']],
  );
  assert.equal(infoA.body.problems[0]!.error, `${events} is missing`);
  const seriesA = await get<RunSeriesResponse>('/api/run/series', { ...runA, ids: 'samples:client:cpu.busy_pct,frames:client:latency_ms' });
  assert.equal(seriesA.status, 200, seriesA.body.error);
  assert.deepEqual(
    seriesA.body.series.map((s) => s.id),
    ['samples:client:cpu.busy_pct', 'frames:client:latency_ms'],
  );
  assert.ok(seriesA.body.series.every((s) => s.n > 0));
  const framesA = await get<FramesResponse>('/api/run/frames', runA);
  assert.equal(framesA.status, 200, framesA.body.error);
  assert.equal(framesA.body.timeBase, 'stream');
  assert.deepEqual(
    framesA.body.problems.map((p) => p.file),
    ['events.parquet'],
  );

  const infoB = await get<RunInfoResponse>('/api/run', runB);
  assert.equal(infoB.status, 200, infoB.body.error);
  assert.equal(infoB.body.series.filter((s) => s.source === 'samples').length, 0, 'no series from the damaged file');
  assert.ok(
    infoB.body.series.some((s) => s.id === 'frames:client:latency_ms'),
    'the frames are still there',
  );
  assert.ok(infoB.body.frames && infoB.body.frames.count > 0);
  assert.deepEqual(
    infoB.body.problems.map((p) => [p.file, p.problem]),
    [['samples.parquet', 'damaged']],
  );
  const line = infoB.body.problems[0]!.error;
  oneLine(line);
  assert.equal(line, `${samples} is not a readable Parquet file: damaged, cut short or not Parquet at all (no Parquet footer)`);
  // Asking for a series of the damaged file: the others come, that one is left out with its file's problem.
  const seriesB = await get<RunSeriesResponse>('/api/run/series', { ...runB, ids: 'samples:client:cpu.busy_pct,frames:client:latency_ms' });
  assert.equal(seriesB.status, 200, seriesB.body.error);
  assert.deepEqual(
    seriesB.body.series.map((s) => s.id),
    ['frames:client:latency_ms'],
  );
  assert.deepEqual(
    seriesB.body.problems.map((p) => p.file),
    ['samples.parquet'],
  );
});

test('a damaged frames.parquet fails the frame view with one line naming it, and leaves the run view its samples', async () => {
  const [, , c] = matrix.points();
  assert.ok(c && c.files.includes('frames.parquet'));
  const run = { set: matrix.name, key: c.key, rep: String(c.rep) };
  const frames = join(matrix.pointDir(c.key, c.rep), 'frames.parquet');
  writeFileSync(frames, '');
  const f = await get<FramesResponse>('/api/run/frames', run);
  assert.equal(f.status, 500);
  oneLine(f.body.error);
  assert.equal(f.body.error, `${frames} is not a readable Parquet file: empty, or cut short`);
  const info = await get<RunInfoResponse>('/api/run', run);
  assert.equal(info.status, 200, info.body.error);
  assert.equal(info.body.frames, null);
  assert.ok(info.body.series.some((s) => s.source === 'samples'));
  assert.deepEqual(
    info.body.problems.map((p) => [p.file, p.problem]),
    [['frames.parquet', 'damaged']],
  );
});

test('the run routes refuse an id asked twice, more than 200 ids, and ids given twice; /api/runs refuses a metric asked twice', async () => {
  const [a] = matrix.points();
  const run = { set: matrix.name, key: a!.key, rep: String(a!.rep) };
  const id = 'samples:client:cpu.busy_pct';
  const twice = await get('/api/run/series', { ...run, ids: `${id},${id}` });
  assert.equal(twice.status, 400);
  assert.equal(twice.body.error, `ids: '${id}' is asked more than once: name each once`);
  const many = await get('/api/run/series', { ...run, ids: Array.from({ length: 201 }, (_, i) => `samples:client:x${i}`).join(',') });
  assert.equal(many.status, 400);
  assert.equal(many.body.error, '201 ids asked at once: at most 200');
  const repeatedKey = await get('/api/run/series', [...Object.entries(run), ['ids', id], ['ids', id]]);
  assert.equal(repeatedKey.status, 400);
  assert.match(repeatedKey.body.error ?? '', /^ids is given 2 times: give it once/);
  const ok = await get<RunSeriesResponse>('/api/run/series', { ...run, ids: id });
  assert.equal(ok.status, 200, ok.body.error);
  assert.equal(ok.body.series.length, 1);
  const metrics = await get('/api/runs', { metrics: 'guest.cpu_pct,guest.cpu_pct' });
  assert.equal(metrics.status, 400);
  assert.equal(metrics.body.error, "metrics: 'guest.cpu_pct' is asked more than once: name each once");
});

test('/api/model/predict refuses a setting outside its declaration, or given twice, with one line', async () => {
  const base = { set: matrix.name, metric: 'guest.cpu_pct', 's.codec': 'h264', 's.resolution': '640x360', 's.bitrate': '1M' };
  const ok = await get<{ predictions: unknown[] }>('/api/model/predict', { ...base, 's.fps': '30' });
  assert.equal(ok.status, 200, ok.body.error);
  assert.equal(ok.body.predictions.length, 1);
  for (const [fps, why] of [
    ['-1', "fps '-1' must be a number from 1 to 240"],
    ['0', "fps '0' must be a number from 1 to 240"],
    ['1000', "fps '1000' must be a number from 1 to 240"],
    ['fast', "fps 'fast' must be a number from 1 to 240"],
  ] as const) {
    const r = await get('/api/model/predict', { ...base, 's.fps': fps });
    assert.equal(r.status, 400, `fps=${fps}: ${JSON.stringify(r.body)}`);
    oneLine(r.body.error);
    assert.ok(r.body.error!.includes(why), r.body.error);
  }
  const size = await get('/api/model/predict', { ...base, 's.fps': '30', 's.resolution': '641x360' });
  assert.equal(size.status, 400, JSON.stringify(size.body));
  assert.match(size.body.error ?? '', /resolution '641x360' must be WxH with even numbers/);
  const twice = await get('/api/model/predict', [...Object.entries(base), ['s.fps', '30'], ['s.fps', '-1']]);
  assert.equal(twice.status, 400);
  assert.equal(twice.body.error, 'fps is set more than once: give each setting once');
});
