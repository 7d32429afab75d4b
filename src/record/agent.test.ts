// A real agent (in this process, over loopback HTTP) and the collector: what fails on the agent's
// side reaches the collector in the batches, not only the agent's log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from './agent.ts';
import { AgentRefused, Collector } from './collector.ts';

async function withAgent(fn: (c: Collector, agent: Agent) => Promise<void>): Promise<void> {
  const agent = new Agent({ role: 'guest', host: '127.0.0.1', port: 0, allowCommands: false, batchMs: 100 });
  const port = await agent.listen();
  const c = new Collector([{ role: 'guest', url: `http://127.0.0.1:${port}` }]);
  try {
    await c.connect();
    await fn(c, agent);
  } finally {
    agent.close();
  }
}

test('probe failures travel to the collector with their count and reason: a missing command, output that is not JSON', async () => {
  await withAgent(async (c) => {
    await c.startPoint('p1', {
      cpu: 100,
      mem: false,
      net: false,
      cpufreq: false,
      gpu: false,
      custom: [
        { name: 'missing', argv: ['streambench-no-such-command'], format: 'jsonl', intervalMs: 100 },
        { name: 'garbled', argv: [process.execPath, '-e', 'console.log("fps: 30")'], format: 'jsonl', intervalMs: 100 },
        { name: 'fine', argv: [process.execPath, '-e', 'console.log(JSON.stringify({fps: 30}))'], format: 'jsonl', intervalMs: 100 },
      ],
    });
    // Long enough for several runs of each command, even on a loaded machine.
    await sleep(1500);
    const rec = await c.stopPoint();
    const byProbe = new Map(rec.probeErrors.map((e) => [e.probe, e]));
    assert.deepEqual([...byProbe.keys()].sort(), ['custom.garbled', 'custom.missing'], JSON.stringify(rec.probeErrors));
    const missing = byProbe.get('custom.missing')!;
    assert.equal(missing.role, 'guest');
    assert.match(missing.first, /streambench-no-such-command could not start \(spawn streambench-no-such-command ENOENT\)/);
    assert.ok(missing.count >= 2, `counted every failed sample, got ${missing.count}`);
    assert.match(byProbe.get('custom.garbled')!.first, /printed unreadable jsonl: line 1 is not JSON: fps: 30/);
    // The probe that works still gives its values, and the failing ones none.
    assert.ok(rec.samples.some((s) => s.name === 'custom.fine.fps' && s.value === 30));
    assert.ok(!rec.samples.some((s) => s.probe === 'custom.missing' || s.probe === 'custom.garbled'));
  });
});

test('a session whose process selector cannot be used is refused with the reason, and the agent records nothing for it', async () => {
  await withAgent(async (c, agent) => {
    await assert.rejects(c.startPoint('p2', { cpu: 100 }, { guest: [{ label: 'bad', cmdline: 'vncviewer (' }] }), (e: unknown) => e instanceof AgentRefused && e.status === 400 && /selectors: .*Invalid regular expression/.test(e.message));
    // The refused session sampled nothing: no probe of it was started (its timers would run forever).
    await sleep(300);
    assert.deepEqual([...agent.latest.keys()], []);
    // A good session afterwards works.
    await c.startPoint('p3', { cpu: 100, mem: false, net: false, cpufreq: false, gpu: false }, { guest: [{ label: 'me', pid: process.pid }] });
    await sleep(400);
    const rec = await c.stopPoint();
    assert.deepEqual(rec.probeErrors, []);
    assert.ok(rec.samples.some((s) => s.name === 'proc.me.procs' && s.value === 1));
  });
});

test('routing through the route table: each route answers as before, unknown paths and methods 404, command paths 403 without --allow-commands', async () => {
  const agent = new Agent({ role: 'gu"est', host: '127.0.0.1', port: 0, allowCommands: false });
  const port = await agent.listen();
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  };
  try {
    const hello = await call('GET', '/v1/hello');
    assert.equal(hello.status, 200);
    assert.equal((JSON.parse(hello.text) as { agentId: string }).agentId, agent.agentId);
    assert.equal((await call('GET', '/v1/time')).status, 200);
    assert.deepEqual(await call('GET', '/v1/nothing'), { status: 404, type: 'application/json', text: '{"error":"no GET /v1/nothing"}' });
    assert.deepEqual((await call('GET', '/v1/sessions')).status, 404, 'a path of another method: 404, as before the table');
    assert.equal((await call('POST', '/v1/run', { argv: ['true'], timeoutS: 1 })).status, 403);
    assert.match((await call('GET', '/v1/procs/0123456789abcdef')).text, /does not run commands/);
    assert.equal((await call('POST', '/v1/procs/unknown/path', {})).status, 403, 'any path under /v1/procs');
    assert.deepEqual(JSON.parse((await call('POST', '/v1/sessions/none/stop')).text), { error: 'no session none', agentId: agent.agentId });
    const started = await call('POST', '/v1/sessions', { id: 'p1', probes: { cpu: false, mem: false, net: false, cpufreq: false, gpu: false } });
    assert.equal(started.status, 200, started.text);
    assert.equal((await call('POST', '/v1/sessions', { id: 'bad id!', probes: {} })).status, 400, 'a body the protocol refuses');
    const batches = await call('GET', '/v1/sessions/p1/batches?after=0&wait=0');
    assert.equal(batches.status, 200);
    assert.equal((await call('POST', '/v1/sessions/p1/stop')).status, 200);
    agent.latest.set('cpu', { cpu_busy_pct: 12.5, 'odd-name': 1, nan: Number.NaN });
    const metrics = await call('GET', '/metrics');
    assert.equal(metrics.type, 'text/plain; version=0.0.4');
    assert.match(metrics.text, /^streambench_cpu_busy_pct\{role="gu_est"\} 12\.5\nstreambench_odd_name\{role="gu_est"\} 1\nstreambench_agent_cpu_seconds_total\{role="gu_est"\} [\d.e-]+\n$/);
  } finally {
    agent.close();
  }
});
