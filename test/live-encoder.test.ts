// Live encoder changes on every codec, measured in bytes: after a bitrate change the encoder
// produces the new target; after a frame-rate change it still produces its target in bits per
// second (its budget per frame follows the new rate); after a resolution change the decoder gives
// pictures of the new size. Encoded without a clock (the times are the frames' own), so a busy
// machine changes nothing here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODECS, type CodecName } from '../src/config/stream-settings.ts';
import { VideoDecoder, VideoEncoder } from '../src/stream/codecs.ts';
import { allocFrame, type YuvFrame } from '../src/stream/frame.ts';
import { createScene } from '../src/stream/scenes/index.ts';

const W = 640;
const H = 360;
/** Full-screen motion without grain: every codec's rate control has real work at these targets. */
const scene = createScene('motion', { width: W, height: H, fps: 30, grain: 0 });
const frames: YuvFrame[] = [];
function source(n: number): YuvFrame {
  while (frames.length <= n) {
    const f = allocFrame(W, H);
    scene.render(frames.length, f);
    frames.push(f);
  }
  return frames[n]!;
}

const PRESET: Record<CodecName, string> = { h264: 'ultrafast', h265: 'ultrafast', vp8: '8', vp9: '8', av1: '12', mjpeg: '' };
/** Targets each codec reaches on this content (MJPEG's coarsest quantiser gives about 1.8 Mbit/s here, its finest about 7.5). */
const RATES: Record<CodecName, [number, number]> = { h264: [2e6, 5e5], h265: [2e6, 5e5], vp8: [2e6, 5e5], vp9: [2e6, 5e5], av1: [2e6, 5e5], mjpeg: [7e6, 2e6] };

/**
 * Encodes 6 s of frames at `fps` (switching to `fps2` at 3 s, when given) with CBR, calling
 * `change` at 3 s; returns bits/s from 1 to 3 s and from 4 to 6 s (a second for the rate
 * control to settle after the start and after the change), and the encoder's answer.
 */
async function encode(codec: CodecName, bitrate: number, fps: number, change?: (e: VideoEncoder) => string, fps2 = fps): Promise<{ before: number; after: number; how?: string; keyAtChange: boolean }> {
  const enc = new VideoEncoder({ codec, width: W, height: H, fps, bitrateBps: bitrate, rateControl: 'cbr', gop: 100_000, preset: PRESET[codec], threads: 1 });
  const bytes = [0, 0];
  let how: string | undefined;
  let keyAtChange = false;
  try {
    let t = 0;
    for (let n = 0; t < 6000; n++) {
      const changing = t >= 3000 && how === undefined && change !== undefined;
      if (changing) how = change(enc);
      for (const p of await enc.encode(source(n), t)) {
        if (changing) keyAtChange = p.key;
        if (t >= 1000 && t < 3000) bytes[0]! += p.data.length;
        if (t >= 4000) bytes[1]! += p.data.length;
      }
      t += 1000 / (t >= 3000 ? fps2 : fps);
    }
  } finally {
    enc.close();
  }
  return { before: (bytes[0]! * 8) / 2, after: (bytes[1]! * 8) / 2, ...(how !== undefined ? { how } : {}), keyAtChange };
}

const IN_PLACE_BITRATE: readonly CodecName[] = ['h264'];
const IN_PLACE_FPS: readonly CodecName[] = ['vp8', 'vp9'];

for (const codec of CODECS) {
  // Measured (node-av's FFmpeg 8.1): before the change 0.99 to 1.06 of the target, after it 0.99
  // to 1.07. Tolerance +-15 %: the change is a factor 3.5 to 4, so an ignored change cannot pass
  // (x265, libvpx, SVT-AV1 changed in place stayed at 0.95 to 1.09 of the old target).
  test(`${codec}: a bitrate change while encoding is followed (${IN_PLACE_BITRATE.includes(codec) ? 'in place' : 'reopened, with a keyframe'})`, async (t) => {
    const [b0, b1] = RATES[codec];
    const r = await encode(codec, b0, 30, (e) => e.setBitrate(b1));
    t.diagnostic(`${codec}: ${(r.before / 1e6).toFixed(3)} Mbit/s for ${b0 / 1e6}, then ${(r.after / 1e6).toFixed(3)} for ${b1 / 1e6} (${r.how})`);
    assert.equal(r.how, IN_PLACE_BITRATE.includes(codec) ? 'live' : 'reopened');
    if (r.how === 'reopened') assert.ok(r.keyAtChange, 'the first frame after a reopen is a keyframe');
    assert.ok(Math.abs(r.before / b0 - 1) <= 0.15, `before: ${r.before} bit/s for a target of ${b0}`);
    assert.ok(Math.abs(r.after / b1 - 1) <= 0.15, `after: ${r.after} bit/s for a target of ${b1}`);
  });

  // Halving the frame rate must not halve the bits per second. The reference is the same encoder
  // opened at the new rate over the same frames and times (some encoders undershoot this content
  // at 15 fps on their own: SVT-AV1 gives 0.82 of the target): within 20 % of it. Without the
  // reopen, x264, x265, SVT-AV1 gave 0.42 to 0.46 of the target (half of the reference or less);
  // with it the encoders land 0.93 to 1.16 of the reference (MJPEG the highest).
  test(`${codec}: after a frame-rate change (30 -> 15 fps) bits per second stay at the target (${IN_PLACE_FPS.includes(codec) ? 'in place' : 'reopened, with a keyframe'})`, async (t) => {
    const b = RATES[codec][1];
    const r = await encode(codec, b, 30, (e) => e.setFps(15), 15);
    const ref = await encode(codec, b, 15);
    t.diagnostic(`${codec}: ${(r.before / 1e6).toFixed(3)} Mbit/s at 30 fps, ${(r.after / 1e6).toFixed(3)} after the change to 15 fps; opened at 15 fps: ${(ref.after / 1e6).toFixed(3)} (target ${b / 1e6})`);
    assert.equal(r.how, IN_PLACE_FPS.includes(codec) ? 'live' : 'reopened');
    assert.ok(Math.abs(r.after / ref.after - 1) <= 0.2, `after the change ${r.after} bit/s, opened at 15 fps ${ref.after}`);
  });
}

for (const codec of CODECS) {
  test(`${codec}: a resolution change reopens the encoder with a keyframe and the decoder gives the new size`, async () => {
    const enc = new VideoEncoder({ codec, width: W, height: H, fps: 30, bitrateBps: RATES[codec][0], rateControl: 'cbr', gop: 100_000, preset: PRESET[codec], threads: 1 });
    const dec = new VideoDecoder(codec);
    const out = allocFrame(W, H);
    const small = allocFrame(320, 180);
    const sizes: string[] = [];
    try {
      for (let n = 0; n < 10; n++) {
        if (n === 5) assert.equal(enc.setResolution(320, 180), 'reopened');
        const src = n < 5 ? source(n) : small;
        const pkts = await enc.encode(src, (n * 1000) / 30);
        assert.equal(pkts.length, 1);
        if (n === 5) assert.ok(pkts[0]!.key, 'the first frame at the new size is a keyframe');
        assert.ok(await dec.decode(pkts[0]!.data, out, (w, h) => (assert.deepEqual([w, h], [320, 180]), small)), `frame ${n} decodes`);
        sizes.push(`${dec.written!.width}x${dec.written!.height}`);
      }
    } finally {
      enc.close();
      dec.close();
    }
    assert.deepEqual(sizes, [...Array<string>(5).fill('640x360'), ...Array<string>(5).fill('320x180')]);
  });
}
