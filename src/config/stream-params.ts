/**
 * The parameters of the built-in pipeline (the `stream` workload's), declared once. They stay in
 * config, below the workloads, because the pipeline itself (src/stream) reads settings typed by
 * them (stream-settings.ts); the workload's declaration (src/workloads/stream/declare.ts) takes
 * them from here. `stream --help`, the schema and the tables of docs/workloads.md come from them.
 */
import type { ParamDecl } from './declare.ts';

/** The pipeline's roles, the machines of the chain it runs on (the workload's declaration names them from here). */
export const STREAM_ROLES = ['guest', 'host', 'client'] as const;

export const CODECS = ['h264', 'h265', 'vp8', 'vp9', 'av1', 'mjpeg'] as const;
export type CodecName = (typeof CODECS)[number];
export const RATE_CONTROLS = ['cbr', 'vbr', 'crf'] as const;
export type RateControl = (typeof RATE_CONTROLS)[number];
export const TRANSPORTS = ['tcp', 'udp'] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** The synthetic scenes (src/stream/scenes/ renders them; a test keeps both lists equal). */
export const SCENES = ['idle', 'typing', 'scrolling', 'drag', 'video', 'motion'] as const;
/** Frame sizes the scenes draw (src/stream/scenes/; a y4m source may be smaller). */
export const SCENE_MIN = { width: 160, height: 120 } as const;
/** The smallest frame of a y4m source. */
export const SOURCE_MIN = { width: 16, height: 16 } as const;
/** The most film grain the scenes draw (src/stream/scenes/; a test keeps both equal). */
export const MAX_GRAIN = 50;
/** The smallest size a live resolution change may ask: every encoder here opens at it (SVT-AV1's floor is 64x64). */
export const LIVE_RESOLUTION_MIN = { width: 64, height: 64 } as const;
/** The largest frame: 8K UHD. */
export const FRAME_MAX = { width: 7680, height: 4320 } as const;
/** The longest delay, jitter, queue or lateness the relay and the client take, in ms. */
export const MAX_STREAM_MS = 60_000;
/** The lowest and highest bitrate (bits/s) of a stream or a link; a codec may take less (SVT-AV1: 100M). */
export const BITRATE_RANGE = [1e3, 1e9] as const;

/** The rate-control policies built in; any other `policy` value is a user's file (.ts, .mts, .js, .mjs). */
export const BUILTIN_POLICIES = ['fixed', 'aimd', 'gcc', 'model'] as const;
/** The parameters each built-in policy takes in `policy_params` (bitrates as 2M or 500k, others numbers). */
export const BUILTIN_POLICY_PARAMS: Record<string, Record<string, 'bitrate' | 'number'>> = {
  fixed: {},
  aimd: { min_bitrate: 'bitrate', max_bitrate: 'bitrate', beta: 'number', increase: 'bitrate', loss_threshold: 'number', hold_ms: 'number' },
  gcc: { min_bitrate: 'bitrate', max_bitrate: 'bitrate', beta: 'number', window: 'number', threshold_gain: 'number', window_ms: 'number', probe_interval_ms: 'number' },
  // gcc's for its bandwidth estimate, and its own choice's.
  model: { min_bitrate: 'bitrate', max_bitrate: 'bitrate', beta: 'number', window: 'number', threshold_gain: 'number', window_ms: 'number', probe_interval_ms: 'number', steps: 'number', hysteresis: 'number', hold_ms: 'number' },
};

/** The emulated network, shared with the SPICE workload (its relay is the same). */
export const NET_PARAMS: readonly ParamDecl[] = [
  { name: 'net_rate', type: 'bitrate', unit: 'bit/s', range: BITRATE_RANGE, none: ['none', 0], default: 'none', doc: 'link rate, e.g. 2M; none (or 0): unlimited', role: 'host' },
  { name: 'net_delay', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: 0, doc: 'one-way delay (e.g. 30ms; a bare number is ms)', role: 'host' },
  { name: 'net_jitter', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: 0, doc: 'delay variation, normal, clipped at 0 (e.g. 5ms)', role: 'host' },
  { name: 'net_loss', type: 'number', unit: '%', range: [0, 100], what: 'loss', default: 0, doc: 'packet loss, percent (e.g. 5 or 5%)', role: 'host' },
  { name: 'net_loss_burst', type: 'number', unit: 'packets', range: [1, 1000], what: 'mean burst length in packets', default: 1, doc: 'mean loss burst length (Gilbert-Elliott; 1: independent losses)', role: 'host' },
  { name: 'net_queue', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: '150ms', doc: "queue in front of the rate limit, as time at the link rate (a trace's mean rate)", role: 'host' },
  { name: 'net_queue_bytes', type: 'integer', unit: 'B', range: [1500, 1e9], what: 'bytes', doc: 'queue in front of the rate limit in bytes, instead of net_queue', role: 'host' },
  { name: 'net_trace', type: 'path', doc: 'a network trace the relay replays guest to client instead of net_rate: Mahimahi delivery times, or steps (CSV t,rate,delay,loss); see docs/workloads.md', role: 'host', content: true },
  { name: 'net_trace_up', type: 'path', doc: 'a network trace the relay replays client to guest (same forms as net_trace)', role: 'host', content: true },
];

const SCENE_PARAM: ParamDecl = { name: 'scene', type: 'enum', values: SCENES, default: 'typing', doc: 'synthetic screen content', role: 'guest' };
const RESOLUTION_PARAM: ParamDecl = {
  name: 'resolution',
  type: 'resolution',
  unit: 'px',
  size: { min: SOURCE_MIN, max: FRAME_MAX, even: true },
  default: '1280x720',
  doc: `frame size WxH (a scene needs at least ${SCENE_MIN.width}x${SCENE_MIN.height})`,
  role: 'guest',
};

export const STREAM_PARAM_DECLS: readonly ParamDecl[] = [
  { name: 'codec', type: 'enum', values: CODECS, default: 'h264', doc: 'video codec (FFmpeg: libx264, libx265, libvpx, SVT-AV1, MJPEG)', role: 'all' },
  { name: 'bitrate', type: 'bitrate', unit: 'bit/s', range: BITRATE_RANGE, default: '2M', doc: 'target of cbr/vbr, cap of crf (e.g. 2M, 500k; av1 up to 100M)', role: 'guest' },
  { name: 'rate_control', type: 'enum', values: RATE_CONTROLS, default: 'cbr', doc: 'rate control', role: 'guest' },
  { name: 'quality', type: 'number', range: [0, 63], doc: 'CRF/CQ for rate_control crf: h264, h265 0-51; vp8 4-63; vp9 0-63; av1 1-63; mjpeg qscale 1-31 (default h264 23, h265 28, vp8/vp9 30, av1 35, mjpeg 5)', role: 'guest' },
  { name: 'fps', type: 'number', unit: 'fps', range: [1, 240], default: 30, doc: 'frames per second captured', role: 'guest' },
  RESOLUTION_PARAM,
  { name: 'gop', type: 'integer', unit: 'frames', range: [1, 100_000], doc: 'keyframe interval (default 10 s worth)', role: 'guest' },
  { name: 'preset', type: 'text', doc: 'x264/x265 preset name (h264, h265); cpu-used -16..16 (vp8), -8..8 (vp9); SVT-AV1 preset -2..13 (av1)', role: 'guest' },
  { name: 'threads', type: 'integer', unit: 'threads', range: [1, 64], default: 1, doc: 'encoder threads', role: 'guest' },
  SCENE_PARAM,
  { name: 'grain', type: 'integer', unit: 'luma levels', range: [0, MAX_GRAIN], what: '0: none', default: 20, doc: 'film grain of the video and motion scenes: each pixel gains 0..grain luma levels per frame', role: 'guest' },
  { name: 'source', type: 'path', doc: 'a .y4m file streamed instead of a scene', role: 'guest' },
  { name: 'transport', type: 'enum', values: TRANSPORTS, default: 'tcp', doc: 'transport of the stream', role: 'all' },
  { name: 'mtu', type: 'integer', unit: 'B', range: [200, 65000], what: 'UDP datagram bytes', default: 1400, doc: 'UDP datagram size', role: 'all' },
  ...NET_PARAMS,
  { name: 'quality_every', type: 'integer', unit: 'frames', range: [0, 1_000_000], what: '0: off', default: 1, doc: 'measure PSNR/SSIM on every Nth frame (0: off)', role: 'client' },
  { name: 'display_hz', type: 'number', unit: 'Hz', range: [1, 1000], default: 60, doc: "refresh rate of the client's display", role: 'client' },
  { name: 'policy', type: 'text', default: 'fixed', doc: `rate control of the guest: ${BUILTIN_POLICIES.join(', ')} (docs/adaptive.md), or a file of your own (.ts, .mts, .js, .mjs)`, role: 'guest', content: true },
  { name: 'policy_params', type: 'text', doc: "the policy's own parameters, key=value separated by commas, e.g. beta=0.8,min_bitrate=200k", role: 'guest' },
  { name: 'policy_models', type: 'text', doc: 'policy model: two models saved by `model fit`, the quality to maximise then the guest CPU, comma-separated, e.g. sweep/models/client.psnr.json,sweep/models/guest.cpu_pct.json', role: 'guest', content: true },
  { name: 'policy_cpu_budget', type: 'number', unit: '%', range: [1, 6400], what: 'percent of one core', default: 100, doc: "policy model: the guest's CPU the chosen setting may take per the CPU model, percent of one core", role: 'guest' },
  { name: 'feedback_ms', type: 'duration', unit: 'ms', range: [10, 1000], default: '50ms', doc: 'how often the client reports arrivals to the guest (with a policy other than fixed)', role: 'client' },
  { name: 'freeze_ms', type: 'duration', unit: 'ms', range: [1, MAX_STREAM_MS], default: '200ms', doc: 'a displayed picture not renewed for longer than this is a freeze (qoe.freeze_count, qoe.freeze_ms)', role: 'client' },
  { name: 'late_ms', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: '150ms', doc: 'a frame shown later than this after capture is late', role: 'client' },
];

/** Scene parameters as the SPICE workload shows them (same meanings, its own defaults). */
export const SHARED_SCENE_PARAMS = { scene: SCENE_PARAM, resolution: RESOLUTION_PARAM } as const;
