/**
 * The parameters of the `rdp` workload (xrdp with its session manager, xorgxrdp and xfreerdp per
 * point), declared once. In config, as SPICE's are, because rdp-settings.ts types the settings its
 * runner reads from them; the declaration (src/workloads/rdp/declare.ts) takes them.
 */
import type { ParamDecl } from './declare.ts';
import { NET_PARAMS, SHARED_SCENE_PARAMS } from './stream-params.ts';

/** What the client may ask for: RemoteFX surface commands, plain bitmap updates, or the graphics pipeline (GFX, its H.264 mode) that xrdp has from 0.10 on. */
export const RDP_CODECS = ['remotefx', 'bitmap', 'gfx', 'h264'] as const;
export type RdpCodec = (typeof RDP_CODECS)[number];
/** Colour depths xfreerdp offers (/bpp:). */
export const RDP_BPPS = ['15', '16', '24', '32'] as const;

const NET = NET_PARAMS.filter((p) => ['net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_trace', 'net_trace_up'].includes(p.name)).map((p) => (p.name === 'net_loss' ? { ...p, doc: 'packet loss, percent: over TCP a loss costs a retransmission timeout' } : p));

export const RDP_PARAM_DECLS: readonly ParamDecl[] = [
  { name: 'rdp_codec', type: 'enum', values: RDP_CODECS, default: 'remotefx', doc: 'what the client asks for: remotefx (xfreerdp /rfx), bitmap (no codec asked: bitmap updates), gfx or h264 (the graphics pipeline, refused by xrdp before 0.10)', role: 'client' },
  { name: 'rdp_bpp', type: 'enum', values: RDP_BPPS, default: '32', doc: "the client's colour depth, bits per pixel (xfreerdp /bpp:)", role: 'client' },
  { ...SHARED_SCENE_PARAMS.resolution, doc: 'WxH of the session (xrdp-sesrun -g) and of the viewer (xfreerdp /size:)' },
  { name: 'fps', type: 'number', unit: 'fps', range: [1, 240], default: 30, doc: "frame rate of the scene shown on the session's display", role: 'guest' },
  { ...SHARED_SCENE_PARAMS.scene, doc: "synthetic content shown on the session's display" },
  { name: 'window', type: 'boolean', default: false, doc: 'true: the scene in a window of half the screen, false: full screen', role: 'guest' },
  { name: 'video', type: 'path', doc: "a video file played on the session's display instead of a scene", role: 'guest' },
  ...NET,
];
