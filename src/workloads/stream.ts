/**
 * The `stream` workload: per point, starts the guest, the host relay and the client as three
 * processes on this machine, lets them stream for warm-up + duration, then joins their
 * per-frame records into frames.parquet and the point's summary metrics.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { cliArgv, spawnCli } from '../base/cli-process.ts';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { quantile } from '../base/quantile.ts';
import { waitReady } from '../base/spawn-ready.ts';
import type { StreamWorkload } from '../config/resolved.ts';
import { typeValues, type TypedValue } from '../config/declare.ts';
import { streamSettings, type StreamSettings } from '../config/stream-settings.ts';
import { STREAM_PARAM_DECLS } from '../config/workloads/stream.ts';
import type { MetricValue } from '../store/records.ts';
import { writeSeriesParquet } from '../store/parquet.ts';
import { readRoleReport, type ClientFrame, type GuestFrame, type HostFrame, type RoleReport } from '../stream/report.ts';
import { sourceSiTiMetrics } from '../stream/siti.ts';
import { processStartTime, reapedChildrenCpu } from './proctree.ts';
import type { PointContext, PointResult, Workload } from './workload.ts';
import { killGroup } from '../base/process-group.ts';

const ROLE_START_TIMEOUT_MS = 30_000;
/** Default recorded time when the benchmark gives no `duration`. */
const DEFAULT_DURATION_S = 10;
/** PSNR of identical frames is infinite; averages use this cap (FFmpeg's psnr filter prints inf). */
const PSNR_CAP = 100;

interface Role {
  name: 'guest' | 'host' | 'client';
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Summary metrics and the per-frame table of one streamed point. */
export interface StreamAnalysis {
  metrics: Record<string, MetricValue>;
  frames: Record<string, number[]>;
  flags: string[];
}

export class StreamRunner implements Workload {
  /** The workload block's values under the matrix, typed once (the file's loading checked them). */
  private readonly defaults: Record<string, TypedValue>;

  constructor(private readonly w: StreamWorkload) {
    this.defaults = typeValues(STREAM_PARAM_DECLS, w.defaults);
  }

  async run(ctx: PointContext): Promise<PointResult> {
    const durationS = ctx.durationS ?? DEFAULT_DURATION_S;
    let settings: StreamSettings;
    try {
      settings = streamSettings({ ...this.defaults, ...ctx.typed }, { warmupS: ctx.warmupS, durationS });
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: 0, flags: [] };
    }
    const t0 = monoMs();
    const kernel0 = reapedChildrenCpu();
    const roles: Role[] = [];
    const config = JSON.stringify(settings);
    const start = async (name: Role['name'], extra: string[]): Promise<Record<string, unknown>> => {
      const log = openSync(join(ctx.dir, `${name}.log`), 'w');
      // detached: each role leads its own process group, so stopping it stops all it started.
      const agent = ctx.agent?.(name);
      // The agent's token goes through the environment: argv is visible to every user in ps.
      const { STREAMBENCH_TOKEN: _, ...env } = process.env;
      const args = [name, '--config', config, '--report', join(ctx.dir, `${name}.json`), ...(agent ? ['--agent', agent.url] : []), ...extra];
      const opts = { detached: true, stdio: ['pipe', 'pipe', log] as ('pipe' | number)[], env: agent?.token ? { ...env, STREAMBENCH_TOKEN: agent.token } : env };
      const child = ctx.placement ? ctx.placement.spawn(name, cliArgv('stream', args), opts) : spawnCli('stream', args, opts);
      closeSync(log);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      roles.push({ name, child, exited });
      if (child.pid !== undefined) {
        const st = processStartTime(child.pid);
        if (st !== undefined) ctx.onProcess({ pid: child.pid, startTime: st }, false);
        // A role on another machine is not this pid (which is its launcher's).
        if (!ctx.placement?.remote(name)) ctx.watch?.(name, { label: name, pid: child.pid, tree: true });
      }
      const ready = await waitReady(child, { name, log: `${name}.log`, timeoutMs: ROLE_START_TIMEOUT_MS });
      // A role on another machine is watched there, by the pid it says it has.
      if (ctx.placement?.remote(name) && typeof ready['pid'] === 'number') ctx.watch?.(name, { label: name, pid: ready['pid'], tree: true });
      return ready;
    };
    const stopAll = (signal: NodeJS.Signals) => {
      for (const r of roles) {
        if (r.child.exitCode === null && r.child.signalCode === null) killGroup(r.child.pid, signal);
      }
    };
    const onAbort = () => stopAll('SIGTERM');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const limitS = this.w.timeoutS ?? ctx.warmupS + durationS + 60;
    const deadline = setTimeout(() => stopAll('SIGKILL'), limitS * 1000);
    let failure: string | undefined;
    try {
      const at = (role: string) => ctx.placement?.address(role) ?? '127.0.0.1';
      const guest = await start('guest', ['--listen', `${at('guest')}:0`, ...(this.w.schedule.length ? ['--schedule', JSON.stringify(this.w.schedule)] : [])]);
      const host = await start('host', ['--listen', `${at('host')}:0`, '--upstream', `${at('guest')}:${String(guest['port'])}`]);
      await start('client', ['--connect', `${at('host')}:${String(host['port'])}`]);
    } catch (e) {
      failure = errorMessage(e);
      stopAll('SIGTERM');
    }
    const results = await Promise.all(roles.map((r) => r.exited));
    const kernel1 = reapedChildrenCpu();
    clearTimeout(deadline);
    ctx.signal.removeEventListener('abort', onAbort);
    for (const r of roles) {
      stopAll('SIGKILL'); // anything a role left in its group goes with it
      if (r.child.pid !== undefined) ctx.onProcess({ pid: r.child.pid, startTime: 0 }, true);
    }
    const wallS = (monoMs() - t0) / 1000;
    if (ctx.signal.aborted) return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS, flags: [] };
    if (failure) return { outcome: { status: 'failed', error: failure }, metrics: {}, wallS, flags: [] };
    const bad = roles.map((r, i) => ({ r, res: results[i]! })).find(({ res }) => res.code !== 0);
    if (bad) return { outcome: { status: 'failed', error: `${bad.r.name} ${bad.res.signal ? `was killed by ${bad.res.signal}` : `exited with code ${bad.res.code}`} (see ${bad.r.name}.log)` }, metrics: {}, wallS, flags: [] };

    const reports = {
      guest: readRoleReport(join(ctx.dir, 'guest.json'), 'guest'),
      host: readRoleReport(join(ctx.dir, 'host.json'), 'host'),
      client: readRoleReport(join(ctx.dir, 'client.json'), 'client'),
    };
    const a = analyzeStream(settings, reports);
    // SI/TI of the source is computed here, after the roles have ended, so it never shares the
    // cores with the processes being measured.
    try {
      Object.assign(a.metrics, await sourceSiTiMetrics(settings, { signal: ctx.signal }));
    } catch (e) {
      if (ctx.signal.aborted) return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS, flags: [] };
      a.flags.push(`source.si/ti not measured: ${errorMessage(e)}`);
    }
    // The kernel's account of the three reaped role processes, against what they reported.
    // Roles on other machines are no children of this process: the kernel here cannot account for them.
    if (!['guest', 'host', 'client'].some((r) => ctx.placement?.remote(r))) a.metrics['roles.cpu_kernel_s'] = round(kernel1.user + kernel1.system - kernel0.user - kernel0.system);
    a.metrics['roles.cpu_reported_s'] = round([reports.guest, reports.host, reports.client].reduce((acc, r) => acc + (r.cpuTotalS ?? NaN), 0));
    await writeSeriesParquet(join(ctx.dir, 'frames.parquet'), a.frames);
    const q = reports.host.queue ?? { t: [], bytes: [], packets: [] };
    const series = { t: q.t.map((t) => (t - reports.guest.startMs) / 1000), queue_bytes: q.bytes, queue_packets: q.packets };
    const window = { fromMs: reports.guest.startMs + settings.warmupS * 1000, toMs: reports.guest.endMs };
    return { outcome: { status: 'ok' }, metrics: a.metrics, wallS, flags: a.flags, series, window };
  }
}

function finite(xs: number[]): number[] {
  return xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/**
 * Joins the three roles' records by frame number and computes the summary. Frames captured
 * during the warm-up are kept in the table (column warmup = 1) and left out of the summary.
 */
export function analyzeStream(s: StreamSettings, r: { guest: RoleReport; host: RoleReport; client: RoleReport }): StreamAnalysis {
  const t0 = r.guest.startMs;
  const windowStart = t0 + s.warmupS * 1000;
  const hostBy = new Map((r.host.frames as HostFrame[]).map((f) => [f.frame, f]));
  const clientBy = new Map((r.client.frames as ClientFrame[]).map((f) => [f.frame, f]));
  const n = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
  const cols: Record<string, number[]> = {};
  const names = ['frame', 'warmup', 'key', 'bytes', 'capture_start', 'capture_end', 'enc_end', 'send_end', 'host_in', 'host_out', 'recv_end', 'dec_start', 'dec_end', 'display', 'latency_ms', 'psnr', 'ssim', 'lost', 'dropped', 'shown'];
  for (const c of names) cols[c] = [];
  const rel = (t: number) => t - t0;
  const inWindow: { g: GuestFrame; h?: HostFrame; c?: ClientFrame }[] = [];
  for (const g of r.guest.frames as GuestFrame[]) {
    const h = hostBy.get(g.frame);
    const c = clientBy.get(g.frame);
    const warm = g.captureStart < windowStart;
    if (!warm) inWindow.push({ g, ...(h ? { h } : {}), ...(c ? { c } : {}) });
    const display = n(c?.display);
    const decoded = c !== undefined && !c.dropped && Number.isFinite(n(c.decEnd));
    const row: Record<string, number> = {
      frame: g.frame,
      warmup: warm ? 1 : 0,
      key: g.key ? 1 : 0,
      bytes: g.bytes,
      capture_start: rel(g.captureStart),
      capture_end: rel(g.captureEnd),
      enc_end: rel(g.encEnd),
      send_end: rel(g.sendEnd),
      host_in: h ? rel(n(h.inEnd)) : NaN,
      host_out: h ? rel(n(h.outEnd)) : NaN,
      recv_end: c ? rel(n(c.recvEnd)) : NaN,
      dec_start: c ? rel(n(c.decStart)) : NaN,
      dec_end: c ? rel(n(c.decEnd)) : NaN,
      display: rel(display),
      latency_ms: display - g.captureStart,
      psnr: n(c?.psnr),
      ssim: n(c?.ssim),
      lost: c === undefined || c.dropped === 'lost' ? 1 : 0,
      dropped: decoded ? 0 : 1,
      shown: Number.isFinite(display) ? 1 : 0,
    };
    for (const c2 of names) cols[c2]!.push(row[c2]!);
  }

  const windowS = s.durationS;
  const sent = inWindow.length;
  const received = inWindow.filter((x) => x.c && Number.isFinite(n(x.c.recvEnd)));
  const decoded = inWindow.filter((x) => x.c && !x.c.dropped && Number.isFinite(n(x.c.decEnd)));
  const shown = decoded.filter((x) => Number.isFinite(n(x.c!.display)));
  const e2e = finite(shown.map((x) => n(x.c!.display) - x.g.captureStart));
  const toDecoded = finite(decoded.map((x) => n(x.c!.decEnd) - x.g.captureEnd));
  const stage = (f: (x: (typeof inWindow)[number]) => number) => quantile(finite(inWindow.map(f)), 0.5);
  const psnrs = finite(decoded.map((x) => Math.min(n(x.c!.psnr), PSNR_CAP)));
  const ssims = finite(decoded.map((x) => n(x.c!.ssim)));
  const bytesSent = inWindow.reduce((acc, x) => acc + x.g.bytes, 0);
  // Throughput by arrival time: what crossed the link during the recorded window, so frames
  // still queued when it ends do not count as carried.
  const windowEnd = windowStart + windowS * 1000;
  const bytesReceived = (r.client.frames as ClientFrame[]).filter((c) => n(c.recvEnd) >= windowStart && n(c.recvEnd) < windowEnd).reduce((acc, c) => acc + c.bytes, 0);
  // Freezes: how long the screen kept showing one frame beyond 1.5 frame intervals.
  const shownTimes = shown.map((x) => n(x.c!.display)).sort((a, b) => a - b);
  let frozenMs = 0;
  for (let i = 1; i < shownTimes.length; i++) frozenMs += Math.max(0, shownTimes[i]! - shownTimes[i - 1]! - 1.5 * (1000 / s.fps));
  const streamS = (role: RoleReport) => (role.endMs - role.startMs) / 1000;
  const cpu = (role: RoleReport) => role.cpuUserS + role.cpuSystemS;
  const hc = r.host.counters;

  const metrics: Record<string, MetricValue> = {
    'guest.fps': round(sent / windowS, 2),
    'client.fps': round(shown.length / windowS, 2),
    'client.bitrate': round((bytesReceived * 8) / windowS, 0),
    'guest.bitrate': round((bytesSent * 8) / windowS, 0),
    'latency.p50': round(quantile(e2e, 0.5)),
    'latency.p95': round(quantile(e2e, 0.95)),
    'latency.p99': round(quantile(e2e, 0.99)),
    'latency.max': round(e2e.at(-1) ?? NaN),
    'latency.to_decoded.p50': round(quantile(toDecoded, 0.5)),
    'latency.to_decoded.p95': round(quantile(toDecoded, 0.95)),
    'stage.capture.p50': round(stage((x) => x.g.captureEnd - x.g.captureStart)),
    'stage.encode.p50': round(stage((x) => x.g.encEnd - x.g.encStart)),
    'stage.send.p50': round(stage((x) => x.g.sendEnd - x.g.encEnd)),
    'stage.uplink.p50': round(stage((x) => n(x.h?.inEnd) - x.g.sendEnd)),
    'stage.relay.p50': round(stage((x) => n(x.h?.outEnd) - n(x.h?.inEnd))),
    'stage.downlink.p50': round(stage((x) => n(x.c?.recvEnd) - n(x.h?.outEnd))),
    'stage.network.p50': round(stage((x) => n(x.c?.recvEnd) - x.g.sendEnd)),
    'stage.decode_wait.p50': round(stage((x) => n(x.c?.decStart) - n(x.c?.recvEnd))),
    'stage.decode.p50': round(stage((x) => n(x.c?.decEnd) - n(x.c?.decStart))),
    'stage.display_wait.p50': round(stage((x) => n(x.c?.display) - n(x.c?.decEnd))),
    'client.psnr': round(mean(psnrs)),
    'client.psnr.min': round(psnrs[0] ?? NaN),
    'client.ssim': round(mean(ssims), 5),
    'client.quality_frames': psnrs.length,
    'frames.sent': sent,
    'frames.received': received.length,
    'frames.decoded': decoded.length,
    'frames.shown': shown.length,
    'frames.dropped': sent - decoded.length,
    'frames.lost': sent - received.length,
    'frames.late': shown.filter((x) => n(x.c!.display) - x.g.captureStart > s.lateMs).length,
    'frames.frozen_ms': round(frozenMs, 1),
    'frames.keyframes': inWindow.filter((x) => x.g.key).length,
    'guest.skipped': (r.guest.counters['skipped_busy'] ?? 0) + (r.guest.counters['skipped_congested'] ?? 0),
    'guest.cpu_s': round(cpu(r.guest)),
    'host.cpu_s': round(cpu(r.host)),
    'client.cpu_s': round(cpu(r.client)),
    'guest.cpu_pct': round((cpu(r.guest) / streamS(r.guest)) * 100, 2),
    'host.cpu_pct': round((cpu(r.host) / streamS(r.host)) * 100, 2),
    'client.cpu_pct': round((cpu(r.client) / streamS(r.client)) * 100, 2),
    'host.bytes_out': hc['bytes_out'] ?? 0,
    'host.dropped': (hc['dropped_queue'] ?? 0) + (hc['dropped_loss'] ?? 0),
    'host.dropped_queue': hc['dropped_queue'] ?? 0,
    'host.dropped_loss': hc['dropped_loss'] ?? 0,
    'host.max_queue_kb': round((hc['max_queue_bytes'] ?? 0) / 1024, 1),
    'net.loss_measured_pct': round(hc['packets_in'] ? (((hc['dropped_loss'] ?? 0) + (hc['dropped_queue'] ?? 0)) / hc['packets_in']) * 100 : 0, 3),
    'client.keyframe_requests': r.client.counters['keyframe_requests'] ?? 0,
    'controls': (r.guest.controls ?? []).length,
  };
  const flags: string[] = [];
  if (sent === 0) flags.push('no frame was captured in the recorded window');
  for (const role of [r.guest, r.host, r.client]) for (const note of role.notes ?? []) flags.push(`${role.role}: ${note}`);
  return { metrics, frames: cols, flags };
}
