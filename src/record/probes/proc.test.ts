// ProcessProbe against the kernel's own accounting and pidstat, selection by each selector kind,
// and the bookkeeping of processes that come and go (on a fake /proc, where counters are chosen).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { monoMs } from '../../base/clock.ts';
import { ProcessProbe } from './proc.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(argv: string[]): ChildProcess {
  const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  c.on('error', () => {});
  return c;
}

function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    c.once('exit', () => r());
    c.kill('SIGKILL');
  });
}

/** Nanoseconds all threads of a process have run, from /proc/<pid>/task/<tid>/schedstat: the scheduler's exact runtime, a reference independent of the tick-based utime/stime. */
function runtimeNs(pid: number): number {
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between listing and reading
    }
  }
  return sum;
}

/** Samples at 10 Hz for `ms` (the first sample is the baseline); returns the time-weighted mean of each value over the samples that have it. */
async function sampleFor(p: ProcessProbe, ms: number): Promise<Record<string, number>> {
  let prev = monoMs();
  p.sample(prev);
  const end = prev + ms;
  const sums: Record<string, number> = {};
  let total = 0;
  while (monoMs() < end) {
    await sleep(100);
    const now = monoMs();
    const v = p.sample(now);
    for (const [k, x] of Object.entries(v)) sums[k] = (sums[k] ?? 0) + x * (now - prev);
    total += now - prev;
    prev = now;
  }
  const out: Record<string, number> = {};
  for (const [k, s] of Object.entries(sums)) out[k] = s / total;
  return out;
}

test('a busy loop reads 100 % of one core (+-3), and agrees with the scheduler runtime over the same interval', async () => {
  const child = start([process.execPath, '-e', 'for(;;){}']);
  try {
    await sleep(300); // node's start-up
    const pid = child.pid!;
    const p = new ProcessProbe({ select: [{ label: 'busy', pid }] });
    const t0 = monoMs();
    const r0 = runtimeNs(pid);
    const mean = await sampleFor(p, 2000);
    const reference = ((runtimeNs(pid) - r0) / 1e6 / (monoMs() - t0)) * 100;
    const cpu = mean['proc.busy.cpu_pct']!;
    console.log(`busy loop: probe ${cpu.toFixed(2)} % of a core, scheduler runtime ${reference.toFixed(2)} %`);
    assert.ok(Math.abs(cpu - reference) <= 3, `probe ${cpu} vs runtime ${reference}`);
    // On a machine too loaded to give the loop its core, the runtime comparison above is the test.
    if (reference >= 97) assert.ok(Math.abs(cpu - 100) <= 3, `probe ${cpu}`);
    assert.equal(mean['proc.busy.procs'], 1);
    // A loop in user space: nearly all of it user time.
    assert.ok(mean['proc.busy.user_pct']! >= 0.9 * cpu, `user ${mean['proc.busy.user_pct']} of ${cpu}`);
    assert.ok(mean['proc.busy.rss_mb']! > 10);
    assert.ok(mean['proc.busy.threads']! >= 1);
  } finally {
    await stop(child);
  }
});

test('per-process CPU agrees with pidstat within 3 points on a process burning about half a core', async () => {
  // 10 ms busy, 10 ms asleep, by the clock; Atomics.wait sleeps without a timer's slack.
  const burn = 'const s=new Int32Array(new SharedArrayBuffer(4));for(;;){const t=performance.now()+10;while(performance.now()<t);Atomics.wait(s,0,0,10)}';
  const child = start([process.execPath, '-e', burn]);
  try {
    await sleep(300);
    const pid = child.pid!;
    const p = new ProcessProbe({ select: [{ label: 'half', pid }] });
    const pidstat = spawn('pidstat', ['-p', String(pid), '1', '2'], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    pidstat.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((r) => pidstat.once('close', (code) => r(code)));
    // The probe's window is pidstat's own, from its start to its exit: pidstat reads the process
    // as it starts and then prints its banner, so the window opens at the banner (on a loaded
    // machine pidstat's start-up can take longer than the comparison's tolerance covers).
    await new Promise<void>((r) => pidstat.stdout.once('data', () => r()));
    let prev = monoMs();
    p.sample(prev);
    let ticksWeighted = 0;
    let userWeighted = 0;
    let sysWeighted = 0;
    let total = 0;
    // Set by the callback: `as boolean` keeps the loop's test from being narrowed to `false`.
    let finished = false as boolean;
    void done.then(() => (finished = true));
    while (!finished) {
      await Promise.race([sleep(100), done]);
      const now = monoMs();
      const v = p.sample(now);
      ticksWeighted += v['proc.half.cpu_pct']! * (now - prev);
      userWeighted += v['proc.half.user_pct']! * (now - prev);
      sysWeighted += v['proc.half.system_pct']! * (now - prev);
      total += now - prev;
      prev = now;
    }
    assert.equal(await done, 0, out);
    const lines = out.split('\n');
    const header = lines
      .find((l) => l.includes('%CPU'))!
      .trim()
      .split(/\s+/);
    const avg = lines
      .find((l) => l.startsWith('Average:'))!
      .trim()
      .split(/\s+/);
    const col = (name: string) => Number(avg[header.indexOf(name)]);
    const probe = ticksWeighted / total;
    console.log(`pidstat %CPU ${col('%CPU')} (%usr ${col('%usr')}, %system ${col('%system')}); probe ${probe.toFixed(2)} (user ${(userWeighted / total).toFixed(2)}, system ${(sysWeighted / total).toFixed(2)})`);
    // The burner sleeps half its time, so it never reaches 80 %; on a loaded machine it gets less
    // than its half core, by how much is the machine's load, not the probe's doing: it only has
    // to burn something, and the probe must then read what pidstat reads.
    assert.ok(col('%CPU') > 0 && col('%CPU') < 80, `the burner is not burning a share of a core: ${col('%CPU')}`);
    assert.ok(Math.abs(probe - col('%CPU')) <= 3, `probe ${probe} vs pidstat ${col('%CPU')}`);
  } finally {
    await stop(child);
  }
});

test('name, cmdline and cgroup selectors find a child; a new match waits for the next rescan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-proc-'));
  // A distinct comm: exec through a symlink names the process after the link.
  const name = `sbp${process.pid % 100000}`;
  const bin = join(dir, name);
  symlinkSync('/bin/sleep', bin);
  const a = start([bin, '30.4159']);
  let b: ChildProcess | undefined;
  try {
    await sleep(200);
    const pid = a.pid!;
    const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .map((l) => l.split(':').slice(2).join(':'))
      .filter(Boolean);
    const cg = cgroups.reduce((x, y) => (y.length > x.length ? y : x));
    const p = new ProcessProbe({
      select: [
        { label: 'byname', name },
        { label: 'bycmd', cmdline: `${name} 30\\.4159$` },
        { label: 'bycg', cgroup: cg },
        { label: 'both', name, cmdline: '30\\.4159' },
        { label: 'nomatch', name, cmdline: 'nothing-like-this' },
        { label: 'bypid', pid },
      ],
    });
    const v = p.sample(0);
    assert.deepEqual(p.pids('byname'), [pid]);
    assert.deepEqual(p.pids('bycmd'), [pid]);
    assert.ok(p.pids('bycg').includes(pid), `cgroup ${cg}`);
    assert.deepEqual(p.pids('both'), [pid]);
    assert.deepEqual(p.pids('nomatch'), []);
    assert.equal(v['proc.byname.procs'], 1);
    assert.equal(v['proc.nomatch.procs'], 0);
    assert.equal(v['proc.byname.cpu_pct'], undefined, 'no rate on the first sample');

    b = start([bin, '30.4159']);
    await sleep(200);
    const v1 = p.sample(500);
    assert.deepEqual(p.pids('byname'), [pid], 'no rescan before rescanMs');
    assert.equal(v1['proc.byname.cpu_pct'], 0);
    p.sample(1000);
    assert.deepEqual(p.pids('byname').sort(), [pid, b.pid!].sort());
    assert.deepEqual(p.pids('bycmd').sort(), [pid, b.pid!].sort());

    // An exited match leaves at once, without waiting for a rescan.
    await stop(a);
    p.sample(1100);
    assert.deepEqual(p.pids('byname'), [b.pid!]);
    assert.deepEqual(p.pids('bypid'), []);
  } finally {
    await stop(a);
    if (b) await stop(b);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tree selector follows descendants and their exits', async () => {
  // Its own process group, so the whole tree can be killed at the end.
  const sh = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore', detached: true });
  try {
    const p = new ProcessProbe({
      select: [
        { label: 't', pid: sh.pid!, tree: true },
        { label: 'root', pid: sh.pid! },
      ],
      rescanMs: 0,
    });
    const deadline = Date.now() + 3000;
    let v = p.sample(0);
    while (v['proc.t.procs'] !== 3 && Date.now() < deadline) {
      await sleep(20);
      v = p.sample(monoMs());
    }
    assert.equal(v['proc.t.procs'], 3);
    assert.equal(v['proc.root.procs'], 1);
    const kids = p.pids('t').filter((x) => x !== sh.pid);
    process.kill(kids[0]!, 'SIGKILL');
    await sleep(100);
    v = p.sample(monoMs());
    // The killed sleep is reaped by sh's wait, or a zombie until then: either way not counted.
    assert.equal(v['proc.t.procs'], 2);
  } finally {
    process.kill(-sh.pid!, 'SIGKILL');
    await stop(sh);
  }
});

/** A /proc/<pid>/stat line with the fields the probe reads (utime 14, stime 15, threads 20, starttime 22, rss 24). */
function statLine(pid: number, comm: string, ppid: number, utime: number, stime: number, start: number, state = 'S'): string {
  const f = [state, ppid, pid, pid, 0, -1, 0, 0, 0, 0, 0, utime, stime, 0, 0, 20, 0, 3, 0, start, 1000000, 256];
  return `${pid} (${comm}) ${f.join(' ')} 0 0 0\n`;
}

test('on a fake /proc: exact deltas, a new process counts from its first sighting, an exited or reused pid contributes nothing', () => {
  const root = mkdtempSync(join(tmpdir(), 'sb-fakeproc-'));
  const put = (pid: number, line: string, cmdline = 'worker --x\0') => {
    mkdirSync(join(root, String(pid)), { recursive: true });
    writeFileSync(join(root, String(pid), 'stat'), line);
    writeFileSync(join(root, String(pid), 'cmdline'), cmdline);
  };
  const drop = (pid: number) => rmSync(join(root, String(pid)), { recursive: true, force: true });
  try {
    writeFileSync(join(root, 'uptime'), '100000.00 1.00\n');
    put(10, statLine(10, 'worker', 1, 1000, 500, 50));
    put(11, statLine(11, 'worker', 1, 2000, 0, 60));
    const p = new ProcessProbe({
      procRoot: root,
      select: [
        { label: 'w', cmdline: '^worker ' },
        { label: 'one', pid: 10 },
      ],
      rescanMs: 0,
    });
    let v = p.sample(0);
    assert.equal(v['proc.w.procs'], 2);
    assert.equal(v['proc.w.threads'], 6);
    assert.equal(v['proc.w.rss_mb'], (2 * 256 * 4096) / 1048576);

    // One second later: 10 ran 60 + 20 ticks, 11 ran 30; a new process 12 appears with 500 ticks.
    put(10, statLine(10, 'worker', 1, 1060, 520, 50));
    put(11, statLine(11, 'worker', 1, 2030, 0, 60));
    put(12, statLine(12, 'worker', 1, 500, 0, 70));
    v = p.sample(1000);
    assert.equal(v['proc.w.procs'], 3);
    assert.equal(v['proc.w.cpu_pct'], 110);
    assert.equal(v['proc.w.user_pct'], 90);
    assert.equal(v['proc.w.system_pct'], 20);
    assert.equal(v['proc.one.cpu_pct'], 80);

    // Half a second later: 11 exited, 12 ran 25, and pid 10 now belongs to a new process.
    drop(11);
    put(10, statLine(10, 'worker', 1, 5, 0, 90));
    put(12, statLine(12, 'worker', 1, 525, 0, 70));
    v = p.sample(1500);
    assert.equal(v['proc.w.procs'], 2);
    assert.equal(v['proc.w.cpu_pct'], 50);
    assert.equal(v['proc.one.procs'], 0, 'pid 10 reused: the selected process is gone');
    assert.equal(v['proc.one.cpu_pct'], 0);

    // A zombie is not counted.
    put(12, statLine(12, 'worker', 1, 530, 0, 70, 'Z'));
    v = p.sample(2000);
    assert.deepEqual(p.pids('w'), [10]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('on a fake /proc: a rescan notices an exec at once in a young process, within 10 s in an old one', () => {
  const root = mkdtempSync(join(tmpdir(), 'sb-fakeproc-'));
  const put = (pid: number, comm: string, start: number, cmdline: string) => {
    mkdirSync(join(root, String(pid)), { recursive: true });
    writeFileSync(join(root, String(pid), 'stat'), statLine(pid, comm, 1, 0, 0, start));
    writeFileSync(join(root, String(pid), 'cmdline'), `${cmdline.replaceAll(' ', '\0')}\0`);
  };
  try {
    // Uptime 1000 s: start time 99950 ticks is half a second old, 5000 is old.
    writeFileSync(join(root, 'uptime'), '1000.00 1.00\n');
    put(20, 'sh', 99950, 'sh -c exec ffmpeg');
    put(30, 'wrapper', 5000, 'wrapper --then ffmpeg');
    const p = new ProcessProbe({
      procRoot: root,
      select: [
        { label: 'ff', cmdline: '^ffmpeg ' },
        { label: 'byname', name: 'ffmpeg' },
      ],
    });
    p.sample(0);
    assert.deepEqual(p.pids('ff'), []);
    put(20, 'ffmpeg', 99950, 'ffmpeg -i a');
    put(30, 'ffmpeg', 5000, 'ffmpeg -i b');
    p.sample(1000);
    assert.deepEqual(p.pids('ff'), [20], 'the young process is read again at the next rescan');
    assert.deepEqual(p.pids('byname'), [20]);
    p.sample(4000);
    assert.deepEqual(p.pids('ff'), [20], 'the old one is taken as known until its recheck');
    p.sample(11000);
    assert.deepEqual(p.pids('ff').sort(), [20, 30]);
    assert.deepEqual(p.pids('byname').sort(), [20, 30]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('selectors are checked', () => {
  assert.throws(() => new ProcessProbe({ select: [{ label: 'x' }] }), /needs one of/);
  assert.throws(() => new ProcessProbe({ select: [{ label: 'x', name: 'a', tree: true }] }), /tree needs a pid/);
  assert.throws(
    () =>
      new ProcessProbe({
        select: [
          { label: 'x', pid: 1 },
          { label: 'x', pid: 2 },
        ],
      }),
    /used twice/,
  );
});
