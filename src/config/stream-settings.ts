/**
 * The settings of one stream, as users write them in a matrix (`codec: h264`, `bitrate: 2M`,
 * `resolution: 1280x720`, `net_delay: 30ms` ...), parsed once into plain numbers. Every role
 * gets the same object, as JSON on its command line.
 */
import { parseDuration } from '../base/duration.ts';
import { quoted } from './show.ts';

/** A setting that cannot be used, naming the parameter so the message can point at its line. */
export class SettingError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

export const CODECS = ['h264', 'h265', 'vp8', 'vp9', 'av1', 'mjpeg'] as const;
export type CodecName = (typeof CODECS)[number];
export const RATE_CONTROLS = ['cbr', 'vbr', 'crf'] as const;
export type RateControl = (typeof RATE_CONTROLS)[number];
export const TRANSPORTS = ['tcp', 'udp'] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** The synthetic scenes (src/stream/scenes.ts renders them; a test keeps both lists equal). */
export const SCENES = ['idle', 'typing', 'scrolling', 'drag', 'video', 'motion'] as const;
/** Frame sizes the scenes draw (src/stream/scenes.ts; a y4m source may be smaller). */
export const SCENE_MIN = { width: 160, height: 120 } as const;
/** The most film grain the scenes draw (src/stream/scenes.ts; a test keeps both equal). */
export const MAX_GRAIN = 50;
/** The largest frame: 8K UHD. */
export const FRAME_MAX = { width: 7680, height: 4320 } as const;
/** x264's and x265's preset names. */
export const X26X_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'] as const;

/**
 * What each codec's encoder accepts, as measured with this FFmpeg build (libx264, libx265,
 * libvpx, SVT-AV1 3.1): presets (or cpu-used), the CRF/CQ/qscale range, the highest bitrate.
 */
const CODEC_LIMITS: Record<CodecName, { presets?: readonly string[]; presetRange?: [number, number]; quality: [number, number]; qualityInteger: boolean; maxBitrate: number }> = {
  h264: { presets: X26X_PRESETS, quality: [0, 51], qualityInteger: false, maxBitrate: 1e9 },
  h265: { presets: X26X_PRESETS, quality: [0, 51], qualityInteger: false, maxBitrate: 1e9 },
  vp8: { presetRange: [-16, 16], quality: [4, 63], qualityInteger: true, maxBitrate: 1e9 },
  vp9: { presetRange: [-8, 8], quality: [0, 63], qualityInteger: true, maxBitrate: 1e9 },
  // SVT-AV1 refuses targets above 100 Mbit/s; its crf 0 means "unset".
  av1: { presetRange: [-2, 13], quality: [1, 63], qualityInteger: true, maxBitrate: 1e8 },
  mjpeg: { quality: [1, 31], qualityInteger: false, maxBitrate: 1e9 },
};

/** Parameters whose valid values depend on the codec (checked against each codec they meet). */
export const CODEC_DEPENDENT_PARAMS: readonly string[] = ['preset', 'quality', 'bitrate'];

export interface NetSettings {
  /** bits/s; undefined: no limit. */
  rateBps?: number;
  delayMs: number;
  jitterMs: number;
  /** 0..1 */
  loss: number;
  /** Mean loss burst length in packets (1 = independent losses). */
  lossBurst: number;
  /** Bounded queue in front of the rate limiter, in milliseconds of the link rate. */
  queueMs: number;
}

export interface StreamSettings {
  codec: CodecName;
  /** bits/s; the target of cbr/vbr, the cap of crf where the codec needs one. */
  bitrateBps: number;
  rateControl: RateControl;
  /** CRF / CQ / qscale value for rate_control crf; undefined: the codec's default. */
  quality?: number;
  fps: number;
  width: number;
  height: number;
  /** Keyframe interval in frames. */
  gop: number;
  /** Codec-specific speed preset; empty: the codec's real-time default. */
  preset: string;
  threads: number;
  scene: string;
  /** Film grain of the video and motion scenes, luma levels 0..MAX_GRAIN (default 20). */
  grain: number;
  /** A y4m file played instead of a synthetic scene. */
  source?: string;
  transport: Transport;
  /** UDP payload bytes per datagram, header included. */
  mtu: number;
  net: NetSettings;
  /** Quality (PSNR, SSIM) on every Nth frame; 0 = off. */
  qualityEvery: number;
  /** Display refresh rate of the client's sink. */
  displayHz: number;
  /** A frame displayed later than this after capture counts as late. */
  lateMs: number;
  warmupS: number;
  durationS: number;
}

/** Parameter names users write, with what each takes (for --help, errors and the README). */
export const STREAM_PARAMS: Record<string, string> = {
  codec: CODECS.join(' | '),
  bitrate: 'bits/s, e.g. 2M, 500k, 2500000',
  rate_control: RATE_CONTROLS.join(' | '),
  quality: 'CRF/CQ value for rate_control crf (h264 23, h265 28, vp8/vp9 30, av1 35, mjpeg qscale 5)',
  fps: 'frames per second',
  resolution: 'WxH, even numbers, e.g. 1280x720',
  gop: 'keyframe interval in frames (default 10 s worth)',
  preset: 'x264/x265 preset name; cpu-used for vp8/vp9; SVT-AV1 preset number',
  threads: 'encoder threads',
  scene: 'idle | typing | scrolling | drag | video | motion',
  grain: 'film grain of the video and motion scenes: each pixel gains 0..grain luma levels per frame (0..50; default 20)',
  source: 'a .y4m file to stream instead of a scene',
  transport: TRANSPORTS.join(' | '),
  mtu: 'UDP datagram size in bytes (default 1400)',
  net_rate: 'link rate, bits/s (e.g. 2M); absent: unlimited',
  net_delay: 'one-way delay (e.g. 30ms)',
  net_jitter: 'delay variation (e.g. 5ms)',
  net_loss: 'loss, percent (e.g. 5 or 5%)',
  net_loss_burst: 'mean loss burst length in packets (default 1)',
  net_queue: 'queue in front of the rate limit, as time at the link rate (default 150ms)',
  quality_every: 'measure PSNR/SSIM on every Nth frame (0: off; default 1)',
  display_hz: 'client display refresh rate (default 60)',
  late_ms: 'a frame shown later than this after capture is late (default 150ms)',
};

const DEFAULT_PRESET: Record<CodecName, string> = { h264: 'ultrafast', h265: 'ultrafast', vp8: '8', vp9: '8', av1: '12', mjpeg: '' };

/** Parses "2M", "500k", "2.5m", "2000000" (bits/s, decimal prefixes as networks use), 1 kbit/s to 1 Gbit/s. */
export function parseBitrate(v: string | number, name = 'bitrate'): number {
  let bps: number;
  if (typeof v === 'number') bps = Math.round(v);
  else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bps|bit\/s|b\/s)?\s*$/.exec(String(v));
    if (!m) throw new SettingError(name, `${name} ${quoted(v)} is not a bitrate: write 2M, 500k or 2000000`);
    const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
    bps = Math.round(Number(m[1]) * mult);
  }
  if (!(bps >= 1000 && bps <= 1e9)) throw new SettingError(name, `${name} ${quoted(v)} must be between 1k and 1G bits/s`);
  return bps;
}

const NUMBER_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?\s*$/i;

/** A number written as a number or as decimal text ("30"); true, '' and words are not numbers. */
function num(name: string, v: unknown, lo: number, hi: number, integer: boolean, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER_TEXT.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
    throw new SettingError(name, `${name} ${quoted(v)} must be ${integer ? 'an integer' : 'a number'} from ${lo} to ${hi}${what ? ` (${what})` : ''}`);
  }
  return n;
}

/** The longest delay, jitter, queue or lateness the relay and the client take, in ms. */
export const MAX_STREAM_MS = 60_000;

/** Milliseconds: a bare number is milliseconds here (`net_delay: [0, 30, 100]`), else "30ms", "0.1s". */
function ms(name: string, v: unknown): number {
  const out = typeof v === 'number' ? v : typeof v === 'string' ? (parseDuration(v) ?? NaN) * 1000 : NaN;
  if (typeof v === 'string' && !Number.isFinite(out)) throw new SettingError(name, `${name} ${quoted(v)} is not a duration: write 30ms or 0.1s`);
  if (!(out >= 0 && out <= MAX_STREAM_MS)) throw new SettingError(name, `${name} ${quoted(v)} must be a duration from 0 to ${MAX_STREAM_MS / 1000}s`);
  return out;
}

function percent(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER_TEXT.test(v.replace(/%\s*$/, '')) ? Number(v.replace(/%\s*$/, '')) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new SettingError(name, `${name} ${quoted(v)} is not a loss percentage between 0 and 100`);
  return n / 100;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new SettingError(name, `${name} ${quoted(v)} is not one of ${allowed.join(', ')}`);
}

function positiveInt(name: string, v: unknown, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER_TEXT.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new SettingError(name, `${name} ${quoted(v)} must be a positive integer up to ${max}`);
  return n;
}

/** WxH: even numbers, within what the scenes draw (a y4m source may be smaller). */
function resolution(v: unknown, scene: boolean): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(typeof v === 'string' ? v : '');
  const min = scene ? SCENE_MIN : { width: 16, height: 16 };
  const w = Number(m?.[1]);
  const h = Number(m?.[2]);
  if (!m || w % 2 || h % 2 || w < min.width || h < min.height || w > FRAME_MAX.width || h > FRAME_MAX.height) {
    throw new SettingError('resolution', `resolution ${quoted(v)} must be WxH with even numbers from ${min.width}x${min.height} to ${FRAME_MAX.width}x${FRAME_MAX.height}, e.g. 1280x720`);
  }
  return { width: w, height: h };
}

function preset(codec: CodecName, v: unknown): string {
  const lim = CODEC_LIMITS[codec];
  if (lim.presets) return oneOf('preset', v, lim.presets);
  if (lim.presetRange) return String(num('preset', v, lim.presetRange[0], lim.presetRange[1], true, `${codec}: ${codec === 'av1' ? 'the SVT-AV1 preset' : 'cpu-used'}`));
  // MJPEG has no speed preset: whatever is given is not used.
  return String(v);
}

/**
 * Settings from a point's parameters (and workload defaults under them). Throws SettingError
 * naming the parameter; unknown names are left to the caller (they may be template values).
 */
export function streamSettings(p: Readonly<Record<string, string | number | boolean>>, times: { warmupS: number; durationS: number }): StreamSettings {
  const codec = oneOf('codec', p['codec'] ?? 'h264', CODECS);
  const source = p['source'] !== undefined ? String(p['source']) : undefined;
  if (source !== undefined && source.trim() === '') throw new SettingError('source', 'source is empty: name a .y4m file, or drop it to use a scene');
  const { width, height } = resolution(p['resolution'] ?? '1280x720', source === undefined);
  const fps = num('fps', p['fps'] ?? 30, 1, 240, false, '');
  const net: NetSettings = {
    delayMs: ms('net_delay', p['net_delay'] ?? 0),
    jitterMs: ms('net_jitter', p['net_jitter'] ?? 0),
    loss: percent('net_loss', p['net_loss'] ?? 0),
    lossBurst: num('net_loss_burst', p['net_loss_burst'] ?? 1, 1, 1000, false, 'mean burst length in packets'),
    queueMs: ms('net_queue', p['net_queue'] ?? 150),
  };
  if (p['net_rate'] !== undefined && p['net_rate'] !== 'none' && p['net_rate'] !== 0) {
    net.rateBps = parseBitrate(p['net_rate'] as string | number, 'net_rate');
  }
  const lim = CODEC_LIMITS[codec];
  const s: StreamSettings = {
    codec,
    bitrateBps: parseBitrate((p['bitrate'] as string | number) ?? '2M'),
    rateControl: oneOf('rate_control', p['rate_control'] ?? 'cbr', RATE_CONTROLS),
    fps,
    width,
    height,
    gop: p['gop'] !== undefined ? positiveInt('gop', p['gop'], 100_000) : Math.max(1, Math.round(fps * 10)),
    preset: p['preset'] !== undefined ? preset(codec, p['preset']) : DEFAULT_PRESET[codec],
    threads: p['threads'] !== undefined ? positiveInt('threads', p['threads'], 64) : 1,
    scene: oneOf('scene', p['scene'] ?? 'typing', SCENES),
    grain: p['grain'] !== undefined ? num('grain', p['grain'], 0, MAX_GRAIN, true, '0: none') : 20,
    transport: oneOf('transport', p['transport'] ?? 'tcp', TRANSPORTS),
    mtu: p['mtu'] !== undefined ? num('mtu', p['mtu'], 200, 65000, true, 'UDP datagram bytes') : 1400,
    net,
    qualityEvery: p['quality_every'] !== undefined ? num('quality_every', p['quality_every'], 0, 1_000_000, true, '0: off') : 1,
    displayHz: num('display_hz', p['display_hz'] ?? 60, 1, 1000, false, ''),
    lateMs: ms('late_ms', p['late_ms'] ?? 150),
    warmupS: times.warmupS,
    durationS: times.durationS,
  };
  if (s.bitrateBps > lim.maxBitrate) throw new SettingError('bitrate', `bitrate ${quoted(p['bitrate'])} is above what ${codec} takes (${lim.maxBitrate / 1e6}M)`);
  if (p['quality'] !== undefined) s.quality = num('quality', p['quality'], lim.quality[0], lim.quality[1], lim.qualityInteger, `${codec}'s ${codec === 'mjpeg' ? 'qscale' : 'CRF'}`);
  if (source !== undefined) s.source = source;
  return s;
}
