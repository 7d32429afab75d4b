// The engine's checks of a point's machines: saturation over the window, steal, core clock,
// agent CPU, roles sharing a machine; and the engine's own watch of its machine against /proc/stat.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { machineIdentity } from '../base/machine.ts';
import type { Placement } from '../store/records.ts';
import { machineConditions, MachineWatch, pointPlacement, shareAtOrAbove, type MachineSeries } from './point-checks.ts';

const series = (busy: number[], extra: Partial<MachineSeries> = {}): MachineSeries => ({ t: busy.map((_, i) => i * 100), busyPct: busy, stealPct: busy.map(() => 0), mhzT: [], mhz: [], cores: 2, source: 'test', ...extra });
const one: Placement = { roles: { guest: 0, host: 0, client: 0 }, machines: [{ hostname: 'box', bootId: 'b1', cores: 2 }] };

test('saturated: at least 90 % of all cores for at least 20 % of the window, and only the window counts', () => {
  // 2 cores: busy means >= 180. Samples every 100 ms; each stands for the 100 ms before it.
  const s = series([0, 190, 190, 50, 50, 50, 50, 50, 50, 50, 50]);
  assert.equal(shareAtOrAbove(s.t, s.busyPct, 180, 0, 1000), 0.2);
  const c = machineConditions({ placement: one, series: new Map([['b1', s]]), metrics: {}, recordingOff: false });
  assert.deepEqual(
    c.found.map((f) => f.code),
    ['saturated', 'roles_share_machine'],
  );
  assert.match(c.found[0]!.reason, /box \(guest, host, client\) was busy on at least 90 % of its 2 cores for 20 % of the window/);
  assert.equal(c.found[1]!.severity, 'note');
  // The same busy start before a window that begins at 300 ms: not saturated.
  const w = machineConditions({ placement: one, series: new Map([['b1', s]]), window: { fromMs: 300, toMs: 1000 }, metrics: {}, recordingOff: false });
  assert.deepEqual(
    w.found.map((f) => f.code),
    ['roles_share_machine'],
  );
  // One busy sample in ten (10 %) is below the 20 % share.
  const brief = machineConditions({ placement: one, series: new Map([['b1', series([0, 190, 50, 50, 50, 50, 50, 50, 50, 50, 50])]]), metrics: {}, recordingOff: false });
  assert.deepEqual(
    brief.found.map((f) => f.code),
    ['roles_share_machine'],
  );
});

test('steal, a moving core clock and a heavy agent are flagged; a machine with no series is said not checked', () => {
  const s = series([50, 50, 50, 50], { stealPct: [0, 30, 30, 30], mhzT: [0, 100, 200], mhz: [2000, 2000, 1500] });
  const two: Placement = {
    roles: { guest: 0, client: 1 },
    machines: [
      { hostname: 'a', bootId: 'b1', cores: 2 },
      { hostname: 'c', bootId: 'b2', cores: 4 },
    ],
  };
  const c = machineConditions({ placement: two, series: new Map([['b1', s]]), metrics: { 'guest.agent.cpu_pct': 7.5, 'client.agent.cpu_pct': 1 }, recordingOff: false });
  assert.deepEqual(c.found.map((f) => f.code).sort(), ['agent_cpu', 'cpu_frequency_changed', 'cpu_steal']);
  assert.match(c.found.find((f) => f.code === 'cpu_steal')!.reason, /lost 15\.0 % of its CPU time to steal/);
  assert.match(c.found.find((f) => f.code === 'agent_cpu')!.reason, /agent of guest used 7\.5 % of a core/);
  assert.deepEqual(
    c.notChecked.map((n) => n.check),
    ['saturated on c (client)', 'cpu_steal on c (client)'],
  );
});

test("placement: roles here share this machine; a remote role is placed by its agent's boot id", () => {
  const me = machineIdentity();
  const local = pointPlacement(['guest', 'host', 'client'], {});
  assert.equal(local.machines.length, 1);
  assert.equal(local.machines[0]!.bootId, me.bootId ?? null);
  const facts = (bootId: string) => ({ hostname: bootId, cpuModel: 'x', cores: 8, memoryMb: 1, kernel: 'k', os: 'o', node: 'v', tools: {}, bootId, timeNs: 't' });
  const hello = (role: string, bootId: string) => ({ version: 1, role, agentId: role, pid: 1, allowCommands: true, facts: facts(bootId), monoMs: 0 });
  const remote = pointPlacement(['guest', 'host', 'client'], {
    placement: {
      address: () => 'x',
      remote: () => true,
      spawn: () => {
        throw new Error('unused');
      },
    },
    hellos: { guest: hello('guest', 'm1'), host: hello('host', 'm2'), client: hello('client', 'm1') },
    cpus: { guest: [0] },
  });
  assert.deepEqual(remote.roles, { guest: 0, host: 1, client: 0 });
  assert.deepEqual(remote.cpus, { guest: [0] });
});

test("the engine's watch of its machine reads /proc/stat: a busy loop on one core shows as about one core busy", async () => {
  const w = new MachineWatch();
  w.start();
  const stat0 = readFileSync('/proc/stat', 'utf8');
  // One core busy in another process for 1.2 s (the rest of the machine is whatever it is), while
  // this one's timers keep sampling.
  const burner = spawn(process.execPath, ['-e', 'const end = Date.now() + 1200; while (Date.now() < end) Math.sqrt(Math.random());'], { stdio: 'ignore' });
  await new Promise((r) => burner.once('exit', r));
  const stat1 = readFileSync('/proc/stat', 'utf8');
  const s = w.stop();
  assert.ok(s.t.length >= 2, `it sampled: ${s.t.length} samples`);
  // The reference: /proc/stat's own busy share over the same span, in percent of one core.
  const busyOf = (text: string) => {
    const v = text.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { busy: v[0]! + v[1]! + v[2]! + v[5]! + v[6]!, total: v.slice(0, 8).reduce((a, b) => a + b, 0) };
  };
  const a = busyOf(stat0);
  const b = busyOf(stat1);
  const ref = ((b.busy - a.busy) / (b.total - a.total)) * 100 * s.cores;
  const values = s.busyPct.slice(1); // the first reading is the baseline (NaN)
  assert.ok(Number.isNaN(s.busyPct[0]) && values.every(Number.isFinite), JSON.stringify(s.busyPct));
  const mean = values.reduce((x, y) => x + y, 0) / values.length;
  assert.ok(mean >= 80, `at least the busy loop's core: ${mean}`);
  // Both read the same counters over nearly the same span: within 25 points of one core (the watch's first and last intervals straddle the span).
  assert.ok(Math.abs(mean - ref) <= 25, `watch ${mean.toFixed(1)} %, /proc/stat ${ref.toFixed(1)} %`);
});
