// Rate-control policies in a real stream: gcc against fixed over a relay whose link is a quarter of
// the starting bitrate (the link's configured rate is the reference), a user's policy file, a
// policy that throws, and the input errors of validate.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { openSetDatabase } from '../src/store/database.ts';
import type { PointRecord } from '../src/store/records.ts';
import { readRoleReport } from '../src/stream/report.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-policy-'));
const fixture = (name: string) => resolve(import.meta.dirname, 'fixtures', 'policies', name);

async function runYaml(name: string, text: string): Promise<{ points: PointRecord[]; set: ResultSet }> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, text);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, `${name}-results`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  return { points: set.points(), set };
}

const m = (p: PointRecord, k: string) => p.metrics[k] as number;

test('gcc over a 1 Mbit/s link from 4 Mbit/s: its target ends near the link, its latency below fixed', async () => {
  const { points, set } = await runYaml(
    'gcc',
    `name: gcc
workload: {type: stream, resolution: 640x360, fps: 30, scene: motion, bitrate: 4M, net_rate: 1M, net_queue: 2s}
matrix: {policy: [fixed, gcc]}
duration: 3s
`,
  );
  const by = (policy: string) => points.find((p) => p.params['policy'] === policy)!;
  for (const p of points) assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));
  const gcc = by('gcc');
  const fixed = by('fixed');
  assert.ok(m(gcc, 'policy.decisions') >= 1, 'gcc changed the encoder');
  const target = m(gcc, 'policy.target_bps');
  assert.ok(target < 1.7e6 && target > 0.3e6, `the target ends near the 1 Mbit/s link (${target})`);
  assert.ok(m(gcc, 'latency.p95') < m(fixed, 'latency.p95'), `gcc's latency p95 ${m(gcc, 'latency.p95')} ms is below fixed's ${m(fixed, 'latency.p95')} ms`);
  // Its decisions are recorded with the estimate behind them.
  const dir = join(set.dir, 'points', `${gcc.key}-r1`);
  const controls = readRoleReport(join(dir, 'guest.json'), 'guest').controls ?? [];
  const first = controls.find((c) => c.from === 'policy');
  assert.ok(first?.estimate && ['normal', 'overuse', 'underuse'].includes(String(first.estimate['state'])), JSON.stringify(first));
  // The series: what the client received never exceeds what the link carries (its configured rate, plus framing).
  const db = await openSetDatabase([set]);
  try {
    const rows = (await db.conn.runAndReadAll(`SELECT avg(delivered_bps) AS d, max(target_bps) AS tg, count(sent_bps) AS n FROM timeseries WHERE point_key = '${gcc.key}'`)).getRowObjectsJson();
    assert.ok(Number(rows[0]!['n']) > 0, 'sent_bps is recorded');
    const delivered = Number(rows[0]!['d']);
    assert.ok(delivered <= 1.1e6 && delivered >= 0.5e6, `delivered_bps averages near the link's 1 Mbit/s (${delivered})`);
    assert.equal(Number(rows[0]!['tg']), 4e6, 'the target starts at the configured bitrate');
  } finally {
    db.close();
  }
});

test("a user's policy file runs in the guest with its parameters; one that throws fails its point with its message", async () => {
  const { points } = await runYaml(
    'user',
    `name: user
workload: {type: stream, resolution: 320x180, fps: 15, scene: typing, bitrate: 1M, transport: udp, policy_params: factor=0.5}
matrix: {policy: [${fixture('step-down.ts')}, ${fixture('throws.ts')}]}
duration: 2s
`,
  );
  const step = points.find((p) => String(p.params['policy']).endsWith('step-down.ts'))!;
  const bad = points.find((p) => String(p.params['policy']).endsWith('throws.ts'))!;
  assert.equal(step.outcome.status, 'ok', JSON.stringify(step.outcome));
  assert.equal(m(step, 'policy.target_bps'), 5e5, 'its decision (half the starting bitrate) was applied');
  assert.ok(bad.outcome.status === 'failed' && /guest: policy .*throws\.ts: the fixture policy gives up/.test(bad.outcome.error), JSON.stringify(bad.outcome));
});

test('a schedule with a policy other than fixed, an unknown policy and a missing policy file are input errors with their line', async () => {
  const file = join(work, 'bad.yaml');
  writeFileSync(file, `name: bad\nworkload:\n  type: stream\n  policy: gcc\n  schedule:\n    - {at: 1s, bitrate: 1M}\nmatrix: {codec: h264}\nduration: 2s\n`);
  await assert.rejects(loadBenchmark(file), (e: Error) => /bad\.yaml:[56]:/.test(e.message) && /cannot go with policy gcc/.test(e.message));
  writeFileSync(file, `name: bad\nworkload: {type: stream}\nmatrix:\n  policy: [gcc, bbr, ./nowhere.ts]\n`);
  await assert.rejects(loadBenchmark(file), (e: Error) => /bbr/.test(e.message) && /nowhere\.ts cannot be read: ENOENT/.test(e.message));
});
