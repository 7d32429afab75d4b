/**
 * SPICE as a desktop stack (src/workloads/desktop/stack.ts): the SPICE server is an X server
 * (Debian's xserver-xspice, configured by xorg.ts) on the guest's display, the viewer is
 * remote-viewer, and its debug logs (logs.ts) tell when the client shows the guest, which codec
 * each side used, and the server's own decisions.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { quantile } from '../../base/quantile.ts';
import { spiceSettings, type SpiceSettings } from '../../config/spice-settings.ts';
import type { MetricValue } from '../../store/records.ts';
import type { CodecEvidence } from '../desktop/codec.ts';
import { displaySocket } from '../desktop/display.ts';
import { waitFor } from '../desktop/processes.ts';
import type { DesktopStack } from '../desktop/stack.ts';
import { askedCodec, clientCodecs, clientError, parseClientLog, parseServerLog, serverCodecs, SPICE_SERVER_MJPEG } from './logs.ts';
import { XORG, xorgConfig } from './xorg.ts';

/** The point's SPICE ticket (mode 0600), and the viewer's connection file beside it. */
export const SPICE_PASSWORD_FILE = 'spice-password';
export const SPICE_VV_FILE = 'client.vv';

/** The viewer's connection file: beside the ticket, in the point directory. */
function vvFile(viewer: Readonly<Record<string, string>>): string {
  const pw = viewer['passwordFile'];
  if (pw === undefined) throw new Error("the guest handed over no SPICE ticket for the viewer (the guest role's ready line lacks viewer.passwordFile)");
  return join(dirname(pw), SPICE_VV_FILE);
}

/** SPICE: Xspice's server, remote-viewer, and what their logs say. */
export const SPICE_STACK: DesktopStack<SpiceSettings> = {
  name: 'SPICE',
  id: 'spice',
  needs: { guest: [XORG], client: ['/usr/bin/remote-viewer'] },
  settings: (params, times, content) => spiceSettings(params, times, content),

  async startServer(procs, { dir, display, address, port, settings: s }) {
    // A ticket per point: a SPICE server on the guest's address without one gives anyone on that
    // network the guest's display, keyboard and mouse. In files of mode 0600 only, never in argv.
    const password = randomBytes(18).toString('base64url');
    const passwordFile = join(dir, SPICE_PASSWORD_FILE);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    const conf = join(dir, 'xorg.conf');
    writeFileSync(conf, xorgConfig(s, port, address, password), { mode: 0o600 });
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
    return { procs: [server], viewer: { passwordFile } };
  },

  // The connection file viewerIo wrote: remote-viewer takes a ticket from a file only.
  viewerArgv: (_host, _port, _s, viewer) => ['remote-viewer', '--spice-debug', vvFile(viewer)],

  viewerIo(_s, viewer, relay) {
    const pw = viewer['passwordFile'];
    if (pw === undefined) throw new Error("the guest handed over no SPICE ticket for the viewer (the guest role's ready line lacks viewer.passwordFile)");
    const password = readFileSync(pw, 'utf8').trim();
    // delete-this-file: remote-viewer removes it once read.
    writeFileSync(vvFile(viewer), `[virt-viewer]\ntype=spice\nhost=${relay.host}\nport=${relay.port}\npassword=${password}\ndelete-this-file=1\n`, { mode: 0o600 });
    return {};
  },

  showsGuest(dir) {
    const log = join(dir, 'client.log');
    return existsSync(log) && readFileSync(log, 'utf8').includes('Create primary canvas');
  },

  figures(dir, s, window) {
    // The point's ticket: nothing needs it once the point ended (the viewer's file went when read).
    rmSync(join(dir, SPICE_PASSWORD_FILE), { force: true });
    rmSync(join(dir, SPICE_VV_FILE), { force: true });
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
