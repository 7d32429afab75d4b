// The recorder's summary and flags from what the collector brought back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PointRecording } from '../record/collector.ts';
import { recordingFlags, summarize } from './recorder.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

function recording(samples: PointRecording['samples'], extra: Partial<PointRecording> = {}): PointRecording {
  return { samples, events: [], agents: {}, gaps: [], probeErrors: [], clocks: {}, ...extra };
}

test('a CPU mean weighs each sample by its interval: a late tick of a busy process counts for its length', () => {
  // 100 % for the 300 ms between t=100 and t=400, then 0 % over three 100 ms intervals: 300 ms
  // busy in 600 ms is 50 %; an unweighted mean of the four readings would say 25 %.
  const s = (t: number, cpu: number) => [
    { t, role: 'guest', probe: 'proc', name: 'proc.server.cpu_pct', value: cpu },
    { t, role: 'guest', probe: 'proc', name: 'proc.server.rss_mb', value: 10 + t / 100 },
    { t, role: 'guest', probe: 'proc', name: 'proc.server.threads', value: t === 400 ? 7 : 3 },
  ];
  const samples = [{ t: 100, role: 'guest', probe: 'proc', name: 'proc.server.procs', value: 1 }, ...s(400, 100), ...s(500, 0), ...s(600, 0), ...s(700, 0)];
  const m = summarize(recording(samples), 1);
  assert.equal(m['guest.proc.server.cpu_pct'], 50);
  assert.equal(m['guest.proc.server.rss_mb'], 17);
  assert.equal(m['guest.proc.server.threads'], 7);
  // Within a window, only the part of each interval inside it counts.
  const w = summarize(recording(samples), 1, { fromMs: 450, toMs: 700 });
  assert.equal(w['guest.proc.server.cpu_pct'], 0);
  assert.equal(w['guest.proc.server.threads'], 3);
  // A window starting at 300: the busy reading at 400 covers (100, 400], of which 100 ms is inside;
  // 100 ms busy in the 400 ms from 300 to 700 is 25 % (counting its whole interval said 50 %: a
  // start-up burst before the window leaked in).
  assert.equal(summarize(recording(samples), 1, { fromMs: 300, toMs: 700 })['guest.proc.server.cpu_pct'], 25);
  // A window ending at 450 between ticks: the reading at 500 (0 %) covers its last 50 ms.
  assert.equal(summarize(recording(samples), 1, { fromMs: 100, toMs: 450 })['guest.proc.server.cpu_pct'], Number(((300 / 350) * 100).toFixed(3)));
  assert.equal(summarize(recording(samples), 1, { fromMs: 100, toMs: 450 })['guest.proc.server.rss_mb'], 14, 'peaks only from samples inside');
  // A selection with no process in the window gets no figures at all, rather than zeros.
  const none = summarize(recording([...samples, { t: 700, role: 'guest', probe: 'proc', name: 'proc.server.procs', value: 0 }]), 1, { fromMs: 650, toMs: 700 });
  assert.deepEqual(
    Object.keys(none).filter((k) => k.includes('proc.')),
    [],
  );
});

test('flags: failed probes with count and reasons, custom probes that gave nothing, declared processes that matched nothing', () => {
  const procs = (t: number, label: string, n: number) => ({ t, role: 'guest', probe: 'proc', name: `proc.${label}.procs`, value: n });
  const rec = recording([procs(100, 'server', 0), procs(200, 'server', 1), procs(100, 'viewer', 0), procs(200, 'viewer', 0), procs(900, 'late', 1), { t: 150, role: 'client', probe: 'custom.ok', name: 'custom.ok.fps', value: 30 }], {
    gaps: ['host: no data from 1.0 s to 3.0 s (agent unreachable)', 'guest: the agent restarted during the point: what it held is lost'],
    probeErrors: [
      { role: 'guest', probe: 'custom.enc', count: 12, first: 'custom.enc: enc-stats could not start (spawn enc-stats ENOENT)', last: 'custom.enc: enc-stats could not start (spawn enc-stats ENOENT)' },
      { role: 'client', probe: 'custom.q', count: 1, first: 'custom.q: q printed unreadable jsonl: line 1 is not JSON: x', last: 'custom.q: q printed unreadable jsonl: line 1 is not JSON: x' },
      { role: 'guest', probe: 'gpu.nvidia', count: 3, first: 'a', last: 'b' },
    ],
  });
  const flags = recordingFlags(
    rec,
    {
      custom: [
        { role: 'guest', names: ['enc'] },
        { role: 'client', names: ['q', 'ok', 'silent'] },
      ],
      processes: [
        { label: 'server', role: 'guest', name: 'x11vnc' },
        { label: 'viewer', role: 'guest', cmdline: 'vncviewer .*' },
        { label: 'db', role: 'host', cgroup: 'system.slice/postgresql.service' },
        { label: 'late', role: 'guest', pid: 4242 },
      ],
      localRoles: ['guest', 'client'],
    },
    { fromMs: 0, toMs: 500 },
  );
  assert.deepEqual(flags, [
    'recording gap: host: no data from 1.0 s to 3.0 s (agent unreachable)',
    'recording gap: guest: the agent restarted during the point: what it held is lost (see agents.log)',
    'probe custom.enc failed on guest (12 samples): enc-stats could not start (spawn enc-stats ENOENT) (see agents.log)',
    'probe custom.q failed on client (1 sample): q printed unreadable jsonl: line 1 is not JSON: x (see agents.log)',
    'probe gpu.nvidia failed on guest (3 samples): a; latest: b (see agents.log)',
    "custom probe 'silent' gave no value on client: no run of it finished with a number in its output (see agents.log)",
    "process selector 'viewer' (cmdline 'vncviewer .*') matched nothing on guest",
    "process selector 'db' (cgroup system.slice/postgresql.service) matched nothing on host",
    // It matched, but after the window: the summary has nothing of it.
    "process selector 'late' (pid 4242) matched nothing on guest",
  ]);
});
