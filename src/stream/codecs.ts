/**
 * Real encoders and decoders in process, through FFmpeg's libraries (node-av). Set up for real
 * time: no B-frames, no lookahead, zero-latency tunings, decoders with one thread and the
 * low-delay flag, so each packet gives its frame at once and no stage holds frames back.
 */
import { Codec, CodecContext, FFmpegError, Frame, Log, Packet, Rational } from 'node-av';
import {
  AV_CODEC_FLAG_FRAME_DURATION,
  AV_CODEC_FLAG_LOW_DELAY,
  AV_CODEC_FLAG_QSCALE,
  AV_CODEC_ID_H264,
  AV_CODEC_ID_HEVC,
  AV_CODEC_ID_MJPEG,
  AV_CODEC_ID_VP8,
  AV_CODEC_ID_VP9,
  AV_LOG_ERROR,
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_YUV420P,
  AV_PIX_FMT_YUVJ420P,
  FF_QP2LAMBDA,
} from 'node-av/constants';
import type { YuvFrame } from './frame.ts';
import type { CodecName, RateControl } from '../config/stream-settings.ts';

// Codec chatter on stderr would fill the role logs; errors still come through.
Log.setLevel(AV_LOG_ERROR);

export interface EncoderConfig {
  codec: CodecName;
  width: number;
  height: number;
  fps: number;
  bitrateBps: number;
  rateControl: RateControl;
  quality?: number;
  gop: number;
  preset: string;
  threads: number;
}

export interface EncodedPacket {
  data: Buffer;
  key: boolean;
  /** Presentation time in milliseconds (the encoder's time base is 1/1000). */
  ptsMs: number;
}

/** How a live change reached the encoder: taken by the open encoder, or by reopening it (with a keyframe). */
export type LiveChange = 'live' | 'reopened';

interface CodecSpec {
  encoder: string;
  decoder: string | number;
  pixFmt: number;
  /** Whether a bitrate change applies to the open encoder; otherwise it is reopened. */
  liveBitrate: boolean;
  defaultQuality: number;
}

const SPECS: Record<CodecName, CodecSpec> = {
  h264: { encoder: 'libx264', decoder: AV_CODEC_ID_H264, pixFmt: AV_PIX_FMT_YUV420P, liveBitrate: true, defaultQuality: 23 },
  h265: { encoder: 'libx265', decoder: AV_CODEC_ID_HEVC, pixFmt: AV_PIX_FMT_YUV420P, liveBitrate: false, defaultQuality: 28 },
  vp8: { encoder: 'libvpx', decoder: AV_CODEC_ID_VP8, pixFmt: AV_PIX_FMT_YUV420P, liveBitrate: false, defaultQuality: 30 },
  vp9: { encoder: 'libvpx-vp9', decoder: AV_CODEC_ID_VP9, pixFmt: AV_PIX_FMT_YUV420P, liveBitrate: false, defaultQuality: 30 },
  // FFmpeg's native AV1 decoder needs hardware; dav1d is the software one.
  av1: { encoder: 'libsvtav1', decoder: 'libdav1d', pixFmt: AV_PIX_FMT_YUV420P, liveBitrate: false, defaultQuality: 35 },
  // Full-range 4:2:0 is what JPEG carries; the bytes are the same layout as yuv420p.
  mjpeg: { encoder: 'mjpeg', decoder: AV_CODEC_ID_MJPEG, pixFmt: AV_PIX_FMT_YUVJ420P, liveBitrate: false, defaultQuality: 5 },
};

/** FFmpeg encoder name of a codec, e.g. h264 -> libx264. */
export function encoderName(codec: CodecName): string {
  return SPECS[codec].encoder;
}

function check(ret: number, what: string): void {
  FFmpegError.throwIfError(ret, what);
}

/**
 * Private codec options, set on the context before opening. Not through an options Dictionary
 * handed to open2: node-av 6.1.1 then frees the dictionary twice and the process crashes at the
 * next garbage collection (reproduced with --expose-gc).
 */
function setOptions(ctx: CodecContext, opts: Record<string, string>, who: string): void {
  for (const [k, v] of Object.entries(opts)) check(ctx.setOption(k, v), `${who} option ${k}=${v}`);
}

/** Private options of the FFmpeg encoder for real-time use, by codec. */
function encoderOptions(c: EncoderConfig): Record<string, string> {
  const q = String(c.quality ?? SPECS[c.codec].defaultQuality);
  switch (c.codec) {
    case 'h264':
      return { preset: c.preset, tune: 'zerolatency', 'forced-idr': '1', ...(c.rateControl === 'crf' ? { crf: q } : {}) };
    case 'h265':
      return {
        preset: c.preset,
        tune: 'zerolatency',
        'forced-idr': '1',
        // x265 writes its own banner to stderr, outside FFmpeg's log level.
        'x265-params': `log-level=error:bframes=0:rc-lookahead=0${c.rateControl === 'crf' ? '' : ''}`,
        ...(c.rateControl === 'crf' ? { crf: q } : {}),
      };
    case 'vp8':
    case 'vp9':
      return {
        deadline: 'realtime',
        'cpu-used': c.preset,
        'lag-in-frames': '0',
        'auto-alt-ref': '0',
        ...(c.codec === 'vp9' ? { 'row-mt': '1' } : {}),
        ...(c.rateControl === 'crf' ? { crf: q } : {}),
      };
    case 'av1':
      // pred-struct=1 is SVT-AV1's low-delay mode: without it frames are held for a mini-GOP.
      return {
        preset: c.preset,
        'svtav1-params': `pred-struct=1:lookahead=0${c.rateControl === 'cbr' ? ':rc=2' : c.rateControl === 'vbr' ? ':rc=1' : ''}`,
        ...(c.rateControl === 'crf' ? { crf: q } : {}),
      };
    case 'mjpeg':
      return {};
  }
}

/** A real-time video encoder; `encode` returns the packets of one frame (one, for these settings). */
export class VideoEncoder {
  private ctx!: CodecContext;
  private readonly frame = new Frame();
  private readonly packet = new Packet();
  private scratch: Buffer;
  private config: EncoderConfig;
  /** Set when a change needs the encoder reopened: the next frame then is a keyframe. */
  private reopenPending = false;
  /** libvpx: the previous frame's timestamp as given to `encode` (ms): where the next frame's interval starts. */
  private lastPtsMs: number | undefined;
  /** mjpeg: the previous frame's pts in frame intervals, and the caller's time (ms) of pts 0. */
  private lastPts: number | undefined;
  private originMs: number | undefined;
  /** libvpx: the caller's timestamp (rounded ms) of each frame in the encoder, by the pts the encoder was given. */
  private readonly callerPts = new Map<bigint, number>();

  constructor(config: EncoderConfig) {
    this.config = { ...config };
    this.scratch = Buffer.alloc((config.width * config.height * 3) / 2);
    this.frame.alloc();
    this.packet.alloc();
    this.open();
  }

  private open(): void {
    const c = this.config;
    const codec = Codec.findEncoderByName(SPECS[c.codec].encoder as never);
    if (!codec) throw new Error(`encoder ${SPECS[c.codec].encoder} is not in this FFmpeg build`);
    const ctx = new CodecContext();
    ctx.allocContext3(codec);
    ctx.width = c.width;
    ctx.height = c.height;
    ctx.pixelFormat = SPECS[c.codec].pixFmt as never;
    // MJPEG's rate control (FFmpeg's mpegvideo) reads the frame rate off the time base: at 1/1000
    // it budgets a thousandth of a second's bits per frame and stays at its coarsest quantiser
    // whatever the target (measured: the same bytes at 2, 8 and 30 Mbit/s). It gets 1/fps.
    ctx.timeBase = c.codec === 'mjpeg' ? new Rational(1000, Math.round(c.fps * 1000)) : new Rational(1, 1000);
    ctx.framerate = new Rational(Math.round(c.fps * 1000), 1000);
    ctx.gopSize = c.gop;
    ctx.maxBFrames = 0;
    ctx.threadCount = c.threads;
    const b = BigInt(c.bitrateBps);
    if (c.codec === 'mjpeg') {
      if (c.rateControl === 'crf') {
        ctx.setFlags(AV_CODEC_FLAG_QSCALE);
        ctx.globalQuality = (c.quality ?? SPECS.mjpeg.defaultQuality) * FF_QP2LAMBDA;
      } else {
        ctx.bitRate = b;
      }
    } else if (c.rateControl === 'cbr') {
      ctx.bitRate = b;
      ctx.rcMaxRate = b;
      ctx.rcMinRate = c.codec === 'vp8' || c.codec === 'vp9' ? b : 0n; // libvpx picks CBR when min = max = target
      ctx.rcBufferSize = Number(b / 2n); // half a second of VBV: low delay without starving keyframes
    } else if (c.rateControl === 'vbr') {
      ctx.bitRate = b;
      ctx.rcMaxRate = b * 2n;
      ctx.rcBufferSize = Number(b);
    } else if (c.codec === 'vp8') {
      ctx.bitRate = b; // libvpx's VP8 constrained quality needs a ceiling
    }
    // libvpx is given each frame's duration (see encode); FFmpeg drops it without this flag.
    if (isLibvpx(c.codec)) ctx.setFlags(AV_CODEC_FLAG_FRAME_DURATION);
    setOptions(ctx, encoderOptions(c), SPECS[c.codec].encoder);
    check(ctx.open2Sync(codec, null), `opening ${SPECS[c.codec].encoder}`);
    this.ctx = ctx;
  }

  get settings(): Readonly<EncoderConfig> {
    return this.config;
  }

  /**
   * Changes the target bitrate while streaming. x264 takes it in the open encoder (FFmpeg's
   * libx264 reconfigures it); x265, libvpx, SVT-AV1 and MJPEG keep the rate they were opened
   * with (measured through node-av: a changed target left their output where it was), so they are
   * reopened before the next frame, which is then a keyframe. Returns which happened.
   */
  setBitrate(bps: number): LiveChange {
    this.config.bitrateBps = bps;
    if (this.liveBitrate) {
      const b = BigInt(bps);
      this.ctx.bitRate = b;
      if (this.config.rateControl === 'cbr') {
        this.ctx.rcMaxRate = b;
        this.ctx.rcBufferSize = Number(b / 2n);
      } else {
        this.ctx.rcMaxRate = b * 2n;
        this.ctx.rcBufferSize = Number(b);
      }
      return 'live';
    }
    this.reopenPending = true;
    return 'reopened';
  }

  /** Whether a bitrate change is taken in the open encoder; false: every change reopens it, the next frame a keyframe. */
  get liveBitrate(): boolean {
    return SPECS[this.config.codec].liveBitrate && this.config.rateControl !== 'crf';
  }

  /**
   * Changes the frame rate. libvpx budgets each frame by its timestamps (see encode), so it goes
   * on as it is; x264, x265, SVT-AV1 and MJPEG budget a frame as bitrate / the frame rate they
   * were opened with (measured: at half the rate they gave 0.42-0.46 of the target in bits/s),
   * so they are reopened with the new rate, the next frame a keyframe.
   */
  setFps(fps: number): LiveChange {
    this.config.fps = fps;
    if (isLibvpx(this.config.codec)) return 'live';
    this.reopenPending = true;
    return 'reopened';
  }

  /** Changes the size frames are encoded at: every codec is reopened at it, the next frame a keyframe. */
  setResolution(width: number, height: number): LiveChange {
    if (width === this.config.width && height === this.config.height) return 'live';
    this.config.width = width;
    this.config.height = height;
    this.scratch = Buffer.alloc((width * height * 3) / 2);
    this.reopenPending = true;
    return 'reopened';
  }

  /** Whether the next `encode` reopens the encoder (a change asked for it): its frame is then a keyframe. */
  get reopening(): boolean {
    return this.reopenPending;
  }

  /** Encodes one frame; `forceKey` asks for a keyframe (after loss, on a client's request). */
  async encode(src: YuvFrame, ptsMs: number, forceKey = false): Promise<EncodedPacket[]> {
    if (src.width !== this.config.width || src.height !== this.config.height) throw new Error(`frame is ${src.width}x${src.height}, the encoder is at ${this.config.width}x${this.config.height}`);
    if (this.reopenPending) {
      this.ctx.freeContext();
      this.callerPts.clear();
      this.lastPts = undefined;
      this.originMs = undefined;
      this.open();
      this.reopenPending = false;
      forceKey = true;
    }
    const f = this.frame;
    if (f.width !== src.width || f.height !== src.height) {
      f.unref();
      f.width = src.width;
      f.height = src.height;
      f.format = SPECS[this.config.codec].pixFmt as never;
      check(f.getBuffer(0), 'allocating a frame');
    }
    check(f.makeWritable(), 'making the frame writable');
    f.fromBuffer(contiguous(src, this.scratch));
    if (isLibvpx(this.config.codec)) {
      // libvpx budgets each frame by a frame rate it estimates from the timestamps (vp8/vp9
      // adjust_frame_rate): the time from the previous frame's end (pts + duration) to this one's
      // end, taken at once only when it differs by 10 % or more from the previous frame's own
      // duration, otherwise averaged in over up to a second. Given one frame interval as every
      // frame's duration (FFmpeg's default), a skipped capture tick reads as a halved frame rate,
      // and the frames after it, back at the full rate, keep up to twice their share while the
      // average recovers: CBR 45 to 60 % over its target with a tenth of the ticks skipped
      // (codecs.test.ts). So each frame is handed as the interval it stands for, from the
      // previous capture to its own (pts = the previous timestamp, duration = the gap): libvpx
      // then budgets each frame by the time since the one before.
      const end = Math.round(ptsMs);
      const start = this.lastPtsMs === undefined || ptsMs <= this.lastPtsMs ? Math.round(ptsMs - 1000 / this.config.fps) : Math.round(this.lastPtsMs);
      this.lastPtsMs = ptsMs;
      f.pts = BigInt(start);
      f.duration = BigInt(Math.max(1, end - start));
      this.callerPts.set(f.pts, end);
    } else if (this.config.codec === 'mjpeg') {
      // In frame intervals (its time base is 1/fps), strictly increasing as the encoder demands,
      // from 0 at each opening: a reopened encoder starting at a later pts overshot its target
      // by 60 % (measured).
      this.originMs ??= ptsMs;
      const pts = Math.max((this.lastPts ?? -1) + 1, Math.round(((ptsMs - this.originMs) * this.config.fps) / 1000));
      this.lastPts = pts;
      f.pts = BigInt(pts);
      this.callerPts.set(f.pts, Math.round(ptsMs));
    } else {
      f.pts = BigInt(Math.round(ptsMs));
    }
    f.pictType = forceKey ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    check(await this.ctx.sendFrame(f), 'sending a frame to the encoder');
    return this.drain();
  }

  /**
   * Synchronous: FFmpeg encodes inside send_frame (the call that runs off the main thread), so
   * taking its packets is a move of a reference; awaiting each take cost a thread-pool round trip
   * per packet and one more for the final EAGAIN.
   */
  private drain(): EncodedPacket[] {
    const out: EncodedPacket[] = [];
    for (;;) {
      const r = this.ctx.receivePacketSync(this.packet);
      if (r < 0) break; // EAGAIN: the encoder wants the next frame
      const pts = this.packet.pts;
      const callerPts = this.callerPts.get(pts);
      this.callerPts.delete(pts);
      out.push({ data: Buffer.from(this.packet.data!), key: this.packet.isKeyframe, ptsMs: callerPts ?? Number(pts) });
      this.packet.unref();
    }
    return out;
  }

  /** Frees the native encoder; FFmpeg contexts left to the garbage collector can crash at exit. */
  close(): void {
    this.ctx.freeContext();
    this.frame.free();
    this.packet.free();
  }
}

function isLibvpx(codec: CodecName): boolean {
  return codec === 'vp8' || codec === 'vp9';
}

/** The frame as one I420 buffer, without a copy when its planes already lie back to back. */
function contiguous(src: YuvFrame, scratch: Buffer): Buffer {
  const ySize = src.width * src.height;
  const cSize = ySize / 4;
  if (src.y.buffer === src.u.buffer && src.u.buffer === src.v.buffer && src.u.byteOffset === src.y.byteOffset + ySize && src.v.byteOffset === src.u.byteOffset + cSize) {
    return Buffer.from(src.y.buffer, src.y.byteOffset, ySize + 2 * cSize);
  }
  scratch.set(src.y, 0);
  scratch.set(src.u, ySize);
  scratch.set(src.v, ySize + cSize);
  return scratch;
}

/** A real-time decoder; `decode` gives the frame of a packet, or undefined when it gave none. */
export class VideoDecoder {
  private readonly ctx = new CodecContext();
  private readonly packet = new Packet();
  private readonly frame = new Frame();
  /** The frame the last successful `decode` wrote to. */
  written: YuvFrame | undefined;

  constructor(readonly codec: CodecName) {
    const spec = SPECS[codec];
    const c = typeof spec.decoder === 'string' ? Codec.findDecoderByName(spec.decoder as never) : Codec.findDecoder(spec.decoder as never);
    if (!c) throw new Error(`no decoder for ${codec} in this FFmpeg build`);
    this.ctx.allocContext3(c);
    // One thread and LOW_DELAY: frame threading would hold one frame per thread.
    this.ctx.threadCount = 1;
    this.ctx.setFlags(AV_CODEC_FLAG_LOW_DELAY);
    if (codec === 'av1') setOptions(this.ctx, { max_frame_delay: '1' }, 'libdav1d');
    check(this.ctx.open2Sync(c, null), `opening the ${codec} decoder`);
    this.packet.alloc();
    this.frame.alloc();
  }

  /**
   * Decodes one packet into `out`; false when no frame came out. A picture of another size than
   * `out` (the stream's size changed) is written to `resized(width, height)` instead, a frame
   * of that size the caller supplies; the frame written to is returned in `written`.
   */
  async decode(data: Buffer, out: YuvFrame, resized?: (width: number, height: number) => YuvFrame): Promise<boolean> {
    this.packet.data = data;
    const sent = await this.ctx.sendPacket(this.packet);
    this.packet.unref();
    // A corrupt packet (after loss) is reported by the caller as a decode error, not thrown.
    if (sent < 0) return false;
    let got = false;
    // Synchronous for the reason of the encoder's drain: FFmpeg decodes inside send_packet.
    for (;;) {
      const r = this.ctx.receiveFrameSync(this.frame);
      if (r < 0) break;
      const f = this.frame;
      const target = (f.width === out.width && f.height === out.height) || !resized ? out : resized(f.width, f.height);
      copyOut(f, target);
      this.written = target;
      this.frame.unref();
      got = true;
    }
    return got;
  }

  close(): void {
    this.ctx.freeContext();
    this.frame.free();
    this.packet.free();
  }
}

function copyOut(f: Frame, out: YuvFrame): void {
  const planes = f.data;
  if (!planes || f.width !== out.width || f.height !== out.height) throw new Error(`decoded ${f.width}x${f.height}, expected ${out.width}x${out.height}`);
  const ls = f.linesize;
  copyPlane(planes[0]!, ls[0]!, out.y, out.width, out.height);
  copyPlane(planes[1]!, ls[1]!, out.u, out.width / 2, out.height / 2);
  copyPlane(planes[2]!, ls[2]!, out.v, out.width / 2, out.height / 2);
}

function copyPlane(src: Buffer, stride: number, dst: Uint8Array, w: number, h: number): void {
  if (stride === w) {
    dst.set(src.subarray(0, w * h));
    return;
  }
  for (let row = 0; row < h; row++) dst.set(src.subarray(row * stride, row * stride + w), row * w);
}
