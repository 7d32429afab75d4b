// The point's time base: offsets applied, interpolated between the start and end measurements,
// inverse exact, uncertainties summed across roles, unknown clocks never taken as the base.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeBase } from './timebase.ts';

const est = (offsetMs: number, atMs: number, uncertaintyMs = 0.5) => ({ offsetMs, uncertaintyMs, rounds: 8, atMs });

test('a role on a clock 5000 s ahead maps back onto the base clock, drift interpolated between the two measurements', () => {
  // The client's clock reads 5,000,000 ms more than the base at base time 1000, and 5,000,010 at
  // base time 11,000 (10 ms of drift in 10 s): at base time 6000 the offset is 5,000,005.
  const tb = new TimeBase(1000, { guest: { kind: 'same' }, client: { kind: 'measured', start: est(5_000_000, 1000), end: est(5_000_010, 11_000, 0.8) } });
  assert.equal(tb.toBase('guest', 4321), 4321);
  assert.ok(Math.abs(tb.toBase('client', 6000 + 5_000_005) - 6000) < 1e-6, String(tb.toBase('client', 6000 + 5_000_005)));
  assert.ok(Math.abs(tb.toBase('client', 1000 + 5_000_000) - 1000) < 1e-6);
  assert.ok(Math.abs(tb.toBase('client', 11_000 + 5_000_010) - 11_000) < 1e-6);
  // Ms since the point began (origin 1000).
  assert.ok(Math.abs(tb.toPoint('client', 6000 + 5_000_005) - 5000) < 1e-6);
  // The inverse.
  for (const b of [0, 1000, 6000, 11_000, 20_000]) assert.ok(Math.abs(tb.toBase('client', tb.fromBase('client', b)) - b) < 1e-6);
  // Only the start offset (what the collector applied before) would put base time 6000 5 ms off:
  // the interpolation is what the end measurement is for.
  assert.ok(Math.abs(6000 + 5_000_005 - 5_000_000 - 6000) === 5);
  assert.equal(tb.uncertaintyMs('client'), 0.8, 'the larger of the two measurements');
  assert.equal(tb.uncertaintyMs('guest'), 0);
  assert.deepEqual(tb.summary()['client'], { offsetMs: 5_000_000, uncertaintyMs: 0.8, driftMs: 10, same: false });
});

test('the uncertainty of a figure across roles is the largest sum over pairs', () => {
  const tb = new TimeBase(0, { guest: { kind: 'same' }, host: { kind: 'measured', start: est(300_000, 0, 1.5) }, client: { kind: 'measured', start: est(5e6, 0, 2) } });
  assert.equal(tb.crossUncertaintyMs(['guest', 'host', 'client']), 3.5);
  assert.equal(tb.crossUncertaintyMs(['guest', 'host']), 1.5);
  assert.equal(tb.crossUncertaintyMs(['guest']), 0);
});

test('a role whose clock was never measured maps to NaN and says why; an unlisted role is an error, not the base clock', () => {
  const tb = new TimeBase(0, { guest: { kind: 'same' }, client: { kind: 'unknown', why: 'recording is off' } });
  assert.equal(tb.known('client'), false);
  assert.ok(Number.isNaN(tb.toBase('client', 5)));
  assert.equal(tb.whyUnknown('client'), 'recording is off');
  assert.equal(tb.uncertaintyMs('client'), Infinity);
  assert.throws(() => tb.toBase('host', 5), /no clock for role 'host'/);
});
