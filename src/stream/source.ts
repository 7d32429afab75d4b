/** Where frames come from: a synthetic scene, or a y4m file, both addressable by frame number. */
import type { YuvFrame } from './frame.ts';
import { createScene, SCENE_NAMES, type SceneName } from './scenes/index.ts';
import type { StreamSettings } from '../config/stream-settings.ts';
import { openY4m } from './y4m.ts';

/** Renders frame `n` into `out`; the same n always gives the same picture, so the client can compare. */
export interface FrameSource {
  render(n: number, out: YuvFrame): void;
}

/** The source the settings name; throws with a message naming the scene or file when unusable. */
export function openSource(s: StreamSettings): FrameSource {
  if (s.source) {
    const y = openY4m(s.source);
    if (y.width !== s.width || y.height !== s.height) throw new Error(`${s.source} is ${y.width}x${y.height}, but resolution is ${s.width}x${s.height}: set resolution to match`);
    return { render: (n, out) => y.read(n, out) };
  }
  if (!(SCENE_NAMES as readonly string[]).includes(s.scene)) throw new Error(`scene '${s.scene}' is not one of ${SCENE_NAMES.join(', ')}`);
  const scene = createScene(s.scene as SceneName, { width: s.width, height: s.height, fps: s.fps, grain: s.grain });
  return { render: (n, out) => scene.render(n, out) };
}
