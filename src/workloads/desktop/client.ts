/**
 * The client's part of a desktop point: a virtual screen (Xvfb) larger than the guest's, the
 * stack's viewer on it connected through the relay, and the independent reading of what that
 * screen shows: a grabber of its top-left corner and the reader of the scene's frame numbers.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { monoMs } from '../../base/clock.ts';
import { displayEnv, displaySocket, freeDisplay } from './display.ts';
import { waitFor, type ProcessSet } from './processes.ts';
import { CLIENT_MARGIN, grabArgv, grabRegion, ScreenReader } from './screen.ts';
import type { DesktopSettings, DesktopStack } from './stack.ts';

/** The client's running part. */
export interface Client {
  viewer: ChildProcess;
  grab: ChildProcess;
  /** Frame numbers read off the client's screen, dated on this process's monotonic clock. */
  screen: ScreenReader;
}

/** Starts the client's screen, the viewer on it (connected to the relay at `relay`), and the grabber. */
export async function startClient<S extends DesktopSettings>(
  procs: ProcessSet,
  stack: DesktopStack<S>,
  o: { xdg: string; settings: S; taken: Set<number>; relay: { host: string; port: number }; viewer: Readonly<Record<string, string>>; watch?: (label: string, pid: number) => void },
): Promise<Client> {
  const s = o.settings;
  const display = freeDisplay(o.taken);
  // The client's screen is larger than the guest's, so the viewer shows it at 1:1 with its menus.
  const screenW = s.width + CLIENT_MARGIN.x;
  const screenH = s.height + CLIENT_MARGIN.y;
  const xvfb = procs.start('screen', ['Xvfb', `:${display}`, '-screen', '0', `${screenW}x${screenH}x24`, '-nolisten', 'tcp']);
  await waitFor(() => existsSync(displaySocket(display)), 10_000, 'Xvfb did not start (see screen.log)', xvfb);
  const io = stack.viewerIo?.(s, o.viewer, o.relay) ?? {};
  // A file for stdin is opened here and handed over as a descriptor: the child reads it, not this process.
  const stdin = io.stdinFile !== undefined ? openSync(io.stdinFile, 'r') : undefined;
  let viewer: ChildProcess;
  try {
    viewer = procs.start('client', stack.viewerArgv(o.relay.host, o.relay.port, s, o.viewer), { env: { ...displayEnv(display, o.xdg), ...io.env }, ...(stdin !== undefined ? { stdin } : {}) });
  } finally {
    if (stdin !== undefined) closeSync(stdin);
  }
  o.watch?.('client', viewer.pid!);
  // A process of its own, outside the viewer's tree: its CPU is not the client's.
  const region = grabRegion(screenW, screenH, s.width, s.height);
  const grab = procs.start('grab', grabArgv(display, region), { stdout: 'pipe' });
  const screen = new ScreenReader(region.width, region.height, s.width, s.height);
  grab.stdout!.on('data', (d: Buffer) => screen.push(d, monoMs()));
  return { viewer, grab, screen };
}
