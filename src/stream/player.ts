/**
 * Raw frames of a scene on stdout at its frame rate, for a player that shows them on a display
 * we do not control (ffplay on the SPICE server's X display). Paced on the monotonic clock; a
 * late tick is skipped, not bunched, so the content's frame numbers follow real time.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { monoMs } from '../base/clock.ts';
import type { StreamSettings } from '../config/stream-settings.ts';
import { allocFrame } from './frame.ts';
import { openSource } from './source.ts';

/** Where the player tells when it handed each frame over; undefined: nowhere. */
export interface PlayOptions {
  /** A file that gets one line `frame<TAB>ms` per frame (ms on src/base/clock.ts monoMs). */
  stamps?: string;
}

/** Writes frames to `out` until `durationS` has passed or the reader goes away. */
export async function playFrames(s: StreamSettings, out: NodeJS.WritableStream, durationS: number, opts: PlayOptions = {}): Promise<void> {
  const source = openSource(s);
  const frame = allocFrame(s.width, s.height);
  // Written line by line, unbuffered: the player is ended by a signal, and what it stamped so far
  // must be on disk then.
  const stamps = opts.stamps === undefined ? undefined : openSync(opts.stamps, 'w');
  const t0 = monoMs();
  const interval = 1000 / s.fps;
  let closed = false as boolean; // set by the 'error' handler: not narrowed to false in the loop
  out.on('error', () => (closed = true));
  let last = -1;
  try {
    while (!closed) {
      const now = monoMs();
      if (now - t0 >= durationS * 1000) break;
      const n = Math.floor((now - t0) / interval);
      // Timers can fire a fraction of a millisecond early: the same tick is never shown twice.
      if (n === last) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      last = n;
      source.render(n, frame);
      // Stamped before the first byte leaves: no screen can show frame n before its stamp, so a
      // latency measured from it is never negative (the display's own delay is included).
      if (stamps !== undefined) writeSync(stamps, `${n}\t${monoMs().toFixed(3)}\n`);
      // Backpressure from the player: wait for it rather than queue frames that would arrive late.
      const ok = out.write(Buffer.concat([frame.y, frame.u, frame.v]));
      if (!ok) await new Promise<void>((r) => out.once('drain', () => r()));
      const next = t0 + (n + 1) * interval;
      await new Promise((r) => setTimeout(r, Math.max(0, next - monoMs())));
    }
  } finally {
    if (stamps !== undefined) closeSync(stamps);
  }
}
