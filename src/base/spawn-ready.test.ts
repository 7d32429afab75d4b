import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { pidAlive } from './pid-alive.ts';
import { waitReady } from './spawn-ready.ts';

/** A real Node process running `script`, leading its own process group, as the callers start theirs. */
function node(script: string, stderr: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  return spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', stderr] });
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, 'exit').then(() => undefined));

/** Resolves once `pid` is gone; the test's own timeout bounds it, so a slow machine only waits longer. */
async function gone(pid: number): Promise<void> {
  while (pidAlive(pid)) await new Promise((r) => setTimeout(r, 50));
}

test('the ready line resolves, and what the process prints after it is drained, not left to fill the pipe', { timeout: 120_000 }, async () => {
  // 4 MB after the ready line: a pipe holds 64 kB, so the child exits only if someone reads it.
  const child = node(`console.log(JSON.stringify({ ready: true, port: 4321 })); const s = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 4096; i++) process.stdout.write(s);`);
  const line = await waitReady(child, { name: 'talker', log: 'talker.log', timeoutMs: 60_000 });
  assert.deepEqual(line, { ready: true, port: 4321 });
  await exited(child);
  assert.equal(child.exitCode, 0);
});

test('a ready line printed just before exiting still counts', { timeout: 120_000 }, async () => {
  const child = node(`process.stdout.write(JSON.stringify({ ready: true, role: 'quick' }) + '\\n', () => process.exit(0));`);
  assert.deepEqual(await waitReady(child, { name: 'quick', log: 'quick.log', timeoutMs: 60_000 }), { ready: true, role: 'quick' });
});

test('another first line fails with that line, and the whole group is ended', { timeout: 120_000 }, async () => {
  // The grandchild stays in the child's group; its pid travels in the line the error quotes.
  const child = node(`const g = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log('busy ' + g.pid); setInterval(() => {}, 1000);`);
  const err = await waitReady(child, { name: 'relay', log: 'relay.log', timeoutMs: 60_000 }).then(
    () => assert.fail('resolved'),
    (e: unknown) => e as Error,
  );
  assert.match(err.message, /^relay printed 'busy \d+' instead of its ready line \(see relay\.log\)$/);
  const grandchild = Number(/busy (\d+)/.exec(err.message)![1]);
  await gone(grandchild);
  await exited(child);
  assert.equal(child.signalCode, 'SIGTERM');
});

test('JSON that is not a ready line fails', { timeout: 120_000 }, async () => {
  const child = node(`console.log(JSON.stringify({ ready: false, port: 5 })); setInterval(() => {}, 1000);`);
  await assert.rejects(waitReady(child, { name: 'agent guest', log: 'agents.log', timeoutMs: 60_000 }), /^Error: agent guest printed '\{"ready":false,"port":5\}' instead of its ready line \(see agents\.log\)$/);
  await exited(child);
});

test('exiting before the ready line fails with the exit code', { timeout: 120_000 }, async () => {
  const child = node(`process.exitCode = 3;`);
  await assert.rejects(waitReady(child, { name: 'guest', log: 'guest.log', timeoutMs: 60_000 }), /^Error: guest exited \(code 3\) before it was ready \(see guest\.log\)$/);
});

test('silence times out; a group that ignores SIGTERM gets SIGKILL after the grace', { timeout: 120_000 }, async () => {
  const child = node(`process.on('SIGTERM', () => {}); process.stderr.write('armed\\n'); setInterval(() => {}, 1000);`, 'pipe');
  // The clock starts once SIGTERM is ignored, so a slow start cannot turn the check into SIGTERM's.
  await once(child.stderr!, 'data');
  await assert.rejects(waitReady(child, { name: 'client', log: 'client.log', timeoutMs: 300, killGraceMs: 300 }), /^Error: client did not start within 0\.3 s \(see client\.log\)$/);
  await exited(child);
  assert.equal(child.signalCode, 'SIGKILL');
});

test('a program that cannot be started fails with the reason', { timeout: 120_000 }, async () => {
  const child = spawn('/nonexistent/streambench-test-program', [], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  await assert.rejects(waitReady(child, { name: 'ghost', log: 'ghost.log', timeoutMs: 60_000 }), /^Error: ghost could not start: .*ENOENT.* \(see ghost\.log\)$/);
});
