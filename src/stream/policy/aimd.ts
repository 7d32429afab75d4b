/**
 * The `aimd` policy: loss-based additive increase, multiplicative decrease, as TCP Reno treats its
 * window. A report whose loss fraction passes `loss_threshold` cuts the bitrate to beta times
 * itself (at most once per `hold_ms`, so one loss event is not punished twice); otherwise the
 * bitrate grows by `increase` bits/s per second. Over TCP nothing is lost, so it only climbs.
 */
import { numParam, type Decision, type Observation, type PolicyInit, type RatePolicy } from './policy.ts';

/** Creates the aimd policy from its init (parameters: min_bitrate, max_bitrate, beta, increase, loss_threshold, hold_ms). */
export function createAimd(init: PolicyInit): RatePolicy {
  const min = numParam(init.params, 'min_bitrate', 50_000);
  const max = numParam(init.params, 'max_bitrate', init.bitrateBps);
  const beta = numParam(init.params, 'beta', 0.7);
  const increase = numParam(init.params, 'increase', Math.max(10_000, init.bitrateBps * 0.05));
  const threshold = numParam(init.params, 'loss_threshold', 0.02);
  const holdMs = numParam(init.params, 'hold_ms', 300);
  if (!(beta > 0 && beta < 1)) throw new Error(`aimd: beta ${beta} must be between 0 and 1`);
  if (!(min <= max)) throw new Error(`aimd: min_bitrate ${min} is above max_bitrate ${max}`);
  let target = Math.min(max, init.bitrateBps);
  let lastMs = NaN;
  let lastCut = -Infinity;
  return {
    decide(o: Observation): Decision {
      const dt = Number.isNaN(lastMs) ? 0 : Math.min(o.nowMs - lastMs, 1000);
      lastMs = o.nowMs;
      const total = o.feedback.packets.length + o.feedback.lost;
      const loss = total > 0 ? o.feedback.lost / total : 0;
      let state = 'increase';
      if (loss > threshold) {
        state = 'loss';
        if (o.nowMs - lastCut >= holdMs) {
          target *= beta;
          lastCut = o.nowMs;
          state = 'decrease';
        }
      } else target += (increase * dt) / 1000;
      target = Math.min(max, Math.max(min, target));
      return { bitrate: target, estimate: { state, loss: Math.round(loss * 1e4) / 1e4 } };
    },
  };
}
