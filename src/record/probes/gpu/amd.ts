/** AMD GPUs: the amdgpu driver exposes its figures in sysfs, read directly (no tool, no child). */
import { join } from 'node:path';
import type { Probe } from '../../probe.ts';
import { listDir, MB, readText } from '../../procfs.ts';

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
    for (const card of listDir(drm)
      .filter((n) => /^card\d+$/.test(n))
      .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
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
