/**
 * Render cost of each synthetic scene per frame at 720p and 1080p, against the floor measured in
 * the same run: filling every plane of a frame and moving it once with copyWithin, the least any
 * renderer that writes every byte can cost. The video and motion scenes run at their default
 * grain (20) and without grain (0). Then the cost of the client's per-frame luma quality
 * (psnrY, ssimY), and of the SI/TI measurement the stream workload makes after each point, at
 * the same sizes.
 * Run: npx tsx bench/scenes.ts [frames]
 */
import { performance } from 'node:perf_hooks';
import { allocFrame, type YuvFrame } from '../src/stream/frame.ts';
import { psnrY, ssimY } from '../src/stream/quality.ts';
import { createScene, SCENE_NAMES, type SceneName } from '../src/stream/scenes/index.ts';
import { fullRangeTable, spatialInfo, temporalInfo, toFullRange } from '../src/stream/siti.ts';

const FRAMES = Number(process.argv[2] ?? 300);
const SIZES = [
  [1280, 720],
  [1920, 1080],
] as const;

function floorMs(out: YuvFrame): number {
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    for (const p of [out.y, out.u, out.v]) {
      p.fill(i & 255);
      // Shifting by one row moves (almost) the whole plane: a memmove of the frame.
      const row = p === out.y ? out.width : out.width >> 1;
      p.copyWithin(row, 0, p.length - row);
    }
  }
  return (performance.now() - t0) / FRAMES;
}

for (const [width, height] of SIZES) {
  const out = allocFrame(width, height);
  // Warm the JIT on the floor loop before timing it, as the scenes are warmed below.
  floorMs(out);
  const floor = floorMs(out);
  console.log(`${width}x${height}: floor (fill + copyWithin of a whole frame) ${floor.toFixed(3)} ms/frame`);
  console.log(`  ${'scene'.padEnd(10)} ${'create ms'.padStart(10)} ${'ms/frame'.padStart(9)} ${'p95 ms'.padStart(8)} ${'x floor'.padStart(8)}`);
  const variants: { name: SceneName; grain?: number }[] = [...SCENE_NAMES.map((name) => ({ name })), { name: 'video', grain: 0 }, { name: 'motion', grain: 0 }];
  for (const { name, grain } of variants) {
    const label = grain === undefined ? name : `${name} g${grain}`;
    const c0 = performance.now();
    const scene = createScene(name, { width, height, fps: 30, ...(grain === undefined ? {} : { grain }) });
    const created = performance.now() - c0;
    for (let i = 0; i < 30; i++) scene.render(i, out);
    const times = new Float64Array(FRAMES);
    const t0 = performance.now();
    for (let i = 0; i < FRAMES; i++) {
      const s = performance.now();
      scene.render(1000 + i, out);
      times[i] = performance.now() - s;
    }
    const per = (performance.now() - t0) / FRAMES;
    times.sort();
    const p95 = times[Math.floor(FRAMES * 0.95)]!;
    console.log(`  ${label.padEnd(10)} ${created.toFixed(1).padStart(10)} ${per.toFixed(3).padStart(9)} ${p95.toFixed(3).padStart(8)} ${(per / floor).toFixed(1).padStart(8)}`);
  }
}

console.log('quality of one luma plane (ms per call):');
for (const [width, height] of SIZES) {
  const ref = allocFrame(width, height);
  createScene('video', { width, height, fps: 30 }).render(5, ref);
  // A stand-in for a decoded frame: every pixel off by a small, varying amount.
  const dist = ref.y.map((v, i) => Math.min(255, v + (i % 5)));
  const p = time(() => psnrY(dist, ref.y, width, height));
  const s = time(() => ssimY(dist, ref.y, width, height));
  console.log(`  ${width}x${height}: psnrY ${p.toFixed(3)}  ssimY ${s.toFixed(3)}`);
}

console.log('SI/TI of one frame (ms per call):');
for (const [width, height] of SIZES) {
  const scene = createScene('motion', { width, height, fps: 30 });
  const a = allocFrame(width, height);
  const b = allocFrame(width, height);
  scene.render(5, a);
  scene.render(6, b);
  const table = fullRangeTable(false);
  const fa = new Uint8Array(width * height);
  const fb = new Uint8Array(width * height);
  toFullRange(b.y, table, fb);
  const r = time(() => (toFullRange(a.y, table, fa), 0));
  const si = time(() => spatialInfo(fa, width, height));
  const ti = time(() => temporalInfo(fa, fb));
  console.log(`  ${width}x${height}: to full range ${r.toFixed(3)}  SI ${si.toFixed(3)}  TI ${ti.toFixed(3)}`);
}

function time(fn: () => number): number {
  for (let i = 0; i < 10; i++) fn();
  const n = 100;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t0) / n;
}
