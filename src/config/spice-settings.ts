/** The settings of one SPICE point, as users write them in a matrix, parsed once. */
import { quoted } from './show.ts';
import { SettingError, streamSettings, type NetSettings } from './stream-settings.ts';

export const SPICE_CODECS = ['spice:mjpeg', 'gstreamer:mjpeg', 'gstreamer:vp8', 'gstreamer:vp9', 'gstreamer:h264'] as const;
export type SpiceCodec = (typeof SPICE_CODECS)[number];
export const STREAMING_MODES = ['off', 'filter', 'all'] as const;
export const IMAGE_COMPRESSIONS = ['off', 'auto_glz', 'auto_lz', 'quic', 'glz', 'lz'] as const;
export const WAN_MODES = ['auto', 'never', 'always'] as const;

export interface SpiceSettings {
  codec: SpiceCodec;
  streaming: (typeof STREAMING_MODES)[number];
  imageCompression?: (typeof IMAGE_COMPRESSIONS)[number];
  jpegWan?: (typeof WAN_MODES)[number];
  zlibWan?: (typeof WAN_MODES)[number];
  deferredFps?: number;
  width: number;
  height: number;
  fps: number;
  scene: string;
  /** Scene shown in a window of half the screen instead of full screen. */
  window: boolean;
  /** A video file played on the guest display instead of a scene. */
  video?: string;
  /** Any X program (argv) run on the guest display instead of a scene. */
  content?: string[];
  net: NetSettings;
  warmupS: number;
  durationS: number;
}

/** Parameter names users write, with what each takes. */
export const SPICE_PARAMS: Record<string, string> = {
  spice_codec: SPICE_CODECS.join(' | '),
  streaming: `video streaming mode: ${STREAMING_MODES.join(' | ')}`,
  image_compression: IMAGE_COMPRESSIONS.join(' | '),
  jpeg_wan: WAN_MODES.join(' | '),
  zlib_wan: WAN_MODES.join(' | '),
  deferred_fps: 'deferred frames per second (SpiceDeferredFPS); absent: off',
  resolution: 'WxH of the guest display, e.g. 1280x720',
  fps: 'frame rate of the scene shown on the guest display (default 30)',
  scene: 'idle | typing | scrolling | drag | video | motion',
  window: 'true: the scene in a window, false: full screen (default)',
  video: 'a video file played on the guest display instead of a scene',
  net_rate: 'link rate, bits/s (e.g. 2M); absent: unlimited',
  net_delay: 'one-way delay (e.g. 30ms)',
  net_jitter: 'delay variation (e.g. 5ms)',
  net_loss: 'loss, percent: over TCP a loss costs a retransmission timeout',
};

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new SettingError(name, `${name} ${quoted(v)} is not one of ${allowed.join(', ')}`);
}

/** true/false, also as text ("true"): anything else is a mistake, not "false". */
function flag(name: string, v: unknown): boolean {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new SettingError(name, `${name} ${quoted(v)} must be true or false`);
}

/** Settings from a point's parameters; throws SettingError naming the parameter. */
export function spiceSettings(p: Readonly<Record<string, string | number | boolean>>, times: { warmupS: number; durationS: number }, content?: string[]): SpiceSettings {
  // Shared names (resolution, fps, scene, net_*) are parsed by the stream's rules: one meaning each.
  const shared = streamSettings(
    Object.fromEntries(Object.entries(p).filter(([k]) => ['resolution', 'fps', 'scene', 'net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_loss_burst', 'net_queue'].includes(k))) as Record<string, string | number>,
    times,
  );
  const s: SpiceSettings = {
    codec: oneOf('spice_codec', p['spice_codec'] ?? 'spice:mjpeg', SPICE_CODECS),
    streaming: oneOf('streaming', p['streaming'] ?? 'filter', STREAMING_MODES),
    width: shared.width,
    height: shared.height,
    fps: shared.fps,
    scene: shared.scene,
    window: flag('window', p['window'] ?? false),
    net: shared.net,
    warmupS: times.warmupS,
    durationS: times.durationS,
  };
  if (p['image_compression'] !== undefined) s.imageCompression = oneOf('image_compression', p['image_compression'], IMAGE_COMPRESSIONS);
  if (p['jpeg_wan'] !== undefined) s.jpegWan = oneOf('jpeg_wan', p['jpeg_wan'], WAN_MODES);
  if (p['zlib_wan'] !== undefined) s.zlibWan = oneOf('zlib_wan', p['zlib_wan'], WAN_MODES);
  if (p['deferred_fps'] !== undefined) {
    const v = p['deferred_fps'];
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n <= 0 || n > 240) throw new SettingError('deferred_fps', `deferred_fps ${quoted(v)} must be an integer from 1 to 240`);
    s.deferredFps = n;
  }
  if (p['video'] !== undefined) {
    if (String(p['video']).trim() === '') throw new SettingError('video', 'video is empty: name a video file, or drop it to show a scene');
    s.video = String(p['video']);
  }
  if (content) s.content = content;
  return s;
}
