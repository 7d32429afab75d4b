/**
 * Per-interface traffic from /proc/net/dev: totals since the interface came up and rates per
 * second. /proc/net is the network namespace of the reading process, so in a container these are
 * the container's interfaces. Names keep the interface name as is (`net.eth0.100.rx_bytes` for a
 * VLAN eth0.100): the metric is always the part after the last dot.
 */
import type { Probe } from '../probe.ts';
import { OpenFile, putRate, scanInts } from '../procfs.ts';

/** The counters of one interface that the probe reports. */
export interface IfCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_drops: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_drops: number;
}

const COUNTERS = ['rx_bytes', 'rx_packets', 'rx_errors', 'rx_drops', 'tx_bytes', 'tx_packets', 'tx_errors', 'tx_drops'] as const;

/**
 * Parses /proc/net/dev: two header lines, then "name: 8 receive counters 8 transmit counters"
 * (bytes packets errs drop fifo frame compressed multicast | bytes packets errs drop fifo colls
 * carrier compressed). A large count may touch the colon ("eth0:123"), so the name ends at the
 * first ':' (Linux forbids ':' in interface names).
 */
export function parseNetDev(text: string): Map<string, IfCounters> {
  const out = new Map<string, IfCounters>();
  const f: number[] = [];
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    // The two header lines hold '|' and no ':'.
    if (colon >= 0 && colon < end) {
      const name = text.slice(at, colon).trim();
      scanInts(text, colon + 1, end, f, 16);
      if (name && f.length === 16) {
        out.set(name, {
          rx_bytes: f[0]!,
          rx_packets: f[1]!,
          rx_errors: f[2]!,
          rx_drops: f[3]!,
          tx_bytes: f[8]!,
          tx_packets: f[9]!,
          tx_errors: f[10]!,
          tx_drops: f[11]!,
        });
      }
    }
    at = end + 1;
  }
  return out;
}

/** Options of NetProbe; `procRoot` is for tests. */
export interface NetProbeOptions {
  intervalMs?: number;
  /** Only these interfaces (exact names); default all, loopback included. */
  interfaces?: string[];
  procRoot?: string;
}

/** net.<if>.{rx,tx}_{bytes,packets,errors,drops} (totals) and the same with _per_s (rates, from the second call on). */
export class NetProbe implements Probe {
  readonly name = 'net';
  readonly intervalMs: number;
  private readonly only: Set<string> | undefined;
  private readonly dev: OpenFile;
  /** Output names per interface, [total, rate] for each counter, made once. */
  private readonly keys = new Map<string, [string, string][]>();
  private prev = new Map<string, IfCounters>();
  private prevMs = 0;

  constructor(opts: NetProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.only = opts.interfaces ? new Set(opts.interfaces) : undefined;
    this.dev = new OpenFile(`${opts.procRoot ?? '/proc'}/net/dev`);
  }

  /** Totals on every call; rates once an interface has been seen twice. */
  sample(nowMs: number): Record<string, number> {
    const text = this.dev.read();
    if (text === undefined) throw new Error(`${this.dev.path} is missing`);
    const all = parseNetDev(text);
    const out: Record<string, number> = {};
    const next = new Map<string, IfCounters>();
    const dtS = (nowMs - this.prevMs) / 1000;
    for (const [name, c] of all) {
      if (this.only && !this.only.has(name)) continue;
      next.set(name, c);
      const p = this.prev.get(name);
      let keys = this.keys.get(name);
      if (!keys) {
        keys = COUNTERS.map((k) => [`net.${name}.${k}`, `net.${name}.${k}_per_s`]);
        this.keys.set(name, keys);
      }
      COUNTERS.forEach((k, i) => {
        const [total, rate] = keys[i]!;
        out[total] = c[k];
        putRate(out, rate, c[k], p?.[k], dtS);
      });
    }
    // Interfaces come and go (a veth per container): their names would pile up.
    for (const name of this.keys.keys()) if (!next.has(name)) this.keys.delete(name);
    this.prev = next;
    this.prevMs = nowMs;
    return out;
  }

  /** Releases the open /proc file. */
  close(): void {
    this.dev.close();
  }
}
