/** The synthetic scenes' public API: what each scene shows (content.ts) and the frame number stamp (stamp.ts). */
export { createScene } from './content.ts';
export { DEFAULT_GRAIN, isSceneName, MAX_GRAIN, MAX_SCENE_WIDTH, MIN_SCENE_HEIGHT, MIN_SCENE_WIDTH, SCENE_NAMES, type Scene, type SceneName, type SceneOptions } from './names.ts';
export { frameCodeArea, frameCodeBlock, readFrameNumber, stampFrameNumber } from './stamp.ts';
