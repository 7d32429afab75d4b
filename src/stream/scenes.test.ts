import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocFrame, i420Size, type YuvFrame } from './frame.ts';
import { createScene, frameCodeArea, readFrameNumber, SCENE_NAMES, stampFrameNumber, type SceneName } from './scenes.ts';

function same(a: YuvFrame, b: YuvFrame): boolean {
  return Buffer.compare(a.y, b.y) === 0 && Buffer.compare(a.u, b.u) === 0 && Buffer.compare(a.v, b.v) === 0;
}

function changedFraction(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n / a.length;
}

/** Whether any luma pixel outside the frame number corner differs. */
function changedOutsideCode(a: YuvFrame, b: YuvFrame): boolean {
  const area = frameCodeArea(a.width, a.height);
  for (let r = 0; r < a.height; r++) {
    for (let x = r < area.height ? area.width : 0; x < a.width; x++) if (a.y[r * a.width + x] !== b.y[r * a.width + x]) return true;
  }
  return false;
}

function noise(frame: YuvFrame, seed: number): void {
  let s = seed;
  for (const p of [frame.y, frame.u, frame.v]) {
    for (let i = 0; i < p.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      p[i] = s >>> 24;
    }
  }
}

test('a frame depends only on its index: frame 57 after 0..56 equals frame 57 from a fresh scene', () => {
  for (const name of SCENE_NAMES) {
    const opts = { width: 320, height: 240, fps: 30 };
    const walked = createScene(name, opts);
    const out = allocFrame(320, 240);
    for (let i = 0; i <= 56; i++) walked.render(i, out);
    walked.render(57, out);
    const fresh = allocFrame(320, 240);
    createScene(name, opts).render(57, fresh);
    assert.ok(same(out, fresh), `${name}: frame 57 differs after walking 0..56`);
    // Out of order, and with a far frame in between.
    walked.render(4_000_000_000, out);
    walked.render(57, out);
    assert.ok(same(out, fresh), `${name}: frame 57 differs after frame 4e9`);
  }
});

test('render fills every byte of the frame, whatever was in it before', () => {
  for (const name of SCENE_NAMES) {
    const scene = createScene(name, { width: 320, height: 240, fps: 25 });
    const a = allocFrame(320, 240);
    const b = allocFrame(320, 240);
    noise(a, 1);
    noise(b, 2);
    scene.render(123, a);
    scene.render(123, b);
    assert.ok(same(a, b), `${name}: leftovers of the previous content show through`);
  }
});

test('the 32-bit fast paths and the byte paths draw the same picture', () => {
  // Planes at odd byte offsets cannot take 32-bit views, so render() falls back to byte loops.
  const [w, h] = [640, 360];
  const store = new Uint8Array(w * h * 2 + 8);
  const unaligned: YuvFrame = {
    width: w,
    height: h,
    y: store.subarray(1, 1 + w * h),
    u: store.subarray(w * h + 2, w * h + 2 + (w * h) / 4),
    v: store.subarray(w * h + 3 + (w * h) / 4, w * h + 3 + (w * h) / 2),
  };
  for (const name of SCENE_NAMES) {
    const scene = createScene(name, { width: w, height: h, fps: 30 });
    const aligned = allocFrame(w, h);
    for (const n of [0, 17, 4321]) {
      scene.render(n, aligned);
      scene.render(n, unaligned);
      assert.ok(same(aligned, unaligned), `${name} frame ${n}`);
    }
  }
});

test('scenes differ from each other, and size and rate change the picture', () => {
  const frames = SCENE_NAMES.map((name) => {
    const f = allocFrame(320, 240);
    createScene(name, { width: 320, height: 240, fps: 30 }).render(40, f);
    return f;
  });
  for (let i = 0; i < frames.length; i++) {
    for (let j = i + 1; j < frames.length; j++) {
      assert.ok(changedFraction(frames[i]!.y, frames[j]!.y) > 0.05, `${SCENE_NAMES[i]} and ${SCENE_NAMES[j]} look alike`);
    }
  }
  const at60 = allocFrame(320, 240);
  createScene('drag', { width: 320, height: 240, fps: 60 }).render(40, at60);
  assert.ok(!same(at60, frames[SCENE_NAMES.indexOf('drag')]!), 'the drag position follows time, not frame count');
});

test('scenes move as their names say (640x360 at 30 fps, frames 0..90)', () => {
  // Measured: idle 0.056..0.063%, typing 0.056..0.068%, scrolling mean 24.8%, drag mean 7.1%,
  // video mean 15.3%, motion min 94.6%. The bounds leave room and keep the order.
  const width = 640;
  const height = 360;
  const fps = 30;
  const stats = {} as Record<SceneName, { min: number; mean: number; max: number; framesChangedOutsideCode: number[] }>;
  for (const name of SCENE_NAMES) {
    const scene = createScene(name, { width, height, fps });
    let prev = allocFrame(width, height);
    let cur = allocFrame(width, height);
    scene.render(0, prev);
    const fr: number[] = [];
    const changed: number[] = [];
    for (let i = 1; i <= 90; i++) {
      scene.render(i, cur);
      fr.push(changedFraction(prev.y, cur.y));
      if (changedOutsideCode(prev, cur)) changed.push(i);
      [prev, cur] = [cur, prev];
    }
    stats[name] = { min: Math.min(...fr), mean: fr.reduce((s, x) => s + x, 0) / fr.length, max: Math.max(...fr), framesChangedOutsideCode: changed };
  }
  assert.ok(stats.idle.max < 0.005, `idle max ${stats.idle.max}`);
  // Idle changes only when the clock ticks and the cursor blinks: once per second.
  assert.deepEqual(stats.idle.framesChangedOutsideCode, [30, 60, 90]);
  assert.ok(stats.typing.max < 0.02, `typing max ${stats.typing.max}`);
  // 8 characters per second at 30 fps: a new glyph about every fourth frame.
  const typed = stats.typing.framesChangedOutsideCode.length;
  assert.ok(typed >= 18 && typed <= 30, `typing changed ${typed} of 90 frames`);
  assert.ok(stats.scrolling.mean > 0.2 && stats.scrolling.min > 0.1, `scrolling mean ${stats.scrolling.mean} min ${stats.scrolling.min}`);
  assert.equal(stats.scrolling.framesChangedOutsideCode.length, 90);
  assert.ok(stats.drag.mean > 0.03 && stats.drag.max < 0.15, `drag mean ${stats.drag.mean} max ${stats.drag.max}`);
  assert.ok(stats.video.min > 0.1 && stats.video.max < 0.2, `video ${stats.video.min}..${stats.video.max}`);
  assert.ok(stats.motion.min > 0.8, `motion min ${stats.motion.min}`);
  assert.ok(stats.typing.max < stats.drag.min && stats.drag.mean < stats.video.mean && stats.video.mean < stats.scrolling.mean && stats.scrolling.max < stats.motion.min);
});

test('frame numbers survive a stamp/read round trip on any content, at both block sizes', () => {
  const values = [0, 1, 2, 3, 255, 256, 12345, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1];
  for (const [w, h] of [
    [320, 240],
    [1280, 720],
  ] as const) {
    const f = allocFrame(w, h);
    for (const [k, n] of values.entries()) {
      noise(f, k + 7);
      stampFrameNumber(f, n);
      assert.equal(readFrameNumber(f), n, `${w}x${h}: ${n}`);
    }
  }
  assert.throws(() => stampFrameNumber(allocFrame(320, 240), -1), RangeError);
  assert.throws(() => stampFrameNumber(allocFrame(320, 240), 2 ** 32), RangeError);
  assert.throws(() => stampFrameNumber(allocFrame(320, 240), 1.5), RangeError);
  assert.throws(() => stampFrameNumber(allocFrame(64, 48), 1), /too small/);
});

test('readFrameNumber says undefined for an unstamped frame or a damaged code', () => {
  const f = allocFrame(320, 240);
  assert.equal(readFrameNumber(f), undefined, 'a black frame');
  noise(f, 3);
  assert.equal(readFrameNumber(f), undefined, 'noise');
  stampFrameNumber(f, 0x12345678);
  assert.equal(readFrameNumber(f), 0x12345678);
  // Paint the first data block's complement like the block itself: the pair no longer checks.
  const b = 8;
  const dataValue = f.y[4 * 320 + 8 * b + 4]!;
  for (let r = 0; r < b; r++) f.y.fill(dataValue, r * 320 + 9 * b, r * 320 + 10 * b);
  assert.equal(readFrameNumber(f), undefined);
});

test('frame numbers read back after a lossy x264 encode (CRF 35) of every scene', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-scenes-'));
  try {
    const indices = [0, 1, 2, 3, 4, 5, 6, 7, 29, 30, 31, 1000, 65535, 65536, 123456789, 2 ** 31, 2 ** 32 - 1];
    for (const [width, height, names] of [
      [640, 360, SCENE_NAMES],
      [1280, 720, ['motion', 'scrolling'] as const],
    ] as const) {
      const raw = join(dir, `in-${width}.yuv`);
      const expected: number[] = [];
      const chunks: Buffer[] = [];
      const f = allocFrame(width, height);
      for (const name of names) {
        const scene = createScene(name, { width, height, fps: 30 });
        for (const n of indices) {
          scene.render(n, f);
          chunks.push(Buffer.concat([f.y, f.u, f.v]));
          expected.push(n);
        }
      }
      writeFileSync(raw, Buffer.concat(chunks));
      const encoded = join(dir, `enc-${width}.mkv`);
      const decoded = join(dir, `dec-${width}.yuv`);
      const size = `${width}x${height}`;
      const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', size, '-r', '30', '-i', raw,
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '35', '-y', encoded], { encoding: 'utf8' });
      assert.equal(enc.status, 0, enc.stderr);
      const dec = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', encoded, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-y', decoded], { encoding: 'utf8' });
      assert.equal(dec.status, 0, dec.stderr);
      const bytes = readFileSync(decoded);
      const fs = i420Size(width, height);
      assert.equal(bytes.length, fs * expected.length, 'decoded frame count');
      const got: (number | undefined)[] = [];
      for (let k = 0; k < expected.length; k++) {
        const frame: YuvFrame = { width, height, y: bytes.subarray(k * fs, k * fs + width * height), u: new Uint8Array(0), v: new Uint8Array(0) };
        got.push(readFrameNumber(frame));
      }
      assert.deepEqual(got, expected, size);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createScene rejects what it cannot draw', () => {
  assert.throws(() => createScene('idle', { width: 321, height: 240, fps: 30 }), /even/);
  assert.throws(() => createScene('idle', { width: 100, height: 80, fps: 30 }), /minimum|outside/);
  assert.throws(() => createScene('idle', { width: 320, height: 240, fps: 0 }), /fps/);
  assert.throws(() => createScene('nope' as SceneName, { width: 320, height: 240, fps: 30 }), /unknown scene "nope"/);
  const scene = createScene('idle', { width: 320, height: 240, fps: 30 });
  assert.throws(() => scene.render(0, allocFrame(640, 360)), /expected 320x240/);
  assert.throws(() => scene.render(-1, allocFrame(320, 240)), RangeError);
});
