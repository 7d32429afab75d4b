/**
 * The in-process encoder against the FFmpeg command line, and what the three-process pipeline adds
 * to a bare encode + decode, each as a ratio against a reference measured in the same run, in
 * interleaved rounds (the machine is shared: read the ratios, not the milliseconds):
 *  1. encoder parity: the same frames through the CLI's libx264 and through `VideoEncoder`, with
 *     the same x264 options (read back from the SEI each encoder writes into its first keyframe),
 *     timed per encode call by CPU and by wall clock; a bare node-av loop beside them tells the
 *     library build (node-av's bundled x264) from the wrapper;
 *  2. the pipeline's own cost at 720p30: its stage medians against a bare render + encode + decode
 *     loop of the same frames and classes, as latency and as CPU per frame;
 *  3. 1080p30: whether the pipeline sustains it, and the bare encoder's own speed (the limit).
 * Run: npx tsx bench/pipeline-latency.ts [seconds per stream, default 6] [rounds, default 3]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { Codec, CodecContext, Frame, Packet, Rational } from 'node-av';
import { AV_PIX_FMT_YUV420P } from 'node-av/constants';
import { monoMs } from '../src/base/clock.ts';
import { ensureFreshDist } from './fresh-dist.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { VideoDecoder, VideoEncoder, type EncoderConfig } from '../src/stream/codecs.ts';
import { allocFrame, type YuvFrame } from '../src/stream/frame.ts';
import { createScene } from '../src/stream/scenes/index.ts';
import { twoHopsMs } from './tcp-hops.ts';

const seconds = Number(process.argv[2] ?? 6);
const rounds = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-pipe-'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const median = (xs: number[]) => quantile(xs, 0.5);
const spread = (xs: number[], d = 2) => `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}]`;
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const loads: string[] = [];
const noteLoad = () => loads.push(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!);

/** The settings both encoders get: the stream workload's defaults for h264 at this size. */
const encoderConfig = (width: number, height: number): EncoderConfig => ({ codec: 'h264', width, height, fps: 30, bitrateBps: 2e6, rateControl: 'cbr', gop: 300, preset: 'ultrafast', threads: 1 });
/** The same settings on FFmpeg's command line, option by option as `VideoEncoder` sets them for CBR. */
const CLI_X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-forced-idr', '1', '-b:v', '2M', '-maxrate', '2M', '-bufsize', '1M', '-g', '300', '-bf', '0', '-threads', '1'];

/** Frames of the scrolling scene, each one I420 buffer, and the same frames as a rawvideo file for the CLI. */
function renderFrames(w: number, h: number, count: number): { frames: Buffer[]; file: string } {
  const scene = createScene('scrolling', { width: w, height: h, fps: 30 });
  const file = join(dir, `frames-${w}x${h}.yuv`);
  const fd = openSync(file, 'w');
  const frames: Buffer[] = [];
  for (let n = 0; n < count; n++) {
    const f = allocFrame(w, h);
    scene.render(n, f);
    const b = Buffer.from(f.y.buffer, f.y.byteOffset, (w * h * 3) / 2);
    frames.push(b);
    writeSync(fd, b);
  }
  closeSync(fd);
  return { frames, file };
}

const asFrame = (b: Buffer, w: number, h: number): YuvFrame => ({ width: w, height: h, y: b.subarray(0, w * h), u: b.subarray(w * h, (w * h * 5) / 4), v: b.subarray((w * h * 5) / 4) });

/** x264's own account of its options, from the SEI it writes into the first keyframe. */
function x264Options(stream: Buffer): { version: string; options: string } {
  const m = /x264 - core (\d+[^-]*)- H\.264[^\0]*? - options: ([^\0]*)/.exec(stream.toString('latin1'));
  if (!m) throw new Error('no x264 SEI in the stream: is the encoder libx264?');
  return { version: `core ${m[1]!.trim()}`, options: m[2]!.trim() };
}

function cliOptions(file: string, w: number, h: number): { version: string; options: string } {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-r', '30', '-i', file, ...CLI_X264, '-frames:v', '1', '-f', 'h264', 'pipe:1'], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString().slice(-500)}`);
  return x264Options(r.stdout);
}

/** The CLI's encode calls alone (-benchmark_all: CPU and wall per call), summed over all frames, per frame in ms. */
function cliEncode(file: string, w: number, h: number, count: number): { cpu: number; wall: number } {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-r', '30', '-i', file, ...CLI_X264, '-benchmark_all', '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let cpu = 0;
  let wall = 0;
  for (const m of r.stderr.matchAll(/bench:\s+(\d+) user\s+(\d+) sys\s+(\d+) real encode_video/g)) {
    cpu += Number(m[1]) + Number(m[2]);
    wall += Number(m[3]);
  }
  if (wall === 0) throw new Error(`ffmpeg -benchmark_all printed no encode timings: ${r.stderr.slice(-500)}`);
  return { cpu: cpu / 1000 / count, wall: wall / 1000 / count };
}

/** `VideoEncoder`, as the guest calls it, on the same frames: per frame in ms; the first packet for its SEI. */
async function inProcessEncode(frames: Buffer[], w: number, h: number): Promise<{ cpu: number; wall: number; first: Buffer }> {
  const enc = new VideoEncoder(encoderConfig(w, h));
  let cpu = 0;
  let wall = 0;
  let first: Buffer | undefined;
  for (let n = 0; n < frames.length; n++) {
    const src = asFrame(frames[n]!, w, h);
    const c0 = cpuMs();
    const t0 = monoMs();
    const pkts = await enc.encode(src, n * (1000 / 30));
    wall += monoMs() - t0;
    cpu += cpuMs() - c0;
    first ??= pkts[0]?.data;
  }
  enc.close();
  return { cpu: cpu / frames.length, wall: wall / frames.length, first: first! };
}

/**
 * node-av alone, synchronous calls, no wrapper: what the library build costs. Same options as
 * `VideoEncoder` (whose SEI is compared with the CLI's above); only the calls differ.
 */
function bareNodeAvEncode(frames: Buffer[], w: number, h: number): { cpu: number; wall: number } {
  const codec = Codec.findEncoderByName('libx264' as never)!;
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.width = w;
  ctx.height = h;
  ctx.pixelFormat = AV_PIX_FMT_YUV420P;
  ctx.timeBase = new Rational(1, 30);
  ctx.framerate = new Rational(30, 1);
  ctx.gopSize = 300;
  ctx.maxBFrames = 0;
  ctx.threadCount = 1;
  ctx.bitRate = 2_000_000n;
  ctx.rcMaxRate = 2_000_000n;
  ctx.rcBufferSize = 1_000_000;
  for (const [k, v] of Object.entries({ preset: 'ultrafast', tune: 'zerolatency', 'forced-idr': '1' })) ctx.setOption(k, v);
  if (ctx.open2Sync(codec, null) < 0) throw new Error('opening libx264 through node-av');
  const f = new Frame();
  f.alloc();
  f.width = w;
  f.height = h;
  f.format = AV_PIX_FMT_YUV420P;
  f.getBuffer(0);
  const p = new Packet();
  p.alloc();
  let cpu = 0;
  let wall = 0;
  for (let n = 0; n < frames.length; n++) {
    const c0 = cpuMs();
    const t0 = monoMs();
    f.makeWritable();
    f.fromBuffer(frames[n]!);
    f.pts = BigInt(n);
    ctx.sendFrameSync(f);
    while (ctx.receivePacketSync(p) >= 0) {
      Buffer.from(p.data!);
      p.unref();
    }
    wall += monoMs() - t0;
    cpu += cpuMs() - c0;
  }
  ctx.freeContext();
  f.free();
  p.free();
  return { cpu: cpu / frames.length, wall: wall / frames.length };
}

/**
 * Render + encode + decode through the pipeline's own classes: the work any pipeline does. Paced,
 * each frame starts on a 30 fps tick, as the roles work (the aim reads "beyond encode + decode at
 * 720p30"): a process that sleeps between frames may start each with colder caches than a loop
 * running them back to back (0.02 and 0.22 ms more per frame in two runs on this 2-core VM).
 * Unpaced, the loop's medians are the codecs' best case, printed beside.
 */
async function bareLoop(w: number, h: number, frames: number, paced: boolean) {
  const scene = createScene('scrolling', { width: w, height: h, fps: 30 });
  const src = allocFrame(w, h);
  const out = allocFrame(w, h);
  const enc = new VideoEncoder(encoderConfig(w, h));
  const dec = new VideoDecoder('h264');
  const r = { render: [] as number[], enc: [] as number[], dec: [] as number[], encDec: [] as number[] };
  let cpu = 0;
  const start = monoMs();
  for (let n = 0; n < frames; n++) {
    if (paced) await sleep(Math.max(0, start + (n * 1000) / 30 - monoMs()));
    const c0 = cpuMs();
    const t0 = monoMs();
    scene.render(n, src);
    const t1 = monoMs();
    const pkts = await enc.encode(src, n * (1000 / 30));
    const t2 = monoMs();
    for (const p of pkts) await dec.decode(p.data, out);
    const t3 = monoMs();
    // The first second is the warm-up, as in the pipeline's runs.
    if (n >= 30) {
      cpu += cpuMs() - c0;
      r.render.push(t1 - t0);
      r.enc.push(t2 - t1);
      r.dec.push(t3 - t2);
      r.encDec.push(t3 - t1);
    }
  }
  enc.close();
  dec.close();
  return { render: median(r.render), enc: median(r.enc), dec: median(r.dec), encDec: median(r.encDec), cpuPerFrame: cpu / (frames - 30) };
}

async function pipeline(resolution: string, round: number): Promise<Record<string, number>> {
  const file = join(dir, `p-${resolution}-${round}.yaml`);
  writeFileSync(
    file,
    `name: p\nworkload: {type: stream, codec: h264, bitrate: 2M, rate_control: cbr, gop: 300, preset: ultrafast, threads: 1, fps: 30, scene: scrolling, resolution: ${resolution}, quality_every: 0}\nmatrix: {r: 1}\nwarmup: 1s\nduration: ${seconds}s\n# The pipeline alone: no recording agents sharing the cores.\nrecording: false\n`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(dir, `r-${resolution}-${round}`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const p = set.points()[0]!;
  if (p.outcome.status !== 'ok') throw new Error(`pipeline at ${resolution}: ${JSON.stringify(p.outcome)}`);
  return p.metrics as Record<string, number>;
}

// The roles run from dist/ when it is fresh, else through tsx: measured stale, the pipeline's
// overhead would be partly the loader's.
ensureFreshDist('the roles');

// 1. Encoder parity at 720p.
const W = 1280;
const H = 720;
const N = 300;
const f720 = renderFrames(W, H, N);
const par = { cli: [] as { cpu: number; wall: number }[], inproc: [] as { cpu: number; wall: number }[], bare: [] as { cpu: number; wall: number }[] };
let inSei: Buffer | undefined;
for (let r = 0; r < Math.max(rounds, 3); r++) {
  noteLoad();
  // Turns alternate which side goes first, so a burst of load elsewhere hits both alike.
  if (r % 2 === 0) par.cli.push(cliEncode(f720.file, W, H, N));
  const mine = await inProcessEncode(f720.frames, W, H);
  par.inproc.push(mine);
  inSei ??= mine.first;
  par.bare.push(bareNodeAvEncode(f720.frames, W, H));
  if (r % 2 === 1) par.cli.push(cliEncode(f720.file, W, H, N));
}
const optsIn = x264Options(inSei!);
const optsCli = cliOptions(f720.file, W, H);
const differing = (() => {
  const a = new Map(optsIn.options.split(' ').map((kv) => kv.split('=') as [string, string]));
  const b = new Map(optsCli.options.split(' ').map((kv) => kv.split('=') as [string, string]));
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: in-process ${a.get(k) ?? '-'}, CLI ${b.get(k) ?? '-'}`);
})();
// Ratios per round (a round's turns ran close together), then their median: speed = 1 / time per frame.
const ratios = (num: { cpu: number; wall: number }[], den: { cpu: number; wall: number }[], k: 'cpu' | 'wall') => num.map((x, i) => x[k] / den[i]![k]);
const parityCpu = ratios(par.cli, par.inproc, 'cpu');
const parityWall = ratios(par.cli, par.inproc, 'wall');
const buildCpu = ratios(par.cli, par.bare, 'cpu');
const wrapperCpu = ratios(par.bare, par.inproc, 'cpu');

// 2. The pipeline's own cost at 720p30, pipeline runs and bare loops in turns.
const pipes: Record<string, number>[] = [];
const bares: Awaited<ReturnType<typeof bareLoop>>[] = [];
const hot: Awaited<ReturnType<typeof bareLoop>>[] = [];
const hops: number[] = [];
for (let r = 0; r < rounds; r++) {
  noteLoad();
  pipes.push(await pipeline('1280x720', r));
  bares.push(await bareLoop(W, H, 30 * (seconds + 1), true));
  hot.push(await bareLoop(W, H, 30 * (seconds + 1), false));
  // A frame's mean size at the stream's 2 Mbit/s and 30 fps, through two bare hops between Node processes.
  hops.push(await twoHopsMs(Math.round(2e6 / 8 / 30), 30, 30 * (seconds + 1)));
}
const st = (k: string) => pipes.map((p) => p[k]!);
const pipeCpuPerFrame = pipes.map((p) => ((p['guest.cpu_s']! + p['host.cpu_s']! + p['client.cpu_s']!) * 1000) / p['frames.decoded']!);
const addedLatency = pipes.map((p, i) => p['latency.to_decoded.p50']! - bares[i]!.encDec);
const addedCpu = pipeCpuPerFrame.map((c, i) => c - bares[i]!.cpuPerFrame);

// 3. 1080p30: the bare encoder's own speed (one thread), then the pipeline.
noteLoad();
const f1080 = renderFrames(1920, 1080, 150);
const enc1080 = [await inProcessEncode(f1080.frames, 1920, 1080), await inProcessEncode(f1080.frames, 1920, 1080)];
const p1080 = await pipeline('1920x1080', 0);
noteLoad();

console.log(`load average (1 min) at each turn, 2 cores: ${loads.join(' ')}`);
console.log(`\n1. Encoder parity: ${N} frames of the scrolling scene at ${W}x${H}, x264 ultrafast, zerolatency, CBR 2 Mbit/s (VBV 1 Mbit), keyint 300, 1 thread; ${par.cli.length} rounds`);
console.log(`  x264 options as each encoder wrote them into its stream: ${differing.length === 0 ? 'identical' : `DIFFER in ${differing.join('; ')}`}`);
console.log(`    ${optsIn.options}`);
console.log(`  x264 builds: in-process (node-av) ${optsIn.version}; FFmpeg CLI ${optsCli.version}`);
console.log(`  per encode call, median [min-max] over rounds, ms of CPU / of wall clock:`);
console.log(`    FFmpeg CLI (-benchmark_all)        ${spread(par.cli.map((x) => x.cpu))} / ${spread(par.cli.map((x) => x.wall))}`);
console.log(`    VideoEncoder (as in the pipeline)  ${spread(par.inproc.map((x) => x.cpu))} / ${spread(par.inproc.map((x) => x.wall))}`);
console.log(`    bare node-av loop (sync calls)     ${spread(par.bare.map((x) => x.cpu))} / ${spread(par.bare.map((x) => x.wall))}`);
console.log(`  encoder parity ${spread(parityCpu)}x by CPU (aim >= 0.95x); by wall clock ${spread(parityWall)}x`);
console.log(`    the library build (bare node-av against the CLI) ${spread(buildCpu)}x; the wrapper (VideoEncoder against bare node-av) ${spread(wrapperCpu)}x`);
console.log(`\n2. The pipeline at 720p30 (three processes, loopback TCP, no recording agents), ${seconds} s, ${rounds} rounds against a bare loop of the same classes paced at 30 fps`);
console.log(`  stage medians, ms, median [min-max] over rounds:`);
for (const s of ['capture', 'encode', 'send', 'uplink', 'relay', 'downlink', 'decode_wait', 'decode', 'display_wait']) console.log(`    ${s.padEnd(13)} ${spread(st(`stage.${s}.p50`), 3)}`);
console.log(
  `  bare loop medians, ms: render ${spread(
    bares.map((b) => b.render),
    3,
  )}, encode ${spread(
    bares.map((b) => b.enc),
    3,
  )}, decode ${spread(
    bares.map((b) => b.dec),
    3,
  )}`,
);
console.log(
  `  back to back (not paced), the codecs' best case: encode ${spread(
    hot.map((b) => b.enc),
    3,
  )}, decode ${spread(
    hot.map((b) => b.dec),
    3,
  )}, CPU per frame ${spread(hot.map((b) => b.cpuPerFrame))} ms`,
);
console.log(`  capture end -> decoded: pipeline ${spread(st('latency.to_decoded.p50'))} ms, bare encode + decode at 30 fps ${spread(bares.map((b) => b.encDec))} ms (back to back ${spread(hot.map((b) => b.encDec))} ms)`);
console.log(`  pipeline overhead ${spread(addedLatency)} ms/frame of latency (aim <= 1 ms)`);
const transport = pipes.map((p) => ['send', 'uplink', 'relay', 'downlink', 'decode_wait'].reduce((a, k) => a + p[`stage.${k}.p50`]!, 0));
console.log(
  `  of which transport (send + uplink + relay + downlink + decode_wait) ${spread(transport)} ms; the floor, two bare hops between Node processes (bench/tcp-hops.ts) ${spread(hops)} ms: the pipeline's transport ${spread(transport.map((t, i) => t / hops[i]!))}x its floor`,
);
console.log(`  CPU per frame, all three roles: pipeline ${spread(pipeCpuPerFrame)} ms, bare render + encode + decode ${spread(bares.map((b) => b.cpuPerFrame))} ms: the pipeline's own ${spread(addedCpu)} ms/frame`);
console.log(`  glass to glass incl. the 60 Hz display wait: ${spread(st('latency.p50'))} ms`);
const limit = enc1080.map((e) => 1000 / e.wall);
const limitCpu = enc1080.map((e) => 1000 / e.cpu);
const sustained = p1080['guest.skipped']! === 0 && p1080['client.fps']! >= 29;
console.log(`\n3. 1080p30 H.264, one encoder thread: the bare encoder alone ${spread(limit, 0)} fps by wall clock (${spread(limitCpu, 0)} fps of its own CPU)`);
console.log(
  `  through the pipeline: client ${p1080['client.fps']} fps, guest skipped ${p1080['guest.skipped']} ticks, encode p50 ${p1080['stage.encode.p50']} ms, latency p50 ${p1080['latency.p50']} ms, p95 ${p1080['latency.p95']} ms; CPU guest ${p1080['guest.cpu_pct']} %, host ${p1080['host.cpu_pct']} %, client ${p1080['client.cpu_pct']} %`,
);
console.log(`  1080p30 ${sustained ? 'sustained' : 'NOT sustained'} (aim: sustained where the encoder alone exceeds 30 fps)`);
rmSync(dir, { recursive: true, force: true });
