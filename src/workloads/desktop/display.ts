/**
 * What a desktop point takes on its machines: X display numbers (the guest's virtual display, the
 * client's screen) and loopback ports, each chosen free when the point starts.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** A display number no X server uses now, from 100 up (below are left to people). */
export function freeDisplay(taken: Set<number>): number {
  for (let n = 100; n < 1000; n++) {
    if (!taken.has(n) && !existsSync(displaySocket(n)) && !existsSync(`/tmp/.X${n}-lock`)) {
      taken.add(n);
      return n;
    }
  }
  throw new Error('no free X display number between 100 and 999');
}

/** The socket an X server of display `n` listens on: it exists once the server accepts clients. */
export function displaySocket(n: number): string {
  return `/tmp/.X11-unix/X${n}`;
}

/** A port of `host` (loopback by default) free now (bound, read, released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * The environment of an X program on display `n`: a runtime directory of the point's own (`xdg`,
 * mode 0700), no sound card and no accessibility bus, which a virtual display has neither of.
 */
export function displayEnv(n: number, xdg: string): NodeJS.ProcessEnv {
  return { ...process.env, DISPLAY: `:${n}`, XDG_RUNTIME_DIR: xdg, SDL_AUDIODRIVER: 'dummy', NO_AT_BRIDGE: '1' };
}
