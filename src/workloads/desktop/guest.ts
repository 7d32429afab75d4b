/**
 * The guest's part of a desktop point: the stack's server on a virtual display of its own, and the
 * content played on that display (with the scene player's stamps, taken on the guest's clock).
 */
import type { ChildProcess } from 'node:child_process';
import { freeDisplay, freePort, displayEnv } from './display.ts';
import { startContent, type Content } from './content.ts';
import type { ProcessSet } from './processes.ts';
import type { DesktopSettings, DesktopStack } from './stack.ts';

/** The guest's running part. */
export interface Guest {
  /** The server's processes (ServerStarted.procs). */
  server: ChildProcess[];
  /** What the viewer needs besides the address (ServerStarted.viewer). */
  viewer: Record<string, string>;
  content: Content;
  /** Where the server listens (on the guest machine's address). */
  port: number;
  /** Ends what the server started outside the role's processes (ServerStarted.stop). */
  stopServer?: () => Promise<void>;
}

/** Starts the server on a free display and port, then the content on the display the server says (its own, or a session's). */
export async function startGuest<S extends DesktopSettings>(procs: ProcessSet, stack: DesktopStack<S>, o: { dir: string; xdg: string; settings: S; taken: Set<number>; lifetimeS: number; address: string; watch?: (label: string, pid: number) => void }): Promise<Guest> {
  const display = freeDisplay(o.taken);
  const port = await freePort(o.address);
  const started = await stack.startServer(procs, { dir: o.dir, display, address: o.address, port, settings: o.settings });
  for (const p of started.procs) o.watch?.('server', p.pid!);
  const env = { ...displayEnv(started.display ?? display, o.xdg), ...started.contentEnv };
  const content = startContent(procs, { dir: o.dir, settings: o.settings, env, lifetimeS: o.lifetimeS });
  for (const p of content.procs) o.watch?.('player', p.pid!);
  return { server: started.procs, viewer: started.viewer ?? {}, content, port, ...(started.stop ? { stopServer: () => started.stop!() } : {}) };
}
