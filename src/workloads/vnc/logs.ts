/**
 * Readers of the VNC servers' logs, the only codec evidence a VNC point has (TigerVNC's viewer logs
 * no encoding, and no statistics): x11vnc's `-v` output (libvncserver 0.9.14: "Using tight encoding
 * for client", the transmit statistics it prints when a client goes away) and Xtigervnc's
 * `-Log *:stderr:100` output (TigerVNC 1.12: its EncodeManager statistics when a client goes away or
 * the server stops). Figures come only from lines that say them; a log without statistics gives
 * none (docs/workloads.md).
 */

/** One encoding's share of what the server sent. */
export interface EncodingStat {
  /** Lower-case id: tight, tight_jpeg, zrle, hextile, raw, rre, zlib, copyrect, ... */
  id: string;
  /** Rectangles sent in it (x11vnc counts one event per rectangle). */
  rects: number;
  /** Bytes sent in it. */
  bytes: number;
  /** What the same pixels take raw, in bytes. */
  rawBytes: number;
  /** The statistics line to quote, as logged. */
  line: string;
}

/** What a VNC server's log says about one point's connection(s). */
export interface VncServerLog {
  /** Per encoding, summed over the connections whose statistics the log holds, by bytes (largest first). */
  encodings: EncodingStat[];
  /** Framebuffer updates sent; undefined without statistics. */
  updates?: number;
  /** The encodings the server says the client asked for first (x11vnc), distinct, in order; Xtigervnc logs none. */
  clientAsked: string[];
  /** The quality and compression levels the server says it uses for the client (x11vnc). */
  jpegQuality?: number;
  compressLevel?: number;
  /** Whether the log holds the statistics of a connection's end at all. */
  hasStatistics: boolean;
}

/** The family of an encoding id, as the viewer asks it (Tight with JPEG is Tight). */
export function encodingFamily(id: string): string {
  return id === 'tight_jpeg' ? 'tight' : id;
}

/** libvncserver's names of real encodings (rfbStatGetEncodingName), lower-cased; every other row is a message or a pseudo-encoding. */
const X11VNC_ENCODINGS = new Set(['raw', 'copyrect', 'rre', 'corre', 'hextile', 'zlib', 'tight', 'zlibhex', 'zrle', 'zywrle', 'tightpng', 'ultra', 'ultrazip', 'trle']);

function add(into: Map<string, EncodingStat>, s: EncodingStat): void {
  const had = into.get(s.id);
  if (!had) into.set(s.id, { ...s });
  else {
    had.rects += s.rects;
    had.bytes += s.bytes;
    had.rawBytes += s.rawBytes;
  }
}

function sorted(m: Map<string, EncodingStat>): EncodingStat[] {
  return [...m.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Parses x11vnc -v output: what it says the client asked, and its transmit statistics per client gone. */
export function parseX11vncLog(text: string): VncServerLog {
  const encodings = new Map<string, EncodingStat>();
  const clientAsked: string[] = [];
  const out: VncServerLog = { encodings: [], clientAsked, hasStatistics: false };
  // Only the transmit table: the one after it counts what the client sent.
  let table: 'transmit' | 'received' | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = /Using (\w+) encoding for client/.exec(line))) {
      const enc = m[1]!.toLowerCase();
      if (!clientAsked.includes(enc)) clientAsked.push(enc);
    } else if ((m = /Using image quality level (-?\d+) for client/.exec(line))) out.jpegQuality = Number(m[1]);
    else if ((m = /Using compression level (\d+) for client/.exec(line))) out.compressLevel = Number(m[1]);
    else if ((m = /Statistics\s+events\s+(Transmit|Received)\//.exec(line))) {
      table = m[1] === 'Transmit' ? 'transmit' : 'received';
      if (table === 'transmit') out.hasStatistics = true;
    } else if (table === 'transmit' && (m = /^(?:\S+ \S+)?\s+(\w[\w ]*?)\s*:\s*(\d+) \|\s*(\d+)\/\s*(\d+)/.exec(line))) {
      const name = m[1]!.trim().toLowerCase();
      if (name === 'framebufferupdate') out.updates = (out.updates ?? 0) + Number(m[2]);
      else if (X11VNC_ENCODINGS.has(name)) add(encodings, { id: name, rects: Number(m[2]), bytes: Number(m[3]), rawBytes: Number(m[4]), line: line.replace(/^\S+ \S+ /, '').trim() });
      else if (name === 'totals') table = undefined;
    } else if (table !== undefined && !/^\S+ \S+\s+\w/.test(line)) table = undefined;
  }
  out.encodings = sorted(encodings);
  return out;
}

const SI: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9 };
const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
/** TigerVNC's encoder names in its statistics (EncodeManager.cxx encoderClassName), to ids. */
const TIGER_ENCODERS: Record<string, string> = { Raw: 'raw', RRE: 'rre', Hextile: 'hextile', Tight: 'tight', 'Tight (JPEG)': 'tight_jpeg', ZRLE: 'zrle' };

/**
 * Parses Xtigervnc's log (-Log *:stderr:100): EncodeManager's statistics, one block per connection
 * that ended: per encoder, its sub-types' rects and bytes ("Solid: 45 rects, ..." then "720 B
 * (1:1125.99 ratio)"), which are summed per encoder.
 */
export function parseXtigervncLog(text: string): VncServerLog {
  const encodings = new Map<string, EncodingStat>();
  const out: VncServerLog = { encodings: [], clientAsked: [], hasStatistics: false };
  // The verbatim lines of each encoder's block, to quote.
  const quotes = new Map<string, string[]>();
  let encoder: string | undefined;
  let rects = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('EncodeManager:')) {
      if (line !== '') encoder = undefined;
      continue;
    }
    const body = line.slice('EncodeManager:'.length).trim();
    let m: RegExpExecArray | null;
    if ((m = /^Framebuffer updates: (\d+)/.exec(body))) {
      out.updates = (out.updates ?? 0) + Number(m[1]);
      out.hasStatistics = true;
      encoder = undefined;
    } else if ((m = /^(.+?):$/.exec(body))) {
      encoder = TIGER_ENCODERS[m[1]!];
      if (encoder !== undefined) quotes.set(encoder, [...(quotes.get(encoder) ?? []), body]);
    } else if (body.startsWith('Total:')) encoder = undefined;
    else if (encoder !== undefined && (m = /^[\w ]+: ([\d.]+) (k|M|G)?rects,/.exec(body))) {
      // Counts are SI-prefixed past a thousand ("1.151 krects"), as TigerVNC's siPrefix prints them.
      rects = Math.round(Number(m[1]) * (m[2] === undefined ? 1 : SI[m[2]]!));
      quotes.get(encoder)!.push(body);
    } else if (encoder !== undefined && (m = /^([\d.]+) (B|KiB|MiB|GiB|TiB) \(1:([\d.]+|inf|-?nan) ratio\)/.exec(body))) {
      const bytes = Math.round(Number(m[1]) * UNITS[m[2]!]!);
      const ratio = Number(m[3]);
      quotes.get(encoder)!.push(body);
      add(encodings, { id: encoder, rects, bytes, rawBytes: Number.isFinite(ratio) ? Math.round(bytes * ratio) : 0, line: '' });
      rects = 0;
    }
  }
  out.encodings = sorted(encodings).map((e) => ({ ...e, line: quotes.get(e.id)!.join(' / ') }));
  return out;
}

/** Per family (tight_jpeg joins tight): bytes, largest first; the main encoding is the first. */
export function familyBytes(log: VncServerLog): { family: string; bytes: number }[] {
  const by = new Map<string, number>();
  for (const e of log.encodings) by.set(encodingFamily(e.id), (by.get(encodingFamily(e.id)) ?? 0) + e.bytes);
  return [...by].map(([family, bytes]) => ({ family, bytes })).sort((a, b) => b.bytes - a.bytes);
}
