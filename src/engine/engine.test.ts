import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../config/load.ts';
import { ResultSet } from '../store/resultset.ts';
import type { PointContext, PointResult, Workload } from '../workloads/workload.ts';
import { runBenchmark } from './engine.ts';
import type { EngineEvent } from './events.ts';

/** A workload that records what it was asked to run and fails where told to. */
class FakeWorkload implements Workload {
  calls: PointContext['params'][] = [];
  constructor(private readonly fail: (ctx: PointContext, call: number) => boolean = () => false) {}
  async run(ctx: PointContext): Promise<PointResult> {
    this.calls.push(ctx.params);
    if (this.fail(ctx, this.calls.length)) return { outcome: { status: 'failed', error: 'told to fail' }, metrics: {}, wallS: 0, flags: [] };
    return { outcome: { status: 'ok' }, metrics: { value: Number(ctx.params['b']) * 10 + ctx.rep }, wallS: 0.001, flags: [] };
  }
}

function setup(extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'sb-engine-'));
  const log = join(dir, 'hooks.txt');
  const file = join(dir, 'bench.yaml');
  writeFileSync(
    file,
    `name: fake
workload: {type: command, argv: ["true"]}
matrix:
  a: [x, y]
  b: [1, 2, 3]
exclude: [{a: y, b: 3}]
repeat: 2
# Scheduling with a fake workload: no agents to start (the real recording has its own tests).
recording: false
hooks:
  a:
    before: [sh, -c, 'echo before {a} >> ${log}']
    after: [sh, -c, 'echo after {a} >> ${log}']
${extra}`,
  );
  return { dir, log, file, results: join(dir, 'results') };
}

const never = new AbortController().signal;

test('runs each point and repetition once, in order, with parameter hooks around value changes', async () => {
  const s = setup();
  const b = await loadBenchmark(s.file);
  const w = new FakeWorkload();
  const set = ResultSet.openOrCreate(s.results, b.name);
  const summary = await runBenchmark(b, { results: set, signal: never, workload: w });
  assert.equal(summary.ok, 10);
  assert.deepEqual(
    w.calls.map((p) => `${p['a']}${p['b']}`),
    ['x1', 'x1', 'x2', 'x2', 'x3', 'x3', 'y1', 'y1', 'y2', 'y2'],
  );
  assert.equal(readFileSync(s.log, 'utf8'), 'before x\nafter x\nbefore y\nafter y\n');
  assert.equal(set.points().length, 10);
});

test('resume skips recorded points; --force runs them again', async () => {
  const s = setup();
  const b = await loadBenchmark(s.file);
  const set = ResultSet.openOrCreate(s.results, b.name);
  const first = new FakeWorkload((_, call) => call === 3 || call === 7);
  const r1 = await runBenchmark(b, { results: set, signal: never, workload: first });
  assert.equal(r1.failed, 1);
  assert.match(r1.stoppedBy!, /told to fail/);
  const second = new FakeWorkload();
  const r2 = await runBenchmark(b, { results: set, signal: never, workload: second });
  assert.equal(r2.skipped, 2);
  assert.equal(second.calls.length, 8);
  assert.equal(set.points().filter((p) => p.outcome.status === 'ok').length, 10);
  const third = new FakeWorkload();
  await runBenchmark(b, { results: set, signal: never, workload: third, force: true });
  assert.equal(third.calls.length, 10);
  assert.equal(set.points().length, 10);
});

test('on_error continue runs on; retries run a failed point again', async () => {
  const s = setup('on_error: continue\nretries: 1\n');
  const b = await loadBenchmark(s.file);
  const set = ResultSet.openOrCreate(s.results, b.name);
  // Fails x2 twice (both attempts of its first repetition), everything else passes.
  const w = new FakeWorkload((ctx) => ctx.params['b'] === 2 && ctx.params['a'] === 'x' && ctx.rep === 1);
  const r = await runBenchmark(b, { results: set, signal: never, workload: w });
  assert.equal(r.failed, 1);
  assert.equal(r.ok, 9);
  assert.equal(w.calls.length, 11);
  const failed = set.points().find((p) => p.outcome.status === 'failed')!;
  assert.equal(failed.attempts, 2);
});

test('an abort marks the point interrupted, stops, and a later run resumes', async () => {
  const s = setup();
  const b = await loadBenchmark(s.file);
  const set = ResultSet.openOrCreate(s.results, b.name);
  const ac = new AbortController();
  const events: EngineEvent[] = [];
  const w: Workload = {
    async run(ctx): Promise<PointResult> {
      if (events.filter((e) => e.type === 'point-start').length === 4) {
        ac.abort();
        return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: 0, flags: [] };
      }
      return { outcome: { status: 'ok' }, metrics: { rep: ctx.rep }, wallS: 0, flags: [] };
    },
  };
  const r = await runBenchmark(b, { results: set, signal: ac.signal, workload: w, onEvent: (e) => events.push(e) });
  assert.equal(r.interrupted, true);
  assert.equal(r.ok, 3);
  assert.equal(set.points().filter((p) => p.outcome.status === 'interrupted').length, 1);
  const again = new FakeWorkload();
  await runBenchmark(b, { results: set, signal: never, workload: again });
  assert.equal(again.calls.length, 7);
});

test('a failing before hook fails the point with the hook named', async () => {
  const s = setup();
  writeFileSync(s.file, readFileSync(s.file, 'utf8').replace("before: [sh, -c, 'echo before {a} >> " + s.log + "']", 'before: [sh, -c, "exit 3"]'));
  const b = await loadBenchmark(s.file);
  const set = ResultSet.openOrCreate(s.results, b.name);
  const r = await runBenchmark(b, { results: set, signal: never, workload: new FakeWorkload() });
  assert.match(r.stoppedBy!, /hooks\.a\.before .*exited with code 3/);
});

test('a second engine on the same set is refused while the first holds it', async () => {
  const s = setup();
  const b = await loadBenchmark(s.file);
  const set = ResultSet.openOrCreate(s.results, b.name);
  const release = set.lock(() => true);
  writeFileSync(join(s.results, '.lock'), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname() }));
  await assert.rejects(runBenchmark(b, { results: set, signal: never, workload: new FakeWorkload() }), /in use by process/);
  release();
});
