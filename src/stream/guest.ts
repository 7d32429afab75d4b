/**
 * The guest: captures (renders) frames on a fixed clock, encodes each at once, and sends it to
 * whoever connected (the host relay). Frame numbers count capture ticks, so a tick skipped
 * because the encoder or the socket was still busy shows as a gap, never as hidden delay.
 */
import { errorMessage } from '../base/errors.ts';
import { createServer, type Socket } from 'node:net';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createInterface } from 'node:readline';
import { monoMs } from '../base/clock.ts';
import { writeJsonAtomic } from '../base/fs-atomic.ts';
import { VideoEncoder, type LiveChange } from './codecs.ts';
import { allocFrame, type YuvFrame } from './frame.ts';
import { FrameScaler } from './scale.ts';
import { GUEST_SCALE, scalerName } from './scalers.ts';
import { agentEvents, cpuAffinity, nanToNull, processCpuS, type ControlRecord, type GuestFrame, type RoleReport } from './report.ts';
import { RoleTimeline } from './timeline.ts';
import type { StreamSettings } from '../config/stream-settings.ts';
import { openSource } from './source.ts';
import type { EventPoster } from '../record/event-poster.ts';
import { MSG_CONTROL, MSG_END, MSG_HELLO, parseControl, parseDatagram, parseLiveResolution, stampTcpSendTime, stampUdpSendTime, TcpDeframer, tcpFrameMessage, tcpJsonMessage, udpFragments, udpJsonDatagram, type ControlMessage, type FrameHeader } from './wire.ts';

export interface GuestOptions {
  settings: StreamSettings;
  host: string;
  port: number;
  report: string;
  /** Changes applied at times after the stream starts, e.g. [{atS: 3, bitrate: 1e6}]. */
  schedule?: (ControlMessage & { atS: number })[];
  /** The agent of this machine, to hand per-frame events to. */
  agent?: EventPoster;
  /** Called once listening, with the bound port (the role prints it for whoever started it). */
  onReady(port: number): void;
}

/** How a frame leaves the guest, whatever the transport. */
interface Sender {
  /**
   * Sends the frame; resolves with its send_end: the time taken just before the call that hands
   * its last byte to the kernel. Not the write callback's time: that runs a loop turn later,
   * when the relay may already have the bytes.
   */
  send(h: Omit<FrameHeader, 'sendMs'>, payload: Buffer): Promise<number>;
  /** True when the socket still holds so much unsent data that a new frame would only queue. */
  congested(): boolean;
  end(summary: unknown): Promise<void>;
}

/** Runs the guest until its stream has lasted warm-up + duration; resolves when the report is written. */
export async function runGuest(o: GuestOptions): Promise<void> {
  const s = o.settings;
  const source = openSource(s);
  const encoder = new VideoEncoder({ codec: s.codec, width: s.width, height: s.height, fps: s.fps, bitrateBps: s.bitrateBps, rateControl: s.rateControl, gop: s.gop, preset: s.preset, threads: s.threads, ...(s.quality !== undefined ? { quality: s.quality } : {}) });
  const frame = allocFrame(s.width, s.height);
  const frames: GuestFrame[] = [];
  const controls: ControlRecord[] = [];
  const counters = { skipped_busy: 0, skipped_congested: 0, keyframes_requested: 0, writes_queued: 0 };
  let fps = s.fps;
  let forceKey = false;
  // A live resolution change: the source is still rendered at the configured size and scaled
  // down to the size encoded at (GUEST_SCALE), so the client can scale back and compare.
  let encSize = { width: s.width, height: s.height };
  let scaled: { frame: YuvFrame; scaler: FrameScaler } | undefined;
  // Decisions taken but not yet given to the encoder: that happens between two frames, never
  // while one is being encoded (the encoder runs off the main thread), and the frame encoded
  // next is the first one encoded with them.
  let pending: { c: ControlMessage; rec: ControlRecord }[] = [];

  const applyControl = (c: ControlMessage, from: string) => {
    const rec: ControlRecord = { t: monoMs(), from: c.from ?? from };
    if (c.bitrate !== undefined) rec.bitrate = c.bitrate;
    if (c.fps !== undefined) rec.fps = c.fps;
    if (c.resolution !== undefined) {
      const r = parseLiveResolution(c.resolution);
      if (r.width > s.width || r.height > s.height) {
        rejectControl(rec, `resolution ${c.resolution} is larger than the configured ${s.width}x${s.height}: a live change only scales down`);
        return;
      }
      rec.resolution = c.resolution;
      rec.scaler = scalerName(GUEST_SCALE);
    }
    if (c.keyframe) {
      forceKey = true;
      rec.keyframe = true;
      counters.keyframes_requested++;
    }
    // The capture clock follows at its next tick; the encoder at its next frame.
    if (c.fps !== undefined) fps = c.fps;
    controls.push(rec);
    if (c.bitrate !== undefined || c.fps !== undefined || c.resolution !== undefined) pending.push({ c, rec });
  };
  const rejectControl = (rec: ControlRecord, why: string) => {
    rec.rejected = why;
    controls.push(rec);
    process.stderr.write(`guest: control from ${rec.from} rejected: ${why}\n`);
  };
  /** A control as received (stdin, the client): checked here, and when it is wrong, recorded as rejected; the stream goes on. */
  const receiveControl = (raw: unknown, from: string) => {
    try {
      applyControl(parseControl(raw), from);
    } catch (e) {
      const who = raw !== null && typeof raw === 'object' && typeof (raw as { from?: unknown }).from === 'string' ? (raw as { from: string }).from : from;
      rejectControl({ t: monoMs(), from: who }, errorMessage(e));
    }
  };
  /** Gives the pending decisions to the encoder before frame `number`; returns their records, to stamp once it is encoded. */
  const applyPending = (): ControlRecord[] => {
    const now = pending;
    pending = [];
    for (const { c, rec } of now) {
      const how: LiveChange[] = [];
      if (c.bitrate !== undefined) how.push(encoder.setBitrate(c.bitrate));
      if (c.fps !== undefined) how.push(encoder.setFps(c.fps));
      if (c.resolution !== undefined) {
        const r = parseLiveResolution(c.resolution);
        how.push(encoder.setResolution(r.width, r.height));
        if (r.width !== encSize.width || r.height !== encSize.height) {
          scaled?.scaler.close();
          encSize = r;
          scaled = r.width === s.width && r.height === s.height ? undefined : { frame: allocFrame(r.width, r.height), scaler: new FrameScaler({ width: s.width, height: s.height }, r, GUEST_SCALE) };
        }
      }
      rec.applied = how.includes('reopened') ? 'reopened' : 'live';
    }
    return now.map((x) => x.rec);
  };

  // Control lines on stdin: how a script (or the engine's schedule) steers a running stream.
  const stdin = createInterface({ input: process.stdin });
  stdin.on('line', (line) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      rejectControl({ t: monoMs(), from: 'stdin' }, `not JSON: ${errorMessage(e)}`);
      return;
    }
    receiveControl(v, 'stdin');
  });

  const sender = await (s.transport === 'tcp' ? tcpSender(o, receiveControl, counters) : udpSender(o, receiveControl));
  const cpu0 = process.cpuUsage();
  const startMs = monoMs();
  const endAt = startMs + (s.warmupS + s.durationS) * 1000;
  // The due time of each skipped tick: the workload counts those of the recorded window.
  const skipped: NonNullable<RoleReport['skipped']> = { busy: [], congested: [] };
  const timeline = new RoleTimeline(() => counters, monoMs);
  timeline.start();
  // A sample right at the window's start and end, so the guest's own CPU there is read, not interpolated.
  for (const at of [s.warmupS * 1000, (s.warmupS + s.durationS) * 1000]) setTimeout(() => timeline.mark(), at).unref();
  for (const c of o.schedule ?? []) setTimeout(() => receiveControl(c, 'schedule'), c.atS * 1000).unref();

  // The capture clock: tick n is due at the previous due time + one frame interval, so a
  // frame-rate change takes effect from the next tick and late ticks do not drift the clock.
  let n = 0;
  let due = startMs;
  let busy = false;
  let seq = 0;
  const inflight: Promise<void>[] = [];
  await new Promise<void>((resolveAll) => {
    const tick = () => {
      // Decided on the schedule, not on when the timer fired, so a 5 s stream at 30 fps is 150 ticks.
      if (due >= endAt - 1e-6) {
        resolveAll();
        return;
      }
      const number = n++;
      if (busy) {
        counters.skipped_busy++;
        skipped.busy.push(due);
      } else if (sender.congested()) {
        counters.skipped_congested++;
        skipped.congested.push(due);
      } else {
        busy = true;
        const p = captureEncodeSend(number, due).finally(() => {
          busy = false;
        });
        inflight.push(p);
      }
      due += 1000 / fps;
      // Catch up without a burst: ticks already past are skipped (counted as busy).
      while (due < monoMs() - 1000 / fps) {
        if (due >= endAt - 1e-6) break;
        skipped.busy.push(due);
        due += 1000 / fps;
        n++;
        counters.skipped_busy++;
      }
      setTimeout(tick, Math.max(0, due - monoMs()));
    };
    tick();
  });

  async function captureEncodeSend(number: number, dueMs: number): Promise<void> {
    const decided = applyPending();
    const captureStart = monoMs();
    source.render(number, frame);
    const captureEnd = monoMs();
    const key = forceKey;
    forceKey = false;
    // The scaling down counts in the encode stage: it is part of what a smaller size costs.
    if (scaled) scaled.scaler.scale(frame, scaled.frame);
    const size = encSize;
    const packets = await encoder.encode(scaled?.frame ?? frame, captureStart - startMs, key);
    const encEnd = monoMs();
    for (const rec of decided) {
      rec.encodedFrame = number;
      rec.encodedMs = encEnd;
    }
    for (const p of packets) {
      const sendStart = monoMs();
      const sendEnd = await sender.send({ frame: number, seq: seq++, key: p.key, captureMs: captureStart }, p.data);
      frames.push({ frame: number, due: dueMs, captureStart, captureEnd, encStart: captureEnd, encEnd, sendStart, sendEnd, bytes: p.data.length, key: p.key, width: size.width, height: size.height });
      o.agent?.add([
        { t: captureStart, frame: number, stage: 'capture_start', role: 'guest' },
        { t: encEnd, frame: number, stage: 'enc_end', role: 'guest' },
        { t: sendEnd, frame: number, stage: 'send_end', role: 'guest', value: p.data.length },
      ]);
    }
  }

  await Promise.all(inflight);
  const endMs = monoMs();
  const cpu = process.cpuUsage(cpu0);
  const tl = timeline.stop();
  await sender.end({ frames: frames.length });
  stdin.close();
  encoder.close();
  scaled?.scaler.close();
  // Events still pending go to the agent before the report, so its CPU figure includes sending them.
  await o.agent?.close();
  const report: RoleReport = { role: 'guest', pid: process.pid, affinity: cpuAffinity(), startMs, endMs, cpuUserS: cpu.user / 1e6, cpuSystemS: cpu.system / 1e6, cpuTotalS: processCpuS(), counters, frames, controls, timeline: tl, skipped, ...agentEvents(o.agent) };
  writeJsonAtomic(o.report, JSON.parse(JSON.stringify(report, nanToNull)));
}

async function tcpSender(o: GuestOptions, onControl: (raw: unknown, from: string) => void, counters: { writes_queued: number }): Promise<Sender> {
  const s = o.settings;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  o.onReady((server.address() as { port: number }).port);
  // One peer: the host relay (or a client connecting directly).
  const sock = await new Promise<Socket>((resolve) => server.once('connection', resolve));
  server.close();
  sock.setNoDelay(true);
  const deframer = new TcpDeframer();
  sock.on('data', (chunk: Buffer) => {
    for (const m of deframer.push(chunk)) {
      if (m.type === MSG_CONTROL) onControl(m.value, 'client');
    }
  });
  sock.on('error', (e) => process.stderr.write(`guest: connection error: ${errorMessage(e)}\n`));
  // Half a second of the target rate (at least 256 KiB) unsent means the path is congested.
  const limit = Math.max(256 * 1024, s.bitrateBps / 16);
  return {
    send: (h, payload) =>
      new Promise((resolve) => {
        const msg = tcpFrameMessage({ ...h, sendMs: 0 }, payload);
        const sendEnd = monoMs();
        stampTcpSendTime(msg, sendEnd);
        sock.write(msg, () => resolve(sendEnd));
        // Still counted as unsent after the call: the socket's buffer was full and the bytes wait
        // in this process; that wait then shows in the uplink stage, as the kernel's own buffering does.
        if (sock.writableLength > 0) counters.writes_queued++;
      }),
    congested: () => sock.writableLength > limit,
    end: (summary) =>
      new Promise((resolve) => {
        if (sock.destroyed) {
          resolve();
          return;
        }
        sock.end(tcpJsonMessage(MSG_END, summary), () => resolve());
        sock.once('close', () => resolve());
      }),
  };
}

async function udpSender(o: GuestOptions, onControl: (raw: unknown, from: string) => void): Promise<Sender> {
  const s = o.settings;
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(o.port, o.host, () => resolve());
  });
  // Frames burst a whole keyframe at once: a larger send buffer keeps the kernel from dropping them here.
  sock.setSendBufferSize(4 * 1024 * 1024);
  o.onReady(sock.address().port);
  const peer = await new Promise<RemoteInfo>((resolve) => {
    sock.on('message', function first(msg, rinfo) {
      try {
        if (parseDatagram(msg).type === MSG_HELLO) {
          sock.off('message', first);
          resolve(rinfo);
        }
      } catch {
        // Anything before the hello is noise on a fresh port.
      }
    });
  });
  sock.on('message', (msg) => {
    try {
      const d = parseDatagram(msg);
      if (d.type === MSG_CONTROL) onControl(d.value, 'client');
    } catch (e) {
      process.stderr.write(`guest: bad datagram: ${errorMessage(e)}\n`);
    }
  });
  return {
    send: async (h, payload) => {
      const parts = udpFragments({ ...h, sendMs: 0 }, payload, s.mtu);
      let last = 0;
      await Promise.all(
        parts.map(
          (d) =>
            new Promise<void>((resolve) => {
              last = monoMs();
              stampUdpSendTime(d, last);
              sock.send(d, peer.port, peer.address, (e) => {
                if (e) process.stderr.write(`guest: send: ${errorMessage(e)}\n`);
                resolve();
              });
            }),
        ),
      );
      // The stamp of the last fragment's send call: fragments go out in call order.
      return last;
    },
    congested: () => false, // UDP has no backlog to watch: the network drops instead
    end: async (summary) => {
      // The end marker can be lost too: it is sent a few times.
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => sock.send(udpJsonDatagram(MSG_END, summary), peer.port, peer.address, () => r()));
      sock.close();
    },
  };
}
