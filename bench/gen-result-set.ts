/**
 * A generator of big result sets in the real store format, for the GUI's benchmarks: every point
 * is committed through the store's own writer (ResultSet.beginPoint / PointWriter.commit), so the
 * set's index grows as a run grows it, and the first reader finds it fresh.
 *
 * The points are a stream sweep (codec x resolution x fps x bitrate x scene x net_delay x
 * net_loss, then repetitions), with `metrics` summary figures that depend on the settings (CPU
 * grows with the pixel rate, PSNR with bits per pixel, latency with the delay) plus seeded noise,
 * so that plots look like a sweep's and brushes select structured subsets. Every 97th point
 * failed, every 50th carries a flag, as in a real set.
 *
 * Generated sets are kept under a cache directory keyed by their size and seed, since 100,000
 * commits take minutes here: a second benchmark run reuses them.
 *
 * Run: npx tsx bench/gen-result-set.ts [--runs N (10000)] [--metrics M (20)] [--seed S (1)] [--dir DIR [--fresh]]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../src/base/random.ts';
import { typeValue } from '../src/config/declare.ts';
import { paramDecl } from '../src/config/registry.ts';
import type { PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

export interface GenOptions {
  runs: number;
  /** Summary metrics per run (the stream workload's names first, then `extra.mN`). */
  metrics: number;
  seed?: number;
}

const CODECS = ['h264', 'h265', 'vp8', 'vp9', 'av1'] as const;
const RESOLUTIONS = [
  [640, 360],
  [1280, 720],
  [1920, 1080],
  [2560, 1440],
] as const;
const FPS = [15, 30, 60] as const;
const BITRATES = ['300k', '1M', '2M', '4M', '8M', '16M'] as const;
const SCENES = ['idle', 'typing', 'scrolling', 'drag', 'video', 'motion'] as const;
const DELAYS = ['0ms', '10ms', '40ms', '80ms', '150ms'] as const;
const LOSSES = [0, 1] as const;
/** Distinct settings of the sweep; runs beyond it are further repetitions. */
export const COMBINATIONS = CODECS.length * RESOLUTIONS.length * FPS.length * BITRATES.length * SCENES.length * DELAYS.length * LOSSES.length;

const CODEC_COST: Record<string, number> = { h264: 1, h265: 2.2, vp8: 1.3, vp9: 2.5, av1: 3 };
const SCENE_MOTION: Record<string, number> = { idle: 0.05, typing: 0.2, scrolling: 0.6, drag: 0.5, video: 0.9, motion: 1 };

function bits(label: string): number {
  const m = /^(\d+(?:\.\d+)?)([kM])$/.exec(label)!;
  return Number(m[1]) * (m[2] === 'k' ? 1e3 : 1e6);
}

/** The settings of the i-th run and its repetition number. */
export function runParams(i: number): { params: PointRecord['params']; rep: number } {
  const c = i % COMBINATIONS;
  let d = 1;
  const pick = <T>(xs: readonly T[]): T => {
    const v = xs[Math.floor(c / d) % xs.length]!;
    d *= xs.length;
    return v;
  };
  const codec = pick(CODECS);
  const [w, h] = pick(RESOLUTIONS);
  const params = { codec, resolution: `${w}x${h}`, fps: pick(FPS), bitrate: pick(BITRATES), scene: pick(SCENES), net_delay: pick(DELAYS), net_loss: pick(LOSSES) };
  return { params, rep: Math.floor(i / COMBINATIONS) + 1 };
}

/** The stream workload's summary metrics this generator fills, as functions of the settings and noise. */
function metricValues(p: PointRecord['params'], rnd: () => number): [string, number][] {
  const [w, h] = String(p['resolution']).split('x').map(Number) as [number, number];
  const fps = p['fps'] as number;
  const rate = bits(String(p['bitrate']));
  const motion = SCENE_MOTION[String(p['scene'])]!;
  const cost = CODEC_COST[String(p['codec'])]!;
  const delay = Number(String(p['net_delay']).replace('ms', ''));
  const loss = p['net_loss'] as number;
  const mpixs = (w * h * fps) / 1e6;
  const noise = (s: number) => 1 + (rnd() - 0.5) * s;
  const bpp = rate / (w * h * fps);
  const sent = rate * (0.3 + 0.7 * motion) * noise(0.1);
  const encode = (mpixs * cost * 0.4 + 1) * noise(0.2);
  const shownFps = Math.min(fps, fps * (1 - loss / 100) * noise(0.05));
  return [
    ['guest.cpu_pct', Math.min(400, mpixs * cost * (8 + 20 * motion)) * noise(0.15)],
    ['client.cpu_pct', Math.min(400, mpixs * (3 + 5 * motion)) * noise(0.15)],
    ['host.cpu_pct', (1 + sent / 2e6) * noise(0.2)],
    ['client.fps', shownFps],
    ['guest.fps', fps * noise(0.02)],
    ['client.bitrate', sent * (1 - loss / 100)],
    ['guest.bitrate', sent],
    ['latency.p50', (delay + encode + 4 + 1000 / fps / 2) * noise(0.1)],
    ['latency.p95', (delay * 1.1 + encode * 1.8 + 8 + 1000 / fps) * noise(0.15) + loss * 30],
    ['latency.p99', (delay * 1.2 + encode * 2.5 + 12 + 1000 / fps) * noise(0.2) + loss * 60],
    ['stage.encode.p50', encode],
    ['stage.decode.p50', (mpixs * 0.15 + 0.5) * noise(0.2)],
    ['stage.network.p50', (delay + sent / 1e7) * noise(0.1)],
    ['client.psnr', Math.min(60, 28 + 6 * Math.log2(1 + bpp * 20) - 4 * motion - loss * 2) * noise(0.02)],
    ['client.ssim', Math.min(1, 0.85 + 0.1 * Math.log10(1 + bpp * 50) - 0.03 * motion) * noise(0.01)],
    ['frames.dropped', Math.round(loss * fps * 0.3 * rnd() * 10)],
    ['frames.lost', Math.round(loss * fps * 0.2 * rnd() * 10)],
    ['frames.late', Math.round(delay > 100 ? fps * rnd() * 5 : rnd() * 2)],
    ['frames.keyframes', 1 + Math.floor(rnd() * 3)],
    ['host.max_queue_kb', (sent / 8e3) * (delay / 1000 + 0.05) * noise(0.3)],
  ];
}

/** The summary metrics of a run: the stream workload's figures, then plain extra ones up to `count`. */
export function runMetrics(p: PointRecord['params'], count: number, rnd: () => number): PointRecord['metrics'] {
  const out: PointRecord['metrics'] = {};
  const named = metricValues(p, rnd);
  for (let k = 0; k < count; k++) {
    if (k < named.length) out[named[k]![0]] = named[k]![1];
    else out[`extra.m${k}`] = rnd() * 100;
  }
  return out;
}

/** The record of the i-th run, as the engine hands it to commit. */
export function runRecord(i: number, metrics: number, rnd: () => number): Omit<PointRecord, 'files' | 'format'> {
  const { params, rep } = runParams(i);
  const key = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 12);
  const t = 1_760_000_000_000 + i * 3000;
  // Typed by the stream workload's declarations, as the engine stores them: a record without
  // `typed` is read as one of an older version and upgraded on every read.
  const typed = Object.fromEntries(Object.entries(params).map(([name, v]) => [name, typeValue(paramDecl('stream', name)!, v)]));
  return {
    key,
    rep,
    index: i % COMBINATIONS,
    params,
    typed,
    outcome: i % 97 === 96 ? { status: 'failed', error: 'client exited with code 1' } : { status: 'ok' },
    attempts: 1,
    workload: 'stream',
    benchmark: { name: 'gui-sweep', sha256: 'e'.repeat(64) },
    startedAt: new Date(t).toISOString(),
    endedAt: new Date(t + 2500).toISOString(),
    wallS: 2 + rnd() * 0.1,
    metrics: i % 97 === 96 ? {} : runMetrics(params, metrics, rnd),
    flags: i % 50 === 49 ? ['recording gap: host: 0.3 s'] : [],
  };
}

/**
 * Writes a result set of `runs` runs into dir (which must not exist) through ResultSet and
 * PointWriter, then reads it once so its index and points table are built as a first reader
 * builds them. Returns the set.
 */
export function generateResultSet(dir: string, opts: GenOptions): ResultSet {
  if (existsSync(dir)) throw new Error(`${dir} exists: generate into a new directory`);
  const set = ResultSet.openOrCreate(dir, `gui-${opts.runs}x${opts.metrics}`);
  // The index exists from the start, as when a run starts on a set (its plan reads it): commits
  // then append to it. Without it, the first reader would build it from every point.json (six
  // minutes at 100,000 points here).
  set.index().close();
  const rnd = seededRandom(opts.seed ?? 1);
  for (let i = 0; i < opts.runs; i++) {
    const r = runRecord(i, opts.metrics, rnd);
    // No Parquet files: the GUI views measured here read the points table only, and a file per
    // point would make writing the set the whole benchmark.
    const w = set.beginPoint(r.key, r.rep);
    w.commit(r);
    if (w.indexError) throw new Error(w.indexError);
  }
  return set;
}

/**
 * The cached set of this size and seed, generated when absent (under $STREAMBENCH_GEN_DIR or the
 * temp directory); a half-written one (a killed generator) is never reused: sets are written
 * under a temporary name and renamed when complete.
 */
export function cachedResultSet(opts: GenOptions, log: (s: string) => void = () => {}): ResultSet {
  const root = process.env['STREAMBENCH_GEN_DIR'] ?? join(tmpdir(), 'streambench-gen');
  mkdirSync(root, { recursive: true });
  // v2: records typed as the engine writes them (v1 sets lacked it).
  const dir = join(root, `set-v2-${opts.runs}x${opts.metrics}-s${opts.seed ?? 1}`);
  if (existsSync(dir)) return ResultSet.open(dir);
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const t0 = performance.now();
  log(`generating ${opts.runs} runs x ${opts.metrics} metrics into ${dir} ...`);
  generateResultSet(tmp, opts);
  renameSync(tmp, dir);
  log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return ResultSet.open(dir);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
  const opts: GenOptions = { runs: Number(flag('--runs', '10000')), metrics: Number(flag('--metrics', '20')), seed: Number(flag('--seed', '1')) };
  const dir = args.includes('--dir') ? flag('--dir', '') : undefined;
  const t0 = performance.now();
  if (dir) {
    if (args.includes('--fresh')) rmSync(dir, { recursive: true, force: true });
    generateResultSet(dir, opts);
    console.log(`${dir}: ${opts.runs} runs x ${opts.metrics} metrics in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } else {
    const set = cachedResultSet(opts, console.log);
    console.log(set.dir);
  }
  const set = ResultSet.open(dir ?? cachedResultSet(opts).dir);
  const t1 = performance.now();
  const n = set.points().length;
  console.log(`index read: ${n} points in ${(performance.now() - t1).toFixed(0)} ms`);
}
