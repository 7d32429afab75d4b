/** Intel GPUs through intel_gpu_top -J: an incremental reader of its JSON stream, its figures, and the probe that runs it. */
import { monoMs } from '../../../base/clock.ts';
import type { Probe } from '../../probe.ts';
import { freshValues, Streamer, which, type Fresh, type ToolProbeOptions } from './common.ts';

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
