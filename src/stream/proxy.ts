/**
 * The host relay as a plain TCP proxy, for stacks we did not write (a SPICE session is several
 * TCP connections, one per channel, to one port): every client connection gets its own
 * connection to the server, all of them share one emulated network (one link down, one up, as
 * on a real path), and bytes are counted per connection and direction. SPICE connections are
 * named by the channel type of their link message.
 */
import { connect, createServer, type Socket } from 'node:net';
import { monoMs } from '../base/clock.ts';
import { RoleTimeline, type TimelineRecord } from './timeline.ts';
import { writeJsonAtomic } from '../base/fs-atomic.ts';
import type { NetSettings } from '../config/stream-settings.ts';
import { linkConfigs, NetemLink } from './netem.ts';

/** SPICE channel types (spice-protocol's SPICE_CHANNEL_*). */
const SPICE_CHANNELS: Record<number, string> = { 1: 'main', 2: 'display', 3: 'inputs', 4: 'cursor', 5: 'playback', 6: 'record', 7: 'tunnel', 8: 'smartcard', 9: 'usbredir', 10: 'port', 11: 'webdav' };

export interface ChannelStats {
  index: number;
  /** 'display', 'main', ... for SPICE; 'tcp' when the first bytes are not a SPICE link message. */
  type: string;
  channelId: number;
  /** Server to client: bytes offered to the emulated link, and delivered to the client. */
  downIn: number;
  downOut: number;
  /** Client to server, delivered to the server. */
  upOut: number;
  openedMs: number;
  closedMs: number;
}

export interface ProxyReport {
  role: 'host';
  mode: 'proxy';
  pid: number;
  startMs: number;
  endMs: number;
  cpuUserS: number;
  cpuSystemS: number;
  channels: ChannelStats[];
  /** Bytes delivered per bin of binMs since startMs, each direction, all connections together. */
  binMs: number;
  downBins: number[];
  upBins: number[];
  /** When the link toward the client began (its trace's time 0), ms on this machine's monotonic clock. */
  linkStartMs: number;
  /** Bytes toward the client per bin of binMs since linkStartMs by the emulated time their last byte left the bottleneck (not when the relay got to write them). */
  sentBins: number[];
  /** The capacity offered toward the client per bin since linkStartMs, bits/s; empty on an unlimited link. */
  capacityBps: number[];
  counters: Record<string, number>;
  /** Its CPU over time on this machine's monotonic clock, so a window's share can be read wherever it ran. */
  timeline?: TimelineRecord;
}

export interface ProxyOptions {
  net: NetSettings;
  host: string;
  port: number;
  upstream: { host: string; port: number };
  report: string;
  onReady(port: number): void;
  /** Resolves when the proxy should stop (the role stops on SIGTERM). */
  until: Promise<void>;
}

const BIN_MS = 100;

/** Parses a SPICE link message header from a connection's first client bytes; undefined until enough bytes came, null when it is not SPICE. */
export function spiceChannelOf(first: Buffer): { type: string; id: number } | null | undefined {
  if (first.length < 4) return undefined;
  if (first.subarray(0, 4).toString('latin1') !== 'REDQ') return null;
  // SpiceLinkHeader (magic, major, minor, size: 16 bytes) then SpiceLinkMess (connection_id u32, channel_type u8, channel_id u8).
  if (first.length < 22) return undefined;
  const type = first.readUInt8(20);
  return { type: SPICE_CHANNELS[type] ?? `spice-${type}`, id: first.readUInt8(21) };
}

/** Relays until `until` resolves, then writes the report. */
export async function runProxy(o: ProxyOptions): Promise<void> {
  const startMs = monoMs();
  const cpu0 = process.cpuUsage();
  const timeline = new RoleTimeline(() => ({}), monoMs);
  timeline.start(100);
  // The same links as the stream's relay: a trace in either direction, the queue, delay and loss.
  const { down, up } = linkConfigs(o.net, true);
  const channels: ChannelStats[] = [];
  const downBins: number[] = [];
  const upBins: number[] = [];
  const bin = (bins: number[], n: number) => {
    const i = Math.floor((monoMs() - startMs) / BIN_MS);
    while (bins.length <= i) bins.push(0);
    bins[i]! += n;
  };
  const paused = new Set<Socket>();
  const sentBins: number[] = [];
  type Links = { downLink: NetemLink<{ to: Socket; data: Buffer; ch: ChannelStats }>; upLink: NetemLink<{ to: Socket; data: Buffer; ch: ChannelStats }> };
  let links: Links | undefined;
  // The links begin with the viewer's first connection, as the stream's relay begins with its
  // client's: a trace's time 0 is when the desktop starts to flow, whatever the server's start-up took.
  const makeLinks = (): Links => {
    const downLink = new NetemLink<{ to: Socket; data: Buffer; ch: ChannelStats }>(
      down,
      (x, info) => {
        if (x.to.destroyed) return;
        x.to.write(x.data);
        x.ch.downOut += x.data.length;
        bin(downBins, x.data.length);
        const i = Math.floor((info.sentAt - downLink.startedAt) / BIN_MS);
        while (sentBins.length <= i) sentBins.push(0);
        sentBins[i]! += x.data.length;
      },
      monoMs,
    );
    const upLink = new NetemLink<{ to: Socket; data: Buffer; ch: ChannelStats }>(
      up,
      (x) => {
        if (x.to.destroyed) return;
        x.to.write(x.data);
        x.ch.upOut += x.data.length;
        bin(upBins, x.data.length);
      },
      monoMs,
    );
    // A full link pushes back on every server connection, as a congested path would.
    downLink.onDrain(() => {
      for (const s of paused) s.resume();
      paused.clear();
    });
    return { downLink, upLink };
  };

  const server = createServer((client) => {
    client.setNoDelay(true);
    const { downLink, upLink } = (links ??= makeLinks());
    const ch: ChannelStats = { index: channels.length, type: 'tcp', channelId: 0, downIn: 0, downOut: 0, upOut: 0, openedMs: monoMs(), closedMs: NaN };
    channels.push(ch);
    const upstream = connect({ host: o.upstream.host, port: o.upstream.port, noDelay: true });
    let head: Buffer | undefined = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      if (head) {
        head = Buffer.concat([head, d]);
        const kind = spiceChannelOf(head);
        if (kind) {
          ch.type = kind.type;
          ch.channelId = kind.id;
        }
        if (kind !== undefined) head = undefined;
      }
      upLink.push({ to: upstream, data: d, ch }, d.length);
    });
    upstream.on('data', (d: Buffer) => {
      ch.downIn += d.length;
      if (downLink.push({ to: client, data: d, ch }, d.length) === 'full') {
        upstream.pause();
        paused.add(upstream);
      }
    });
    const close = () => {
      if (Number.isNaN(ch.closedMs)) ch.closedMs = monoMs();
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  o.onReady((server.address() as { port: number }).port);
  await o.until;
  server.close();
  const st = links?.downLink.stats();
  const cpu = process.cpuUsage(cpu0);
  const report: ProxyReport = {
    role: 'host',
    mode: 'proxy',
    pid: process.pid,
    startMs,
    endMs: monoMs(),
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    channels: channels.map((c) => ({ ...c, closedMs: Number.isNaN(c.closedMs) ? monoMs() : c.closedMs })),
    binMs: BIN_MS,
    downBins,
    upBins,
    linkStartMs: links?.downLink.startedAt ?? startMs,
    sentBins,
    capacityBps: links?.downLink.capacitySeries(monoMs(), BIN_MS).bps ?? [],
    counters: { max_queue_bytes: st?.maxQueueBytes ?? 0, retransmitted: st?.retransmitted ?? 0, queue_bytes_at_end: st?.queueBytes ?? 0 },
    timeline: timeline.stop(),
  };
  links?.downLink.close();
  links?.upLink.close();
  writeJsonAtomic(o.report, report);
}
