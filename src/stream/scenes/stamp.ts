/**
 * The frame number drawn as a block code in the top-left corner of every frame, and read back from
 * a decoded frame, so a client can tell which source frame it is looking at.
 */
import type { YuvFrame } from '../frame.ts';

// A 12x6 grid of square luma blocks: 8 blocks of a fixed start pattern, then for each of the 32
// bits of the Gray-coded number a block and its complement. The complement checks every bit on
// its own, and Gray coding makes consecutive frames differ in one bit, so only two blocks change
// per frame and the code does not pass for motion in the static scenes. A strip of mid grey right
// and below keeps the encoder's blur of neighbouring content out of the outer blocks.

const CODE_COLS = 12;
const CODE_ROWS = 6;
const START_PATTERN = [1, 0, 1, 1, 0, 0, 1, 0] as const;
const CODE_WHITE = 235;
const CODE_BLACK = 16;

/** Side in pixels of one code block: 16 from 800x600 up, else 8, so the code stays a small corner. */
export function frameCodeBlock(width: number, height: number): number {
  return width >= 800 && height >= 600 ? 16 : 8;
}

/** Width and height of the corner that the frame number code covers, quiet strip included. */
export function frameCodeArea(width: number, height: number): { width: number; height: number } {
  const b = frameCodeBlock(width, height);
  return { width: CODE_COLS * b + b / 2, height: CODE_ROWS * b + b / 2 };
}

/** Draws `n` (an integer in 0..2^32-1) as the block code in the frame's top-left corner. */
export function stampFrameNumber(frame: YuvFrame, n: number): void {
  checkFrameIndex(n);
  const { width: W } = frame;
  const b = frameCodeBlock(frame.width, frame.height);
  const area = frameCodeArea(frame.width, frame.height);
  if (area.width > frame.width || area.height > frame.height) {
    throw new RangeError(`frame ${frame.width}x${frame.height} is too small for the ${area.width}x${area.height} frame number code`);
  }
  const gray = (n ^ (n >>> 1)) >>> 0;
  for (let k = 0; k < CODE_COLS * CODE_ROWS; k++) {
    const value = codeBit(k, gray) ? CODE_WHITE : CODE_BLACK;
    const x0 = (k % CODE_COLS) * b;
    const y0 = Math.floor(k / CODE_COLS) * b;
    for (let r = y0; r < y0 + b; r++) frame.y.fill(value, r * W + x0, r * W + x0 + b);
  }
  const gridW = CODE_COLS * b;
  const gridH = CODE_ROWS * b;
  for (let r = 0; r < gridH; r++) frame.y.fill(128, r * W + gridW, r * W + area.width);
  for (let r = gridH; r < area.height; r++) frame.y.fill(128, r * W, r * W + area.width);
  const cw = W / 2;
  for (let r = 0; r < area.height / 2; r++) {
    frame.u.fill(128, r * cw, r * cw + area.width / 2);
    frame.v.fill(128, r * cw, r * cw + area.width / 2);
  }
}

/** The frame number in the frame's code, or undefined when the start pattern or a bit's complement does not match. */
export function readFrameNumber(frame: YuvFrame): number | undefined {
  const { width: W } = frame;
  const b = frameCodeBlock(frame.width, frame.height);
  const area = frameCodeArea(frame.width, frame.height);
  if (area.width > frame.width || area.height > frame.height) return undefined;
  // Only the block's centre counts: ringing from the encoder sits at its edges.
  const m = b / 4;
  const inner = (b - 2 * m) * (b - 2 * m);
  const bits = new Uint8Array(CODE_COLS * CODE_ROWS);
  for (let k = 0; k < bits.length; k++) {
    const x0 = (k % CODE_COLS) * b + m;
    const y0 = Math.floor(k / CODE_COLS) * b + m;
    let sum = 0;
    for (let r = y0; r < y0 + b - 2 * m; r++) {
      const o = r * W + x0;
      for (let x = 0; x < b - 2 * m; x++) sum += frame.y[o + x]!;
    }
    bits[k] = sum >= 128 * inner ? 1 : 0;
  }
  for (let k = 0; k < START_PATTERN.length; k++) if (bits[k] !== START_PATTERN[k]) return undefined;
  let gray = 0;
  for (let i = 0; i < 32; i++) {
    const d = bits[START_PATTERN.length + 2 * i]!;
    if (bits[START_PATTERN.length + 2 * i + 1] === d) return undefined;
    gray = (gray << 1) | d;
  }
  let n = gray >>> 0;
  n ^= n >>> 16;
  n ^= n >>> 8;
  n ^= n >>> 4;
  n ^= n >>> 2;
  n ^= n >>> 1;
  return n >>> 0;
}

function codeBit(k: number, gray: number): number {
  if (k < START_PATTERN.length) return START_PATTERN[k]!;
  const j = k - START_PATTERN.length;
  const d = (gray >>> (31 - (j >> 1))) & 1;
  return (j & 1) === 0 ? d : 1 - d;
}

/** Throws a RangeError unless `n` is an integer in 0..2^32-1, the frame indices the code can carry. */
export function checkFrameIndex(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`frame index must be an integer in 0..2^32-1, got ${n}`);
}
