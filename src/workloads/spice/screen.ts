/**
 * End-to-end latency of a screen we do not control, read off the screens themselves: the scene
 * player stamps when it hands frame N to ffplay (src/stream/player.ts), an x11grab of the far
 * screen reads the frame numbers back, and the first grab that shows N dates N's arrival. Used by
 * the spice workload on the client's screen, and by its method check on the player's own screen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { monoMs } from '../../base/clock.ts';
import { quantile } from '../../base/quantile.ts';
import { frameCodeArea, readFrameNumber } from '../../stream/scenes/index.ts';

/**
 * How often the screen is grabbed, per second. The grab dates a frame up to one interval late
 * (half of one on average): at 100 Hz that is 10 ms, against 33 to 100 ms at the scene's own rate.
 * Only the corner with the code is grabbed, so the rate costs little (grab.cpu_percent says how much).
 */
export const GRAB_FPS = 100;

/** The part of the far screen the code can be in: its top-left corner, as far in as the viewer puts the guest display. */
export function grabRegion(screenW: number, screenH: number, guestW: number, guestH: number): { width: number; height: number } {
  const area = frameCodeArea(guestW, guestH);
  const even = (x: number) => x + (x % 2);
  return { width: Math.min(screenW, even(SEARCH.x + area.width + 1)), height: Math.min(screenH, even(SEARCH.y + area.height + 1)) };
}

/** Where the code's corner may sit on the far screen: remote-viewer puts its menus above the guest display. */
const SEARCH = { x: 64, y: 160 };

/**
 * The grabber's argv: gray frames of the region on stdout, each written out as soon as it is
 * grabbed (-flush_packets 1: otherwise the last bytes of a frame wait in FFmpeg's output buffer
 * for the next one, a whole grab interval), never duplicated or dropped to keep a rate
 * (-fps_mode passthrough), without the pointer drawn over the code.
 */
export function grabArgv(display: number, region: { width: number; height: number }, fps = GRAB_FPS): string[] {
  return [
    'ffmpeg',
    '-loglevel',
    'error',
    '-f',
    'x11grab',
    '-draw_mouse',
    '0',
    '-framerate',
    String(fps),
    '-video_size',
    `${region.width}x${region.height}`,
    '-i',
    `:${display}+0,0`,
    '-fps_mode',
    'passthrough',
    '-flush_packets',
    '1',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    'pipe:1',
  ];
}

/**
 * ffplay's argv for the scene's raw frames on stdin, shown as soon as each arrives. The input's
 * declared rate is 1000 fps, far above the real one: every frame is then due when it arrives, so
 * ffplay never holds one back to keep a pace of its own (with the true rate, a start-up delay of its
 * window would stay in every later frame), and the player's stamp is close to the drawing.
 */
export function scenePlayerArgv(width: number, height: number, size: string[]): string[] {
  return ['ffplay', '-loglevel', 'error', '-an', '-autoexit', '-sync', 'video', '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0', ...size, '-f', 'rawvideo', '-pixel_format', 'yuv420p', '-video_size', `${width}x${height}`, '-framerate', '1000', '-i', 'pipe:0'];
}

/** The player's stamps (`frame<TAB>ms` lines, src/stream/player.ts): frame number to the time it was handed over. */
export function readStamps(path: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\d+)\t(\d+(?:\.\d+)?)$/.exec(line);
    // The last line may be cut by the signal that ended the player: only whole lines count.
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/**
 * Reads the frame number the scene stamps in its top-left corner, from grabbed gray frames of a
 * screen. The guest display sits somewhere in the viewer's window (menus above it): its offset is
 * searched once, on the first frames where a code reads, then reused.
 */
export class ScreenReader {
  private buf: Buffer = Buffer.alloc(0);
  private offset: { x: number; y: number } | undefined;
  private readonly probe: { width: number; height: number; y: Uint8Array; u: Uint8Array; v: Uint8Array };
  private readonly seen: { t: number; n: number }[] = [];
  private readonly first = new Map<number, number>();
  read = 0;
  /** Grabbed frames, read or not. */
  grabs = 0;
  private lastSearchT = -Infinity;
  private lastSearchCost = 0;

  constructor(
    private readonly sw: number,
    private readonly sh: number,
    guestW: number,
    guestH: number,
  ) {
    this.probe = { width: guestW, height: guestH, y: new Uint8Array(guestW * guestH), u: new Uint8Array(0), v: new Uint8Array(0) };
  }

  /** Bytes of the grabber's output, arrived at monotonic time `t`. */
  push(d: Buffer, t: number): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const size = this.sw * this.sh;
    while (this.buf.length >= size) {
      const frame = this.buf.subarray(0, size);
      this.buf = this.buf.subarray(size);
      this.grabs++;
      const n = this.readAt(frame, t);
      if (n !== undefined) {
        this.read++;
        this.seen.push({ t, n });
        if (!this.first.has(n)) this.first.set(n, t);
      }
    }
  }

  /** Distinct frame numbers seen on screen between t0 and t1. */
  distinctIn(t0: number, t1: number): number {
    return new Set(this.seen.filter((s) => s.t >= t0 && s.t < t1).map((s) => s.n)).size;
  }

  /** Frame number to the arrival time of the first grab that showed it. */
  firstSeen(): ReadonlyMap<number, number> {
    return this.first;
  }

  private copyAt(frame: Buffer, x: number, y: number): void {
    const gw = this.probe.width;
    const area = frameCodeArea(gw, this.probe.height);
    // Only the code's corner is copied: the reader looks nowhere else.
    for (let r = 0; r < area.height && y + r < this.sh; r++) {
      const src = (y + r) * this.sw + x;
      this.probe.y.set(frame.subarray(src, src + Math.min(area.width, this.sw - x)), r * gw);
    }
  }

  private readAt(frame: Buffer, t: number): number | undefined {
    if (this.offset) {
      this.copyAt(frame, this.offset.x, this.offset.y);
      return readFrameNumber(this.probe);
    }
    // The search costs (0.1 to 1.5 s of CPU at 720p, more on a busy machine), so it is tried at most
    // twice a second and spends at most a quarter of a core until it finds the code; by time, not by
    // frame count, so that a grabber slowed down by a busy machine still gets its searches.
    if (t - this.lastSearchT < Math.max(500, 3 * this.lastSearchCost)) return undefined;
    this.lastSearchT = t;
    const c0 = monoMs();
    const n = this.search(frame);
    this.lastSearchCost = monoMs() - c0;
    return n;
  }

  private search(frame: Buffer): number | undefined {
    const area = frameCodeArea(this.probe.width, this.probe.height);
    for (let y = 0; y <= Math.min(SEARCH.y, this.sh - area.height); y++) {
      for (let x = 0; x <= Math.min(SEARCH.x, this.sw - area.width); x++) {
        this.copyAt(frame, x, y);
        const n = readFrameNumber(this.probe);
        if (n !== undefined) {
          this.offset = { x, y };
          return n;
        }
      }
    }
    return undefined;
  }
}

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
