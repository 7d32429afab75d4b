/**
 * The settings of one stream, from a point's parameters typed by the stream's declaration
 * (src/config/stream-params.ts), with the checks that tie parameters together (what each codec
 * takes, the smallest frame a scene draws). Every role gets the same object, as JSON on its
 * command line, and checks it where it enters (settingsFromJson).
 */
import { describeParam, SettingError, typedText, typeValue, type ParamDecl, type Resolution, type TypedValue } from './declare.ts';
import { MAX_TIME_S } from './limits.ts';
import { loadTrace, traceFromSpec, traceMeanBps, type NetTraceSpec } from './net-trace.ts';
import { quoted } from './show.ts';
import { createHash } from 'node:crypto';
import { evaluateFit, loadModelFile, modelFromCode, type ModelCode, type ModelSetting } from './saved-model.ts';
import { BUILTIN_POLICIES, BUILTIN_POLICY_PARAMS, FRAME_MAX, SCENE_MIN, STREAM_PARAM_DECLS, type CodecName, type RateControl, type Transport } from './stream-params.ts';

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
// policy_models: a model knows the codecs it was fitted on.
export const CODEC_DEPENDENT_PARAMS: readonly string[] = ['preset', 'quality', 'bitrate', 'policy_models'];

export interface NetSettings {
  /** bits/s; undefined: no limit. */
  rateBps?: number;
  delayMs: number;
  jitterMs: number;
  /** 0..1 */
  loss: number;
  /** Mean loss burst length in packets (1 = independent losses). */
  lossBurst: number;
  /** Bounded queue in front of the rate limiter, in milliseconds of the link rate (of a trace's mean rate). */
  queueMs: number;
  /** The queue in bytes instead (net_queue_bytes). */
  queueBytes?: number;
  /** Replayed guest to client instead of rateBps (net_trace): its file's name, hash and content. */
  trace?: NetTraceSpec;
  /** Replayed client to guest (net_trace_up). */
  traceUp?: NetTraceSpec;
}

/** The bytes the relay's queue holds for a link at `rateBps` (a trace's mean rate): net_queue_bytes, or net_queue's time at that rate, at least minBytes. */
export function queueLimitBytes(net: NetSettings, rateBps: number, minBytes: number): number {
  return net.queueBytes ?? Math.max(minBytes, Math.round((rateBps * net.queueMs) / 8000));
}

/** The mean rate of a trace in the settings, bits/s. */
export function traceSpecMeanBps(spec: NetTraceSpec): number {
  return traceMeanBps(traceFromSpec(spec));
}

/** A trace parameter's file read into the settings; its problems as the parameter's, with the file's line. */
function traceSetting(name: string, path: string | undefined): NetTraceSpec | undefined {
  if (path === undefined) return undefined;
  try {
    return loadTrace(path).spec;
  } catch (e) {
    throw new SettingError(name, `${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
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
  /** A displayed picture not renewed for longer than this is a freeze (qoe.freeze_*). */
  freezeMs: number;
  /** The rate-control policy: a built-in name (BUILTIN_POLICIES) or a user's file. */
  policy: string;
  /** The policy's own parameters (policy_params), numbers where they read as one. */
  policyParams: Record<string, number | string>;
  /**
   * A user's policy file as the engine read it: its text travels with the settings to the guest,
   * which runs exactly this code (checked against the hash), wherever it runs.
   */
  policyCode?: PolicyCode;
  /**
   * policy model: the saved models it steers by (policy_models), their text as the engine read
   * it, so a guest on another machine decides by the same models (checked against the hash).
   */
  policyModels?: { quality: ModelCode; cpu: ModelCode };
  /** policy model: the guest CPU the chosen setting may take per the CPU model, percent of one core. */
  policyCpuBudget: number;
  /** How often the client reports arrivals to the guest, ms (only with a policy other than fixed). */
  feedbackMs: number;
  warmupS: number;
  durationS: number;
}

/** A user's policy file carried in the settings. */
export interface PolicyCode {
  /** The file as written in the benchmark (for messages and the record). */
  name: string;
  source: string;
  /** sha256 of the source, hex. */
  sha256: string;
}

/** Whether a `policy` value names a file of the user's rather than a built-in. */
export function isPolicyFile(policy: string): boolean {
  return /\.(m?ts|m?js)$/.test(policy);
}

/** sha256 of a policy's source, hex. */
export function policyHash(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

/**
 * `policy_params` text (`key=value,key=value`) as values: numbers where they read as one. The
 * built-ins' names and types are checked (bitrates as 2M, 500k); a user's file takes any.
 */
export function parsePolicyParams(policy: string, text: string | undefined): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  // `fixed` decides nothing, so what policy_params says is moot (a matrix may give it for other policies).
  if (policy === 'fixed') return {};
  const known = BUILTIN_POLICY_PARAMS[policy];
  for (const part of (text ?? '').split(',')) {
    if (part.trim() === '') continue;
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(part);
    if (!m) throw new SettingError('policy_params', `policy_params ${quoted(part.trim())} is not key=value (e.g. beta=0.8,min_bitrate=200k)`);
    const key = m[1]!;
    const raw = m[2]!;
    if (known) {
      const type = known[key];
      if (!type) {
        const names = Object.keys(known);
        throw new SettingError('policy_params', `policy ${policy} takes ${names.length ? `no parameter '${key}'; it takes ${names.join(', ')}` : `no parameters, but policy_params gives '${key}'`}`);
      }
      if (type === 'bitrate') out[key] = parseBitrate(raw, `policy_params ${key}`);
      else {
        const n = Number(raw);
        if (raw === '' || !Number.isFinite(n)) throw new SettingError('policy_params', `policy_params ${key} ${quoted(raw)} must be a number`);
        out[key] = n;
      }
    } else out[key] = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/** The inverse of parsePolicyParams, for settings read back. */
function policyParamsText(v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SettingError('policyParams', `policyParams ${quoted(v)} must be an object`);
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => {
      if (typeof x !== 'number' && typeof x !== 'string') throw new SettingError('policyParams', `policyParams.${k} ${quoted(x)} must be a number or text`);
      if (typeof x === 'string' && x.includes(',')) throw new SettingError('policyParams', `policyParams.${k} ${quoted(x)} must not hold a comma`);
      return `${k}=${x}`;
    })
    .join(',');
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
export function streamSettings(p: Readonly<Record<string, unknown>>, times: { warmupS: number; durationS: number }, carried?: { policyModels?: unknown }): StreamSettings {
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
  const queueBytes = typed(p, 'net_queue_bytes') as number | undefined;
  if (queueBytes !== undefined) net.queueBytes = queueBytes;
  const trace = traceSetting('net_trace', typed(p, 'net_trace') as string | undefined);
  const traceUp = traceSetting('net_trace_up', typed(p, 'net_trace_up') as string | undefined);
  if (trace && rate !== null) throw new SettingError('net_trace', `net_trace replaces net_rate: give one of them (net_rate is ${quoted(p['net_rate'])} here)`);
  if (trace) net.trace = trace;
  if (traceUp) net.traceUp = traceUp;
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
    freezeMs: typed(p, 'freeze_ms') as number,
    policy: typed(p, 'policy') as string,
    policyParams: {},
    policyCpuBudget: typed(p, 'policy_cpu_budget') as number,
    feedbackMs: typed(p, 'feedback_ms') as number,
    warmupS: times.warmupS,
    durationS: times.durationS,
  };
  if (s.bitrateBps > lim.maxBitrate) throw new SettingError('bitrate', `bitrate ${quoted(p['bitrate'])} is above what ${codec} takes (${lim.maxBitrate / 1e6}M)`);
  if (p['quality'] !== undefined) {
    s.quality = typeValue({ ...streamParam('quality'), type: lim.qualityInteger ? 'integer' : 'number', range: lim.quality, what: `${codec}'s ${codec === 'mjpeg' ? 'qscale' : 'CRF'}` }, p['quality']) as number;
  }
  if (source !== undefined) s.source = source;
  if (!(BUILTIN_POLICIES as readonly string[]).includes(s.policy) && !isPolicyFile(s.policy)) {
    throw new SettingError('policy', `policy ${quoted(s.policy)} is not one of ${BUILTIN_POLICIES.join(', ')}, nor a file ending in .ts, .mts, .js or .mjs`);
  }
  s.policyParams = parsePolicyParams(s.policy, typed(p, 'policy_params') as string | undefined);
  if (s.policy === 'model') s.policyModels = policyModels(s, carried ? carried.policyModels : typed(p, 'policy_models'), carried !== undefined);
  return s;
}

/**
 * The models of policy model: read from the files policy_models names (at validate and when the
 * point runs), or as they came in a role's settings (hash checked); either way checked to answer
 * the point's own setting, so a model of another codec or scene is an input error, not a failed point.
 */
function policyModels(s: StreamSettings, v: unknown, asCarried: boolean): { quality: ModelCode; cpu: ModelCode } {
  const name = asCarried ? 'policyModels' : 'policy_models';
  let codes: ModelCode[];
  const fits = [];
  if (asCarried) {
    const o = v as Record<string, unknown> | null | undefined;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new SettingError(name, 'policy model needs policyModels {quality, cpu}, each {name, source, sha256}');
    codes = [o['quality'], o['cpu']].map((c, i) => {
      const x = c as Partial<ModelCode> | null | undefined;
      if (!x || typeof x.name !== 'string' || typeof x.source !== 'string' || typeof x.sha256 !== 'string') throw new SettingError(name, `policyModels.${i === 0 ? 'quality' : 'cpu'} must be {name, source, sha256} (text)`);
      return { name: x.name, source: x.source, sha256: x.sha256 };
    });
    for (const c of codes) fits.push(tryModel(name, () => modelFromCode(c)));
  } else {
    if (v === undefined) throw new SettingError(name, 'policy model needs policy_models: the quality model then the guest CPU model saved by `model fit`, e.g. sweep/models/client.psnr.json,sweep/models/guest.cpu_pct.json');
    const files = (v as string).split(',').map((f) => f.trim());
    if (files.length !== 2 || files.some((f) => f === '')) throw new SettingError(name, `policy_models ${quoted(v)} must name two model files, the quality model then the guest CPU model, separated by a comma`);
    codes = [];
    for (const f of files) {
      const m = tryModel(name, () => loadModelFile(f));
      codes.push(m.code);
      fits.push(m.fit);
    }
  }
  const at = modelSetting(s);
  fits.forEach((f, i) => tryModel(name, () => evaluateFit(f, at), codes[i]!.name));
  return { quality: codes[0]!, cpu: codes[1]! };
}

function tryModel<T>(param: string, f: () => T, file?: string): T {
  try {
    return f();
  } catch (e) {
    throw new SettingError(param, `${param}: ${file ? `${file}: ` : ''}${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The stream's setting as a model of a result set reads it (its parameters by name, typed as the
 * points table holds them): a frame size as its label and its pixel count, width and height, a
 * number in base units, `none` for a value meaning none, anything else its text.
 */
export function modelSetting(s: StreamSettings): ModelSetting {
  const { params } = settingsParams(s as unknown as Record<string, unknown>);
  const out: ModelSetting = {};
  for (const d of STREAM_PARAM_DECLS) {
    if (params[d.name] === undefined) continue;
    const v = typeValue(d, params[d.name]);
    if (v !== null && typeof v === 'object') {
      out[d.name] = `${v.width}x${v.height}`;
      out[`${d.name}.width`] = v.width;
      out[`${d.name}.height`] = v.height;
      out[`${d.name}.pixels`] = v.width * v.height;
    } else if (v === null) out[d.name] = 'none';
    else out[d.name] = typeof v === 'boolean' ? String(v) : v;
  }
  return out;
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
    freezeMs: 'freeze_ms',
    policy: 'policy',
    policyCpuBudget: 'policy_cpu_budget',
    feedbackMs: 'feedback_ms',
  };
  for (const [field, v] of Object.entries(s)) {
    if (field in direct) put(direct[field]!, field, v);
    else if (field === 'policyParams') put('policy_params', field, policyParamsText(v));
    else if (!['width', 'height', 'net', 'warmupS', 'durationS', 'policyCode', 'policyModels'].includes(field)) throw new SettingError(field, `unknown field '${field}'`);
  }
  if (s['width'] !== undefined || s['height'] !== undefined) {
    if (typeof s['width'] !== 'number' || typeof s['height'] !== 'number') throw new SettingError('resolution', `width ${quoted(s['width'])} and height ${quoted(s['height'])} must both be numbers`);
    put('resolution', 'width, height', { width: s['width'], height: s['height'] });
  }
  const net = s['net'];
  if (net !== undefined) {
    if (net === null || typeof net !== 'object' || Array.isArray(net)) throw new SettingError('net', `net ${quoted(net)} must be an object`);
    const n = net as Record<string, unknown>;
    const netFields: Record<string, string> = { rateBps: 'net_rate', delayMs: 'net_delay', jitterMs: 'net_jitter', lossBurst: 'net_loss_burst', queueMs: 'net_queue', queueBytes: 'net_queue_bytes' };
    for (const [field, v] of Object.entries(n)) {
      if (field in netFields) put(netFields[field]!, `net.${field}`, v);
      else if (field === 'trace' || field === 'traceUp')
        continue; // carried whole, checked by settingsFromJson
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
    const settings = streamSettings(params, times, { policyModels: s['policyModels'] });
    if (s['policyCode'] !== undefined) settings.policyCode = policyCodeFromJson(s['policyCode'], settings.policy);
    // A trace arrives as its content (the file may not be on this machine), checked here.
    const net = (s['net'] ?? {}) as Record<string, unknown>;
    for (const field of ['trace', 'traceUp'] as const) {
      if (net[field] === undefined) continue;
      try {
        traceFromSpec(net[field]);
      } catch (e) {
        throw new SettingError(`net.${field}`, `net.${field}: ${e instanceof Error ? e.message : String(e)}`);
      }
      settings.net[field] = net[field] as NetTraceSpec;
    }
    if (settings.net.trace && settings.net.rateBps !== undefined) throw new SettingError('net.trace', 'net.trace replaces net.rateBps: give one of them');
    return settings;
  } catch (e) {
    if (!(e instanceof SettingError)) throw e;
    const field = fields[e.param];
    // The rule names the parameter; the reader of --config needs the field it wrote.
    throw new SettingError(field ?? e.param, field && field !== e.param ? `${field}: ${e.message}` : e.message);
  }
}

/** A policy file's code as it arrives in a role's settings: the text must hash to what the engine read. */
function policyCodeFromJson(v: unknown, policy: string): PolicyCode {
  const o = v as Partial<PolicyCode> | null;
  if (o === null || typeof o !== 'object' || typeof o.name !== 'string' || typeof o.source !== 'string' || typeof o.sha256 !== 'string') throw new SettingError('policyCode', 'policyCode must be {name, source, sha256} (text)');
  if (o.name !== policy) throw new SettingError('policyCode', `policyCode is the file ${quoted(o.name)}, but policy is ${quoted(policy)}`);
  const actual = policyHash(o.source);
  if (actual !== o.sha256) throw new SettingError('policyCode', `policyCode of ${o.name}: its source hashes to ${actual}, not the ${o.sha256} the engine read`);
  return { name: o.name, source: o.source, sha256: o.sha256 };
}
