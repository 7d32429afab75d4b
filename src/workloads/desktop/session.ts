/**
 * One desktop point, whatever the stack: the guest's server and content (guest.ts), the shaping
 * relay in front of the server (relay.ts), the viewer on the client's screen with the grabber that
 * reads it (client.ts); it waits until the chain runs, records warm-up and window, ends every
 * process (processes.ts), and computes the family's figures (metrics.ts) beside the stack's own.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monoMs } from '../../base/clock.ts';
import { errorMessage } from '../../base/errors.ts';
import type { MetricValue, PointTimeline } from '../../store/records.ts';
import { writeSeriesParquet } from '../../store/parquet.ts';
import type { PointContext, PointResult } from '../workload.ts';
import { startClient } from './client.ts';
import { codecVerdict } from './codec.ts';
import { readStamps } from './content.ts';
import { DESKTOP_ROLES } from './metrics.ts';
import { startGuest } from './guest.ts';
import { screenLatency } from './latency.ts';
import { ProcessSet, sleep, treeCpuS } from './processes.ts';
import { capacitySeries, readRelayReport, relayFigures, RELAY_REPORT, startRelay } from './relay.ts';
import { GRAB_FPS } from './screen.ts';
import type { DesktopSettings, DesktopStack } from './stack.ts';

/** How long the chain may take to run (server, content, relay, viewer) before the point fails. */
const START_TIMEOUT_MS = 120_000;

/** What every desktop point needs besides its stack's programs. */
const COMMON_NEEDS = ['/usr/bin/Xvfb', '/usr/bin/ffplay'];

/** Runs one desktop point of `stack` with its settings. */
export async function runDesktopPoint<S extends DesktopSettings>(ctx: PointContext, stack: DesktopStack<S>, s: S): Promise<PointResult> {
  for (const bin of [...stack.needs, ...COMMON_NEEDS]) {
    if (!existsSync(bin)) return { outcome: { status: 'failed', error: `${bin} is missing: run scripts/setup.sh (it installs what the ${stack.name} workload needs)` }, metrics: {}, wallS: 0, flags: [] };
  }
  const durationS = s.durationS;
  const t0 = monoMs();
  const procs = new ProcessSet(ctx);
  const xdg = join(ctx.dir, '.xdg');
  mkdirSync(xdg, { recursive: true, mode: 0o700 });
  const abort = () => void procs.stopAll();
  ctx.signal.addEventListener('abort', abort, { once: true });
  const flags: string[] = [];
  const interrupted = (): PointResult => ({ outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags });
  try {
    const taken = new Set<number>();
    const watch = (role: string) => (label: string, pid: number) => ctx.watch?.(role, { label, pid, tree: true });
    const guest = await startGuest(procs, stack, { dir: ctx.dir, xdg, settings: s, taken, lifetimeS: s.warmupS + durationS + START_TIMEOUT_MS / 1000 + 30, watch: watch('guest') });
    const relay = await startRelay(procs, { dir: ctx.dir, net: s.net, upstream: { host: '127.0.0.1', port: guest.port } });
    ctx.watch?.('host', { label: 'relay', pid: relay.child.pid!, tree: true });
    const client = await startClient(procs, stack, { xdg, settings: s, taken, relay: { host: '127.0.0.1', port: relay.port }, watch: watch('client') });

    // The warm-up starts once the chain runs: the content drew its first frame and the client
    // shows the guest's screen. On a busy machine their start-up can take longer than the warm-up
    // itself, and the window would then measure a start-up instead of a session.
    const end = monoMs() + START_TIMEOUT_MS;
    while (!ctx.signal.aborted && !(guest.content.started() && stack.showsGuest(ctx.dir))) {
      if (monoMs() > end) throw new Error(`the ${stack.name} session did not start within ${START_TIMEOUT_MS / 1000} s: ${guest.content.started() ? 'the client never showed the guest screen (see client.log)' : 'the scene player drew no frame (see frames.log, player.log)'}`);
      await sleep(100, ctx.signal);
    }
    const running = monoMs();
    const startupS = (running - t0) / 1000;
    await sleep(s.warmupS * 1000, ctx.signal);
    const tree = { server: [guest.server], player: guest.content.procs, relay: [relay.child], client: [client.viewer], grab: [client.grab] };
    const cpuNow = () => Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, treeCpuS(v)])) as Record<keyof typeof tree, number | undefined>;
    const w0 = monoMs();
    const wall0 = msSinceMidnight();
    const cpu0 = cpuNow();
    await sleep(durationS * 1000, ctx.signal);
    const w1 = monoMs();
    const wall1 = msSinceMidnight();
    const cpu1 = cpuNow();
    if (ctx.signal.aborted) {
      await procs.stopAll();
      return interrupted();
    }
    await procs.stopAll();
    // Every stamp onto the point's clock: the relay's capacity series is the one that leaves the point as times.
    const tb = await ctx.timeBase(DESKTOP_ROLES);

    const metrics: Record<string, MetricValue> = {};
    metrics['client.startup_s'] = Number(startupS.toFixed(2));
    const pct = (k: keyof typeof tree) => Number(((((cpu1[k] ?? NaN) - (cpu0[k] ?? NaN)) / ((w1 - w0) / 1000)) * 100).toFixed(2));
    metrics['guest.cpu_pct'] = pct('server');
    metrics['player.cpu_pct'] = pct('player');
    metrics['host.cpu_pct'] = pct('relay');
    metrics['client.cpu_pct'] = pct('client');
    metrics['grab.cpu_pct'] = pct('grab');

    const own = stack.figures(ctx.dir, s, { fromMs: w0, toMs: w1, wallFromMs: wall0, wallToMs: wall1, durationS });
    const codec = codecVerdict(own.codec);
    Object.assign(metrics, own.metrics, codec.metrics);
    flags.push(...codec.flags, ...own.flags);

    metrics['client.fps_screen'] = Number((client.screen.distinctIn(w0, w1) / durationS).toFixed(2));
    metrics['client.screen_frames_read'] = client.screen.read;
    if (guest.content.stamps !== undefined) {
      const lat = screenLatency(readStamps(guest.content.stamps), client.screen.firstSeen(), w0, w1);
      metrics['latency.p50'] = lat.p50;
      metrics['latency.p95'] = lat.p95;
      metrics['latency.frames_seen'] = lat.seen;
      metrics['latency.grab_ms'] = Number((1000 / GRAB_FPS).toFixed(2));
      await writeSeriesParquet(join(ctx.dir, 'frames.parquet'), lat.frames);
      if (lat.seen === 0) flags.push(`no frame the player drew in the window was read on the client's screen: no latency (${client.screen.grabs} grabs, ${client.screen.read} read)`);
    }

    const report = readRelayReport(join(ctx.dir, RELAY_REPORT));
    Object.assign(metrics, relayFigures(report, { fromMs: w0, toMs: w1, durationS }));
    const capacity = capacitySeries(report, (t) => tb.toPoint('host', t));
    // The warm-up and the window on the point's clock (the machinery's stamps are this process's clock, the base).
    const sec = (t: number) => (t - tb.originMs) / 1000;
    const timeline: PointTimeline = { warmup: [sec(running), sec(w0)], window: [sec(w0), sec(w1)], clocks: tb.summary() };
    const result: PointResult = { outcome: { status: 'ok' }, metrics, wallS: (w1 - w0) / 1000, flags, window: { fromMs: w0, toMs: w1 }, timeline, ...(capacity ? { series: capacity } : {}) };
    // A stream the client could not decode leaves figures of whatever the server fell back to
    // (images, at many times the bitrate): the point failed, with the stack's own words.
    if (codec.failure !== undefined) return { ...result, outcome: { status: 'failed', error: codec.failure } };
    return result;
  } catch (e) {
    await procs.stopAll();
    if (ctx.signal.aborted) return interrupted();
    return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags };
  } finally {
    ctx.signal.removeEventListener('abort', abort);
  }
}

/** Wall-clock ms since local midnight: the time of day the stacks' debug logs stamp their lines with. */
function msSinceMidnight(): number {
  const d = new Date();
  return ((d.getHours() * 60 + d.getMinutes()) * 60 + d.getSeconds()) * 1000 + d.getMilliseconds();
}
