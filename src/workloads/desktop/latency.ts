/**
 * End-to-end latency of a desktop stack, read off the screens themselves: the scene player's
 * stamps (when it handed frame N to the guest display) against the first grab of the client's
 * screen that showed N (src/workloads/desktop/screen.ts).
 */
import { quantile } from '../../base/quantile.ts';

/** Per-frame rows of a screen latency (frames.parquet), and its summary. */
export interface ScreenLatency {
  /** frame, warmup, shown_at, seen_at (ms since the scene's first frame; NaN: never seen), latency_ms. */
  frames: { frame: number[]; warmup: number[]; shown_at: number[]; seen_at: number[]; latency_ms: number[] };
  /** Frames shown in the window, and of those the ones seen on the far screen. */
  shown: number;
  seen: number;
  p50: number;
  p95: number;
}

/**
 * Joins the player's stamps with the first sightings on the far screen. Frames shown before
 * `windowFrom` are warm-up (kept, marked, left out of the summary); frames shown from `windowTo`
 * on are left out, since the grab may have stopped before they could arrive.
 */
export function screenLatency(stamps: ReadonlyMap<number, number>, seen: ReadonlyMap<number, number>, windowFrom: number, windowTo: number): ScreenLatency {
  const frames: ScreenLatency['frames'] = { frame: [], warmup: [], shown_at: [], seen_at: [], latency_ms: [] };
  const sorted = [...stamps].sort((a, b) => a[0] - b[0]);
  const t0 = sorted[0]?.[1] ?? 0;
  const inWindow: number[] = [];
  let shown = 0;
  for (const [n, at] of sorted) {
    if (at >= windowTo) continue;
    const s = seen.get(n) ?? NaN;
    const warm = at < windowFrom;
    frames.frame.push(n);
    frames.warmup.push(warm ? 1 : 0);
    frames.shown_at.push(round(at - t0));
    frames.seen_at.push(round(s - t0));
    frames.latency_ms.push(round(s - at));
    if (!warm) {
      shown++;
      if (Number.isFinite(s)) inWindow.push(s - at);
    }
  }
  inWindow.sort((a, b) => a - b);
  return { frames, shown, seen: inWindow.length, p50: round(quantile(inWindow, 0.5)), p95: round(quantile(inWindow, 0.95)) };
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(3)) : NaN;
}
