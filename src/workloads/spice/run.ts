/**
 * The `spice` workload: a real SPICE remote desktop per point. The SPICE server runs inside an
 * X server (Debian's xserver-xspice, configured by src/workloads/spice/xorg.ts), the content
 * plays on its display, the host relay proxies the SPICE connections through the emulated
 * network, and remote-viewer shows the session on a
 * virtual screen (Xvfb), where a screen grabber reads the frame numbers back independently: the
 * player's stamps against the first grab that shows each frame give the end-to-end latency
 * (src/workloads/spice/screen.ts).
 * Every process is its own process group, recorded in .live/ and ended at the end of the point.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { cliArgv } from '../../base/cli-process.ts';
import { monoMs } from '../../base/clock.ts';
import type { SpiceWorkload } from './declare.ts';
import { spiceSettings, type SpiceSettings } from '../../config/spice-settings.ts';
import { streamSettings } from '../../config/stream-settings.ts';
import type { MetricValue } from '../../store/records.ts';
import { writeSeriesParquet } from '../../store/parquet.ts';
import type { ProxyReport } from '../../stream/proxy.ts';
import { processStartTime, sampleTree } from '../proctree.ts';
import type { PointContext, PointResult, Workload } from '../workload.ts';
import { errorMessage } from '../../base/errors.ts';
import { quantile } from '../../base/quantile.ts';
import { waitReady } from '../../base/spawn-ready.ts';
import { killGroup } from '../../base/process-group.ts';
import { grabArgv, grabRegion, GRAB_FPS, readStamps, scenePlayerArgv, screenLatency, ScreenReader } from './screen.ts';
import { askedCodec, clientCodecs, clientError, parseClientLog, parseServerLog, serverCodecs, SPICE_SERVER_MJPEG } from './logs.ts';
import { freeDisplay, freePort, XORG, xorgConfig } from './xorg.ts';

const START_TIMEOUT_MS = 120_000;

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

export class SpiceRunner implements Workload {
  constructor(private readonly w: SpiceWorkload) {}

  async run(ctx: PointContext): Promise<PointResult> {
    const durationS = ctx.durationS ?? 10;
    let s: SpiceSettings;
    try {
      s = spiceSettings({ ...this.w.defaults, ...ctx.params }, { warmupS: ctx.warmupS, durationS }, this.w.content);
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: 0, flags: [] };
    }
    for (const bin of [XORG, '/usr/bin/Xvfb', '/usr/bin/remote-viewer', '/usr/bin/ffplay']) {
      if (!existsSync(bin)) return { outcome: { status: 'failed', error: `${bin} is missing: run scripts/setup.sh (it installs xserver-xspice, xvfb, virt-viewer, ffmpeg)` }, metrics: {}, wallS: 0, flags: [] };
    }
    const t0 = monoMs();
    const procs: Proc[] = [];
    const xdg = join(ctx.dir, '.xdg');
    mkdirSync(xdg, { recursive: true, mode: 0o700 });
    const env = (display: number) => ({ ...process.env, DISPLAY: `:${display}`, XDG_RUNTIME_DIR: xdg, SDL_AUDIODRIVER: 'dummy', NO_AT_BRIDGE: '1' });
    const start = (name: string, argv: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'ignore' | Readable; stdout?: 'pipe' | 'log' } = {}): ChildProcess => {
      const log = openSync(join(ctx.dir, `${name}.log`), 'a');
      const child = spawn(argv[0]!, argv.slice(1), { detached: true, env: opts.env ?? process.env, stdio: [opts.stdin ?? 'ignore', opts.stdout === 'pipe' ? 'pipe' : log, log] });
      closeSync(log);
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      procs.push({ name, child, exited });
      if (child.pid !== undefined) {
        const st = processStartTime(child.pid);
        if (st !== undefined) ctx.onProcess({ pid: child.pid, startTime: st }, false);
      }
      return child;
    };
    const stopAll = async () => {
      // Reverse order of start: the viewer and its screen first, the server last.
      for (const p of [...procs].reverse()) signalGroup(p.child, 'SIGTERM');
      const all = Promise.all(procs.map((p) => p.exited));
      const late = setTimeout(() => procs.forEach((p) => signalGroup(p.child, 'SIGKILL')), 3000);
      await all;
      clearTimeout(late);
      for (const p of procs) {
        signalGroup(p.child, 'SIGKILL'); // whatever a program left in its group
        if (p.child.pid !== undefined) ctx.onProcess({ pid: p.child.pid, startTime: 0 }, true);
      }
    };
    const abort = () => void stopAll();
    ctx.signal.addEventListener('abort', abort, { once: true });
    const flags: string[] = [];
    let startupS: number | undefined;
    // A video file or an X program shows no sign of its first frame: only the client's side is waited for.
    let sceneStarted = true;
    try {
      const taken = new Set<number>();
      const guestDisplay = freeDisplay(taken);
      const clientDisplay = freeDisplay(taken);
      const spicePort = await freePort();
      const conf = join(ctx.dir, 'xorg.conf');
      writeFileSync(conf, xorgConfig(s, spicePort));
      const server = start('server', [XORG, '-config', conf, '-noreset', '-nolisten', 'tcp', '-logfile', join(ctx.dir, 'xorg.log'), `:${guestDisplay}`], { env: { ...process.env, G_MESSAGES_DEBUG: 'all' } }); // the server's decisions, for parseServerLog
      try {
        await waitFor(() => existsSync(`/tmp/.X11-unix/X${guestDisplay}`), 15_000, 'the SPICE X server did not start (see server.log and xorg.log)', server);
      } catch (e) {
        // The driver crashes at start on a screen size it has no mode for: say so in plain words.
        const xlog = existsSync(join(ctx.dir, 'xorg.log')) ? readFileSync(join(ctx.dir, 'xorg.log'), 'utf8') : '';
        if (xlog.includes('xf86InitViewport')) throw new Error(`resolution ${s.width}x${s.height} is not a mode the spiceqxl driver offers, and its X server crashed: use a standard one (640x480, 800x600, 1024x768, 1280x720, 1920x1080)`);
        throw e;
      }
      ctx.watch?.('guest', { label: 'server', pid: server.pid!, tree: true });

      let player: ChildProcess[];
      // The scene player's stamps: when it handed each frame to ffplay (only the built-in scene has them).
      const stampsFile = join(ctx.dir, 'player-stamps.tsv');
      if (s.content) player = [start('player', s.content, { env: env(guestDisplay) })];
      else {
        const size = s.window ? ['-x', String(s.width / 2), '-y', String(s.height / 2), '-left', '40', '-top', '40', '-noborder'] : ['-fs'];
        if (s.video) player = [start('player', ['ffplay', '-loglevel', 'error', '-an', '-autoexit', ...size, '-stream_loop', '-1', '-i', s.video], { env: env(guestDisplay) })];
        else {
          // The player renders with the stream's own settings type: only scene, size and rate matter to it.
          // It outlasts the point whatever the start-up took: the point ends it.
          const cfg = streamSettings({ scene: s.scene, resolution: `${s.width}x${s.height}`, fps: s.fps }, { warmupS: 0, durationS: s.warmupS + s.durationS + START_TIMEOUT_MS / 1000 + 30 });
          const frames = start('frames', cliArgv('stream', ['player', '--config', JSON.stringify(cfg), '--report', stampsFile]), { stdout: 'pipe' });
          // ffplay reads the player's pipe itself: a relay through this process would add its event
          // loop's delays (the screen reader runs here) to every frame's latency.
          const ffplay = start('player', scenePlayerArgv(s.width, s.height, size), { env: env(guestDisplay), stdin: frames.stdout! });
          frames.stdout!.destroy();
          sceneStarted = false;
          player = [ffplay, frames];
        }
      }
      for (const p of player) ctx.watch?.('guest', { label: 'player', pid: p.pid!, tree: true });

      const relay = start('relay', cliArgv('stream', ['host', '--proxy', '--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${spicePort}`, '--report', join(ctx.dir, 'relay.json'), '--config', JSON.stringify({ net: s.net })]), { stdout: 'pipe' });
      const relayPort = await readyPort(relay, 'relay');
      ctx.watch?.('host', { label: 'relay', pid: relay.pid!, tree: true });

      // The client's screen is larger than the guest's, so remote-viewer shows it at 1:1 with its menus.
      const screenW = s.width + 64;
      const screenH = s.height + 160;
      const xvfb = start('screen', ['Xvfb', `:${clientDisplay}`, '-screen', '0', `${screenW}x${screenH}x24`, '-nolisten', 'tcp']);
      await waitFor(() => existsSync(`/tmp/.X11-unix/X${clientDisplay}`), 10_000, 'Xvfb did not start (see screen.log)', xvfb);
      const viewer = start('client', ['remote-viewer', '--spice-debug', `spice://127.0.0.1:${relayPort}`], { env: env(clientDisplay) });
      ctx.watch?.('client', { label: 'client', pid: viewer.pid!, tree: true });

      // The independent reading of what the client screen shows: its top-left corner, many times a
      // second. A process of its own, outside the viewer's tree: its CPU is not the client's.
      const region = grabRegion(screenW, screenH, s.width, s.height);
      const grab = start('grab', grabArgv(clientDisplay, region), { stdout: 'pipe' });
      const screen = new ScreenReader(region.width, region.height, s.width, s.height);
      grab.stdout!.on('data', (d: Buffer) => screen.push(d, monoMs()));

      // The warm-up starts once the chain runs: the scene renderer drew its first frame and the
      // client shows the guest's screen. On a busy machine their start-up can take longer than the
      // warm-up itself, and the window would then measure a start-up instead of a session.
      const end = monoMs() + START_TIMEOUT_MS;
      const clientLog = join(ctx.dir, 'client.log');
      const guestShown = () => existsSync(clientLog) && readFileSync(clientLog, 'utf8').includes('Create primary canvas');
      const scenePlays = () => sceneStarted || (sceneStarted = existsSync(stampsFile) && readFileSync(stampsFile, 'utf8').includes('\n'));
      while (!ctx.signal.aborted && !(scenePlays() && guestShown())) {
        if (monoMs() > end) throw new Error(`the SPICE session did not start within ${START_TIMEOUT_MS / 1000} s: ${sceneStarted ? 'the client never showed the guest screen (see client.log)' : 'the scene player drew no frame (see frames.log, player.log)'}`);
        await sleep(100, ctx.signal);
      }
      startupS = (monoMs() - t0) / 1000;
      await sleep(s.warmupS * 1000, ctx.signal);
      const w0 = monoMs();
      const wallClock0 = msSinceMidnight();
      const cpu0 = cpuOf({ server, relay, client: viewer, player, grab });
      await sleep(durationS * 1000, ctx.signal);
      const w1 = monoMs();
      const wallClock1 = msSinceMidnight();
      const cpu1 = cpuOf({ server, relay, client: viewer, player, grab });
      if (ctx.signal.aborted) {
        await stopAll();
        return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags };
      }
      await stopAll();

      const metrics: Record<string, MetricValue> = {};
      metrics['client.startup_s'] = Number(startupS.toFixed(2));
      const pct = (k: keyof typeof cpu0) => Number(((((cpu1[k] ?? NaN) - (cpu0[k] ?? NaN)) / ((w1 - w0) / 1000)) * 100).toFixed(2));
      metrics['guest.cpu_pct'] = pct('server');
      metrics['player.cpu_pct'] = pct('player');
      metrics['host.cpu_pct'] = pct('relay');
      metrics['client.cpu_pct'] = pct('client');
      metrics['grab.cpu_pct'] = pct('grab');

      const log = parseClientLog(readFileSync(join(ctx.dir, 'client.log'), 'utf8'));
      const inWindow = log.frames.filter((f) => f.atMs >= wallClock0 && f.atMs < wallClock1);
      metrics['client.frames'] = inWindow.length;
      metrics['client.frames_late'] = inWindow.filter((f) => f.marginMs < 0).length;
      metrics['client.fps'] = Number((inWindow.length / durationS).toFixed(2));
      metrics['client.video_margin.p50'] = Number(
        quantile(
          inWindow.map((f) => f.marginMs),
          0.5,
        ).toFixed(1),
      );
      metrics['client.video_streams'] = log.streams.length;
      const serverLog = parseServerLog(readFileSync(join(ctx.dir, 'server.log'), 'utf8'));
      Object.assign(metrics, serverLog.metrics);
      // Each side's codec from what its own log names; the client cannot tell spice:mjpeg from
      // gstreamer:mjpeg (same bitstream), the server can.
      const serverSide = serverCodecs(serverLog);
      const clientSide = clientCodecs(log);
      metrics['codec.asked'] = s.codec;
      metrics['codec.server'] = serverSide.length > 0 ? serverSide.join('+') : 'none';
      metrics['codec.server_encoder'] = serverLog.encoders.length > 0 ? serverLog.encoders.join('+') : 'none';
      metrics['codec.client'] = clientSide.codecs.length > 0 ? clientSide.codecs.join('+') : 'none';
      metrics['codec.client_decoder'] = clientSide.decoders.length > 0 ? clientSide.decoders.join('+') : 'none';
      const match = metrics['codec.server'] === s.codec && metrics['codec.client'] === askedCodec(s.codec);
      metrics['codec.match'] = match;
      if (log.streams.length === 0) {
        if (s.streaming !== 'off') flags.push('no video stream was created: the content was sent as images');
      } else if (!match && serverSide.length > 0 && !serverSide.includes(s.codec)) {
        const builtin = serverLog.encoders.includes(SPICE_SERVER_MJPEG) && s.codec !== 'spice:mjpeg';
        flags.push(`codec asked ${s.codec}, the server encoded ${metrics['codec.server']}${builtin ? ': it fell back to its own MJPEG encoder (is the GStreamer encoder installed? run scripts/setup.sh)' : ''}`);
      } else if (!match) flags.push(`codec asked ${s.codec}: the server's log shows ${metrics['codec.server']}, the client's ${metrics['codec.client']}`);
      if (serverLog.metrics['server.too_slow_warnings'] !== undefined) flags.push(`the SPICE server said ${serverLog.metrics['server.too_slow_warnings']} times that it is too slow to encode this video in real time`);

      const shown = screen.distinctIn(w0, w1);
      metrics['client.fps_screen'] = Number((shown / durationS).toFixed(2));
      metrics['client.screen_frames_read'] = screen.read;
      if (!s.content && !s.video) {
        const lat = screenLatency(readStamps(stampsFile), screen.firstSeen(), w0, w1);
        metrics['latency.p50'] = lat.p50;
        metrics['latency.p95'] = lat.p95;
        metrics['latency.frames_seen'] = lat.seen;
        metrics['latency.grab_ms'] = Number((1000 / GRAB_FPS).toFixed(2));
        await writeSeriesParquet(join(ctx.dir, 'frames.parquet'), lat.frames);
        if (lat.seen === 0) flags.push(`no frame the player drew in the window was read on the client's screen: no latency (${screen.grabs} grabs, ${screen.read} read)`);
      }

      const relayReport = JSON.parse(readFileSync(join(ctx.dir, 'relay.json'), 'utf8')) as ProxyReport;
      const bins = (xs: number[]) => xs.slice(Math.floor((w0 - relayReport.startMs) / relayReport.binMs), Math.ceil((w1 - relayReport.startMs) / relayReport.binMs)).reduce((a, b) => a + b, 0);
      const down = bins(relayReport.downBins);
      const up = bins(relayReport.upBins);
      metrics['client.bitrate'] = Math.round((down * 8) / durationS);
      metrics['bytes.down'] = down;
      metrics['bytes.up'] = up;
      // Per channel type, the whole point (the relay counts per connection; a type may have several).
      for (const c of relayReport.channels) {
        const k = `channel.${c.type}`;
        metrics[`${k}.bytes_down`] = ((metrics[`${k}.bytes_down`] as number | undefined) ?? 0) + c.downOut;
        metrics[`${k}.bytes_up`] = ((metrics[`${k}.bytes_up`] as number | undefined) ?? 0) + c.upOut;
      }
      metrics['host.max_queue_kb'] = Number((relayReport.counters['max_queue_bytes']! / 1024).toFixed(1));
      // A stream the client could not decode leaves figures of whatever the server fell back to
      // (images, at many times the bitrate): the point failed, with the client's own words.
      const decodeError = clientError(log);
      const failed = (error: string): PointResult => ({ outcome: { status: 'failed', error }, metrics, wallS: (w1 - w0) / 1000, flags, window: { fromMs: w0, toMs: w1 } });
      if (decodeError !== undefined) {
        const hint = /H\.264|x-h264/.test(decodeError) ? ' (h264parse is in gstreamer1.0-plugins-bad: run scripts/setup.sh)' : '';
        return failed(`the client could not decode the ${s.codec} stream: remote-viewer says "${decodeError}" (client.log)${hint}`);
      }
      if (serverLog.rejectedByClient > 0) return failed(`the client told the SPICE server it could not decode ${serverLog.rejectedByClient} video stream(s) of ${s.codec} ("the client does not support stream", server.log)`);
      return { outcome: { status: 'ok' }, metrics, wallS: (w1 - w0) / 1000, flags, window: { fromMs: w0, toMs: w1 } };
    } catch (e) {
      await stopAll();
      if (ctx.signal.aborted) return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags };
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: (monoMs() - t0) / 1000, flags };
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
  }
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  killGroup(child.pid, sig);
}

function msSinceMidnight(): number {
  const d = new Date();
  return ((d.getHours() * 60 + d.getMinutes()) * 60 + d.getSeconds()) * 1000 + d.getMilliseconds();
}

/** CPU seconds so far of each process tree (undefined once it is gone). */
function cpuOf(ps: { server: ChildProcess; relay: ChildProcess; client: ChildProcess; player: ChildProcess[]; grab: ChildProcess }): Record<'server' | 'relay' | 'client' | 'player' | 'grab', number | undefined> {
  const one = (c: ChildProcess) => {
    const t = c.pid === undefined ? undefined : sampleTree(c.pid);
    return t ? t.cpuUser + t.cpuSystem : undefined;
  };
  const players = ps.player.map(one);
  return { server: one(ps.server), relay: one(ps.relay), client: one(ps.client), grab: one(ps.grab), player: players.every((x) => x !== undefined) ? players.reduce((a, b) => a + b, 0) : undefined };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string, child: ChildProcess): Promise<void> {
  const end = monoMs() + timeoutMs;
  while (!cond()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(what);
    if (monoMs() > end) throw new Error(what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readyPort(child: ChildProcess, name: string): Promise<number> {
  return Number((await waitReady(child, { name, log: `${name}.log`, timeoutMs: 20_000 }))['port']);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    // The listener goes with the timer: a run of many points must not pile them up on one signal.
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Kept here too: the screen reader lived in this module before spice-screen.ts. */
export { ScreenReader };
