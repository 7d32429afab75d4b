/** The settings of one SPICE point, from its parameters typed by the SPICE declaration (src/config/spice-params.ts). */
import { describeParam, typeValue, type ParamDecl, type TypedValue } from './declare.ts';
import { desktopBase, type DesktopSettings } from './desktop-settings.ts';
import { streamSettings } from './stream-settings.ts';
import { IMAGE_COMPRESSIONS, SPICE_PARAM_DECLS, STREAMING_MODES, WAN_MODES, type SpiceCodec } from './spice-params.ts';

export { IMAGE_COMPRESSIONS, SPICE_CODECS, STREAMING_MODES, WAN_MODES, type SpiceCodec } from './spice-params.ts';

/** A SPICE point's settings: the desktop family's and the SPICE server's own. */
export interface SpiceSettings extends DesktopSettings {
  codec: SpiceCodec;
  streaming: (typeof STREAMING_MODES)[number];
  imageCompression?: (typeof IMAGE_COMPRESSIONS)[number];
  jpegWan?: (typeof WAN_MODES)[number];
  zlibWan?: (typeof WAN_MODES)[number];
  deferredFps?: number;
}

const DECLS = new Map<string, ParamDecl>(SPICE_PARAM_DECLS.map((d) => [d.name, d]));

/** Parameter names users write, with what each takes, from the declaration. */
export const SPICE_PARAMS: Record<string, string> = Object.fromEntries(SPICE_PARAM_DECLS.map((d) => [d.name, describeParam(d)]));

/** Names the stream's rules parse for SPICE too (the scene and the relay's network): one meaning each. */
const SHARED = ['resolution', 'fps', 'scene', 'net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_loss_burst', 'net_queue', 'net_queue_bytes', 'net_trace', 'net_trace_up'];

/** Settings from a point's parameters (raw as written, or typed already); throws SettingError naming the parameter. */
export function spiceSettings(p: Readonly<Record<string, unknown>>, times: { warmupS: number; durationS: number }, content?: string[]): SpiceSettings {
  const shared = streamSettings(Object.fromEntries(Object.entries(p).filter(([k]) => SHARED.includes(k))), times);
  const typed = (name: string): TypedValue | undefined => {
    const d = DECLS.get(name)!;
    const v = p[name] ?? d.default;
    return v === undefined ? undefined : typeValue(d, v);
  };
  const s: SpiceSettings = {
    codec: typed('spice_codec') as SpiceCodec,
    streaming: typed('streaming') as SpiceSettings['streaming'],
    ...desktopBase(shared, typed, times, content),
  };
  const imageCompression = typed('image_compression');
  const jpegWan = typed('jpeg_wan');
  const zlibWan = typed('zlib_wan');
  const deferredFps = typed('deferred_fps');
  if (imageCompression !== undefined) s.imageCompression = imageCompression as SpiceSettings['imageCompression'] & string;
  if (jpegWan !== undefined) s.jpegWan = jpegWan as SpiceSettings['jpegWan'] & string;
  if (zlibWan !== undefined) s.zlibWan = zlibWan as SpiceSettings['zlibWan'] & string;
  if (deferredFps !== undefined) s.deferredFps = deferredFps as number;
  return s;
}
