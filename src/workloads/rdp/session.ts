/**
 * The guest side of an RDP point: the session user, the configuration files of xrdp and
 * xrdp-sesman in the point directory, and the session xrdp-sesrun creates through that sesman
 * before any viewer connects.
 *
 * xrdp 0.9.21 finds sesman only through /etc/xrdp/sesman.ini (its compiled-in path, read for
 * ListenPort: `strings /usr/sbin/xrdp` shows "%s/sesman.ini" and "3350"; neither xrdp.ini nor a
 * flag moves it), so an xrdp of the point's own cannot reach a sesman of the point's own port.
 * The session is therefore created by xrdp-sesrun (-c: the point's sesman.ini), and the point's
 * xrdp.ini names that session's display directly: its [Xorg] section's `port` is the session's
 * socket (/run/xrdp/sockdir/xrdp_display_N), which libxup connects to without asking sesman
 * ("connecting via UNIX socket" in xrdp.log), exactly as it does once sesman answered.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../base/errors.ts';
import type { RdpSettings } from '../../config/rdp-settings.ts';
import { sesrunDisplay } from './logs.ts';

/** The local user every RDP session of streambench runs as (created when missing). */
export const SESSION_USER = 'streambench-rdp';
/** Where the session user's home is; its .Xauthority is the session's X cookie. */
export const SESSION_HOME = `/home/${SESSION_USER}`;
/** Where xrdp and the session's X server meet (created by scripts/setup.sh and here). */
export const SOCKDIR = '/run/xrdp/sockdir';
/** The point's file holding the session user's password of this point, mode 0600: the viewer's stdin. */
export const PASSWORD_FILE = 'rdp-password';

export const XRDP_SESMAN = '/usr/sbin/xrdp-sesman';
export const XRDP_SESRUN = '/usr/bin/xrdp-sesrun';
export const XORG_XRDP_DRIVER = '/usr/lib/xorg/modules/drivers/xrdpdev_drv.so';

/** Creates the session user when missing: a home for its .Xauthority and the session's logs, no login shell (sesman executes the session's program itself, and PAM's password check does not look at the shell). */
export function ensureSessionUser(): void {
  try {
    execFileSync('getent', ['passwd', SESSION_USER], { stdio: 'ignore' });
    return;
  } catch {
    // getent exits 2 for a user it does not know: create it below.
  }
  try {
    execFileSync('useradd', ['--create-home', '--shell', '/usr/sbin/nologin', '--comment', 'streambench RDP sessions', SESSION_USER], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`could not create the RDP session user ${SESSION_USER} (useradd, needs root): ${errorMessage(e)}`);
  }
}

/** Sets a new password of the session user (chpasswd reads it on stdin) and writes it to `file` (0600) for the viewer. */
export function setSessionPassword(password: string, file: string): void {
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  try {
    execFileSync('chpasswd', [], { input: `${SESSION_USER}:${password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`could not set the password of ${SESSION_USER} (chpasswd, needs root): ${errorMessage(e)}`);
  }
}

/**
 * The session's program (sesman's DefaultWindowManager): it lives as long as the guest role
 * `rolePid` does, so the session (its Xorg and chansrv, which sesman ends when this program ends)
 * never outlives the point, even when nothing could stop it. No window manager: the content
 * draws full screen, as on the other stacks' displays. Written by root, read-only to the user.
 */
export function writeSessionProgram(rolePid: number, display: number): { program: string; stopFile: string } {
  const dir = join(SESSION_HOME, '.streambench');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const program = join(dir, `session-${display}.sh`);
  const stopFile = join(dir, `session-${display}.stop`);
  rmSync(stopFile, { force: true });
  writeFileSync(program, `#!/bin/sh\n# streambench: the RDP session of guest role ${rolePid}, ended with it or when ${stopFile} appears.\nwhile [ -d /proc/${rolePid} ] && [ ! -e ${stopFile} ]; do sleep 0.2; done\n`, { mode: 0o755 });
  chmodSync(program, 0o755);
  return { program, stopFile };
}

/**
 * Ends the session gracefully: its program ends at `stopFile`, and sesman's session process then
 * stops Xorg and chansrv with SIGTERM (their sockets and the display's lock file go with them;
 * a SIGKILL would leave them, and the display number taken). Waits up to `ms` for the session's
 * process `leaderPid`; true once it is gone.
 */
export async function endSession(stopFile: string, leaderPid: number | undefined, ms = 5000): Promise<boolean> {
  writeFileSync(stopFile, '');
  const end = Date.now() + ms;
  let gone = leaderPid === undefined || !existsSync(`/proc/${leaderPid}`);
  while (!gone && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    gone = !alive(leaderPid!);
  }
  rmSync(stopFile, { force: true });
  return gone;
}

/** Whether a pid is a live process (a zombie is not: sesman reaps its session's process only while it runs). */
function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // no such process any more
  }
}

/**
 * sesman.ini of a point: its port on loopback, its display offset, its log, the session program,
 * sessions ended on disconnect. sesman takes the first display from X11DisplayOffset on that no
 * X server holds, within MaxSessions of it: 10 leave room for a display another program took
 * since the offset was found free (the point has one session).
 */
export function sesmanIni(o: { port: number; displayOffset: number; program: string; log: string }): string {
  return `[Globals]
ListenAddress=127.0.0.1
ListenPort=${o.port}
EnableUserWindowManager=false
UserWindowManager=startwm.sh
DefaultWindowManager=${o.program}
ReconnectScript=/bin/true

[Security]
AllowRootLogin=false
MaxLoginRetry=1
TerminalServerUsers=tsusers
TerminalServerAdmins=tsadmins
AlwaysGroupCheck=false

[Sessions]
X11DisplayOffset=${o.displayOffset}
MaxSessions=10
KillDisconnected=true
DisconnectedTimeLimit=0
IdleTimeLimit=0
Policy=Default

[Logging]
LogFile=${o.log}
LogLevel=DEBUG
EnableSyslog=false
EnableConsole=false

[Xorg]
param=/usr/lib/xorg/Xorg
param=-config
param=xrdp/xorg.conf
param=-noreset
param=-nolisten
param=tcp
param=-logfile
param=.xorgxrdp.%s.log

[Chansrv]
FuseMountName=thinclient_drives
FileUmask=077

[ChansrvLogging]
LogLevel=INFO
EnableSyslog=false
EnableConsole=false

[SessionVariables]
`;
}

/**
 * xrdp.ini of a point: listening on address:port only, TLS, no channels but the ones the viewer
 * joins, its log, and one session type whose module connects straight to the session's display.
 * `maxBpp` is the test suite's way to take RemoteFX away: at max_bpp=16 xrdp sends bitmap updates
 * to a client that asked for RemoteFX (at 24 it still sends RemoteFX).
 */
export function xrdpIni(o: { address: string; port: number; display: number; log: string; maxBpp?: number }): string {
  return `[Globals]
ini_version=1
fork=true
port=tcp://${o.address}:${o.port}
use_vsock=false
tcp_nodelay=true
tcp_keepalive=true
security_layer=tls
crypt_level=high
certificate=
key_file=
ssl_protocols=TLSv1.2, TLSv1.3
autorun=Xorg
allow_channels=true
allow_multimon=false
bitmap_cache=true
bitmap_compression=true
bulk_compression=true
max_bpp=${o.maxBpp ?? 32}
new_cursors=true
use_fastpath=both

[Logging]
LogFile=${o.log}
LogLevel=INFO
EnableSyslog=false
EnableConsole=false

[Channels]
rdpdr=false
rdpsnd=false
drdynvc=false
cliprdr=false
rail=false
xrdpvr=false
tcutils=false

[Xorg]
name=Xorg
lib=libxup.so
username=ask
password=ask
ip=127.0.0.1
port=${SOCKDIR}/xrdp_display_${o.display}
code=20
`;
}

/** Creates the session through sesman (xrdp-sesrun -c ini, the password on stdin); resolves its display. */
export function createSession(o: { ini: string; password: string; s: RdpSettings; timeoutMs: number }): Promise<number> {
  const argv = ['-s', '127.0.0.1', '-c', o.ini, '-F', '0', '-g', `${o.s.width}x${o.s.height}`, '-b', String(o.s.bpp), '-t', 'Xorg', SESSION_USER];
  return new Promise((resolve, reject) => {
    const child = spawn(XRDP_SESRUN, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${XRDP_SESRUN}: ${errorMessage(e)}`));
    });
    child.once('exit', () => {
      clearTimeout(timer);
      const display = sesrunDisplay(out);
      if (display !== undefined) resolve(display);
      else reject(new Error(`xrdp-sesrun created no session: "${out.trim().split('\n').at(-1) ?? ''}" (see xrdp-sesman.log)`));
    });
    child.stdin.end(`${o.password}\n`);
  });
}

/** Makes sure the directory xrdp and the session's X server share exists (a fresh boot has no /run/xrdp). */
export function ensureSockdir(): void {
  if (existsSync(SOCKDIR)) return;
  mkdirSync(SOCKDIR, { recursive: true });
  // As the xrdp package makes it: everyone may create a socket there, only its owner removes it.
  chmodSync(SOCKDIR, 0o3777);
}
