// createProbes: defaults, switches, and the names and intervals of what it builds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuFreqProbe } from './cpufreq.ts';
import { createProbes } from './index.ts';

test('createProbes: cpu, mem and net at 100 ms and cpufreq at 1 s by default; false turns one off', () => {
  const freq = new CpuFreqProbe().available;
  const ps = createProbes({});
  assert.deepEqual(
    ps.map((p) => [p.name, p.intervalMs]),
    [['cpu', 100], ['mem', 100], ['net', 100], ...(freq ? [['cpufreq', 1000]] : [])],
  );
  assert.deepEqual(
    createProbes({ cpu: false, mem: 250, net: false, cpufreq: false, gpu: false }).map((p) => [p.name, p.intervalMs]),
    [['mem', 250]],
  );
});

test('createProbes: the process probe first, net with an interface filter, custom commands last', async () => {
  const ps = createProbes({
    cpu: false,
    mem: false,
    cpufreq: false,
    gpu: false,
    net: { intervalMs: 200, interfaces: ['lo'] },
    proc: { intervalMs: 100, select: [{ label: 'me', pid: process.pid }] },
    custom: [{ name: 'x', argv: [process.execPath, '-e', 'console.log("{\\"v\\": 2}")'], format: 'jsonl', intervalMs: 1000 }],
  });
  assert.deepEqual(
    ps.map((p) => [p.name, p.intervalMs]),
    [
      ['proc', 100],
      ['net', 200],
      ['custom.x', 1000],
    ],
  );
  const [proc, net, custom] = ps;
  assert.equal((await proc!.sample(0))['proc.me.procs'], 1);
  assert.deepEqual(
    Object.keys(await net!.sample(0)).filter((k) => !k.startsWith('net.lo.')),
    [],
  );
  assert.deepEqual(await custom!.sample(0), { 'custom.x.v': 2 });
});
