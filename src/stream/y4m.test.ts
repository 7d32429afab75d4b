import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocFrame, i420Size } from './frame.ts';
import { openY4m } from './y4m.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'sb-y4m-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test("frames read from an FFmpeg-written y4m equal FFmpeg's rawvideo decode of the same file", () => {
  withDir((dir) => {
    const y4m = join(dir, 'src.y4m');
    const raw = join(dir, 'src.yuv');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-frames:v', '5', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', '-y', y4m]);
    ffmpeg(['-i', y4m, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-y', raw]);
    const bytes = readFileSync(raw);
    const fs = i420Size(64, 48);
    assert.equal(bytes.length, 5 * fs);
    const src = openY4m(y4m);
    try {
      assert.equal(src.width, 64);
      assert.equal(src.height, 48);
      assert.equal(src.fps, 5);
      assert.equal(src.frameCount, 5);
      assert.ok(src.colorspace.startsWith('420'), src.colorspace);
      const f = allocFrame(64, 48);
      // Backwards, to show reads are random access and do not depend on order.
      for (let k = 4; k >= 0; k--) {
        src.read(k, f);
        assert.deepEqual(Buffer.concat([f.y, f.u, f.v]), bytes.subarray(k * fs, (k + 1) * fs), `frame ${k}`);
      }
      // Indices wrap around the file in both directions.
      src.read(7, f);
      assert.deepEqual(Buffer.concat([f.y, f.u, f.v]), bytes.subarray(2 * fs, 3 * fs));
      src.read(-1, f);
      assert.deepEqual(Buffer.concat([f.y, f.u, f.v]), bytes.subarray(4 * fs, 5 * fs));
      assert.throws(() => src.read(0, allocFrame(32, 24)), /expected 64x48/);
    } finally {
      src.close();
    }
    assert.throws(() => src.read(0, allocFrame(64, 48)), /after close/);
  });
});

test('frame headers with parameters, a ratio frame rate, no C tag, and a truncated last frame', () => {
  withDir((dir) => {
    // 4x2: 8 luma bytes, 2 + 2 chroma bytes per frame.
    const frame = (k: number): Buffer => Buffer.from(Array.from({ length: 12 }, (_, i) => (k * 16 + i) & 255));
    const file = join(dir, 'hand.y4m');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('YUV4MPEG2 W4 H2 F30000:1001 Ip A1:1 XCOLORRANGE=LIMITED\n'),
        Buffer.from('FRAME\n'),
        frame(0),
        Buffer.from('FRAME Ib XTIME=12345 Xsomething=long-parameter-value\n'),
        frame(1),
        Buffer.from('FRAME Ip\n'),
        frame(2),
        Buffer.from('FRAME\n'),
        frame(3).subarray(0, 7),
      ]),
    );
    const src = openY4m(file);
    try {
      assert.equal(src.frameCount, 3, 'the cut-off fourth frame is not counted');
      assert.equal(src.fpsNum, 30000);
      assert.equal(src.fpsDen, 1001);
      assert.ok(Math.abs(src.fps - 29.97002997) < 1e-6);
      assert.equal(src.colorspace, '420');
      const f = allocFrame(4, 2);
      for (const k of [2, 0, 1, 5]) {
        src.read(k, f);
        assert.deepEqual(Buffer.concat([f.y, f.u, f.v]), frame(k % 3), `frame ${k}`);
      }
    } finally {
      src.close();
    }
  });
});

test('unsupported and broken files give errors that name the file and the problem', () => {
  withDir((dir) => {
    const y444 = join(dir, 'c444.y4m');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-frames:v', '2', '-pix_fmt', 'yuv444p', '-f', 'yuv4mpegpipe', '-y', y444]);
    assert.throws(
      () => openY4m(y444),
      (e: Error) => e.message.includes(y444) && /unsupported colorspace C444/.test(e.message),
    );

    const notY4m = join(dir, 'not.y4m');
    writeFileSync(notY4m, 'RIFF....WAVEfmt \n');
    assert.throws(
      () => openY4m(notY4m),
      (e: Error) => e.message.includes(notY4m) && /not a YUV4MPEG2 file/.test(e.message),
    );

    const noWidth = join(dir, 'nowidth.y4m');
    writeFileSync(noWidth, 'YUV4MPEG2 H2 F25:1\nFRAME\n123456789012');
    assert.throws(
      () => openY4m(noWidth),
      (e: Error) => e.message.includes(noWidth) && /width \(W\)/.test(e.message),
    );

    const badRate = join(dir, 'badrate.y4m');
    writeFileSync(badRate, 'YUV4MPEG2 W4 H2 F25\nFRAME\n123456789012');
    assert.throws(() => openY4m(badRate), /bad frame rate "F25"/);

    const odd = join(dir, 'odd.y4m');
    writeFileSync(odd, 'YUV4MPEG2 W3 H2 F25:1 C420jpeg\nFRAME\n12345678');
    assert.throws(() => openY4m(odd), /3x2 is odd/);

    const garbage = join(dir, 'garbage.y4m');
    writeFileSync(garbage, Buffer.concat([Buffer.from('YUV4MPEG2 W4 H2 F25:1\nFRAME\n'), Buffer.alloc(12), Buffer.from('JUNK\n')]));
    assert.throws(
      () => openY4m(garbage),
      (e: Error) => e.message.includes(garbage) && /expected a FRAME header at byte 40/.test(e.message),
    );

    const empty = join(dir, 'empty.y4m');
    writeFileSync(empty, 'YUV4MPEG2 W4 H2 F25:1\n');
    assert.throws(() => openY4m(empty), /no complete frame/);

    assert.throws(() => openY4m(join(dir, 'missing.y4m')), /ENOENT/);
  });
});
