// The building blocks of a model's terms: a term is a product of atoms (a parameter, its log, one
// level of a category, or a physics quantity), so a fitted model is plain JSON that predict can
// evaluate on any setting without the data it was fitted on.
import type { ParamInfo, Row } from './dataset.ts';

/** One factor of a term. */
export type Atom =
  | { kind: 'num'; param: string; log?: boolean }
  | { kind: 'level'; param: string; level: string }
  /** width x height x fps, pixels per second. */
  | { kind: 'pixel_rate'; log?: boolean }
  /** bitrate / pixel rate. */
  | { kind: 'bpp'; log?: boolean };

/** A model term: the product of its atoms (none: the intercept). */
export interface TermSpec {
  name: string;
  atoms: Atom[];
}

/** The constant term. */
export const INTERCEPT: TermSpec = { name: '(intercept)', atoms: [] };

/** The parameters a physics quantity is computed from, when present. */
export const PIXELS = 'resolution.pixels';
export const WIDTH = 'resolution.width';
export const HEIGHT = 'resolution.height';
export const FPS = 'fps';
export const BITRATE = 'bitrate';

/** Pixels per frame from `resolution.pixels`, else `resolution.width` x `resolution.height`. */
export function pixelsOf(params: Record<string, number | string>): number {
  const px = params[PIXELS];
  if (typeof px === 'number') return px;
  return Number(params[WIDTH]) * Number(params[HEIGHT]);
}

/** Whether the parameters allow a pixel rate (pixels per frame and fps, all numeric). */
export function hasPixelRate(params: readonly ParamInfo[]): boolean {
  const numeric = new Set(params.filter((p) => p.kind === 'numeric').map((p) => p.name));
  return numeric.has(FPS) && (numeric.has(PIXELS) || (numeric.has(WIDTH) && numeric.has(HEIGHT)));
}

/** The raw value of a physics quantity or parameter, before any log. */
export function quantity(a: Atom, params: Record<string, number | string>): number {
  switch (a.kind) {
    case 'num':
      return Number(params[a.param]);
    case 'level':
      return String(params[a.param]) === a.level ? 1 : 0;
    case 'pixel_rate':
      return pixelsOf(params) * Number(params[FPS]);
    case 'bpp':
      return Number(params[BITRATE]) / (pixelsOf(params) * Number(params[FPS]));
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

/** The parameters a term reads. */
export function paramsOfAtom(a: Atom, pixelParams: readonly string[]): string[] {
  if (a.kind === 'num' || a.kind === 'level') return [a.param];
  return a.kind === 'pixel_rate' ? [...pixelParams, FPS] : [...pixelParams, FPS, BITRATE];
}

/** The names the pixel count is read from in these parameters. */
export function pixelParamsOf(params: readonly ParamInfo[]): string[] {
  return params.some((p) => p.name === PIXELS && p.kind === 'numeric') ? [PIXELS] : [WIDTH, HEIGHT];
}

/** The design matrix: one row per run, one column per term. */
export function designMatrix(terms: readonly TermSpec[], rows: readonly { params: Record<string, number | string> }[]): number[][] {
  return rows.map((r) => terms.map((t) => termValue(t, r.params)));
}

/** Min and max of a quantity over the runs. */
export function rangeOf(rows: readonly Row[], f: (params: Record<string, number | string>) => number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    const v = f(r.params);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
