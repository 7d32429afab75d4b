/**
 * How hard a content is to encode: spatial information (SI) and temporal information (TI) of
 * ITU-T P.910, computed as FFmpeg's `siti` filter (5.1) computes them, on luma:
 *
 * - luma is first brought to full range when the frames are limited range (16..235 ->
 *   0..255, with FFmpeg's integer rounding), as the filter does for untagged yuv420p;
 * - SI of a frame: the standard deviation of the Sobel gradient magnitude over the frame less
 *   its one-pixel border;
 * - TI of a frame: the standard deviation of its pixel-wise difference from the previous frame.
 *
 * P.910 summarises a sequence by the maximum over its frames; the mean is kept beside it.
 * A scene's frame number code is measured as if it always showed the same number: its two
 * black/white blocks that flip each frame would otherwise be most of the TI of still content
 * (about 6 at 720p, 10 at 320x240), whatever the scene.
 * Unlike the filter's summary, the first frame of a sequence has no TI (the filter counts a 0
 * there, which lowers its mean and minimum): TI needs two frames.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { StreamSettings } from '../config/stream-settings.ts';
import { allocFrame, type YuvFrame } from './frame.ts';
import { stampFrameNumber } from './scenes/index.ts';
import { openSource } from './source.ts';

/** SI and TI of a sequence: P.910's maximum over frames, and the mean. */
export interface SiTiSummary {
  si: number;
  siMean: number;
  ti: number;
  tiMean: number;
  /** Frames whose SI was measured. */
  siFrames: number;
  /** Frames whose TI was measured (each against its predecessor). */
  tiFrames: number;
}

/** Luma to full range, per 8-bit value: FFmpeg's convert_full_range for limited range, identity for full range. */
export function fullRangeTable(fullRange: boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let y = 0; y < 256; y++) t[y] = fullRange ? y : Math.floor((255 * Math.min(Math.max(y - 16, 0), 219)) / 219);
  return t;
}

/** Copies `luma` through the range table into `out` (same length). */
export function toFullRange(luma: Uint8Array, table: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < luma.length; i++) out[i] = table[luma[i]!]!;
}

/**
 * SI of one full-range luma plane: standard deviation of the Sobel magnitude over the
 * (width-2) x (height-2) interior. Each column's vertical sums ([1 2 1] and [1 0 -1]) are taken
 * once and slid along the row, so a pixel costs three loads.
 */
export function spatialInfo(p: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return NaN;
  let sum = 0;
  let sumSq = 0;
  for (let j = 1; j < height - 1; j++) {
    const a = (j - 1) * width;
    const b = j * width;
    const c = (j + 1) * width;
    let s0 = p[a]! + 2 * p[b]! + p[c]!;
    let d0 = p[a]! - p[c]!;
    let s1 = p[a + 1]! + 2 * p[b + 1]! + p[c + 1]!;
    let d1 = p[a + 1]! - p[c + 1]!;
    let rowSq = 0;
    for (let i = 2; i < width; i++) {
      const top = p[a + i]!;
      const bottom = p[c + i]!;
      const s2 = top + 2 * p[b + i]! + bottom;
      const d2 = top - bottom;
      const gx = s0 - s2;
      const gy = d0 + 2 * d1 + d2;
      const m2 = gx * gx + gy * gy;
      rowSq += m2;
      sum += Math.sqrt(m2);
      s0 = s1;
      s1 = s2;
      d0 = d1;
      d1 = d2;
    }
    sumSq += rowSq;
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
}

/** TI of one full-range luma plane against the previous one: standard deviation of the difference. */
export function temporalInfo(prev: Uint8Array, cur: Uint8Array): number {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < cur.length; i++) {
    const d = cur[i]! - prev[i]!;
    sum += d;
    sumSq += d * d;
  }
  const n = cur.length;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
}

/** At most this many frames of a point's window are measured; longer windows are sampled evenly. */
export const MAX_SITI_FRAMES = 150;

/** The source frames of a point's recorded window: the capture ticks after the warm-up, at the nominal frame rate. */
export function windowFrames(s: Pick<StreamSettings, 'fps' | 'warmupS' | 'durationS'>): { first: number; count: number } {
  const first = Math.ceil(s.warmupS * s.fps - 1e-9);
  const end = Math.ceil((s.warmupS + s.durationS) * s.fps - 1e-9);
  return { first, count: Math.max(0, end - first) };
}

/**
 * The frames measured of a window: all of them, or `max` spread evenly over it (each with its
 * predecessor for TI), in increasing order.
 */
export function sampleFrames(first: number, count: number, max = MAX_SITI_FRAMES): number[] {
  if (count <= max) return Array.from({ length: count }, (_, k) => first + k);
  return Array.from({ length: max }, (_, k) => first + Math.floor((k * count) / max));
}

/** Whether a y4m file says its samples are full range (XCOLORRANGE=FULL), as FFmpeg's demuxer reads it. */
export function y4mIsFullRange(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('latin1').split('\n', 1)[0]!;
    return line.split(' ').includes('XCOLORRANGE=FULL');
  } finally {
    closeSync(fd);
  }
}

/** A point's frames as SI/TI measure them, and whether their luma is full range. */
export interface MeasuredFrames {
  render(n: number, out: YuvFrame): void;
  fullRange: boolean;
}

/** The source's frames (its scene with its grain, or its y4m file, as the guest renders them), a scene's frame number code drawn for frame 0. */
export function measuredFrames(s: StreamSettings): MeasuredFrames {
  const source = openSource(s);
  if (s.source !== undefined) return { render: (n, out) => source.render(n, out), fullRange: y4mIsFullRange(s.source) };
  return {
    render: (n, out) => {
      source.render(n, out);
      stampFrameNumber(out, 0);
    },
    fullRange: false,
  };
}

/** Lets the engine's event loop (collector, progress) run between frames of a long computation. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** SI and TI of the given frames of a point's source (see measuredFrames). TI of frame n is against frame n-1; frame 0 has none. */
export async function measureSource(s: StreamSettings, frames: readonly number[], signal?: AbortSignal): Promise<SiTiSummary> {
  const source = measuredFrames(s);
  const table = fullRangeTable(source.fullRange);
  const { width, height } = s;
  const frame = allocFrame(width, height);
  let prev = new Uint8Array(width * height);
  let cur = new Uint8Array(width * height);
  let prevIndex = -1;
  const load = (n: number, into: Uint8Array) => {
    source.render(n, frame);
    toFullRange(frame.y, table, into);
  };
  const out: SiTiSummary = { si: NaN, siMean: NaN, ti: NaN, tiMean: NaN, siFrames: 0, tiFrames: 0 };
  let siSum = 0;
  let tiSum = 0;
  for (const n of frames) {
    if (n > 0 && prevIndex !== n - 1) {
      load(n - 1, prev);
      prevIndex = n - 1;
    }
    load(n, cur);
    const si = spatialInfo(cur, width, height);
    siSum += si;
    out.siFrames++;
    out.si = out.siFrames === 1 ? si : Math.max(out.si, si);
    if (n > 0 && prevIndex === n - 1) {
      const ti = temporalInfo(prev, cur);
      tiSum += ti;
      out.tiFrames++;
      out.ti = out.tiFrames === 1 ? ti : Math.max(out.ti, ti);
    }
    [prev, cur] = [cur, prev];
    prevIndex = n;
    await yieldToLoop();
    if (signal?.aborted) throw new Error('interrupted');
  }
  out.siMean = out.siFrames ? siSum / out.siFrames : NaN;
  out.tiMean = out.tiFrames ? tiSum / out.tiFrames : NaN;
  return out;
}

// Points of a sweep that differ only in codec, bitrate or network stream the same frames: their
// SI/TI is computed once per engine process.
const cache = new Map<string, SiTiSummary>();
const CACHE_ENTRIES = 64;

/**
 * SI/TI of a point's recorded window (see windowFrames, sampleFrames), as the metrics
 * `source.si`, `source.ti` (maxima) and `source.si.mean`, `source.ti.mean`.
 */
export async function sourceSiTiMetrics(s: StreamSettings, opts: { maxFrames?: number; signal?: AbortSignal } = {}): Promise<Record<string, number>> {
  const maxFrames = opts.maxFrames ?? MAX_SITI_FRAMES;
  const { first, count } = windowFrames(s);
  const file = s.source !== undefined ? statSync(s.source) : undefined;
  const key = JSON.stringify([s.source, file?.size, file?.mtimeMs, s.scene, s.grain, s.width, s.height, s.fps, first, count, maxFrames]);
  let m = cache.get(key);
  if (!m) {
    m = await measureSource(s, sampleFrames(first, count, maxFrames), opts.signal);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, m);
  }
  const r = (x: number) => Number(x.toFixed(3));
  const out: Record<string, number> = {};
  if (m.siFrames > 0) Object.assign(out, { 'source.si': r(m.si), 'source.si.mean': r(m.siMean) });
  if (m.tiFrames > 0) Object.assign(out, { 'source.ti': r(m.ti), 'source.ti.mean': r(m.tiMean) });
  out['source.siti_frames'] = m.siFrames;
  return out;
}
