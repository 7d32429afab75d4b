/**
 * Reading a screen we do not control: an x11grab of the client's screen, many times a second, and
 * a reader of the frame number the scene stamps in its top-left corner (src/stream/scenes). The
 * first grab that shows frame N dates N's arrival (src/workloads/desktop/latency.ts joins it with
 * the player's stamps). Shared by every desktop stack, and by the method check of
 * test/spice-latency.test.ts on the player's own screen.
 */
import { monoMs } from '../../base/clock.ts';
import { frameCodeArea, readFrameNumber } from '../../stream/scenes/index.ts';

/**
 * How often the screen is grabbed, per second. The grab dates a frame up to one interval late
 * (half of one on average): at 100 Hz that is 10 ms, against 33 to 100 ms at the scene's own rate.
 * Only the corner with the code is grabbed, so the rate costs little (grab.cpu_pct says how much).
 */
export const GRAB_FPS = 100;

/** The part of the far screen the code can be in: its top-left corner, as far in as the viewer puts the guest display. */
export function grabRegion(screenW: number, screenH: number, guestW: number, guestH: number): { width: number; height: number } {
  const area = frameCodeArea(guestW, guestH);
  const even = (x: number) => x + (x % 2);
  return { width: Math.min(screenW, even(SEARCH.x + area.width + 1)), height: Math.min(screenH, even(SEARCH.y + area.height + 1)) };
}

/**
 * How much larger the client's screen is than the guest's, and so where the code's corner may sit on
 * it: a viewer shows the guest display at 1:1 below its menus (remote-viewer's take 160 px).
 */
export const CLIENT_MARGIN = { x: 64, y: 160 };
const SEARCH = CLIENT_MARGIN;

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

  /** Every grab whose frame number was read: its arrival time and the number, in order. */
  sightings(): { t: number[]; n: number[] } {
    return { t: this.seen.map((x) => x.t), n: this.seen.map((x) => x.n) };
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
