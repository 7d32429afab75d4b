/**
 * The `spice` workload (a real SPICE server, relay and remote-viewer per point), declared once:
 * its block's schema, its metrics, roles and placement, and how it resolves its part of a
 * benchmark file. Its parameters are config's (src/config/spice-params.ts), which types the
 * settings its runner reads; its metrics are the desktop family's (src/workloads/desktop/metrics.ts)
 * plus its own. src/workloads/spice/run.ts records what it declares. Imports base, config and the
 * family's declaration only.
 */
import { type Static } from '@sinclair/typebox';
import type { MetricDecl, WorkloadDecl } from '../../config/declare.ts';
import { checkParamValues } from '../../config/resolve-kit.ts';
import { SPICE_PARAM_DECLS } from '../../config/spice-params.ts';
import { spiceSettings, SPICE_PARAMS } from '../../config/spice-settings.ts';
import type { WorkloadDef } from '../../config/workload-def.ts';
import { desktopExecutors, desktopMetric, desktopSchema, DESKTOP_CLIENT_NEEDS, resolveDesktop, type DesktopWorkload } from '../desktop/declare.ts';
import { DESKTOP_HEADLINE, DESKTOP_METRICS, DESKTOP_PROCESS_LABELS, DESKTOP_ROLES } from '../desktop/metrics.ts';

/** A real SPICE stack: server in an X server, content on its display, remote-viewer on a virtual screen. */
export const SpiceWorkloadSchema = desktopSchema('spice', SPICE_PARAM_DECLS, 'the guest display');
export type RawSpiceWorkload = Static<typeof SpiceWorkloadSchema>;

/** A real SPICE session per point. */
export type SpiceWorkload = DesktopWorkload<'spice'>;

const m = desktopMetric;

/** The desktop family's figures (src/workloads/desktop/metrics.ts), then SPICE's own: the video stream as the client's and the server's logs tell it. */
export const SPICE_METRICS: readonly MetricDecl[] = [
  ...DESKTOP_METRICS,
  m('client.fps', 'fps', 'higher', 'client', 'video-stream frames the client received per second of the window'),
  m('client.frames', 'frames', 'higher', 'client', 'video-stream frames the client received in the window'),
  m('client.frames_late', 'frames', 'lower', 'client', 'of those, frames that arrived after their display time'),
  m('client.video_margin.p50', 'ms', 'higher', 'client', "median slack between a frame's arrival and its display time (negative: late)"),
  m('client.video_streams', 'count', 'none', 'client', 'video streams the server created for the client over the point'),
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
];

export const SPICE_DECL: WorkloadDecl = {
  type: 'spice',
  roles: DESKTOP_ROLES,
  params: SPICE_PARAM_DECLS,
  metrics: SPICE_METRICS,
  processLabels: DESKTOP_PROCESS_LABELS,
  // The server and content on the guest, the relay on the host, the viewer on the client; the
  // player's stamps and the client's sightings meet on one clock only through the agents' measurements.
  executors: desktopExecutors('spice'),
  needs: [{ what: 'Xorg with the spiceqxl driver (the SPICE server)', check: '/usr/lib/xorg/modules/drivers/spiceqxl_drv.so', debian: 'xserver-xspice' }, { what: 'remote-viewer (the SPICE client)', check: 'remote-viewer', debian: 'virt-viewer' }, ...DESKTOP_CLIENT_NEEDS],
  headline: [...DESKTOP_HEADLINE, 'client.fps', 'client.video_margin.p50', 'player.cpu_pct'],
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
  resolve: (ctx, raw) => resolveDesktop('spice', ctx, raw, SPICE_PARAMS),
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, SPICE_PARAMS, spiceSettings, []);
  },
};
