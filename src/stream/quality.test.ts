import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocFrame, i420Size } from './frame.ts';
import { psnrY, ssimY } from './quality.ts';
import { createScene, type SceneName } from './scenes/index.ts';

test('psnrY: Infinity for equal planes, 10*log10(255^2/MSE) otherwise', () => {
  const a = new Uint8Array(64 * 48).fill(100);
  assert.equal(psnrY(a, a.slice(), 64, 48), Infinity);
  const b = new Uint8Array(64 * 48).fill(110);
  assert.ok(Math.abs(psnrY(a, b, 64, 48) - 10 * Math.log10((255 * 255) / 100)) < 1e-12);
  // One pixel off by 255 in 3072: MSE 255^2/3072.
  const c = a.slice();
  c[5] = 255;
  const d = a.slice();
  d[5] = 0;
  assert.ok(Math.abs(psnrY(c, d, 64, 48) - 10 * Math.log10(3072)) < 1e-12);
  assert.throws(() => psnrY(a, b.subarray(0, 100), 64, 48), /needs 3072/);
});

test('ssimY: exactly 1 for equal planes, lower for distorted ones, and symmetric', () => {
  const a = new Uint8Array(64 * 48);
  for (let i = 0; i < a.length; i++) a[i] = (i * 37) % 251;
  assert.equal(ssimY(a, a.slice(), 64, 48), 1);
  const b = a.map((v, i) => (i % 3 === 0 ? Math.min(255, v + 40) : v));
  const s = ssimY(a, b, 64, 48);
  assert.ok(s > 0 && s < 0.99, String(s));
  assert.equal(ssimY(b, a, 64, 48), s);
  assert.throws(() => ssimY(a, b, 4, 4), RangeError);
});

/** Per-frame psnr_y and Y (SSIM) from FFmpeg's psnr and ssim filters on two raw yuv420p files. */
function ffmpegScores(dir: string, dist: string, ref: string, width: number, height: number): { psnr: number[]; ssim: number[] } {
  const size = `${width}x${height}`;
  const input = (file: string): string[] => ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', size, '-i', file];
  const psnrLog = join(dir, 'psnr.log');
  const ssimLog = join(dir, 'ssim.log');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...input(dist), ...input(ref), '-lavfi', `[0:v][1:v]psnr=stats_file=${psnrLog}`, '-f', 'null', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...input(dist), ...input(ref), '-lavfi', `[0:v][1:v]ssim=stats_file=${ssimLog}`, '-f', 'null', '-'], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  const field = (text: string, re: RegExp): number[] =>
    text
      .trim()
      .split('\n')
      .map((line) => {
        const m = re.exec(line);
        assert.ok(m, `no match for ${re} in ${line}`);
        return m[1] === 'inf' ? Infinity : Number(m[1]);
      });
  return { psnr: field(readFileSync(psnrLog, 'utf8'), /psnr_y:(\S+)/), ssim: field(readFileSync(ssimLog, 'utf8'), /\bY:(\S+)/) };
}

test("psnrY and ssimY agree with FFmpeg's psnr and ssim filters on x264-compressed scenes", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-quality-'));
  try {
    // 326x246 is not a multiple of 4: FFmpeg's SSIM ignores the last partial block column and row.
    for (const [width, height] of [
      [320, 240],
      [326, 246],
    ] as const) {
      const scenes: SceneName[] = ['typing', 'drag', 'video', 'motion'];
      const frame = allocFrame(width, height);
      const chunks: Buffer[] = [];
      for (const name of scenes) {
        const scene = createScene(name, { width, height, fps: 30 });
        for (let i = 0; i < 4; i++) {
          scene.render(100 + i, frame);
          chunks.push(Buffer.concat([frame.y, frame.u, frame.v]));
        }
      }
      const ref = join(dir, 'ref.yuv');
      writeFileSync(ref, Buffer.concat(chunks));
      // Two encodes, CRF 20 and 40, give the comparison good and poor frames alike.
      const dist = join(dir, 'dist.yuv');
      const size = `${width}x${height}`;
      const decodedParts: Buffer[] = [];
      for (const crf of ['20', '40']) {
        const encoded = join(dir, `enc-${crf}.mkv`);
        const part = join(dir, `dec-${crf}.yuv`);
        const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', size, '-r', '30', '-i', ref, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', crf, '-y', encoded], { encoding: 'utf8' });
        assert.equal(enc.status, 0, enc.stderr);
        const dec = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', encoded, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-y', part], { encoding: 'utf8' });
        assert.equal(dec.status, 0, dec.stderr);
        decodedParts.push(readFileSync(part));
      }
      writeFileSync(dist, Buffer.concat(decodedParts));
      writeFileSync(ref, Buffer.concat([...chunks, ...chunks]));

      const ff = ffmpegScores(dir, dist, ref, width, height);
      const refBytes = readFileSync(ref);
      const distBytes = readFileSync(dist);
      const fs = i420Size(width, height);
      assert.equal(distBytes.length, refBytes.length);
      const frames = 2 * chunks.length;
      assert.equal(ff.psnr.length, frames);
      assert.equal(ff.ssim.length, frames);
      let maxPsnr = 0;
      let maxSsim = 0;
      for (let k = 0; k < frames; k++) {
        const a = distBytes.subarray(k * fs, k * fs + width * height);
        const b = refBytes.subarray(k * fs, k * fs + width * height);
        const p = psnrY(a, b, width, height);
        const s = ssimY(a, b, width, height);
        // FFmpeg prints PSNR with 2 decimals and SSIM with 6.
        assert.ok(Math.abs(p - ff.psnr[k]!) <= 0.1, `${size} frame ${k}: psnr ours ${p} ffmpeg ${ff.psnr[k]}`);
        assert.ok(Math.abs(s - ff.ssim[k]!) <= 0.001, `${size} frame ${k}: ssim ours ${s} ffmpeg ${ff.ssim[k]}`);
        maxPsnr = Math.max(maxPsnr, Math.abs(p - ff.psnr[k]!));
        maxSsim = Math.max(maxSsim, Math.abs(s - ff.ssim[k]!));
      }
      // Tighter than required: only FFmpeg's rounding of what it prints is left.
      assert.ok(maxPsnr <= 0.0051, `max PSNR difference ${maxPsnr}`);
      assert.ok(maxSsim <= 2e-6, `max SSIM difference ${maxSsim}`);
      // The clip spans real qualities, not just near-identical frames.
      assert.ok(Math.min(...ff.psnr) < 30 && Math.max(...ff.psnr) > 40, `psnr range ${Math.min(...ff.psnr)}..${Math.max(...ff.psnr)}`);
      assert.ok(Math.min(...ff.ssim) < 0.9 && Math.max(...ff.ssim) > 0.98, `ssim range ${Math.min(...ff.ssim)}..${Math.max(...ff.ssim)}`);
      t.diagnostic(`${size}: max |psnr diff| ${maxPsnr}, max |ssim diff| ${maxSsim}, psnr ${Math.min(...ff.psnr)}..${Math.max(...ff.psnr)}, ssim ${Math.min(...ff.ssim)}..${Math.max(...ff.ssim)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('psnrY gives Infinity where FFmpeg prints inf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-quality-'));
  try {
    const frame = allocFrame(64, 48);
    frame.y.fill(90);
    const f = join(dir, 'same.yuv');
    writeFileSync(f, Buffer.concat([frame.y, frame.u, frame.v]));
    const ff = ffmpegScores(dir, f, f, 64, 48);
    assert.deepEqual(ff.psnr, [Infinity]);
    assert.equal(psnrY(frame.y, frame.y, 64, 48), Infinity);
    assert.equal(ssimY(frame.y, frame.y, 64, 48), ff.ssim[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
