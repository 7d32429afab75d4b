/**
 * One desktop point, whatever the stack: three role processes, each started on its role's machine
 * through the point's placement (or here, the same way, when there is none): `streambench desktop
 * guest` (the stack's server and the content, roles.ts), the shaping relay (`streambench stream host
 * --proxy`, relay.ts) and `streambench desktop client` (the viewer on the client's screen with the
 * grabber that reads it). It waits until the chain runs, records warm-up and window on the point's
 * clock, ends the roles (processes.ts), maps every role's stamps onto the point's clock through the
 * time base, and computes the family's figures (metrics.ts) beside the stack's own.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliArgv } from '../../base/cli-process.ts';
import { monoMs } from '../../base/clock.ts';
import { errorMessage } from '../../base/errors.ts';
import { waitReady, type ReadyLine } from '../../base/spawn-ready.ts';
import { CONDITION_DOCS, CONDITION_THRESHOLDS } from '../../config/conditions.ts';
import type { ParamValue } from '../../config/resolved.ts';
import type { TimeBase } from '../../record/timebase.ts';
import type { MetricValue, PointConditions, PointTimeline } from '../../store/records.ts';
import { writeSeriesParquet } from '../../store/parquet.ts';
import { growthBetween } from '../../stream/timeline.ts';
import type { PointContext, PointResult } from '../workload.ts';
import { codecVerdict } from './codec.ts';
import { readStamps, STAMPS_FILE } from './content.ts';
import { DESKTOP_ROLES } from './metrics.ts';
import { screenLatency } from './latency.ts';
import { ProcessSet, sleep } from './processes.ts';
import { capacitySeries, readRelayReport, relayFigures, RELAY_REPORT, startRelay } from './relay.ts';
import { parseRoleReport, roleParams, type DesktopRoleConfig, type DesktopRoleName, type DesktopRoleReport } from './role-config.ts';
import { ROLE_READY_TIMEOUT_MS } from './roles.ts';
import { GRAB_FPS } from './screen.ts';
import type { DesktopSettings, DesktopStack } from './stack.ts';

/** How long a role gets between SIGTERM and SIGKILL: it stops its own programs (3 s grace each) and writes its report first. */
const ROLE_STOP_GRACE_MS = 20_000;
/** How long the roles have to stop and write their reports once asked (the stop file) before they are signalled. */
const ROLE_EXIT_WAIT_MS = 30_000;

/** Where a point's settings came from: its parameters as written, and the content program if any (what the role processes rebuild the settings from). */
export interface DesktopSource {
  params: Readonly<Record<string, ParamValue>>;
  content?: string[];
}

/** Runs one desktop point of `stack` with its settings `s`, made from `source`. */
export async function runDesktopPoint<S extends DesktopSettings>(ctx: PointContext, stack: DesktopStack<S>, s: S, source: DesktopSource): Promise<PointResult> {
  const durationS = s.durationS;
  const t0 = monoMs();
  const procs = new ProcessSet(ctx);
  mkdirSync(ctx.dir, { recursive: true });
  const abort = () => void procs.stopAll(ROLE_STOP_GRACE_MS);
  ctx.signal.addEventListener('abort', abort, { once: true });
  const flags: string[] = [];
  const interrupted = (): PointResult => ({ outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags });
  const failed = (error: string): PointResult => ({ outcome: { status: 'failed', error }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags });
  const cfg: DesktopRoleConfig = { stack: stack.id, params: roleParams(source.params), ...(source.content ? { content: source.content } : {}), warmupS: s.warmupS, durationS, lifetimeS: s.warmupS + durationS + (2 * ROLE_READY_TIMEOUT_MS) / 1000 + 30 };
  const at = (role: string) => ctx.placement?.address(role) ?? '127.0.0.1';
  const report = (role: DesktopRoleName) => join(ctx.dir, `desktop-${role}.json`);
  // The roles stop when this file appears (or at SIGTERM): through Slurm a SIGTERM cancels a role's
  // step, and its tasks are killed seconds later, maybe before the role wrote its report.
  const stopFile = join(ctx.dir, '.stop-roles');
  const startRole = async (role: DesktopRoleName, extra: string[], viewer?: Record<string, string>): Promise<ReadyLine> => {
    const name = `desktop-${role}`;
    const child = procs.start(name, cliArgv('desktop', [role, '--config', JSON.stringify({ ...cfg, ...(viewer ? { viewer } : {}) }), '--report', report(role), '--stop-file', stopFile, ...extra]), { stdout: 'pipe', on: role });
    let ready: ReadyLine;
    try {
      ready = await waitReady(child, { name: `the ${stack.name} ${role}`, log: `${name}.log`, timeoutMs: ROLE_READY_TIMEOUT_MS + 30_000 });
    } catch (e) {
      throw new Error(`${errorMessage(e)}${lastLine(join(ctx.dir, `${name}.log`))}`);
    }
    watchReady(ctx, role, ready);
    return ready;
  };
  try {
    const guest = await startRole('guest', ['--listen', at('guest')]);
    const relay = await startRelay(procs, { dir: ctx.dir, net: s.net, listen: at('host'), upstream: { host: at('guest'), port: Number(guest['port']) }, stopFile });
    ctx.watch?.('host', { label: 'relay', pid: relay.pid, tree: true });
    await startRole('client', ['--connect', `${at('host')}:${relay.port}`], viewerData(guest['viewer']));

    // The warm-up starts once the chain runs: the content drew its first frame (the guest's ready
    // line) and the client shows the guest's screen (the client's). On a busy machine their
    // start-up can take longer than the warm-up itself, and the window would then measure a
    // start-up instead of a session.
    const running = monoMs();
    const startupS = (running - t0) / 1000;
    await sleep(s.warmupS * 1000, ctx.signal);
    const w0 = monoMs();
    const wall0 = msSinceMidnight();
    await sleep(durationS * 1000, ctx.signal);
    const w1 = monoMs();
    const wall1 = msSinceMidnight();
    writeFileSync(stopFile, '');
    // Each role stops what it started and writes its report; signals only for what is left after.
    if (!(await procs.allExited(ROLE_EXIT_WAIT_MS))) flags.push(`a role had not stopped ${ROLE_EXIT_WAIT_MS / 1000} s after it was asked to: it was signalled`);
    await procs.stopAll(ROLE_STOP_GRACE_MS);
    rmSync(stopFile, { force: true });
    if (ctx.signal.aborted) return interrupted();
    // Every stamp onto the point's clock: the player's on the guest's, the sightings on the client's.
    const tb = await ctx.timeBase(DESKTOP_ROLES);
    const unknown = DESKTOP_ROLES.find((r) => !tb.known(r));
    if (unknown) return failed(`the times of ${unknown} cannot be put on the point's clock: ${tb.whyUnknown(unknown)}`);
    const reports = { guest: readReport(report('guest')), client: readReport(report('client')) };
    const relayReport = readRelayReport(join(ctx.dir, RELAY_REPORT));

    const metrics: Record<string, MetricValue> = {};
    metrics['client.startup_s'] = Number(startupS.toFixed(2));
    const window = { fromMs: w0, toMs: w1 };
    const cpu = roleCpuPct(tb, window);
    metrics['guest.cpu_pct'] = cpu('guest', reports.guest.cpu.t, reports.guest.cpu.cpuS['server']);
    metrics['player.cpu_pct'] = cpu('guest', reports.guest.cpu.t, reports.guest.cpu.cpuS['player']);
    metrics['host.cpu_pct'] = cpu('host', relayReport.timeline?.t ?? [], relayReport.timeline?.cpuS);
    metrics['client.cpu_pct'] = cpu('client', reports.client.cpu.t, reports.client.cpu.cpuS['client']);
    metrics['grab.cpu_pct'] = cpu('client', reports.client.cpu.t, reports.client.cpu.cpuS['grab']);

    const own = stack.figures(ctx.dir, s, { fromMs: w0, toMs: w1, wallFromMs: wall0, wallToMs: wall1, durationS });
    const codec = codecVerdict(own.codec);
    Object.assign(metrics, own.metrics, codec.metrics);
    flags.push(...codec.flags, ...own.flags);

    const screen = mapSightings(reports.client.screen ?? { t: [], n: [], grabs: 0 }, (t) => tb.toBase('client', t));
    const shown = screen.distinctIn(w0, w1);
    metrics['client.fps_screen'] = Number((shown / durationS).toFixed(2));
    // CPU per picture delivered: the one frame count every stack has (what its protocol sent differs).
    for (const p of ['guest', 'host', 'client'] as const) {
      const pct = metrics[`${p}.cpu_pct`];
      if (shown > 0 && typeof pct === 'number' && Number.isFinite(pct)) metrics[`${p}.cpu_ms_per_frame`] = Number(((pct * 10 * durationS) / shown).toFixed(3));
    }
    metrics['client.screen_frames_read'] = screen.read;
    const stampsFile = join(ctx.dir, STAMPS_FILE);
    const uncertaintyMs = tb.crossUncertaintyMs(['guest', 'client']);
    metrics['clock.uncertainty_ms'] = Number(uncertaintyMs.toFixed(3));
    if (!s.content && !s.video) {
      const lat = screenLatency(
        mapStamps(readStamps(stampsFile), (t) => tb.toBase('guest', t)),
        screen.firstSeen,
        w0,
        w1,
      );
      metrics['latency.p50'] = lat.p50;
      metrics['latency.p95'] = lat.p95;
      metrics['latency.frames_seen'] = lat.seen;
      metrics['latency.grab_ms'] = Number((1000 / GRAB_FPS).toFixed(2));
      await writeSeriesParquet(join(ctx.dir, 'frames.parquet'), lat.frames);
      if (lat.seen === 0) flags.push(`no frame the player drew in the window was read on the client's screen: no latency (${screen.grabs} grabs, ${screen.read} read)`);
    }

    Object.assign(metrics, relayFigures(relayReport, { fromMs: tb.fromBase('host', w0), toMs: tb.fromBase('host', w1), durationS }));
    const capacity = capacitySeries(relayReport, (t) => tb.toPoint('host', t));
    // The warm-up and the window on the point's clock (this process's clock is the base).
    const sec = (t: number) => (t - tb.originMs) / 1000;
    const timeline: PointTimeline = { warmup: [sec(running), sec(w0)], window: [sec(w0), sec(w1)], clocks: tb.summary() };
    const result: PointResult = { outcome: { status: 'ok' }, metrics, wallS: (w1 - w0) / 1000, flags, window, timeline, conditions: desktopConditions(metrics), ...(capacity ? { series: capacity } : {}) };
    // A stream the client could not decode leaves figures of whatever the server fell back to
    // (images, at many times the bitrate): the point failed, with the stack's own words.
    if (codec.failure !== undefined) return { ...result, outcome: { status: 'failed', error: codec.failure } };
    return result;
  } catch (e) {
    await procs.stopAll(ROLE_STOP_GRACE_MS);
    if (ctx.signal.aborted) return interrupted();
    return failed(errorMessage(e));
  } finally {
    ctx.signal.removeEventListener('abort', abort);
  }
}

/** Asks the role's agent to watch the programs its ready line names (pids on the role's machine). */
function watchReady(ctx: PointContext, role: string, ready: ReadyLine): void {
  const watch = (ready['watch'] ?? {}) as Record<string, unknown>;
  for (const [label, pids] of Object.entries(watch)) {
    for (const pid of Array.isArray(pids) ? pids : []) if (typeof pid === 'number') ctx.watch?.(role, { label, pid, tree: true });
  }
}

/** What the guest's ready line hands over for the viewer (ServerStarted.viewer): an object of strings, or nothing. */
function viewerData(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new Error(`the guest's ready line has a viewer field that is not an object of strings: ${JSON.stringify(v)}`);
  return v as Record<string, string>;
}

/** A role's report; a missing or broken one fails the point naming the role's log. */
function readReport(path: string): DesktopRoleReport {
  if (!existsSync(path)) throw new Error(`the desktop role wrote no report ${path} (see ${path.replace(/\.json$/, '.log')})`);
  return parseRoleReport(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** ': <the last line of the log>' when there is one: a role that failed to start says why there. */
function lastLine(log: string): string {
  if (!existsSync(log)) return '';
  const line = readFileSync(log, 'utf8').trim().split('\n').at(-1);
  return line ? `: ${line}` : '';
}

/**
 * CPU percent of one core of a role's trees over the window (given on the point's base clock), read
 * off the role's own samples at the window's edges mapped onto its clock.
 */
export function roleCpuPct(tb: Pick<TimeBase, 'fromBase'>, window: { fromMs: number; toMs: number }): (role: string, t: readonly number[], cpuS: readonly number[] | undefined) => number {
  return (role, t, cpuS) => {
    if (!cpuS || t.length === 0) return NaN;
    const s = growthBetween(t, cpuS, tb.fromBase(role, window.fromMs), tb.fromBase(role, window.toMs));
    return Number(((s / ((window.toMs - window.fromMs) / 1000)) * 100).toFixed(2));
  };
}

/** The player's stamps (frame -> ms on the guest's clock) mapped onto the base clock. */
export function mapStamps(stamps: ReadonlyMap<number, number>, toBase: (t: number) => number): Map<number, number> {
  return new Map([...stamps].map(([n, t]) => [n, toBase(t)]));
}

/** The client's sightings (times on its clock) mapped onto the base clock: each frame's first sighting, the distinct frames in a window, the count. */
export function mapSightings(screen: NonNullable<DesktopRoleReport['screen']>, toBase: (t: number) => number): { firstSeen: Map<number, number>; distinctIn(from: number, to: number): number; read: number; grabs: number } {
  const t = screen.t.map(toBase);
  const firstSeen = new Map<number, number>();
  screen.n.forEach((n, i) => {
    if (!firstSeen.has(n)) firstSeen.set(n, t[i]!);
  });
  return {
    firstSeen,
    distinctIn: (from, to) => new Set(screen.n.filter((_, i) => t[i]! >= from && t[i]! < to)).size,
    read: screen.n.length,
    grabs: screen.grabs,
  };
}

/** What a desktop point checks about itself: the clocks' uncertainty against the latency they measure (as the stream's clock_uncertain). */
export function desktopConditions(m: Readonly<Record<string, MetricValue>>): Omit<PointConditions, 'placement'> {
  const u = m['clock.uncertainty_ms'] as number;
  const p50 = m['latency.p50'] as number | undefined;
  if (p50 === undefined || !Number.isFinite(p50)) return { checked: [], notChecked: [{ check: 'clock_uncertain', why: 'no frame of a scene was read on the client, so there is no latency to compare with' }], found: [] };
  const found =
    u > CONDITION_THRESHOLDS.clockShareOfLatency * p50
      ? [{ code: 'clock_uncertain' as const, severity: CONDITION_DOCS.clock_uncertain.severity, reason: `the guest's and the client's clocks are known within ±${u} ms, more than ${CONDITION_THRESHOLDS.clockShareOfLatency * 100} % of latency.p50 (${p50} ms)` }]
      : [];
  return { checked: ['clock_uncertain'], notChecked: [], found };
}

/** Wall-clock ms since local midnight: the time of day the stacks' debug logs stamp their lines with. */
function msSinceMidnight(): number {
  const d = new Date();
  return ((d.getHours() * 60 + d.getMinutes()) * 60 + d.getSeconds()) * 1000 + d.getMilliseconds();
}
