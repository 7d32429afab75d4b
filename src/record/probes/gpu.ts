/**
 * GPU probes. NVIDIA and Intel figures come from their vendors' tools run as long-lived children
 * (a spawn per sample would cost far more than the sample): the probe parses their output as it
 * streams and a sample returns the latest figures, or none once they are older than three periods
 * (the tool stalled or died; it is restarted at most every 5 s). AMD's amdgpu driver exposes its
 * figures in sysfs, read directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { monoMs } from '../../base/clock.ts';
import type { Probe } from '../probe.ts';
import { listDir, MB, readText } from '../procfs.ts';

/** The full path of `cmd` as PATH would resolve it (or `cmd` itself when it holds a '/'), or undefined when there is no such executable. */
export function which(cmd: string, path = process.env['PATH'] ?? ''): string | undefined {
  const candidates = cmd.includes('/') ? [cmd] : path.split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here (or not executable): try the next PATH entry
    }
  }
  return undefined;
}

/** A value of nvidia-smi's CSV, or undefined for the bracketed states it prints instead of a number ("[N/A]", "[Not Supported]", "[Unknown Error]", ...). */
function csvNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '' || t.startsWith('[') || t === 'N/A') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

// ---------------------------------------------------------------------------------------------
// NVIDIA

/** The --query-gpu fields the probe asks for, in the order parseNvidiaSmiCsv expects them. */
export const NVIDIA_QUERY_FIELDS = [
  'index',
  'name',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'encoder.stats.sessionCount',
  'encoder.stats.averageFps',
  'temperature.gpu',
  'power.draw',
  'clocks.sm',
] as const;

/** One GPU's line of the --query-gpu CSV; a field the GPU does not support is undefined. */
export interface NvidiaGpuRow {
  index: number;
  name: string;
  /** utilization.gpu: percent of the period a kernel ran. */
  utilPct: number | undefined;
  /** utilization.memory: percent of the period device memory was read or written. */
  memUtilPct: number | undefined;
  memUsedMb: number | undefined;
  memTotalMb: number | undefined;
  encSessions: number | undefined;
  encFps: number | undefined;
  tempC: number | undefined;
  powerW: number | undefined;
  smClockMhz: number | undefined;
}

/**
 * Parses the output of `nvidia-smi --query-gpu=<NVIDIA_QUERY_FIELDS> --format=csv,noheader,nounits`:
 * one line per GPU, values separated by ", ", memory in MiB, power in W, clocks in MHz, and
 * "[N/A]" or "[Not Supported]" (older drivers) where a GPU lacks a figure.
 */
export function parseNvidiaSmiCsv(text: string): NvidiaGpuRow[] {
  const out: NvidiaGpuRow[] = [];
  const n = NVIDIA_QUERY_FIELDS.length;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const parts = line.split(',');
    if (parts.length < n) continue;
    // The name is the only free text: should it hold commas, the extra pieces are its own.
    const extra = parts.length - n;
    const name = parts.slice(1, 2 + extra).join(',').trim();
    const v = (i: number) => csvNumber(parts[i === 0 ? 0 : i + extra]);
    const index = v(0);
    if (index === undefined) continue;
    out.push({
      index,
      name,
      utilPct: v(2),
      memUtilPct: v(3),
      memUsedMb: v(4),
      memTotalMb: v(5),
      encSessions: v(6),
      encFps: v(7),
      tempC: v(8),
      powerW: v(9),
      smClockMhz: v(10),
    });
  }
  return out;
}

/** The flat values of CSV rows: gpu.nvidia.<index>.util_pct, mem_util_pct, mem_used_mb, mem_total_mb, enc_sessions, enc_fps, temp_c, power_w, sm_clock_mhz. */
export function nvidiaCsvValues(rows: NvidiaGpuRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const put = (k: string, v: number | undefined) => {
      if (v !== undefined) out[`gpu.nvidia.${r.index}.${k}`] = v;
    };
    put('util_pct', r.utilPct);
    put('mem_util_pct', r.memUtilPct);
    put('mem_used_mb', r.memUsedMb);
    put('mem_total_mb', r.memTotalMb);
    put('enc_sessions', r.encSessions);
    put('enc_fps', r.encFps);
    put('temp_c', r.tempC);
    put('power_w', r.powerW);
    put('sm_clock_mhz', r.smClockMhz);
  }
  return out;
}

/** One data line of nvidia-smi dmon: the GPU index and each numeric column by its header name ("-" columns left out). */
export interface NvidiaDmonRow {
  gpu: number;
  values: Record<string, number>;
}

/**
 * Line-by-line parser of `nvidia-smi dmon` output. Its columns depend on the -s groups and on the
 * driver (newer ones add jpg and ofa to -s u, ccpm to -s m; -o DT prepends Date and Time), so
 * they are read from the "# gpu ..." header, which dmon repeats; the "# Idx ..." units line
 * under it is skipped. A metric the GPU lacks prints as "-".
 */
export class NvidiaDmonParser {
  private cols: string[] | undefined;

  /** Feeds one line; returns the row it holds, if it is a data line under a known header. */
  push(line: string): NvidiaDmonRow | undefined {
    const t = line.trim();
    if (!t) return undefined;
    if (t.startsWith('#')) {
      const names = t.slice(1).trim().split(/\s+/);
      if (names.includes('gpu')) this.cols = names;
      return undefined;
    }
    const cols = this.cols;
    if (!cols) return undefined;
    const f = t.split(/\s+/);
    if (f.length !== cols.length) return undefined;
    let gpu: number | undefined;
    const values: Record<string, number> = {};
    cols.forEach((c, i) => {
      const v = Number(f[i]);
      if (f[i] === '-' || !Number.isFinite(v)) return;
      if (c === 'gpu') gpu = v;
      else if (c !== 'Date' && c !== 'Time') values[c] = v;
    });
    return gpu === undefined ? undefined : { gpu, values };
  }
}

/** Parses a whole `nvidia-smi dmon` output; rows in output order (one per GPU per period). */
export function parseNvidiaDmon(text: string): NvidiaDmonRow[] {
  const p = new NvidiaDmonParser();
  const out: NvidiaDmonRow[] = [];
  for (const line of text.split('\n')) {
    const r = p.push(line);
    if (r) out.push(r);
  }
  return out;
}

/** dmon column -> value name; a column not listed keeps its own name with a dmon_ prefix. */
const DMON_NAMES: Record<string, string> = {
  sm: 'sm_pct',
  mem: 'mem_util_pct',
  enc: 'enc_pct',
  dec: 'dec_pct',
  jpg: 'jpg_pct',
  ofa: 'ofa_pct',
  fb: 'fb_used_mb',
  bar1: 'bar1_used_mb',
  ccpm: 'ccpm_used_mb',
  pwr: 'power_w',
  temp: 'temp_c',
  gtemp: 'temp_c',
  mtemp: 'mem_temp_c',
  mclk: 'mem_clock_mhz',
  pclk: 'clock_mhz',
  rxpci: 'pcie_rx_mb_per_s',
  txpci: 'pcie_tx_mb_per_s',
};

/** The flat values of dmon rows (the last row of each GPU wins): gpu.nvidia.<gpu>.sm_pct, enc_pct, dec_pct, fb_used_mb, ... */
export function nvidiaDmonValues(rows: NvidiaDmonRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    for (const [c, v] of Object.entries(r.values)) out[`gpu.nvidia.${r.gpu}.${DMON_NAMES[c] ?? `dmon_${c}`}`] = v;
  }
  return out;
}

/** Options of the tool-running GPU probes. */
export interface ToolProbeOptions {
  intervalMs?: number;
  /** The tool's argv prefix (tests point it at a fake); default the tool's name, looked up in PATH. */
  command?: string[];
}

/** A long-running child whose stdout is fed to `onLine` line by line (or as raw chunks to `onChunk`). */
class Streamer {
  private child: ChildProcess | undefined;
  private startedMs = -Infinity;
  /** The tool's last stderr line or start failure, for diagnosis. */
  lastError: string | undefined;

  constructor(
    private readonly argv: string[],
    private readonly onChunk: (chunk: string) => void,
  ) {}

  /** Starts the child if it is not running and the last start is over 5 s ago. */
  ensure(): void {
    if (this.child || monoMs() - this.startedMs < 5000) return;
    this.startedMs = monoMs();
    const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onChunk(d));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      const last = d.trim().split('\n').at(-1);
      if (last) this.lastError = last;
    });
    child.on('error', (e) => {
      this.lastError = e.message;
      if (this.child === child) this.child = undefined;
    });
    child.on('exit', (code, signal) => {
      if (code !== 0 || signal) this.lastError ??= `${this.argv[0]} exited (${signal ?? code})`;
      if (this.child === child) this.child = undefined;
    });
    // The probe must never be what keeps the agent alive; close() ends the child.
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  }

  close(): void {
    this.child?.kill('SIGTERM');
    this.child = undefined;
    // No restart after close, however long ago the last start was.
    this.startedMs = Infinity;
  }
}

/** Splits a stream into lines, keeping the unfinished tail for the next chunk. */
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let tail = '';
  return (chunk) => {
    const parts = (tail + chunk).split('\n');
    tail = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  };
}

/** Values with the time they arrived, so stale ones can be left out. */
interface Fresh {
  at: number;
  values: Record<string, number>;
}

/** Merges the per-source value sets not older than `maxAgeMs`. */
function freshValues(sources: Iterable<Fresh>, maxAgeMs: number): Record<string, number> {
  const now = monoMs();
  const out: Record<string, number> = {};
  for (const s of sources) if (now - s.at <= maxAgeMs) Object.assign(out, s.values);
  return out;
}

/**
 * NVIDIA GPUs through nvidia-smi, two children: `dmon -s um` (SM, memory, encoder and decoder
 * utilisation, framebuffer use; at least every second, dmon's finest period) and `--query-gpu
 * ... -lms <interval>` (utilisation, memory, NVENC sessions and fps, temperature, power, SM clock).
 * Values: gpu.nvidia.<index>.* (see nvidiaCsvValues and nvidiaDmonValues).
 */
export class NvidiaProbe implements Probe {
  readonly name = 'gpu.nvidia';
  readonly intervalMs: number;
  /** Whether nvidia-smi is on PATH; without it sample() returns nothing and starts nothing. */
  readonly available: boolean;
  private readonly dmon: Streamer;
  private readonly query: Streamer;
  /** Latest values per GPU and source ("dmon:0", "csv:0"). */
  private readonly latest = new Map<string, Fresh>();

  constructor(opts: ToolProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    const cmd = opts.command ?? ['nvidia-smi'];
    this.available = which(cmd[0]!) !== undefined;
    const dmonS = String(Math.max(1, Math.round(this.intervalMs / 1000)));
    const parser = new NvidiaDmonParser();
    this.dmon = new Streamer(
      [...cmd, 'dmon', '-s', 'um', '-d', dmonS],
      lineSplitter((line) => {
        const r = parser.push(line);
        if (r) this.latest.set(`dmon:${r.gpu}`, { at: monoMs(), values: nvidiaDmonValues([r]) });
      }),
    );
    this.query = new Streamer(
      [...cmd, `--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits', '-lms', String(this.intervalMs)],
      lineSplitter((line) => {
        for (const r of parseNvidiaSmiCsv(line)) this.latest.set(`csv:${r.index}`, { at: monoMs(), values: nvidiaCsvValues([r]) });
      }),
    );
  }

  /** The last stderr line or start failure of either child. */
  get lastError(): string | undefined {
    return this.query.lastError ?? this.dmon.lastError;
  }

  /** The latest figures of each GPU (starting the children on the first call). */
  sample(_nowMs: number): Record<string, number> {
    if (!this.available) return {};
    this.dmon.ensure();
    this.query.ensure();
    // Where both children report a figure (memory utilisation; power with other dmon groups),
    // the query's wins: it runs at the probe's own period, dmon at whole seconds at best.
    const all = [...this.latest];
    const ordered = [...all.filter(([k]) => k.startsWith('dmon:')), ...all.filter(([k]) => !k.startsWith('dmon:'))].map(([, f]) => f);
    return freshValues(ordered, 3 * Math.max(this.intervalMs, 1000));
  }

  /** Stops both children. */
  close(): void {
    this.dmon.close();
    this.query.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Intel

/**
 * Incremental reader of a stream of JSON objects that is not valid JSON until it ends, such as
 * intel_gpu_top -J ("[", then "{...}" objects separated by ",", "]" only at exit): the top-level
 * objects are cut out by brace matching (braces inside strings, escapes included, do not count)
 * and parsed one by one; whatever lies between them is skipped.
 */
export class JsonObjectStream {
  private buf = '';
  private pos = 0;
  private depth = 0;
  private start = -1;
  private inString = false;
  private escaped = false;
  /** Objects that were cut out but failed to parse. */
  errors = 0;

  /** Feeds a chunk; returns the objects it completed. */
  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    const b = this.buf;
    for (let i = this.pos; i < b.length; i++) {
      const c = b.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
        continue;
      }
      if (c === 34 /* " */) this.inString = true;
      else if (this.depth === 0) {
        // Outside objects lie only the array's punctuation and whitespace, skipped.
        if (c === 123 /* { */) {
          this.depth = 1;
          this.start = i;
        }
      } else if (c === 123) this.depth++;
      else if (c === 125 /* } */ && --this.depth === 0) {
        try {
          out.push(JSON.parse(b.slice(this.start, i + 1)));
        } catch {
          this.errors++;
        }
        this.start = -1;
      }
    }
    // Keep only the unfinished object (if any), so the buffer does not grow with the stream.
    if (this.depth > 0) {
      this.buf = b.slice(this.start);
      this.pos = b.length - this.start;
      this.start = 0;
    } else {
      this.buf = '';
      this.pos = 0;
    }
    return out;
  }
}

/** The figures of one intel_gpu_top period; absent ones (no RAPL on a discrete card, no IMC counters) are undefined. */
export interface IntelGpuSample {
  periodMs: number | undefined;
  freqRequestedMhz: number | undefined;
  freqActualMhz: number | undefined;
  irqPerS: number | undefined;
  rc6Pct: number | undefined;
  powerGpuW: number | undefined;
  powerPackageW: number | undefined;
  imcReads: number | undefined;
  imcWrites: number | undefined;
  /** By engine name as printed: "Render/3D/0", "Video/1" (physical engines, older versions and -p) or "Render/3D", "Video" (engine classes, the default of newer versions). */
  engines: Record<string, { busy: number | undefined; sema: number | undefined; wait: number | undefined }>;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The figures of one parsed intel_gpu_top JSON object; the per-client section is left out (its numbers are strings, per process). */
export function intelSample(o: unknown): IntelGpuSample {
  const r = obj(o);
  const engines: IntelGpuSample['engines'] = {};
  for (const [name, e] of Object.entries(obj(r['engines']))) {
    const x = obj(e);
    engines[name] = { busy: num(x['busy']), sema: num(x['sema']), wait: num(x['wait']) };
  }
  return {
    periodMs: num(obj(r['period'])['duration']),
    freqRequestedMhz: num(obj(r['frequency'])['requested']),
    freqActualMhz: num(obj(r['frequency'])['actual']),
    irqPerS: num(obj(r['interrupts'])['count']),
    rc6Pct: num(obj(r['rc6'])['value']),
    powerGpuW: num(obj(r['power'])['GPU']),
    powerPackageW: num(obj(r['power'])['Package']),
    imcReads: num(obj(r['imc-bandwidth'])['reads']),
    imcWrites: num(obj(r['imc-bandwidth'])['writes']),
    engines,
  };
}

/** Parses (a prefix of) intel_gpu_top -J output: one sample per complete period object. */
export function parseIntelGpuTopJson(text: string): IntelGpuSample[] {
  return new JsonObjectStream().push(text).map(intelSample);
}

/** "Render/3D/0" -> "render_3d_0", "VideoEnhance" -> "videoenhance": engine names as name parts. */
function engineKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** The flat values of a sample: gpu.intel.{freq_req_mhz, freq_act_mhz, irq_per_s, rc6_pct, power_gpu_w, power_pkg_w, imc_reads, imc_writes} and gpu.intel.<engine>.{busy,sema,wait}_pct. */
export function intelValues(s: IntelGpuSample): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (k: string, v: number | undefined) => {
    if (v !== undefined) out[`gpu.intel.${k}`] = v;
  };
  put('freq_req_mhz', s.freqRequestedMhz);
  put('freq_act_mhz', s.freqActualMhz);
  put('irq_per_s', s.irqPerS);
  put('rc6_pct', s.rc6Pct);
  put('power_gpu_w', s.powerGpuW);
  put('power_pkg_w', s.powerPackageW);
  put('imc_reads', s.imcReads);
  put('imc_writes', s.imcWrites);
  for (const [name, e] of Object.entries(s.engines)) {
    const k = engineKey(name);
    put(`${k}.busy_pct`, e.busy);
    put(`${k}.sema_pct`, e.sema);
    put(`${k}.wait_pct`, e.wait);
  }
  return out;
}

/**
 * Intel GPUs through `intel_gpu_top -J -s <interval>` (needs root or CAP_PERFMON; a refusal shows
 * in lastError): frequency, RC6 residency, power, and busy/sema/wait of each engine class
 * (gpu.intel.render_3d.busy_pct, gpu.intel.video.busy_pct, ...).
 */
export class IntelGpuProbe implements Probe {
  readonly name = 'gpu.intel';
  readonly intervalMs: number;
  /** Whether intel_gpu_top is on PATH; without it sample() returns nothing and starts nothing. */
  readonly available: boolean;
  private readonly tool: Streamer;
  private latest: Fresh | undefined;

  constructor(opts: ToolProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    const cmd = opts.command ?? ['intel_gpu_top'];
    this.available = which(cmd[0]!) !== undefined;
    const stream = new JsonObjectStream();
    this.tool = new Streamer([...cmd, '-J', '-s', String(this.intervalMs)], (chunk) => {
      const objs = stream.push(chunk);
      const last = objs.at(-1);
      if (last !== undefined) this.latest = { at: monoMs(), values: intelValues(intelSample(last)) };
    });
  }

  /** The tool's last stderr line or start failure. */
  get lastError(): string | undefined {
    return this.tool.lastError;
  }

  /** The latest period's figures (starting the tool on the first call). */
  sample(_nowMs: number): Record<string, number> {
    if (!this.available) return {};
    this.tool.ensure();
    return this.latest ? freshValues([this.latest], 3 * this.intervalMs) : {};
  }

  /** Stops the tool. */
  close(): void {
    this.tool.close();
  }
}

// ---------------------------------------------------------------------------------------------
// AMD

/** Options of AmdGpuProbe; `root` is the filesystem root under which sys/class/drm is read (tests use a fake tree). */
export interface AmdGpuProbeOptions {
  intervalMs?: number;
  root?: string;
}

/**
 * AMD GPUs through amdgpu's sysfs files: gpu.amd.<card>.busy_pct (gpu_busy_percent),
 * mem_busy_pct (mem_busy_percent), vram_used_mb and vram_total_mb (mem_info_vram_*, bytes).
 */
export class AmdGpuProbe implements Probe {
  readonly name = 'gpu.amd';
  readonly intervalMs: number;
  private readonly cards: { card: string; dir: string }[] = [];

  constructor(opts: AmdGpuProbeOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    const drm = join(opts.root ?? '/', 'sys/class/drm');
    // card<N> only: card0-DP-1 and the like are connectors of a card, not cards.
    for (const card of listDir(drm).filter((n) => /^card\d+$/.test(n)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
      const dir = `${drm}/${card}/device`;
      if (readText(`${dir}/gpu_busy_percent`) !== undefined) this.cards.push({ card, dir });
    }
  }

  /** Whether any card exposes gpu_busy_percent (amdgpu). */
  get available(): boolean {
    return this.cards.length > 0;
  }

  /** The current figures of each card. */
  sample(_nowMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { card, dir } of this.cards) {
      const read = (f: string): number | undefined => {
        const t = readText(`${dir}/${f}`)?.trim();
        // Number('') is 0: an empty or missing file is no figure, not a zero.
        const v = t ? Number(t) : NaN;
        return Number.isFinite(v) ? v : undefined;
      };
      const put = (k: string, v: number | undefined) => {
        if (v !== undefined) out[`gpu.amd.${card}.${k}`] = v;
      };
      put('busy_pct', read('gpu_busy_percent'));
      put('mem_busy_pct', read('mem_busy_percent'));
      const used = read('mem_info_vram_used');
      const total = read('mem_info_vram_total');
      put('vram_used_mb', used === undefined ? undefined : used / MB);
      put('vram_total_mb', total === undefined ? undefined : total / MB);
    }
    return out;
  }
}
