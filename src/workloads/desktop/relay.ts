/**
 * The host's part of a desktop point: the shaping relay in front of the server (`streambench
 * stream host --proxy`: every connection of the session through one emulated network, with the
 * point's fixed settings or traces), and its report read into the family's figures: bytes and bit
 * rate each way over the window, bytes per channel, the queue's largest fill, and the capacity it
 * offered toward the client as the point's `capacity_bps` series.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliArgv } from '../../base/cli-process.ts';
import { errorMessage } from '../../base/errors.ts';
import type { NetSettings } from '../../config/stream-settings.ts';
import type { MetricValue } from '../../store/records.ts';
import type { ProxyReport } from '../../stream/proxy.ts';
import { waitReady } from '../../base/spawn-ready.ts';
import type { ProcessSet } from './processes.ts';

/** The relay's report in the point directory. */
export const RELAY_REPORT = 'relay.json';

/**
 * Starts the relay (`relay`, relay.log) on the host's machine (through the point's placement when
 * there is one), listening on `listen`, toward the server at upstream; resolves with the process, its
 * port and its pid on that machine.
 */
export async function startRelay(procs: ProcessSet, o: { dir: string; net: NetSettings; listen: string; upstream: { host: string; port: number }; stopFile?: string }): Promise<{ child: ChildProcess; port: number; pid: number }> {
  const child = procs.start(
    'relay',
    cliArgv('stream', ['host', '--proxy', '--listen', `${o.listen}:0`, '--upstream', `${o.upstream.host}:${o.upstream.port}`, '--report', join(o.dir, RELAY_REPORT), '--config', JSON.stringify({ net: o.net }), ...(o.stopFile ? ['--stop-file', o.stopFile] : [])]),
    { stdout: 'pipe', on: 'host' },
  );
  const ready = await waitReady(child, { name: 'relay', log: 'relay.log', timeoutMs: 20_000 });
  return { child, port: Number(ready['port']), pid: Number(ready['pid']) };
}

const NUMBERS = ['startMs', 'endMs', 'binMs', 'linkStartMs'] as const;
const ARRAYS = ['downBins', 'upBins', 'capacityBps', 'channels'] as const;

/** Reads the relay's report; throws naming the file and the field that is wrong. */
export function readRelayReport(path: string): ProxyReport {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`the relay's report ${path}: ${errorMessage(e)}`);
  }
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || r['mode'] !== 'proxy') throw new Error(`the relay's report ${path}: not a proxy report`);
  for (const k of NUMBERS) if (typeof r[k] !== 'number') throw new Error(`the relay's report ${path}: ${k} must be a number`);
  for (const k of ARRAYS) if (!Array.isArray(r[k])) throw new Error(`the relay's report ${path}: ${k} must be a list`);
  if (!((r['binMs'] as number) > 0)) throw new Error(`the relay's report ${path}: binMs must be above 0`);
  return v as ProxyReport;
}

/**
 * The relay's figures over the window [fromMs, toMs) (the relay's clock, ms), of `durationS`
 * seconds: bins whose start falls in the window count whole. Per channel type, the whole point
 * (the relay counts per connection; a type may have several).
 */
export function relayFigures(r: ProxyReport, window: { fromMs: number; toMs: number; durationS: number }): Record<string, MetricValue> {
  const bins = (xs: number[]) => xs.slice(Math.floor((window.fromMs - r.startMs) / r.binMs), Math.ceil((window.toMs - r.startMs) / r.binMs)).reduce((a, b) => a + b, 0);
  const down = bins(r.downBins);
  const up = bins(r.upBins);
  const metrics: Record<string, MetricValue> = {};
  metrics['client.bitrate'] = Math.round((down * 8) / window.durationS);
  metrics['bytes.down'] = down;
  metrics['bytes.up'] = up;
  for (const c of r.channels) {
    const k = `channel.${c.type}`;
    metrics[`${k}.bytes_down`] = ((metrics[`${k}.bytes_down`] as number | undefined) ?? 0) + c.downOut;
    metrics[`${k}.bytes_up`] = ((metrics[`${k}.bytes_up`] as number | undefined) ?? 0) + c.upOut;
  }
  metrics['host.max_queue_kb'] = Number(((r.counters['max_queue_bytes'] ?? NaN) / 1024).toFixed(1));
  return metrics;
}

/**
 * The capacity the relay offered toward the client, as series columns on the point's clock: `t`
 * in seconds since the point began (`toPointMs` maps a time of the relay's clock to ms since then,
 * TimeBase.toPoint for the host), one row per bin from the link's start; undefined on an unlimited
 * link, which offers no capacity to plot.
 */
export function capacitySeries(r: ProxyReport, toPointMs: (relayMs: number) => number): { t: number[]; capacity_bps: number[] } | undefined {
  if (r.capacityBps.length === 0) return undefined;
  return { t: r.capacityBps.map((_, i) => toPointMs(r.linkStartMs + i * r.binMs) / 1000), capacity_bps: [...r.capacityBps] };
}
