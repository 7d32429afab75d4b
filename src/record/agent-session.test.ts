// One timer for a session's probes and batches: probes of different intervals are sampled in the
// same wake-ups, on their own grids, never more often than their grid allows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { monoMs } from '../base/clock.ts';
import { Session } from './agent-session.ts';

test('a 100 ms and a 300 ms probe share their wake-ups: every later mem sample is stamped with a cpu sample, and neither runs ahead of its grid', async () => {
  const t0 = monoMs();
  const s = new Session('grid', { cpu: 100, mem: 300, net: false, cpufreq: false, gpu: false }, [], new Map(), 1000, 100);
  // Until mem has been sampled three times, however long a busy machine takes: a count, not a time.
  const memSamples = () => s.batches.flatMap((b) => b.samples).filter((x) => x.probe === 'mem').length;
  while (memSamples() < 3) await sleep(200);
  s.stop();
  const span = monoMs() - t0;
  const samples = s.batches.flatMap((b) => b.samples);
  const cpu = samples.filter((x) => x.probe === 'cpu').map((x) => x.t);
  const mem = samples.filter((x) => x.probe === 'mem').map((x) => x.t);
  // The first sample of each is taken when it is scheduled; every later one in a shared tick.
  assert.ok(mem.length >= 2, `mem sampled ${mem.length} times`);
  const cpuTimes = new Set(cpu);
  for (const t of mem.slice(1)) assert.ok(cpuTimes.has(t), `the mem sample at ${t} shares no tick with cpu`);
  // At most one sample per grid tick (plus the first): a late tick is not made up in a burst.
  assert.ok(cpu.length <= Math.floor(span / 100) + 1, `${cpu.length} cpu samples in ${span.toFixed(0)} ms`);
  assert.ok(mem.length <= Math.floor(span / 300) + 1, `${mem.length} mem samples in ${span.toFixed(0)} ms`);
  for (let i = 1; i < cpu.length; i++) assert.ok(cpu[i]! > cpu[i - 1]!, 'samples in time order');
  assert.equal(s.batches.at(-1)!.final, true);
});
