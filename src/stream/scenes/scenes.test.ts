import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocFrame, i420Size, type YuvFrame } from '../frame.ts';
import { createScene, DEFAULT_GRAIN, frameCodeArea, MAX_GRAIN, readFrameNumber, SCENE_NAMES, stampFrameNumber, type SceneName } from './index.ts';

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

test('the default grain draws the pictures the scenes drew before grain was a parameter (recorded points stay comparable)', () => {
  // Digest of frames 0, 31, 1000, 4321 of every scene at 640x360 (32-bit paths) and 322x240 (byte
  // paths), computed with the scenes of commit 92a14d6, before grain could be set.
  const digest = (grain?: number) => {
    const h = createHash('sha256');
    for (const [w, ht] of [
      [640, 360],
      [322, 240],
    ] as const) {
      for (const name of SCENE_NAMES) {
        const scene = createScene(name, { width: w, height: ht, fps: 30, ...(grain === undefined ? {} : { grain }) });
        const f = allocFrame(w, ht);
        for (const n of [0, 31, 1000, 4321]) {
          scene.render(n, f);
          h.update(f.y).update(f.u).update(f.v);
        }
      }
    }
    return h.digest('hex').slice(0, 16);
  };
  assert.equal(DEFAULT_GRAIN, 20);
  assert.equal(digest(), '0faa536038713e3c');
  assert.equal(digest(20), '0faa536038713e3c');
  assert.notEqual(digest(19), '0faa536038713e3c', 'the digest sees the grain');
});

test('grain adds 0..grain to each pixel of the moving pictures only, shifted down where a byte would overflow', () => {
  const [w, h] = [640, 360];
  const render = (name: SceneName, grain: number, n: number) => {
    const f = allocFrame(w, h);
    createScene(name, { width: w, height: h, fps: 30, grain }).render(n, f);
    return f;
  };
  const area = frameCodeArea(w, h);
  // Shifts: the video picture takes 23 levels of grain, the motion picture 45 (content.ts).
  for (const [name, headroom] of [
    ['motion', 45],
    ['video', 23],
  ] as const) {
    for (const grain of [1, 10, 20, 50]) {
      const clean = render(name, 0, 77);
      const grainy = render(name, grain, 77);
      const shift = Math.max(0, grain - headroom);
      // Below the frame number code; outside the video's picture the difference is 0.
      let n = 0;
      let changed = 0;
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let r = area.height; r < h; r++) {
        for (let x = 0; x < w; x++) {
          const d = grainy.y[r * w + x]! - clean.y[r * w + x]!;
          n++;
          if (d !== 0) changed++;
          sum += d;
          lo = Math.min(lo, d);
          hi = Math.max(hi, d);
        }
      }
      const label = `${name} grain ${grain}`;
      // The motion picture is the whole frame, the video's 16% of it; a pixel's grain is 0 one time in grain + 1.
      if (grain >= 10) assert.ok(changed > (name === 'motion' ? 0.75 : 0.12) * w * h, `${label}: grain changed ${changed} pixels`);
      assert.ok(lo >= -shift && hi <= grain - shift, `${label}: differences ${lo}..${hi}, expected within ${-shift}..${grain - shift}`);
      // The mean of uniform 0..grain is grain/2; a few thousand samples put it within 0.3.
      if (name === 'motion') assert.ok(Math.abs(sum / n - (grain / 2 - shift)) < 0.3, `${label}: mean difference ${sum / n}`);
      assert.ok(Buffer.compare(clean.u, grainy.u) === 0 && Buffer.compare(clean.v, grainy.v) === 0, `${label}: chroma unchanged`);
    }
  }
  // Grain is new in every frame, and the same for the same frame.
  assert.ok(same(render('motion', 20, 5), render('motion', 20, 5)), 'deterministic');
  const grainOf = (n: number) => {
    const [g, c] = [render('motion', 20, n), render('motion', 0, n)];
    return g.y.map((v, i) => v - c.y[i]!);
  };
  assert.ok(changedFraction(grainOf(5), grainOf(6)) > 0.8, 'frames 5 and 6 have different grain');
  for (const name of ['idle', 'typing', 'scrolling', 'drag'] as const) {
    assert.ok(same(render(name, 0, 40), render(name, MAX_GRAIN, 40)), `${name} has no moving picture for grain`);
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
  // A byte that overflowed would carry into its neighbour on the 32-bit path only: every grain
  // amount checks that the shifts keep each byte in range.
  for (const name of SCENE_NAMES) {
    for (const grain of name === 'video' || name === 'motion' ? [0, 1, 20, 23, 24, 45, 46, MAX_GRAIN] : [DEFAULT_GRAIN]) {
      const scene = createScene(name, { width: w, height: h, fps: 30, grain });
      const aligned = allocFrame(w, h);
      for (const n of [0, 17, 4321]) {
        scene.render(n, aligned);
        scene.render(n, unaligned);
        assert.ok(same(aligned, unaligned), `${name} grain ${grain} frame ${n}`);
      }
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
      const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', size, '-r', '30', '-i', raw, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '35', '-y', encoded], { encoding: 'utf8' });
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
  for (const grain of [-1, 2.5, MAX_GRAIN + 1, NaN]) assert.throws(() => createScene('motion', { width: 320, height: 240, fps: 30, grain }), /grain must be an integer in 0\.\.50/);
  const scene = createScene('idle', { width: 320, height: 240, fps: 30 });
  assert.throws(() => scene.render(0, allocFrame(640, 360)), /expected 320x240/);
  assert.throws(() => scene.render(-1, allocFrame(320, 240)), RangeError);
});
