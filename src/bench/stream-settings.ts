/**
 * The settings of one stream, as users write them in a matrix (`codec: h264`, `bitrate: 2M`,
 * `resolution: 1280x720`, `net_delay: 30ms` ...), parsed once into plain numbers. Every role
 * gets the same object, as JSON on its command line.
 */
import { parseDuration } from '../base/duration.ts';

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

/** Parses "2M", "500k", "2.5m", "2000000" (bits/s, decimal prefixes as networks use). */
export function parseBitrate(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bps|bit\/s|b\/s)?\s*$/.exec(v);
  if (!m) throw new SettingError('bitrate', `'${v}' is not a bitrate: write 2M, 500k or 2000000`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** Milliseconds: a bare number is milliseconds here (`net_delay: [0, 30, 100]`), else "30ms", "0.1s". */
function ms(name: string, v: string | number): number {
  if (typeof v === 'number') return v;
  const s = parseDuration(v);
  if (s === undefined) throw new SettingError(name, `${name} '${v}' is not a duration: write 30ms or 0.1s`);
  return s * 1000;
}

function percent(name: string, v: string | number): number {
  const n = typeof v === 'number' ? v : Number(String(v).replace(/%\s*$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new SettingError(name, `${name} '${v}' is not a loss percentage between 0 and 100`);
  return n / 100;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new SettingError(name, `${name} '${String(v)}' is not one of ${allowed.join(', ')}`);
}

function positiveInt(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new SettingError(name, `${name} '${String(v)}' must be a positive integer`);
  return n;
}

/**
 * Settings from a point's parameters (and workload defaults under them). Throws an Error whose
 * message names the parameter; unknown names are left to the caller (they may be template values).
 */
export function streamSettings(p: Readonly<Record<string, string | number | boolean>>, times: { warmupS: number; durationS: number }): StreamSettings {
  const codec = oneOf('codec', p['codec'] ?? 'h264', CODECS);
  const res = String(p['resolution'] ?? '1280x720');
  const rm = /^(\d+)x(\d+)$/.exec(res);
  if (!rm || Number(rm[1]) % 2 || Number(rm[2]) % 2 || Number(rm[1]) < 16 || Number(rm[2]) < 16) throw new SettingError('resolution', `resolution '${res}' must be WxH with even numbers of at least 16, e.g. 1280x720`);
  const fps = Number(p['fps'] ?? 30);
  if (!(fps > 0 && fps <= 240)) throw new SettingError('fps', `fps '${String(p['fps'])}' must be between 0 and 240`);
  const net: NetSettings = {
    delayMs: ms('net_delay', p['net_delay'] as string | number ?? 0),
    jitterMs: ms('net_jitter', p['net_jitter'] as string | number ?? 0),
    loss: percent('net_loss', p['net_loss'] as string | number ?? 0),
    lossBurst: Number(p['net_loss_burst'] ?? 1),
    queueMs: ms('net_queue', p['net_queue'] as string | number ?? 150),
  };
  if (p['net_rate'] !== undefined && p['net_rate'] !== 'none' && p['net_rate'] !== 0) {
    try {
      net.rateBps = parseBitrate(p['net_rate'] as string | number);
    } catch (e) {
      throw new SettingError('net_rate', `net_rate: ${(e as Error).message}`);
    }
  }
  if (!(net.lossBurst >= 1)) throw new SettingError('net_loss_burst', `net_loss_burst '${String(p['net_loss_burst'])}' must be at least 1`);
  const s: StreamSettings = {
    codec,
    bitrateBps: parseBitrate((p['bitrate'] as string | number) ?? '2M'),
    rateControl: oneOf('rate_control', p['rate_control'] ?? 'cbr', RATE_CONTROLS),
    fps,
    width: Number(rm[1]),
    height: Number(rm[2]),
    gop: p['gop'] !== undefined ? positiveInt('gop', p['gop']) : Math.round(fps * 10),
    preset: String(p['preset'] ?? DEFAULT_PRESET[codec]),
    threads: p['threads'] !== undefined ? positiveInt('threads', p['threads']) : 1,
    scene: String(p['scene'] ?? 'typing'),
    transport: oneOf('transport', p['transport'] ?? 'tcp', TRANSPORTS),
    mtu: p['mtu'] !== undefined ? positiveInt('mtu', p['mtu']) : 1400,
    net,
    qualityEvery: p['quality_every'] !== undefined ? Number(p['quality_every']) : 1,
    displayHz: Number(p['display_hz'] ?? 60),
    lateMs: ms('late_ms', (p['late_ms'] as string | number) ?? 150),
    warmupS: times.warmupS,
    durationS: times.durationS,
  };
  if (p['quality'] !== undefined) s.quality = Number(p['quality']);
  if (p['source'] !== undefined) s.source = String(p['source']);
  if (s.mtu < 200 || s.mtu > 65000) throw new SettingError('mtu', `mtu '${s.mtu}' must be between 200 and 65000`);
  return s;
}
