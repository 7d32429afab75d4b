import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pageBytes } from '../record/procfs.ts';
import { processStartTime, reapedChildrenCpu, sampleTree, TreeSampler } from './proctree.ts';

const MiB = 1024 * 1024;

/** Spawns like the command workload does (own process group) and collects stdout and stderr. */
function run(argv: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

/** GNU time writes its report as the last line of stderr, after whatever the program wrote. */
function timeReport(stderr: string): number[] {
  const last = stderr.trim().split('\n').at(-1) ?? '';
  const nums = last.trim().split(/\s+/).map(Number);
  assert.ok(nums.every(Number.isFinite), `no GNU time report in stderr: ${stderr}`);
  return nums;
}

// Burns CPU by the process's own CPU clock, so the amount does not depend on how busy the machine is.
const BURN = 'import time\ndef burn(s):\n    t = time.process_time()\n    while time.process_time() - t < s: pass\n';

test('reapedChildrenCpu delta across a spawn equals GNU time user+sys of the whole tree, grandchild included', async () => {
  const py = `${BURN}import subprocess, sys\np = subprocess.Popen([sys.executable, '-c', ${JSON.stringify(BURN)} + 'burn(0.3)'])\nburn(0.6)\np.wait()\n`;
  const before = reapedChildrenCpu();
  const { done } = run(['/usr/bin/time', '-f', '%U %S %M', 'python3', '-c', py]);
  const r = await done;
  const after = reapedChildrenCpu();
  assert.equal(r.code, 0, r.stderr);
  const [u, s] = timeReport(r.stderr);
  const reference = u! + s!;
  const delta = after.user - before.user + (after.system - before.system);
  // The tree burned at least 0.6 + 0.3 s; GNU time truncates to 10 ms per field, hence 0.02 of slack.
  assert.ok(reference >= 0.88, `GNU time saw only ${reference}s: the grandchild is missing`);
  // Both sides truncate user and system to 10 ms (up to 0.02 each way) and the delta also holds
  // GNU time's own CPU (about 1 ms): 0.05 s covers both.
  assert.ok(Math.abs(delta - reference) <= 0.05, `reapedChildrenCpu delta ${delta.toFixed(3)}s, GNU time ${reference.toFixed(3)}s`);
});

test('TreeSampler peaks match a 200 MiB allocation and GNU time max RSS', async () => {
  const base = run(['/usr/bin/time', '-f', '%M', 'python3', '-c', 'import time; time.sleep(0.1)']);
  const baseR = await base.done;
  assert.equal(baseR.code, 0, baseR.stderr);
  const baselineBytes = timeReport(baseR.stderr)[0]! * 1024;

  // bytearray(n) gets zeroed pages lazily; writing one byte per page makes them all resident.
  const py = 'import time\nn = 200 * 1024 * 1024\nb = bytearray(n)\nb[::4096] = b"\\x01" * (n // 4096)\ntime.sleep(0.5)\n';
  const { child, done } = run(['/usr/bin/time', '-f', '%M', 'python3', '-c', py]);
  const sampler = new TreeSampler(child.pid!, 50);
  sampler.start();
  const r = await done;
  const samples = sampler.stop();
  assert.equal(r.code, 0, r.stderr);
  const gnuMaxRss = timeReport(r.stderr)[0]! * 1024;
  const expected = 200 * MiB + baselineBytes;
  assert.ok(samples.length >= 3, `only ${samples.length} samples`);
  // 10 %: the tree's RSS also holds GNU time itself (about 2 MiB) and the interpreter's own growth.
  assert.ok(Math.abs(sampler.peakRssBytes - expected) <= 0.1 * expected, `peak RSS ${sampler.peakRssBytes / MiB} MiB, expected ${expected / MiB} MiB`);
  assert.ok(Math.abs(sampler.peakHwmBytes - expected) <= 0.1 * expected, `peak HWM ${sampler.peakHwmBytes / MiB} MiB, expected ${expected / MiB} MiB`);
  // 5 %: both read the kernel's high-water mark of python's memory map; /proc counters are per-CPU batched.
  assert.ok(Math.abs(sampler.peakHwmBytes - gnuMaxRss) <= 0.05 * gnuMaxRss, `peak HWM ${sampler.peakHwmBytes / MiB} MiB, GNU time ${gnuMaxRss / MiB} MiB`);
});

test('sampleTree counts a root and its two children, one started from a second thread', async () => {
  // A child started by another thread is listed only in that thread's children file.
  const py =
    'import subprocess, threading\n' +
    'a = subprocess.Popen(["sleep", "30"])\n' +
    'started = threading.Event()\n' +
    'def side():\n    b = subprocess.Popen(["sleep", "30"])\n    started.set()\n    b.wait()\n' +
    'threading.Thread(target=side, daemon=True).start()\n' +
    'started.wait()\nprint("ready", flush=True)\na.wait()\n';
  const { child, done } = run(['python3', '-c', py]);
  const pid = child.pid!;
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()).includes('ready') && resolve());
      child.once('close', () => reject(new Error('the tree ended before it was ready')));
    });
    const s = sampleTree(pid);
    assert.ok(s);
    assert.equal(s.nprocs, 3);
    assert.ok(s.rssBytes > 0 && s.maxHwmBytes > 0);
    assert.ok(s.cpuUser >= 0 && s.cpuSystem >= 0);
  } finally {
    process.kill(-pid, 'SIGKILL');
    await done;
  }
  assert.equal(sampleTree(pid), undefined);
});

test('processStartTime tells processes apart and is undefined for a dead pid', async () => {
  const a = processStartTime(process.pid);
  assert.ok(a !== undefined && a > 0);
  assert.equal(processStartTime(process.pid), a);
  const { child, done } = run(['true']);
  const pid = child.pid!;
  await done;
  assert.equal(processStartTime(pid), undefined);
});

test('children files and the ppid scan find the same tree in a synthetic /proc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctree-'));
  try {
    // pid: [ppid, utime, stime, cutime, cstime, rss pages, VmHWM kB, {tid: children}]
    const procs: Record<number, [number, number, number, number, number, number, number, Record<number, number[]>]> = {
      10: [1, 100, 10, 5, 1, 1000, 8000, { 10: [11, 15], 13: [12] }], // 13 is a second thread; 15 has vanished
      11: [10, 50, 5, 0, 0, 500, 3000, { 11: [14] }],
      12: [10, 20, 2, 0, 0, 200, 1000, { 12: [] }],
      14: [11, 1, 1, 0, 0, 100, 9000, { 14: [] }],
      20: [1, 999, 999, 0, 0, 9999, 99999, { 20: [] }], // not in the tree
    };
    const build = (root: string, childrenFiles: boolean) => {
      for (const [pid, [ppid, ut, st, cut, cst, rss, hwm, tasks]] of Object.entries(procs)) {
        const fields = ['S', ppid, 0, 0, 0, -1, 0, 0, 0, 0, 0, ut, st, cut, cst, 20, 0, 1, 0, 1234, 0, rss];
        mkdirSync(join(root, pid), { recursive: true });
        writeFileSync(join(root, pid, 'stat'), `${pid} (p ${pid}) ${fields.join(' ')} 0 0\n`);
        writeFileSync(join(root, pid, 'status'), `Name:\tp\nVmPeak:\t 1 kB\nVmHWM:\t  ${hwm} kB\nVmRSS:\t 1 kB\n`);
        for (const [tid, kids] of Object.entries(tasks)) {
          mkdirSync(join(root, pid, 'task', tid), { recursive: true });
          if (childrenFiles) writeFileSync(join(root, pid, 'task', tid, 'children'), kids.map((k) => `${k} `).join(''));
        }
      }
      mkdirSync(join(root, 'thread-self'), { recursive: true });
      if (childrenFiles) writeFileSync(join(root, 'thread-self', 'children'), '');
      return root;
    };
    const expected = { nprocs: 4, rssBytes: 1800 * pageBytes(), cpuUser: 1.76, cpuSystem: 0.19, maxHwmBytes: 9000 * 1024 };
    for (const withChildren of [true, false]) {
      const s = sampleTree(10, build(join(dir, String(withChildren)), withChildren));
      assert.ok(s);
      const { t: _t, ...rest } = s;
      assert.deepEqual({ ...rest, cpuUser: Number(rest.cpuUser.toFixed(6)), cpuSystem: Number(rest.cpuSystem.toFixed(6)) }, expected, `children files: ${withChildren}`);
    }
    assert.equal(sampleTree(99, join(dir, 'true')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
