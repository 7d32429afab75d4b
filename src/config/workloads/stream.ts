/**
 * The `stream` workload (the built-in pipeline), declared once: its parameters and its metrics.
 * src/config/stream-settings.ts checks values against it, src/workloads/stream/run.ts records what it
 * declares (test/catalog.test.ts fails on a metric it did not), and `stream --help`, the schema,
 * the CLI's headline columns and the tables of docs/workloads.md come from it.
 */
import type { FrameStageDecl, MetricDecl, ParamDecl, WorkloadDecl } from '../declare.ts';

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
/** The largest frame: 8K UHD. */
export const FRAME_MAX = { width: 7680, height: 4320 } as const;
/** The longest delay, jitter, queue or lateness the relay and the client take, in ms. */
export const MAX_STREAM_MS = 60_000;
/** The lowest and highest bitrate (bits/s) of a stream or a link; a codec may take less (SVT-AV1: 100M). */
export const BITRATE_RANGE = [1e3, 1e9] as const;

/** The emulated network, shared with the SPICE workload (its relay is the same). */
export const NET_PARAMS: readonly ParamDecl[] = [
  { name: 'net_rate', type: 'bitrate', unit: 'bit/s', range: BITRATE_RANGE, none: ['none', 0], default: 'none', doc: 'link rate, e.g. 2M; none (or 0): unlimited', role: 'host' },
  { name: 'net_delay', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: 0, doc: 'one-way delay (e.g. 30ms; a bare number is ms)', role: 'host' },
  { name: 'net_jitter', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: 0, doc: 'delay variation, normal, clipped at 0 (e.g. 5ms)', role: 'host' },
  { name: 'net_loss', type: 'number', unit: '%', range: [0, 100], what: 'loss', default: 0, doc: 'packet loss, percent (e.g. 5 or 5%)', role: 'host' },
  { name: 'net_loss_burst', type: 'number', unit: 'packets', range: [1, 1000], what: 'mean burst length in packets', default: 1, doc: 'mean loss burst length (Gilbert-Elliott; 1: independent losses)', role: 'host' },
  { name: 'net_queue', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: '150ms', doc: 'queue in front of the rate limit, as time at the link rate', role: 'host' },
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
  { name: 'late_ms', type: 'duration', unit: 'ms', range: [0, MAX_STREAM_MS], default: '150ms', doc: 'a frame shown later than this after capture is late', role: 'client' },
];

/** Scene parameters as the SPICE workload shows them (same meanings, its own defaults). */
export const SHARED_SCENE_PARAMS = { scene: SCENE_PARAM, resolution: RESOLUTION_PARAM } as const;

const m = (name: string, unit: string | undefined, better: MetricDecl['better'], role: string, doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role, kind: 'summary', view: 'points', doc });
const frame = (name: string, unit: string | undefined, doc: string, better: MetricDecl['better'] = 'none'): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: 'all', kind: 'frame', view: 'frames', doc });

/** A stage of a frame's life: from one timestamp column of frames.parquet to another. */
export type { FrameStageDecl };

/**
 * The stages that follow each other from capture to display, in pipeline order: each starts where
 * the one before ended, so their times add up to the latency (the stage stack and the frame view
 * draw them stacked). Declared once here for the stream workload, its metrics and the GUI.
 */
export const FRAME_STAGES: readonly FrameStageDecl[] = [
  { name: 'capture', from: 'capture_start', to: 'capture_end', what: 'rendering (or reading) the source frame' },
  { name: 'encode', from: 'capture_end', to: 'enc_end', what: 'encoding' },
  { name: 'send', from: 'enc_end', to: 'send_end', what: 'handing the frame to the kernel' },
  { name: 'uplink', from: 'send_end', to: 'host_in', what: 'guest to relay' },
  { name: 'relay', from: 'host_in', to: 'host_out', what: 'queue and emulated link in the relay' },
  { name: 'downlink', from: 'host_out', to: 'recv_end', what: 'relay to client' },
  { name: 'decode_wait', from: 'recv_end', to: 'dec_start', what: 'received to decoder start' },
  { name: 'decode', from: 'dec_start', to: 'dec_end', what: 'decoding' },
  { name: 'display_wait', from: 'dec_end', to: 'display', what: 'decoded to the display refresh that shows it' },
];

/** Every stage with a `stage.<s>.p50` metric: the chain, and `network`, which spans three of it. */
const STAGES: Record<string, string> = {
  ...Object.fromEntries(FRAME_STAGES.map((s) => [s.name, s.what])),
  network: 'sent to received at the client (uplink + relay + downlink)',
};

export const STREAM_METRICS: readonly MetricDecl[] = [
  m('client.fps', 'fps', 'higher', 'client', 'frames shown by the client per second of the recorded window'),
  m('guest.fps', 'fps', 'higher', 'guest', 'frames sent by the guest per second of the recorded window'),
  m('client.bitrate', 'bit/s', 'none', 'client', 'frame payload received during the window (by arrival time), bits per second'),
  m('guest.bitrate', 'bit/s', 'none', 'guest', 'frame payload sent during the window, bits per second'),
  m('latency.p50', 'ms', 'lower', 'all', 'median end-to-end latency, capture start to display'),
  m('latency.p95', 'ms', 'lower', 'all', '95th percentile of end-to-end latency'),
  m('latency.p99', 'ms', 'lower', 'all', '99th percentile of end-to-end latency'),
  m('latency.max', 'ms', 'lower', 'all', 'largest end-to-end latency'),
  m('latency.to_decoded.p50', 'ms', 'lower', 'all', 'median capture end to decoded (what the pipeline adds to encode + decode)'),
  m('latency.to_decoded.p95', 'ms', 'lower', 'all', '95th percentile of capture end to decoded'),
  ...Object.entries(STAGES).map(([s, what]) => m(`stage.${s}.p50`, 'ms', 'lower', s === 'capture' || s === 'encode' || s === 'send' ? 'guest' : s === 'relay' ? 'host' : s === 'uplink' || s === 'downlink' || s === 'network' ? 'all' : 'client', `median time of ${what}`)),
  m('client.psnr', 'dB', 'higher', 'client', 'mean luma PSNR of the decoded frames against the source (identical frames count as 100)'),
  m('client.psnr.min', 'dB', 'higher', 'client', 'lowest luma PSNR of a decoded frame'),
  m('client.ssim', 'ratio', 'higher', 'client', 'mean luma SSIM of the decoded frames against the source'),
  m('client.quality_frames', 'frames', 'none', 'client', 'decoded frames whose PSNR and SSIM were measured'),
  m('frames.sent', 'frames', 'none', 'guest', 'frames captured and sent in the window'),
  m('frames.received', 'frames', 'higher', 'client', 'frames complete at the client'),
  m('frames.decoded', 'frames', 'higher', 'client', 'frames decoded'),
  m('frames.shown', 'frames', 'higher', 'client', 'frames shown on the display'),
  m('frames.dropped', 'frames', 'lower', 'client', 'sent but not decoded (lost, waiting for a keyframe, or undecodable)'),
  m('frames.lost', 'frames', 'lower', 'all', 'sent but never complete at the client'),
  m('frames.late', 'frames', 'lower', 'client', 'shown more than late_ms after capture'),
  m('frames.frozen_ms', 'ms', 'lower', 'client', 'time the screen kept one frame beyond 1.5 frame intervals'),
  m('frames.keyframes', 'frames', 'none', 'guest', 'keyframes sent in the window'),
  m('guest.skipped', 'frames', 'lower', 'guest', 'capture ticks of the window skipped because the encoder or the socket was busy'),
  ...['guest', 'host', 'client'].flatMap((r) => [
    m(`${r}.cpu_s`, 's', 'lower', r, `CPU time (user + system) of the ${r} process in the recorded window (its own account, read at the window's edges)`),
    m(`${r}.cpu_pct`, '%', 'lower', r, `CPU of the ${r} process in the recorded window, percent of one core`),
    m(`${r}.cpu_ms_per_frame`, 'ms', 'lower', r, `CPU time of the ${r} process in the window per frame it handled (${r === 'guest' ? 'sent' : r === 'host' ? 'relayed' : 'decoded'}): a cost that survives sharing a machine better than a percentage`),
  ]),
  m('clock.uncertainty_ms', 'ms', 'lower', 'all', "how far a time that crosses roles (latency, uplink, downlink) may be off: the largest sum of two roles' clock uncertainties (0 when all read one clock)"),
  m('host.bytes_out', 'B', 'none', 'host', 'bytes the relay sent toward the client in the window'),
  m('host.dropped', 'packets', 'lower', 'host', 'packets the relay dropped in the window (queue full or emulated loss)'),
  m('host.dropped_queue', 'packets', 'lower', 'host', 'packets dropped in the window because the queue was full'),
  m('host.dropped_loss', 'packets', 'lower', 'host', 'packets dropped in the window by the emulated loss'),
  m('host.max_queue_kb', 'KiB', 'lower', 'host', "largest fill of the relay's queue in the window"),
  m('net.loss_measured_pct', '%', 'lower', 'host', 'packets the relay dropped in the window, percent of those it received'),
  m('client.keyframe_requests', 'count', 'lower', 'client', 'keyframes the client asked for in the window after a loss'),
  m('controls', 'count', 'none', 'guest', 'control changes applied while streaming (schedule, stdin)'),
  m('roles.cpu_reported_s', 's', 'lower', 'all', 'whole-life CPU of the three role processes as they counted it'),
  m('roles.cpu_kernel_s', 's', 'lower', 'all', 'whole-life CPU of the three role processes as the kernel accounted it when they were reaped'),
  m('source.si', 'count', 'none', 'engine', 'spatial information of the source (ITU-T P.910), the largest over the measured frames'),
  m('source.ti', 'count', 'none', 'engine', 'temporal information of the source (ITU-T P.910), the largest over the measured frames'),
  m('source.si.mean', 'count', 'none', 'engine', 'mean spatial information of the source'),
  m('source.ti.mean', 'count', 'none', 'engine', 'mean temporal information of the source'),
  m('source.siti_frames', 'frames', 'none', 'engine', 'frames of the source measured for SI/TI'),
  // Series on the point's clock: t in seconds since the point began.
  { name: 'queue_bytes', unit: 'B', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: "bytes in the relay's queue" },
  { name: 'queue_packets', unit: 'packets', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: "packets in the relay's queue" },
  frame('frame', undefined, 'frame number'),
  frame('warmup', undefined, '1 when captured during the warm-up (left out of the summary)'),
  frame('key', undefined, '1 for a keyframe'),
  frame('bytes', 'B', 'encoded size'),
  ...['capture_start', 'capture_end', 'enc_end', 'send_end', 'host_in', 'host_out', 'recv_end', 'dec_start', 'dec_end', 'display'].map((c) => frame(c, 'ms', `time the frame reached ${c} (ms since the point began, on the point's clock; empty when it never did)`)),
  frame('latency_ms', 'ms', 'capture start to display', 'lower'),
  frame('psnr', 'dB', 'luma PSNR against the source', 'higher'),
  frame('ssim', 'ratio', 'luma SSIM against the source', 'higher'),
  frame('lost', undefined, '1 when never complete at the client', 'lower'),
  frame('dropped', undefined, '1 when not decoded', 'lower'),
  frame('shown', undefined, '1 when shown', 'higher'),
  frame('late', undefined, '1 when decoded and shown more than late_ms after capture (frames.late counts those of the window)', 'lower'),
];

export const STREAM_DECL: WorkloadDecl = {
  type: 'stream',
  roles: ['guest', 'host', 'client'],
  params: STREAM_PARAM_DECLS,
  metrics: STREAM_METRICS,
  headline: ['client.fps', 'client.bitrate', 'latency.p50', 'latency.p95', 'client.psnr', 'frames.dropped', 'guest.cpu_pct', 'host.cpu_pct', 'client.cpu_pct'],
  processLabels: ['guest', 'host', 'client'],
  executors: {
    agents: { machines: ['guest', 'host', 'client'], reach: 'address' },
    slurm: {
      machines: ['guest', 'host', 'client'],
      reach: 'address',
      // Its roles run on three nodes: their stamps meet on one clock only through the agents' measurements.
      needsRecording: 'the stream workload under the slurm executor needs recording: its roles run on three nodes, and the recording agents measure their clocks (without them, latency would mix three clocks)',
    },
  },
  needs: ['ffmpeg (the Debian package: libx264, libx265, libvpx, SVT-AV1, MJPEG)'],
  frameStages: FRAME_STAGES,
  // Written out, not derived from `roles`: these are the names old records hold.
  renamed: [
    ...['guest', 'host', 'client'].map((r) => ({ from: `${r}.cpu_percent`, to: `${r}.cpu_pct` })),
    { from: 'net.loss_measured_percent', to: 'net.loss_measured_pct' },
    { from: 'client.bitrate', to: 'client.bitrate', factor: 1000 },
    { from: 'guest.bitrate', to: 'guest.bitrate', factor: 1000 },
  ],
  // Up to commit dce76e9 its relay queue's t counted from the guest's start of streaming, as its frames' times do.
  untimedSeriesClock: 'frames',
};
