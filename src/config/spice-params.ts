/**
 * The parameters of the `spice` workload (a real SPICE server, relay and remote-viewer per
 * point), declared once. In config, as the stream's are, because spice-settings.ts types the
 * settings its runner reads from them; the declaration (src/workloads/spice/declare.ts) takes them.
 */
import type { ParamDecl } from './declare.ts';
import { NET_PARAMS, SHARED_SCENE_PARAMS } from './stream-params.ts';

export const SPICE_CODECS = ['spice:mjpeg', 'gstreamer:mjpeg', 'gstreamer:vp8', 'gstreamer:vp9', 'gstreamer:h264'] as const;
export type SpiceCodec = (typeof SPICE_CODECS)[number];
export const STREAMING_MODES = ['off', 'filter', 'all'] as const;
export const IMAGE_COMPRESSIONS = ['off', 'auto_glz', 'auto_lz', 'quic', 'glz', 'lz'] as const;
export const WAN_MODES = ['auto', 'never', 'always'] as const;
/** The modes the spiceqxl driver knows (docs/workloads.md); other sizes are refused by Xorg at start. */
export const SPICE_MODES = ['640x480', '800x600', '1024x768', '1280x720', '1920x1080'] as const;

/** The emulated network of the relay: the stream's parameters, as this workload documents them. */
const NET = NET_PARAMS.filter((p) => ['net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_trace', 'net_trace_up'].includes(p.name)).map((p) => (p.name === 'net_loss' ? { ...p, doc: 'packet loss, percent: over TCP a loss costs a retransmission timeout' } : p));

export const SPICE_PARAM_DECLS: readonly ParamDecl[] = [
  { name: 'spice_codec', type: 'enum', values: SPICE_CODECS, default: 'spice:mjpeg', doc: "the server's video codec (SpiceVideoCodecs)", role: 'guest' },
  { name: 'streaming', type: 'enum', values: STREAMING_MODES, default: 'filter', doc: 'video streaming mode (SpiceStreamingVideo)', role: 'guest' },
  { name: 'image_compression', type: 'enum', values: IMAGE_COMPRESSIONS, doc: 'image compression (SpiceImageCompression); absent: the server default', role: 'guest' },
  { name: 'jpeg_wan', type: 'enum', values: WAN_MODES, doc: 'JPEG compression over WAN (SpiceJpegWanCompression)', role: 'guest' },
  { name: 'zlib_wan', type: 'enum', values: WAN_MODES, doc: 'zlib-glz compression over WAN (SpiceZlibGlzWanCompression)', role: 'guest' },
  { name: 'deferred_fps', type: 'integer', unit: 'fps', range: [1, 240], doc: 'deferred frames per second (SpiceDeferredFPS); absent: off', role: 'guest' },
  { ...SHARED_SCENE_PARAMS.resolution, doc: `WxH of the guest display: a mode the spiceqxl driver knows (${SPICE_MODES.join(', ')})` },
  { name: 'fps', type: 'number', unit: 'fps', range: [1, 240], default: 30, doc: 'frame rate of the scene shown on the guest display', role: 'guest' },
  { ...SHARED_SCENE_PARAMS.scene, doc: 'synthetic content shown on the guest display' },
  { name: 'window', type: 'boolean', default: false, doc: 'true: the scene in a window of half the screen, false: full screen', role: 'guest' },
  { name: 'video', type: 'path', doc: 'a video file played on the guest display instead of a scene', role: 'guest' },
  ...NET,
];
