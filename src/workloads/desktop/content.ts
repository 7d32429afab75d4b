/**
 * The content of a desktop point on the guest's display: a scene of the built-in pipeline drawn by
 * its player (`streambench stream player`, which stamps when it hands each frame over) through
 * ffplay, a video file through ffplay, or the user's own X program.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliArgv } from '../../base/cli-process.ts';
import { streamSettings } from '../../config/stream-settings.ts';
import type { ProcessSet } from './processes.ts';
import type { DesktopSettings } from './stack.ts';

/** The player's stamps in the point directory: one `frame<TAB>ms` line per frame (monotonic ms). */
export const STAMPS_FILE = 'player-stamps.tsv';

/** The content playing on the guest's display. */
export interface Content {
  /** Its processes (the player's CPU is theirs together). */
  procs: ChildProcess[];
  /** The stamps file, for the built-in scene only: a video or a program shows no sign of its frames. */
  stamps?: string;
  /** Whether it drew its first frame (always true without stamps: nothing to wait for). */
  started(): boolean;
}

/**
 * Starts the content on X display `display` with `env`; `lifetimeS` bounds the scene player
 * (it outlasts the point whatever the start-up took: the point ends it).
 */
export function startContent(procs: ProcessSet, o: { dir: string; settings: DesktopSettings; env: NodeJS.ProcessEnv; lifetimeS: number }): Content {
  const s = o.settings;
  if (s.content) return { procs: [procs.start('player', s.content, { env: o.env })], started: () => true };
  const size = s.window ? ['-x', String(s.width / 2), '-y', String(s.height / 2), '-left', '40', '-top', '40', '-noborder'] : ['-fs'];
  if (s.video) return { procs: [procs.start('player', ['ffplay', '-loglevel', 'error', '-an', '-autoexit', ...size, '-stream_loop', '-1', '-i', s.video], { env: o.env })], started: () => true };
  const stamps = join(o.dir, STAMPS_FILE);
  // The player renders with the stream's own settings type: only scene, size and rate matter to it.
  const cfg = streamSettings({ scene: s.scene, resolution: `${s.width}x${s.height}`, fps: s.fps }, { warmupS: 0, durationS: o.lifetimeS });
  const frames = procs.start('frames', cliArgv('stream', ['player', '--config', JSON.stringify(cfg), '--report', stamps]), { stdout: 'pipe' });
  // ffplay reads the player's pipe itself: a relay through this process would add its event
  // loop's delays (the screen reader runs here) to every frame's latency.
  const ffplay = procs.start('player', scenePlayerArgv(s.width, s.height, size), { env: o.env, stdin: frames.stdout! });
  frames.stdout!.destroy();
  let drew = false;
  return { procs: [ffplay, frames], stamps, started: () => drew || (drew = existsSync(stamps) && readFileSync(stamps, 'utf8').includes('\n')) };
}

/**
 * ffplay's argv for the scene's raw frames on stdin, shown as soon as each arrives. The input's
 * declared rate is 1000 fps, far above the real one: every frame is then due when it arrives, so
 * ffplay never holds one back to keep a pace of its own (with the true rate, a start-up delay of its
 * window would stay in every later frame), and the player's stamp is close to the drawing.
 */
export function scenePlayerArgv(width: number, height: number, size: string[]): string[] {
  return ['ffplay', '-loglevel', 'error', '-an', '-autoexit', '-sync', 'video', '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0', ...size, '-f', 'rawvideo', '-pixel_format', 'yuv420p', '-video_size', `${width}x${height}`, '-framerate', '1000', '-i', 'pipe:0'];
}

/** The player's stamps (`frame<TAB>ms` lines, src/stream/player.ts): frame number to the time it was handed over. */
export function readStamps(path: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\d+)\t(\d+(?:\.\d+)?)$/.exec(line);
    // The last line may be cut by the signal that ended the player: only whole lines count.
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}
