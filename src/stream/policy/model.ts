/**
 * The `model` policy: the toolbox's own fitted models steering the stream. gcc's estimator gives
 * the bandwidth; among candidate settings (bitrates up to that estimate, frame rates, frame sizes
 * no larger than the configured one) it picks the one of highest predicted quality whose
 * predicted guest CPU is within `policy_cpu_budget`, by the models saved by `model fit` that
 * `policy_models` names. A change of frame size or rate costs a keyframe and looks like a jump, so
 * it moves to another only when that is predicted better by a margin (`hysteresis`) and not more
 * often than every `hold_ms`, or when the one it holds no longer fits.
 */
import { LIVE_RESOLUTION_MIN } from '../../config/stream-params.ts';
import { paramsOfAtom } from '../../config/model-terms.ts';
import { evaluateFit, formulaFor, outsideRanges, type ModelSetting, type SavedFit } from '../../config/saved-model.ts';
import { createGcc } from './gcc.ts';
import { numParam, type Decision, type Observation, type PolicyInit, type RatePolicy } from './policy.ts';

/** The models the policy decides by, and the stream's own setting as they read it. */
export interface ModelPolicyModels {
  /** The metric to maximise (e.g. client.psnr). */
  quality: SavedFit;
  /** The guest's CPU, percent of one core (e.g. guest.cpu_pct). */
  cpu: SavedFit;
  /** The stream's setting (modelSetting): the values of every parameter the policy does not change. */
  base: ModelSetting;
  /** The guest CPU the choice may take, percent of one core. */
  budgetPct: number;
}

/** What the policy changes. */
export interface Knobs {
  bitrateBps: number;
  fps: number;
  width: number;
  height: number;
}

/** A candidate with what the models predict of it. */
export interface Scored extends Knobs {
  quality: number;
  cpuPct: number;
  fits: boolean;
}

/** Scale factors of the configured frame size tried (its sides, rounded to even numbers). */
export const SIZE_SCALES = [1, 3 / 4, 1 / 2] as const;
/** Fractions of the configured frame rate tried. */
export const FPS_SCALES = [1, 2 / 3, 1 / 2] as const;

/** The stream's setting at these knobs, as the models read it (a frame size as its label, pixels, width and height). */
export function settingAt(base: ModelSetting, k: Knobs): ModelSetting {
  return { ...base, bitrate: k.bitrateBps, fps: k.fps, resolution: `${k.width}x${k.height}`, 'resolution.width': k.width, 'resolution.height': k.height, 'resolution.pixels': k.width * k.height };
}

/** Which of the knobs the models read at this setting: a knob neither reads stays as configured (the models know nothing of it). */
export function knobsRead(fits: readonly SavedFit[], base: ModelSetting): { bitrate: boolean; fps: boolean; size: boolean } {
  const read = new Set(fits.flatMap((f) => formulaFor(f, base).terms.flatMap((t) => t.atoms.flatMap(paramsOfAtom))));
  return { bitrate: read.has('bitrate'), fps: read.has('fps'), size: ['resolution', 'resolution.pixels', 'resolution.width', 'resolution.height'].some((n) => read.has(n)) };
}

/** The candidates: `steps` bitrates spaced evenly in log from min to the ceiling, the frame rates and the even frame sizes within the configured one. */
export function candidates(init: Pick<PolicyInit, 'fps' | 'width' | 'height'>, minBps: number, ceilingBps: number, steps: number, read: { bitrate: boolean; fps: boolean; size: boolean }, configuredBps: number): Knobs[] {
  const top = Math.max(minBps, ceilingBps);
  const bitrates = !read.bitrate ? [Math.min(top, configuredBps)] : steps <= 1 || top <= minBps ? [top] : Array.from({ length: steps }, (_, i) => Math.round(minBps * (top / minBps) ** (i / (steps - 1))));
  const fpss = read.fps ? [...new Set(FPS_SCALES.map((f) => Math.max(1, Math.round(init.fps * f))))] : [init.fps];
  const even = (x: number) => Math.max(2, 2 * Math.round(x / 2));
  const sizes = read.size
    ? [
        ...new Map(
          SIZE_SCALES.map((s) => [even(init.width * s), even(init.height * s)] as const)
            .filter(([w, h]) => w >= LIVE_RESOLUTION_MIN.width && h >= LIVE_RESOLUTION_MIN.height)
            .map(([w, h]) => [`${w}x${h}`, { w, h }]),
        ).values(),
      ]
    : [{ w: init.width, h: init.height }];
  return sizes.flatMap(({ w, h }) => fpss.flatMap((fps) => bitrates.map((bitrateBps) => ({ bitrateBps, fps, width: w, height: h }))));
}

/** Each candidate with its predicted quality and guest CPU; a candidate a model cannot answer (a level it never saw) is left out. */
export function score(m: ModelPolicyModels, cands: readonly Knobs[]): Scored[] {
  const out: Scored[] = [];
  for (const k of cands) {
    const at = settingAt(m.base, k);
    let quality: number;
    let cpuPct: number;
    try {
      quality = evaluateFit(m.quality, at);
      cpuPct = evaluateFit(m.cpu, at);
    } catch {
      continue;
    }
    if (Number.isFinite(quality) && Number.isFinite(cpuPct)) out.push({ ...k, quality, cpuPct, fits: cpuPct <= m.budgetPct });
  }
  return out;
}

/** The best of scored candidates: the highest predicted quality among those within the budget; none within: the one of least predicted CPU. */
export function best(scored: readonly Scored[]): Scored | undefined {
  const fitting = scored.filter((c) => c.fits);
  if (fitting.length > 0) return fitting.reduce((a, b) => (b.quality > a.quality || (b.quality === a.quality && b.bitrateBps < a.bitrateBps) ? b : a));
  return scored.reduce<Scored | undefined>((a, b) => (a === undefined || b.cpuPct < a.cpuPct ? b : a), undefined);
}

const GCC_PARAMS = ['min_bitrate', 'max_bitrate', 'beta', 'window', 'threshold_gain', 'window_ms', 'probe_interval_ms'];

/** Creates the model policy (parameters: gcc's, steps, hysteresis, hold_ms). */
export function createModelPolicy(init: PolicyInit, m: ModelPolicyModels): RatePolicy {
  const min = numParam(init.params, 'min_bitrate', 50_000);
  const max = numParam(init.params, 'max_bitrate', init.bitrateBps);
  const steps = Math.round(numParam(init.params, 'steps', 12));
  const hysteresis = numParam(init.params, 'hysteresis', 0.02);
  const holdMs = numParam(init.params, 'hold_ms', 2000);
  if (!(steps >= 1 && steps <= 100)) throw new Error(`model: steps ${steps} must be from 1 to 100`);
  if (!(hysteresis >= 0)) throw new Error(`model: hysteresis ${hysteresis} must be 0 or more (a fraction of the predicted quality)`);
  const gcc = createGcc({ ...init, params: Object.fromEntries(Object.entries(init.params).filter(([k]) => GCC_PARAMS.includes(k))) });
  const read = knobsRead([m.quality, m.cpu], m.base);
  let held: { fps: number; width: number; height: number } | undefined;
  let lastSwitch = -Infinity;
  const sameShape = (a: Knobs, b: { fps: number; width: number; height: number }) => a.fps === b.fps && a.width === b.width && a.height === b.height;
  return {
    decide(o: Observation): Decision {
      const g = gcc.decide(o)!;
      const estimate = Math.min(max, g.bitrate!);
      const scored = score(m, candidates(init, min, estimate, steps, read, init.bitrateBps));
      const top = best(scored);
      if (!top) throw new Error(`model: the models answer none of the ${scored.length} candidate settings`);
      let pick = top;
      if (held) {
        const mine = best(scored.filter((c) => sameShape(c, held!)));
        // Keep the frame size and rate held unless they no longer fit, or another is better by the margin and the hold has passed.
        const better = top.quality > (mine?.quality ?? -Infinity) + hysteresis * Math.abs(mine?.quality ?? 0);
        if (mine && (mine.fits || !top.fits) && !(better && o.nowMs - lastSwitch >= holdMs)) pick = mine;
      }
      if (!held || !sameShape(pick, held)) {
        if (held) lastSwitch = o.nowMs;
        held = { fps: pick.fps, width: pick.width, height: pick.height };
      }
      const at = settingAt(m.base, pick);
      const outside = [...new Set([...outsideRanges(m.quality, at), ...outsideRanges(m.cpu, at)])];
      const d: Decision = {
        bitrate: pick.bitrateBps,
        // gcc's transport decisions hold for whatever the models pick: its window and its probes.
        ...(g.window !== undefined ? { window: g.window } : {}),
        ...(g.probe ? { probe: g.probe } : {}),
        estimate: {
          bandwidth_bps: Math.round(estimate),
          gcc_state: String(g.estimate?.['state'] ?? ''),
          bitrate_bps: pick.bitrateBps,
          fps: pick.fps,
          resolution: `${pick.width}x${pick.height}`,
          quality: round(pick.quality),
          cpu_pct: round(pick.cpuPct),
          cpu_budget_pct: m.budgetPct,
          fits: pick.fits ? 1 : 0,
          candidates: scored.length,
          outside: outside.join(' '),
        },
      };
      if (pick.fps !== o.current.fps) d.fps = pick.fps;
      if (pick.width !== o.current.width || pick.height !== o.current.height) d.resolution = `${pick.width}x${pick.height}`;
      return d;
    },
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
