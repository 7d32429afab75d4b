/**
 * The `stream` workload: per point, starts the guest, the host relay and the client as three
 * processes on this machine, lets them stream for warm-up + duration, then joins their
 * per-frame records into frames.parquet and the point's summary metrics.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cpus as machineCpus } from 'node:os';
import { cliArgv } from '../../base/cli-process.ts';
import { monoMs } from '../../base/clock.ts';
import { errorMessage } from '../../base/errors.ts';
import { quantile } from '../../base/quantile.ts';
import { waitReady } from '../../base/spawn-ready.ts';
import type { StreamWorkload } from './declare.ts';
import { typeValues, type TypedValue } from '../../config/declare.ts';
import { isPolicyFile, policyHash, streamSettings, traceSpecMeanBps, type StreamSettings } from '../../config/stream-settings.ts';
import { STREAM_PARAM_DECLS } from '../../config/stream-params.ts';
import { STREAM_DECL } from './declare.ts';
import type { MetricValue } from '../../store/records.ts';
import { writeSeriesParquet } from '../../store/parquet.ts';
import { nanToNull, parseControlRecord, readRoleReport, type ClientFrame, type ControlRecord, type GuestFrame, type HostFrame, type RoleReport } from '../../stream/report.ts';
import { CLIENT_SCALE, scalerName } from '../../stream/scalers.ts';
import { writeJsonAtomic } from '../../base/fs-atomic.ts';
import { sourceSiTiMetrics } from '../../stream/siti.ts';
import { processStartTime, reapedChildrenCpu } from '../proctree.ts';
import type { PointContext, PointResult, Workload } from '../workload.ts';
import type { TimeBase } from '../../record/timebase.ts';
import type { Condition, PointConditions, PointTimeline } from '../../store/records.ts';
import { CONDITION_DOCS, CONDITION_THRESHOLDS } from '../../config/conditions.ts';
import { growthBetween, mergeStepSeries } from '../../stream/timeline.ts';
import type { Span } from '../../stream/qoe.ts';
import { PSNR_CAP, qoeOf } from './qoe-metrics.ts';
import type { NetTraceSpec } from '../../config/net-trace.ts';
import { killGroup } from '../../base/process-group.ts';

const ROLE_START_TIMEOUT_MS = 30_000;
/** Default recorded time when the benchmark gives no `duration`. */
const DEFAULT_DURATION_S = 10;

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
  /** What the point found about its own conditions (skipped ticks, frame rate, rate target, clocks). */
  conditions: Omit<PointConditions, 'placement'>;
  /** The recorded window, on the reports' clock (ms). */
  window: { fromMs: number; toMs: number };
  /** The freezes of the window (qoe.freeze_*), on the reports' clock. */
  freezes: Span[];
  /** PSNR and SSIM over time (t in s), merged into the point's series. */
  qualitySeries?: { t: number[]; cols: Record<string, number[]> };
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
      // A user's policy travels as its text, so the guest runs this code wherever it runs.
      if (isPolicyFile(settings.policy)) settings.policyCode = readPolicyCode(settings.policy);
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: 0, flags: [] };
    }
    // A CPU this machine lacks is the benchmark's mistake, said before anything starts (a role on
    // another machine is checked by taskset there: its failure names the CPU in the role's log).
    const here = machineCpus().length;
    for (const [role, list] of Object.entries(this.w.cpus ?? {})) {
      const bad = list.filter((c) => c >= here);
      if (bad.length > 0 && !ctx.placement?.remote(role)) return { outcome: { status: 'failed', error: `workload.cpus pins ${role} to CPU ${bad.join(', ')}, and this machine has CPUs 0-${here - 1}` }, metrics: {}, wallS: 0, flags: [] };
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
      // taskset execs the role: its pid, and so its process group, stay the role's.
      const pin = this.w.cpus?.[name];
      const argv = pin ? ['taskset', '--cpu-list', pin.join(','), ...cliArgv('stream', args)] : cliArgv('stream', args);
      const child = ctx.placement ? ctx.placement.spawn(name, argv, opts) : spawn(argv[0]!, argv.slice(1), opts);
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
    let timeBase: TimeBase;
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
    // A role that failed while streaming wrote why in its report (e.g. the guest's policy threw).
    const said = bad ? roleError(join(ctx.dir, `${bad.r.name}.json`)) : undefined;
    if (bad && said !== undefined) return { outcome: { status: 'failed', error: `${bad.r.name}: ${said}` }, metrics: {}, wallS, flags: [] };
    if (bad) return { outcome: { status: 'failed', error: `${bad.r.name} ${bad.res.signal ? `was killed by ${bad.res.signal}` : `exited with code ${bad.res.code}`} (see ${bad.r.name}.log)` }, metrics: {}, wallS, flags: [] };

    let reports: { guest: RoleReport; host: RoleReport; client: RoleReport };
    try {
      const raw = {
        guest: readRoleReport(join(ctx.dir, 'guest.json'), 'guest'),
        host: readRoleReport(join(ctx.dir, 'host.json'), 'host'),
        client: readRoleReport(join(ctx.dir, 'client.json'), 'client'),
      };
      // Every stamp onto the point's clock before any figure: roles on other machines read other clocks.
      const tb = await ctx.timeBase(STREAM_ROLES);
      const unknown = STREAM_ROLES.find((r) => !tb.known(r));
      if (unknown) return { outcome: { status: 'failed', error: `the times of ${unknown} cannot be put on the point's clock: ${tb.whyUnknown(unknown)}` }, metrics: {}, wallS, flags: [] };
      reports = { guest: mapReportTimes(raw.guest, (t) => tb.toPoint('guest', t)), host: mapReportTimes(raw.host, (t) => tb.toPoint('host', t)), client: mapReportTimes(raw.client, (t) => tb.toPoint('client', t)) };
      timeBase = tb;
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS, flags: [] };
    }
    const tb = timeBase;
    const a = analyzeStream(settings, reports, { uncertaintyMs: tb.crossUncertaintyMs(STREAM_ROLES), controls: this.w.schedule.length > 0 });
    // SI/TI of the source is computed here, after the roles have ended, so it never shares the
    // cores with the processes being measured.
    try {
      Object.assign(a.metrics, await sourceSiTiMetrics(settings, { signal: ctx.signal }));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may have fired during the await above
      if (ctx.signal.aborted) return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS, flags: [] };
      a.flags.push(`source.si/ti not measured: ${errorMessage(e)}`);
    }
    // The kernel's account of the three reaped role processes, against what they reported.
    // Roles on other machines are no children of this process: the kernel here cannot account for them.
    if (!STREAM_ROLES.some((r) => ctx.placement?.remote(r))) a.metrics['roles.cpu_kernel_s'] = round(kernel1.user + kernel1.system - kernel0.user - kernel0.system);
    a.metrics['roles.cpu_reported_s'] = round([reports.guest, reports.host, reports.client].reduce((acc, r) => acc + (r.cpuTotalS ?? NaN), 0));
    await writeSeriesParquet(join(ctx.dir, 'frames.parquet'), a.frames);
    // The decisions taken while streaming, each with its stamps, on the point's clock.
    const controls = stampControls(reports.guest.controls ?? [], reports.client.frames as ClientFrame[]);
    if (controls.length > 0) writeJsonAtomic(join(ctx.dir, CONTROLS_FILE), JSON.parse(JSON.stringify(controls, nanToNull)));
    // The relay's queues and offered capacity on the point's clock (seconds since the point began), as every other series.
    const parts = hostSeries(reports.host);
    if (settings.policy !== 'fixed') parts.push(policySeries(settings, reports));
    if (a.qualitySeries) parts.push(a.qualitySeries);
    // The freezes of the window on the point's clock, for the frame view's marks (docs/adaptive.md).
    writeJsonAtomic(join(ctx.dir, FREEZES_FILE), { thresholdMs: settings.freezeMs, freezes: a.freezes });
    const series = parts.length === 1 ? { t: parts[0]!.t, ...parts[0]!.cols } : mergeStepSeries(parts);
    // The traces replayed, by the name the matrix gives them and the hash of what was replayed.
    const traces = { ...(settings.net.trace ? { net_trace: traceRecord(settings.net.trace) } : {}), ...(settings.net.traceUp ? { net_trace_up: traceRecord(settings.net.traceUp) } : {}) };
    if (Object.keys(traces).length > 0) writeJsonAtomic(join(ctx.dir, 'traces.json'), traces);
    const w = a.window;
    const timeline: PointTimeline = { warmup: [reports.guest.startMs / 1000, w.fromMs / 1000], window: [w.fromMs / 1000, w.toMs / 1000], clocks: tb.summary() };
    return {
      outcome: { status: 'ok' },
      metrics: a.metrics,
      wallS,
      flags: a.flags,
      series,
      window: { fromMs: w.fromMs + tb.originMs, toMs: w.toMs + tb.originMs },
      timeline,
      conditions: a.conditions,
      // The CPUs as the kernel gave them to each pinned role (its own /proc/self/status), not as asked.
      ...(this.w.cpus ? { pinned: Object.fromEntries(Object.keys(this.w.cpus).map((role) => [role, cpuList(reports[role as keyof typeof reports].affinity)])) } : {}),
    };
  }
}

/** The point's file of decisions (ControlRecord[], read back with readControls). */
export const CONTROLS_FILE = 'controls.json';
/** The point's freezes: {thresholdMs, freezes: [{fromMs, toMs}]}, ms since the point began. */
export const FREEZES_FILE = 'freezes.json';

/**
 * The guest's decisions with their last stamp: the first frame shown at the client from the first
 * frame encoded with it on (the frames of one point share their numbers across roles). A decision
 * whose frames were never shown keeps no shown stamp. Resolution changes also name the scaling back.
 */
export function stampControls(controls: readonly ControlRecord[], client: readonly ClientFrame[]): ControlRecord[] {
  const shown = client.filter((f) => Number.isFinite(f.display)).sort((a, b) => a.frame - b.frame);
  return controls.map((c) => {
    const out: ControlRecord = { ...c };
    if (c.resolution !== undefined && c.rejected === undefined) out.scaledBack = scalerName(CLIENT_SCALE);
    if (c.encodedFrame === undefined) return out;
    const first = shown.find((f) => f.frame >= c.encodedFrame!);
    if (first) {
      out.shownFrame = first.frame;
      out.shownMs = first.display;
    }
    return out;
  });
}

/** Reads a point's controls.json; throws naming the file and the record that is wrong. */
export function readControls(path: string): ControlRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${errorMessage(e)}`);
  }
  if (!Array.isArray(v)) throw new Error(`${path}: must be a list of control records`);
  return v.map((c, i) => parseControlRecord(c, `${path}: [${i}]`));
}

/** The relay's series as timeseries columns (t in s), each part on its own times: queue and queueing delay toward the client, capacity offered, and the same toward the guest with net_trace_up. */
export function hostSeries(host: RoleReport): { t: number[]; cols: Record<string, number[]> }[] {
  const s = (t: readonly number[]) => t.map((x) => x / 1000);
  const q = host.queue ?? { t: [], bytes: [], packets: [] };
  const parts: { t: number[]; cols: Record<string, number[]> }[] = [{ t: s(q.t), cols: { queue_bytes: q.bytes, queue_packets: q.packets, ...(q.delayMs ? { queue_delay_ms: q.delayMs } : {}) } }];
  if (host.capacity) parts.push({ t: s(host.capacity.t), cols: { capacity_bps: host.capacity.bps } });
  if (host.queueUp) parts.push({ t: s(host.queueUp.t), cols: { queue_up_bytes: host.queueUp.bytes, ...(host.queueUp.delayMs ? { queue_up_delay_ms: host.queueUp.delayMs } : {}) } });
  if (host.capacityUp) parts.push({ t: s(host.capacityUp.t), cols: { capacity_up_bps: host.capacityUp.bps } });
  return parts;
}

/** What a point keeps of a trace it replayed: the file as named, its hash and form, and its mean rate. */
function traceRecord(spec: NetTraceSpec): { file: string; sha256: string; format: string; mean_bps: number } {
  return { file: spec.name, sha256: spec.sha256, format: spec.format, mean_bps: Math.round(traceSpecMeanBps(spec)) };
}

/** A kernel CPU list (`0-2,5`) as numbers; empty when unknown. */
export function cpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

/** The three roles of a stream point, as its declaration names them. */
export const STREAM_ROLES: readonly string[] = STREAM_DECL.roles;

/** A role's report with every time in it mapped through `f` (its machine's clock to the point's); unknown times stay NaN. */
export function mapReportTimes(r: RoleReport, f: (t: number) => number): RoleReport {
  const m = (t: number | null | undefined) => (t === null || t === undefined || !Number.isFinite(t) ? NaN : f(t));
  const frames = r.frames.map((x) => {
    const o: Record<string, unknown> = { ...x };
    for (const k of FRAME_TIME_FIELDS) if (k in o) o[k] = m(o[k] as number | null);
    return o as unknown as (typeof r.frames)[number];
  });
  return {
    ...r,
    startMs: m(r.startMs),
    endMs: m(r.endMs),
    frames,
    ...(r.controls ? { controls: r.controls.map((c) => ({ ...c, t: m(c.t), ...(c.encodedMs !== undefined ? { encodedMs: m(c.encodedMs) } : {}) })) } : {}),
    ...(r.policy ? { policy: { ...r.policy, t: r.policy.t.map(m) } } : {}),
    ...(r.queue ? { queue: { ...r.queue, t: r.queue.t.map(m) } } : {}),
    ...(r.capacity ? { capacity: { ...r.capacity, t: r.capacity.t.map(m) } } : {}),
    ...(r.queueUp ? { queueUp: { ...r.queueUp, t: r.queueUp.t.map(m) } } : {}),
    ...(r.capacityUp ? { capacityUp: { ...r.capacityUp, t: r.capacityUp.t.map(m) } } : {}),
    ...(r.timeline ? { timeline: { ...r.timeline, t: r.timeline.t.map(m) } } : {}),
    ...(r.skipped ? { skipped: { busy: r.skipped.busy.map(m), congested: r.skipped.congested.map(m) } } : {}),
    ...(r.agentEvents ? { agentEvents: { ...r.agentEvents, gaps: r.agentEvents.gaps.map((g) => ({ ...g, fromT: m(g.fromT), toT: m(g.toT) })) } } : {}),
  };
}

/** Every time field of the roles' frame records (guest, host and client frames). */
const FRAME_TIME_FIELDS = ['due', 'captureStart', 'captureEnd', 'encStart', 'encEnd', 'sendStart', 'sendEnd', 'inFirst', 'inEnd', 'outEnd', 'recvFirst', 'recvEnd', 'decStart', 'decEnd', 'display'] as const;

function finite(xs: number[]): number[] {
  return xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/**
 * Joins the three roles' records by frame number and computes the summary. The reports' times
 * must already be on one clock (mapReportTimes). Frames whose capture tick was due during the
 * warm-up are kept in the table (column warmup = 1) and left out of every summary figure, as are
 * the warm-up's skipped ticks, drops, CPU and bytes: each role's own account (its timeline) is
 * read at the window's edges.
 */
export function analyzeStream(s: StreamSettings, r: { guest: RoleReport; host: RoleReport; client: RoleReport }, o: { uncertaintyMs?: number; controls?: boolean } = {}): StreamAnalysis {
  const t0 = r.guest.startMs;
  const windowStart = t0 + s.warmupS * 1000;
  const windowEnd = windowStart + s.durationS * 1000;
  const hostBy = new Map((r.host.frames as HostFrame[]).map((f) => [f.frame, f]));
  const clientBy = new Map((r.client.frames as ClientFrame[]).map((f) => [f.frame, f]));
  const n = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
  const cols: Record<string, number[]> = {};
  const names = ['frame', 'warmup', 'key', 'bytes', 'width', 'height', 'capture_start', 'capture_end', 'enc_end', 'send_end', 'host_in', 'host_out', 'recv_end', 'dec_start', 'dec_end', 'display', 'latency_ms', 'psnr', 'ssim', 'lost', 'dropped', 'shown', 'late'];
  for (const c of names) cols[c] = [];
  // Late: decoded and shown more than late_ms after capture. One predicate for the frame table's
  // column and frames.late, so the GUI counts the figure's frames and no others.
  const late = (g: GuestFrame, c: ClientFrame | undefined) => c !== undefined && !c.dropped && Number.isFinite(n(c.decEnd)) && n(c.display) - g.captureStart > s.lateMs;
  const inWindow: { g: GuestFrame; h?: HostFrame; c?: ClientFrame }[] = [];
  for (const g of r.guest.frames as GuestFrame[]) {
    const h = hostBy.get(g.frame);
    const c = clientBy.get(g.frame);
    const warm = n(g.due ?? g.captureStart) < windowStart;
    if (!warm) inWindow.push({ g, ...(h ? { h } : {}), ...(c ? { c } : {}) });
    const display = n(c?.display);
    const decoded = c !== undefined && !c.dropped && Number.isFinite(n(c.decEnd));
    // Times in ms since the point began: the clock of the run view's samples and series.
    const row: Record<string, number> = {
      frame: g.frame,
      warmup: warm ? 1 : 0,
      key: g.key ? 1 : 0,
      bytes: g.bytes,
      // Reports from before live resolution changes hold no size: every frame was the configured one.
      width: g.width ?? s.width,
      height: g.height ?? s.height,
      capture_start: g.captureStart,
      capture_end: g.captureEnd,
      enc_end: g.encEnd,
      send_end: g.sendEnd,
      host_in: h ? n(h.inEnd) : NaN,
      host_out: h ? n(h.outEnd) : NaN,
      recv_end: c ? n(c.recvEnd) : NaN,
      dec_start: c ? n(c.decStart) : NaN,
      dec_end: c ? n(c.decEnd) : NaN,
      display,
      latency_ms: display - g.captureStart,
      psnr: n(c?.psnr),
      ssim: n(c?.ssim),
      lost: c === undefined || c.dropped === 'lost' ? 1 : 0,
      dropped: decoded ? 0 : 1,
      shown: Number.isFinite(display) ? 1 : 0,
      late: late(g, c) ? 1 : 0,
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
  const bytesReceived = (r.client.frames as ClientFrame[]).filter((c) => n(c.recvEnd) >= windowStart && n(c.recvEnd) < windowEnd).reduce((acc, c) => acc + c.bytes, 0);
  // Freezes: how long the screen kept showing one frame beyond 1.5 frame intervals.
  const shownTimes = shown.map((x) => n(x.c!.display)).sort((a, b) => a - b);
  let frozenMs = 0;
  for (let i = 1; i < shownTimes.length; i++) frozenMs += Math.max(0, shownTimes[i]! - shownTimes[i - 1]! - 1.5 * (1000 / s.fps));
  // Each role's CPU in the window, from its own account sampled over time; a report from before
  // the timeline existed has only its whole streaming life.
  const cpuS = (role: RoleReport) => (role.timeline ? growthBetween(role.timeline.t, role.timeline.cpuS, windowStart, windowEnd) : role.cpuUserS + role.cpuSystemS);
  const cpuWindowS = (role: RoleReport) => (role.timeline ? windowS : (role.endMs - role.startMs) / 1000);
  // A counter's growth in the window (whole-life total for a report without a timeline).
  const counted = (role: RoleReport, name: string) => {
    const xs = role.timeline?.counters[name];
    return xs ? Math.round(growthBetween(role.timeline!.t, xs, windowStart, windowEnd)) : (role.counters[name] ?? 0);
  };
  const inWin = (ts: readonly number[]) => ts.filter((t) => t >= windowStart && t < windowEnd).length;
  const skippedCongested = r.guest.skipped ? inWin(r.guest.skipped.congested) : (r.guest.counters['skipped_congested'] ?? 0);
  const skipped = (r.guest.skipped ? inWin(r.guest.skipped.busy) : (r.guest.counters['skipped_busy'] ?? 0)) + skippedCongested;
  const dropQueue = counted(r.host, 'dropped_queue');
  const dropLoss = counted(r.host, 'dropped_loss');
  const packetsIn = counted(r.host, 'packets_in');
  const q = r.host.queue;
  const maxQueue = q ? maxInWindow(q.t, q.bytes, windowStart, windowEnd) : (r.host.counters['max_queue_bytes'] ?? 0);
  const perFrame = (role: RoleReport, frames: number) => (frames > 0 ? round((cpuS(role) * 1000) / frames, 3) : NaN);

  const qoe = qoeOf(s, r, { fromMs: windowStart, toMs: windowEnd }, { captureMs: shown.map((x) => x.g.captureStart), latencyMs: shown.map((x) => n(x.c!.display) - x.g.captureStart) }, bytesReceived);
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
    'frames.late': inWindow.filter((x) => late(x.g, x.c)).length,
    'frames.frozen_ms': round(frozenMs, 1),
    'frames.keyframes': inWindow.filter((x) => x.g.key).length,
    'guest.skipped': skipped,
    'guest.skipped_congested': skippedCongested,
    'guest.cpu_s': round(cpuS(r.guest)),
    'host.cpu_s': round(cpuS(r.host)),
    'client.cpu_s': round(cpuS(r.client)),
    'guest.cpu_pct': round((cpuS(r.guest) / cpuWindowS(r.guest)) * 100, 2),
    'host.cpu_pct': round((cpuS(r.host) / cpuWindowS(r.host)) * 100, 2),
    'client.cpu_pct': round((cpuS(r.client) / cpuWindowS(r.client)) * 100, 2),
    'guest.cpu_ms_per_frame': perFrame(r.guest, sent),
    'host.cpu_ms_per_frame': perFrame(r.host, inWindow.filter((x) => x.h && Number.isFinite(n(x.h.inEnd))).length),
    'client.cpu_ms_per_frame': perFrame(r.client, decoded.length),
    'host.bytes_out': counted(r.host, 'bytes_out'),
    'host.dropped': dropQueue + dropLoss,
    'host.dropped_queue': dropQueue,
    'host.dropped_loss': dropLoss,
    'host.max_queue_kb': round(maxQueue / 1024, 1),
    'net.loss_measured_pct': round(packetsIn ? ((dropLoss + dropQueue) / packetsIn) * 100 : 0, 3),
    'client.keyframe_requests': counted(r.client, 'keyframe_requests'),
    controls: (r.guest.controls ?? []).length,
    ...(s.policy !== 'fixed' ? policyMetrics(s, r.guest, windowStart, windowEnd) : {}),
    'clock.uncertainty_ms': round(o.uncertaintyMs ?? 0),
    ...qoe.metrics,
  };
  for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isNaN(v) && k.endsWith('cpu_ms_per_frame')) delete metrics[k];
  const flags: string[] = [];
  if (sent === 0) flags.push('no frame was captured in the recorded window');
  for (const role of [r.guest, r.host, r.client]) for (const note of role.notes ?? []) flags.push(`${role.role}: ${note}`);
  // Frame events a role could not hand to its agent: missing from events.parquet, said as a gap.
  for (const role of [r.guest, r.host, r.client]) {
    for (const g of role.agentEvents?.gaps ?? []) flags.push(`recording gap: ${role.role}: ${g.count} frame event(s) given up, stamped ${(g.fromT / 1000).toFixed(1)} s to ${(g.toT / 1000).toFixed(1)} s (${g.why})`);
  }
  const fpsChanged = (r.guest.controls ?? []).some((c) => c.fps !== undefined);
  const bitrateChanged = (r.guest.controls ?? []).some((c) => c.bitrate !== undefined);
  return { metrics, frames: cols, flags, freezes: qoe.freezes, ...(qoe.series ? { qualitySeries: qoe.series } : {}), conditions: streamConditions(s, metrics, { ticks: sent + skipped, fpsChanged, bitrateChanged }), window: { fromMs: windowStart, toMs: windowEnd } };
}

/** The largest value of a step series (each value holds until the next sample) over [from, to). */
function maxInWindow(t: readonly number[], v: readonly number[], from: number, to: number): number {
  let max = 0;
  let before: number | undefined;
  for (let i = 0; i < t.length; i++) {
    if (t[i]! < from) before = v[i];
    else if (t[i]! < to) max = Math.max(max, v[i]!);
  }
  return Math.max(max, before ?? 0);
}

/**
 * What a stream point checks about itself (thresholds in src/config/conditions.ts): skipped
 * capture ticks, the frame rate against its target, a constant bitrate above its target, and
 * the clocks' uncertainty against the latency they measure.
 */
export function streamConditions(s: StreamSettings, m: Record<string, MetricValue>, o: { ticks: number; fpsChanged: boolean; bitrateChanged: boolean }): Omit<PointConditions, 'placement'> {
  const T = CONDITION_THRESHOLDS;
  const found: Condition[] = [];
  const checked: string[] = [];
  const notChecked: PointConditions['notChecked'] = [];
  const num = (k: string) => m[k] as number;
  const add = (code: Condition['code'], reason: string) => found.push({ code, severity: CONDITION_DOCS[code].severity, reason });
  checked.push('frames_skipped');
  // Ticks held back by a congested path (the socket's backlog, a policy's congestion window) are
  // the network's doing, not the machine's: they are counted (guest.skipped_congested), not flagged.
  const congested = (m['guest.skipped_congested'] as number | undefined) ?? 0;
  const busy = num('guest.skipped') - congested;
  if (o.ticks > 0 && busy > 1 && busy / o.ticks > T.skippedShare) add('frames_skipped', `the guest skipped ${busy} of ${o.ticks} capture ticks (${((busy / o.ticks) * 100).toFixed(1)} %, above ${T.skippedShare * 100} %): its encoder was still busy`);
  if (o.fpsChanged) notChecked.push({ check: 'fps_below_target', why: 'the frame rate changed during the point' });
  else {
    checked.push('fps_below_target');
    const offered = num('guest.fps') + congested / s.durationS;
    if (offered < T.fpsShare * s.fps) add('fps_below_target', `the guest sent ${num('guest.fps')} fps for a target of ${s.fps} (below ${T.fpsShare * 100} %${congested > 0 ? `, counting the ${congested} ticks a congested path held back as sent` : ''})`);
  }
  if (s.rateControl !== 'cbr') notChecked.push({ check: 'bitrate_target_missed', why: `rate control is ${s.rateControl}, which sets no rate to hold` });
  else if (o.bitrateChanged) notChecked.push({ check: 'bitrate_target_missed', why: 'the bitrate changed during the point' });
  else {
    checked.push('bitrate_target_missed');
    const over = (num('guest.bitrate') / s.bitrateBps - 1) * 100;
    if (over > T.bitrateOvershootPct) add('bitrate_target_missed', `the encoder sent ${fmtRate(num('guest.bitrate'))} for a CBR target of ${fmtRate(s.bitrateBps)} (+${over.toFixed(1)} %, above +${T.bitrateOvershootPct} %)`);
  }
  const u = num('clock.uncertainty_ms');
  const p50 = num('latency.p50');
  if (!Number.isFinite(p50)) notChecked.push({ check: 'clock_uncertain', why: 'no frame was shown, so there is no latency to compare with' });
  else {
    checked.push('clock_uncertain');
    if (u > T.clockShareOfLatency * p50) add('clock_uncertain', `the roles' clocks are known within ±${u} ms, more than ${T.clockShareOfLatency * 100} % of latency.p50 (${p50} ms)`);
  }
  return { checked, notChecked, found };
}

function fmtRate(bps: number): string {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${(bps / 1e3).toFixed(0)} kbit/s`;
}

/** The error a role wrote in its report before exiting non-zero; undefined when it wrote none (or no report). */
function roleError(path: string): string | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { error?: unknown };
    return typeof v.error === 'string' ? v.error : undefined;
  } catch {
    return undefined; // no report: the exit code and the log say what happened
  }
}

/** A user's policy file as the settings carry it; throws naming the file when it cannot be read. */
function readPolicyCode(file: string): NonNullable<StreamSettings['policyCode']> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`policy ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
  }
  return { name: file, source, sha256: policyHash(source) };
}

/** The policy's figures of the window: its decisions that changed the encoder, and its target at the window's end. */
function policyMetrics(s: StreamSettings, guest: RoleReport, from: number, to: number): Record<string, MetricValue> {
  const decisions = (guest.controls ?? []).filter((c) => c.from === 'policy' && c.t >= from && c.t < to).length;
  return { 'policy.decisions': decisions, 'policy.target_bps': Math.round(stepAt(guest.policy?.t ?? [], guest.policy?.targetBps ?? [], to, s.bitrateBps)) };
}

/** The value of a step series (each value holds until the next) at `at`; `before` until its first sample. */
function stepAt(t: readonly number[], v: readonly number[], at: number, before: number): number {
  let out = before;
  for (let i = 0; i < t.length && t[i]! <= at; i++) out = v[i]!;
  return out;
}

/** Rates are measured over this trailing span: a few frames, so one keyframe does not make a spike. */
const RATE_SPAN_MS = 250;

/**
 * The series of a point with a policy, at the guest's timeline samples (t in s), to merge with the
 * relay's: the policy's target (a step series), the guest's sending and the client's receiving
 * rate over the trailing RATE_SPAN_MS (NaN in the first RATE_SPAN_MS, where there is no such span yet).
 */
export function policySeries(s: StreamSettings, r: { guest: RoleReport; host: RoleReport; client: RoleReport }): { t: number[]; cols: Record<string, number[]> } {
  const g = r.guest.timeline;
  const c = r.client.timeline;
  const p = r.guest.policy ?? { t: [], targetBps: [] };
  const ts = (g?.t ?? []).filter((t) => Number.isFinite(t));
  const rate = (tl: RoleReport['timeline'], counter: string, t: number) => {
    const xs = tl?.counters[counter];
    if (!tl || !xs || t - RATE_SPAN_MS < tl.t[0]!) return NaN;
    return (growthBetween(tl.t, xs, t - RATE_SPAN_MS, t) * 8 * 1000) / RATE_SPAN_MS;
  };
  const cols: Record<string, number[]> = { target_bps: [], sent_bps: [], delivered_bps: [] };
  // A cursor into the policy's step series: the rows are in time order, so it is walked once.
  let pi = -1;
  for (const t of ts) {
    while (pi + 1 < p.t.length && p.t[pi + 1]! <= t) pi++;
    cols['target_bps']!.push(pi >= 0 ? p.targetBps[pi]! : s.bitrateBps);
    cols['sent_bps']!.push(Math.round(rate(g, 'bytes_sent', t)));
    cols['delivered_bps']!.push(Math.round(rate(c, 'bytes_received', t)));
  }
  return { t: ts.map((t) => t / 1000), cols };
}
