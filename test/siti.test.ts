// SI/TI of a point's source, checked against FFmpeg's own siti filter (Debian's FFmpeg 5.1) on
// the same frames, for scenes (limited range) and y4m files (limited and full range).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { streamSettings, type StreamSettings } from '../src/config/stream-settings.ts';
import { allocFrame } from '../src/stream/frame.ts';
import { fullRangeTable, measuredFrames, measureSource, sampleFrames, sourceSiTiMetrics, spatialInfo, temporalInfo, toFullRange, windowFrames } from '../src/stream/siti.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-siti-'));
after(() => rmSync(work, { recursive: true, force: true }));

const W = 320;
const H = 240;

function settings(p: Record<string, string | number>, warmupS = 0, durationS = 1): StreamSettings {
  return streamSettings({ resolution: `${W}x${H}`, fps: 30, ...p }, { warmupS, durationS });
}

interface FfSiTi {
  si: number[];
  ti: number[];
  summary: { siAvg: number; siMax: number; tiAvg: number; tiMax: number; frames: number };
}

/** FFmpeg's siti filter on raw frames or a file: per-frame values (its metadata, 2 decimals) and its summary (6 decimals). */
function ffmpegSiti(input: { raw: Buffer } | { file: string }): FfSiTi {
  const args = 'raw' in input ? ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-r', '30', '-i', '-'] : ['-i', input.file];
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', ...args, '-vf', 'siti=print_summary=1,metadata=mode=print:file=-', '-f', 'null', '-'], {
    ...('raw' in input ? { input: input.raw } : {}),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  const per = (k: string) => [...r.stdout.matchAll(new RegExp(`lavfi\\.siti\\.${k}=([\\d.]+)`, 'g'))].map((m) => Number(m[1]));
  const m = /Total frames: (\d+)\s+Spatial Information:\s+Average: ([\d.]+)\s+Max: ([\d.]+)\s+Min: [\d.]+\s+Temporal Information:\s+Average: ([\d.]+)\s+Max: ([\d.]+)/.exec(r.stderr);
  assert.ok(m, `no SITI summary in ffmpeg's output: ${r.stderr.slice(-500)}`);
  return { si: per('si'), ti: per('ti'), summary: { frames: Number(m[1]), siAvg: Number(m[2]), siMax: Number(m[3]), tiAvg: Number(m[4]), tiMax: Number(m[5]) } };
}

/** Frames `from`..`to` as the measurement sees them, as one raw I420 buffer. */
function rawFrames(s: StreamSettings, from: number, to: number): Buffer {
  const src = measuredFrames(s);
  const f = allocFrame(s.width, s.height);
  const out: Buffer[] = [];
  for (let n = from; n <= to; n++) {
    src.render(n, f);
    out.push(Buffer.from(f.y), Buffer.from(f.u), Buffer.from(f.v));
  }
  return Buffer.concat(out);
}

/** Our per-frame SI of frames from..to and TI of from+1..to (as FFmpeg gives none for its first frame). */
function ours(s: StreamSettings, from: number, to: number): { si: number[]; ti: number[] } {
  const src = measuredFrames(s);
  const table = fullRangeTable(src.fullRange);
  const f = allocFrame(s.width, s.height);
  let prev: Uint8Array | undefined;
  const si: number[] = [];
  const ti: number[] = [];
  for (let n = from; n <= to; n++) {
    src.render(n, f);
    const cur = new Uint8Array(s.width * s.height);
    toFullRange(f.y, table, cur);
    si.push(spatialInfo(cur, s.width, s.height));
    if (prev) ti.push(temporalInfo(prev, cur));
    prev = cur;
  }
  return { si, ti };
}

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ours ${a}, FFmpeg ${b}`);

test("SI and TI of scene frames match FFmpeg's siti filter frame by frame (within its 2-decimal print) and in its summary", async () => {
  const from = 99;
  const to = 109;
  const cases: Record<string, string | number>[] = [{ scene: 'motion' }, { scene: 'motion', grain: 0 }, { scene: 'video', grain: 50 }, { scene: 'typing' }, { scene: 'scrolling' }];
  for (const p of cases) {
    const s = settings(p);
    const label = JSON.stringify(p);
    const ff = ffmpegSiti({ raw: rawFrames(s, from, to) });
    const me = ours(s, from, to);
    assert.equal(ff.si.length, to - from + 1, `${label}: FFmpeg's frame count`);
    // FFmpeg's first frame has TI 0 (no previous frame); ours starts at the second.
    assert.equal(ff.ti[0], 0);
    me.si.forEach((v, i) => close(v, ff.si[i]!, 0.006, `${label} SI of frame ${from + i}`));
    me.ti.forEach((v, i) => close(v, ff.ti[i + 1]!, 0.006, `${label} TI of frame ${from + i + 1}`));
    // The summary is printed with 6 decimals from single-precision sums: agreement to 1e-3.
    close(Math.max(...me.si), ff.summary.siMax, 1e-3, `${label} max SI`);
    close(Math.max(...me.ti), ff.summary.tiMax, 1e-3, `${label} max TI`);
    close(me.si.reduce((a, b) => a + b, 0) / me.si.length, ff.summary.siAvg, 1e-3, `${label} mean SI`);
    // FFmpeg's mean TI counts its first frame as 0.
    close(me.ti.reduce((a, b) => a + b, 0) / ff.summary.frames, ff.summary.tiAvg, 1e-3, `${label} mean TI`);
    // What the workload stores for the same frames (TI of frame 100 is against frame 99).
    const m = await measureSource(s, sampleFrames(from + 1, to - from));
    close(m.si, Math.max(...me.si.slice(1)), 1e-9, `${label} measureSource SI`);
    close(m.ti, Math.max(...me.ti), 1e-9, `${label} measureSource TI`);
    close(m.tiMean, me.ti.reduce((a, b) => a + b, 0) / me.ti.length, 1e-9, `${label} measureSource mean TI`);
    assert.equal(m.siFrames, to - from);
    assert.equal(m.tiFrames, to - from);
  }
});

test('a y4m source is measured as FFmpeg reads the file, limited or full range (XCOLORRANGE=FULL)', async () => {
  const frames = rawFrames(settings({ scene: 'drag' }), 40, 45);
  for (const range of ['', ' XCOLORRANGE=FULL']) {
    const file = join(work, `drag${range ? '-full' : ''}.y4m`);
    const fs = (W * H * 3) / 2;
    const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${W} H${H} F30:1 Ip A1:1 C420jpeg${range}\n`)];
    for (let k = 0; k < frames.length / fs; k++) parts.push(Buffer.from('FRAME\n'), frames.subarray(k * fs, (k + 1) * fs));
    writeFileSync(file, Buffer.concat(parts));
    const ff = ffmpegSiti({ file });
    const s = settings({ source: file });
    assert.equal(measuredFrames(s).fullRange, range !== '');
    const m = await measureSource(s, sampleFrames(0, 6));
    close(m.si, ff.summary.siMax, 1e-3, `${file} max SI`);
    close(m.ti, ff.summary.tiMax, 1e-3, `${file} max TI`);
    assert.equal(m.tiFrames, 5, 'frame 0 has no TI');
  }
});

test('SI/TI tell contents apart: grain raises TI, still content has none once the frame number code is held', async () => {
  const ti = async (p: Record<string, string | number>) => (await measureSource(settings(p), sampleFrames(1, 20))).tiMean;
  // Frames 1..20 of idle: the clock and the cursor change at frame 30 only.
  assert.equal(await ti({ scene: 'idle' }), 0);
  const motion0 = await ti({ scene: 'motion', grain: 0 });
  const motion20 = await ti({ scene: 'motion', grain: 20 });
  const motion50 = await ti({ scene: 'motion', grain: 50 });
  // Two independent grains of 0..20 differ with a standard deviation of about 10 full-range levels.
  assert.ok(motion20 > motion0 + 1.5 && motion50 > motion20 + 5, `motion TI: grain 0 ${motion0}, 20 ${motion20}, 50 ${motion50}`);
  const typing = await ti({ scene: 'typing' });
  assert.ok(typing < 3 && motion0 > 10, `typing TI ${typing}, motion ${motion0}`);
});

test("the workload's window: frames after the warm-up at the nominal rate, at most N of them evenly spread", async () => {
  assert.deepEqual(windowFrames({ fps: 30, warmupS: 1, durationS: 3 }), { first: 30, count: 90 });
  assert.deepEqual(windowFrames({ fps: 25, warmupS: 0.5, durationS: 2 }), { first: 13, count: 50 });
  assert.deepEqual(sampleFrames(30, 4, 10), [30, 31, 32, 33]);
  const spread = sampleFrames(30, 300, 150);
  assert.equal(spread.length, 150);
  assert.equal(spread[0], 30);
  assert.ok(
    spread.every((n, i) => i === 0 || n - spread[i - 1]! === 2),
    'every other frame of 300',
  );

  const s = settings({ scene: 'motion', grain: 0 }, 0.5, 1);
  const m = await sourceSiTiMetrics(s, { maxFrames: 6 });
  assert.equal(m['source.siti_frames'], 6);
  for (const k of ['source.si', 'source.si.mean', 'source.ti', 'source.ti.mean']) assert.equal(typeof m[k], 'number', k);
  assert.ok(m['source.ti']! >= m['source.ti.mean']! && m['source.si']! >= m['source.si.mean']!);
  // Cached per source: the same settings but another grain is another source.
  const grainy = await sourceSiTiMetrics({ ...s, grain: 50 }, { maxFrames: 6 });
  assert.ok(grainy['source.ti.mean']! > m['source.ti.mean']! + 5, `grain 50 TI ${grainy['source.ti.mean']} vs grain 0 ${m['source.ti.mean']}`);
  const again = await sourceSiTiMetrics(s, { maxFrames: 6 });
  assert.deepEqual(again, m);

  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(sourceSiTiMetrics(settings({ scene: 'video' }, 0, 2), { signal: aborted.signal }), /interrupted/);
});
