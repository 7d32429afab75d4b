// The building blocks of a model's terms: a term is a product of atoms (a parameter, its log, one
// level of a category, or a physics quantity), so a fitted model is plain JSON that predict can
// evaluate on any setting without the data it was fitted on. Here in config, below analyze, so that
// the guest's `model` policy evaluates a saved model with the very code that fitted it.

/**
 * The parameters a physics quantity reads: the frame size (its pixel count, or its width and
 * height), the frame rate and the bitrate, each as the dataset names it. Which parameters they
 * are comes from the declarations (fit's physicsOf), never from a name.
 */
export interface PhysicsFrom {
  pixels?: string;
  width?: string;
  height?: string;
  fps: string;
  bitrate?: string;
}

/** One factor of a term. */
export type Atom =
  | { kind: 'num'; param: string; log?: boolean }
  | { kind: 'level'; param: string; level: string }
  /** width x height x fps, pixels per second. */
  | { kind: 'pixel_rate'; log?: boolean; from?: PhysicsFrom }
  /** bitrate / pixel rate. */
  | { kind: 'bpp'; log?: boolean; from?: PhysicsFrom };

/** A model term: the product of its atoms (none: the intercept). */
export interface TermSpec {
  name: string;
  atoms: Atom[];
}

/** The constant term. */
export const INTERCEPT: TermSpec = { name: '(intercept)', atoms: [] };

/**
 * What a physics atom saved before `from` was kept reads: the parameters the built-in pipeline
 * names `resolution`, `fps` and `bitrate`.
 */
export const PIXELS = 'resolution.pixels';
export const WIDTH = 'resolution.width';
export const HEIGHT = 'resolution.height';
export const FPS = 'fps';
export const BITRATE = 'bitrate';
const LEGACY: PhysicsFrom = { pixels: PIXELS, width: WIDTH, height: HEIGHT, fps: FPS, bitrate: BITRATE };

/** Pixels per frame: the frame size's pixel count where there is one, else its width x height. */
export function pixelsOf(params: Record<string, number | string>, from: PhysicsFrom = LEGACY): number {
  const px = from.pixels === undefined ? undefined : params[from.pixels];
  if (typeof px === 'number') return px;
  return Number(params[from.width ?? WIDTH]) * Number(params[from.height ?? HEIGHT]);
}

/** The raw value of a physics quantity or parameter, before any log. */
export function quantity(a: Atom, params: Record<string, number | string>): number {
  switch (a.kind) {
    case 'num':
      return Number(params[a.param]);
    case 'level':
      return String(params[a.param]) === a.level ? 1 : 0;
    case 'pixel_rate': {
      const from = a.from ?? LEGACY;
      return pixelsOf(params, from) * Number(params[from.fps]);
    }
    case 'bpp': {
      const from = a.from ?? LEGACY;
      return Number(params[from.bitrate ?? BITRATE]) / (pixelsOf(params, from) * Number(params[from.fps]));
    }
  }
}

/** An atom's value for one setting. */
export function atomValue(a: Atom, params: Record<string, number | string>): number {
  const v = quantity(a, params);
  return a.kind !== 'level' && a.log ? Math.log(v) : v;
}

/** A term's value for one setting. */
export function termValue(t: TermSpec, params: Record<string, number | string>): number {
  let v = 1;
  for (const a of t.atoms) v *= atomValue(a, params);
  return v;
}

/** How an atom reads in a formula. */
export function atomName(a: Atom): string {
  const base = a.kind === 'num' ? a.param : a.kind === 'level' ? `${a.param}=${a.level}` : a.kind === 'pixel_rate' ? 'pixel_rate' : 'bits_per_pixel';
  return a.kind !== 'level' && a.log ? `log(${base})` : base;
}

/** A term from its atoms, named `a*b` for a product. */
export function term(atoms: Atom[]): TermSpec {
  return { name: atoms.map(atomName).join('*'), atoms };
}

/** The parameters an atom reads. */
export function paramsOfAtom(a: Atom): string[] {
  if (a.kind === 'num' || a.kind === 'level') return [a.param];
  const from = a.from ?? LEGACY;
  const frame = from.pixels !== undefined ? [from.pixels] : [from.width ?? WIDTH, from.height ?? HEIGHT];
  return a.kind === 'pixel_rate' ? [...frame, from.fps] : [...frame, from.fps, from.bitrate ?? BITRATE];
}

/** The design matrix: one row per run, one column per term. */
export function designMatrix(terms: readonly TermSpec[], rows: readonly { params: Record<string, number | string> }[]): number[][] {
  return rows.map((r) => terms.map((t) => termValue(t, r.params)));
}

/** Min and max of a quantity over the runs. */
export function rangeOf(rows: readonly { params: Record<string, number | string> }[], f: (params: Record<string, number | string>) => number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    const v = f(r.params);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
