/**
 * What travels between guest, host and client: encoded frames with a small header, and JSON
 * control messages. Declared once here; every receiver checks what it parses.
 *
 * TCP: a stream of messages, each `u32 length | u8 type | body` (length counts type + body).
 * UDP: one datagram per fragment, `u8 type | body`; a frame is cut into fragments of at most
 * the MTU so that none is fragmented by IP, each carrying the frame number and its index/count.
 */

import { FRAME_MAX, LIVE_RESOLUTION_MIN } from '../config/stream-settings.ts';

export const MSG_FRAME = 1;
export const MSG_CONTROL = 2;
export const MSG_END = 3;
export const MSG_HELLO = 4;
/** Receiver feedback, client to guest (binary, see encodeFeedback). */
export const MSG_FEEDBACK = 5;
/** Padding a rate policy's probe sends, guest to client: numbered and stamped like media, otherwise empty. */
export const MSG_PADDING = 6;

/** The per-frame header both transports carry. */
export interface FrameHeader {
  frame: number;
  /** Count of frames sent before this one: a gap means frames were lost, not skipped at capture. */
  seq: number;
  key: boolean;
  /** Guest's monotonic ms at capture start and at send: the receiver's stage times start here. */
  captureMs: number;
  sendMs: number;
}

/**
 * Bytes of the frame header inside a FRAME message (after the type byte): frame, seq, flags, two
 * times, and the transport-wide packet number that frames and padding share (feedback names it).
 */
export const TCP_FRAME_HEADER = 4 + 4 + 1 + 8 + 8 + 4;
/** Bytes before the filler of a padding message or datagram (after the type byte): packet number and send time. */
export const PADDING_HEADER = 4 + 8;
/**
 * Bytes before the payload in a UDP fragment: type, frame, seq, index, count, flags, two times,
 * and the packet's transport-wide number (so the receiver's feedback can name each packet and its losses).
 */
export const UDP_FRAGMENT_HEADER = 1 + 4 + 4 + 2 + 2 + 1 + 8 + 8 + 4;

/** One TCP message holding a whole encoded frame, numbered `pkt` among the transport's packets. */
export function tcpFrameMessage(h: FrameHeader, payload: Uint8Array, pkt: number): Buffer {
  const buf = Buffer.allocUnsafe(4 + 1 + TCP_FRAME_HEADER + payload.length);
  buf.writeUInt32BE(1 + TCP_FRAME_HEADER + payload.length, 0);
  buf.writeUInt8(MSG_FRAME, 4);
  buf.writeUInt32BE(h.frame, 5);
  buf.writeUInt32BE(h.seq, 9);
  buf.writeUInt8(h.key ? 1 : 0, 13);
  buf.writeDoubleBE(h.captureMs, 14);
  buf.writeDoubleBE(h.sendMs, 22);
  buf.writeUInt32BE(pkt >>> 0, 30);
  buf.set(payload, 5 + TCP_FRAME_HEADER);
  return buf;
}

/** A TCP padding message of `bytes` in all (at least its header), numbered `pkt`. */
export function tcpPaddingMessage(pkt: number, bytes: number): Buffer {
  const n = Math.max(5 + PADDING_HEADER, Math.round(bytes));
  const buf = Buffer.alloc(n);
  buf.writeUInt32BE(n - 4, 0);
  buf.writeUInt8(MSG_PADDING, 4);
  buf.writeUInt32BE(pkt >>> 0, 5);
  return buf;
}

/** A UDP padding datagram of `bytes` in all (at least its header), numbered `pkt`. */
export function udpPaddingDatagram(pkt: number, bytes: number): Buffer {
  const buf = Buffer.alloc(Math.max(1 + PADDING_HEADER, Math.round(bytes)));
  buf.writeUInt8(MSG_PADDING, 0);
  buf.writeUInt32BE(pkt >>> 0, 1);
  return buf;
}

/** Stamps the send time of a padding message (`tcp`) or datagram just before it goes out. */
export function stampPaddingSendTime(b: Buffer, tcp: boolean, sendMs: number): void {
  b.writeDoubleBE(sendMs, tcp ? 9 : 5);
}

/** Rewrites the send time of an already built message: it is known only at the write. */
export function stampTcpSendTime(msg: Buffer, sendMs: number): void {
  msg.writeDoubleBE(sendMs, 22);
}

/** A TCP message carrying JSON (control, end, hello). */
export function tcpJsonMessage(type: number, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value));
  const buf = Buffer.allocUnsafe(5 + body.length);
  buf.writeUInt32BE(1 + body.length, 0);
  buf.writeUInt8(type, 4);
  body.copy(buf, 5);
  return buf;
}

/** A padding packet as received: its number and send stamp; the rest is filler. */
export interface Padding {
  pkt: number;
  sendMs: number;
}

export type Message =
  | { type: typeof MSG_FRAME; header: FrameHeader; /** Transport-wide packet number. */ pkt: number; payload: Buffer; /** The whole message as received, to forward unchanged. */ raw: Buffer }
  | { type: typeof MSG_PADDING; padding: Padding; raw: Buffer }
  | { type: typeof MSG_CONTROL | typeof MSG_END | typeof MSG_HELLO; value: unknown; raw: Buffer }
  | { type: typeof MSG_FEEDBACK; /** The report's bytes, checked by parseFeedback where it is read. */ body: Buffer; raw: Buffer };

/** Largest message accepted: a bound so a corrupt length cannot make us buffer without end. */
const MAX_MESSAGE = 64 * 1024 * 1024;

/** Cuts a TCP byte stream into messages; `push` returns those completed by the chunk. */
export class TcpDeframer {
  private chunks: Buffer[] = [];
  private have = 0;

  /** Bytes received that do not yet make a whole message. */
  get pending(): number {
    return this.have;
  }

  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.have += chunk.length;
    const out: Message[] = [];
    for (;;) {
      if (this.have < 4) break;
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len < 1 || len > MAX_MESSAGE) throw new Error(`corrupt stream: message length ${len}`);
      if (this.have < 4 + len) break;
      const raw = this.take(4 + len);
      out.push(parseTcpMessage(raw));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const raw = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.have -= n;
    return raw;
  }
}

function parseTcpMessage(raw: Buffer): Message {
  const type = raw.readUInt8(4);
  if (type === MSG_FRAME) {
    if (raw.length < 5 + TCP_FRAME_HEADER) throw new Error('corrupt stream: short frame message');
    return {
      type,
      header: { frame: raw.readUInt32BE(5), seq: raw.readUInt32BE(9), key: (raw.readUInt8(13) & 1) === 1, captureMs: raw.readDoubleBE(14), sendMs: raw.readDoubleBE(22) },
      pkt: raw.readUInt32BE(30),
      payload: raw.subarray(5 + TCP_FRAME_HEADER),
      raw,
    };
  }
  if (type === MSG_PADDING) {
    if (raw.length < 5 + PADDING_HEADER) throw new Error('corrupt stream: short padding message');
    return { type, padding: { pkt: raw.readUInt32BE(5), sendMs: raw.readDoubleBE(9) }, raw };
  }
  if (type === MSG_CONTROL || type === MSG_END || type === MSG_HELLO) return { type, value: JSON.parse(raw.subarray(5).toString('utf8')), raw };
  if (type === MSG_FEEDBACK) return { type, body: raw.subarray(5), raw };
  throw new Error(`corrupt stream: unknown message type ${type}`);
}

/** A UDP fragment as parsed; `payload` is a view into the datagram. */
export interface Fragment {
  header: FrameHeader;
  /** Transport-wide packet number: consecutive over every fragment the guest sent. */
  pkt: number;
  index: number;
  count: number;
  payload: Buffer;
}

/** Cuts a frame into datagrams of at most `mtu` bytes each, numbering the packets from `firstPkt`. */
export function udpFragments(h: FrameHeader, payload: Uint8Array, mtu: number, firstPkt = 0): Buffer[] {
  const room = mtu - UDP_FRAGMENT_HEADER;
  const count = Math.max(1, Math.ceil(payload.length / room));
  if (count > 0xffff) throw new Error(`frame ${h.frame} of ${payload.length} bytes needs more than 65535 fragments at mtu ${mtu}`);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const part = payload.subarray(i * room, Math.min(payload.length, (i + 1) * room));
    const d = Buffer.allocUnsafe(UDP_FRAGMENT_HEADER + part.length);
    d.writeUInt8(MSG_FRAME, 0);
    d.writeUInt32BE(h.frame, 1);
    d.writeUInt32BE(h.seq, 5);
    d.writeUInt16BE(i, 9);
    d.writeUInt16BE(count, 11);
    d.writeUInt8(h.key ? 1 : 0, 13);
    d.writeDoubleBE(h.captureMs, 14);
    d.writeDoubleBE(h.sendMs, 22);
    d.writeUInt32BE((firstPkt + i) >>> 0, 30);
    d.set(part, UDP_FRAGMENT_HEADER);
    out.push(d);
  }
  return out;
}

/** Rewrites the send time of a fragment just before it goes out. */
export function stampUdpSendTime(d: Buffer, sendMs: number): void {
  d.writeDoubleBE(sendMs, 22);
}

/** A UDP datagram carrying JSON (control, end, hello). */
export function udpJsonDatagram(type: number, value: unknown): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(JSON.stringify(value))]);
}

export type Datagram = { type: typeof MSG_FRAME; fragment: Fragment } | { type: typeof MSG_PADDING; padding: Padding } | { type: typeof MSG_CONTROL | typeof MSG_END | typeof MSG_HELLO; value: unknown } | { type: typeof MSG_FEEDBACK; body: Buffer };

/** Parses one datagram; throws on anything malformed (the receiver counts and drops it). */
export function parseDatagram(d: Buffer): Datagram {
  if (d.length < 1) throw new Error('empty datagram');
  const type = d.readUInt8(0);
  if (type === MSG_FRAME) {
    if (d.length < UDP_FRAGMENT_HEADER) throw new Error('short fragment');
    const index = d.readUInt16BE(9);
    const count = d.readUInt16BE(11);
    if (count === 0 || index >= count) throw new Error(`fragment ${index} of ${count}`);
    return {
      type,
      fragment: {
        header: { frame: d.readUInt32BE(1), seq: d.readUInt32BE(5), key: (d.readUInt8(13) & 1) === 1, captureMs: d.readDoubleBE(14), sendMs: d.readDoubleBE(22) },
        pkt: d.readUInt32BE(30),
        index,
        count,
        payload: d.subarray(UDP_FRAGMENT_HEADER),
      },
    };
  }
  if (type === MSG_PADDING) {
    if (d.length < 1 + PADDING_HEADER) throw new Error('short padding datagram');
    return { type, padding: { pkt: d.readUInt32BE(1), sendMs: d.readDoubleBE(5) } };
  }
  if (type === MSG_CONTROL || type === MSG_END || type === MSG_HELLO) return { type, value: JSON.parse(d.subarray(1).toString('utf8')) };
  if (type === MSG_FEEDBACK) return { type, body: d.subarray(1) };
  throw new Error(`unknown datagram type ${type}`);
}

/** Control messages: a change asked of the guest, or a keyframe request after loss. */
export interface ControlMessage {
  bitrate?: number;
  fps?: number;
  /** Size to encode at, 'WxH' (even, at most the configured resolution): the source is scaled down to it. */
  resolution?: string;
  keyframe?: boolean;
  /** Who asked, for the record: 'client', 'schedule', 'stdin'. */
  from?: string;
}

/** Checks a control message's shape where it enters a role. */
export function parseControl(v: unknown): ControlMessage {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('control message must be a JSON object');
  const o = v as Record<string, unknown>;
  const out: ControlMessage = {};
  if (o['bitrate'] !== undefined) {
    if (typeof o['bitrate'] !== 'number' || !(o['bitrate'] > 0)) throw new Error('control bitrate must be a positive number of bits/s');
    out.bitrate = o['bitrate'];
  }
  if (o['fps'] !== undefined) {
    if (typeof o['fps'] !== 'number' || !(o['fps'] > 0 && o['fps'] <= 240)) throw new Error('control fps must be in (0, 240]');
    out.fps = o['fps'];
  }
  if (o['resolution'] !== undefined) {
    const r = parseLiveResolution(o['resolution']);
    out.resolution = `${r.width}x${r.height}`;
  }
  if (o['keyframe'] !== undefined) out.keyframe = o['keyframe'] === true;
  if (typeof o['from'] === 'string') out.from = o['from'];
  return out;
}

/** A live resolution 'WxH' (or {width, height}) as numbers; throws saying what is wrong (odd, too small, too large, not WxH). */
export function parseLiveResolution(v: unknown): { width: number; height: number } {
  const m = typeof v === 'string' ? /^\s*(\d+)\s*[xX]\s*(\d+)\s*$/.exec(v) : null;
  if (!m) throw new Error(`control resolution ${JSON.stringify(v)} must be 'WxH', e.g. '640x360'`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error(`control resolution ${width}x${height} must have an even width and height (4:2:0 chroma)`);
  const lo = LIVE_RESOLUTION_MIN;
  if (width < lo.width || height < lo.height || width > FRAME_MAX.width || height > FRAME_MAX.height) throw new Error(`control resolution ${width}x${height} must be from ${lo.width}x${lo.height} to ${FRAME_MAX.width}x${FRAME_MAX.height}`);
  return { width, height };
}

/**
 * One packet as the client saw it (UDP: a fragment; TCP: a whole frame; both: a padding packet). `sendMs` is the guest's
 * clock and `arrivalMs` the client's: only differences of either may be used (the clocks differ).
 */
export interface PacketArrival {
  /** Transport-wide packet number: frames' fragments (UDP), frames (TCP) and padding share one count. */
  pkt: number;
  sendMs: number;
  arrivalMs: number;
  /** Bytes on the wire, header included. */
  bytes: number;
}

/** What the client reports every feedback_ms: the packets that arrived since the last report, and those found lost. */
export interface FeedbackReport {
  /** Counts reports, so a lost or reordered one is seen. */
  report: number;
  /** Client's clock when the report was sent (only for differences between reports). */
  atMs: number;
  /** Packets found missing since the last report (gaps in the packet numbers). */
  lost: number;
  packets: PacketArrival[];
}

/** Report header: report u32, atMs f64, lost u32, count u16. */
const FEEDBACK_HEAD = 4 + 8 + 4 + 2;
/** Per packet: pkt u32, sendMs f64, arrivalMs f64, bytes u32. */
const FEEDBACK_ENTRY = 4 + 8 + 8 + 4;
/** Packets one report may carry: a bound on what a report can make the guest allocate. */
export const FEEDBACK_MAX_PACKETS = 0xffff;

/** The report's body (binary: a report every 50 ms at hundreds of packets must cost little to build and read). */
export function encodeFeedback(r: FeedbackReport): Buffer {
  if (r.packets.length > FEEDBACK_MAX_PACKETS) throw new Error(`a feedback report holds at most ${FEEDBACK_MAX_PACKETS} packets, got ${r.packets.length}`);
  const b = Buffer.allocUnsafe(FEEDBACK_HEAD + r.packets.length * FEEDBACK_ENTRY);
  b.writeUInt32BE(r.report >>> 0, 0);
  b.writeDoubleBE(r.atMs, 4);
  b.writeUInt32BE(Math.min(r.lost, 0xffffffff) >>> 0, 12);
  b.writeUInt16BE(r.packets.length, 16);
  let o = FEEDBACK_HEAD;
  for (const p of r.packets) {
    b.writeUInt32BE(p.pkt >>> 0, o);
    b.writeDoubleBE(p.sendMs, o + 4);
    b.writeDoubleBE(p.arrivalMs, o + 12);
    b.writeUInt32BE(p.bytes >>> 0, o + 20);
    o += FEEDBACK_ENTRY;
  }
  return b;
}

/** A feedback report as a TCP message. */
export function tcpFeedbackMessage(r: FeedbackReport): Buffer {
  const body = encodeFeedback(r);
  const buf = Buffer.allocUnsafe(5 + body.length);
  buf.writeUInt32BE(1 + body.length, 0);
  buf.writeUInt8(MSG_FEEDBACK, 4);
  body.copy(buf, 5);
  return buf;
}

/** A feedback report as a UDP datagram. */
export function udpFeedbackDatagram(r: FeedbackReport): Buffer {
  return Buffer.concat([Buffer.from([MSG_FEEDBACK]), encodeFeedback(r)]);
}

/** Checks and reads a report's body where it enters the guest; throws saying what is wrong. */
export function parseFeedback(b: Buffer): FeedbackReport {
  if (b.length < FEEDBACK_HEAD) throw new Error(`feedback report of ${b.length} bytes is shorter than its ${FEEDBACK_HEAD}-byte header`);
  const count = b.readUInt16BE(16);
  if (b.length !== FEEDBACK_HEAD + count * FEEDBACK_ENTRY) throw new Error(`feedback report says ${count} packets but has ${b.length} bytes (expected ${FEEDBACK_HEAD + count * FEEDBACK_ENTRY})`);
  const atMs = b.readDoubleBE(4);
  if (!Number.isFinite(atMs)) throw new Error('feedback report time is not a finite number');
  const packets: PacketArrival[] = new Array<PacketArrival>(count);
  let o = FEEDBACK_HEAD;
  for (let i = 0; i < count; i++) {
    const sendMs = b.readDoubleBE(o + 4);
    const arrivalMs = b.readDoubleBE(o + 12);
    if (!Number.isFinite(sendMs) || !Number.isFinite(arrivalMs)) throw new Error(`feedback report packet ${i}: its times must be finite numbers`);
    packets[i] = { pkt: b.readUInt32BE(o), sendMs, arrivalMs, bytes: b.readUInt32BE(o + 20) };
    o += FEEDBACK_ENTRY;
  }
  return { report: b.readUInt32BE(0), atMs, lost: b.readUInt32BE(12), packets };
}
