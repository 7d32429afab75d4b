/**
 * VNC as a desktop stack (src/workloads/desktop/stack.ts): x11vnc on an Xvfb display, or Xtigervnc
 * (an X server that is the VNC server), listening on the guest's address without a password;
 * TigerVNC's xtigervncviewer with the encoding preferences of the point. The viewer logs no
 * encoding: the codec evidence is the server's (logs.ts).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { MetricValue } from '../../store/records.ts';
import { vncSettings, type VncSettings } from '../../config/vnc-settings.ts';
import type { CodecEvidence } from '../desktop/codec.ts';
import type { ChildProcess } from 'node:child_process';
import { displaySocket, freeDisplay } from '../desktop/display.ts';
import { waitFor, type ProcessSet } from '../desktop/processes.ts';
import type { DesktopStack } from '../desktop/stack.ts';
import { encodingFamily, familyBytes, parseX11vncLog, parseXtigervncLog, type VncServerLog } from './logs.ts';

export const X11VNC = '/usr/bin/x11vnc';
export const XTIGERVNC = '/usr/bin/Xtigervnc';
export const VIEWER = '/usr/bin/xtigervncviewer';

/** The viewer's names of the encodings (-PreferredEncoding). */
const VIEWER_ENCODING: Record<VncSettings['encoding'], string> = { tight: 'Tight', zrle: 'ZRLE', hextile: 'Hextile', raw: 'Raw' };
/** -LowColorLevel of each reduced depth (TigerVNC: 0 = 8 colours, 1 = 64, 2 = 256). */
const LOW_COLOR_LEVEL: Record<number, number> = { 8: 2, 6: 1, 3: 0 };

/**
 * The x11vnc side's keeper, run by this Node (`node -e`, argv as data): starts Xvfb, then x11vnc on
 * it once its socket exists; at SIGTERM waits (up to 2 s) until x11vnc's log says its client went
 * away before it ends x11vnc and then Xvfb. x11vnc prints its per-encoding statistics only when a
 * client disconnects, not when it is signalled, and the viewer is stopped by another role at the
 * same moment: without the wait the statistics (the codec evidence) would be lost to a race.
 */
const KEEPER = `
const { spawn } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const [log, socket, xvfbArgv, vncArgv] = process.argv.slice(1);
const start = (json) => { const [cmd, ...args] = JSON.parse(json); return spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] }); };
const gone = (c) => c === undefined || c.exitCode !== null || c.signalCode !== null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const xvfb = start(xvfbArgv);
let vnc;
let stopping = false;
const clientsLeft = () => { const t = existsSync(log) ? readFileSync(log, 'utf8') : ''; return (t.match(/Got connection from client/g) || []).length <= (t.match(/Client \\S+ gone/g) || []).length; };
const end = async (code) => {
  for (const c of [vnc, xvfb]) {
    if (gone(c)) continue;
    c.kill('SIGTERM');
    for (let i = 0; i < 10 && !gone(c); i++) await sleep(50);
  }
  process.exit(code);
};
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  for (let i = 0; i < 40 && !gone(vnc) && !clientsLeft(); i++) await sleep(50);
  await end(0);
});
process.on('SIGINT', () => process.emit('SIGTERM'));
xvfb.on('exit', () => { if (!stopping) { console.error('keeper: Xvfb exited'); stopping = true; void end(1); } });
(async () => {
  for (let i = 0; i < 200 && !existsSync(socket); i++) { if (gone(xvfb)) return; await sleep(50); }
  if (stopping) return;
  if (!existsSync(socket)) { console.error('keeper: Xvfb did not start within 10 s'); stopping = true; return end(1); }
  vnc = start(vncArgv);
  vnc.on('exit', (code, signal) => { if (!stopping) { console.error('keeper: x11vnc exited (' + (signal || code) + ')'); stopping = true; void end(1); } });
})();
`;

/** tigervnc-tools' password obfuscator (`-f`: the password on stdin, the file's bytes on stdout). */
export const VNC_PASSWD = '/usr/bin/tigervncpasswd';
/** The point's VNC password file, in VNC's own (DES-obfuscated) form, mode 0600: the server checks it, the viewer answers with it. */
export const VNC_PASSWORD_FILE = 'vnc-passwd';

/**
 * Writes a new random password for this point's server into `dir` (VNC_PASSWORD_FILE), never on a
 * command line or in a log: a VNC server on the guest's address, without one, is a door to the
 * guest's display (its keyboard and mouse included) for anyone on that network.
 */
export function writeVncPassword(dir: string): string {
  // VNC authentication uses at most 8 characters.
  const password = randomBytes(6).toString('base64url');
  const r = spawnSync(VNC_PASSWD, ['-f'], { input: `${password}\n` });
  if (r.error || r.status !== 0 || r.stdout.length === 0) throw new Error(`${VNC_PASSWD} -f could not make the point's VNC password file: ${r.error?.message ?? (r.stderr.toString().trim() || `exit ${r.status}`)} (tigervnc-tools: run scripts/setup.sh)`);
  const file = join(dir, VNC_PASSWORD_FILE);
  writeFileSync(file, r.stdout, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** x11vnc's argv: on `display`, listening on address:port only (no IPv6 socket unless the address is one), the point's password, -v for the codec evidence. */
export function x11vncArgv(display: number, address: string, port: number, passwordFile: string): string[] {
  // Without -rfbportv6 -1, libvncserver also listens on [::]:5900, a door on every address.
  const listen = isIPv6(address) ? ['-listen6', address, '-rfbportv6', String(port), '-rfbport', '0'] : ['-listen', address, '-noipv6', '-rfbportv6', '-1', '-rfbport', String(port)];
  return [X11VNC, '-display', `:${display}`, '-rfbauth', passwordFile, ...listen, '-forever', '-shared', '-v', '-nolookup'];
}

/** Xtigervnc's argv: display `display` of width x height, the VNC port on address:port only, VNC authentication with the point's password, its log on stderr at the level that prints the encoders' statistics. */
export function xtigervncArgv(display: number, s: Pick<VncSettings, 'width' | 'height'>, address: string, port: number, passwordFile: string): string[] {
  return [
    XTIGERVNC,
    `:${display}`,
    '-geometry',
    `${s.width}x${s.height}`,
    '-depth',
    '24',
    '-SecurityTypes',
    'VncAuth',
    '-PasswordFile',
    passwordFile,
    '-interface',
    address,
    '-rfbport',
    String(port),
    '-nolisten',
    'tcp',
    '-AlwaysShared',
    '-AcceptSetDesktopSize=0',
    '-Log',
    '*:stderr:100',
  ];
}

/** The viewer's argv for these settings, connecting to host:port with the point's password file. */
export function viewerArgv(host: string, port: number, s: VncSettings, passwordFile: string): string[] {
  const jpeg = s.jpegQuality === null ? ['-NoJPEG=1'] : ['-NoJPEG=0', `-QualityLevel=${s.jpegQuality}`];
  const color = s.colorDepth === 24 ? ['-FullColor=1'] : ['-FullColor=0', `-LowColorLevel=${LOW_COLOR_LEVEL[s.colorDepth]}`];
  // No dialogs: a lost connection ends the viewer (its log says why) instead of waiting for a click.
  const address = isIPv6(host) ? `[${host}]::${port}` : `${host}::${port}`;
  return [
    VIEWER,
    '-Log',
    '*:stderr:100',
    '-AutoSelect=0',
    `-PreferredEncoding=${VIEWER_ENCODING[s.encoding]}`,
    ...jpeg,
    '-CustomCompressLevel=1',
    `-CompressLevel=${s.compressLevel}`,
    ...color,
    '-Shared=1',
    '-RemoteResize=0',
    '-AlertOnFatalError=0',
    '-ReconnectOnError=0',
    `-PasswordFile=${passwordFile}`,
    address,
  ];
}

/** How many displays a server start tries when the one it was given was taken meanwhile. */
const DISPLAY_ATTEMPTS = 4;

/** Starts the point's server on display `d`; resolves once it listens, rejects when it exits first or does not within its time. */
async function startOn(procs: ProcessSet, d: number, o: { log: string; from: number; address: string; port: number; settings: VncSettings; passwordFile: string }): Promise<ChildProcess> {
  const { log, address, port, settings: s, passwordFile } = o;
  // Only what this attempt logged: an earlier one's lines are in the same file.
  const says = (text: string) => existsSync(log) && readFileSync(log, 'utf8').slice(o.from).includes(text);
  if (s.server === 'tigervnc') {
    const server = procs.start('server', xtigervncArgv(d, s, address, port, passwordFile));
    await waitFor(() => existsSync(displaySocket(d)) && says('Listening for VNC connections'), 15_000, 'Xtigervnc did not start listening (see server.log)', server);
    return server;
  }
  const xvfb = ['Xvfb', `:${d}`, '-screen', '0', `${s.width}x${s.height}x24`, '-nolisten', 'tcp'];
  const server = procs.start('server', [process.execPath, '-e', KEEPER, log, displaySocket(d), JSON.stringify(xvfb), JSON.stringify(x11vncArgv(d, address, port, passwordFile))]);
  await waitFor(() => says(`PORT=${port}`), 20_000, 'x11vnc did not start listening (see server.log)', server);
  return server;
}

/** VNC: x11vnc or Xtigervnc, xtigervncviewer, and what the servers' logs say. */
export const VNC_STACK: DesktopStack<VncSettings> = {
  name: 'VNC',
  id: 'vnc',
  // Both servers: which one a point runs is its parameter, and a role checks before it starts.
  needs: { guest: [X11VNC, XTIGERVNC, '/usr/bin/Xvfb', VNC_PASSWD], client: [VIEWER] },
  settings: (params, times, content) => vncSettings(params, times, content, false),

  async startServer(procs, { dir, display, address, port, settings: s }) {
    const log = join(dir, 'server.log');
    const logText = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    // The display was free when chosen, but other programs of the machine may take it before the
    // X server binds it (the keeper's Node start widens that gap): another free one is tried then.
    const tried = new Set<number>([display]);
    const passwordFile = writeVncPassword(dir);
    for (let d = display, attempt = 1; ; attempt++) {
      const before = logText().length;
      try {
        const server = await startOn(procs, d, { log, from: before, address, port, settings: s, passwordFile });
        return { procs: [server], viewer: { passwordFile }, ...(d !== display ? { display: d } : {}) };
      } catch (e) {
        if (attempt >= DISPLAY_ATTEMPTS || !/Server is already active for display/.test(logText().slice(before))) throw e;
        d = freeDisplay(tried);
      }
    }
  },

  viewerArgv: (host, port, s, viewer) => {
    const file = viewer['passwordFile'];
    if (file === undefined) throw new Error("the guest handed over no VNC password file for the viewer (the guest role's ready line lacks viewer.passwordFile)");
    return viewerArgv(host, port, s, file);
  },

  showsGuest(dir) {
    const log = join(dir, 'client.log');
    // Logged once the server's initialisation is read and the viewer's window holds its framebuffer.
    return existsSync(log) && readFileSync(log, 'utf8').includes('Using pixel format');
  },

  figures(dir, s) {
    // The point's password: nothing needs it once the point ended.
    rmSync(join(dir, VNC_PASSWORD_FILE), { force: true });
    const text = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    const log = s.server === 'tigervnc' ? parseXtigervncLog(text) : parseX11vncLog(text);
    const flags: string[] = [];
    if (!log.hasStatistics) flags.push(`the ${serverName(s)} log holds no statistics of the connection (it did not see the viewer go): no codec.server, no server.* figures (server.log)`);
    return { metrics: serverMetrics(log, s.server === 'tigervnc'), flags, codec: vncCodecEvidence(s, log) };
  },
};

function serverName(s: VncSettings): string {
  return s.server === 'tigervnc' ? 'Xtigervnc' : 'x11vnc';
}

/** The server's own figures from its statistics: bytes and rectangles per encoding, updates, compression, JPEG's share of Tight (only where the statistics split it: `splitsJpeg`, Xtigervnc's). */
export function serverMetrics(log: VncServerLog, splitsJpeg: boolean): Record<string, MetricValue> {
  const m: Record<string, MetricValue> = {};
  if (log.jpegQuality !== undefined) m['server.jpeg_quality'] = log.jpegQuality;
  if (log.compressLevel !== undefined) m['server.compress_level'] = log.compressLevel;
  if (!log.hasStatistics) return m;
  if (log.updates !== undefined) m['server.updates'] = log.updates;
  let bytes = 0;
  let raw = 0;
  let rects = 0;
  for (const e of log.encodings) {
    m[`server.encoding.${e.id}.bytes`] = e.bytes;
    m[`server.encoding.${e.id}.rects`] = e.rects;
    bytes += e.bytes;
    raw += e.rawBytes;
    rects += e.rects;
  }
  m['server.bytes'] = bytes;
  m['server.rects'] = rects;
  m['server.raw_equiv_bytes'] = raw;
  if (bytes > 0) m['server.compression_ratio'] = Number((raw / bytes).toFixed(2));
  const jpeg = log.encodings.find((e) => e.id === 'tight_jpeg')?.bytes ?? 0;
  const tight = log.encodings.find((e) => e.id === 'tight')?.bytes ?? 0;
  if (splitsJpeg && jpeg + tight > 0 && log.encodings[0] !== undefined && encodingFamily(log.encodings[0].id) === 'tight') m['server.jpeg_share'] = Number((jpeg / (jpeg + tight)).toFixed(3));
  return m;
}

/**
 * The codec evidence of a VNC point, all from the server's log (the viewer logs none). `asked` is the
 * encoding the viewer prefers; the server's codec is its main encoding by bytes (Xtigervnc sends
 * solid areas as Tight whatever the client prefers); the client side is what x11vnc says the client
 * asked first. Xtigervnc logs nothing of the client's request: there `askedFamily` is `none`, the
 * only client evidence there can be, and codec.match rests on the server's statistics alone. An
 * encoding asked but not the one the statistics show fails the point, quoting them.
 */
export function vncCodecEvidence(s: VncSettings, log: VncServerLog): CodecEvidence {
  const families = familyBytes(log);
  const main = families[0];
  const clientSide = s.server === 'x11vnc';
  let failure: string | undefined;
  if (main !== undefined && main.family !== s.encoding) {
    const quoted = log.encodings.filter((e) => e.bytes > 0).map((e) => `"${e.line}"`);
    failure = `encoding ${s.encoding} was asked, but ${serverName(s)}'s statistics show ${main.family} (${main.bytes} B of ${families.reduce((a, f) => a + f.bytes, 0)} B): ${quoted.join(', ')} (server.log)`;
  }
  return {
    asked: s.encoding,
    askedFamily: clientSide ? s.encoding : 'none',
    server: { codecs: main ? [main.family] : [], encoders: log.encodings.filter((e) => e.bytes > 0).map((e) => e.id) },
    client: { codecs: clientSide ? log.clientAsked : [], decoders: [] },
    streams: log.updates ?? 0,
    streamsExpected: false,
    ...(failure !== undefined ? { failure } : {}),
  };
}
