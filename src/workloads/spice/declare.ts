/**
 * The `spice` workload (a real SPICE server, relay and remote-viewer per point), declared once:
 * its block's schema, its metrics, roles and placement, and how it resolves its part of a
 * benchmark file. Its parameters are config's (src/config/spice-params.ts), which types the
 * settings its runner reads. src/workloads/spice/run.ts records what it declares. Imports base and config only.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { MetricDecl, WorkloadDecl } from '../../config/declare.ts';
import { checkParamValues, pickDefaults, seconds } from '../../config/resolve-kit.ts';
import type { ParamValue } from '../../config/resolved.ts';
import { Duration, paramSchema } from '../../config/schema.ts';
import { SPICE_PARAM_DECLS } from '../../config/spice-params.ts';
import { spiceSettings, SPICE_PARAMS } from '../../config/spice-settings.ts';
import type { WorkloadDef } from '../../config/workload-def.ts';

/** A real SPICE stack: server in an X server, content on its display, remote-viewer on a virtual screen. */
export const SpiceWorkloadSchema = Type.Object(
  {
    type: Type.Literal('spice'),
    ...Object.fromEntries(SPICE_PARAM_DECLS.map((d) => [d.name, paramSchema(d, Type.Union([Type.String(), Type.Number(), Type.Boolean()]))])),
    content: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'An X program (argv) shown on the guest display instead of a scene.' })),
    timeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type RawSpiceWorkload = Static<typeof SpiceWorkloadSchema>;

/** A real SPICE session per point. */
export interface SpiceWorkload {
  type: 'spice';
  defaults: Record<string, ParamValue>;
  content?: string[];
  timeoutS?: number;
}

const m = (name: string, unit: string | undefined, better: MetricDecl['better'], role: string, doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role, kind: 'summary', view: 'points', doc });
const frame = (name: string, unit: string | undefined, doc: string, better: MetricDecl['better'] = 'none'): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: 'all', kind: 'frame', view: 'frames', doc });

const PROCESSES: Record<string, string> = { guest: 'the SPICE server (the Xorg process)', host: 'the relay', client: 'remote-viewer', player: 'the content player', grab: "the grabber reading the client's screen" };

export const SPICE_METRICS: readonly MetricDecl[] = [
  ...Object.entries(PROCESSES).map(([r, what]) => m(`${r}.cpu_pct`, '%', 'lower', r === 'player' ? 'guest' : r === 'grab' ? 'client' : r, `CPU of ${what} over the recorded window, percent of one core (whole process tree)`)),
  m('client.fps', 'fps', 'higher', 'client', 'video-stream frames the client received per second of the window'),
  m('client.frames', 'frames', 'higher', 'client', 'video-stream frames the client received in the window'),
  m('client.frames_late', 'frames', 'lower', 'client', 'of those, frames that arrived after their display time'),
  m('client.video_margin.p50', 'ms', 'higher', 'client', "median slack between a frame's arrival and its display time (negative: late)"),
  m('client.video_streams', 'count', 'none', 'client', 'video streams the server created for the client over the point'),
  m('client.startup_s', 's', 'lower', 'all', "from the point's start until the chain ran (left out of every other figure)"),
  m('client.fps_screen', 'fps', 'higher', 'client', "distinct frame numbers read back from the client's screen per second"),
  m('client.screen_frames_read', 'frames', 'none', 'client', "grabs of the client's screen whose frame number could be read"),
  m('client.bitrate', 'bit/s', 'none', 'client', 'bits per second the relay delivered to the client during the window, all channels'),
  m('latency.p50', 'ms', 'lower', 'all', 'median end-to-end latency, a scene frame handed to the guest display to its first sighting on the client screen'),
  m('latency.p95', 'ms', 'lower', 'all', '95th percentile of end-to-end latency'),
  m('latency.frames_seen', 'frames', 'higher', 'client', 'frames drawn in the window that were read on the client screen (the latency figures count them)'),
  m('latency.grab_ms', 'ms', 'none', 'client', "interval of the client screen's grabs: the resolution of the latency figures"),
  m('bytes.down', 'B', 'none', 'host', 'bytes the relay carried toward the client over the window'),
  m('bytes.up', 'B', 'none', 'host', 'bytes the relay carried toward the server over the window'),
  m('channel.<type>.bytes_down', 'B', 'none', 'host', 'bytes toward the client on one SPICE channel type (display, main, inputs, cursor, ...), the whole point'),
  m('channel.<type>.bytes_up', 'B', 'none', 'host', 'bytes toward the server on one SPICE channel type, the whole point'),
  m('host.max_queue_kb', 'KiB', 'lower', 'host', "largest fill of the relay's queue"),
  m('codec.asked', undefined, 'none', 'guest', 'the spice_codec of the point'),
  m('codec.server', undefined, 'none', 'guest', 'the codec the server encoded with, from its log (none: no video stream)'),
  m('codec.server_encoder', undefined, 'none', 'guest', "the server's encoder (x264enc, spice-server-mjpeg, ...)"),
  m('codec.client', undefined, 'none', 'client', 'the codec family the client decoded, from its log'),
  m('codec.client_decoder', undefined, 'none', 'client', "the client's decoder (vp8dec, avdec_h264, spice-gtk-mjpeg, ...)"),
  m('codec.match', undefined, 'higher', 'all', 'true only when the server encoded the codec asked for and the client decoded its family'),
  m('server.net_test_latency_ms', 'ms', 'none', 'guest', 'latency the server measured when the client connected'),
  m('server.net_test_bitrate', 'bit/s', 'none', 'guest', 'bandwidth the server measured when the client connected'),
  m('server.initial_bitrate', 'bit/s', 'none', 'guest', 'bitrate the server started the video stream with'),
  m('server.target_bitrate', 'bit/s', 'none', 'guest', 'the last bitrate the server gave its encoder'),
  m('server.target_bitrate.min', 'bit/s', 'none', 'guest', 'the lowest bitrate the server gave its encoder'),
  m('server.stream_fps', 'fps', 'none', 'guest', 'frame rate the server chose for the video stream'),
  m('server.encoder_fps', 'fps', 'none', 'guest', "frame rate of the server's encoder"),
  m('server.input_fps', 'fps', 'none', 'guest', 'input frame rate the server saw for the stream'),
  m('server.mjpeg_quality', 'count', 'none', 'guest', "quality of the server's own MJPEG encoder"),
  m('server.frames_dropped', 'frames', 'lower', 'guest', 'frames the server dropped'),
  m('server.too_slow_warnings', 'count', 'lower', 'guest', 'times the server said it was too slow to encode in real time'),
  frame('frame', undefined, 'frame number the scene stamped'),
  frame('warmup', undefined, '1 when shown during the warm-up (left out of the summary)'),
  frame('shown_at', 'ms', 'when the player handed the frame to the guest display (ms since its first frame)'),
  frame('seen_at', 'ms', "when the frame was first read on the client's screen (empty: never)"),
  frame('latency_ms', 'ms', 'shown to first seen', 'lower'),
];

export const SPICE_DECL: WorkloadDecl = {
  type: 'spice',
  roles: ['guest', 'host', 'client'],
  params: SPICE_PARAM_DECLS,
  metrics: SPICE_METRICS,
  processLabels: ['server', 'player', 'relay', 'client'],
  executors: {
    agents: { refused: "the spice workload cannot run under the agents executor (only stream places its roles on the agents' machines)" },
    slurm: { refused: "the spice workload cannot run under the slurm executor yet (its roles are not placed on a job's nodes)", hint: 'run it with the local executor' },
  },
  needs: [
    { what: 'Xorg with the spiceqxl driver (the SPICE server)', check: '/usr/lib/xorg/modules/drivers/spiceqxl_drv.so', debian: 'xserver-xspice' },
    { what: 'Xvfb (the virtual screen of the client)', check: 'Xvfb', debian: 'xvfb' },
    { what: 'remote-viewer (the SPICE client)', check: 'remote-viewer', debian: 'virt-viewer' },
    { what: 'ffmpeg (grabbing and measuring the screens)', check: 'ffmpeg', debian: 'ffmpeg' },
  ],
  headline: ['codec.match', 'client.fps', 'client.fps_screen', 'client.bitrate', 'client.video_margin.p50', 'guest.cpu_pct', 'host.cpu_pct', 'client.cpu_pct', 'player.cpu_pct'],
  // Written out, not derived from `roles` or `processLabels`: these are the names old records hold.
  renamed: [
    ...['guest', 'host', 'client', 'player', 'grab'].map((r) => ({ from: `${r}.cpu_percent`, to: `${r}.cpu_pct` })),
    { from: 'client.bitrate', to: 'client.bitrate', factor: 1000 },
    { from: 'server.net_test_kbps', to: 'server.net_test_bitrate', factor: 1000 },
    { from: 'server.initial_bitrate_kbps', to: 'server.initial_bitrate', factor: 1000 },
    { from: 'server.target_bitrate_kbps', to: 'server.target_bitrate', factor: 1000 },
    { from: 'server.target_bitrate_kbps.min', to: 'server.target_bitrate.min', factor: 1000 },
  ],
};

export const SPICE_WORKLOAD: WorkloadDef<SpiceWorkload> = {
  ...SPICE_DECL,
  schema: SpiceWorkloadSchema,
  resolve(ctx, raw) {
    const w = raw as RawSpiceWorkload;
    return { type: 'spice', defaults: pickDefaults(w, SPICE_PARAMS), ...(w.content ? { content: w.content } : {}), ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
  },
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, SPICE_PARAMS, spiceSettings, []);
  },
};
