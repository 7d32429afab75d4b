/**
 * Picture scaling for live resolution changes, through FFmpeg's swscale (node-av): the guest
 * scales its source down to the size it encodes at, the client scales the decoded picture back
 * to the configured size, so quality is measured against the source at one size throughout.
 */
import { SoftwareScaleContext } from 'node-av';
import { AV_PIX_FMT_YUV420P, SWS_BICUBIC, SWS_BILINEAR, SWS_LANCZOS, type SwsFlags } from 'node-av/constants';
import type { YuvFrame } from './frame.ts';
import type { ScaleFilter } from './scalers.ts';

const FILTERS = { bicubic: SWS_BICUBIC, bilinear: SWS_BILINEAR, lanczos: SWS_LANCZOS } as const satisfies Record<ScaleFilter, SwsFlags>;

/** Scales I420 frames of one size to another with one swscale algorithm; reused while the sizes stay. */
export class FrameScaler {
  private readonly ctx = new SoftwareScaleContext();

  constructor(
    readonly from: { width: number; height: number },
    readonly to: { width: number; height: number },
    readonly filter: ScaleFilter,
  ) {
    this.ctx.getContext(from.width, from.height, AV_PIX_FMT_YUV420P, to.width, to.height, AV_PIX_FMT_YUV420P, FILTERS[filter]);
    const r = this.ctx.initContext();
    if (r < 0) throw new Error(`swscale ${filter} ${from.width}x${from.height} -> ${to.width}x${to.height}: error ${r}`);
  }

  /** Whether this scaler maps these two sizes. */
  fits(src: { width: number; height: number }, dst: { width: number; height: number }): boolean {
    return src.width === this.from.width && src.height === this.from.height && dst.width === this.to.width && dst.height === this.to.height;
  }

  /** Writes `src` scaled into `dst` (both I420 without row padding, of this scaler's sizes). */
  scale(src: YuvFrame, dst: YuvFrame): void {
    if (!this.fits(src, dst)) throw new Error(`scaler for ${this.from.width}x${this.from.height} -> ${this.to.width}x${this.to.height} given ${src.width}x${src.height} -> ${dst.width}x${dst.height}`);
    const view = (p: Uint8Array) => Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    const r = this.ctx.scaleSync([view(src.y), view(src.u), view(src.v)], [src.width, src.width / 2, src.width / 2], 0, src.height, [view(dst.y), view(dst.u), view(dst.v)], [dst.width, dst.width / 2, dst.width / 2]);
    if (r !== dst.height) throw new Error(`swscale ${this.filter} wrote ${r} rows of ${dst.height}`);
  }

  close(): void {
    this.ctx.freeContext();
  }
}
