/**
 * The moving pictures' pixels: the shared noise textures, film grain, and the flat per-row loops
 * that pan (video) or zoom (motion) the textures into a frame's luma and chroma.
 */
import { MAX_SCENE_WIDTH } from './names.ts';
import { hash2 } from './draw.ts';

// Textures: tileable fractal value noise, shared by every scene (they do not depend on the frame
// size) and built on first use.

/** Side of the luma textures in pixels. */
export const TEX = 1024;
/** TEX - 1, to wrap a coordinate into the texture. */
export const TEX_MASK = TEX - 1;
/** Side of the chroma textures in samples. */
export const CTEX = 512;
/** CTEX - 1, to wrap a coordinate into the chroma textures. */
export const CTEX_MASK = CTEX - 1;

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

/** The shared textures of the video and motion pictures. */
export interface Textures {
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
export function grainTable(amount: number): Uint8Array {
  let t = grainTables.get(amount);
  if (!t) {
    t = new Uint8Array(GRAIN_SPAN + MAX_SCENE_WIDTH);
    for (let i = 0; i < t.length; i++) t[i] = hash2(0x6a1e, i) % (amount + 1);
    grainTables.set(amount, t);
  }
  return t;
}

/** The shared textures, built on the first call. */
export function getTextures(): Textures {
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

/** Copies n bytes of a texture row starting at column x0, wrapping at the row's end, to dst at off. */
function copyWrapped(dst: Uint8Array, off: number, tex: Uint8Array, trow: number, size: number, x0: number, n: number): void {
  const first = Math.min(n, size - x0);
  dst.set(tex.subarray(trow + x0, trow + x0 + first), off);
  if (first < n) dst.set(tex.subarray(trow, trow + n - first), off + first);
}

/** The video picture's luma for one frame: the panned texture plus light, wave and grain, less the shift. */
export function videoLuma(
  y: Uint8Array,
  y32: Uint32Array | undefined,
  W: number,
  vx: number,
  vy: number,
  vw: number,
  vh: number,
  tex: Uint8Array,
  ox: number,
  oy: number,
  light: Uint8Array,
  light32: Uint32Array | undefined,
  row: Uint8Array,
  row32: Uint32Array | undefined,
  grain: Uint8Array | undefined,
  grain32: Uint32Array | undefined,
  shift: number,
  frameIndex: number,
  t: number,
): void {
  const shifts = Math.imul(shift, 0x01010101);
  for (let r = 0; r < vh; r++) {
    // The picture pans: each row is a plain copy of a texture row, then grain and light are added.
    copyWrapped(row, 0, tex, ((oy + r) & TEX_MASK) * TEX, TEX, ox, vw);
    const wave = Math.round(8 + 8 * Math.sin(2 * Math.PI * (r / vh + t / 2)));
    const o = (vy + r) * W + vx;
    // Every byte of the sum is in 0..255 (see buildVideo in content.ts), so the 32-bit sums, taken modulo 2^32
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

/** The video picture's chroma for one plane: the panned chroma texture. */
export function videoChroma(p: Uint8Array, cw: number, cx: number, cy: number, w: number, h: number, tex: Uint8Array, ox: number, oy: number): void {
  for (let r = 0; r < h; r++) copyWrapped(p, (cy + r) * cw + cx, tex, ((oy + r) & CTEX_MASK) * CTEX, CTEX, ox & CTEX_MASK, w);
}

// Packing four bytes into one 32-bit store assumes little-endian order; elsewhere the byte loops
// run, which give the same pictures.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A 32-bit view of a byte plane when it is aligned for one, else undefined. */
export function words(p: Uint8Array): Uint32Array | undefined {
  return LITTLE_ENDIAN && p.byteOffset % 4 === 0 && p.length % 4 === 0 ? new Uint32Array(p.buffer, p.byteOffset, p.length >> 2) : undefined;
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

/** The motion picture's luma with grain: texture rows resampled, grain added, less the shift. */
export function motionLuma(
  y: Uint8Array,
  y32: Uint32Array | undefined,
  W: number,
  H: number,
  tex: Uint8Array,
  u0: number,
  v0: number,
  du: number,
  grain: Uint8Array,
  grain32: Uint32Array | undefined,
  shift: number,
  zrow: Uint8Array,
  zrow32: Uint32Array | undefined,
  frameIndex: number,
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
    // Every byte of texture + grain - shift is in 0..255 (see buildMotion in content.ts), so no byte carries into its neighbour.
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
export function motionLumaClean(y: Uint8Array, y32: Uint32Array | undefined, W: number, H: number, tex: Uint8Array, u0: number, v0: number, du: number): void {
  let last = -1;
  for (let r = 0; r < H; r++) {
    const trow = (((v0 + r * du) >> 16) & TEX_MASK) * TEX;
    const o = r * W;
    if (trow === last) y.copyWithin(o, o - W, o);
    else resampleRow(y, y32, o, tex, trow, TEX_MASK, u0, du, W);
    last = trow;
  }
}

/** The motion picture's chroma for one plane: chroma texture rows resampled, repeated rows copied. */
export function motionChroma(p: Uint8Array, p32: Uint32Array | undefined, cw: number, ch: number, tex: Uint8Array, u0: number, v0: number, du: number): void {
  let last = -1;
  for (let r = 0; r < ch; r++) {
    const trow = (((v0 + r * du) >> 16) & CTEX_MASK) * CTEX;
    const o = r * cw;
    if (trow === last) p.copyWithin(o, o - cw, o);
    else resampleRow(p, p32, o, tex, trow, CTEX_MASK, u0, du, cw);
    last = trow;
  }
}
