/**
 * Luma quality of a decoded frame against its source, computed the way FFmpeg's `psnr` and `ssim`
 * filters compute their Y values, so that numbers from the client and from an offline FFmpeg run
 * can be put side by side.
 */

/**
 * What an identical frame's PSNR is recorded as: FFmpeg prints inf, which JSON cannot carry
 * (it would come back as null and the frame would vanish from the mean) and no mean can use.
 */
export const PSNR_CAP = 100;

/** PSNR of two luma planes in dB, as FFmpeg's psnr filter reports psnr_y: 10*log10(255^2/MSE); Infinity when identical. */
export function psnrY(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  checkPlanes(a, b, width, height, 1, 'psnrY');
  let sse = 0;
  for (let row = 0; row < height; row++) {
    // One row's sum stays below 2^31 (width*255^2 for widths up to 33000), so it can stay a small integer.
    let rowSum = 0;
    const end = (row + 1) * width;
    for (let i = row * width; i < end; i++) {
      const d = a[i]! - b[i]!;
      rowSum += d * d;
    }
    sse += rowSum;
  }
  if (sse === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sse / (width * height)));
}

// FFmpeg's constants for 8-bit SSIM on 8x8 windows of 64 samples, rounded to integers as it does.
const SSIM_C1 = Math.trunc(0.01 * 0.01 * 255 * 255 * 64 + 0.5);
const SSIM_C2 = Math.trunc(0.03 * 0.03 * 255 * 255 * 64 * 63 + 0.5);

/**
 * SSIM of two luma planes as FFmpeg's ssim filter reports Y: sums over 4x4 blocks, combined into
 * 8x8 windows that step by 4 pixels, averaged over all (width/4-1)*(height/4-1) windows.
 */
export function ssimY(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  checkPlanes(a, b, width, height, 8, 'ssimY');
  const bw = width >> 2;
  const bh = height >> 2;
  // Two rows of block sums (s1, s2, ss, s12 per block): the window row below reuses the newer one.
  let cur = new Int32Array(4 * bw);
  let prev = new Int32Array(4 * bw);
  let total = 0;
  let z = 0;
  for (let by = 1; by < bh; by++) {
    for (; z <= by; z++) {
      const t = prev;
      prev = cur;
      cur = t;
      blockSums(a, b, width, z, bw, cur);
    }
    total += windowRow(cur, prev, bw - 1);
  }
  return total / ((bw - 1) * (bh - 1));
}

function blockSums(a: Uint8Array, b: Uint8Array, width: number, by: number, bw: number, out: Int32Array): void {
  const rowStart = by * 4 * width;
  for (let bx = 0; bx < bw; bx++) {
    let s1 = 0;
    let s2 = 0;
    let ss = 0;
    let s12 = 0;
    let o = rowStart + bx * 4;
    for (let r = 0; r < 4; r++, o += width) {
      const a0 = a[o]!,
        a1 = a[o + 1]!,
        a2 = a[o + 2]!,
        a3 = a[o + 3]!;
      const b0 = b[o]!,
        b1 = b[o + 1]!,
        b2 = b[o + 2]!,
        b3 = b[o + 3]!;
      s1 += a0 + a1 + a2 + a3;
      s2 += b0 + b1 + b2 + b3;
      ss += a0 * a0 + a1 * a1 + a2 * a2 + a3 * a3 + b0 * b0 + b1 * b1 + b2 * b2 + b3 * b3;
      s12 += a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
    }
    const k = bx * 4;
    out[k] = s1;
    out[k + 1] = s2;
    out[k + 2] = ss;
    out[k + 3] = s12;
  }
}

// FFmpeg rounds the two products to float; doubles here differ by about 1e-7 per window, far
// below the six decimals its stats file prints.
function windowRow(s0: Int32Array, s1: Int32Array, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const k = 4 * i;
    const m1 = s0[k]! + s0[k + 4]! + s1[k]! + s1[k + 4]!;
    const m2 = s0[k + 1]! + s0[k + 5]! + s1[k + 1]! + s1[k + 5]!;
    const sq = s0[k + 2]! + s0[k + 6]! + s1[k + 2]! + s1[k + 6]!;
    const cr = s0[k + 3]! + s0[k + 7]! + s1[k + 3]! + s1[k + 7]!;
    const vars = sq * 64 - m1 * m1 - m2 * m2;
    const covar = cr * 64 - m1 * m2;
    acc += ((2 * m1 * m2 + SSIM_C1) * (2 * covar + SSIM_C2)) / ((m1 * m1 + m2 * m2 + SSIM_C1) * (vars + SSIM_C2));
  }
  return acc;
}

function checkPlanes(a: Uint8Array, b: Uint8Array, width: number, height: number, min: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < min || height < min) {
    throw new RangeError(`${what}: plane size must be integers of at least ${min}x${min}, got ${width}x${height}`);
  }
  const n = width * height;
  if (a.length < n || b.length < n) {
    throw new RangeError(`${what}: planes hold ${a.length} and ${b.length} bytes, ${width}x${height} needs ${n}`);
  }
}
