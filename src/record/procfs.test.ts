// The /proc readers under the probes: stat lines with awkward comms, in-place integer parsing,
// kept-open files that follow their process and stop at its exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { OpenFile, pageBytes, parsePidStat, readCgroupPaths, readChildren, readCmdline, scanInts } from './procfs.ts';

test('parsePidStat counts fields after the last ")", whatever the comm holds', () => {
  const line = '4242 (a) (b c) R 1 4243 4242 0 -1 4194304 100 0 0 0 1234 56 7 2 20 0 7 0 99887766 123456789 4321 18446744073709551615 0 0\n';
  assert.deepEqual(parsePidStat(line), { pid: 4242, comm: 'a) (b c', state: 'R', ppid: 1, pgrp: 4243, utime: 1234, stime: 56, cutime: 7, cstime: 2, numThreads: 7, startTime: 99887766, rssPages: 4321 });
  assert.throws(() => parsePidStat('garbage'), /not a \/proc\/<pid>\/stat line/);
  assert.throws(() => parsePidStat('1 (x) S 1 2 3'), /field 14 is not a number/);
});

test('scanInts reads integers in place, negatives included, and stops at max', () => {
  const out: number[] = [];
  assert.deepEqual(scanInts('cpu  10 -2\t3\n4 x5 6', 4, 20, out), [10, -2, 3, 4, NaN, 6]);
  assert.deepEqual(scanInts('1 2 3 4', 0, 7, out, 2), [1, 2]);
  assert.deepEqual(scanInts('', 0, 0, out), []);
});

test('OpenFile re-reads its file from offset 0 and stops for good once its process is gone', async () => {
  const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const f = new OpenFile(`/proc/${child.pid}/stat`);
    const a = parsePidStat(f.read()!);
    await new Promise((r) => setTimeout(r, 200));
    const b = parsePidStat(f.read()!);
    assert.ok(b.utime > a.utime, `utime ${a.utime} -> ${b.utime}`);
    assert.match(readCmdline('/proc', child.pid!)!, /-e for\(;;\)\{\}$/);
    assert.ok(readCgroupPaths('/proc', child.pid!)!.every((p) => p.startsWith('/')));
    assert.deepEqual(readChildren('/proc', process.pid)?.includes(child.pid!) ?? true, true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(f.read(), undefined);
    assert.equal(f.read(), undefined);
    assert.equal(readCmdline('/proc', child.pid!), undefined);
  } finally {
    child.kill('SIGKILL');
  }
});

test('pageBytes is a power of two of at least 4 KiB', () => {
  const p = pageBytes();
  assert.ok(p >= 4096 && (p & (p - 1)) === 0, String(p));
});
