// Recording for real: agent processes over HTTP, a collector, broken connections, dead agents,
// tokens, hooks on remote roles, and a stream point recorded by three local agents.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { monoMs } from '../src/base/clock.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { estimateOffset } from '../src/record/clock.ts';
import { AgentRefused, Collector } from '../src/record/collector.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';

const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-record-'));

async function agent(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const argv = [...prefix, process.execPath, CLI, 'agent', ...args];
  // A prefix (unshare) leads a process group of its own: stop() signals the group, since unshare
  // --fork ignores SIGTERM and SIGINT itself and would outlive the test with its agent.
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env }, detached: prefix.length > 0 });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
  });
  return { child, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    // Started detached (under unshare): the whole group, the agent in it included.
    if ((child.spawnargs[0] ?? '').endsWith('unshare')) process.kill(-child.pid!, 'SIGTERM');
    else child.kill('SIGTERM');
  });
}

/** A TCP proxy that can be cut (every connection destroyed, listening stopped) and restored on the same port. */
class CuttableProxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}
  async open(): Promise<void> {
    this.server = createServer((c) => {
      const up = connect(this.target, '127.0.0.1');
      for (const s of [c, up]) {
        this.sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => this.sockets.delete(s));
      }
      c.pipe(up);
      up.pipe(c);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

test('clock offset: the exchange with the shortest round trip wins, ± half of it', () => {
  const e = estimateOffset([
    { sentMs: 0, agentMs: 1010, receivedMs: 20 },
    { sentMs: 100, agentMs: 1101, receivedMs: 102 },
    { sentMs: 200, agentMs: 1230, receivedMs: 240 },
  ]);
  assert.equal(e.offsetMs, 1000);
  assert.equal(e.uncertaintyMs, 1);
});

test('a remote agent needs a token; without the right one it is refused; /metrics speaks Prometheus', async () => {
  const bad = spawn(process.execPath, [CLI, 'agent', '--role', 'host', '--listen', '0.0.0.0:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STREAMBENCH_TOKEN: '' } });
  const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
  assert.equal(code, 2, 'listening beyond loopback without a token is refused at start');

  const a = await agent(['--role', 'host', '--listen', '127.0.0.1:0', '--token', 's3cret-token-for-tests']);
  try {
    await assert.rejects(new Collector([{ role: 'host', url: a.url }]).connect(), (e: unknown) => e instanceof AgentRefused && e.status === 401);
    await assert.rejects(new Collector([{ role: 'host', url: a.url, token: 'wrong' }]).connect(), (e: unknown) => e instanceof AgentRefused && e.status === 401);
    const c = new Collector([{ role: 'host', url: a.url, token: 's3cret-token-for-tests' }]);
    const hello = await c.connect();
    assert.equal(hello['host']!.facts.cores > 0, true);
    await c.startPoint('p1', { cpu: 100, mem: 100 });
    await sleep(600);
    const rec = await c.stopPoint();
    assert.ok(rec.samples.some((s) => s.name === 'cpu.busy_pct'));
    const res = await fetch(`${a.url}/metrics`, { headers: { authorization: 'Bearer s3cret-token-for-tests' } });
    const text = await res.text();
    assert.match(text, /^streambench_cpu_busy_pct\{role="host"\} [\d.]+$/m);
    assert.equal((await fetch(`${a.url}/metrics`)).status, 401);
  } finally {
    await stop(a.child);
  }
});

test('an agent reached over the network on this machine reads this clock (same boot, same time namespace): offset 0 exactly; one in its own time namespace is measured', async (t) => {
  const ip = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!ip) {
    t.skip('no non-loopback IPv4 address on this machine');
    return;
  }
  const a = await agent(['--role', 'host', '--listen', `${ip}:0`, '--token', 'token-for-the-offset-test']);
  try {
    const url = a.url.replace('127.0.0.1', ip);
    const c = new Collector([{ role: 'host', url, token: 'token-for-the-offset-test' }]);
    await c.connect();
    await c.startPoint('clock', { cpu: 100, mem: false, net: false, cpufreq: false, gpu: false });
    await sleep(300);
    const rec = await c.stopPoint();
    // Same boot id and time namespace, as the agent's hello says: the same CLOCK_MONOTONIC, exactly.
    assert.deepEqual(rec.clocks['host'], { kind: 'same' });
    assert.deepEqual([rec.agents['host']!.offsetMs, rec.agents['host']!.uncertaintyMs], [0, 0]);
  } finally {
    await stop(a.child);
  }
  // In a time namespace of its own (+1000 s), over the same address: measured, never assumed.
  if (spawnSync('unshare', ['--time', '--fork', '--monotonic', '1000', 'true']).status !== 0) {
    t.skip('no time namespaces here');
    return;
  }
  const shifted = await agent(['--role', 'host', '--listen', `${ip}:0`, '--token', 'token-for-the-offset-test'], {}, ['unshare', '--time', '--fork', '--kill-child', '--monotonic', '1000']);
  try {
    const c = new Collector([{ role: 'host', url: shifted.url.replace('127.0.0.1', ip), token: 'token-for-the-offset-test' }]);
    await c.connect();
    const t0 = monoMs();
    await c.startPoint('clock', { cpu: 100, mem: false, net: false, cpufreq: false, gpu: false });
    await sleep(300);
    const rec = await c.stopPoint();
    const t1 = monoMs();
    const clock = rec.agents['host']!;
    assert.equal(rec.clocks['host']!.kind, 'measured');
    // Bounds that hold however loaded the machine is (a busy one widens the round trips, and so
    // the stated uncertainty, which must then contain the truth): the shift lies within it, and
    // it is told apart from 0.
    assert.ok(Math.abs(clock.offsetMs - 1e6) <= clock.uncertaintyMs + 0.05, `offset ${clock.offsetMs} ms ± ${clock.uncertaintyMs}, the namespace's shift 1,000,000 ms`);
    assert.ok(clock.uncertaintyMs > 0 && clock.offsetMs - clock.uncertaintyMs > 0, `offset ${clock.offsetMs} ms ± ${clock.uncertaintyMs} is not told apart from 0`);
    // Its samples are on this clock: within the point (give or take the uncertainty), not 1000 s ahead.
    const ts = rec.samples.map((s) => s.t);
    const u = clock.uncertaintyMs + 0.05;
    assert.ok(ts.length > 0 && Math.min(...ts) >= t0 - u && Math.max(...ts) <= t1 + u, `samples at ${Math.min(...ts)}..${Math.max(...ts)}, the point from ${t0} to ${t1} ± ${u}`);
  } finally {
    await stop(shifted.child);
  }
});

test('hooks: an agent without --allow-commands refuses; with it, argv runs and output and exit code come back', async () => {
  const closed = await agent(['--role', 'guest', '--listen', '127.0.0.1:0']);
  // Commands need a token, on loopback too.
  const open = await agent(['--role', 'host', '--listen', '127.0.0.1:0', '--allow-commands'], { STREAMBENCH_TOKEN: 'hooks-test-token-0123456789' });
  try {
    const c = new Collector([
      { role: 'guest', url: closed.url },
      { role: 'host', url: open.url, token: 'hooks-test-token-0123456789' },
    ]);
    await c.connect();
    await assert.rejects(c.run('guest', { argv: ['true'], timeoutS: 5 }), (e: unknown) => e instanceof AgentRefused && e.status === 403);
    // The value stays one argument: no shell ever sees it.
    const r = await c.run('host', { argv: ['printf', '%s|', 'a b; echo pwned'], timeoutS: 5 });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'a b; echo pwned|');
    const f = await c.run('host', { argv: ['sh', '-c', 'exit 3'], timeoutS: 5 });
    assert.equal(f.exitCode, 3);
  } finally {
    await stop(closed.child);
    await stop(open.child);
  }
});

test('a broken connection loses no sample (sequence numbers prove it); a dead agent leaves a flagged gap', async () => {
  const a = await agent(['--role', 'client', '--listen', '127.0.0.1:0']);
  const proxy = new CuttableProxy(Number(new URL(a.url).port));
  await proxy.open();
  try {
    const c = new Collector([{ role: 'client', url: `http://127.0.0.1:${proxy.port}` }]);
    await c.connect();
    const reconnects: number[] = [];
    c.on('reconnected', (e: { afterMs: number }) => reconnects.push(e.afterMs));
    const live: number[] = [];
    c.on('sample', (e: { t: number }) => live.push(e.t));
    await c.startPoint('cut', { cpu: 100, mem: false, net: false, cpufreq: false, gpu: false });
    // Waits on what happened, never on the clock: a loaded machine only makes each wait longer.
    const waitFor = async (cond: () => boolean | Promise<boolean>) => {
      while (!(await cond())) await sleep(50);
    };
    await waitFor(() => live.length > 0);
    await proxy.cut();
    const cutAt = monoMs();
    // What the agent holds for the collector while it is cut off, read from the agent itself
    // (after=0 acknowledges nothing): wait until it holds samples taken after the cut.
    const held = async (): Promise<{ t: number; v: number }[]> => {
      const r = (await (await fetch(`${a.url}/v1/sessions/cut/batches?after=0&wait=0`)).json()) as { batches: { samples: { t: number; probe: string; values: Record<string, number> }[] }[] };
      return r.batches.flatMap((b) => b.samples.filter((x) => x.values['cpu.busy_pct'] !== undefined).map((x) => ({ t: x.t, v: x.values['cpu.busy_pct']! })));
    };
    let duringCut: { t: number; v: number }[] = [];
    await waitFor(async () => (duringCut = (await held()).filter((x) => x.t > cutAt)).length >= 2);
    await proxy.open();
    await waitFor(() => reconnects.length >= 1);
    const rec = await c.stopPoint();
    assert.deepEqual(rec.gaps, [], 'nothing missing');
    // Every sample the agent took while the connection was cut reached the collector, value and time.
    const got = new Set(rec.samples.filter((x) => x.name === 'cpu.busy_pct').map((x) => `${x.t}|${x.value}`));
    for (const x of duringCut) assert.ok(got.has(`${x.t}|${x.v}`), `the sample of ${x.t} taken during the cut is missing`);
    assert.ok(rec.samples.some((x) => x.t < cutAt) && rec.samples.some((x) => x.t > cutAt), 'samples from before and after the cut');
    assert.equal(rec.agents['client']!.lastSeq, rec.agents['client']!.batches, 'batches 1..N, each once');

    // Now the agent dies for good in the middle of a point.
    await c.startPoint('dead', { cpu: 100, mem: false, net: false, cpufreq: false, gpu: false });
    await sleep(800);
    a.child.kill('SIGKILL');
    await sleep(2500);
    const rec2 = await c.stopPoint();
    assert.equal(rec2.gaps.length >= 1, true);
    assert.ok(
      rec2.gaps.some((g) => /client: no data from \d/.test(g)),
      rec2.gaps.join('; '),
    );
  } finally {
    await proxy.cut().catch(() => undefined);
    a.child.kill('SIGKILL');
  }
});

/** The longest interval between two samplings of the role's process probe (seconds). */
async function samplingIntervalS(set: ResultSet, role: string): Promise<number> {
  const db = await openSetDatabase([set]);
  try {
    const rows = (
      await db.conn.runAndReadAll(`
      SELECT max(dt) AS dt FROM (
        SELECT t - lag(t) OVER (ORDER BY t) AS dt FROM (SELECT DISTINCT t FROM samples WHERE role = '${role}' AND probe = 'proc'))`)
    ).getRowObjectsJson();
    return Number(rows[0]!['dt']);
  } finally {
    db.close();
  }
}

test('a stream point recorded by three local agents: system, process and frame series per role, on one time base', async () => {
  const file = join(work, 'rec.yaml');
  writeFileSync(
    file,
    `name: rec
workload: {type: stream, resolution: 640x360, scene: drag, bitrate: 1M}
matrix: {codec: h264}
duration: 3s
recording:
  allow_commands: true
setup:
  - {run: [uname, -s], on: host}
`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'rec-results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  assert.equal(summary.ok, 1, summary.stoppedBy);
  const p = set.points()[0]!;
  assert.deepEqual(
    p.flags.filter((f) => f.startsWith('recording')),
    [],
  );
  for (const role of ['guest', 'host', 'client']) {
    assert.equal(typeof p.metrics[`${role}.sys.cpu_pct`], 'number', `${role}.sys.cpu_pct`);
    assert.ok((p.metrics[`${role}.proc.${role}.cpu_pct`] as number) > 0, `${role} process CPU recorded by its agent`);
    assert.equal(typeof p.metrics[`${role}.agent.cpu_pct`], 'number');
    // Two independent readings of the same process: the agent's /proc sampling over the recorded
    // window (the guest's 3 s, no warm-up here) and the role's own CPU counter over its own life,
    // which contains that window (a client starts before the guest and drains after it; on a busy
    // machine the gap was 0.8 s). So in CPU-seconds the agent cannot see more than the role spent,
    // and in percent the agent's reading cannot be below the role's, which the idle wait outside
    // the window dilutes. Slack: 3 points of one core, plus one sampling interval at each edge of
    // the window at one full core (the readings there are means over intervals that straddle it).
    const agentPct = p.metrics[`${role}.proc.${role}.cpu_pct`] as number;
    const ownPct = p.metrics[`${role}.cpu_pct`] as number;
    const ownCpuS = p.metrics[`${role}.cpu_s`] as number;
    const windowS = 3;
    const edgeS = 2 * (await samplingIntervalS(set, role));
    const slackS = 0.03 * windowS + edgeS;
    const agentCpuS = (agentPct / 100) * windowS;
    const said = `${role}: agent reads ${agentPct} % (${agentCpuS.toFixed(3)} s over ${windowS} s), the role itself ${ownPct} % (${ownCpuS} s over ${((ownCpuS / ownPct) * 100).toFixed(2)} s); slack ${slackS.toFixed(3)} s`;
    assert.ok(agentCpuS <= ownCpuS + slackS, said);
    assert.ok(agentPct >= ownPct - (slackS / windowS) * 100, said);
  }
  assert.match(readFileSync(join(set.dir, 'hooks.log'), 'utf8'), /setup\[0\] on host: \["uname","-s"\] -> ok\nLinux/);

  const db = await openSetDatabase([set]);
  try {
    const roles = (await db.conn.runAndReadAll(`SELECT role, count(DISTINCT name) AS names FROM samples GROUP BY role ORDER BY role`)).getRowObjectsJson();
    assert.deepEqual(
      roles.map((r) => r['role']),
      ['client', 'guest', 'host'],
    );
    const ev = (await db.conn.runAndReadAll(`SELECT stage, count(*) AS n FROM events GROUP BY stage ORDER BY stage`)).getRowObjectsJson();
    // Every frame the guest encoded reached its agent as an event, however few a busy machine
    // managed in its 3 s: the guest's own report is the count to meet.
    const pointDir = join(set.dir, 'points', readdirSync(join(set.dir, 'points'))[0]!);
    // (one record per packet it sent, as one enc_end event per packet)
    const guestFrames = (JSON.parse(readFileSync(join(pointDir, 'guest.json'), 'utf8')) as { frames: unknown[] }).frames.length;
    const encoded = Number(ev.find((e) => e['stage'] === 'enc_end')?.['n'] ?? 0);
    assert.ok(guestFrames > 0, 'the guest encoded frames');
    assert.equal(encoded, guestFrames, JSON.stringify(ev));
    // One time base: each frame's encode event joins the guest's CPU sample nearest before it, no
    // further back than the longest interval between two of those samples (a late tick of a busy
    // agent widens both alike); and the frame's events from the three roles come in stage order.
    const joined = (
      await db.conn.runAndReadAll(`
      SELECT e.frame, e.t, s.t AS sample_t, s.value
      FROM (SELECT * FROM events WHERE stage = 'enc_end') e
      ASOF JOIN (SELECT * FROM samples WHERE role = 'guest' AND name = 'cpu.busy_pct') s ON e.t >= s.t`)
    ).getRowObjectsJson();
    const gap = (
      await db.conn.runAndReadAll(`
      SELECT max(dt) AS dt FROM (SELECT t - lag(t) OVER (ORDER BY t) AS dt FROM samples WHERE role = 'guest' AND name = 'cpu.busy_pct')`)
    ).getRowObjectsJson();
    const maxGap = Number(gap[0]!['dt']);
    assert.equal(joined.length, encoded, 'each encode event has a guest sample before it');
    for (const j of joined) {
      const d = (j['t'] as number) - (j['sample_t'] as number);
      assert.ok(d >= 0 && d <= maxGap, `encode event ${d} s after the nearest sample; samples at most ${maxGap} s apart`);
    }
    const order = (
      await db.conn.runAndReadAll(`
      SELECT count(*) AS bad FROM (
        SELECT frame,
          max(t) FILTER (WHERE stage = 'enc_end') AS encoded,
          max(t) FILTER (WHERE stage = 'host_in') AS relayed,
          max(t) FILTER (WHERE stage = 'recv_end') AS received
        FROM events GROUP BY frame)
      -- Causal order only: send_end is when the guest heard its write was done, which may come
      -- after the relay already had the bytes.
      WHERE NOT (encoded <= relayed AND relayed <= received)`)
    ).getRowObjectsJson();
    assert.equal(Number(order[0]!['bad']), 0);
  } finally {
    db.close();
  }
});
