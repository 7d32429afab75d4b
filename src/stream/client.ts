/**
 * The client: receives frames, decodes each as soon as its data is complete (frames are never
 * held back to wait for others), shows it on a display sink paced like a screen refresh, and
 * measures quality against the regenerated source frame after the stream ends, so that the
 * measurement itself delays nothing.
 */
import { errorMessage } from '../base/errors.ts';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { closeSync, openSync, writeSync } from 'node:fs';
import { monoMs } from '../base/clock.ts';
import { environmentError, writeJsonAtomic } from '../base/fs-atomic.ts';
import { VideoDecoder } from './codecs.ts';
import { allocFrame, type YuvFrame } from './frame.ts';
import { PSNR_CAP, psnrY, ssimY } from './quality.ts';
import { FrameScaler } from './scale.ts';
import { CLIENT_SCALE } from './scalers.ts';
import { RoleTimeline } from './timeline.ts';
import { agentEvents, cpuAffinity, nanToNull, processCpuS, type ClientFrame, type RoleReport } from './report.ts';
import type { StreamSettings } from '../config/stream-settings.ts';
import { openSource } from './source.ts';
import type { EventPoster } from '../record/event-poster.ts';
import { MSG_CONTROL, MSG_END, MSG_FRAME, MSG_HELLO, MSG_PADDING, parseDatagram, TcpDeframer, tcpFeedbackMessage, tcpJsonMessage, udpFeedbackDatagram, udpJsonDatagram, type FeedbackReport, type FrameHeader } from './wire.ts';
import { FeedbackCollector } from './feedback.ts';

export interface ClientOptions {
  settings: StreamSettings;
  /** The host relay (or a guest directly). */
  connect: { host: string; port: number };
  report: string;
  /** Writes every decoded frame (I420) to DIR/decoded.yuv and their numbers to DIR/decoded.txt, for checks. */
  dump?: string;
  /** Writes the bytes handed to the decoder to this file, and where each frame lies in it to FILE.frames.tsv (see BitstreamDump). */
  dumpBitstream?: string;
  /** The agent of this machine, to hand per-frame events to. */
  agent?: EventPoster;
  onReady(): void;
}

/** Decoded luma planes kept for quality are capped: beyond this, quality is measured on fewer frames. */
const KEEP_BYTES = 1.5 * 1024 ** 3;

/** Runs the client until the stream ends; resolves when the report is written. */
export async function runClient(o: ClientOptions): Promise<void> {
  const s = o.settings;
  const decoder = new VideoDecoder(s.codec);
  const out = allocFrame(s.width, s.height);
  const frames: ClientFrame[] = [];
  const kept = new Map<number, Uint8Array>();
  let keptBytes = 0;
  const counters: Record<string, number> = { lost: 0, waiting_keyframe: 0, decode_errors: 0, late_fragments: 0, not_shown: 0, keyframe_requests: 0, quality_skipped_memory: 0, bytes_received: 0, feedback_reports: 0, padding_bytes: 0 };
  const notes: string[] = [];
  const period = 1000 / s.displayHz;
  const dump = o.dump ? { yuv: openSync(`${o.dump}/decoded.yuv`, 'w'), txt: openSync(`${o.dump}/decoded.txt`, 'w') } : undefined;
  const bitstream = o.dumpBitstream !== undefined ? new BitstreamDump(o.dumpBitstream, s) : undefined;

  let sendControl: (v: unknown) => void = () => {};
  let sendFeedback: (r: FeedbackReport) => void = () => {};
  const feedback = new FeedbackCollector();
  // Reports only where a policy reads them: with `fixed`, the upstream carries what it always did.
  const feedbackTimer =
    s.policy === 'fixed'
      ? undefined
      : setInterval(() => {
          counters['feedback_reports']!++;
          sendFeedback(feedback.take(monoMs()));
        }, s.feedbackMs);
  const cpu0 = process.cpuUsage();
  const startMs = monoMs();
  const timeline = new RoleTimeline(() => counters, monoMs);
  timeline.start();
  let needKey = false;
  let lastSeq = -1;
  let lastShown: ClientFrame | undefined;
  let chain: Promise<void> = Promise.resolve();
  // Decoded pictures smaller than the configured size (a live resolution change), and their scaler.
  let small: YuvFrame | undefined;
  let upscale: FrameScaler | undefined;

  /** Hands a complete frame to the decoder, in arrival order; decoding is serialised. */
  const complete = (h: FrameHeader, payload: Buffer, recvFirst: number, recvEnd: number) => {
    const f: ClientFrame = { frame: h.frame, recvFirst, recvEnd, decStart: NaN, decEnd: NaN, display: NaN, key: h.key, bytes: payload.length, psnr: NaN, ssim: NaN };
    frames.push(f);
    if (h.seq > lastSeq + 1) {
      // Whole frames vanished on the way (every fragment lost): their numbers are unknown here;
      // the workload finds them by joining with the guest's record.
      counters['lost']! += h.seq - lastSeq - 1;
      requestKey();
    }
    lastSeq = Math.max(lastSeq, h.seq);
    if (needKey && !h.key) {
      f.dropped = 'no-keyframe';
      counters['waiting_keyframe']!++;
      return;
    }
    if (h.key) needKey = false;
    chain = chain.then(async () => {
      f.decStart = monoMs();
      const ok = await decoder.decode(payload, out, (w, h) => (small?.width === w && small.height === h ? small : (small = allocFrame(w, h))));
      // A picture of a live-changed size is scaled back to the configured size: the display and
      // the quality measurement see one size throughout. The scaling counts in the decode stage.
      const got = decoder.written;
      if (ok && got && got !== out) {
        if (!upscale?.fits(got, out)) {
          upscale?.close();
          upscale = new FrameScaler(got, out, CLIENT_SCALE);
        }
        upscale.scale(got, out);
      }
      f.decEnd = monoMs();
      if (ok && got) {
        f.width = got.width;
        f.height = got.height;
      }
      // Written after the decode, so the write delays no stage of this frame.
      bitstream?.add(h, payload);
      if (!ok) {
        f.dropped = 'decode-error';
        counters['decode_errors']!++;
        return;
      }
      // The sink shows a frame at the first refresh after it is decoded; a newer frame decoded
      // before that refresh replaces it, as on a real screen.
      // max: when decEnd falls on a refresh, rounding could put the refresh a hair before it.
      f.display = Math.max(f.decEnd, startMs + Math.ceil((f.decEnd - startMs) / period) * period);
      if (lastShown && lastShown.display === f.display) {
        lastShown.display = NaN;
        counters['not_shown']!++;
      }
      lastShown = f;
      o.agent?.add([
        { t: f.recvEnd, frame: h.frame, stage: 'recv_end', role: 'client' },
        { t: f.decEnd, frame: h.frame, stage: 'dec_end', role: 'client' },
      ]);
      if (s.qualityEvery > 0 && h.frame % s.qualityEvery === 0) {
        if (keptBytes + out.y.length <= KEEP_BYTES) {
          kept.set(h.frame, out.y.slice());
          keptBytes += out.y.length;
        } else counters['quality_skipped_memory']!++;
      }
      if (dump) {
        writeSync(dump.yuv, out.y);
        writeSync(dump.yuv, out.u);
        writeSync(dump.yuv, out.v);
        writeSync(dump.txt, `${h.frame}\n`);
      }
    });
  };

  const lose = (frame: number, seq: number) => {
    frames.push({ frame, recvFirst: NaN, recvEnd: NaN, decStart: NaN, decEnd: NaN, display: NaN, key: false, bytes: 0, psnr: NaN, ssim: NaN, dropped: 'lost' });
    counters['lost']!++;
    lastSeq = Math.max(lastSeq, seq);
    requestKey();
  };

  // Asked again on every loss while still waiting (at most every 100 ms): the keyframe sent in
  // answer can itself be lost, and waiting silently would freeze the stream for good.
  let lastKeyRequest = -Infinity;
  const requestKey = () => {
    needKey = true;
    const t = monoMs();
    if (t - lastKeyRequest < 100) return;
    lastKeyRequest = t;
    counters['keyframe_requests']!++;
    sendControl({ keyframe: true, from: 'client' });
  };

  try {
    await (s.transport === 'tcp' ? receiveTcp() : receiveUdp());
  } finally {
    clearInterval(feedbackTimer);
  }
  await chain;
  const endMs = monoMs();
  const cpu = process.cpuUsage(cpu0);
  // Before the quality measurement: its CPU is the harness's, not the client's streaming.
  const tl = timeline.stop();
  decoder.close();
  upscale?.close();
  if (dump) {
    closeSync(dump.yuv);
    closeSync(dump.txt);
  }
  bitstream?.close();

  // Quality, after the stream: regenerate each kept frame's source and compare luma.
  const q0 = process.cpuUsage();
  if (kept.size > 0) {
    const source = openSource(s);
    const ref: YuvFrame = allocFrame(s.width, s.height);
    const byNumber = new Map(frames.map((f) => [f.frame, f]));
    for (const [n, y] of kept) {
      source.render(n, ref);
      const f = byNumber.get(n)!;
      f.psnr = Math.min(psnrY(y, ref.y, s.width, s.height), PSNR_CAP);
      f.ssim = ssimY(y, ref.y, s.width, s.height);
    }
  }
  const qcpu = process.cpuUsage(q0);
  counters['quality_cpu_s'] = (qcpu.user + qcpu.system) / 1e6;
  if (counters['quality_skipped_memory']! > 0) notes.push(`quality measured on ${kept.size} frames only: the decoded frames kept would exceed ${KEEP_BYTES / 1024 ** 3} GiB`);
  // Events still pending go to the agent before the report, so its CPU figure includes sending them.
  await o.agent?.close();
  const report: RoleReport = { role: 'client', pid: process.pid, affinity: cpuAffinity(), startMs, endMs, cpuUserS: cpu.user / 1e6, cpuSystemS: cpu.system / 1e6, cpuTotalS: processCpuS(), counters, frames, notes, timeline: tl, ...agentEvents(o.agent) };
  writeJsonAtomic(o.report, JSON.parse(JSON.stringify(report, nanToNull)));

  function receiveTcp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: o.connect.host, port: o.connect.port, noDelay: true });
      const deframer = new TcpDeframer();
      let first = NaN;
      let ended = false;
      sendControl = (v) => sock.write(tcpJsonMessage(MSG_CONTROL, v));
      sendFeedback = (r) => {
        if (!ended && sock.writable) sock.write(tcpFeedbackMessage(r));
      };
      sock.once('connect', () => {
        sock.write(tcpJsonMessage(MSG_HELLO, { role: 'client' }));
        o.onReady();
      });
      sock.on('data', (chunk: Buffer) => {
        const t = monoMs();
        if (Number.isNaN(first)) first = t;
        for (const m of deframer.push(chunk)) {
          if (m.type === MSG_FRAME) {
            // Over TCP a frame is the packet, numbered among the transport's packets; TCP loses none.
            feedback.arrived(m.pkt, m.header.sendMs, t, m.raw.length);
            counters['bytes_received']! += m.payload.length;
            complete(m.header, m.payload, first, t);
          } else if (m.type === MSG_PADDING) {
            // A policy's probe: only its arrival matters, to the feedback.
            feedback.arrived(m.padding.pkt, m.padding.sendMs, t, m.raw.length);
            counters['padding_bytes']! += m.raw.length;
          } else if (m.type === MSG_END) ended = true;
          first = t;
        }
        if (deframer.pending === 0) first = NaN;
      });
      sock.once('error', (e) => (ended ? resolve() : reject(new Error(`connection to ${o.connect.host}:${o.connect.port}: ${errorMessage(e)}`))));
      sock.once('close', () => (ended ? resolve() : reject(new Error('the stream closed before its end marker'))));
    });
  }

  function receiveUdp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = createSocket('udp4');
      sock.once('error', reject);
      const partial = new Map<number, { header: FrameHeader; parts: (Buffer | undefined)[]; got: number; first: number }>();
      let highest = -1; // highest frame number completed or declared lost
      sendControl = (v) => sock.send(udpJsonDatagram(MSG_CONTROL, v), o.connect.port, o.connect.host);
      let closed = false;
      sendFeedback = (r) => {
        if (!closed) sock.send(udpFeedbackDatagram(r), o.connect.port, o.connect.host);
      };
      sock.bind(0, () => {
        sock.setRecvBufferSize(4 * 1024 * 1024);
        // The hello opens the path through the relay; repeated until data flows, in case it is lost.
        const hello = setInterval(() => sock.send(udpJsonDatagram(MSG_HELLO, { role: 'client' }), o.connect.port, o.connect.host), 200);
        sock.send(udpJsonDatagram(MSG_HELLO, { role: 'client' }), o.connect.port, o.connect.host);
        o.onReady();
        sock.on('message', (d) => {
          clearInterval(hello);
          const t = monoMs();
          let p;
          try {
            p = parseDatagram(d);
          } catch (e) {
            notes.push(`bad datagram: ${errorMessage(e)}`);
            return;
          }
          if (p.type === MSG_END) {
            for (const [n, e] of [...partial.entries()].sort((a, b) => a[0] - b[0])) lose(n, e.header.seq);
            partial.clear();
            closed = true;
            sock.close();
            resolve();
            return;
          }
          if (p.type === MSG_PADDING) {
            feedback.arrived(p.padding.pkt, p.padding.sendMs, t, d.length);
            counters['padding_bytes']! += d.length;
            return;
          }
          if (p.type !== MSG_FRAME) return;
          const { header, index, count, payload, pkt } = p.fragment;
          feedback.arrived(pkt, header.sendMs, t, d.length);
          counters['bytes_received']! += payload.length;
          if (header.frame <= highest && !partial.has(header.frame)) {
            counters['late_fragments']!++;
            return;
          }
          let e = partial.get(header.frame);
          if (!e) {
            e = { header, parts: new Array<Buffer | undefined>(count), got: 0, first: t };
            partial.set(header.frame, e);
          }
          if (e.parts[index]) return; // duplicate
          e.parts[index] = Buffer.from(payload);
          e.got++;
          if (e.got < count) return;
          partial.delete(header.frame);
          // Every older frame still incomplete is lost: this one is not held back for them.
          for (const [n, old] of [...partial.entries()].sort((a, b) => a[0] - b[0])) {
            if (n < header.frame) {
              partial.delete(n);
              lose(n, old.header.seq);
            }
          }
          highest = Math.max(highest, header.frame);
          complete(header, Buffer.concat(e.parts as Buffer[]), e.first, t);
        });
      });
    });
  }
}

/** FourCC of the codecs that have no byte-stream format of their own and are written in IVF. */
const IVF_FOURCC: Partial<Record<StreamSettings['codec'], string>> = { vp8: 'VP80', vp9: 'VP90', av1: 'AV01' };

/**
 * The received elementary stream, as the client's decoder was fed it, for decoding by another
 * decoder (FFmpeg's CLI): every frame handed to the decoder, in that order, with its bytes
 * unchanged. H.264 and H.265 as the encoder wrote them (Annex B: `ffmpeg -f h264|hevc -i`),
 * MJPEG as concatenated JPEG pictures (`-f mjpeg`), VP8, VP9 and AV1 in an IVF container (pts =
 * frame number, time base 1/fps). FILE.frames.tsv gives, per frame in the same order, its number,
 * the byte offset and size of its payload in FILE, and whether it is a keyframe.
 */
class BitstreamDump {
  private readonly fd: number;
  private readonly index: number;
  private readonly ivf: boolean;
  private offset = 0;
  private count = 0;

  constructor(
    private readonly path: string,
    s: StreamSettings,
  ) {
    const fourcc = IVF_FOURCC[s.codec];
    this.ivf = fourcc !== undefined;
    try {
      this.fd = openSync(path, 'w');
      this.index = openSync(`${path}.frames.tsv`, 'w');
    } catch (e) {
      throw environmentError(e, 'cannot write', path) ?? e;
    }
    this.write(this.index, Buffer.from('frame\toffset\tbytes\tkey\n'));
    if (fourcc !== undefined) {
      const h = Buffer.alloc(32);
      h.write('DKIF', 0, 'latin1');
      h.writeUInt16LE(0, 4); // version
      h.writeUInt16LE(32, 6); // header size
      h.write(fourcc, 8, 'latin1');
      h.writeUInt16LE(s.width, 12);
      h.writeUInt16LE(s.height, 14);
      // Time base 1/fps as a fraction of integers: fps may be fractional (29.97).
      h.writeUInt32LE(Math.round(s.fps * 1000), 16);
      h.writeUInt32LE(1000, 20);
      this.write(this.fd, h);
    }
  }

  /** Appends one frame's payload and its index line. */
  add(h: FrameHeader, payload: Buffer): void {
    if (this.ivf) {
      const fh = Buffer.alloc(12);
      fh.writeUInt32LE(payload.length, 0);
      fh.writeBigUInt64LE(BigInt(h.frame), 4);
      this.write(this.fd, fh);
    }
    this.write(this.index, Buffer.from(`${h.frame}\t${this.offset}\t${payload.length}\t${h.key ? 1 : 0}\n`));
    this.write(this.fd, payload);
    this.count++;
  }

  close(): void {
    // IVF's header carries the frame count, known only now.
    if (this.ivf) {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(this.count, 0);
      writeSync(this.fd, n, 0, 4, 24);
    }
    closeSync(this.fd);
    closeSync(this.index);
  }

  private write(fd: number, b: Buffer): void {
    try {
      writeSync(fd, b);
    } catch (e) {
      throw environmentError(e, 'cannot write', fd === this.fd ? this.path : `${this.path}.frames.tsv`) ?? e;
    }
    if (fd === this.fd) this.offset += b.length;
  }
}
