/** Drawing primitives of the scenes: hashing, colours, rectangles, copies, and text as pseudo-glyphs. */
import type { YuvFrame } from '../frame.ts';

/** A 32-bit integer hash: the scenes' only source of pseudo-randomness, so pictures are reproducible. */
export function hash32(a: number): number {
  let x = a | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** hash32 of two integers. */
export function hash2(a: number, b: number): number {
  return hash32(a ^ hash32(b + 0x9e3779b9));
}

/** A colour as its limited-range luma and chroma levels. */
export interface Color {
  y: number;
  u: number;
  v: number;
}

/** BT.601 limited range, the matrix x264 and most players assume for SD and for untagged content. */
export function rgb(r: number, g: number, b: number): Color {
  return {
    y: Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
    u: Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255),
    v: Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255),
  };
}

/** The colours (and luma-only inks) of the desktop and its windows. */
export const C = {
  taskbar: rgb(30, 34, 42),
  taskButton: rgb(52, 58, 70),
  start: rgb(40, 110, 210),
  frame: rgb(120, 124, 132),
  titleActive: rgb(44, 92, 170),
  titleIdle: rgb(88, 96, 110),
  titleText: 230,
  windowBody: rgb(246, 246, 246),
  paper: rgb(252, 252, 250),
  sidebar: rgb(232, 236, 242),
  codeBlock: rgb(238, 240, 232),
  tableStripe: rgb(228, 236, 246),
  toolbar: rgb(222, 224, 228),
  addressBar: rgb(255, 255, 255),
  terminal: rgb(24, 26, 30),
  scrollTrack: rgb(226, 226, 226),
  scrollThumb: rgb(150, 150, 150),
  player: rgb(18, 18, 20),
  progress: rgb(220, 40, 40),
  progressTrack: rgb(80, 80, 84),
  ink: 40,
  lightInk: 215,
  termInk: 190,
} as const;

/** Icon colours, picked in turn or by hash. */
export const ICON_COLORS = [rgb(230, 180, 60), rgb(70, 160, 90), rgb(200, 80, 70), rgb(80, 130, 220), rgb(150, 90, 190), rgb(60, 170, 180)];

// ---------------------------------------------------------------------------------------------
// Drawing primitives. Rectangles fill luma and the chroma samples they cover; positions of
// things with colour are kept even so chroma lines up.

/** Fills a rectangle, clipped to the frame, with a colour in luma and the chroma it covers. */
export function fillRect(f: YuvFrame, x: number, y: number, w: number, h: number, c: Color): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(f.width, x + w);
  const y1 = Math.min(f.height, y + h);
  if (x1 <= x0 || y1 <= y0) return;
  const W = f.width;
  for (let r = y0; r < y1; r++) f.y.fill(c.y, r * W + x0, r * W + x1);
  const cw = W >> 1;
  const cx0 = x0 >> 1;
  const cx1 = (x1 + 1) >> 1;
  for (let r = y0 >> 1; r < (y1 + 1) >> 1; r++) {
    f.u.fill(c.u, r * cw + cx0, r * cw + cx1);
    f.v.fill(c.v, r * cw + cx0, r * cw + cx1);
  }
}

/** Fills a rectangle, clipped to the frame, in luma only. */
export function fillRectY(f: YuvFrame, x: number, y: number, w: number, h: number, luma: number): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(f.width, x + w);
  const y1 = Math.min(f.height, y + h);
  const W = f.width;
  for (let r = y0; r < y1; r++) f.y.fill(luma, r * W + x0, r * W + x1);
}

/** Copies `src` to (dx, dy) of `dst`, clipped; dx and dy must be even. */
export function blit(src: YuvFrame, dst: YuvFrame, dx: number, dy: number): void {
  const x0 = Math.max(0, dx);
  const y0 = Math.max(0, dy);
  const x1 = Math.min(dst.width, dx + src.width);
  const y1 = Math.min(dst.height, dy + src.height);
  if (x1 <= x0 || y1 <= y0) return;
  const SW = src.width;
  const DW = dst.width;
  for (let r = y0; r < y1; r++) {
    const s = (r - dy) * SW + (x0 - dx);
    dst.y.set(src.y.subarray(s, s + x1 - x0), r * DW + x0);
  }
  const scw = SW >> 1;
  const dcw = DW >> 1;
  const n = (x1 - x0) >> 1;
  for (let r = y0 >> 1; r < y1 >> 1; r++) {
    const s = (r - (dy >> 1)) * scw + ((x0 - dx) >> 1);
    dst.u.set(src.u.subarray(s, s + n), r * dcw + (x0 >> 1));
    dst.v.set(src.v.subarray(s, s + n), r * dcw + (x0 >> 1));
  }
}

/** Copies every plane of `src` into `dst`, a frame of the same size. */
export function copyFrame(src: YuvFrame, dst: YuvFrame): void {
  dst.y.set(src.y);
  dst.u.set(src.u);
  dst.v.set(src.v);
}

/** The even integer nearest to n, so positions with colour line up with chroma. */
export function even(n: number): number {
  return 2 * Math.round(n / 2);
}

// ---------------------------------------------------------------------------------------------
// Glyphs: a monospace pseudo-font of rectangles on a 5x9 grid (x-height in rows 2..6, ascenders
// from row 0, descenders to row 8), which compresses like real text without shipping a font.

const GLYPHS = 48;
const STROKES: readonly (readonly [number, number, number, number])[] = [
  [0, 2, 1, 5], // left stem
  [4, 2, 1, 5], // right stem
  [0, 2, 5, 1], // top bar
  [0, 4, 5, 1], // middle bar
  [0, 6, 5, 1], // bottom bar
  [2, 2, 1, 5], // centre stem
  [0, 0, 1, 7], // ascender, left
  [4, 0, 1, 7], // ascender, right
  [0, 2, 1, 7], // descender, left
  [4, 2, 1, 7], // descender, right
  [2, 0, 1, 1], // dot
];

/** A pseudo-font: cell width, line height and one mask per glyph. */
export interface Font {
  cw: number;
  lh: number;
  masks: Uint8Array[];
}

/** Draws the masks of every glyph for a cell of cw by lh pixels. */
export function makeFont(cw: number, lh: number): Font {
  const gw = cw - Math.max(1, Math.round(cw * 0.2));
  const gh = lh - Math.max(1, Math.round(lh * 0.2));
  const top = Math.max(0, Math.floor((lh - gh) / 3));
  const masks: Uint8Array[] = [];
  for (let g = 0; g < GLYPHS; g++) {
    const h = hash2(0x51a7, g);
    const strokes: number[] = [];
    for (let s = 0; s < 6; s++) if ((h >>> s) & 1) strokes.push(s);
    while (strokes.length < 2) strokes.push(((h >>> (8 + strokes.length * 3)) % 5) | 0);
    const extra = (h >>> 20) & 15;
    if (extra < 3) strokes.push(6 + (extra & 1));
    else if (extra < 5) strokes.push(8 + (extra & 1));
    else if (extra === 5) strokes.push(10);
    const m = new Uint8Array(cw * lh);
    for (const s of strokes) {
      const [ux, uy, uw, uh] = STROKES[s]!;
      const x0 = Math.floor((ux * gw) / 5);
      const x1 = Math.max(x0 + 1, Math.floor(((ux + uw) * gw) / 5));
      const y0 = top + Math.floor((uy * gh) / 9);
      const y1 = Math.max(y0 + 1, top + Math.floor(((uy + uh) * gh) / 9));
      for (let r = y0; r < Math.min(lh, y1); r++) m.fill(1, r * cw + x0, r * cw + Math.min(cw, x1));
    }
    masks.push(m);
  }
  return { cw, lh, masks };
}

/** Glyph indices of one line of text (-1 for a space): words of 1 to 9 letters. */
export function textLine(seed: number, line: number, length: number): Int16Array {
  const out = new Int16Array(length).fill(-1);
  let pos = 0;
  let w = 0;
  while (pos < length) {
    const h = hash2(seed + line * 7919, w++);
    const wl = 1 + (h % 9);
    for (let i = 0; i < wl && pos < length; i++, pos++) out[pos] = hash2(h, i) % GLYPHS;
    pos++;
  }
  return out;
}

/** Draws glyphs in luma from (x, y) on, clipped at the frame's right edge; -1 is a space. */
export function drawText(f: YuvFrame, x: number, y: number, chars: ArrayLike<number>, font: Font, ink: number, bold = false): void {
  const { cw, lh } = font;
  const W = f.width;
  if (y < 0 || y + lh > f.height) return;
  for (let i = 0; i < chars.length; i++) {
    const g = chars[i]!;
    const gx = x + i * cw;
    if (g < 0 || gx < 0) continue;
    if (gx + cw + (bold ? 1 : 0) > W) break;
    const m = font.masks[g]!;
    for (let r = 0; r < lh; r++) {
      const o = (y + r) * W + gx;
      for (let c = 0; c < cw; c++) {
        if (m[r * cw + c] === 1) {
          f.y[o + c] = ink;
          if (bold) f.y[o + c + 1] = ink;
        }
      }
    }
  }
}

/** Paragraphs of ragged text down a rectangle, drawn over whatever background it already has. */
export function drawParagraphs(f: YuvFrame, x: number, y: number, w: number, h: number, font: Font, seed: number, ink: number): void {
  const cols = Math.floor(w / font.cw);
  let line = 0;
  for (let ty = y; ty + font.lh <= y + h; ty += font.lh, line++) {
    const hl = hash2(seed, line);
    if (hl % 7 === 0) continue; // paragraph break
    const len = hl % 7 === 1 ? Math.floor(cols * (0.3 + ((hl >>> 8) % 50) / 100)) : cols - ((hl >>> 4) % 4);
    drawText(f, x, ty, textLine(seed, line, Math.max(1, len)), font, ink);
  }
}

// Seven-segment digits for clocks and time displays: segments a..g as rectangles.
const SEGMENTS = [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f];

/** Draws digits and colons as seven-segment figures dh high on a luma background. */
export function drawDigits(f: YuvFrame, x: number, y: number, dh: number, text: string, ink: number, bg: number): void {
  const dw = Math.max(3, Math.round(dh * 0.55));
  const t = Math.max(1, Math.round(dh / 8));
  const half = Math.floor(dh / 2);
  const step = dw + Math.max(2, t * 2);
  let cx = x;
  fillRectY(f, x, y, text.length * step, dh, bg);
  for (const ch of text) {
    if (ch === ':') {
      fillRectY(f, cx + (dw >> 1) - (t >> 1), y + Math.floor(dh / 4), t, t, ink);
      fillRectY(f, cx + (dw >> 1) - (t >> 1), y + Math.floor((3 * dh) / 4) - t, t, t, ink);
    } else {
      const s = SEGMENTS[ch.charCodeAt(0) - 48] ?? 0;
      if (s & 1) fillRectY(f, cx + t, y, dw - 2 * t, t, ink);
      if (s & 2) fillRectY(f, cx + dw - t, y + t, t, half - t, ink);
      if (s & 4) fillRectY(f, cx + dw - t, y + half, t, dh - half - t, ink);
      if (s & 8) fillRectY(f, cx + t, y + dh - t, dw - 2 * t, t, ink);
      if (s & 16) fillRectY(f, cx, y + half, t, dh - half - t, ink);
      if (s & 32) fillRectY(f, cx, y + t, t, half - t, ink);
      if (s & 64) fillRectY(f, cx + t, y + half - (t >> 1), dw - 2 * t, t, ink);
    }
    cx += step;
  }
}

/** n with two digits at least, as a clock shows it. */
export function two(n: number): string {
  return String(n).padStart(2, '0');
}
