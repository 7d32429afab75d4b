/**
 * Deterministic synthetic screen content for streaming benchmarks. A frame depends only on the
 * scene's name, size, frame rate and the frame's index, so the client can regenerate the exact
 * source of any frame it decodes and runs are reproducible. Every frame carries its index as a
 * block code in the top-left corner.
 *
 * Speed comes from drawing everything that does not move once at creation (desktop, windows,
 * documents, glyph pages, textures) and, per frame, copying it with typed-array set/fill; only the
 * video and motion scenes touch every pixel of their moving area, in flat loops over typed arrays.
 */
import { allocFrame, assertFrameSize, type YuvFrame } from './frame.ts';

/** The scenes, from least to most motion. */
export const SCENE_NAMES = ['idle', 'typing', 'scrolling', 'drag', 'video', 'motion'] as const;
export type SceneName = (typeof SCENE_NAMES)[number];

/** Film grain of the video and motion scenes when none is asked for: what camera video looks like. */
export const DEFAULT_GRAIN = 20;
/**
 * Largest grain: the texture's headroom is shifted down by what grain adds beyond it, and the
 * video texture's floor (30) bounds that shift (see videoLuma).
 */
export const MAX_GRAIN = 50;

/** Size and frame rate a scene renders for, and its film grain. */
export interface SceneOptions {
  width: number;
  height: number;
  fps: number;
  /** Grain amplitude in luma levels (each pixel of a moving picture gains 0..grain per frame), an integer in 0..MAX_GRAIN; default DEFAULT_GRAIN. */
  grain?: number;
}

/** A scene bound to a size and rate; render() is a pure function of the frame index. */
export interface Scene {
  readonly name: SceneName;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly grain: number;
  /** Fills every byte of `out` with frame `frameIndex` (an integer in 0..2^32-1), frame number stamp included. */
  render(frameIndex: number, out: YuvFrame): void;
}

/** Smallest width the scenes' layouts and the frame number code fit in. */
export const MIN_SCENE_WIDTH = 160;
/** Smallest height the scenes' layouts and the frame number code fit in. */
export const MIN_SCENE_HEIGHT = 120;
/** Widest frame (8K) the shared grain table covers. */
export const MAX_SCENE_WIDTH = 7680;

/** True when the text names a scene. */
export function isSceneName(text: string): text is SceneName {
  return (SCENE_NAMES as readonly string[]).includes(text);
}

/** Builds a scene: draws its static parts now so that render() only copies and draws what moves. */
export function createScene(name: SceneName, options: SceneOptions): Scene {
  const { width, height, fps } = options;
  const grain = options.grain ?? DEFAULT_GRAIN;
  if (!isSceneName(name)) throw new RangeError(`unknown scene "${String(name)}"; scenes are ${SCENE_NAMES.join(', ')}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width % 2 !== 0 || height % 2 !== 0) {
    throw new RangeError(`scene size must be even integers, got ${width}x${height}`);
  }
  if (width < MIN_SCENE_WIDTH || height < MIN_SCENE_HEIGHT || width > MAX_SCENE_WIDTH) {
    throw new RangeError(`scene size ${width}x${height} is outside ${MIN_SCENE_WIDTH}x${MIN_SCENE_HEIGHT} to ${MAX_SCENE_WIDTH} pixels wide`);
  }
  if (!Number.isFinite(fps) || fps <= 0) throw new RangeError(`scene fps must be a positive number, got ${fps}`);
  if (!Number.isInteger(grain) || grain < 0 || grain > MAX_GRAIN) throw new RangeError(`scene grain must be an integer in 0..${MAX_GRAIN}, got ${grain}`);
  const lay = makeLayout(width, height);
  const draw = BUILDERS[name](lay, fps, grain);
  return {
    name,
    width,
    height,
    fps,
    grain,
    render(frameIndex: number, out: YuvFrame): void {
      checkFrameIndex(frameIndex);
      assertFrameSize(out, width, height, `scene ${name}`);
      draw(frameIndex, out);
      stampFrameNumber(out, frameIndex);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Frame number code
//
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

function checkFrameIndex(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`frame index must be an integer in 0..2^32-1, got ${n}`);
}

// ---------------------------------------------------------------------------------------------
// Hashing and colours

function hash32(a: number): number {
  let x = a | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function hash2(a: number, b: number): number {
  return hash32(a ^ hash32(b + 0x9e3779b9));
}

interface Color {
  y: number;
  u: number;
  v: number;
}

/** BT.601 limited range, the matrix x264 and most players assume for SD and for untagged content. */
function rgb(r: number, g: number, b: number): Color {
  return {
    y: Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
    u: Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255),
    v: Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255),
  };
}

const C = {
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

const ICON_COLORS = [rgb(230, 180, 60), rgb(70, 160, 90), rgb(200, 80, 70), rgb(80, 130, 220), rgb(150, 90, 190), rgb(60, 170, 180)];

// ---------------------------------------------------------------------------------------------
// Drawing primitives. Rectangles fill luma and the chroma samples they cover; positions of
// things with colour are kept even so chroma lines up.

function fillRect(f: YuvFrame, x: number, y: number, w: number, h: number, c: Color): void {
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

function fillRectY(f: YuvFrame, x: number, y: number, w: number, h: number, luma: number): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(f.width, x + w);
  const y1 = Math.min(f.height, y + h);
  const W = f.width;
  for (let r = y0; r < y1; r++) f.y.fill(luma, r * W + x0, r * W + x1);
}

/** Copies `src` to (dx, dy) of `dst`, clipped; dx and dy must be even. */
function blit(src: YuvFrame, dst: YuvFrame, dx: number, dy: number): void {
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

function copyFrame(src: YuvFrame, dst: YuvFrame): void {
  dst.y.set(src.y);
  dst.u.set(src.u);
  dst.v.set(src.v);
}

function even(n: number): number {
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

interface Font {
  cw: number;
  lh: number;
  masks: Uint8Array[];
}

function makeFont(cw: number, lh: number): Font {
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
function textLine(seed: number, line: number, length: number): Int16Array {
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

function drawText(f: YuvFrame, x: number, y: number, chars: ArrayLike<number>, font: Font, ink: number, bold = false): void {
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
function drawParagraphs(f: YuvFrame, x: number, y: number, w: number, h: number, font: Font, seed: number, ink: number): void {
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

function drawDigits(f: YuvFrame, x: number, y: number, dh: number, text: string, ink: number, bg: number): void {
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

function two(n: number): string {
  return String(n).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------
// Textures: tileable fractal value noise, shared by every scene (they do not depend on the frame
// size) and built on first use.

const TEX = 1024;
const TEX_MASK = TEX - 1;
const CTEX = 512;
const CTEX_MASK = CTEX - 1;

/** Tileable value noise in [0, 1): octaves of smoothly interpolated random lattices. */
function fractalNoise(size: number, seed: number, firstCells: number, octaves: number): Float32Array {
  const out = new Float32Array(size * size);
  const rowA = new Float32Array(size + 1);
  let amp = 1;
  let total = 0;
  for (let o = 0, cells = firstCells; o < octaves; o++, cells *= 2, amp *= 0.5) {
    total += amp;
    const step = size / cells;
    const lattice = new Float32Array(cells * cells);
    for (let i = 0; i < lattice.length; i++) lattice[i] = hash2(seed + o * 1013, i) / 4294967296;
    const xi = new Int32Array(size);
    const xt = new Float32Array(size);
    for (let x = 0; x < size; x++) {
      const fx = x / step;
      xi[x] = Math.floor(fx);
      const t = fx - Math.floor(fx);
      xt[x] = t * t * (3 - 2 * t);
    }
    for (let y = 0; y < size; y++) {
      const fy = y / step;
      const iy = Math.floor(fy);
      let ty = fy - iy;
      ty = ty * ty * (3 - 2 * ty);
      const r0 = (iy % cells) * cells;
      const r1 = ((iy + 1) % cells) * cells;
      // Interpolate the two lattice rows once, then only horizontally per pixel.
      for (let c = 0; c <= cells; c++) {
        const cc = c % cells;
        rowA[c] = lattice[r0 + cc]! + (lattice[r1 + cc]! - lattice[r0 + cc]!) * ty;
      }
      const o2 = y * size;
      for (let x = 0; x < size; x++) {
        const a = rowA[xi[x]!]!;
        const b = rowA[xi[x]! + 1]!;
        out[o2 + x] = out[o2 + x]! + amp * (a + (b - a) * xt[x]!);
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / total;
  return out;
}

interface Textures {
  /** Natural-looking luma for the video region, 30..200. */
  videoY: Uint8Array;
  /** Patterned, detailed luma for the motion scene, 20..210. */
  motionY: Uint8Array;
  /** Chroma for both, around 128. */
  u: Uint8Array;
  v: Uint8Array;
}

/** Rows of grain start at a per-row hash of the frame index in 0..GRAIN_SPAN-4. */
const GRAIN_SPAN = 65536;
let textures: Textures | undefined;
const grainTables = new Map<number, Uint8Array>();

/**
 * Film grain 0..amount, indexed by a per-row hash of the frame index; one table per amount, built
 * on first use. The value at i is one hash modulo amount + 1, so grain 20 is the table the scenes
 * always had and points recorded before grain was a parameter render the same pictures.
 */
function grainTable(amount: number): Uint8Array {
  let t = grainTables.get(amount);
  if (!t) {
    t = new Uint8Array(GRAIN_SPAN + MAX_SCENE_WIDTH);
    for (let i = 0; i < t.length; i++) t[i] = hash2(0x6a1e, i) % (amount + 1);
    grainTables.set(amount, t);
  }
  return t;
}

function getTextures(): Textures {
  if (textures) return textures;
  const clouds = fractalNoise(TEX, 11, 4, 7);
  const fine = fractalNoise(TEX, 23, 64, 3);
  const videoY = new Uint8Array(TEX * TEX);
  const motionY = new Uint8Array(TEX * TEX);
  for (let y = 0; y < TEX; y++) {
    const sy = Math.sin((2 * Math.PI * 6 * y) / TEX);
    for (let x = 0; x < TEX; x++) {
      const i = y * TEX + x;
      const c = clouds[i]!;
      // Stretch the contrast: averaged octaves bunch up around 0.5.
      const s = Math.min(1, Math.max(0, (c - 0.5) * 2.2 + 0.5));
      videoY[i] = 30 + Math.round(170 * s);
      const pattern = 0.5 + 0.5 * Math.sin((2 * Math.PI * 8 * x) / TEX) * sy;
      const rings = 0.5 + 0.5 * Math.sin(2 * Math.PI * 24 * c);
      const m = 0.35 * s + 0.25 * pattern + 0.2 * rings + 0.2 * fine[i]!;
      motionY[i] = 20 + Math.round(190 * Math.min(1, Math.max(0, m)));
    }
  }
  const cu = fractalNoise(CTEX, 31, 4, 5);
  const cv = fractalNoise(CTEX, 37, 4, 5);
  const u = new Uint8Array(CTEX * CTEX);
  const v = new Uint8Array(CTEX * CTEX);
  for (let i = 0; i < u.length; i++) {
    u[i] = Math.round(128 + 90 * (cu[i]! - 0.5));
    v[i] = Math.round(128 + 90 * (cv[i]! - 0.5));
  }
  textures = { videoY, motionY, u, v };
  return textures;
}

// ---------------------------------------------------------------------------------------------
// The desktop: wallpaper, icons, taskbar with a clock, and windows.

interface Layout {
  W: number;
  H: number;
  /** Size scale against 720 lines. */
  S: number;
  font: Font;
  taskbarH: number;
  titleH: number;
  clockH: number;
}

function makeLayout(W: number, H: number): Layout {
  const S = H / 720;
  return {
    W,
    H,
    S,
    font: makeFont(Math.max(3, Math.round(7 * S)), Math.max(6, Math.round(15 * S))),
    taskbarH: even(Math.max(12, 36 * S)),
    titleH: even(Math.max(8, 26 * S)),
    clockH: Math.max(6, Math.round(16 * S)),
  };
}

function px(lay: Layout, n: number): number {
  return Math.max(1, Math.round(n * lay.S));
}

function drawDesktop(f: YuvFrame, lay: Layout): void {
  const { W, H } = lay;
  const cw = W >> 1;
  // Wallpaper: a soft diagonal gradient with a large lighter disc, blue to purple.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = x / W - 0.7;
      const dy = y / H - 0.35;
      const glow = Math.max(0, 1 - Math.sqrt(dx * dx + dy * dy) * 2.2);
      f.y[y * W + x] = Math.round(48 + 50 * ((x / W + y / H) / 2) + 60 * glow * glow);
    }
  }
  for (let y = 0; y < H >> 1; y++) {
    for (let x = 0; x < cw; x++) {
      f.u[y * cw + x] = Math.round(150 - (16 * x) / cw);
      f.v[y * cw + x] = Math.round(118 + (18 * (x + y)) / (cw + (H >> 1)));
    }
  }
  // Icons down the left edge, clear of the frame number code in the corner.
  const icon = even(px(lay, 40));
  const pitch = icon + 2 * lay.font.lh;
  let iy = even(Math.max(110 * lay.S, 70));
  for (let i = 0; iy + pitch < H - lay.taskbarH; i++, iy += pitch) {
    const ix = even(px(lay, 24));
    fillRect(f, ix, iy, icon, icon, ICON_COLORS[i % ICON_COLORS.length]!);
    drawText(f, ix - 2, iy + icon + 2, textLine(900, i, Math.max(3, Math.floor((icon + 8) / lay.font.cw))), lay.font, 235);
  }
  // Taskbar: start button, task buttons with labels, clock area on the right.
  const ty = H - lay.taskbarH;
  fillRect(f, 0, ty, W, lay.taskbarH, C.taskbar);
  const pad = even(Math.max(2, 4 * lay.S));
  fillRect(f, pad, ty + pad, lay.taskbarH - 2 * pad, lay.taskbarH - 2 * pad, C.start);
  const bw = even(px(lay, 150));
  for (let i = 0, bx = lay.taskbarH + pad; i < 4 && bx + bw < W * 0.7; i++, bx += bw + pad) {
    fillRect(f, bx, ty + pad, bw, lay.taskbarH - 2 * pad, C.taskButton);
    fillRect(f, bx + pad, ty + 2 * pad, lay.taskbarH - 4 * pad, lay.taskbarH - 4 * pad, ICON_COLORS[(i + 2) % ICON_COLORS.length]!);
    const tx = bx + lay.taskbarH;
    drawText(f, tx, ty + ((lay.taskbarH - lay.font.lh) >> 1), textLine(950, i, Math.floor((bw - lay.taskbarH - pad) / lay.font.cw)), lay.font, 200);
  }
}

/** The taskbar clock: hh:mm:ss counting from 09:41:00 at frame 0, so it changes once per second. */
function drawClock(f: YuvFrame, lay: Layout, frameIndex: number, fps: number): void {
  const secs = (9 * 3600 + 41 * 60 + Math.floor(frameIndex / fps)) % 86400;
  const text = `${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}`;
  const dw = Math.max(3, Math.round(lay.clockH * 0.55)) + Math.max(2, 2 * Math.max(1, Math.round(lay.clockH / 8)));
  const x = lay.W - text.length * dw - px(lay, 14);
  drawDigits(f, x, lay.H - lay.taskbarH + ((lay.taskbarH - lay.clockH) >> 1), lay.clockH, text, 225, C.taskbar.y);
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A window: frame, title bar with a title and three buttons, body; returns the body rectangle. */
function drawWindow(f: YuvFrame, lay: Layout, r: Rect, seed: number, active: boolean, body: Color): Rect {
  fillRect(f, r.x, r.y, r.w, r.h, C.frame);
  const b = 2;
  const th = lay.titleH;
  fillRect(f, r.x + b, r.y + b, r.w - 2 * b, th, active ? C.titleActive : C.titleIdle);
  drawText(f, r.x + b + px(lay, 10), r.y + b + ((th - lay.font.lh) >> 1), textLine(seed, 0, Math.min(28, Math.floor(r.w / lay.font.cw / 3))), lay.font, C.titleText, true);
  const bs = even(th * 0.6);
  for (let i = 0; i < 3; i++) {
    fillRect(f, r.x + r.w - b - (i + 1) * (bs + 6), r.y + b + ((th - bs) >> 1), bs, bs, i === 0 ? rgb(200, 70, 60) : rgb(150, 156, 166));
  }
  const bodyRect = { x: r.x + b, y: r.y + b + th, w: r.w - 2 * b, h: r.h - 2 * b - th };
  fillRect(f, bodyRect.x, bodyRect.y, bodyRect.w, bodyRect.h, body);
  return bodyRect;
}

function drawFileBrowser(f: YuvFrame, lay: Layout, r: Rect, seed: number): void {
  const body = drawWindow(f, lay, r, seed, false, C.windowBody);
  const side = even(body.w * 0.25);
  fillRect(f, body.x, body.y, side, body.h, C.sidebar);
  for (let i = 0, y = body.y + px(lay, 8); y + lay.font.lh < body.y + body.h; i++, y += lay.font.lh + px(lay, 4)) {
    drawText(f, body.x + px(lay, 8), y, textLine(seed + 1, i, Math.floor((side - px(lay, 16)) / lay.font.cw)), lay.font, C.ink);
  }
  const icon = even(px(lay, 34));
  const cell = icon + even(px(lay, 30));
  for (let y = body.y + px(lay, 12), k = 0; y + icon + lay.font.lh < body.y + body.h; y += cell + lay.font.lh) {
    for (let x = body.x + side + px(lay, 14); x + cell < body.x + body.w; x += cell, k++) {
      fillRect(f, even(x), even(y), icon, icon, ICON_COLORS[hash2(seed, k) % ICON_COLORS.length]!);
      drawText(f, x, y + icon + 2, textLine(seed + 2, k, Math.floor(cell / lay.font.cw) - 1), lay.font, C.ink);
    }
  }
}

function drawTerminal(f: YuvFrame, lay: Layout, r: Rect, seed: number): void {
  const body = drawWindow(f, lay, r, seed, false, C.terminal);
  const pad = px(lay, 6);
  drawParagraphs(f, body.x + pad, body.y + pad, body.w - 2 * pad, body.h - 2 * pad, lay.font, seed, C.termInk);
}

/** A picture: clouds from the video texture with colour, as in a document or a window. */
function drawPhoto(f: YuvFrame, x: number, y: number, w: number, h: number, seed: number): void {
  const t = getTextures();
  const ox = hash2(seed, 1) & TEX_MASK;
  const oy = hash2(seed, 2) & TEX_MASK;
  const W = f.width;
  for (let r = 0; r < h; r++) {
    if (y + r < 0 || y + r >= f.height) continue;
    for (let c = 0; c < w && x + c < W; c++) f.y[(y + r) * W + x + c] = t.videoY[((oy + r) & TEX_MASK) * TEX + ((ox + c) & TEX_MASK)]!;
  }
  const cw = W >> 1;
  for (let r = 0; r < h >> 1; r++) {
    const yy = (y >> 1) + r;
    if (yy < 0 || yy >= f.height >> 1) continue;
    for (let c = 0; c < w >> 1 && (x >> 1) + c < cw; c++) {
      const s = (((oy >> 1) + r) & CTEX_MASK) * CTEX + (((ox >> 1) + c) & CTEX_MASK);
      f.u[yy * cw + (x >> 1) + c] = t.u[s]!;
      f.v[yy * cw + (x >> 1) + c] = t.v[s]!;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scenes. Each builder draws its static parts once and returns the per-frame drawing.

type Draw = (frameIndex: number, out: YuvFrame) => void;

/** Builders of the scenes; only video and motion have a moving picture that grain applies to. */
const BUILDERS: Record<SceneName, (lay: Layout, fps: number, grain: number) => Draw> = {
  idle: buildIdle,
  typing: buildTyping,
  scrolling: buildScrolling,
  drag: buildDrag,
  video: buildVideo,
  motion: buildMotion,
};

function editorRect(lay: Layout): Rect {
  const { W, H } = lay;
  const w = even(Math.min(W * 0.62, 90 * lay.font.cw + 60 * lay.S));
  const h = even((H - lay.taskbarH) * 0.78);
  return { x: even(W * 0.3), y: even((H - lay.taskbarH) * 0.1), w, h };
}

/** Editor body: a line-number gutter and the text area; returns where text goes. */
function drawEditor(f: YuvFrame, lay: Layout, r: Rect): Rect {
  const body = drawWindow(f, lay, r, 77, true, C.paper);
  const gutter = even(lay.font.cw * 5);
  fillRect(f, body.x, body.y, gutter, body.h, C.sidebar);
  const top = body.y + px(lay, 6);
  for (let y = top, i = 0; y + lay.font.lh <= body.y + body.h; y += lay.font.lh, i++) {
    drawText(f, body.x + lay.font.cw, y, textLine(300, i, 1 + (i % 3)), lay.font, 140);
  }
  const x = body.x + gutter + lay.font.cw;
  return { x, y: top, w: body.x + body.w - x - lay.font.cw, h: Math.floor((body.y + body.h - top) / lay.font.lh) * lay.font.lh };
}

function buildIdle(lay: Layout, fps: number): Draw {
  const bg = allocFrame(lay.W, lay.H);
  drawDesktop(bg, lay);
  const { W, H } = lay;
  drawFileBrowser(bg, lay, { x: even(W * 0.12), y: even(H * 0.2), w: even(W * 0.34), h: even(H * 0.5) }, 41);
  const text = drawEditor(bg, lay, editorRect(lay));
  const { cw, lh } = lay.font;
  const cols = Math.floor(text.w / cw);
  const lines = Math.floor(text.h / lh);
  const written = Math.max(1, Math.floor(lines * 0.6));
  let lastLen = 0;
  for (let i = 0; i < written; i++) {
    const len = i === written - 1 ? Math.floor(cols * 0.4) : Math.floor(cols * (0.5 + (hash2(5, i) % 45) / 100));
    drawText(bg, text.x, text.y + i * lh, textLine(500, i, Math.max(1, len)), lay.font, C.ink);
    lastLen = len;
  }
  const cursor = { x: text.x + lastLen * cw + 1, y: text.y + (written - 1) * lh + 1, w: Math.max(1, Math.round(cw / 4)), h: lh - 2 };
  return (i, out) => {
    copyFrame(bg, out);
    drawClock(out, lay, i, fps);
    // The cursor shows in even seconds and hides in odd ones, so it too changes once per second.
    if (Math.floor(i / fps) % 2 === 0) fillRectY(out, cursor.x, cursor.y, cursor.w, cursor.h, C.ink);
  };
}

/** Characters per second: a steady typist. */
const TYPING_RATE = 8;

function buildTyping(lay: Layout, fps: number): Draw {
  const bg = allocFrame(lay.W, lay.H);
  drawDesktop(bg, lay);
  const { W, H } = lay;
  drawTerminal(bg, lay, { x: even(W * 0.08), y: even(H * 0.45), w: even(W * 0.3), h: even(H * 0.4) }, 61);
  const text = drawEditor(bg, lay, editorRect(lay));
  const { cw, lh } = lay.font;
  const cols = Math.min(76, Math.floor(text.w / cw));
  const linesPerPage = Math.max(1, Math.floor(text.h / lh));
  // Typed text: lines of 45..75 characters (60 on average), pages that start over when full. The
  // page images are drawn once; a frame reveals the part typed so far.
  const PAGES = 3;
  const tw = cols * cw;
  const totalLines = PAGES * linesPerPage;
  const lineLen = new Int32Array(totalLines);
  const lineStart = new Float64Array(totalLines + 1);
  const pages: YuvFrame[] = [];
  for (let p = 0; p < PAGES; p++) {
    const page = allocFrame(even(tw), linesPerPage * lh + (linesPerPage * lh) % 2);
    page.y.fill(C.paper.y);
    for (let l = 0; l < linesPerPage; l++) {
      const g = p * linesPerPage + l;
      const len = Math.min(cols, 45 + (hash2(71, g) % 31));
      lineLen[g] = len;
      drawText(page, 0, l * lh, textLine(700, g, len), lay.font, C.ink);
    }
    pages.push(page);
  }
  // A line takes its characters plus Enter.
  for (let g = 0; g < totalLines; g++) lineStart[g + 1] = lineStart[g]! + lineLen[g]! + 1;
  const cycle = lineStart[totalLines]!;
  // Frame 0 opens on a page already 40% written, as an editor usually is.
  const head = lineStart[Math.floor(linesPerPage * 0.4)]!;
  const cursorW = Math.max(1, Math.round(cw / 4));
  return (i, out) => {
    copyFrame(bg, out);
    drawClock(out, lay, i, fps);
    const typed = (head + Math.floor((i * TYPING_RATE) / fps)) % cycle;
    let lo = 0;
    let hi = totalLines - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStart[mid]! <= typed) lo = mid;
      else hi = mid - 1;
    }
    const g = lo;
    const col = Math.min(lineLen[g]!, typed - lineStart[g]!);
    const page = pages[Math.floor(g / linesPerPage)]!;
    const line = g % linesPerPage;
    const pw = page.width;
    const Wd = out.width;
    for (let r = 0; r < line * lh; r++) out.y.set(page.y.subarray(r * pw, r * pw + tw), (text.y + r) * Wd + text.x);
    for (let r = line * lh; r < (line + 1) * lh; r++) out.y.set(page.y.subarray(r * pw, r * pw + col * cw), (text.y + r) * Wd + text.x);
    fillRectY(out, text.x + col * cw + 1, text.y + line * lh + 1, cursorW, lh - 2, C.ink);
  };
}

function buildScrolling(lay: Layout, fps: number): Draw {
  const { W, H, font } = lay;
  const bg = allocFrame(W, H);
  drawDesktop(bg, lay);
  // A maximised browser: title bar, toolbar with an address bar, then the page down to the taskbar.
  const body = drawWindow(bg, lay, { x: 0, y: 0, w: W, h: H - lay.taskbarH }, 88, true, C.paper);
  const toolbarH = even(Math.max(lay.font.lh + 4, 34 * lay.S));
  fillRect(bg, body.x, body.y, body.w, toolbarH, C.toolbar);
  const pad = even(Math.max(2, 6 * lay.S));
  fillRect(bg, even(W * 0.12), body.y + pad, even(W * 0.6), toolbarH - 2 * pad, C.addressBar);
  drawText(bg, even(W * 0.12) + pad * 2, body.y + ((toolbarH - font.lh) >> 1), textLine(404, 0, Math.floor((W * 0.4) / font.cw)), font, 90);
  for (let k = 0; k < 3; k++) fillRect(bg, pad + k * (toolbarH + pad), body.y + pad, toolbarH - 2 * pad, toolbarH - 2 * pad, C.taskButton);
  const top = even(body.y + toolbarH);
  const viewH = even(H - lay.taskbarH - top);
  const sbW = even(Math.max(6, 14 * lay.S));

  // The page, full frame width so that a frame copies it in one block; it wraps around at the end.
  const docH = even(Math.max(4 * viewH, 600));
  const doc = allocFrame(W, docH);
  fillRect(doc, 0, 0, W, docH, C.paper);
  const side = even(W * 0.18);
  fillRect(doc, 0, 0, side, docH, C.sidebar);
  for (let y = px(lay, 10), k = 0; y + font.lh < docH; y += font.lh + px(lay, 6), k++) {
    drawText(doc, px(lay, 12), y, textLine(410, k, Math.max(2, Math.floor((side - px(lay, 24)) / font.cw) - (hash2(411, k) % 6))), font, 70);
  }
  const left = side + even(px(lay, 30));
  const colW = even(W - sbW - left - px(lay, 40));
  for (let y = px(lay, 16), block = 0; y < docH - 8 * font.lh; block++) {
    const kind = hash2(420, block) % 6;
    if (kind === 0) {
      // A heading in bold.
      drawText(doc, left, y, textLine(421, block, Math.min(40, Math.floor(colW / font.cw / 2))), font, 20, true);
      y += even(font.lh * 1.8);
    } else if (kind === 1 && docH - y > 12 * font.lh) {
      // A photo beside a short paragraph.
      const ph = even(Math.min(8 * font.lh, viewH * 0.4));
      const pw = even(Math.min(colW * 0.45, ph * 1.6));
      drawPhoto(doc, left, even(y), pw, ph, block);
      drawParagraphs(doc, left + pw + px(lay, 16), y, colW - pw - px(lay, 16), ph, font, 422 + block, C.ink);
      y += ph + font.lh;
    } else if (kind === 2) {
      // A code block on a tinted background.
      const n = 4 + (hash2(423, block) % 5);
      fillRect(doc, left, even(y), colW, even(n * font.lh + 8), C.codeBlock);
      for (let l = 0; l < n; l++) drawText(doc, left + 2 * font.cw + (hash2(424, l) % 4) * 2 * font.cw, even(y) + 4 + l * font.lh, textLine(425 + block, l, Math.floor(colW / font.cw * 0.5)), font, 60);
      y += even(n * font.lh + 8) + font.lh;
    } else if (kind === 3) {
      // A table with striped rows.
      const rows = 5 + (hash2(426, block) % 4);
      const cellW = Math.floor(colW / 4);
      for (let rr = 0; rr < rows; rr++) {
        const ry = even(y) + rr * even(font.lh + 6);
        if (rr % 2 === 1) fillRect(doc, left, ry, colW, even(font.lh + 6), C.tableStripe);
        for (let c = 0; c < 4; c++) drawText(doc, left + c * cellW + 4, ry + 3, textLine(427 + block * 10 + c, rr, Math.floor(cellW / font.cw) - 2 - (hash2(rr, c) % 5)), font, rr === 0 ? 20 : C.ink, rr === 0);
      }
      y += rows * even(font.lh + 6) + font.lh;
    } else if (kind === 5 && docH - y > 12 * font.lh) {
      // A banner picture across the column.
      const ph = even(Math.min(7 * font.lh, viewH * 0.35));
      drawPhoto(doc, left, even(y), colW, ph, 430 + block);
      y += ph + font.lh;
    } else {
      const n = 3 + (hash2(428, block) % 6);
      drawParagraphs(doc, left, y, colW, n * font.lh, font, 429 + block, C.ink);
      y += (n + 1) * font.lh;
    }
  }

  // Scroll speed in pixels per second scales with the picture; offsets stay even so chroma rows line up.
  const speed = 180 * lay.S;
  const thumbH = even(Math.max(8, (viewH * viewH) / docH));
  return (i, out) => {
    copyFrame(bg, out);
    const off = (2 * Math.floor((i * speed) / fps / 2)) % docH;
    const first = Math.min(viewH, docH - off);
    out.y.set(doc.y.subarray(off * W, (off + first) * W), top * W);
    if (first < viewH) out.y.set(doc.y.subarray(0, (viewH - first) * W), (top + first) * W);
    const cw = W >> 1;
    const c0 = off >> 1;
    const cFirst = first >> 1;
    for (const [src, dst] of [[doc.u, out.u], [doc.v, out.v]] as const) {
      dst.set(src.subarray(c0 * cw, (c0 + cFirst) * cw), (top >> 1) * cw);
      if (first < viewH) dst.set(src.subarray(0, ((viewH - first) >> 1) * cw), ((top + first) >> 1) * cw);
    }
    fillRect(out, W - sbW, top, sbW, viewH, C.scrollTrack);
    fillRect(out, W - sbW + 2, top + even(((viewH - thumbH) * off) / docH), sbW - 4, thumbH, C.scrollThumb);
    drawClock(out, lay, i, fps);
  };
}

function buildDrag(lay: Layout, fps: number): Draw {
  const { W, H, font } = lay;
  const bg = allocFrame(W, H);
  drawDesktop(bg, lay);
  drawFileBrowser(bg, lay, { x: even(W * 0.5), y: even(H * 0.08), w: even(W * 0.42), h: even(H * 0.45) }, 51);
  drawTerminal(bg, lay, { x: even(W * 0.15), y: even(H * 0.5), w: even(W * 0.4), h: even(H * 0.36) }, 52);
  // The dragged window: a document with a picture, drawn once and moved as a whole.
  const ww = even(W * 0.42);
  const wh = even((H - lay.taskbarH) * 0.5);
  const win = allocFrame(ww, wh);
  const body = drawWindow(win, lay, { x: 0, y: 0, w: ww, h: wh }, 53, true, C.paper);
  const pad = even(px(lay, 10));
  const photoW = even(body.w * 0.4);
  const photoH = even(Math.min(body.h * 0.5, photoW * 0.7));
  drawPhoto(win, body.x + pad, even(body.y + pad), photoW, photoH, 54);
  drawText(win, body.x + 2 * pad + photoW, body.y + pad, textLine(55, 0, Math.floor((body.w - photoW - 3 * pad) / font.cw / 2)), font, 20, true);
  drawParagraphs(win, body.x + 2 * pad + photoW, body.y + pad + 2 * font.lh, body.w - photoW - 3 * pad, photoH - 2 * font.lh, font, 56, C.ink);
  drawParagraphs(win, body.x + pad, body.y + 2 * pad + photoH, body.w - 2 * pad, body.h - photoH - 3 * pad, font, 57, C.ink);
  // The path: a Lissajous figure over the desktop, a few hundred pixels per second, as a hand drags.
  const rangeX = W - ww;
  const rangeY = H - lay.taskbarH - wh;
  return (i, out) => {
    copyFrame(bg, out);
    const t = i / fps;
    const x = even(rangeX * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 7)));
    const y = even(rangeY * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 5 + 1)));
    blit(win, out, x, y);
    drawClock(out, lay, i, fps);
  };
}

/** Seconds between the video's scene cuts. */
const VIDEO_SHOT = 5;
/** Grain the video picture takes before a byte would overflow: 255 - (200 + 16 + 16). */
const VIDEO_GRAIN_HEADROOM = 23;
/** Grain the motion picture takes before a byte would overflow: 255 - 210. */
const MOTION_GRAIN_HEADROOM = 45;

function buildVideo(lay: Layout, fps: number, grainAmount: number): Draw {
  const { W, H } = lay;
  const tex = getTextures();
  const bg = allocFrame(W, H);
  drawDesktop(bg, lay);
  drawFileBrowser(bg, lay, { x: even(W * 0.08), y: even(H * 0.45), w: even(W * 0.34), h: even(H * 0.42) }, 81);
  // A player window whose picture is 40% of the screen's width and height; the picture's left
  // edge and width are multiples of 4 so its rows can be written as 32-bit words.
  const vw = 4 * Math.round(W * 0.1);
  const vh = even(H * 0.4);
  const controlsH = even(Math.max(lay.font.lh + 6, 36 * lay.S));
  const win = { x: 4 * Math.round((W * 0.45) / 4) + 2, y: even(H * 0.12), w: vw + 4, h: vh + controlsH + lay.titleH + 4 };
  const body = drawWindow(bg, lay, win, 82, true, C.player);
  const vx = body.x;
  const vy = body.y;
  const barY = vy + vh + (controlsH >> 1) - 2;
  const barX = vx + controlsH + even(px(lay, 8));
  const barW = even(vw * 0.6);
  const duration = 600;
  fillRect(bg, vx + even(px(lay, 8)), vy + vh + (controlsH >> 2), controlsH >> 1, controlsH >> 1, rgb(230, 230, 230));
  fillRect(bg, barX, barY, barW, 4, C.progressTrack);
  const light = new Uint8Array(vw);
  const row = new Uint8Array(vw);
  const light32 = words(light);
  const row32 = words(row);
  const grain = grainAmount > 0 ? grainTable(grainAmount) : undefined;
  const grain32 = grain ? words(grain) : undefined;
  // Texture 30..200, light 0..16, wave 0..16: at most 232, so up to 23 levels of grain fit in a
  // byte. More grain shifts the picture down by the excess (the texture's floor allows 30), so
  // that no byte carries into its neighbour and grain 0..23 renders as it always did.
  const shift = Math.max(0, grainAmount - VIDEO_GRAIN_HEADROOM);
  return (i, out) => {
    copyFrame(bg, out);
    const t = i / fps;
    const shot = Math.floor(t / VIDEO_SHOT);
    const ts = t - shot * VIDEO_SHOT;
    const h = hash32(shot);
    const angle = ((h >>> 20) / 4096) * 2 * Math.PI;
    const speed = (40 + (h % 60)) * lay.S;
    // Even offsets, so the half-size chroma pans by whole samples with the luma.
    const ox = Math.floor((h & TEX_MASK) + Math.cos(angle) * speed * ts) & (TEX_MASK - 1);
    const oy = Math.floor(((h >>> 10) & TEX_MASK) + Math.sin(angle) * speed * ts) & (TEX_MASK - 1);
    // A light sweeping across and a slow brightness wave down the picture: moving gradients.
    const sx = vw * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 3));
    const sw = vw * 0.15;
    for (let x = 0; x < vw; x++) {
      const d = (x - sx) / sw;
      light[x] = Math.round(16 * Math.exp(-d * d));
    }
    const y32 = W % 4 === 0 && light32 && row32 ? words(out.y) : undefined;
    videoLuma(out.y, y32, W, vx, vy, vw, vh, tex.videoY, ox, oy, light, light32, row, row32, grain, grain32, shift, i, t);
    videoChroma(out.u, W >> 1, vx >> 1, vy >> 1, vw >> 1, vh >> 1, tex.u, ox >> 1, oy >> 1);
    videoChroma(out.v, W >> 1, vx >> 1, vy >> 1, vw >> 1, vh >> 1, tex.v, ox >> 1, oy >> 1);
    const played = even(barW * ((t % duration) / duration));
    fillRect(out, barX, barY, played, 4, C.progress);
    const pos = Math.floor(t % duration);
    drawDigits(out, barX + barW + even(px(lay, 12)), vy + vh + ((controlsH - lay.clockH) >> 1), lay.clockH, `${two(Math.floor(pos / 60))}:${two(pos % 60)}`, 220, C.player.y);
    drawClock(out, lay, i, fps);
  };
}

/** Copies n bytes of a texture row starting at column x0, wrapping at the row's end, to dst at off. */
function copyWrapped(dst: Uint8Array, off: number, tex: Uint8Array, trow: number, size: number, x0: number, n: number): void {
  const first = Math.min(n, size - x0);
  dst.set(tex.subarray(trow + x0, trow + x0 + first), off);
  if (first < n) dst.set(tex.subarray(trow, trow + n - first), off + first);
}

function videoLuma(
  y: Uint8Array, y32: Uint32Array | undefined, W: number, vx: number, vy: number, vw: number, vh: number, tex: Uint8Array, ox: number, oy: number,
  light: Uint8Array, light32: Uint32Array | undefined, row: Uint8Array, row32: Uint32Array | undefined,
  grain: Uint8Array | undefined, grain32: Uint32Array | undefined, shift: number, frameIndex: number, t: number,
): void {
  const shifts = Math.imul(shift, 0x01010101);
  for (let r = 0; r < vh; r++) {
    // The picture pans: each row is a plain copy of a texture row, then grain and light are added.
    copyWrapped(row, 0, tex, ((oy + r) & TEX_MASK) * TEX, TEX, ox, vw);
    const wave = Math.round(8 + 8 * Math.sin(2 * Math.PI * (r / vh + t / 2)));
    const o = (vy + r) * W + vx;
    // Every byte of the sum is in 0..255 (see buildVideo), so the 32-bit sums, taken modulo 2^32
    // by the store, are the four byte sums side by side.
    if (y32 && row32 && light32) {
      const o4 = o >> 2;
      const n = vw >> 2;
      const add = Math.imul(wave, 0x01010101) - shifts;
      if (grain32) {
        const g4 = (hash2(frameIndex, r) & (GRAIN_SPAN - 4)) >> 2;
        for (let q = 0; q < n; q++) y32[o4 + q] = row32[q]! + grain32[g4 + q]! + light32[q]! + add;
      } else {
        for (let q = 0; q < n; q++) y32[o4 + q] = row32[q]! + light32[q]! + add;
      }
    } else {
      const add = wave - shift;
      if (grain) {
        const g = hash2(frameIndex, r) & (GRAIN_SPAN - 4);
        for (let x = 0; x < vw; x++) y[o + x] = row[x]! + grain[g + x]! + light[x]! + add;
      } else {
        for (let x = 0; x < vw; x++) y[o + x] = row[x]! + light[x]! + add;
      }
    }
  }
}

function videoChroma(p: Uint8Array, cw: number, cx: number, cy: number, w: number, h: number, tex: Uint8Array, ox: number, oy: number): void {
  for (let r = 0; r < h; r++) copyWrapped(p, (cy + r) * cw + cx, tex, ((oy + r) & CTEX_MASK) * CTEX, CTEX, ox & CTEX_MASK, w);
}

// Packing four bytes into one 32-bit store assumes little-endian order; elsewhere the byte loops
// run, which give the same pictures.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A 32-bit view of a byte plane when it is aligned for one, else undefined. */
function words(p: Uint8Array): Uint32Array | undefined {
  return LITTLE_ENDIAN && p.byteOffset % 4 === 0 && p.length % 4 === 0 ? new Uint32Array(p.buffer, p.byteOffset, p.length >> 2) : undefined;
}

function buildMotion(lay: Layout, fps: number, grainAmount: number): Draw {
  const { W, H } = lay;
  const tex = getTextures();
  const zrow = new Uint8Array(W);
  const zrow32 = words(zrow);
  const grain = grainAmount > 0 ? grainTable(grainAmount) : undefined;
  const grain32 = grain ? words(grain) : undefined;
  // Texture 20..210: grain beyond 45 shifts the picture down by the excess (the floor allows 20).
  const shift = Math.max(0, grainAmount - MOTION_GRAIN_HEADROOM);
  const fix = 65536;
  return (i, out) => {
    const t = i / fps;
    // Zoom breathes between 0.45 and 1.05 texture pixels per screen pixel while the view travels
    // and weaves: motion no single vector describes.
    const s = 0.75 + 0.3 * Math.sin((2 * Math.PI * t) / 6);
    const cx = (t * 170 + 300 * Math.sin((2 * Math.PI * t) / 7)) % TEX;
    const cy = (t * 90 + 200 * Math.cos((2 * Math.PI * t) / 9)) % TEX;
    // 16.16 fixed point in integers: the row loops then do only integer adds and shifts.
    const du = Math.round(s * fix);
    const u0 = Math.round((cx - (W / 2) * s) * fix);
    const v0 = Math.round((cy - (H / 2) * s) * fix);
    const y32 = W % 4 === 0 && zrow32 ? words(out.y) : undefined;
    if (grain) motionLuma(out.y, y32, W, H, tex.motionY, u0, v0, du, grain, grain32, shift, zrow, zrow32, i);
    else motionLumaClean(out.y, y32, W, H, tex.motionY, u0, v0, du);
    const half = W >> 1;
    const cu0 = Math.round((cx / 2 - (half / 2) * s) * fix);
    const cv0 = Math.round((cy / 2 - (H / 4) * s) * fix);
    const aligned = half % 4 === 0;
    motionChroma(out.u, aligned ? words(out.u) : undefined, half, H >> 1, tex.u, cu0, cv0, du);
    motionChroma(out.v, aligned ? words(out.v) : undefined, half, H >> 1, tex.v, cu0, cv0, du);
  };
}

/** One row of `tex` resampled: n texels from fixed-point u0 in steps of du, into dst at off (a multiple of 4 when dst32 is given). */
function resampleRow(dst: Uint8Array, dst32: Uint32Array | undefined, off: number, tex: Uint8Array, trow: number, mask: number, u0: number, du: number, n: number): void {
  let u = u0;
  if (dst32 && n % 4 === 0) {
    const q0 = off >> 2;
    const q1 = q0 + (n >> 2);
    for (let q = q0; q < q1; q++) {
      const a = tex[trow + ((u >> 16) & mask)]!;
      u += du;
      const b = tex[trow + ((u >> 16) & mask)]!;
      u += du;
      const c = tex[trow + ((u >> 16) & mask)]!;
      u += du;
      const d = tex[trow + ((u >> 16) & mask)]!;
      u += du;
      dst32[q] = a | (b << 8) | (c << 16) | (d << 24);
    }
  } else {
    for (let x = off; x < off + n; x++) {
      dst[x] = tex[trow + ((u >> 16) & mask)]!;
      u += du;
    }
  }
}

function motionLuma(
  y: Uint8Array, y32: Uint32Array | undefined, W: number, H: number, tex: Uint8Array, u0: number, v0: number, du: number,
  grain: Uint8Array, grain32: Uint32Array | undefined, shift: number, zrow: Uint8Array, zrow32: Uint32Array | undefined, frameIndex: number,
): void {
  let last = -1;
  const shifts = Math.imul(shift, 0x01010101);
  for (let r = 0; r < H; r++) {
    const trow = (((v0 + r * du) >> 16) & TEX_MASK) * TEX;
    // Zoomed in, several screen rows sample one texture row: resample it once.
    if (trow !== last) {
      resampleRow(zrow, zrow32, 0, tex, trow, TEX_MASK, u0, du, W);
      last = trow;
    }
    // A multiple of 4 so the grain lines up with 32-bit words.
    const g = hash2(frameIndex, r) & (GRAIN_SPAN - 4);
    // Every byte of texture + grain - shift is in 0..255 (see buildMotion), so no byte carries into its neighbour.
    if (y32 && zrow32 && grain32) {
      const o = (r * W) >> 2;
      const g4 = g >> 2;
      const n = W >> 2;
      if (shifts === 0) for (let q = 0; q < n; q++) y32[o + q] = zrow32[q]! + grain32[g4 + q]!;
      else for (let q = 0; q < n; q++) y32[o + q] = zrow32[q]! + grain32[g4 + q]! - shifts;
    } else {
      const o = r * W;
      for (let x = 0; x < W; x++) y[o + x] = zrow[x]! + grain[g + x]! - shift;
    }
  }
}

/** The motion picture without grain: texture rows resampled straight into the frame, repeated rows copied. */
function motionLumaClean(y: Uint8Array, y32: Uint32Array | undefined, W: number, H: number, tex: Uint8Array, u0: number, v0: number, du: number): void {
  let last = -1;
  for (let r = 0; r < H; r++) {
    const trow = (((v0 + r * du) >> 16) & TEX_MASK) * TEX;
    const o = r * W;
    if (trow === last) y.copyWithin(o, o - W, o);
    else resampleRow(y, y32, o, tex, trow, TEX_MASK, u0, du, W);
    last = trow;
  }
}

function motionChroma(p: Uint8Array, p32: Uint32Array | undefined, cw: number, ch: number, tex: Uint8Array, u0: number, v0: number, du: number): void {
  let last = -1;
  for (let r = 0; r < ch; r++) {
    const trow = (((v0 + r * du) >> 16) & CTEX_MASK) * CTEX;
    const o = r * cw;
    if (trow === last) p.copyWithin(o, o - cw, o);
    else resampleRow(p, p32, o, tex, trow, CTEX_MASK, u0, du, cw);
    last = trow;
  }
}
