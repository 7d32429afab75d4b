/**
 * The synthetic network traces the project ships (examples/traces/, written by
 * scripts/gen-traces.ts): a step down and up, a sawtooth, a seeded random walk and an outage, 30 s
 * each, in Mahimahi's packet-delivery form, so that they replay as any public trace does. Pure and
 * seeded: the same code writes the same bytes (a test regenerates them).
 */
import { MAHIMAHI_MTU } from '../config/net-trace.ts';
import { seededRandom } from '../base/random.ts';

/** Length of every shipped trace. */
export const TRACE_MS = 30_000;

/**
 * A rate over time (bits/s at each ms) as Mahimahi delivery times: credit accrues every ms, and each
 * whole 1500 bytes of it is one opportunity, stamped at the ms's end (1..ms), so the last line is
 * the period. Credit is never lost here: the rate is what a greedy sender gets.
 */
export function mahimahiFromRate(rateAt: (ms: number) => number, ms = TRACE_MS): string {
  const lines: number[] = [];
  let credit = 0;
  for (let t = 0; t < ms; t++) {
    credit += rateAt(t) / 8 / 1000;
    while (credit >= MAHIMAHI_MTU) {
      lines.push(t + 1);
      credit -= MAHIMAHI_MTU;
    }
  }
  // The period is the last time: a trace whose last ms had no opportunity gets one there.
  if (lines.at(-1) !== ms) lines.push(ms);
  return `${lines.join('\n')}\n`;
}

const M = 1e6;

/** The shipped traces by file name, each a rate over its 30 s. */
export const SHIPPED_TRACES: Record<string, { doc: string; rateAt: () => (ms: number) => number }> = {
  'step-8-1-8.trace': { doc: '8 Mbit/s, 1 Mbit/s from 10 s, 8 Mbit/s again from 20 s', rateAt: () => (ms) => (ms >= 10_000 && ms < 20_000 ? 1 * M : 8 * M) },
  'sawtooth.trace': { doc: 'three teeth of 10 s: from 1 to 8 Mbit/s, then back to 1 at once', rateAt: () => (ms) => 1 * M + (7 * M * (ms % 10_000)) / 10_000 },
  'random-walk.trace': {
    doc: 'a random walk (seed 21): every 500 ms the rate is multiplied by e^N(0, 0.3), kept within 0.5 to 10 Mbit/s, from 4 Mbit/s',
    rateAt: () => {
      const rnd = seededRandom(21);
      const rates: number[] = [];
      let r = 4 * M;
      for (let i = 0; i < TRACE_MS / 500; i++) {
        rates.push(r);
        // Box-Muller: one standard normal from two uniforms.
        const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
        r = Math.min(10 * M, Math.max(0.5 * M, r * Math.exp(0.3 * z)));
      }
      return (ms) => rates[Math.floor(ms / 500)]!;
    },
  },
  'outage.trace': { doc: '6 Mbit/s with nothing at all from 10 s to 13 s', rateAt: () => (ms) => (ms >= 10_000 && ms < 13_000 ? 0 : 6 * M) },
};

/** Each shipped trace's file name and text. */
export function shippedTraces(): Record<string, string> {
  return Object.fromEntries(Object.entries(SHIPPED_TRACES).map(([name, t]) => [name, mahimahiFromRate(t.rateAt())]));
}
