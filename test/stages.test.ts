// Per-frame stage times: every stage of every frame lasts zero or more, whatever the transport
// and the emulated network. A stamp taken on the wrong side of a hand-over (in a write callback,
// after the peer already has the bytes) shows here as a negative stage.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';

/** The stages of `stage.<s>.p50`, as frames.parquet columns: each lasts from `from` to `to`. */
const STAGES: { name: string; from: string; to: string }[] = [
  { name: 'capture', from: 'capture_start', to: 'capture_end' },
  // The encoder starts when capture ends (GuestFrame.encStart = captureEnd).
  { name: 'encode', from: 'capture_end', to: 'enc_end' },
  { name: 'send', from: 'enc_end', to: 'send_end' },
  { name: 'uplink', from: 'send_end', to: 'host_in' },
  { name: 'relay', from: 'host_in', to: 'host_out' },
  { name: 'downlink', from: 'host_out', to: 'recv_end' },
  { name: 'network', from: 'send_end', to: 'recv_end' },
  { name: 'decode_wait', from: 'recv_end', to: 'dec_start' },
  { name: 'decode', from: 'dec_start', to: 'dec_end' },
  { name: 'display_wait', from: 'dec_end', to: 'display' },
];

test('every stage of every frame lasts >= 0 ms over tcp and udp, unshaped, rate-limited, with delay and jitter, and with loss', async () => {
  const work = mkdtempSync(join(tmpdir(), 'sb-stages-'));
  const file = join(work, 'stages.yaml');
  // 1 Mbit/s offered to a 800 kbit/s link: a queue builds (TCP pushes back, UDP drops from it).
  writeFileSync(
    file,
    `name: stages
workload: {type: stream, codec: h264, resolution: 320x240, fps: 30, scene: motion, bitrate: 1M, mtu: 600}
matrix:
  case:       [tcp, tcp-rate, tcp-jitter, udp, udp-rate, udp-jitter, udp-loss]
  transport:  [tcp, tcp,      tcp,        udp, udp,      udp,        udp]
  net_rate:   [none, 800k,    none,       none, 800k,    none,       none]
  net_delay:  [0,    0,       20ms,       0,    0,       20ms,       0]
  net_jitter: [0,    0,       10ms,       0,    0,       10ms,       0]
  net_loss:   [0,    0,       0,          0,    0,       0,          5]
link: [[case, transport, net_rate, net_delay, net_jitter, net_loss]]
duration: 2s
`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const points = set.points();
  // Seen once at load ~8: 5 of 7 recorded. Say what the engine said and what the points were.
  assert.equal(points.length, 7, `summary ${JSON.stringify(summary)}; points ${JSON.stringify(points.map((p) => [p.params['case'], p.outcome]))}`);
  const db = await openSetDatabase([set]);
  try {
    const rows = async (sql: string) => (await db.conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    const failures: string[] = [];
    for (const p of points) {
      const name = String(p.params['case']);
      assert.equal(p.outcome.status, 'ok', `${name}: ${JSON.stringify(p.outcome)}`);
      for (const s of STAGES) {
        const d = `("${s.to}" - "${s.from}")`;
        const [r] = await rows(`SELECT count(${d}) AS n, min(${d}) AS min, quantile_cont(${d}, 0.5) FILTER (WHERE warmup = 0) AS p50,
            string_agg(frame::INTEGER || ': ' || round(${d}, 4), ', ' ORDER BY frame) FILTER (WHERE ${d} < 0) AS negative
          FROM frames WHERE point_key = '${p.key}'`);
        const n = Number(r!['n']);
        // A stage no frame went through would pass without checking anything.
        assert.ok(n > 0, `${name}: no frame has both ${s.from} and ${s.to}`);
        if (Number(r!['min']) < 0) failures.push(`${name}: stage ${s.name} (${s.from} -> ${s.to}) is negative: frame: ms ${String(r!['negative'])}`);
        // The same columns give the summary's median, so the checked times are the reported ones.
        const metric = p.metrics[`stage.${s.name}.p50`] as number;
        assert.ok(Math.abs(Number(r!['p50']) - metric) < 0.001, `${name}: stage.${s.name}.p50 is ${metric}, frames.parquet gives ${String(r!['p50'])}`);
      }
    }
    assert.deepEqual(failures, []);
    // The impaired cases did bite, so their frames went through what the test means to cover.
    const m = (c: string, k: string) => points.find((p) => p.params['case'] === c)!.metrics[k] as number;
    assert.ok(m('udp-loss', 'host.dropped_loss') > 0, 'udp-loss dropped nothing');
    assert.ok(m('tcp-rate', 'host.max_queue_kb') > 0 && m('udp-rate', 'host.max_queue_kb') > 0, 'the rate limit never queued');
    assert.ok(m('udp-jitter', 'stage.relay.p50') >= 10 && m('tcp-jitter', 'stage.relay.p50') >= 10, 'the 20 ms delay is not in the relay stage');
  } finally {
    db.close();
  }
});
