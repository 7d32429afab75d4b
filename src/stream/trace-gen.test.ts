import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseTrace, traceMeanBps, MAHIMAHI_MTU } from '../config/net-trace.ts';
import { shippedTraces, TRACE_MS } from './trace-gen.ts';

const files = shippedTraces();

test('examples/traces/ holds what scripts/gen-traces.ts writes, byte for byte', () => {
  for (const [name, text] of Object.entries(files)) assert.equal(readFileSync(new URL(`../../examples/traces/${name}`, import.meta.url), 'utf8'), text, `${name}: regenerate with npx tsx scripts/gen-traces.ts`);
});

/** Mbit/s the trace's lines offer in each whole second. */
function perSecondMbps(text: string): number[] {
  const out = new Array<number>(TRACE_MS / 1000).fill(0);
  for (const l of text.trim().split('\n')) out[Math.min(out.length - 1, Math.floor((Number(l) - 1) / 1000))]! += (MAHIMAHI_MTU * 8) / 1e6;
  return out.map((x) => Number(x.toFixed(2)));
}

test('the shipped traces are the rates they claim, 30 s each', () => {
  for (const [name, text] of Object.entries(files)) {
    const t = parseTrace(text, name);
    assert.equal(t.format === 'mahimahi' && t.periodMs, TRACE_MS, name);
  }
  const step = perSecondMbps(files['step-8-1-8.trace']!);
  for (let s = 0; s < 30; s++) assert.ok(Math.abs(step[s]! - (s >= 10 && s < 20 ? 1 : 8)) <= 0.012, `step second ${s}: ${step[s]} Mbit/s`);
  const outage = perSecondMbps(files['outage.trace']!);
  assert.deepEqual(outage.slice(10, 13), [0, 0, 0]);
  assert.ok(Math.abs(traceMeanBps(parseTrace(files['outage.trace']!, 'o')) - 6e6 * 0.9) < 0.01 * 6e6);
  const walk = perSecondMbps(files['random-walk.trace']!);
  assert.ok(walk.every((x) => x >= 0.48 && x <= 10.02) && new Set(walk).size > 10, `random walk: ${walk.join(' ')}`);
  const saw = perSecondMbps(files['sawtooth.trace']!);
  assert.ok(saw[0]! < 1.5 && saw[9]! > 7 && saw[10]! < 1.5, `sawtooth: ${saw.join(' ')}`);
});
