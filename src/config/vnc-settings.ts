/** The settings of one VNC point, from its parameters typed by the VNC declaration (src/config/vnc-params.ts). */
import { describeParam, SettingError, typeValue, type ParamDecl, type TypedValue } from './declare.ts';
import { desktopBase, type DesktopSettings } from './desktop-settings.ts';
import { streamSettings } from './stream-settings.ts';
import { VNC_COLOR_DEPTHS, VNC_PARAM_DECLS, VNC_UNAVAILABLE, type VncColorDepth, type VncEncoding, type VncServer } from './vnc-params.ts';

export { VNC_COLOR_DEPTHS, VNC_ENCODINGS, VNC_SERVERS, VNC_UNAVAILABLE, type VncColorDepth, type VncEncoding, type VncServer } from './vnc-params.ts';

/** A VNC point's settings: the desktop family's, the server, and the viewer's encoding preferences. */
export interface VncSettings extends DesktopSettings {
  server: VncServer;
  encoding: VncEncoding;
  /** JPEG quality level of Tight, 0-9; null: no JPEG (-NoJPEG). */
  jpegQuality: number | null;
  compressLevel: number;
  colorDepth: VncColorDepth;
}

const DECLS = new Map<string, ParamDecl>(VNC_PARAM_DECLS.map((d) => [d.name, d]));

/** Parameter names users write, with what each takes, from the declaration. */
export const VNC_PARAMS: Record<string, string> = Object.fromEntries(VNC_PARAM_DECLS.map((d) => [d.name, describeParam(d)]));

/** Names the stream's rules parse for VNC too (the scene and the relay's network): one meaning each. */
const SHARED = ['resolution', 'fps', 'scene', 'net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_loss_burst', 'net_queue', 'net_queue_bytes', 'net_trace', 'net_trace_up'];

/**
 * Settings from a point's parameters (raw as written, or typed already); throws SettingError naming
 * the parameter. `check` false skips the refusal of an encoding its server does not honour: only for
 * a test that shows the point failing on the server's own evidence.
 */
export function vncSettings(p: Readonly<Record<string, unknown>>, times: { warmupS: number; durationS: number }, content?: string[], check = true): VncSettings {
  const shared = streamSettings(Object.fromEntries(Object.entries(p).filter(([k]) => SHARED.includes(k))), times);
  const typed = (name: string): TypedValue | undefined => {
    const d = DECLS.get(name)!;
    const v = p[name] ?? d.default;
    return v === undefined ? undefined : typeValue(d, v);
  };
  const server = typed('vnc_server') as VncServer;
  const encoding = typed('encoding') as VncEncoding;
  const why = VNC_UNAVAILABLE[server][encoding];
  if (check && why !== undefined) throw new SettingError('encoding', `encoding ${encoding} cannot run on vnc_server ${server}: ${why}`);
  const depth = typed('color_depth') as number;
  if (!(VNC_COLOR_DEPTHS as readonly number[]).includes(depth)) throw new SettingError('color_depth', `color_depth '${depth}' is not one of ${VNC_COLOR_DEPTHS.join(', ')} (the viewer's full colour and its three low colour levels)`);
  const s: VncSettings = {
    server,
    encoding,
    jpegQuality: typed('jpeg_quality') as number | null,
    compressLevel: typed('compress_level') as number,
    colorDepth: depth as VncColorDepth,
    ...desktopBase(shared, typed, times, content),
  };
  return s;
}
