/** The settings of one RDP point, from its parameters typed by the RDP declaration (src/config/rdp-params.ts). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describeParam, SettingError, typeValue, type ParamDecl, type TypedValue } from './declare.ts';
import { desktopBase, type DesktopSettings } from './desktop-settings.ts';
import { RDP_PARAM_DECLS, type RdpCodec } from './rdp-params.ts';
import { streamSettings } from './stream-settings.ts';

export { RDP_BPPS, RDP_CODECS, type RdpCodec } from './rdp-params.ts';

/** An RDP point's settings: the desktop family's and the client's own. */
export interface RdpSettings extends DesktopSettings {
  codec: RdpCodec;
  /** The client's colour depth (xfreerdp /bpp:). */
  bpp: number;
}

/** The xrdp a point runs (Debian's xrdp package). */
export const XRDP = '/usr/sbin/xrdp';
/** The first xrdp with the graphics pipeline (GFX, and H.264 over it). */
export const XRDP_GFX_SINCE = [0, 10] as const;

const DECLS = new Map<string, ParamDecl>(RDP_PARAM_DECLS.map((d) => [d.name, d]));

/** Parameter names users write, with what each takes, from the declaration. */
export const RDP_PARAMS: Record<string, string> = Object.fromEntries(RDP_PARAM_DECLS.map((d) => [d.name, describeParam(d)]));

const SHARED = ['resolution', 'fps', 'scene', 'net_rate', 'net_delay', 'net_jitter', 'net_loss', 'net_loss_burst', 'net_queue', 'net_queue_bytes', 'net_trace', 'net_trace_up'];

/** What `xrdp --version` says on this machine: its version and the configure options it lists (undefined: no xrdp here). */
export interface XrdpBuild {
  version: string;
  options: string[];
}

let probed: XrdpBuild | null | undefined;

/** Parses `xrdp --version` output: "xrdp 0.9.21.1" and its "Configure options:" lines. */
export function parseXrdpVersion(text: string): XrdpBuild | undefined {
  const v = /^xrdp (\d+(?:\.\d+)+)/m.exec(text);
  if (!v) return undefined;
  return { version: v[1]!, options: [...text.matchAll(/^\s+(--[\w-]+(?:=\S*)?)\s*$/gm)].map((m) => m[1]!) };
}

/** This machine's xrdp build, asked once (`xrdp --version`); undefined when xrdp is not installed. */
export function xrdpBuild(): XrdpBuild | undefined {
  if (probed === undefined) {
    probed = null;
    if (existsSync(XRDP)) {
      const out = execFileSync(XRDP, ['--version'], { encoding: 'utf8', timeout: 10_000 });
      probed = parseXrdpVersion(out) ?? null;
    }
  }
  return probed ?? undefined;
}

/**
 * Why the graphics pipeline (gfx, h264) cannot run with this xrdp build, or undefined when it
 * can: xrdp has it from 0.10 on (0.9's GFX channel never opens: the client stays on RemoteFX or
 * bitmaps), H.264 only when built with an encoder (--enable-x264 or --enable-openh264).
 */
export function gfxRefusal(codec: 'gfx' | 'h264', build: XrdpBuild | undefined): string | undefined {
  if (!build) return `rdp_codec ${codec} needs xrdp ${XRDP_GFX_SINCE.join('.')} or later, and ${XRDP} is not installed here to tell which version runs: run scripts/setup.sh, or use remotefx or bitmap`;
  const [major = 0, minor = 0] = build.version.split('.').map(Number);
  if (major < XRDP_GFX_SINCE[0] || (major === XRDP_GFX_SINCE[0] && minor < XRDP_GFX_SINCE[1])) {
    return `rdp_codec ${codec} needs the RDP graphics pipeline (GFX${codec === 'h264' ? ', which carries H.264' : ''}), which xrdp has from ${XRDP_GFX_SINCE.join('.')} on; this machine's xrdp is ${build.version} (\`${XRDP} --version\`), whose GFX channel never opens: use remotefx or bitmap`;
  }
  if (codec === 'h264' && !build.options.some((o) => /^--enable-(x264|openh264)$/.test(o))) {
    return `rdp_codec h264 needs xrdp built with an H.264 encoder; \`${XRDP} --version\` (${build.version}) lists neither --enable-x264 nor --enable-openh264 among its configure options: use gfx, remotefx or bitmap`;
  }
  return undefined;
}

/** Settings from a point's parameters (raw as written, or typed already); throws SettingError naming the parameter. */
export function rdpSettings(p: Readonly<Record<string, unknown>>, times: { warmupS: number; durationS: number }, content?: string[], build: () => XrdpBuild | undefined = xrdpBuild): RdpSettings {
  const shared = streamSettings(Object.fromEntries(Object.entries(p).filter(([k]) => SHARED.includes(k))), times);
  const typed = (name: string): TypedValue | undefined => {
    const d = DECLS.get(name)!;
    const v = p[name] ?? d.default;
    return v === undefined ? undefined : typeValue(d, typeof v === 'number' ? String(v) : v);
  };
  const codec = typed('rdp_codec') as RdpCodec;
  if (codec === 'gfx' || codec === 'h264') {
    const why = gfxRefusal(codec, build());
    if (why !== undefined) throw new SettingError('rdp_codec', why);
  }
  const bpp = Number(typed('rdp_bpp'));
  const s: RdpSettings = {
    codec,
    bpp,
    ...desktopBase(shared, typed, times, content),
  };
  return s;
}
