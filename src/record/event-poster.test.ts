// The frame-event queue of a pipeline role: bounded, sent oldest first in pieces the agent takes,
// and what it gives up is counted as a gap (issue 19).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Agent } from './agent.ts';
import { Collector } from './collector.ts';
import { EventPoster } from './event-poster.ts';
import type { FrameEvent } from './protocol.ts';

const events = (n: number, from = 0): FrameEvent[] => Array.from({ length: n }, (_, i) => ({ t: 1000 + from + i, frame: from + i, stage: 'enc_end', role: 'guest', value: 123456 + i }));

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a backlog larger than the agent takes in one body is sent in pieces, oldest first, and all of it arrives', { timeout: 300_000 }, async () => {
  const agent = new Agent({ role: 'guest', host: '127.0.0.1', port: 0, allowCommands: false, batchMs: 100 });
  const port = await agent.listen();
  try {
    const c = new Collector([{ role: 'guest', url: `http://127.0.0.1:${port}` }]);
    await c.connect();
    await c.startPoint('p', { cpu: false, mem: false, net: false, cpufreq: false, gpu: false });
    // 120000 events are about 9 MB of JSON: above the agent's 8 MiB body limit, as a long
    // outage leaves them. Posted whole, the agent refuses the body (413) and every one is lost.
    const n = 120_000;
    const poster = new EventPoster(`http://127.0.0.1:${port}`, undefined, { everyMs: 3_600_000, maxPending: n });
    poster.add(events(n));
    assert.ok(JSON.stringify({ events: events(n) }).length > 8 * 1024 * 1024, 'the backlog is over the agent body limit');
    await poster.close();
    assert.equal(poster.refused, 0, poster.lastRefusal);
    assert.deepEqual(poster.gaps, []);
    assert.equal(poster.sent, n);
    const rec = await c.stopPoint();
    assert.equal(rec.events.length, n);
    assert.deepEqual(
      rec.events.slice(0, 3).map((e) => e.frame),
      [0, 1, 2],
      'oldest first',
    );
    assert.equal(rec.events.at(-1)!.frame, n - 1);
  } finally {
    agent.close();
  }
});

test('an agent out of reach: the queue is bounded, the oldest are given up and counted, and what is left at the end too', async () => {
  const poster = new EventPoster(`http://127.0.0.1:${await deadPort()}`, undefined, { everyMs: 3_600_000, maxPending: 1000 });
  poster.add(events(600));
  await poster.flush();
  assert.ok(poster.failures >= 1);
  poster.add(events(900, 600));
  // 1500 added, 1000 kept: the 500 oldest (stamped 1000..1499) are given up as one gap.
  assert.equal(poster.gaps.length, 1);
  assert.deepEqual({ ...poster.gaps[0]!, why: '' }, { count: 500, fromT: 1000, toT: 1499, why: '' });
  assert.match(poster.gaps[0]!.why, /took none of them while 1000 more recent ones waited \(queue full\)/);
  await poster.close();
  // The role ends with the agent still unreachable: the 1000 left are given up, said as such.
  assert.equal(poster.givenUp, 1500);
  assert.equal(poster.gaps.length, 2);
  assert.deepEqual([poster.gaps[1]!.count, poster.gaps[1]!.fromT, poster.gaps[1]!.toT], [1000, 1500, 2499]);
  assert.match(poster.gaps[1]!.why, /could not be reached when the role ended/);
  assert.equal(poster.sent, 0);
});

test('events the agent refuses are given up and counted, with its answer', async () => {
  const agent = new Agent({ role: 'guest', host: '127.0.0.1', port: 0, allowCommands: false, token: 'the-right-token-0123456789' });
  const port = await agent.listen();
  try {
    const poster = new EventPoster(`http://127.0.0.1:${port}`, 'a-wrong-token-0123456789', { everyMs: 3_600_000 });
    poster.add(events(10));
    await poster.close();
    assert.equal(poster.refused, 10);
    assert.equal(poster.gaps.length, 1);
    assert.equal(poster.gaps[0]!.count, 10);
    assert.match(poster.gaps[0]!.why, /refused them: 401/);
  } finally {
    agent.close();
  }
});
