/** The scenes' names, the sizes and grain they accept, and the shape of a scene. */
import type { YuvFrame } from '../frame.ts';

/** The scenes, from least to most motion. */
export const SCENE_NAMES = ['idle', 'typing', 'scrolling', 'drag', 'video', 'motion'] as const;
export type SceneName = (typeof SCENE_NAMES)[number];

/** Film grain of the video and motion scenes when none is asked for: what camera video looks like. */
export const DEFAULT_GRAIN = 20;
/**
 * Largest grain: the texture's headroom is shifted down by what grain adds beyond it, and the
 * video texture's floor (30) bounds that shift (see videoLuma in renderers.ts).
 */
export const MAX_GRAIN = 50;

/** Size and frame rate a scene renders for, and its film grain. */
export interface SceneOptions {
  width: number;
  height: number;
  fps: number;
  /** Grain amplitude in luma levels (each pixel of a moving picture gains 0..grain per frame), an integer in 0..MAX_GRAIN; default DEFAULT_GRAIN. */
  grain?: number;
}

/** A scene bound to a size and rate; render() is a pure function of the frame index. */
export interface Scene {
  readonly name: SceneName;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly grain: number;
  /** Fills every byte of `out` with frame `frameIndex` (an integer in 0..2^32-1), frame number stamp included. */
  render(frameIndex: number, out: YuvFrame): void;
}

/** Smallest width the scenes' layouts and the frame number code fit in. */
export const MIN_SCENE_WIDTH = 160;
/** Smallest height the scenes' layouts and the frame number code fit in. */
export const MIN_SCENE_HEIGHT = 120;
/** Widest frame (8K) the shared grain table covers. */
export const MAX_SCENE_WIDTH = 7680;

/** True when the text names a scene. */
export function isSceneName(text: string): text is SceneName {
  return (SCENE_NAMES as readonly string[]).includes(text);
}
