import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeBase } from '../../record/timebase.ts';
import { screenLatency } from './latency.ts';
import { parseRoleConfig, parseRoleReport, roleParams } from './role-config.ts';
import { desktopConditions, mapSightings, mapStamps, roleCpuPct } from './session.ts';

// The guest's clock runs 5000 s ahead of the point's, the client's 3000 s behind: a frame handed
// over at base 1000 ms and first seen at base 1040 ms must come out 40 ms late, whatever the offsets.
const GUEST = 5_000_000;
const CLIENT = -3_000_000;
const tb = new TimeBase(0, {
  guest: { kind: 'measured', start: { offsetMs: GUEST, uncertaintyMs: 0.5, rounds: 5, atMs: 0 } },
  host: { kind: 'same' },
  client: { kind: 'measured', start: { offsetMs: CLIENT, uncertaintyMs: 1.5, rounds: 5, atMs: 0 } },
});

test("the player's stamps go through the guest's clock and the sightings through the client's: latency is their difference on one clock", () => {
  const stamps = mapStamps(
    new Map([
      [1, 1000 + GUEST],
      [2, 1100 + GUEST],
    ]),
    (t) => tb.toBase('guest', t),
  );
  const screen = mapSightings({ t: [1040 + CLIENT, 1050 + CLIENT, 1170 + CLIENT], n: [1, 1, 2], grabs: 5 }, (t) => tb.toBase('client', t));
  assert.deepEqual(
    [...screen.firstSeen],
    [
      [1, 1040],
      [2, 1170],
    ],
  );
  assert.equal(screen.read, 3);
  assert.equal(screen.distinctIn(1000, 1100), 1);
  const lat = screenLatency(stamps, screen.firstSeen, 900, 2000);
  assert.deepEqual([lat.seen, lat.p50, lat.p95], [2, 55, 68.5]);
  // Without the mapping (or with a sign turned) the figure is off by the clocks' difference.
  const raw = screenLatency(new Map([[1, 1000 + GUEST]]), new Map([[1, 1040 + CLIENT]]), -Infinity, Infinity);
  assert.notEqual(raw.p50, 40);
  assert.equal(tb.crossUncertaintyMs(['guest', 'client']), 2);
});

test("a role's CPU over the window is read off its own samples at the window's edges on its clock", () => {
  // 0.5 s of CPU per second on the guest's clock: half a core, whatever the offset.
  const t = [0, 1000, 2000, 3000].map((x) => x + GUEST);
  const cpu = [0, 0.5, 1, 1.5];
  const pct = roleCpuPct(tb, { fromMs: 1000, toMs: 3000 });
  assert.equal(pct('guest', t, cpu), 50);
  assert.ok(Number.isNaN(pct('guest', t, undefined)));
});

test('clock_uncertain: flagged when the clocks are known less well than a tenth of latency.p50', () => {
  assert.deepEqual(desktopConditions({ 'clock.uncertainty_ms': 2, 'latency.p50': 40 }).found, []);
  assert.equal(desktopConditions({ 'clock.uncertainty_ms': 5, 'latency.p50': 40 }).found[0]?.code, 'clock_uncertain');
  assert.equal(desktopConditions({ 'clock.uncertainty_ms': 0 }).notChecked[0]?.check, 'clock_uncertain');
});

test("a role's settings are checked where they enter, naming the field", () => {
  const ok = { stack: 'spice', params: { spice_codec: 'spice:mjpeg', fps: 10 }, warmupS: 1, durationS: 2, lifetimeS: 300 };
  assert.deepEqual(parseRoleConfig(ok), ok);
  assert.throws(() => parseRoleConfig([]), /must be a JSON object/);
  assert.throws(() => parseRoleConfig({ ...ok, extra: 1 }), /unknown field 'extra'/);
  assert.throws(() => parseRoleConfig({ ...ok, stack: 3 }), /stack must be/);
  assert.throws(() => parseRoleConfig({ ...ok, params: { fps: [1] } }), /params\.fps must be a string, a number or a boolean/);
  assert.throws(() => parseRoleConfig({ ...ok, durationS: -1 }), /durationS must be seconds/);
  assert.throws(() => parseRoleConfig({ ...ok, content: [] }), /content must be a non-empty list/);
  // The relay's network stays with the relay: a trace file may exist on the engine's machine only.
  assert.deepEqual(roleParams({ net_trace: '/tmp/x', net_rate: '1M', fps: 10 }), { fps: 10 });
});

test("a role's report is checked where it is read, naming the field", () => {
  const ok = { role: 'client', pid: 1, cpu: { t: [1, 2], cpuS: { client: [0, 0.1] } }, screen: { t: [1], n: [3], grabs: 2 } };
  assert.deepEqual(parseRoleReport(ok, 'r.json'), ok);
  assert.throws(() => parseRoleReport({ ...ok, role: 'host' }, 'r.json'), /r\.json: role must be one of guest, client/);
  assert.throws(() => parseRoleReport({ ...ok, cpu: { t: [1, 2], cpuS: { client: [0] } } }, 'r.json'), /cpu\.cpuS\.client must be a list of 2 numbers/);
  assert.throws(() => parseRoleReport({ ...ok, screen: { t: [1], n: [], grabs: 2 } }, 'r.json'), /screen\.n must be a list of 1 numbers/);
});
