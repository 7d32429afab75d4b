// The desktop machinery through a real SPICE point on a link whose capacity steps: the relay's
// offered capacity becomes the point's capacity_bps series on the point's clock, starting with the
// viewer's first connection, and is the trace this test wrote, row for row.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-desktop-'));
after(() => rmSync(work, { recursive: true, force: true }));

test("a SPICE point's capacity_bps series is the stepped trace the relay replayed, from the viewer's first connection, on the point's clock", async () => {
  // Rates far above what a 640x480 scene at 10 fps needs: the step shows in what was offered, whatever was sent.
  const STEP_S = 3;
  const trace = join(work, 'steps.csv');
  writeFileSync(trace, `t,rate\n0,20M\n${STEP_S},10M\n`);
  const file = join(work, 'capacity.yaml');
  writeFileSync(file, `name: capacity\nworkload: {type: spice, resolution: 640x480, fps: 10, scene: typing, net_trace: ${trace}}\nmatrix: {spice_codec: spice:mjpeg}\nwarmup: 1s\nduration: 3s\nrecording: false\n`);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const p = set.points()[0]!;
  assert.equal(summary.ok, 1, JSON.stringify(p.outcome));
  assert.ok(p.timeline, 'the point keeps its warm-up and window on its clock');
  const [running, from] = p.timeline.warmup!;
  const [, to] = p.timeline.window;
  const db = await openSetDatabase([set]);
  let rows: { t: number; bps: number }[];
  try {
    rows = (await db.conn.runAndReadAll(`SELECT t, capacity_bps FROM timeseries ORDER BY t`)).getRowObjectsJson().map((r) => ({ t: Number(r['t']), bps: Number(r['capacity_bps']) }));
  } finally {
    db.close();
  }
  const ctx = JSON.stringify({ running, from, to, first: rows.slice(0, 2), n: rows.length });
  // The link began with the viewer's first connection: after the point began, before the client showed the guest.
  assert.ok(rows.length > 0 && rows[0]!.t > 0 && rows[0]!.t <= running, ctx);
  // One row per 100 ms from there to the relay's end, past the window.
  rows.forEach((r, i) => assert.ok(Math.abs(r.t - (rows[0]!.t + i * 0.1)) < 1e-6, `row ${i} at ${r.t}: ${ctx}`));
  assert.ok(rows.at(-1)!.t >= to - 0.1, ctx);
  // The trace as written: 20 Mbit/s for its first STEP_S seconds, 10 Mbit/s after.
  const step = rows[0]!.t + STEP_S;
  for (const r of rows) assert.equal(r.bps, r.t < step - 1e-6 ? 20e6 : 10e6, `capacity at ${r.t} (step at ${step})`);
  // What reached the client in the window fits in what the link offered there (a bin's edge aside).
  assert.ok((p.metrics['client.bitrate'] as number) <= 20e6 * 1.05, JSON.stringify(p.metrics));
});
