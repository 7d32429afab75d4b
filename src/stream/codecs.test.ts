import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODECS, type CodecName } from '../config/stream-settings.ts';
import { VideoDecoder, VideoEncoder } from './codecs.ts';
import type { YuvFrame } from './frame.ts';

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
    const enc = new VideoEncoder({ codec: codec as CodecName, width: w, height: h, fps: 30, bitrateBps: 2_000_000, rateControl: codec === 'mjpeg' ? 'crf' : 'cbr', gop: 30, preset: codec === 'h264' || codec === 'h265' ? 'ultrafast' : codec === 'av1' ? '12' : codec === 'mjpeg' ? '' : '8', threads: 1 });
    const dec = new VideoDecoder(codec as CodecName);
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
