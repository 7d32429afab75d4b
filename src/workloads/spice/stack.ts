/**
 * SPICE as a desktop stack (src/workloads/desktop/stack.ts): the SPICE server is an X server
 * (Debian's xserver-xspice, configured by xorg.ts) on the guest's display, the viewer is
 * remote-viewer, and its debug logs (logs.ts) tell when the client shows the guest, which codec
 * each side used, and the server's own decisions.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantile } from '../../base/quantile.ts';
import { spiceSettings, type SpiceSettings } from '../../config/spice-settings.ts';
import type { MetricValue } from '../../store/records.ts';
import type { CodecEvidence } from '../desktop/codec.ts';
import { displaySocket } from '../desktop/display.ts';
import { waitFor } from '../desktop/processes.ts';
import type { DesktopStack } from '../desktop/stack.ts';
import { askedCodec, clientCodecs, clientError, parseClientLog, parseServerLog, serverCodecs, SPICE_SERVER_MJPEG } from './logs.ts';
import { XORG, xorgConfig } from './xorg.ts';

/** SPICE: Xspice's server, remote-viewer, and what their logs say. */
export const SPICE_STACK: DesktopStack<SpiceSettings> = {
  name: 'SPICE',
  id: 'spice',
  needs: { guest: [XORG], client: ['/usr/bin/remote-viewer'] },
  settings: (params, times, content) => spiceSettings(params, times, content),

  async startServer(procs, { dir, display, address, port, settings: s }) {
    const conf = join(dir, 'xorg.conf');
    writeFileSync(conf, xorgConfig(s, port, address));
    // G_MESSAGES_DEBUG: the server's decisions, for parseServerLog.
    const server = procs.start('server', [XORG, '-config', conf, '-noreset', '-nolisten', 'tcp', '-logfile', join(dir, 'xorg.log'), `:${display}`], { env: { ...process.env, G_MESSAGES_DEBUG: 'all' } });
    try {
      await waitFor(() => existsSync(displaySocket(display)), 15_000, 'the SPICE X server did not start (see server.log and xorg.log)', server);
    } catch (e) {
      // The driver crashes at start on a screen size it has no mode for: say so in plain words.
      const xlog = existsSync(join(dir, 'xorg.log')) ? readFileSync(join(dir, 'xorg.log'), 'utf8') : '';
      if (xlog.includes('xf86InitViewport')) throw new Error(`resolution ${s.width}x${s.height} is not a mode the spiceqxl driver offers, and its X server crashed: use a standard one (640x480, 800x600, 1024x768, 1280x720, 1920x1080)`);
      throw e;
    }
    return { procs: [server] };
  },

  viewerArgv: (host, port) => ['remote-viewer', '--spice-debug', `spice://${host}:${port}`],

  showsGuest(dir) {
    const log = join(dir, 'client.log');
    return existsSync(log) && readFileSync(log, 'utf8').includes('Create primary canvas');
  },

  figures(dir, s, window) {
    const metrics: Record<string, MetricValue> = {};
    const flags: string[] = [];
    const log = parseClientLog(readFileSync(join(dir, 'client.log'), 'utf8'));
    const inWindow = log.frames.filter((f) => f.atMs >= window.wallFromMs && f.atMs < window.wallToMs);
    metrics['client.frames'] = inWindow.length;
    metrics['client.frames_late'] = inWindow.filter((f) => f.marginMs < 0).length;
    metrics['client.fps'] = Number((inWindow.length / window.durationS).toFixed(2));
    metrics['client.video_margin.p50'] = Number(
      quantile(
        inWindow.map((f) => f.marginMs),
        0.5,
      ).toFixed(1),
    );
    metrics['client.video_streams'] = log.streams.length;
    const serverLog = parseServerLog(readFileSync(join(dir, 'server.log'), 'utf8'));
    Object.assign(metrics, serverLog.metrics);
    if (serverLog.metrics['server.too_slow_warnings'] !== undefined) flags.push(`the SPICE server said ${serverLog.metrics['server.too_slow_warnings']} times that it is too slow to encode this video in real time`);
    return { metrics, flags, codec: spiceCodecEvidence(s, serverLog, log) };
  },
};

/**
 * Each side's codec from what its own log names; the client cannot tell spice:mjpeg from
 * gstreamer:mjpeg (same bitstream), the server can. A stream the client could not decode is
 * quoted in the client's words, or the server's when only it was told.
 */
function spiceCodecEvidence(s: SpiceSettings, server: ReturnType<typeof parseServerLog>, client: ReturnType<typeof parseClientLog>): CodecEvidence {
  const serverSide = serverCodecs(server);
  const builtin = server.encoders.includes(SPICE_SERVER_MJPEG) && s.codec !== 'spice:mjpeg';
  const decodeError = clientError(client);
  let failure: string | undefined;
  if (decodeError !== undefined) {
    const hint = /H\.264|x-h264/.test(decodeError) ? ' (h264parse is in gstreamer1.0-plugins-bad: run scripts/setup.sh)' : '';
    failure = `the client could not decode the ${s.codec} stream: remote-viewer says "${decodeError}" (client.log)${hint}`;
  } else if (server.rejectedByClient > 0) failure = `the client told the SPICE server it could not decode ${server.rejectedByClient} video stream(s) of ${s.codec} ("the client does not support stream", server.log)`;
  return {
    asked: s.codec,
    askedFamily: askedCodec(s.codec),
    server: { codecs: serverSide, encoders: server.encoders },
    client: clientCodecs(client),
    streams: client.streams.length,
    streamsExpected: s.streaming !== 'off',
    ...(builtin ? { fallback: 'it fell back to its own MJPEG encoder (is the GStreamer encoder installed? run scripts/setup.sh)' } : {}),
    ...(failure !== undefined ? { failure } : {}),
  };
}
