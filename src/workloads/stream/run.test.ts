// The stream's figures cover the recorded window only: what the warm-up skipped, dropped, cost in
// CPU or showed late stays out, and each role's times are mapped onto the point's clock first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamSettings } from '../../config/stream-settings.ts';
import { TimeBase } from '../../record/timebase.ts';
import type { ClientFrame, GuestFrame, HostFrame, RoleReport } from '../../stream/report.ts';
import { analyzeStream, mapReportTimes } from './run.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../index.ts';

const settings = {
  codec: 'h264',
  bitrateBps: 1e6,
  rateControl: 'cbr',
  fps: 10,
  width: 320,
  height: 180,
  gop: 100,
  preset: '',
  threads: 1,
  scene: 'typing',
  grain: 0,
  transport: 'tcp',
  mtu: 1400,
  net: { delayMs: 0, jitterMs: 0, loss: 0, lossBurst: 1, queueMs: 150 },
  qualityEvery: 0,
  displayHz: 60,
  lateMs: 150,
  freezeMs: 200,
  warmupS: 1,
  durationS: 2,
} as unknown as StreamSettings;

/**
 * A 3 s stream at 10 fps on one clock starting at 1000 ms: 1 s warm-up, 2 s window. In the warm-up
 * the guest skips 4 ticks, the relay drops 50 packets and every frame is shown 400 ms late; the
 * guest spends 0.5 s of CPU there, then 0.2 s in the window. In the window nothing is skipped or
 * dropped and frames are shown after 40 ms.
 */
function reports(): { guest: RoleReport; host: RoleReport; client: RoleReport } {
  const start = 1000;
  const guestFrames: GuestFrame[] = [];
  const hostFrames: HostFrame[] = [];
  const clientFrames: ClientFrame[] = [];
  const skipped = [1, 2, 3, 4].map((i) => start + i * 100);
  for (let i = 0; i < 30; i++) {
    const due = start + i * 100;
    if (skipped.includes(due)) continue;
    const warm = due < start + 1000;
    guestFrames.push({ frame: i, due, captureStart: due, captureEnd: due + 1, encStart: due + 1, encEnd: due + 5, sendStart: due + 5, sendEnd: due + 6, bytes: 1000, key: i === 0 });
    hostFrames.push({ frame: i, inFirst: due + 6, inEnd: due + 7, outEnd: due + 8, fragmentsDropped: 0 });
    const lag = warm ? 400 : 40;
    clientFrames.push({ frame: i, recvFirst: due + 9, recvEnd: due + 10, decStart: due + 10, decEnd: due + lag - 2, display: due + lag, key: i === 0, bytes: 1000, psnr: 40, ssim: 0.99 });
  }
  const t = [start, start + 1000, start + 3000, start + 3200];
  const guest: RoleReport = {
    role: 'guest',
    pid: 1,
    startMs: start,
    endMs: start + 3010,
    cpuUserS: 0.7,
    cpuSystemS: 0,
    counters: { skipped_busy: 4, skipped_congested: 0 },
    frames: guestFrames,
    timeline: { t, cpuS: [0, 0.5, 0.7, 0.7], counters: {} },
    skipped: { busy: skipped, congested: [] },
  };
  const host: RoleReport = {
    role: 'host',
    pid: 2,
    startMs: start - 50,
    endMs: start + 3100,
    cpuUserS: 0.1,
    cpuSystemS: 0,
    counters: { packets_in: 200, dropped_queue: 50, dropped_loss: 0, bytes_out: 30000 },
    frames: hostFrames,
    queue: { t: [start + 500, start + 1500], bytes: [90_000, 2048], packets: [60, 2] },
    timeline: { t, cpuS: [0, 0.05, 0.09, 0.1], counters: { packets_in: [0, 100, 200, 200], dropped_queue: [0, 50, 50, 50], dropped_loss: [0, 0, 0, 0], bytes_out: [0, 6000, 26000, 30000] } },
  };
  const client: RoleReport = {
    role: 'client',
    pid: 3,
    startMs: start - 100,
    endMs: start + 3100,
    cpuUserS: 0.3,
    cpuSystemS: 0,
    counters: { keyframe_requests: 2 },
    frames: clientFrames,
    timeline: { t, cpuS: [0, 0.1, 0.3, 0.3], counters: { keyframe_requests: [0, 2, 2, 2] } },
  };
  return { guest, host, client };
}

test('the warm-up stays out of every window figure: skipped ticks, drops, loss, queue, CPU, late frames', () => {
  const a = analyzeStream(settings, reports(), { uncertaintyMs: 0 });
  const m = a.metrics;
  assert.equal(m['frames.sent'], 20, 'the 20 ticks of the 2 s window at 10 fps');
  assert.equal(m['guest.skipped'], 0, 'the 4 ticks skipped in the warm-up are not the window');
  assert.equal(m['host.dropped'], 0);
  assert.equal(m['host.dropped_queue'], 0);
  assert.equal(m['net.loss_measured_pct'], 0);
  assert.equal(m['client.keyframe_requests'], 0);
  assert.equal(m['host.bytes_out'], 20000);
  assert.equal(m['host.max_queue_kb'], 87.9, "the queue's fill at the window's start is the warm-up's, still there then");
  assert.equal(m['frames.late'], 0, 'the warm-up frames shown 400 ms late are not counted');
  assert.equal(m['latency.p95'], 40);
  // 0.2 s of guest CPU in the 2 s window: 10 %, 10 ms per frame sent (the warm-up's 0.5 s stays out).
  assert.equal(m['guest.cpu_s'], 0.2);
  assert.equal(m['guest.cpu_pct'], 10);
  assert.equal(m['guest.cpu_ms_per_frame'], 10);
  assert.equal(m['client.cpu_ms_per_frame'], 10, '0.2 s for 20 decoded frames');
  assert.equal(m['host.cpu_ms_per_frame'], 2, '0.04 s for 20 relayed frames');
  // The frame table keeps the warm-up, marked.
  assert.equal(a.frames['warmup']!.filter((w) => w === 1).length, 6);
  assert.deepEqual(a.window, { fromMs: 2000, toMs: 4000 });
  assert.deepEqual(a.conditions.found, []);
});

test('each role mapped onto the point clock first: a client 5000 s ahead gives the same figures as one clock', () => {
  const r = reports();
  const ahead = 5_000_000;
  const shifted = {
    ...r.client,
    startMs: r.client.startMs + ahead,
    endMs: r.client.endMs + ahead,
    frames: (r.client.frames as ClientFrame[]).map((f) => ({ ...f, recvFirst: f.recvFirst + ahead, recvEnd: f.recvEnd + ahead, decStart: f.decStart + ahead, decEnd: f.decEnd + ahead, display: f.display + ahead })),
    timeline: { ...r.client.timeline!, t: r.client.timeline!.t.map((t) => t + ahead) },
  };
  const tb = new TimeBase(0, { guest: { kind: 'same' }, host: { kind: 'same' }, client: { kind: 'measured', start: { offsetMs: ahead, uncertaintyMs: 0.4, rounds: 16, atMs: 0 } } });
  const mapped = { guest: mapReportTimes(r.guest, (t) => tb.toPoint('guest', t)), host: mapReportTimes(r.host, (t) => tb.toPoint('host', t)), client: mapReportTimes(shifted, (t) => tb.toPoint('client', t)) };
  const plain = analyzeStream(settings, r).metrics;
  const got = analyzeStream(settings, mapped, { uncertaintyMs: tb.crossUncertaintyMs(['guest', 'host', 'client']) }).metrics;
  for (const k of ['latency.p50', 'latency.p95', 'stage.downlink.p50', 'stage.network.p50', 'client.bitrate', 'client.cpu_pct', 'frames.late']) assert.equal(got[k], plain[k], k);
  assert.equal(got['clock.uncertainty_ms'], 0.4);
  // Unmapped, the client's stamps would put latency 5000 s away: the figure the mapping prevents.
  assert.ok((analyzeStream(settings, { ...r, client: shifted }).metrics['latency.p50'] as number) > 4_000_000);
});

test('a constant bitrate above its target, skipped ticks and a clock too uncertain for the latency are flagged with their figures', () => {
  const r = reports();
  // Every window frame 10x larger: 20 frames x 10 kB x 8 in 2 s = 800 kbit/s... then 2x: 1.6 Mbit/s for 1 Mbit/s.
  for (const f of r.guest.frames as GuestFrame[]) f.bytes = 20_000;
  r.guest.skipped = { busy: [2500, 2600], congested: [] };
  const a = analyzeStream(settings, r, { uncertaintyMs: 5 });
  const codes = a.conditions.found.map((c) => c.code).sort();
  assert.deepEqual(codes, ['bitrate_target_missed', 'clock_uncertain', 'frames_skipped']);
  const reason = (c: string) => a.conditions.found.find((x) => x.code === c)!.reason;
  assert.match(reason('bitrate_target_missed'), /1\.60 Mbit\/s for a CBR target of 1\.00 Mbit\/s \(\+60\.0 %/);
  assert.match(reason('frames_skipped'), /skipped 2 of 22 capture ticks/);
  assert.match(reason('clock_uncertain'), /±5 ms, more than 10 % of latency\.p50 \(40 ms\)/);
  assert.ok(a.conditions.checked.includes('fps_below_target'));
});

test('frame events a role gave up on the way to its agent are flagged as a recording gap, on the point clock', () => {
  const r = reports();
  r.guest.agentEvents = { sent: 40, givenUp: 500, gaps: [{ count: 500, fromT: 2500, toT: 3100, why: 'the agent at http://127.0.0.1:1 took none of them while 1000 more recent ones waited (queue full)' }] };
  const mapped = mapReportTimes(r.guest, (t) => t + 1000);
  assert.deepEqual(
    mapped.agentEvents!.gaps.map((g) => [g.fromT, g.toT]),
    [[3500, 4100]],
  );
  const a = analyzeStream(settings, r);
  assert.deepEqual(
    a.flags.filter((f) => f.startsWith('recording gap')),
    ['recording gap: guest: 500 frame event(s) given up, stamped 2.5 s to 3.1 s (the agent at http://127.0.0.1:1 took none of them while 1000 more recent ones waited (queue full))'],
  );
  assert.deepEqual(
    analyzeStream(settings, reports()).flags.filter((f) => f.startsWith('recording gap')),
    [],
    'none without a gap',
  );
});

test('QoE: a 400 ms hole in what the client showed is one freeze; utilization is delivered over the capacity offered; an unanswered drop and rise are counted, not timed', () => {
  const r = reports();
  // Frames 15-17 (due 2500-2700 ms) never shown: from the one shown at 2440 to the next at 2840.
  r.client.frames = (r.client.frames as ClientFrame[]).map((c) => (c.frame >= 15 && c.frame <= 17 ? { ...c, display: NaN } : c));
  // 200 kbit/s, 50 kbit/s from 2.5 s, back at 3.5 s; the guest sends 80 kbit/s throughout, so neither change is answered.
  r.host.capacity = { t: [1000, 2500, 3500], bps: [200e3, 50e3, 200e3] };
  const a = analyzeStream(settings, r);
  assert.equal(a.metrics['qoe.freeze_count'], 1);
  assert.equal(a.metrics['qoe.freeze_ms'], 400);
  assert.deepEqual(a.freezes, [{ fromMs: 2440, toMs: 2840 }]);
  // Offered in the 2 s window (2000-4000 ms): 0.5 s x 200k + 1 s x 50k + 0.5 s x 200k = 250 kbit.
  const delivered = (a.metrics['client.bitrate'] as number) * 2;
  assert.ok(Math.abs((a.metrics['qoe.utilization'] as number) - delivered / 250e3) < 1e-3, `${a.metrics['qoe.utilization']} vs ${delivered / 250e3}`);
  assert.equal(a.metrics['rate.unanswered'], 2);
  assert.ok(Number.isNaN(a.metrics['rate.reaction_ms']));
  // No capacity: no utilization nor reaction figures at all.
  const plain = analyzeStream(settings, reports());
  assert.equal(plain.metrics['qoe.utilization'], undefined);
  assert.equal(plain.metrics['qoe.freeze_count'], 0);
});
