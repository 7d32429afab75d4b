import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CODECS } from '../config/stream-settings.ts';
import { VideoDecoder, VideoEncoder } from './codecs.ts';
import type { YuvFrame } from './frame.ts';
import { createScene } from './scenes/index.ts';

function frame(w: number, h: number): YuvFrame {
  const buf = new Uint8Array((w * h * 3) / 2);
  return { width: w, height: h, y: buf.subarray(0, w * h), u: buf.subarray(w * h, (w * h * 5) / 4), v: buf.subarray((w * h * 5) / 4) };
}

/** A moving pattern with texture: enough for every codec to have real work. */
function paint(f: YuvFrame, n: number): void {
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) f.y[y * f.width + x] = ((x + 3 * n) ^ (y - 2 * n)) & 0xff;
  f.u.fill(128);
  f.v.fill(100 + (n % 50));
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

for (const codec of CODECS) {
  test(`${codec} at 640x360: every frame comes out of the decoder right after its own packet`, async () => {
    const w = 640;
    const h = 360;
    const enc = new VideoEncoder({
      codec: codec,
      width: w,
      height: h,
      fps: 30,
      bitrateBps: 2_000_000,
      rateControl: codec === 'mjpeg' ? 'crf' : 'cbr',
      gop: 30,
      preset: codec === 'h264' || codec === 'h265' ? 'ultrafast' : codec === 'av1' ? '12' : codec === 'mjpeg' ? '' : '8',
      threads: 1,
    });
    const dec = new VideoDecoder(codec);
    const src = frame(w, h);
    const out = frame(w, h);
    let keys = 0;
    let bytes = 0;
    try {
      for (let n = 0; n < 20; n++) {
        paint(src, n);
        const pkts = await enc.encode(src, n * 33, n === 10);
        assert.equal(pkts.length, 1, `frame ${n}: one packet per frame, none held back`);
        const p = pkts[0]!;
        bytes += p.data.length;
        if (p.key) keys++;
        if (n === 0 || n === 10) assert.ok(p.key, `frame ${n} is a keyframe`);
        assert.ok(await dec.decode(p.data, out), `frame ${n} decodes at once`);
        assert.ok(psnr(src.y, out.y) > 20, `frame ${n}: decoded picture resembles the source (${psnr(src.y, out.y).toFixed(1)} dB)`);
      }
    } finally {
      enc.close();
      dec.close();
    }
    assert.ok(codec === 'mjpeg' ? keys === 20 : keys >= 2 && keys < 20, `${keys} keyframes`);
    assert.ok(bytes > 1000);
  });
}

// CBR must hold its target in bits per second when the guest skips capture ticks (a loaded
// machine): the encoder then sees a larger gap between two frames. libvpx estimates the frame
// rate from the timestamps and budgets each frame by it; given a frame interval as every frame's
// duration, it took a skipped tick for a halved frame rate and gave the frames after it up to
// twice their share for a second (VP9 at 640x360, motion, a tenth of the ticks skipped: +50 %).
// Encoded here without a clock (no time pressure, no speed dependence), the skips simulated in
// the timestamps.

/** 3 s of the `motion` scene without grain at 640x360, 30 fps: full-screen motion, a demanding picture. */
const RC = { width: 640, height: 360, fps: 30, frames: 90 } as const;
/** Ticks a loaded guest skipped: one or two at a time, at irregular places (10 of 90). */
const SKIPPED = new Set([7, 15, 16, 29, 38, 47, 55, 56, 70, 81]);
/** Capture time of tick n: the capture timer fires 0 to 4 ms late, as it does on a busy machine. */
const captureMs = (n: number): number => (n * 1000) / RC.fps + ((n * 7) % 5);

let motionFrames: YuvFrame[] | undefined;
function motion(): YuvFrame[] {
  if (!motionFrames) {
    const scene = createScene('motion', { width: RC.width, height: RC.height, fps: RC.fps, grain: 0 });
    motionFrames = [];
    for (let n = 0; n < RC.frames; n++) {
      const f = frame(RC.width, RC.height);
      scene.render(n, f);
      motionFrames.push(f);
    }
  }
  return motionFrames;
}

/** Bits per second over the 3 s of ticks, encoding every tick's frame or all but the skipped ones. */
async function cbrBitrate(codec: 'vp8' | 'vp9', bitrateBps: number, skip: boolean): Promise<number> {
  const enc = new VideoEncoder({ codec, width: RC.width, height: RC.height, fps: RC.fps, bitrateBps, rateControl: 'cbr', gop: 300, preset: '8', threads: 1 });
  let bytes = 0;
  try {
    const frames = motion();
    for (let n = 0; n < RC.frames; n++) {
      if (skip && SKIPPED.has(n)) continue;
      for (const p of await enc.encode(frames[n]!, skip ? captureMs(n) : (n * 1000) / RC.fps)) bytes += p.data.length;
    }
  } finally {
    enc.close();
  }
  return (bytes * 8) / (RC.frames / RC.fps);
}

// Tolerances, from 3 s encodes of these frames (libvpx 1.15.2 through node-av; FFmpeg 5.1's CLI
// with libvpx 1.12.0 on the same y4m): libvpx's CBR lands 1.5 to 4.4 % under its target with every
// tick, and up to 8 % under with the skips (at a lower frame rate it undershoots this content on
// its own: the CLI at a steady 15 fps, 10 s, 1.5 Mbit/s: -7.4 %); before the fix it overshot by
// 44 to 59 % with the skips. So: no more than 6 % over, no more than 12 % under.
const OVER = 0.06;
const UNDER = 0.12;

for (const codec of ['vp8', 'vp9'] as const) {
  for (const target of [300_000, 1_500_000]) {
    test(`${codec} CBR ${target / 1000} kbit/s, motion 640x360, 3 s: on target with every tick, and with a tenth of the ticks skipped`, async () => {
      for (const skip of [false, true]) {
        const got = await cbrBitrate(codec, target, skip);
        const dev = got / target - 1;
        const what = `${codec} at ${target / 1000} kbit/s, ${skip ? `${SKIPPED.size} of ${RC.frames} ticks skipped` : 'every tick'}: ${(got / 1000).toFixed(1)} kbit/s (${dev >= 0 ? '+' : ''}${(dev * 100).toFixed(1)} %)`;
        assert.ok(dev <= OVER && dev >= -UNDER, `${what}, outside -${UNDER * 100} % .. +${OVER * 100} % of the target`);
      }
    });
  }
}

/** Total size of the frames of an IVF file (32-byte file header; each frame a 12-byte header whose first 4 bytes are its size). */
function ivfFrameBytes(file: Buffer): { frames: number; bytes: number } {
  assert.equal(file.subarray(0, 4).toString('latin1'), 'DKIF', 'an IVF file');
  let frames = 0;
  let bytes = 0;
  for (let at = file.readUInt16LE(6); at + 12 <= file.length; frames++) {
    const size = file.readUInt32LE(at);
    bytes += size;
    at += 12 + size;
  }
  return { frames, bytes };
}

// The reference: the FFmpeg CLI's libvpx-vp9 on the same frames, at the same frame rate, with the
// options codecs.ts sets (its effective libvpx configuration, as FFmpeg logs it at debug level, is
// the same but for the time base: 1/30 there, 1/1000 here). Measured: ours 295.0 and 1437.6 kbit/s,
// the CLI's 295.5 and 1441.0. Tolerance 3 %: the two libvpx versions differ.
test("vp9 CBR on the motion scene spends what the FFmpeg CLI's libvpx-vp9 spends on the same frames (within 3 %)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambench-vp9-'));
  try {
    const y4m = join(dir, 'motion.y4m');
    const parts: Uint8Array[] = [Buffer.from(`YUV4MPEG2 W${RC.width} H${RC.height} F${RC.fps}:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n`)];
    for (const f of motion()) parts.push(Buffer.from('FRAME\n'), f.y, f.u, f.v);
    writeFileSync(y4m, Buffer.concat(parts));
    for (const target of [300_000, 1_500_000]) {
      const ivf = join(dir, `${target}.ivf`);
      const b = String(target);
      const r = spawnSync(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-i',
          y4m,
          '-c:v',
          'libvpx-vp9',
          '-b:v',
          b,
          '-minrate',
          b,
          '-maxrate',
          b,
          '-bufsize',
          String(target / 2),
          '-g',
          '300',
          '-threads',
          '1',
          '-deadline',
          'realtime',
          '-cpu-used',
          '8',
          '-lag-in-frames',
          '0',
          '-auto-alt-ref',
          '0',
          '-row-mt',
          '1',
          '-f',
          'ivf',
          '-y',
          ivf,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, `ffmpeg: ${r.error?.message ?? r.stderr}`);
      const cli = ivfFrameBytes(readFileSync(ivf));
      assert.equal(cli.frames, RC.frames);
      const theirs = (cli.bytes * 8) / (RC.frames / RC.fps);
      const ours = await cbrBitrate('vp9', target, false);
      assert.ok(Math.abs(ours / theirs - 1) <= 0.03, `at ${target / 1000} kbit/s: ours ${(ours / 1000).toFixed(1)} kbit/s, the FFmpeg CLI's ${(theirs / 1000).toFixed(1)} kbit/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
