/**
 * The settings of one stream, from a point's parameters typed by the stream's declaration
 * (src/config/stream-params.ts), with the checks that tie parameters together (what each codec
 * takes, the smallest frame a scene draws). Every role gets the same object, as JSON on its
 * command line, and checks it where it enters (settingsFromJson).
 */
import { describeParam, SettingError, typedText, typeValue, type ParamDecl, type Resolution, type TypedValue } from './declare.ts';
import { MAX_TIME_S } from './limits.ts';
import { quoted } from './show.ts';
import { FRAME_MAX, SCENE_MIN, STREAM_PARAM_DECLS, type CodecName, type RateControl, type Transport } from './stream-params.ts';

export { SettingError } from './declare.ts';
export { CODECS, FRAME_MAX, LIVE_RESOLUTION_MIN, MAX_GRAIN, MAX_STREAM_MS, RATE_CONTROLS, SCENE_MIN, SCENES, TRANSPORTS, type CodecName, type RateControl, type Transport } from './stream-params.ts';

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

const DECLS = new Map(STREAM_PARAM_DECLS.map((d) => [d.name, d]));

/** The stream's declared parameter of that name. */
export function streamParam(name: string): ParamDecl {
  const d = DECLS.get(name);
  if (!d) throw new Error(`no stream parameter '${name}'`);
  return d;
}

/** Parameter names users write, with what each takes (for --help, the schema and errors), from the declaration. */
export const STREAM_PARAMS: Record<string, string> = Object.fromEntries(STREAM_PARAM_DECLS.map((d) => [d.name, describeParam(d)]));

const DEFAULT_PRESET: Record<CodecName, string> = { h264: 'ultrafast', h265: 'ultrafast', vp8: '8', vp9: '8', av1: '12', mjpeg: '' };

/** Parses "2M", "500k", "2.5m", "2000000" (bits/s, decimal prefixes as networks use), 1 kbit/s to 1 Gbit/s. */
export function parseBitrate(v: string | number, name = 'bitrate'): number {
  return typeValue({ ...streamParam('bitrate'), name }, v) as number;
}

/** The typed value of a parameter of `p` (raw or typed already), or of its declared default. */
function typed(p: Readonly<Record<string, unknown>>, name: string): TypedValue | undefined {
  const d = streamParam(name);
  const v = p[name] ?? d.default;
  return v === undefined ? undefined : typeValue(d, v);
}

function preset(codec: CodecName, v: unknown): string {
  const lim = CODEC_LIMITS[codec];
  const d = streamParam('preset');
  if (lim.presets) return typeValue({ ...d, type: 'enum', values: lim.presets }, v) as string;
  if (lim.presetRange) {
    const n = typeValue({ ...d, type: 'integer', range: lim.presetRange, what: `${codec}: ${codec === 'av1' ? 'the SVT-AV1 preset' : 'cpu-used'}` }, v) as number | null; // an integer, or null for a value meaning none
    return String(n);
  }
  // MJPEG has no speed preset: whatever is given is not used.
  return String(v);
}

/**
 * Settings from a point's parameters (and workload defaults under them), each raw as written
 * or typed already by the declaration. Throws SettingError naming the parameter; unknown names
 * are left to the caller (they may be template values).
 */
export function streamSettings(p: Readonly<Record<string, unknown>>, times: { warmupS: number; durationS: number }): StreamSettings {
  const codec = typed(p, 'codec') as CodecName;
  const source = typed(p, 'source') as string | undefined;
  const size = typed(p, 'resolution') as Resolution;
  if (source === undefined && (size.width < SCENE_MIN.width || size.height < SCENE_MIN.height)) {
    throw new SettingError('resolution', `resolution ${quoted(typedText(size))} must be WxH with even numbers from ${SCENE_MIN.width}x${SCENE_MIN.height} to ${FRAME_MAX.width}x${FRAME_MAX.height}, e.g. 1280x720`);
  }
  const fps = typed(p, 'fps') as number;
  const rate = typed(p, 'net_rate') as number | null;
  const net: NetSettings = {
    delayMs: typed(p, 'net_delay') as number,
    jitterMs: typed(p, 'net_jitter') as number,
    loss: (typed(p, 'net_loss') as number) / 100,
    lossBurst: typed(p, 'net_loss_burst') as number,
    queueMs: typed(p, 'net_queue') as number,
    ...(rate !== null ? { rateBps: rate } : {}),
  };
  const lim = CODEC_LIMITS[codec];
  const s: StreamSettings = {
    codec,
    bitrateBps: typed(p, 'bitrate') as number,
    rateControl: typed(p, 'rate_control') as RateControl,
    fps,
    width: size.width,
    height: size.height,
    gop: (typed(p, 'gop') as number | undefined) ?? Math.max(1, Math.round(fps * 10)),
    preset: p['preset'] !== undefined ? preset(codec, p['preset']) : DEFAULT_PRESET[codec],
    threads: typed(p, 'threads') as number,
    scene: typed(p, 'scene') as string,
    grain: typed(p, 'grain') as number,
    transport: typed(p, 'transport') as Transport,
    mtu: typed(p, 'mtu') as number,
    net,
    qualityEvery: typed(p, 'quality_every') as number,
    displayHz: typed(p, 'display_hz') as number,
    lateMs: typed(p, 'late_ms') as number,
    warmupS: times.warmupS,
    durationS: times.durationS,
  };
  if (s.bitrateBps > lim.maxBitrate) throw new SettingError('bitrate', `bitrate ${quoted(p['bitrate'])} is above what ${codec} takes (${lim.maxBitrate / 1e6}M)`);
  if (p['quality'] !== undefined) {
    s.quality = typeValue({ ...streamParam('quality'), type: lim.qualityInteger ? 'integer' : 'number', range: lim.quality, what: `${codec}'s ${codec === 'mjpeg' ? 'qscale' : 'CRF'}` }, p['quality']) as number;
  }
  if (source !== undefined) s.source = source;
  return s;
}

/** The parameter values of settings (the inverse of streamSettings), so that settings read back are checked by the same rules. */
function settingsParams(s: Record<string, unknown>): { params: Record<string, unknown>; fields: Record<string, string> } {
  const params: Record<string, unknown> = {};
  // The settings field each parameter came from, for messages.
  const fields: Record<string, string> = {};
  const put = (param: string, field: string, v: unknown) => {
    if (v === undefined) return;
    params[param] = v;
    fields[param] = field;
  };
  const direct: Record<string, string> = {
    codec: 'codec',
    bitrateBps: 'bitrate',
    rateControl: 'rate_control',
    quality: 'quality',
    fps: 'fps',
    gop: 'gop',
    preset: 'preset',
    threads: 'threads',
    scene: 'scene',
    grain: 'grain',
    source: 'source',
    transport: 'transport',
    mtu: 'mtu',
    qualityEvery: 'quality_every',
    displayHz: 'display_hz',
    lateMs: 'late_ms',
  };
  for (const [field, v] of Object.entries(s)) {
    if (field in direct) put(direct[field]!, field, v);
    else if (!['width', 'height', 'net', 'warmupS', 'durationS'].includes(field)) throw new SettingError(field, `unknown field '${field}'`);
  }
  if (s['width'] !== undefined || s['height'] !== undefined) {
    if (typeof s['width'] !== 'number' || typeof s['height'] !== 'number') throw new SettingError('resolution', `width ${quoted(s['width'])} and height ${quoted(s['height'])} must both be numbers`);
    put('resolution', 'width, height', { width: s['width'], height: s['height'] });
  }
  const net = s['net'];
  if (net !== undefined) {
    if (net === null || typeof net !== 'object' || Array.isArray(net)) throw new SettingError('net', `net ${quoted(net)} must be an object`);
    const n = net as Record<string, unknown>;
    const netFields: Record<string, string> = { rateBps: 'net_rate', delayMs: 'net_delay', jitterMs: 'net_jitter', lossBurst: 'net_loss_burst', queueMs: 'net_queue' };
    for (const [field, v] of Object.entries(n)) {
      if (field in netFields) put(netFields[field]!, `net.${field}`, v);
      else if (field === 'loss') put('net_loss', 'net.loss', typeof v === 'number' ? v * 100 : v);
      else throw new SettingError(`net.${field}`, `unknown field 'net.${field}'`);
    }
  }
  return { params, fields };
}

/**
 * Settings as a role receives them (`stream ROLE --config JSON`), checked by the declaration's
 * rules where they enter: a field left out takes its parameter's default; a field of the wrong
 * type, out of range or unknown is a SettingError naming the field.
 */
export function settingsFromJson(v: unknown): StreamSettings {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SettingError('', 'the settings must be a JSON object');
  const s = v as Record<string, unknown>;
  const { params, fields } = settingsParams(s);
  const seconds = (field: 'warmupS' | 'durationS', dflt: number): number => {
    const x = s[field] ?? dflt;
    if (typeof x !== 'number' || !(x >= 0 && x <= MAX_TIME_S)) throw new SettingError(field, `${field} ${quoted(x)} must be seconds from 0 to ${MAX_TIME_S}`);
    return x;
  };
  const times = { warmupS: seconds('warmupS', 0), durationS: seconds('durationS', 10) };
  try {
    return streamSettings(params, times);
  } catch (e) {
    if (!(e instanceof SettingError)) throw e;
    const field = fields[e.param];
    // The rule names the parameter; the reader of --config needs the field it wrote.
    throw new SettingError(field ?? e.param, field && field !== e.param ? `${field}: ${e.message}` : e.message);
  }
}
