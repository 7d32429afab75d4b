/**
 * The `vnc` workload (a real VNC server, relay and TigerVNC's viewer per point), declared once:
 * its block's schema, its metrics, roles and placement, and how it resolves its part of a
 * benchmark file. Its parameters are config's (src/config/vnc-params.ts), which types the settings
 * its runner reads; its metrics are the desktop family's (src/workloads/desktop/metrics.ts) plus
 * its own, read off the servers' statistics. src/workloads/vnc/run.ts records what it declares.
 * Imports base, config and the family's declaration only.
 */
import { type Static } from '@sinclair/typebox';
import type { MetricDecl, WorkloadDecl } from '../../config/declare.ts';
import { Search, PlanTooComplexError } from '../../config/matrix.ts';
import type { ParamValue } from '../../config/resolved.ts';
import { checkParamValues, type Ctx, type PlanShape } from '../../config/resolve-kit.ts';
import { VNC_PARAM_DECLS } from '../../config/vnc-params.ts';
import { vncSettings, VNC_ENCODINGS, VNC_PARAMS, VNC_SERVERS, VNC_UNAVAILABLE } from '../../config/vnc-settings.ts';
import type { WorkloadDef } from '../../config/workload-def.ts';
import { desktopExecutors, desktopMetric, desktopSchema, DESKTOP_CLIENT_NEEDS, resolveDesktop, type DesktopWorkload } from '../desktop/declare.ts';
import { DESKTOP_HEADLINE, DESKTOP_METRICS, DESKTOP_PROCESS_LABELS, DESKTOP_ROLES } from '../desktop/metrics.ts';

/** A real VNC stack: x11vnc on Xvfb or Xtigervnc on the guest, content on its display, xtigervncviewer on a virtual screen. */
export const VncWorkloadSchema = desktopSchema('vnc', VNC_PARAM_DECLS, 'the guest display');
export type RawVncWorkload = Static<typeof VncWorkloadSchema>;

/** A real VNC session per point. */
export type VncWorkload = DesktopWorkload<'vnc'>;

const m = desktopMetric;

/** The desktop family's figures, then VNC's own: what the server's statistics say it sent (the viewer logs none). */
export const VNC_METRICS: readonly MetricDecl[] = [
  ...DESKTOP_METRICS,
  m('server.updates', 'count', 'none', 'guest', 'framebuffer updates the server sent over the whole connection (its statistics at disconnect)'),
  m('server.rects', 'count', 'none', 'guest', 'rectangles the server encoded over the whole connection, every encoding'),
  m('server.bytes', 'B', 'none', 'guest', 'bytes of encoded rectangles the server sent over the whole connection, every encoding'),
  m('server.raw_equiv_bytes', 'B', 'none', 'guest', 'what those rectangles would have taken as raw pixels'),
  m('server.compression_ratio', 'ratio', 'higher', 'guest', 'raw-equivalent bytes per byte sent (the encodings together)'),
  m('server.encoding.<enc>.bytes', 'B', 'none', 'guest', 'bytes the server sent in one encoding (tight, tight_jpeg, zrle, hextile, raw, ...) over the whole connection'),
  m('server.encoding.<enc>.rects', 'count', 'none', 'guest', 'rectangles (x11vnc: updates) the server sent in one encoding over the whole connection'),
  m('server.jpeg_share', 'ratio', 'none', 'guest', "share of Tight's bytes sent as JPEG when Tight is the main encoding (Xtigervnc's statistics split Tight and Tight (JPEG); x11vnc's do not)"),
  m('server.jpeg_quality', 'level', 'none', 'guest', 'the JPEG quality level x11vnc says it uses for the client (absent: the client asked none)'),
  m('server.compress_level', 'level', 'none', 'guest', 'the compression level x11vnc says it uses for the client'),
];

export const VNC_DECL: WorkloadDecl = {
  type: 'vnc',
  roles: DESKTOP_ROLES,
  params: VNC_PARAM_DECLS,
  metrics: VNC_METRICS,
  processLabels: DESKTOP_PROCESS_LABELS,
  // As SPICE: the server and content on the guest, the relay on the host, the viewer on the client.
  executors: desktopExecutors('vnc'),
  needs: [
    { what: 'x11vnc (the VNC server of vnc_server x11vnc)', check: '/usr/bin/x11vnc', debian: 'x11vnc' },
    { what: 'Xtigervnc (the VNC server of vnc_server tigervnc)', check: '/usr/bin/Xtigervnc', debian: 'tigervnc-standalone-server' },
    { what: 'xtigervncviewer (the VNC client)', check: '/usr/bin/xtigervncviewer', debian: 'tigervnc-viewer' },
    { what: 'Xvfb (the display of x11vnc, the virtual screen of the client)', check: 'Xvfb', debian: 'xvfb' },
    ...DESKTOP_CLIENT_NEEDS,
  ],
  headline: [...DESKTOP_HEADLINE, 'codec.server', 'player.cpu_pct'],
  renamed: [],
};

export const VNC_WORKLOAD: WorkloadDef<VncWorkload> = {
  ...VNC_DECL,
  schema: VncWorkloadSchema,
  resolve: (ctx, raw) => resolveDesktop('vnc', ctx, raw, VNC_PARAMS),
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, VNC_PARAMS, vncSettings, []);
    checkServerEncodings(ctx, plan);
  },
};

/**
 * An encoding its server does not honour, when both are axes of the matrix (one of them alone
 * against the other's default is checkParamValues' case): refused at the encoding's value, when
 * some planned point has the pair.
 */
function checkServerEncodings(ctx: Ctx, plan: PlanShape): void {
  const serverAxis = plan.axes.find((a) => a.name === 'vnc_server');
  const encodingAxis = plan.axes.find((a) => a.name === 'encoding');
  if (!serverAxis || !encodingAxis) return;
  let search: Search | undefined;
  const planned = (server: ParamValue, encoding: ParamValue): boolean => {
    if (plan.exclude.length === 0 && plan.only.length === 0 && !plan.links.some((g) => g.includes('vnc_server') && g.includes('encoding'))) return true;
    try {
      search ??= new Search(plan.axes, plan.links, plan.exclude, plan.only);
      return search.setFilter([{ vnc_server: [server], encoding: [encoding] }]).count(0) !== 0;
    } catch (e) {
      if (e instanceof PlanTooComplexError) return true;
      throw e;
    }
  };
  encodingAxis.values.forEach((enc, i) => {
    for (const server of serverAxis.values) {
      if (!VNC_SERVERS.includes(server as never) || !VNC_ENCODINGS.includes(enc as never)) continue;
      const why = VNC_UNAVAILABLE[server as (typeof VNC_SERVERS)[number]][enc as (typeof VNC_ENCODINGS)[number]];
      if (why !== undefined && planned(server, enc)) {
        ctx.add(['matrix', 'encoding', ...(encodingAxis.values.length > 1 ? [i] : [])], `encoding ${String(enc)} cannot run on vnc_server ${String(server)}: ${why}`, `exclude the pair: exclude: [{vnc_server: ${String(server)}, encoding: ${String(enc)}}]`);
        return;
      }
    }
  });
}
