/**
 * Readers of the RDP stack's logs: xfreerdp's (FreeRDP 2) WLog output at DEBUG/TRACE for the tags
 * that name what the stream carried, and xrdp-sesrun's answer. xrdp 0.9's own log names only what
 * the client offered (xrdp_caps_process_codecs), so the codec the stream carried comes from the
 * client's log alone: surface commands with `codecID 3` and `RFX_FRAME_BEGIN` for RemoteFX,
 * `Bitmap Update Data PDU` for plain bitmaps.
 */

/** The tags xfreerdp logs what the stream carried under, at the levels that show it (WLOG_FILTER). */
export const CLIENT_LOG_FILTER = 'com.freerdp.core.update:TRACE,com.freerdp.gdi:DEBUG,com.freerdp.codec.rfx:DEBUG';

/** RDP's codec id of RemoteFX in surface commands, as FreeRDP's gdi logs it (RDP_CODEC_ID_REMOTEFX). */
export const CODEC_ID_REMOTEFX = 3;

/** One timed event of the client's log: wall-clock ms since midnight. */
interface Timed {
  atMs: number;
}

/** What xfreerdp's log says the stream carried. */
export interface ClientLog {
  /** Surface commands (`codecID N` lines of com.freerdp.gdi), with their codec id. */
  surfaces: (Timed & { codecId: number; bytes: number })[];
  /** RemoteFX frames decoded (`RFX_FRAME_BEGIN`). */
  rfxFrames: Timed[];
  /** Bitmap update PDUs (`Bitmap Update Data PDU`) and the rectangles they carried (`BitmapUpdate: N`). */
  bitmapUpdates: (Timed & { rects: number })[];
  /** Whether the viewer drew its first picture of the session (a surface command or a bitmap update). */
  connected: boolean;
  /** The viewer's error lines (com.freerdp.core and the client, not the backtrace of its own exit), quoted. */
  errors: string[];
}

// [09:43:04:028] [20862:20864] [DEBUG][com.freerdp.gdi] - ... (the first one after the "Password: "
// prompt, which /from-stdin writes without a newline).
const LINE = /\[(\d\d):(\d\d):(\d\d):(\d+)\] \[\d+:\d+\] \[(\w+)\]\[([\w.]+)\] - (.*)$/;

/** Parses xfreerdp's output written with WLOG_FILTER=CLIENT_LOG_FILTER. */
export function parseClientLog(text: string): ClientLog {
  const out: ClientLog = { surfaces: [], rfxFrames: [], bitmapUpdates: [], connected: false, errors: [] };
  for (const line of text.split('\n')) {
    const l = LINE.exec(line);
    if (!l) continue;
    const atMs = ((Number(l[1]) * 60 + Number(l[2])) * 60 + Number(l[3])) * 1000 + Number(l[4]);
    const [level, tag, msg] = [l[5]!, l[6]!, l[7]!];
    let m: RegExpExecArray | null;
    if (tag === 'com.freerdp.gdi' && (m = /\bcodecID (\d+) .*\blength (\d+)/.exec(msg))) {
      out.surfaces.push({ atMs, codecId: Number(m[1]), bytes: Number(m[2]) });
    } else if (tag === 'com.freerdp.codec.rfx' && msg.startsWith('RFX_FRAME_BEGIN')) {
      out.rfxFrames.push({ atMs });
    } else if (tag === 'com.freerdp.core.update' && msg === 'Bitmap Update Data PDU') {
      out.bitmapUpdates.push({ atMs, rects: 0 });
    } else if (tag === 'com.freerdp.core.update' && (m = /^BitmapUpdate: (\d+)$/.exec(msg))) {
      const last = out.bitmapUpdates.at(-1);
      if (last) last.rects = Number(m[1]);
    } else if (level === 'ERROR' && tag !== 'com.freerdp.utils' && !/Caught signal/.test(msg)) {
      out.errors.push(`${tag}: ${msg.trim()}`);
    }
  }
  out.connected = out.surfaces.length > 0 || out.bitmapUpdates.length > 0;
  return out;
}

/** The codecs the stream carried, by the client's log: remotefx (surface commands of codec id 3 decoded as RemoteFX frames), bitmap (bitmap updates), other codec ids by number. */
export function carriedCodecs(log: ClientLog): { codecs: string[]; decoders: string[] } {
  const codecs: string[] = [];
  const decoders: string[] = [];
  const ids = [...new Set(log.surfaces.map((s) => s.codecId))];
  for (const id of ids) {
    if (id === CODEC_ID_REMOTEFX && log.rfxFrames.length > 0) {
      codecs.push('remotefx');
      decoders.push('freerdp-rfx');
    } else {
      codecs.push(`codec-id-${id}`);
      decoders.push('none');
    }
  }
  if (log.bitmapUpdates.length > 0) {
    codecs.push('bitmap');
    decoders.push('freerdp-bitmap');
  }
  return { codecs, decoders };
}

/** The display of the session xrdp-sesrun created or found ("ok data=1 display=:150 GUID=..."); undefined when it did not say ok. */
export function sesrunDisplay(text: string): number | undefined {
  const m = /^ok data=\d+ display=:(\d+)\b/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The evidence lines to quote for a codec: the first surface command and RemoteFX frame, or the first bitmap update, as the client logged them. */
export function evidenceLine(text: string, codec: string): string | undefined {
  const pattern = codec === 'remotefx' ? /codecID \d+|RFX_FRAME_BEGIN/ : /Bitmap Update Data PDU/;
  return text
    .split('\n')
    .find((l) => pattern.test(l))
    ?.replace(/^.*?\[[\d:]+\] \[\d+:\d+\] /, '');
}
