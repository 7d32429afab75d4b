/**
 * The parameters of the `vnc` workload (a real VNC server, relay and TigerVNC's viewer per point),
 * declared once. In config, as SPICE's are, because vnc-settings.ts types the settings its runner
 * reads from them; the declaration (src/workloads/vnc/declare.ts) takes them. Each is what the
 * stacks really offer: the servers' choice, and the viewer's encoding preferences (RFB lets the
 * client choose: the server encodes with the first encoding of the client's list it has).
 */
import type { ParamDecl } from './declare.ts';
import { NET_PARAMS, SHARED_SCENE_PARAMS } from './stream-params.ts';

/** x11vnc: an Xvfb display with x11vnc on it; tigervnc: Xtigervnc, an X server that is the VNC server. */
export const VNC_SERVERS = ['x11vnc', 'tigervnc'] as const;
export type VncServer = (typeof VNC_SERVERS)[number];
/** The RFB encodings the viewer can prefer (xtigervncviewer -PreferredEncoding). */
export const VNC_ENCODINGS = ['tight', 'zrle', 'hextile', 'raw'] as const;
export type VncEncoding = (typeof VNC_ENCODINGS)[number];
/** The client's pixel formats: full colour (24 bit), or TigerVNC's low colour levels (-LowColorLevel 2, 1, 0: 256, 64, 8 colours). */
export const VNC_COLOR_DEPTHS = [24, 8, 6, 3] as const;
export type VncColorDepth = (typeof VNC_COLOR_DEPTHS)[number];

/** The encodings a server does not honour, with the reason (measured: docs/workloads.md). */
export const VNC_UNAVAILABLE: Readonly<Record<VncServer, Partial<Record<VncEncoding, string>>>> = {
  x11vnc: {},
  tigervnc: { raw: 'Xtigervnc has no Raw encoder of choice: asked for Raw it encodes with other encodings the viewer lists (here Tight with JPEG, and ZRLE), so Raw cannot be measured on it; use vnc_server x11vnc for raw' },
};

/** The emulated network of the relay: the stream's parameters, as this workload documents them. */
const NET = NET_PARAMS.filter((p) => ['net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_trace', 'net_trace_up'].includes(p.name)).map((p) => (p.name === 'net_loss' ? { ...p, doc: 'packet loss, percent: over TCP a loss costs a retransmission timeout' } : p));

export const VNC_PARAM_DECLS: readonly ParamDecl[] = [
  { name: 'vnc_server', type: 'enum', values: VNC_SERVERS, default: 'x11vnc', doc: 'the VNC server: x11vnc on an Xvfb display, or Xtigervnc (the X server is the VNC server)', role: 'guest' },
  { name: 'encoding', type: 'enum', values: VNC_ENCODINGS, default: 'tight', doc: 'the RFB encoding the viewer prefers (-PreferredEncoding, -AutoSelect=0); Xtigervnc has no raw', role: 'client' },
  { name: 'jpeg_quality', type: 'integer', unit: 'level', range: [0, 9], none: ['off'], default: 8, what: 'off: no JPEG', doc: 'JPEG quality level of Tight the viewer asks (-QualityLevel, 0 worst to 9 best); off: lossless Tight only (-NoJPEG)', role: 'client' },
  { name: 'compress_level', type: 'integer', unit: 'level', range: [0, 9], default: 2, doc: 'zlib compression level the viewer asks (-CompressLevel with -CustomCompressLevel; 0 fastest to 9 smallest)', role: 'client' },
  { name: 'color_depth', type: 'integer', unit: 'bit', range: [3, 24], what: '24, 8, 6 or 3', default: 24, doc: "the client's pixel format: 24 full colour (-FullColor), 8, 6 or 3 bit (-LowColorLevel 2, 1, 0: 256, 64, 8 colours); no other depth", role: 'client' },
  { ...SHARED_SCENE_PARAMS.resolution, doc: 'WxH of the guest display (the Xvfb screen of x11vnc, or the geometry of Xtigervnc)' },
  { name: 'fps', type: 'number', unit: 'fps', range: [1, 240], default: 30, doc: 'frame rate of the scene shown on the guest display', role: 'guest' },
  { ...SHARED_SCENE_PARAMS.scene, doc: 'synthetic content shown on the guest display' },
  { name: 'window', type: 'boolean', default: false, doc: 'true: the scene in a window of half the screen, false: full screen', role: 'guest' },
  { name: 'video', type: 'path', doc: 'a video file played on the guest display instead of a scene', role: 'guest' },
  ...NET,
];
