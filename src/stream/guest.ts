/**
 * The guest: captures (renders) frames on a fixed clock, encodes each at once, and sends it to
 * whoever connected (the host relay). Frame numbers count capture ticks, so a tick skipped
 * because the encoder or the socket was still busy shows as a gap, never as hidden delay.
 */
import { errorMessage } from '../base/errors.ts';
import { createServer, type Socket } from 'node:net';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
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
import {
  MSG_CONTROL,
  MSG_END,
  MSG_FEEDBACK,
  MSG_HELLO,
  parseControl,
  parseDatagram,
  parseFeedback,
  parseLiveResolution,
  stampPaddingSendTime,
  stampTcpSendTime,
  stampUdpSendTime,
  TcpDeframer,
  tcpFrameMessage,
  tcpJsonMessage,
  tcpPaddingMessage,
  udpFragments,
  udpJsonDatagram,
  udpPaddingDatagram,
  type ControlMessage,
  type FeedbackReport,
  type FrameHeader,
} from './wire.ts';
import { createPolicy } from './policy/load.ts';
import { PACING_FACTOR, paceOffsets } from './pacer.ts';
import { checkDecision, InFlight, type Decision, type EncodedFrame, type ProbeCluster, type RatePolicy } from './policy/policy.ts';

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

/** What the guest does with what comes back from the client. */
interface Inbound {
  /** A control message as received: checked there, and recorded as rejected when wrong. */
  onControl(raw: unknown, from: string): void;
  onFeedback(r: FeedbackReport): void;
}

/** A policy's bitrate closer than this share to the encoder's is not applied. */
const BITRATE_HYSTERESIS = 0.05;
/**
 * For an encoder that reopens on every bitrate change (libvpx, x265, SVT-AV1, MJPEG through
 * FFmpeg: each change a keyframe), a policy's bitrate is applied only when it differs by this
 * share, and a rise at most once per REOPEN_RISE_MS: following gcc's every report, VP8 sent a
 * keyframe every few frames (measured: 62 % of the capture ticks skipped by the congestion window
 * on the step trace). A fall of that share goes at once.
 */
const REOPEN_HYSTERESIS = 0.2;
const REOPEN_RISE_MS = 1000;
/** A probe's packets: WebRTC's probe size (room for the headers within a 1500-byte MTU). */
const PROBE_PACKET = 1200;
/** A probe lasts at least this (ms) and this many packets, as WebRTC's probe clusters. */
const PROBE_MIN = { ms: 15, packets: 5 };
/** While the congestion window is full, one frame still goes this often (ms): as WebRTC's pacer when congested, so feedback keeps coming. */
const WINDOW_PASS_MS = 500;

/** How a frame leaves the guest, whatever the transport. */
interface Sender {
  /**
   * Sends the frame; resolves with its send_end: the time taken just before the call that hands
   * its last byte to the kernel. Not the write callback's time: that runs a loop turn later,
   * when the relay may already have the bytes.
   */
  send(h: Omit<FrameHeader, 'sendMs'>, payload: Buffer): Promise<number>;
  /** Sends one padding packet of `bytes` on the wire; resolves with its packet number and send stamp. */
  padding(bytes: number): Promise<{ pkt: number; sentMs: number }>;
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
  const counters = { skipped_busy: 0, skipped_congested: 0, keyframes_requested: 0, writes_queued: 0, bytes_sent: 0, feedback_reports: 0, policy_decisions: 0, probes: 0, padding_bytes: 0 };
  let fps = s.fps;
  let bitrate = s.bitrateBps;
  let forceKey = false;
  // A live resolution change: the source is still rendered at the configured size and scaled
  // down to the size encoded at (GUEST_SCALE), so the client can scale back and compare.
  let encSize = { width: s.width, height: s.height };
  let scaled: { frame: YuvFrame; scaler: FrameScaler } | undefined;
  // Decisions taken but not yet given to the encoder: that happens between two frames, never
  // while one is being encoded (the encoder runs off the main thread), and the frame encoded
  // next is the first one encoded with them.
  let pending: { c: ControlMessage; rec: ControlRecord }[] = [];

  // A policy that cannot be created, throws or returns nonsense ends the stream at once and fails the point with its message.
  let policyError: string | undefined;
  let policy: RatePolicy | undefined;
  try {
    policy = await createPolicy(s);
  } catch (e) {
    policyError = errorMessage(e);
  }
  const policyLog: NonNullable<RoleReport['policy']> = { name: s.policy, ...(s.policyCode ? { sha256: s.policyCode.sha256 } : {}), t: [], targetBps: [] };
  let encoded: EncodedFrame[] = [];
  let cpuMark = { t: monoMs(), cpu: process.cpuUsage() };
  // What the path holds as the guest knows it, the policy's congestion window, and its probes.
  const flight = new InFlight();
  let window = Infinity;
  let lastFrameSentAt = -Infinity;
  let probing = false;
  let probeRun: Promise<void> = Promise.resolve();
  let probesSent: ProbeCluster[] = [];
  // Set once the capture loop is over: a report arriving while the stream ends starts no probe.
  let ending = false;
  let lastBitrateChange = -Infinity;

  const applyControl = (c: ControlMessage, from: string, estimate?: Record<string, number | string>) => {
    const rec: ControlRecord = { t: monoMs(), from: c.from ?? from, ...(estimate ? { estimate } : {}) };
    if (c.bitrate !== undefined) {
      rec.bitrate = c.bitrate;
      bitrate = c.bitrate;
    }
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

  /** One feedback report: the policy decides, and the guest applies what it asked for. */
  const onFeedback = (r: FeedbackReport) => {
    counters.feedback_reports++;
    if (!policy || policyError !== undefined) return;
    const now = monoMs();
    const cpu = process.cpuUsage();
    const guestCpuPct = now > cpuMark.t ? ((cpu.user - cpuMark.cpu.user + cpu.system - cpuMark.cpu.system) / 1000 / (now - cpuMark.t)) * 100 : 0;
    cpuMark = { t: now, cpu };
    const frames = encoded;
    encoded = [];
    let newest = -Infinity;
    for (const p of r.packets) newest = Math.max(newest, p.sendMs);
    flight.covered(newest);
    const probes = probesSent;
    probesSent = [];
    let d: Decision | undefined;
    try {
      const out: unknown = policy.decide({ nowMs: now, feedback: r, frames, probes, inFlightBytes: flight.bytes, guestCpuPct, current: { bitrateBps: bitrate, fps, width: encSize.width, height: encSize.height } });
      if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') throw new Error('decide() returned a promise: it must decide at once (the stream does not wait)');
      d = checkDecision(out);
    } catch (e) {
      policyError = `policy ${s.policy}: ${errorMessage(e)}`;
      return;
    }
    if (!d) return;
    if (d.window !== undefined) window = d.window;
    if (d.probe && !probing && !ending) probeRun = probe(d.probe).catch((e: unknown) => void process.stderr.write(`guest: probe: ${errorMessage(e)}\n`));
    if (d.bitrate !== undefined) {
      policyLog.t.push(now);
      policyLog.targetBps.push(d.bitrate);
    }
    const change: ControlMessage = {};
    if (d.bitrate !== undefined) {
      const live = encoder.liveBitrate;
      const enough = Math.abs(d.bitrate - bitrate) >= (live ? BITRATE_HYSTERESIS : REOPEN_HYSTERESIS) * bitrate;
      if (enough && (live || d.bitrate < bitrate || now - lastBitrateChange >= REOPEN_RISE_MS)) {
        change.bitrate = d.bitrate;
        lastBitrateChange = now;
      }
    }
    if (d.fps !== undefined && d.fps !== fps) change.fps = d.fps;
    if (d.resolution !== undefined && d.resolution !== `${encSize.width}x${encSize.height}`) change.resolution = d.resolution;
    if (Object.keys(change).length === 0) return;
    counters.policy_decisions++;
    applyControl(change, 'policy', d.estimate);
  };

  /** Sends a policy's probe: padding packets spread at its rate; reported to the policy at the next feedback. */
  async function probe(p: NonNullable<Decision['probe']>): Promise<void> {
    probing = true;
    counters.probes++;
    const count = Math.max(PROBE_MIN.packets, Math.ceil((p.bps * (p.ms ?? PROBE_MIN.ms)) / 8000 / PROBE_PACKET));
    const spacingMs = (PROBE_PACKET * 8 * 1000) / p.bps;
    const cluster = { id: counters.probes, bps: p.bps, pkts: [] as number[], packetBytes: PROBE_PACKET, firstSendMs: NaN, lastSendMs: NaN };
    const t0 = monoMs();
    try {
      for (let i = 0; i < count; i++) {
        // Like the pacer: a timer for each gap of a millisecond or more; shorter ones bunch up.
        const wait = t0 + i * spacingMs - monoMs();
        if (wait >= 1) await sleep(wait);
        const sent = await sender.padding(PROBE_PACKET);
        flight.add(sent.sentMs, PROBE_PACKET);
        counters.padding_bytes += PROBE_PACKET;
        cluster.pkts.push(sent.pkt);
        if (i === 0) cluster.firstSendMs = sent.sentMs;
        cluster.lastSendMs = sent.sentMs;
      }
      probesSent.push(cluster);
    } finally {
      probing = false;
    }
  }

  // With a policy, UDP fragments are paced at 2.5 x the encoder's rate (GCC's pacer, src/stream/pacer.ts), each frame within half its interval.
  const pace = policy ? () => ({ bps: PACING_FACTOR * bitrate, maxSpanMs: 500 / fps }) : undefined;
  const sender = await (s.transport === 'tcp' ? tcpSender(o, { onControl: receiveControl, onFeedback }, counters) : udpSender(o, { onControl: receiveControl, onFeedback }, pace));
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
      if (due >= endAt - 1e-6 || policyError !== undefined) {
        resolveAll();
        return;
      }
      const number = n++;
      if (busy) {
        counters.skipped_busy++;
        skipped.busy.push(due);
      } else if (sender.congested() || (flight.bytes > window && monoMs() - lastFrameSentAt < WINDOW_PASS_MS)) {
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
      counters.bytes_sent += p.data.length;
      flight.add(sendEnd, p.data.length);
      lastFrameSentAt = sendEnd;
      if (policy) encoded.push({ frame: number, bytes: p.data.length, key: p.key, encodeMs: encEnd - captureEnd, sentMs: sendEnd });
      frames.push({ frame: number, due: dueMs, captureStart, captureEnd, encStart: captureEnd, encEnd, sendStart, sendEnd, bytes: p.data.length, key: p.key, width: size.width, height: size.height });
      o.agent?.add([
        { t: captureStart, frame: number, stage: 'capture_start', role: 'guest' },
        { t: encEnd, frame: number, stage: 'enc_end', role: 'guest' },
        { t: sendEnd, frame: number, stage: 'send_end', role: 'guest', value: p.data.length },
      ]);
    }
  }

  await Promise.all(inflight);
  ending = true;
  await probeRun;
  const endMs = monoMs();
  const cpu = process.cpuUsage(cpu0);
  const tl = timeline.stop();
  await sender.end({ frames: frames.length });
  stdin.close();
  encoder.close();
  scaled?.scaler.close();
  // Events still pending go to the agent before the report, so its CPU figure includes sending them.
  await o.agent?.close();
  const report: RoleReport = {
    role: 'guest',
    pid: process.pid,
    affinity: cpuAffinity(),
    startMs,
    endMs,
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    cpuTotalS: processCpuS(),
    counters,
    frames,
    controls,
    timeline: tl,
    skipped,
    ...(s.policy !== 'fixed' ? { policy: policyLog } : {}),
    ...(policyError !== undefined ? { error: policyError } : {}),
    ...agentEvents(o.agent),
  };
  writeJsonAtomic(o.report, JSON.parse(JSON.stringify(report, nanToNull)));
  // The report says why; the exit code tells whoever started the role that the point failed.
  if (policyError !== undefined) throw new RoleFailure(policyError);
}

/** The guest streamed but failed (its policy): the report holds the message, the process exits non-zero. */
export class RoleFailure extends Error {}

async function tcpSender(o: GuestOptions, inbound: Inbound, counters: { writes_queued: number }): Promise<Sender> {
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
      if (m.type === MSG_CONTROL) inbound.onControl(m.value, 'client');
      else if (m.type === MSG_FEEDBACK) {
        let r: FeedbackReport;
        try {
          r = parseFeedback(m.body);
        } catch (e) {
          process.stderr.write(`guest: bad feedback report: ${errorMessage(e)}\n`);
          continue;
        }
        inbound.onFeedback(r);
      }
    }
  });
  sock.on('error', (e) => process.stderr.write(`guest: connection error: ${errorMessage(e)}\n`));
  // Half a second of the target rate (at least 256 KiB) unsent means the path is congested.
  const limit = Math.max(256 * 1024, s.bitrateBps / 16);
  // Transport-wide packet numbers, shared by frames and padding: the client's feedback names each.
  let pkt = 0;
  return {
    send: (h, payload) =>
      new Promise((resolve) => {
        const msg = tcpFrameMessage({ ...h, sendMs: 0 }, payload, pkt++);
        const sendEnd = monoMs();
        stampTcpSendTime(msg, sendEnd);
        sock.write(msg, () => resolve(sendEnd));
        // Still counted as unsent after the call: the socket's buffer was full and the bytes wait
        // in this process; that wait then shows in the uplink stage, as the kernel's own buffering does.
        if (sock.writableLength > 0) counters.writes_queued++;
      }),
    padding: (bytes) =>
      new Promise((resolve) => {
        const n = pkt++;
        const msg = tcpPaddingMessage(n, bytes);
        const sentMs = monoMs();
        stampPaddingSendTime(msg, true, sentMs);
        sock.write(msg);
        resolve({ pkt: n, sentMs });
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

async function udpSender(o: GuestOptions, inbound: Inbound, pace?: () => { bps: number; maxSpanMs: number }): Promise<Sender> {
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
    let r: FeedbackReport | undefined;
    try {
      const d = parseDatagram(msg);
      if (d.type === MSG_CONTROL) inbound.onControl(d.value, 'client');
      else if (d.type === MSG_FEEDBACK) r = parseFeedback(d.body);
    } catch (e) {
      process.stderr.write(`guest: bad datagram: ${errorMessage(e)}\n`);
    }
    // Outside the catch: the policy's own failure is not the datagram's.
    if (r) inbound.onFeedback(r);
  });
  // Transport-wide packet numbers: the client's feedback names each fragment and finds the lost ones by the gaps.
  let pkt = 0;
  return {
    send: async (h, payload) => {
      const parts = udpFragments({ ...h, sendMs: 0 }, payload, s.mtu, pkt);
      pkt += parts.length;
      let last = 0;
      const p = pace?.();
      const offsets = p
        ? paceOffsets(
            parts.map((d) => d.length),
            p.bps,
            p.maxSpanMs,
          )
        : undefined;
      const t0 = monoMs();
      await Promise.all(
        parts.map(async (d, i) => {
          // Paced: wait for this fragment's turn (a timer; a late one only bunches fragments up).
          // Unpaced (or due now), the sends run synchronously here, in order.
          const wait = offsets ? t0 + offsets[i]! - monoMs() : 0;
          if (wait >= 1) await sleep(wait);
          await new Promise<void>((resolve) => {
            last = monoMs();
            stampUdpSendTime(d, last);
            sock.send(d, peer.port, peer.address, (e) => {
              if (e) process.stderr.write(`guest: send: ${errorMessage(e)}\n`);
              resolve();
            });
          });
        }),
      );
      // The stamp of the last fragment's send call: fragments go out in call order.
      return last;
    },
    padding: (bytes) =>
      new Promise((resolve) => {
        const n = pkt++;
        const d = udpPaddingDatagram(n, bytes);
        const sentMs = monoMs();
        stampPaddingSendTime(d, false, sentMs);
        sock.send(d, peer.port, peer.address, (e) => {
          if (e) process.stderr.write(`guest: send: ${errorMessage(e)}\n`);
        });
        resolve({ pkt: n, sentMs });
      }),
    congested: () => false, // UDP has no backlog to watch: the network drops instead
    end: async (summary) => {
      // The end marker can be lost too: it is sent a few times.
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => sock.send(udpJsonDatagram(MSG_END, summary), peer.port, peer.address, () => r()));
      sock.close();
    },
  };
}
