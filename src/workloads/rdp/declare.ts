/**
 * The `rdp` workload (xrdp and xrdp-sesman of the point, a session with xorgxrdp, the shaping
 * relay and xfreerdp per point), declared once: its block's schema, its metrics, roles and
 * placement, and how it resolves its part of a benchmark file. Its parameters are config's
 * (src/config/rdp-params.ts); its metrics are the desktop family's plus its own. Imports base,
 * config and the family's declaration only.
 */
import { type Static } from '@sinclair/typebox';
import type { MetricDecl, WorkloadDecl } from '../../config/declare.ts';
import { checkParamValues } from '../../config/resolve-kit.ts';
import { RDP_PARAM_DECLS } from '../../config/rdp-params.ts';
import { rdpSettings, RDP_PARAMS } from '../../config/rdp-settings.ts';
import type { WorkloadDef } from '../../config/workload-def.ts';
import { desktopExecutors, desktopMetric, desktopSchema, DESKTOP_CLIENT_NEEDS, resolveDesktop, type DesktopWorkload } from '../desktop/declare.ts';
import { DESKTOP_HEADLINE, DESKTOP_METRICS, DESKTOP_PROCESS_LABELS, DESKTOP_ROLES } from '../desktop/metrics.ts';

/** A real RDP stack: xrdp and sesman, content on the session's display, xfreerdp on a virtual screen. */
export const RdpWorkloadSchema = desktopSchema('rdp', RDP_PARAM_DECLS, "the session's display");
export type RawRdpWorkload = Static<typeof RdpWorkloadSchema>;

/** A real RDP session per point. */
export type RdpWorkload = DesktopWorkload<'rdp'>;

const m = desktopMetric;

/** The desktop family's figures, then RDP's own: what the client's log says the stream carried in the window. */
export const RDP_METRICS: readonly MetricDecl[] = [
  ...DESKTOP_METRICS,
  m('client.rfx_frames', 'frames', 'none', 'client', 'RemoteFX frames the client decoded in the window (RFX_FRAME_BEGIN in its log)'),
  m('client.surface_commands', 'count', 'none', 'client', 'surface commands the client received in the window (any codec id)'),
  m('client.surface_bytes', 'B', 'none', 'client', 'bytes of codec data in those surface commands'),
  m('client.bitmap_updates', 'count', 'none', 'client', 'bitmap update PDUs the client received in the window'),
  m('client.bitmap_rects', 'count', 'none', 'client', 'rectangles those bitmap updates carried'),
  m('client.updates_fps', 'fps', 'none', 'client', 'surface commands and bitmap updates the client received per second of the window'),
];

export const RDP_DECL: WorkloadDecl = {
  type: 'rdp',
  roles: DESKTOP_ROLES,
  params: RDP_PARAM_DECLS,
  metrics: RDP_METRICS,
  processLabels: DESKTOP_PROCESS_LABELS,
  // As SPICE: server, session and content on the guest, the relay on the host, the viewer on the
  // client. The viewer reads the session's password from the point directory: with agents on
  // three machines that directory must be shared (or the client has no password to send).
  executors: desktopExecutors('rdp'),
  needs: [
    { what: 'xrdp and xrdp-sesman (the RDP server and its session manager)', check: '/usr/sbin/xrdp', debian: 'xrdp' },
    { what: "xorgxrdp (the session's X server driver)", check: '/usr/lib/xorg/modules/drivers/xrdpdev_drv.so', debian: 'xorgxrdp' },
    { what: 'xfreerdp (the RDP client)', check: '/usr/bin/xfreerdp', debian: 'freerdp2-x11' },
    ...DESKTOP_CLIENT_NEEDS,
  ],
  headline: [...DESKTOP_HEADLINE, 'client.updates_fps', 'player.cpu_pct'],
};

export const RDP_WORKLOAD: WorkloadDef<RdpWorkload> = {
  ...RDP_DECL,
  schema: RdpWorkloadSchema,
  resolve: (ctx, raw) => resolveDesktop('rdp', ctx, raw, RDP_PARAMS),
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, RDP_PARAMS, rdpSettings, []);
  },
};
