/**
 * The host: relays between client and guest through an emulated network (rate limit with a
 * bounded queue, delay, jitter, loss), and records when each frame came in and went out.
 * TCP: the client connects here and the relay opens one connection to the guest per client
 * connection. UDP: the client's hello opens the path; datagrams are forwarded one by one.
 */
import { createServer, connect, type Socket } from 'node:net';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { writeJsonAtomic } from '../base/fs-atomic.ts';
import { linkConfigs, NetemLink, type NetemConfig } from './netem.ts';
import type { EventPoster } from '../record/event-poster.ts';
import { agentEvents, cpuAffinity, nanToNull, processCpuS, type HostFrame, type RoleReport } from './report.ts';
import { RoleTimeline } from './timeline.ts';
import type { StreamSettings } from '../config/stream-settings.ts';
import { MSG_END, MSG_FRAME, parseDatagram, TcpDeframer, type Message } from './wire.ts';

export interface HostOptions {
  settings: StreamSettings;
  host: string;
  port: number;
  upstream: { host: string; port: number };
  report: string;
  /** The agent of this machine, to hand per-frame events to. */
  agent?: EventPoster;
  onReady(port: number): void;
}

/** Runs the relay until the stream's end has gone through; resolves when the report is written. */
export async function runHost(o: HostOptions): Promise<void> {
  const frames = new Map<number, HostFrame>();
  const counters: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const startMs = monoMs();
  const { down, up } = linkConfigs(o.settings.net, o.settings.transport === 'tcp');
  // The link's counters over time, once it exists: the workload reads them at the window's edges.
  let live: Down | undefined;
  const timeline = new RoleTimeline(() => (live ? linkCounters(live) : {}), monoMs);
  timeline.start();
  const onLink = (l: Down) => (live = l);
  const links = o.settings.transport === 'tcp' ? await relayTcp(o, down, up, frames, counters, onLink) : await relayUdp(o, down, up, frames, onLink);
  const downLink = links.down;
  const endMs = monoMs();
  const cpu = process.cpuUsage(cpu0);
  const tl = timeline.stop();
  const st = downLink.stats();
  Object.assign(counters, {
    packets_in: st.packetsIn,
    bytes_in: st.bytesIn,
    packets_out: st.packetsOut,
    bytes_out: st.bytesOut,
    dropped_queue: st.droppedQueue,
    dropped_loss: st.droppedLoss,
    retransmitted: st.retransmitted,
    max_queue_bytes: st.maxQueueBytes,
  });
  const queue = downLink.queueSeries();
  // The capacity offered in each direction, whatever was sent: only where a rate or a trace limits it.
  const series: Pick<RoleReport, 'capacity' | 'queueUp' | 'capacityUp'> = {};
  if (down.rateBps !== undefined || down.trace) series.capacity = downLink.capacitySeries(endMs);
  if (up.trace) {
    series.queueUp = links.up.queueSeries();
    series.capacityUp = links.up.capacitySeries(endMs);
  }
  o.agent?.add([...frames.values()].flatMap((f) => [...(Number.isFinite(f.inEnd) ? [{ t: f.inEnd, frame: f.frame, stage: 'host_in', role: 'host' }] : []), ...(Number.isFinite(f.outEnd) ? [{ t: f.outEnd, frame: f.frame, stage: 'host_out', role: 'host' }] : [])]));
  downLink.close();
  // Events still pending go to the agent before the report, so its CPU figure includes sending them.
  await o.agent?.close();
  const report: RoleReport = {
    role: 'host',
    pid: process.pid,
    affinity: cpuAffinity(),
    startMs,
    endMs,
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    cpuTotalS: processCpuS(),
    counters,
    frames: [...frames.values()],
    queue,
    ...series,
    timeline: tl,
    ...agentEvents(o.agent),
  };
  writeJsonAtomic(o.report, JSON.parse(JSON.stringify(report, nanToNull)));
}

type Down = { stats: NetemLink<unknown>['stats']; queueSeries: NetemLink<unknown>['queueSeries']; capacitySeries: NetemLink<unknown>['capacitySeries']; close(): void };
/** Both links of the relay, for their series once it ends. */
type Links = { down: Down; up: Down };

/** The link's counters under the names of the host's report. */
function linkCounters(l: Down): Record<string, number> {
  const st = l.stats();
  return { packets_in: st.packetsIn, bytes_in: st.bytesIn, packets_out: st.packetsOut, bytes_out: st.bytesOut, dropped_queue: st.droppedQueue, dropped_loss: st.droppedLoss };
}

async function relayTcp(o: HostOptions, downCfg: NetemConfig, upCfg: NetemConfig, frames: Map<number, HostFrame>, counters: Record<string, number>, onLink: (l: Down) => void): Promise<Links> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  o.onReady((server.address() as { port: number }).port);
  const client = await new Promise<Socket>((resolve) => server.once('connection', resolve));
  server.close();
  client.setNoDelay(true);
  const guest = connect({ host: o.upstream.host, port: o.upstream.port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    guest.once('connect', () => resolve());
    guest.once('error', reject);
  });

  let ended = false;
  let firstChunkAt = NaN;
  const downLink = new NetemLink<Message>(
    downCfg,
    (m) => {
      // host_out is stamped before the write that hands the bytes to the kernel: the write
      // callback runs a loop turn later, when the client may already have read them.
      if (m.type === MSG_FRAME) {
        const f = frames.get(m.header.frame);
        if (f) f.outEnd = monoMs();
      }
      client.write(m.raw);
      if (client.writableLength > 0) counters['writes_queued'] = (counters['writes_queued'] ?? 0) + 1;
      if (m.type === MSG_END) {
        ended = true;
        client.end();
      }
    },
    monoMs,
  );
  onLink(downLink);
  const upLink = new NetemLink<Buffer>(upCfg, (b) => guest.write(b), monoMs);
  downLink.onDrain(() => guest.resume());
  // With net_trace_up the way back is limited too, and pushes back on the client in turn.
  upLink.onDrain(() => client.resume());

  const fromGuest = new TcpDeframer();
  guest.on('data', (chunk: Buffer) => {
    const t = monoMs();
    // The first byte of a frame may come in an earlier chunk than its end.
    if (Number.isNaN(firstChunkAt)) firstChunkAt = t;
    for (const m of fromGuest.push(chunk)) {
      if (m.type === MSG_FRAME) frames.set(m.header.frame, { frame: m.header.frame, inFirst: firstChunkAt, inEnd: t, outEnd: NaN, fragmentsDropped: 0 });
      firstChunkAt = t;
      // TCP never drops: a full queue pushes back on the guest, as a congested link would.
      if (downLink.push(m, m.raw.length) === 'full') guest.pause();
    }
    if (fromGuest.pending === 0) firstChunkAt = NaN;
  });
  const fromClient = new TcpDeframer();
  client.on('data', (chunk: Buffer) => {
    for (const m of fromClient.push(chunk)) if (upLink.push(m.raw, m.raw.length) === 'full') client.pause();
  });
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    client.once('close', done);
    guest.once('close', () => {
      // The guest is gone: what is still queued drains to the client, then the relay ends.
      if (!ended) setTimeout(() => client.end(), 5000).unref();
    });
    client.on('error', done);
    guest.on('error', (e) => process.stderr.write(`host: guest connection: ${errorMessage(e)}\n`));
  });
  guest.destroy();
  upLink.close();
  return { down: downLink, up: upLink };
}

async function relayUdp(o: HostOptions, downCfg: NetemConfig, upCfg: NetemConfig, frames: Map<number, HostFrame>, onLink: (l: Down) => void): Promise<Links> {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind(o.port, o.host, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    back.once('error', reject);
    back.bind(0, o.host === '0.0.0.0' ? undefined : o.host, () => resolve());
  });
  for (const s of [front, back]) {
    s.setRecvBufferSize(4 * 1024 * 1024);
    s.setSendBufferSize(4 * 1024 * 1024);
  }
  o.onReady(front.address().port);
  let client: RemoteInfo | undefined;
  let endSeen = false;
  // Fragments of each frame: how many it has, and how many came in and went out.
  const parts = new Map<number, { count: number; in: number; out: number }>();
  const newDownLink = (to: RemoteInfo) =>
    new NetemLink<{ d: Buffer; frame: number }>(
      downCfg,
      (x) => {
        // Stamped before the send call, not in its callback (a loop turn later, when the client
        // may already have the datagram); fragments can leave out of order under jitter, so the frame's host_out is the latest.
        const f = frames.get(x.frame);
        if (f) {
          f.outEnd = Number.isNaN(f.outEnd) ? monoMs() : Math.max(f.outEnd, monoMs());
          parts.get(x.frame)!.out++;
        }
        front.send(x.d, to.port, to.address, (e) => {
          if (e) process.stderr.write(`host: send to the client: ${errorMessage(e)}\n`);
        });
      },
      monoMs,
    );
  const newUpLink = () => new NetemLink<Buffer>(upCfg, (d) => back.send(d, o.upstream.port, o.upstream.host), monoMs);

  // The ways to the client and back are made when its hello opens the path, as over TCP when it
  // connects: the guest starts streaming once that hello reaches it, so a trace's time 0 (either
  // way) is the stream's start whatever the roles' start-up took (made at the relay's own start, a
  // trace ran seconds ahead).
  let downLink: ReturnType<typeof newDownLink> | undefined;
  let upLink: ReturnType<typeof newUpLink> | undefined;
  front.on('message', (d, rinfo) => {
    if (!client) {
      client = rinfo;
      downLink = newDownLink(rinfo);
      upLink = newUpLink();
      onLink(downLink);
    }
    upLink!.push(d, d.length);
  });
  await new Promise<void>((resolve) => {
    back.on('message', (d) => {
      const t = monoMs();
      let frame = -1;
      let isEnd = false;
      try {
        const p = parseDatagram(d);
        if (p.type === MSG_FRAME) {
          frame = p.fragment.header.frame;
          const f = frames.get(frame) ?? { frame, inFirst: t, inEnd: t, outEnd: NaN, fragmentsDropped: 0, fragments: p.fragment.count };
          f.inEnd = t;
          frames.set(frame, f);
          const c = parts.get(frame) ?? { count: p.fragment.count, in: 0, out: 0 };
          c.in++;
          parts.set(frame, c);
        } else if (p.type === MSG_END) {
          isEnd = true;
          if (!endSeen) {
            endSeen = true;
            // Whatever is queued still goes out: the end marker follows once the link had time to
            // drain. It is the harness's word that the stream is over, not stream data, so it goes
            // around the emulated link: a full queue or a loss must not leave the client waiting.
            setTimeout(
              () => {
                const sends = client ? [0, 1, 2].map(() => new Promise<void>((r) => front.send(d, client!.port, client!.address, () => r()))) : [];
                void Promise.all(sends).then(() => resolve());
              },
              Math.max(500, 3 * (downCfg.delayMs ?? 0) + 300),
            ).unref();
          }
        }
      } catch (e) {
        // Forwarded all the same, as a router would; the client judges what it receives.
        process.stderr.write(`host: unreadable datagram from the guest: ${errorMessage(e)}\n`);
        frame = -1;
      }
      // Nothing to relay to before the client's hello.
      if (isEnd || !downLink) return;
      const r = downLink.push({ d, frame }, d.length);
      if ((r === 'dropped-queue' || r === 'dropped-loss') && frame >= 0) frames.get(frame)!.fragmentsDropped++;
    });
  });
  front.close();
  back.close();
  upLink?.close();
  // A frame's times stand only for the whole frame: host_in once every fragment came in, host_out
  // once every one went out. Otherwise the last fragment seen could be an earlier one than the
  // guest's send_end or the relay's host_in refer to, and a stage would come out negative.
  for (const [n, c] of parts) {
    const f = frames.get(n)!;
    if (c.in < c.count) f.inEnd = NaN;
    if (c.out < c.count) f.outEnd = NaN;
  }
  // A client that never came: an idle link, for the report's counters.
  return { down: downLink ?? newDownLink({ address: o.host, family: 'IPv4', port: 0, size: 0 }), up: upLink ?? newUpLink() };
}
