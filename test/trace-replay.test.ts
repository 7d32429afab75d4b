// A trace replayed by the real relay process (`stream host --proxy`, the relay of every workload
// whose traffic passes it) over real sockets: a greedy sender behind it, a reader in front. What is
// asserted holds however busy the machine: the relay's emulated timeline (when each chunk's last
// byte left the bottleneck) is computed from arrival times and sizes, never from timer lateness, and
// the reader's byte count and clock are the independent references.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { monoMs } from '../src/base/clock.ts';
import type { ProxyReport } from '../src/stream/proxy.ts';
import { CLI, runCli } from './helpers/cli.ts';

const BIN = 100;
const MTU = 1500;

test('the relay replays a Mahimahi trace over real sockets: per 100 ms what the trace offers, never ahead of it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-replay-'));
  // 4 Mbit/s for a second, 1 Mbit/s, then 6 Mbit/s: one line per 1500-byte opportunity.
  const lines: number[] = [];
  let credit = 0;
  for (let ms = 0; ms < 3000; ms++) {
    credit += (ms < 1000 ? 4e6 : ms < 2000 ? 1e6 : 6e6) / 8000;
    for (; credit >= MTU; credit -= MTU) lines.push(ms + 1);
  }
  const trace = join(dir, 'steps.trace');
  writeFileSync(trace, `${lines.join('\n')}\n`);
  const offered = new Array<number>(30).fill(0);
  for (const t of lines) offered[Math.min(29, Math.floor(t / BIN))]! += MTU;
  // What 2.5 s of it offer: the sender has it all queued at once, so the link is idle only until the reader connects and after it has gone.
  const total = offered.slice(0, 25).reduce((a, b) => a + b, 0);

  const sender = createServer((s) => {
    const chunk = Buffer.alloc(1000, 7);
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(chunk.length, left);
        left -= n;
        if (!s.write(chunk.subarray(0, n))) return void s.once('drain', pump);
      }
    };
    pump();
  });
  await new Promise<void>((r) => sender.listen(0, '127.0.0.1', r));
  const upstream = (sender.address() as { port: number }).port;
  const report = join(dir, 'relay.json');
  const relay = spawn(process.execPath, [CLI, 'stream', 'host', '--proxy', '--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${upstream}`, '--report', report, '--set', `net_trace=${trace}`, '--set', `net_queue_bytes=${4 * total}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    relay.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    relay.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  const arrivals: { t: number; bytes: number }[] = [];
  const client: Socket = connect({ host: '127.0.0.1', port });
  let got = 0;
  await new Promise<void>((resolve) => {
    client.on('data', (d: Buffer) => {
      arrivals.push({ t: monoMs(), bytes: d.length });
      got += d.length;
      if (got >= total) resolve();
    });
  });
  client.destroy();
  relay.kill('SIGTERM');
  await new Promise((r) => relay.once('exit', r));
  sender.close();
  const r = JSON.parse(readFileSync(report, 'utf8')) as ProxyReport;

  // The reference byte count: the reader got exactly what the sender sent, as the relay accounts it.
  assert.equal(got, total);
  assert.equal(
    r.sentBins.reduce((a, b) => a + b, 0),
    total,
  );
  // The capacity series is the trace, window by window.
  assert.deepEqual(
    r.capacityBps.slice(0, 25).map((b) => Math.round((b * BIN) / 8000)),
    offered.slice(0, 25),
  );
  // Per 100 ms window of the relay's own timeline, while the sender was backlogged: from the
  // window after the first bytes came (the trace runs from the relay's start; the reader connects
  // later) to the one before the data ran out. What left is what the trace offered, within 5 % of
  // the window plus one read of the relay (a chunk counts in the window where its last byte left).
  const first = r.sentBins.findIndex((b) => b > 0) + 1;
  const last = r.sentBins.length - 2;
  assert.ok(last - first >= 3, `the data was spread over windows ${first} to ${last}`);
  const readMax = 64 * 1024;
  let cum = 0;
  let cumOffered = 0;
  for (let w = first; w < last; w++) {
    cum += r.sentBins[w]!;
    cumOffered += offered[w % 30]!;
    assert.ok(Math.abs(cum - cumOffered) <= 0.05 * offered[w % 30]! + readMax, `windows ${first} to ${w}: ${cum} B left, the trace offered ${cumOffered} B`);
  }
  // The reader's own clock: nothing ever arrived before the trace offered it (a relay that ignored
  // the trace would run ahead at once); lateness from a busy machine only moves arrivals later.
  let seen = 0;
  const offeredBy = (t: number) => lines.filter((x) => x <= t - r.linkStartMs).length * MTU;
  for (const a of arrivals) {
    seen += a.bytes;
    assert.ok(seen <= offeredBy(a.t) + MTU, `${seen} B arrived by ${(a.t - r.linkStartMs).toFixed(1)} ms, the trace offered ${offeredBy(a.t)} B`);
  }
});

test('validate names the trace file and line of what is wrong, and refuses a trace with net_rate (exit code 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-validate-'));
  writeFileSync(join(dir, 'bad.trace'), '0\n5\nfive\n');
  writeFileSync(join(dir, 'bad.csv'), 't,rate,delay,loss\n0,8M,10,0\n2,fast,10,0\n');
  writeFileSync(join(dir, 'ok.csv'), 't,rate\n0,8M\n2,1M\n');
  writeFileSync(join(dir, 'b.yaml'), 'name: t\nworkload:\n  type: stream\nmatrix:\n  net_trace: [ok.csv, bad.trace, bad.csv, none.trace]\n');
  const r = runCli(['validate', 'b.yaml'], { cwd: dir });
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /b\.yaml:5:\d+: net_trace: bad\.trace:3: 'five' is not a time in whole ms/);
  assert.match(r.err, /b\.yaml:5:\d+: net_trace: bad\.csv:3: rate 'fast' is not a bitrate/);
  assert.match(r.err, /net_trace: none\.trace: the trace file does not exist/);
  assert.doesNotMatch(r.err, /ok\.csv|\n\s+at /);
  writeFileSync(join(dir, 'c.yaml'), 'name: t\nworkload:\n  type: stream\nmatrix:\n  net_rate: [none, 2M]\n  net_trace: [ok.csv]\n');
  const c = runCli(['validate', 'c.yaml'], { cwd: dir });
  assert.equal(c.code, 2, c.err);
  assert.match(c.err, /c\.yaml:6:\d+: net_trace replaces net_rate, and the plan has points with both/);
  writeFileSync(join(dir, 'd.yaml'), 'name: t\nworkload:\n  type: stream\nmatrix:\n  net_rate: [none, 2M]\n  net_trace: [ok.csv]\nexclude:\n  - { net_rate: 2M }\n');
  assert.equal(runCli(['validate', 'd.yaml'], { cwd: dir }).code, 0);
});
