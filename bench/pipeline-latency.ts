/**
 * What the instrumented three-process pipeline adds per frame, against references measured in
 * the same run:
 *  1. a bare in-process encode + decode loop of the same frames (same codec settings);
 *  2. the FFmpeg command line's own encode speed for the same settings;
 *  3. whether the pipeline sustains 1080p30 H.264 here.
 * Run: npx tsx bench/pipeline-latency.ts [seconds per stream, default 6]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monoMs } from '../src/base/clock.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { VideoDecoder, VideoEncoder } from '../src/stream/codecs.ts';
import { allocFrame } from '../src/stream/frame.ts';
import { createScene } from '../src/stream/scenes/index.ts';

const seconds = Number(process.argv[2] ?? 6);
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-pipe-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function pipeline(resolution: string): Promise<Record<string, number>> {
  const file = join(dir, `p-${resolution}.yaml`);
  writeFileSync(
    file,
    `name: p\nworkload: {type: stream, codec: h264, bitrate: 2M, fps: 30, scene: scrolling, resolution: ${resolution}, quality_every: 0}\nmatrix: {r: 1}\nwarmup: 1s\nduration: ${seconds}s\n# The pipeline alone: no recording agents sharing the 2 cores.\nrecording: false\n`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(dir, `r-${resolution}`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const p = set.points()[0]!;
  if (p.outcome.status !== 'ok') throw new Error(`pipeline at ${resolution}: ${JSON.stringify(p.outcome)}`);
  return p.metrics as Record<string, number>;
}

async function bareLoop(w: number, h: number, frames: number): Promise<{ encDec: number; enc: number; dec: number }> {
  const scene = createScene('scrolling', { width: w, height: h, fps: 30 });
  const src = allocFrame(w, h);
  const out = allocFrame(w, h);
  const enc = new VideoEncoder({ codec: 'h264', width: w, height: h, fps: 30, bitrateBps: 2e6, rateControl: 'cbr', gop: 300, preset: 'ultrafast', threads: 1 });
  const dec = new VideoDecoder('h264');
  const total: number[] = [];
  const e: number[] = [];
  const d: number[] = [];
  for (let n = 0; n < frames; n++) {
    scene.render(n, src);
    const t0 = monoMs();
    const pkts = await enc.encode(src, n * 33.3);
    const t1 = monoMs();
    for (const p of pkts) await dec.decode(p.data, out);
    const t2 = monoMs();
    if (n >= 30) {
      total.push(t2 - t0);
      e.push(t1 - t0);
      d.push(t2 - t1);
    }
  }
  enc.close();
  dec.close();
  return { encDec: median(total), enc: median(e), dec: median(d) };
}

function ffmpegEncodeFps(w: number, h: number, frames: number): number {
  const scene = createScene('scrolling', { width: w, height: h, fps: 30 });
  const f = allocFrame(w, h);
  const path = join(dir, 'frames.yuv');
  const fd = openSync(path, 'w');
  for (let n = 0; n < frames; n++) {
    scene.render(n, f);
    writeSync(fd, f.y);
    writeSync(fd, f.u);
    writeSync(fd, f.v);
  }
  closeSync(fd);
  const r = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-r', '30', '-i', path, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '2M', '-bf', '0', '-threads', '1', '-benchmark', '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const rtime = /bench: utime=[\d.]+s stime=[\d.]+s rtime=([\d.]+)s/.exec(r.stderr);
  if (!rtime) throw new Error(`ffmpeg -benchmark printed no timing: ${r.stderr.slice(-500)}`);
  return frames / Number(rtime[1]);
}

const p720 = await pipeline('1280x720');
const bare = await bareLoop(1280, 720, 300);
const cliFps = ffmpegEncodeFps(1280, 720, 300);
const p1080 = await pipeline('1920x1080');

const inPipe = p720['stage.encode.p50']! + p720['stage.decode.p50']!;
const added = p720['latency.to_decoded.p50']! - bare.encDec;
console.log(`720p30 H.264 (x264 ultrafast, zerolatency, 2 Mbit/s, 1 thread), scrolling scene, ${seconds} s, loopback TCP`);
console.log(`  pipeline, capture end -> decoded (median):        ${p720['latency.to_decoded.p50']!.toFixed(2)} ms`);
console.log(`    of which encode ${p720['stage.encode.p50']!.toFixed(2)} + decode ${p720['stage.decode.p50']!.toFixed(2)} = ${inPipe.toFixed(2)} ms; send ${p720['stage.send.p50']}, network ${p720['stage.network.p50']}, decode wait ${p720['stage.decode_wait.p50']} ms`);
console.log(`  bare in-process encode + decode (reference):      ${bare.encDec.toFixed(2)} ms (encode ${bare.enc.toFixed(2)}, decode ${bare.dec.toFixed(2)})`);
console.log(`  added by the pipeline beyond encode + decode:     ${added.toFixed(2)} ms  (ratio ${(p720['latency.to_decoded.p50']! / bare.encDec).toFixed(2)}x)`);
console.log(`  glass to glass incl. 60 Hz display wait (median): ${p720['latency.p50']} ms`);
console.log(`  FFmpeg CLI encode speed, same settings:           ${cliFps.toFixed(0)} fps; in-process encode ${(1000 / bare.enc).toFixed(0)} fps (ratio ${(1000 / bare.enc / cliFps).toFixed(2)})`);
console.log(
  `1080p30 H.264 through the pipeline: client ${p1080['client.fps']} fps, guest skipped ${p1080['guest.skipped']} ticks, latency p50 ${p1080['latency.p50']} ms, p95 ${p1080['latency.p95']} ms, CPU guest ${p1080['guest.cpu_pct']} % host ${p1080['host.cpu_pct']} % client ${p1080['client.cpu_pct']} %`,
);
rmSync(dir, { recursive: true, force: true });
