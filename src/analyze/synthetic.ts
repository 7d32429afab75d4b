// Synthetic result sets with a known formula, for the tests and bench/analyze.ts: a full matrix
// of the given values, each point repeated, the metric = formula + seeded normal noise.
import type { Dataset, ParamInfo } from './dataset.ts';
import { normalDraw, seededRandom } from './stats.ts';

/** What to generate: the values of each parameter, repetitions, the true formula and the noise. */
export interface SyntheticSpec {
  values: Record<string, (number | string)[]>;
  reps: number;
  formula: (p: Record<string, number | string>) => number;
  /** Standard deviation of the additive noise, or a function of the setting. */
  noise: number | ((p: Record<string, number | string>) => number);
  seed: number;
  metric?: string;
  /** Keep only the settings this accepts (a constrained design). */
  keep?: (p: Record<string, number | string>) => boolean;
  /** Noise that multiplies (log-normal, sigma on the log scale) instead of adding. */
  multiplicative?: boolean;
  /** What the declarations would say of a parameter: its part in the physics forms, the frame size it belongs to, its unit. */
  declare?: Record<string, Pick<ParamInfo, 'role' | 'of' | 'unit'>>;
}

/** Every combination of the values, in order. */
export function fullMatrix(values: Record<string, (number | string)[]>): Record<string, number | string>[] {
  let out: Record<string, number | string>[] = [{}];
  for (const [name, vs] of Object.entries(values)) out = out.flatMap((p) => vs.map((v) => ({ ...p, [name]: v })));
  return out;
}

/** A dataset drawn from the spec. */
export function synthetic(spec: SyntheticSpec): Dataset {
  const rand = seededRandom(spec.seed);
  const params: ParamInfo[] = Object.entries(spec.values).map(([name, vs]) => ({ name, kind: typeof vs[0] === 'number' ? 'numeric' : 'categorical', ...spec.declare?.[name] }));
  const points = fullMatrix(spec.values).filter((p) => spec.keep?.(p) ?? true);
  const rows = points.flatMap((p, i) =>
    Array.from({ length: spec.reps }, (_, rep) => {
      const sd = typeof spec.noise === 'number' ? spec.noise : spec.noise(p);
      const e = sd * normalDraw(rand);
      const f = spec.formula(p);
      return { key: `p${i}`, rep, params: p, y: spec.multiplicative ? f * Math.exp(e) : f + e };
    }),
  );
  return { params, rows, metric: spec.metric ?? 'y' };
}
