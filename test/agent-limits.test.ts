// What an agent process bounds, checked on a real `streambench agent` over HTTP (issue 19, item 5):
// a session it lets go is stopped (the commands of its probes end with it), and a hook's
// timeout longer than Node's timers hold is refused, not turned into a kill after milliseconds.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const TOKEN = 'agent-limits-test-token-0123456789';

async function agent(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'agent', '--role', 'guest', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, STREAMBENCH_TOKEN: TOKEN } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function post(port: number, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'content-length': String(Buffer.byteLength(text)) } }, (res) => {
      let out = '';
      res.on('data', (d: Buffer) => (out += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text: out }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Processes whose parent is `ppid` and whose argv is exactly `argv`. */
function childrenRunning(ppid: number, argv: string[]): number[] {
  const found: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8') === argv.join('\0') + '\0') found.push(Number(d));
    } catch {
      // gone while listed
    }
  }
  return found;
}

/**
 * Whether `pid` still runs untouched: present, not a zombie, and no SIGKILL pending for it. Once
 * SIGKILL is sent a process is never seen sleeping without it pending: it wakes, takes the signal
 * and exits. So this needs no waiting, on a machine however loaded.
 */
function runsUntouched(pid: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false; // gone (reaped)
  }
  const field = (k: string) => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
  if (field('State') === 'Z' || field('State') === 'X') return false;
  const killPending = (mask: string) => (BigInt(`0x${mask || '0'}`) & 0x100n) !== 0n; // bit 8: signal 9
  return !killPending(field('SigPnd')) && !killPending(field('ShdPnd'));
}

test('a session the agent lets go (only the latest 4 are kept) is stopped: the commands of its probes are killed, the kept ones run on', async () => {
  const a = await agent([]);
  try {
    const pid = a.child.pid!;
    // A custom probe whose command runs for a day, sampled once an hour: without a stop, it
    // runs on after its session is forgotten. Each session's own duration tells its command apart.
    const argvOf = (i: number) => ['sleep', `86399.${i}`];
    const probes = (i: number) => ({ cpu: false, mem: false, net: false, cpufreq: false, gpu: false, custom: [{ name: `s${i}`, argv: argvOf(i), format: 'jsonl', intervalMs: 3_600_000 }] });
    const pids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await post(a.port, '/v1/sessions', { id: `point-${i}`, probes: probes(i) });
      assert.equal(r.status, 200, r.text);
      if (i === 1) {
        // The first sample is taken as the session starts: its command runs before the answer.
        const first = childrenRunning(pid, argvOf(1));
        assert.equal(first.length, 1, "the first session's probe command runs");
        pids.push(first[0]!);
      }
    }
    // point-5 made point-1 the fifth: let go, and stopped before the answer.
    assert.equal(runsUntouched(pids[0]!), false, `the evicted session's probe command (pid ${pids[0]}) was killed`);
    for (let i = 2; i <= 5; i++) {
      const kept = childrenRunning(pid, argvOf(i));
      assert.equal(kept.length, 1, `session point-${i} is kept and its command runs`);
      assert.equal(runsUntouched(kept[0]!), true, 'the check tells a running command apart');
    }
    const gone = await post(a.port, '/v1/sessions/point-1/stop', {});
    assert.equal(gone.status, 404, 'the evicted session is forgotten');
  } catch (e) {
    // An agent whose evicted session runs on keeps its timer, and with it its loop, past SIGTERM.
    a.child.kill('SIGKILL');
    throw e;
  } finally {
    await stop(a.child);
  }
});

test('/v1/run: a timeout beyond what timers hold (1e308 s, 3000000 s) is refused with 400 and why; 7 days and less run', async () => {
  const a = await agent(['--allow-commands']);
  try {
    for (const timeoutS of [1e308, 3_000_000, 604_801, 0, -1]) {
      const r = await post(a.port, '/v1/run', { argv: ['sleep', '0.2'], timeoutS });
      // Before: 200, the command killed by a timer that overflowed and fired after ~1 ms ({"signal":"SIGKILL"}).
      assert.equal(r.status, 400, `timeoutS ${timeoutS}: ${r.text}`);
      assert.match((JSON.parse(r.text) as { error: string }).error, /^run: \/timeoutS Expected number to be (less or equal to 604800|greater than 0)$/, r.text);
    }
    const ok = await post(a.port, '/v1/run', { argv: ['sleep', '0.2'], timeoutS: 604_800 });
    assert.equal(ok.status, 200, ok.text);
    const done = JSON.parse(ok.text) as { exitCode: number | null; signal: string | null };
    assert.deepEqual([done.exitCode, done.signal], [0, null], 'the longest timeout lets the command finish');
    const empty = await post(a.port, '/v1/run', { argv: [''], timeoutS: 10 });
    assert.equal(empty.status, 400, empty.text);
    assert.match(empty.text, /argv\/0 the program name is empty/);
    const badEnv = await post(a.port, '/v1/run', { argv: ['true'], timeoutS: 10, env: { 'A=B': 'x' } });
    assert.equal(badEnv.status, 400, badEnv.text);
  } finally {
    await stop(a.child);
  }
});
