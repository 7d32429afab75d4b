/**
 * RDP as a desktop stack (src/workloads/desktop/stack.ts): xrdp-sesman and xrdp with the point's
 * own configuration (session.ts), a session created through that sesman before the viewer
 * connects (so the content draws its first frame on the session's display first), xfreerdp as
 * the viewer, and its log (logs.ts) as the codec evidence.
 *
 * The content is drawn on the session's display by the guest role, not run as the session's
 * program: the scene player's stamps, its CPU and its teardown are then the machinery's, as on the
 * other stacks, and the point directory needs no access for the session user. The session's
 * program only ties the session's life to the guest role's.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rdpSettings, XRDP, type RdpSettings } from '../../config/rdp-settings.ts';
import type { MetricValue } from '../../store/records.ts';
import type { CodecEvidence } from '../desktop/codec.ts';
import { displaySocket, freePort } from '../desktop/display.ts';
import { waitFor } from '../desktop/processes.ts';
import type { ProcessSet } from '../desktop/processes.ts';
import type { DesktopStack, DesktopWindow, ServerStarted } from '../desktop/stack.ts';
import { carriedCodecs, CLIENT_LOG_FILTER, evidenceLine, parseClientLog, type ClientLog } from './logs.ts';
import { createSession, endSession, ensureSessionUser, ensureSockdir, PASSWORD_FILE, sesmanIni, SESSION_HOME, SESSION_USER, setSessionPassword, SOCKDIR, writeSessionProgram, xrdpIni, XORG_XRDP_DRIVER, XRDP_SESMAN, XRDP_SESRUN } from './session.ts';

/** The test suite's knob (docs/workloads.md): xrdp.ini's max_bpp; at 16 xrdp sends no RemoteFX. */
export const TEST_MAX_BPP_ENV = 'STREAMBENCH_TEST_RDP_MAX_BPP';

/** How long the session's start may take (sesman starts Xorg with xorgxrdp, then the session program). */
const SESSION_TIMEOUT_MS = 30_000;

/** RDP: xrdp and xrdp-sesman of the point, a session of its user, xfreerdp, and what its log says. */
export const RDP_STACK: DesktopStack<RdpSettings> = {
  name: 'RDP',
  id: 'rdp',
  needs: { guest: [XRDP, XRDP_SESMAN, XRDP_SESRUN, XORG_XRDP_DRIVER], client: ['/usr/bin/xfreerdp'] },
  settings: (params, times, content) => rdpSettings(params, times, content),

  async startServer(procs, o) {
    ensureSessionUser();
    ensureSockdir();
    const password = randomBytes(18).toString('base64url');
    const passwordFile = join(o.dir, PASSWORD_FILE);
    setSessionPassword(password, passwordFile);
    try {
      return await startRdp(procs, o, password, passwordFile);
    } catch (e) {
      // A point that could not start keeps no password either.
      rmSync(passwordFile, { force: true });
      throw e;
    }
  },

  viewerArgv: (host, port, s, viewer) => [
    'xfreerdp',
    `/v:${host}:${port}`,
    `/u:${viewer['user'] ?? SESSION_USER}`,
    // The password on stdin (the point's 0600 file), read before connecting: never in argv.
    '/from-stdin:force',
    '/cert:ignore',
    '/sec:tls',
    '/gdi:sw',
    `/bpp:${s.bpp}`,
    `/size:${s.width}x${s.height}`,
    ...(s.codec === 'remotefx' ? ['/rfx'] : s.codec === 'gfx' ? ['/gfx'] : s.codec === 'h264' ? ['/gfx:avc420'] : []),
    '-clipboard',
    '/audio-mode:2',
  ],

  viewerIo: (_s, viewer) => ({
    // WLOG_FILTER, not /log-filters: FreeRDP 2 applies a filter to a logger when it is first used, which for these tags is before the command line is read.
    env: { WLOG_LEVEL: 'WARN', WLOG_FILTER: CLIENT_LOG_FILTER },
    ...(viewer['passwordFile'] !== undefined ? { stdinFile: viewer['passwordFile'] } : {}),
  }),

  showsGuest(dir) {
    const log = join(dir, 'client.log');
    return existsSync(log) && parseClientLog(readFileSync(log, 'utf8')).connected;
  },

  figures(dir, s, window) {
    // The password is this point's only; once the viewer read it, nothing needs it any more.
    rmSync(join(dir, PASSWORD_FILE), { force: true });
    const text = readFileSync(join(dir, 'client.log'), 'utf8');
    const log = parseClientLog(text);
    return { metrics: rdpFigures(log, window), flags: [], codec: rdpCodecEvidence(s, log, text) };
  },
};

/** The client's figures in the window: RemoteFX frames and surface bytes, bitmap updates and rectangles, pictures per second. */
export function rdpFigures(log: ClientLog, window: Pick<DesktopWindow, 'wallFromMs' | 'wallToMs' | 'durationS'>): Record<string, MetricValue> {
  const inWindow = <T extends { atMs: number }>(xs: T[]) => xs.filter((x) => x.atMs >= window.wallFromMs && x.atMs < window.wallToMs);
  const surfaces = inWindow(log.surfaces);
  const rfx = inWindow(log.rfxFrames);
  const bitmaps = inWindow(log.bitmapUpdates);
  const rate = (n: number) => Number((n / window.durationS).toFixed(2));
  return {
    'client.rfx_frames': rfx.length,
    'client.surface_commands': surfaces.length,
    'client.surface_bytes': surfaces.reduce((a, x) => a + x.bytes, 0),
    'client.bitmap_updates': bitmaps.length,
    'client.bitmap_rects': bitmaps.reduce((a, x) => a + x.rects, 0),
    'client.updates_fps': rate(surfaces.length + bitmaps.length),
  };
}

/**
 * The codec of each side, from the client's log (xrdp 0.9's names only what the client offered):
 * what the stream carried is what xrdp sent. A codec asked but not carried fails the point,
 * quoting the client's first line of what it got instead.
 */
export function rdpCodecEvidence(s: RdpSettings, log: ClientLog, text: string): CodecEvidence {
  const carried = carriedCodecs(log);
  const pictures = log.surfaces.length + log.bitmapUpdates.length;
  let failure: string | undefined;
  if (pictures === 0) {
    failure = `the client's log (client.log) shows no picture of the session: neither a surface command nor a bitmap update${log.errors[0] !== undefined ? `; it says "${log.errors[0]}"` : ''}`;
  } else if (!carried.codecs.includes(s.codec)) {
    const got = carried.codecs[0]!;
    const asked = s.codec === 'remotefx' ? 'remotefx (xfreerdp /rfx): no surface command of codec id 3 with RemoteFX frames' : s.codec;
    failure = `codec asked ${asked}; the stream carried ${carried.codecs.join('+')}: the client's log (client.log) says "${evidenceLine(text, got) ?? got}"`;
  }
  return {
    asked: s.codec,
    askedFamily: s.codec,
    server: { codecs: carried.codecs, encoders: carried.codecs.map((c) => (c === 'remotefx' ? 'xorgxrdp-rfx' : c === 'bitmap' ? 'xrdp-bitmap' : 'unknown')) },
    client: carried,
    streams: pictures,
    streamsExpected: true,
    ...(failure !== undefined ? { failure } : {}),
  };
}

/** Starts sesman, the session and xrdp for a point whose session user has `password` (also in `passwordFile`, for the viewer). */
async function startRdp(procs: ProcessSet, { dir, display, address, port, settings: s }: { dir: string; display: number; address: string; port: number; settings: RdpSettings }, password: string, passwordFile: string): Promise<ServerStarted> {
  const sesmanConf = join(dir, 'sesman.ini');
  const sesmanLog = join(dir, 'xrdp-sesman.log');
  // The machinery's free display is the first sesman tries (X11DisplayOffset).
  const session0 = writeSessionProgram(process.pid, display);
  writeFileSync(sesmanConf, sesmanIni({ port: await freePort(), displayOffset: display, program: session0.program, log: sesmanLog }));
  const sesman = procs.start('sesman', [XRDP_SESMAN, '--nodaemon', '--config', sesmanConf]);
  writeFileSync(join(dir, 'xrdp-sesman.pid'), `${sesman.pid}\n`);
  await waitFor(() => existsSync(sesmanLog) && readFileSync(sesmanLog, 'utf8').includes('sesman_create_listening_transport'), 15_000, 'xrdp-sesman did not start (see sesman.log and xrdp-sesman.log)', sesman);
  // Its log line comes just before it listens.
  await new Promise((r) => setTimeout(r, 200));
  const session = await createSession({ ini: sesmanConf, password, s, timeoutMs: SESSION_TIMEOUT_MS });
  // The program is named by the display sesman was offered; the session may have taken another.
  const stopFile = session0.stopFile;
  // sesman starts the session's program once the X server is up and its cookie written: the content may draw from then on.
  const programStarted = `Starting the default window manager on display ${session}`;
  await waitFor(
    () => existsSync(displaySocket(session)) && existsSync(join(SOCKDIR, `xrdp_display_${session}`)) && readFileSync(sesmanLog, 'utf8').includes(programStarted),
    SESSION_TIMEOUT_MS,
    `the RDP session's X server (xorgxrdp) on :${session} did not start (see xrdp-sesman.log, ${SESSION_HOME}/.xorgxrdp.${session}.log)`,
    sesman,
  );
  const xrdpConf = join(dir, 'xrdp.ini');
  const xrdpLog = join(dir, 'xrdp.log');
  const maxBpp = process.env[TEST_MAX_BPP_ENV];
  writeFileSync(xrdpConf, xrdpIni({ address, port, display: session, log: xrdpLog, ...(maxBpp ? { maxBpp: Number(maxBpp) } : {}) }));
  // Not --port: it would listen on every interface; the configuration's port names the address.
  const xrdp = procs.start('server', [XRDP, '--nodaemon', '--config', xrdpConf]);
  writeFileSync(join(dir, 'xrdp.pid'), `${xrdp.pid}\n`);
  await waitFor(() => existsSync(xrdpLog) && readFileSync(xrdpLog, 'utf8').includes('xrdp_listen_pp done'), 15_000, 'xrdp did not start listening (see server.log and xrdp.log)', xrdp);
  return {
    // xrdp's tree holds the child it forks per connection; sesman's the session: Xorg, chansrv, the session program.
    procs: [xrdp, sesman],
    display: session,
    // xorgxrdp has no RandR output until a viewer connects, and SDL (ffplay) then finds "no
    // available displays": without RandR it takes the screen's size, which is the session's.
    contentEnv: { XAUTHORITY: join(SESSION_HOME, '.Xauthority'), SDL_VIDEO_X11_XRANDR: '0' },
    viewer: { user: SESSION_USER, passwordFile },
    async stop() {
      // The viewer read it when it connected; nothing needs it any more.
      rmSync(passwordFile, { force: true });
      const leader = /session_pid (\d+)/.exec(readFileSync(sesmanLog, 'utf8'));
      if (!(await endSession(stopFile, leader ? Number(leader[1]) : undefined))) process.stderr.write(`the RDP session on :${session} had not ended 5 s after its program was told to: its processes end with the role's group\n`);
    },
  };
}
