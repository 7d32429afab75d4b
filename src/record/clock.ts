/**
 * Clock offset between the engine and an agent, NTP-style: for each exchange, the agent's
 * reading is assumed to fall in the middle of the round trip; the exchange with the shortest
 * round trip bounds the error best, at ± half of that round trip.
 */
import { monoMs } from '../base/clock.ts';

export interface ClockEstimate {
  /** agent clock - engine clock, ms: engine time = agent time - offsetMs. */
  offsetMs: number;
  /** Half the shortest round trip: the true offset lies within ± this. */
  uncertaintyMs: number;
  rounds: number;
  /** When on the engine's clock (the middle of the best exchange): the offset held then. */
  atMs: number;
}

/** One exchange's readings: engine before, agent, engine after. */
export interface Exchange {
  sentMs: number;
  agentMs: number;
  receivedMs: number;
}

/** The estimate from a set of exchanges (the one with the least round trip wins). */
export function estimateOffset(xs: readonly Exchange[]): ClockEstimate {
  if (xs.length === 0) throw new Error('no clock exchange succeeded');
  let best = xs[0]!;
  for (const x of xs) if (x.receivedMs - x.sentMs < best.receivedMs - best.sentMs) best = x;
  const rtt = best.receivedMs - best.sentMs;
  const atMs = (best.sentMs + best.receivedMs) / 2;
  return { offsetMs: best.agentMs - atMs, uncertaintyMs: rtt / 2, rounds: xs.length, atMs };
}

/** Runs `rounds` exchanges with `ask` (which returns the agent's clock reading). */
export async function measureOffset(ask: () => Promise<number>, rounds = 8): Promise<ClockEstimate> {
  const xs: Exchange[] = [];
  for (let i = 0; i < rounds; i++) {
    const sentMs = monoMs();
    const agentMs = await ask();
    xs.push({ sentMs, agentMs, receivedMs: monoMs() });
  }
  return estimateOffset(xs);
}
