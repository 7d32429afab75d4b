// The engine's live sample feed (what `run --ui` plots while a point runs): samples arrive during
// the point, not only at its end, on the time base the point's samples.parquet is written in.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadBenchmark } from '../config/load.ts';
import { quoteString } from '../store/database.ts';
import { ResultSet } from '../store/resultset.ts';
import { runBenchmark } from './engine.ts';
import type { PointSample } from './recorder.ts';

test('samples reach onSample while the point runs, with the times samples.parquet gets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-live-samples-'));
  const file = join(dir, 'b.yaml');
  // The point ends when its file appears: the test sees samples arrive before it lets it end,
  // however slow the machine (no sleep to guess).
  const release = join(dir, 'release');
  writeFileSync(file, `name: live\nworkload: {type: command, argv: [sh, -c, 'while [ ! -e ${release} ]; do sleep 0.05; done']}\nmatrix: {x: [1]}\nrecording: {probes: {cpu: 100ms, mem: 100ms}}\n`);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(dir, 'results'), b.name);
  const got: PointSample[] = [];
  let inPoint = false;
  let during = 0;
  // Should no sample ever come, the point still ends (and the assertions below say so) instead of hanging.
  const fallback = setTimeout(() => writeFileSync(release, ''), 60_000);
  const done = runBenchmark(b, {
    results: set,
    signal: new AbortController().signal,
    onEvent: (e) => {
      if (e.type === 'point-start') inPoint = true;
      if (e.type === 'point-end') inPoint = false;
    },
    onSample: (s) => {
      got.push(s);
      if (inPoint && s.values['cpu.busy_pct'] !== undefined) during++;
      // Two batches of CPU samples seen while the point still runs: let it end.
      if (during >= 2 * 5) writeFileSync(release, '');
    },
  });
  const summary = await done;
  clearTimeout(fallback);
  assert.equal(summary.ok, 1, JSON.stringify(summary));
  assert.ok(during >= 10, `only ${during} CPU samples arrived while the point ran`);
  const rec = set.points()[0]!;
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    const rows = (await conn.runAndReadAll(`SELECT t, value FROM read_parquet(${quoteString(join(set.pointDir(rec.key, rec.rep), 'samples.parquet'))}) WHERE name = 'cpu.busy_pct' ORDER BY t`)).getRows();
    const live = got.filter((s) => s.values['cpu.busy_pct'] !== undefined).map((s) => [s.t, s.values['cpu.busy_pct']]);
    assert.ok(rows.length > 0);
    // Every stored sample was heard live, at the same time and with the same value.
    assert.deepEqual(
      live.slice(0, rows.length),
      rows.map(([t, v]) => [t, v]),
    );
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
});
