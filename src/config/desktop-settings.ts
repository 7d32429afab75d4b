/**
 * The settings every desktop point has, whatever its stack (SpiceSettings extends them): the guest
 * display and its content, the relay's network, the point's times. The desktop machinery
 * (src/workloads/desktop/) reads only these.
 */
import type { NetSettings } from './stream-settings.ts';

export interface DesktopSettings {
  /** The guest display's size, and the scene's rate on it. */
  width: number;
  height: number;
  fps: number;
  scene: string;
  /** Scene shown in a window of half the screen instead of full screen. */
  window: boolean;
  /** A video file played on the guest display instead of a scene. */
  video?: string;
  /** Any X program (argv) run on the guest display instead of a scene. */
  content?: string[];
  /** The relay's emulated network (rate, delay, loss, traces). */
  net: NetSettings;
  warmupS: number;
  durationS: number;
}

/**
 * The settings every desktop stack shares, from the point's shared stream settings (display, scene,
 * network) and its own typed parameters (`window`, `video`), with the content program if any.
 */
export function desktopBase(shared: Pick<DesktopSettings, 'width' | 'height' | 'fps' | 'scene' | 'net'>, typed: (name: string) => unknown, times: { warmupS: number; durationS: number }, content?: string[]): DesktopSettings {
  const video = typed('video');
  return {
    width: shared.width,
    height: shared.height,
    fps: shared.fps,
    scene: shared.scene,
    window: typed('window') as boolean,
    net: shared.net,
    warmupS: times.warmupS,
    durationS: times.durationS,
    ...(video !== undefined ? { video: video as string } : {}),
    ...(content ? { content } : {}),
  };
}
