// A step of capacity, 8 -> 1 -> 8 Mbit/s (test/fixtures/step-8-1-8.csv: 3 s, 4 s, 3 s), replayed by
// the real relay under a real stream over TCP and over UDP, with a queue deep enough (5 s at the
// trace's mean rate, 3.25 MB) that nothing is dropped and every byte too many shows as delay.
// `fixed` at 4 Mbit/s must queue what the trace implies: what it sent during the 1 Mbit/s phase less
// what the link carried then. `gcc` must keep latency p95 at most a third of fixed's while
// delivering at least 70 % of the offered capacity (less what was offered during ticks its encoder
// skipped because the machine was busy), and its reaction to the drop is measured.
// Everything is compared within one run or against the run's own references (the capacity the
// relay offered, the bytes the guest sent), never against the clock: a busy machine makes the guest
// skip frames and send less, which moves every figure here together.
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
import { integrate, rateAnswers, type Span, type StepSeries } from '../src/stream/qoe.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-adaptive-'));
const TRACE = resolve(import.meta.dirname, 'fixtures', 'step-8-1-8.csv');

interface PointData {
  point: PointRecord;
  window: Span;
  capacity: StepSeries;
  queue: StepSeries;
  sent: StepSeries;
  /** Frames: capture, relay arrival and client arrival (ms on the point's clock), bytes. */
  frames: { capture: number; hostIn: number; recv: number; bytes: number; latency: number }[];
}

/** A column of the timeseries as a step series (ms), its empty rows left out. */
function series(rows: Record<string, unknown>[], col: string): StepSeries {
  const keep = rows.filter((r) => r[col] !== null && r[col] !== undefined);
  return { t: keep.map((r) => Number(r['t']) * 1000), v: keep.map((r) => Number(r[col])) };
}

async function run(transport: 'tcp' | 'udp'): Promise<{ fixed: PointData; gcc: PointData }> {
  const file = join(work, `${transport}.yaml`);
  // gcc may use the trace's peaks (max_bitrate 8M); both start at 4 Mbit/s, fixed stays there.
  writeFileSync(
    file,
    `name: adaptive-${transport}
workload: {type: stream, resolution: 640x360, fps: 30, scene: motion, bitrate: 4M, rate_control: cbr, transport: ${transport}, net_trace: ${TRACE}, net_queue: 5s, policy_params: max_bitrate=8M}
matrix: {policy: [fixed, gcc]}
warmup: 0.5s
duration: 9.5s
`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, `${transport}-results`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const db = await openSetDatabase([set]);
  const out: Record<string, PointData> = {};
  try {
    for (const point of set.points()) {
      assert.equal(point.outcome.status, 'ok', JSON.stringify(point.outcome));
      const q = async (sql: string) => (await db.conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
      const ts = await q(`SELECT * FROM timeseries WHERE point_key = '${point.key}' ORDER BY t`);
      const fr = await q(`SELECT capture_start, host_in, recv_end, bytes, latency_ms, warmup FROM frames WHERE point_key = '${point.key}' ORDER BY frame`);
      const recorded = fr.filter((f) => !f['warmup']);
      const frames = recorded.map((f) => ({ capture: Number(f['capture_start']), hostIn: Number(f['host_in'] ?? NaN), recv: Number(f['recv_end'] ?? NaN), bytes: Number(f['bytes']), latency: Number(f['latency_ms'] ?? NaN) }));
      // The recorded window: from its first capture to its last one's frame interval.
      const window = { fromMs: frames[0]!.capture, toMs: frames.at(-1)!.capture + 1000 / 30 };
      out[String(point.params['policy'])] = { point, window, capacity: series(ts, 'capacity_bps'), queue: series(ts, 'queue_bytes'), sent: series(ts, 'sent_bps'), frames };
    }
  } finally {
    db.close();
  }
  return { fixed: out['fixed']!, gcc: out['gcc']! };
}

/** The 1 Mbit/s phase inside the window: from the capacity's fall to its rise (or the window's end). */
function lowPhase(p: PointData): Span {
  const { t, v } = p.capacity;
  const from = t.find((x, i) => v[i]! < 2e6 && x >= p.window.fromMs - 3000);
  assert.ok(from !== undefined, 'the window holds the 1 Mbit/s phase');
  const up = t.findIndex((x, i) => x > from && v[i]! > 2e6);
  return { fromMs: Math.max(from, p.window.fromMs), toMs: Math.min(up < 0 ? p.window.toMs : t[up]!, p.window.toMs) };
}

/** The largest value of a series inside a span. */
const maxIn = (s: StepSeries, span: Span) => Math.max(0, ...s.v.filter((_, i) => s.t[i]! >= span.fromMs && s.t[i]! <= span.toMs));

const p95 = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
};

/** Delivered over offered: bytes the client received in the window over the capacity's integral there. */
function utilization(p: PointData): number {
  const bits = 8 * p.frames.filter((f) => f.recv >= p.window.fromMs && f.recv < p.window.toMs).reduce((a, f) => a + f.bytes, 0);
  return bits / integrate(p.capacity, p.window);
}

/**
 * The same, with the capacity offered during the ticks the guest's encoder skipped because it was
 * still busy taken out (as their share of the window's ticks): on a busy machine the encoder
 * cannot fill the link whatever a policy decides, and that is the machine, not the policy (beside
 * stress-ng and the suite, 35 of a window's 285 ticks; near idle, none or a few).
 */
function utilizationOfWhatCouldBeSent(p: PointData): number {
  const busy = Number(p.point.metrics['guest.skipped']) - Number(p.point.metrics['guest.skipped_congested']);
  const ticks = ((p.window.toMs - p.window.fromMs) * 30) / 1000;
  return utilization(p) / Math.max(0.5, 1 - busy / ticks);
}

for (const transport of ['tcp', 'udp'] as const) {
  test(`a step 8 -> 1 -> 8 Mbit/s over ${transport.toUpperCase()}: fixed queues what the trace implies; gcc keeps a third of its latency, uses 70 % of the link and reacts`, async (t) => {
    const { fixed, gcc } = await run(transport);

    // fixed: during the 1 Mbit/s phase the queue grows by what the guest put in less what the link
    // took out. The reference is the bytes that reached the relay in the phase (so a guest slowed by
    // load, sending less, is measured as it was); 15 % covers the queue series' sampling (every
    // 50 ms: a few frames at either edge) and a frame in flight across each edge.
    const low = lowPhase(fixed);
    const lowS = (low.toMs - low.fromMs) / 1000;
    assert.ok(lowS > 2, `the window holds most of the 4 s low phase (${lowS.toFixed(2)} s)`);
    const inBytes = fixed.frames.filter((f) => f.hostIn >= low.fromMs && f.hostIn < low.toMs).reduce((a, f) => a + f.bytes, 0);
    const outBytes = integrate(fixed.capacity, low) / 8;
    const expected = inBytes - outBytes;
    const queueStart = maxIn(fixed.queue, { fromMs: low.fromMs - 100, toMs: low.fromMs + 100 });
    const grown = maxIn(fixed.queue, { fromMs: low.toMs - 200, toMs: low.toMs + 50 }) - queueStart;
    const sentBps = (inBytes * 8) / lowS;
    const fixedP95 = p95(fixed.frames.map((f) => f.latency));
    const gccP95 = p95(gcc.frames.map((f) => f.latency));
    const util = utilizationOfWhatCouldBeSent(gcc);
    const rawUtil = utilization(gcc);
    const fixedUtil = utilization(fixed);
    // Reaction: from the drop until gcc's sending rate (250 ms bins of sent_bps) is below 1 Mbit/s.
    const answers = rateAnswers(gcc.capacity, gcc.sent, 250, gcc.window);
    const drop = answers.find((a) => a.kind === 'drop');
    const rise = answers.find((a) => a.kind === 'rise');
    t.diagnostic(
      `${transport}: fixed p95 ${Math.round(fixedP95)} ms, utilization ${fixedUtil.toFixed(3)}, queue +${Math.round(grown)} B for ${Math.round(expected)} B expected (${Math.round(sentBps)} bit/s into 1 Mbit/s for ${lowS.toFixed(2)} s); gcc p95 ${Math.round(gccP95)} ms, utilization ${rawUtil.toFixed(3)} (${util.toFixed(3)} of what its encoder could send: ${Number(gcc.point.metrics['guest.skipped']) - Number(gcc.point.metrics['guest.skipped_congested'])} ticks skipped busy), freezes ${gcc.point.metrics['qoe.freeze_count']} (${gcc.point.metrics['qoe.freeze_ms']} ms), reaction ${drop?.answeredMs ?? 'none'} ms, recovery ${rise?.answeredMs ?? 'none'} ms`,
    );
    assert.ok(
      Math.abs(grown - expected) <= 0.15 * expected,
      `fixed's queue grew ${Math.round(grown)} B in the ${lowS.toFixed(2)} s low phase; the guest sent ${Math.round(sentBps)} bit/s into 1 Mbit/s: ${Math.round(expected)} B (nominal (4M - 1M) x ${lowS.toFixed(2)} s = ${Math.round((3e6 * lowS) / 8)} B)`,
    );
    // So its frames wait seconds: the last one of the phase waits behind the whole queue, at least
    // as long as the queue takes to leave at the 8 Mbit/s that follows.
    const queueS = (grown * 8) / 8e6;
    assert.ok(fixedP95 >= 1000 * queueS, `fixed's latency p95 ${fixedP95} ms is at least the ${Math.round(1000 * queueS)} ms its final queue takes at 8 Mbit/s`);
    assert.ok(drop && Number.isFinite(drop.answeredMs), `gcc answered the drop: ${JSON.stringify(answers)}`);

    // gcc: its congestion window holds frames back at the guest once the drop shows as bytes in
    // flight (they are skipped, and show as freezes), so few frames wait in the queue; its probes
    // find the 8 Mbit/s again within a probe interval of their return.
    assert.ok(gccP95 <= fixedP95 / 3, `gcc's latency p95 ${gccP95} ms is at most a third of fixed's ${fixedP95} ms`);
    // A point the machine saturated (its own validity flag: every core busy for a share of the
    // window) measures the contention, not the policy: beside stress-ng and the suite, with a load
    // of 10 on the 2 cores, even fixed delivered 45 % of the capacity (2.5 of its 4 Mbit/s).
    // There the bound is not judged, and the test says so; the latency bound holds regardless.
    const saturated = gcc.point.conditions?.found.find((c) => c.code === 'saturated');
    if (saturated) t.diagnostic(`${transport}: gcc's utilization not judged: the point was flagged saturated (${saturated.reason})`);
    else assert.ok(util >= 0.7, `gcc delivered ${(100 * rawUtil).toFixed(1)} % of the offered capacity, ${(100 * util).toFixed(1)} % of what its encoder could send (fixed: ${(100 * fixedUtil).toFixed(1)} %)`);
  });
}
