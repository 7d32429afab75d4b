/**
 * The pacer of GCC's sender (draft-ietf-rmcat-gcc-02, section 4: packets leave at a multiple of the
 * target, 2.5 in WebRTC, instead of a whole frame at once). Used by the guest over UDP when a rate
 * policy runs: a frame's fragments spread over several 5 ms bursts give the delay-based detector
 * several packet groups per frame instead of one, which is what lets it see a queue building within
 * tens of ms (one group per frame, at 133 ms apart through a 1 Mbit/s link, takes ~500 ms).
 */

/** WebRTC's pacing factor: packets leave at this multiple of the target. */
export const PACING_FACTOR = 2.5;

/**
 * When each fragment of a frame leaves, in ms after the first: at `paceBps`, each fragment once the
 * bytes before it have had their time; but the frame never spreads over more than `maxSpanMs` (a
 * keyframe, many times a frame's share, goes faster rather than hold the next frame back).
 */
export function paceOffsets(sizes: readonly number[], paceBps: number, maxSpanMs: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.length < 2 || !(paceBps > 0)) return sizes.map(() => 0);
  // The bytes before the last fragment set the span; scale it down to the cap when it is longer.
  const before = total - sizes.at(-1)!;
  const span = (before * 8 * 1000) / paceBps;
  const scale = span > maxSpanMs ? maxSpanMs / span : 1;
  let sent = 0;
  return sizes.map((n) => {
    const at = ((sent * 8 * 1000) / paceBps) * scale;
    sent += n;
    return at;
  });
}
