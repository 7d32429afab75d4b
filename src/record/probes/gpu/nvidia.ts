/** NVIDIA GPUs through nvidia-smi: the parsers of its --query-gpu CSV and dmon output, and the probe that runs both. */
import { monoMs } from '../../../base/clock.ts';
import type { Probe } from '../../probe.ts';
import { freshValues, lineSplitter, Streamer, which, type Fresh, type ToolProbeOptions } from './common.ts';

/** A value of nvidia-smi's CSV, or undefined for the bracketed states it prints instead of a number ("[N/A]", "[Not Supported]", "[Unknown Error]", ...). */
function csvNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '' || t.startsWith('[') || t === 'N/A') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** The --query-gpu fields the probe asks for, in the order parseNvidiaSmiCsv expects them. */
export const NVIDIA_QUERY_FIELDS = ['index', 'name', 'utilization.gpu', 'utilization.memory', 'memory.used', 'memory.total', 'encoder.stats.sessionCount', 'encoder.stats.averageFps', 'temperature.gpu', 'power.draw', 'clocks.sm'] as const;

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
    const name = parts
      .slice(1, 2 + extra)
      .join(',')
      .trim();
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
