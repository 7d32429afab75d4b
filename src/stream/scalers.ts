/**
 * The scaling algorithms of live resolution changes, by name: what the records say. Apart from
 * the scaler itself (scale.ts) so that the workload can name them without loading FFmpeg.
 */

/** The swscale algorithms offered, by the name FFmpeg's scale filter gives them (`scale=W:H:flags=NAME`). */
export const SCALE_FILTERS = ['bicubic', 'bilinear', 'lanczos'] as const;
export type ScaleFilter = (typeof SCALE_FILTERS)[number];

/**
 * The algorithms the pipeline uses, named in every record of a resolution change. Bicubic both
 * ways: it is the scale filter's own default, so an offline `ffmpeg -vf scale=W:H:flags=bicubic`
 * reproduces the pictures (test/live-changes.test.ts holds them to it).
 */
export const GUEST_SCALE: ScaleFilter = 'bicubic';
export const CLIENT_SCALE: ScaleFilter = 'bicubic';

/** How a record names a scaling: library and algorithm, e.g. `swscale bicubic`. */
export function scalerName(f: ScaleFilter): string {
  return `swscale ${f}`;
}
