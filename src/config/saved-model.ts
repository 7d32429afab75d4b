/**
 * A model saved by `streambench model fit` (SET/models/<metric>.json) as far as evaluating it
 * needs: its shape checked where the JSON enters (the CLI reading a file, a benchmark naming one
 * in `policy_models`, the guest receiving one in its settings), and its value at a setting. It
 * lives in config, below analyze (which fits and saves models) and stream (whose `model` policy
 * steers the encoder by them), so both evaluate a model with one piece of code.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TermSpec } from './model-terms.ts';
import { termValue } from './model-terms.ts';

/**
 * The part a parameter can play in the physics forms, from its declaration (never its name): a
 * frame size's pixel count (or its width and height), a frame rate (a number whose unit is fps),
 * a bitrate (type bitrate).
 */
export type ParamRole = 'pixels' | 'width' | 'height' | 'fps' | 'bitrate';

/** A parameter as the models see it: numbers keep their order, categories are levels. */
export interface ParamInfo {
  name: string;
  kind: 'numeric' | 'categorical';
  unit?: string;
  /** The parameter as the user sets it, where this one is derived from it (`size` for `size.pixels`). */
  of?: string;
  /** What its declaration makes it in the physics forms (numeric parameters only). */
  role?: ParamRole;
}

/** What evaluating a fitted model needs: its terms and coefficients, and what it was fitted on. */
export interface ModelFormula {
  /** The metric's log was fitted (a log form). */
  yLog: boolean;
  /**
   * A log form: Duan's smearing factor, the mean of exp(residual) over the runs fitted, that
   * takes exp(prediction) (a median) to the mean. Absent in models saved before it was kept:
   * their predictions are medians, and say so.
   */
  smear?: number;
  terms: TermSpec[];
  coef: number[];
  params: ParamInfo[];
  /** Fitted ranges of the numeric parameters and of the physics quantities used. */
  ranges: Record<string, [number, number]>;
  /** Levels seen of each categorical parameter. */
  levels: Record<string, string[]>;
  /**
   * The parameters that did not vary in the runs fitted, with their one value: the model knows
   * nothing of another value (a category no run had is refused, another number is outside the
   * range). Absent in models saved before it was kept.
   */
  fixed?: { name: string; of?: string; value: number | string }[];
}

/** A saved fit: one model, or one per level of a category (`--by`). */
export type SavedFit = { metric: string; model: ModelFormula } | { metric: string; by: string; levels: { level: string; model: ModelFormula }[] };

/** A setting as a model reads it: its parameters by the names the model has (`bitrate` in bits/s, `resolution.pixels`, `codec`). */
export type ModelSetting = Record<string, number | string>;

/** A model's linear predictor at a setting: each term's value, and their sum weighted by the coefficients. */
export function linearPredictor(m: Pick<ModelFormula, 'terms' | 'coef'>, setting: ModelSetting): { x: number[]; lin: number } {
  const x = m.terms.map((t) => termValue(t, setting));
  return { x, lin: x.reduce((s, v, i) => s + v * m.coef[i]!, 0) };
}

/** The mean of a run from the linear predictor: a log form's exp times its smearing factor (a median where it has none). */
export function meanOfLinear(m: Pick<ModelFormula, 'yLog' | 'smear'>, lin: number): number {
  return m.yLog ? Math.exp(lin) * (m.smear ?? 1) : lin;
}

/** The user's name of a model parameter: its `of`; a model saved before `of` was kept names `resolution.pixels` for `resolution`. */
export function userName(p: Pick<ParamInfo, 'name' | 'of'>): string {
  if (p.of !== undefined) return p.of;
  return /^resolution\.(pixels|width|height)$/.test(p.name) ? 'resolution' : p.name;
}

/**
 * The formula that answers a setting: the fit's own, or that of the setting's level of `by`.
 * Throws saying what is missing or unknown (a category no run had has no coefficient: the
 * baseline's value would come back under its name).
 */
export function formulaFor(f: SavedFit, setting: ModelSetting): ModelFormula {
  let m: ModelFormula;
  if ('levels' in f) {
    const v = setting[f.by];
    const at = f.levels.find((l) => l.level === String(v));
    if (!at) throw new Error(v === undefined ? `the model of ${f.metric} is split by ${f.by}, which the setting does not give` : `${f.by}=${String(v)}: no run had it, so the model of ${f.metric} has no estimate for it (measured: ${f.levels.map((l) => l.level).join(', ')})`);
    m = at.model;
  } else m = f.model;
  for (const p of m.params) {
    const v = setting[p.name];
    if (v === undefined) throw new Error(`the model of ${f.metric} needs a value of ${userName(p)}`);
    if (p.kind === 'numeric' && (typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`the model of ${f.metric}: ${p.name} is ${JSON.stringify(v)}, not a number`);
    if (p.kind === 'categorical' && !(m.levels[p.name] ?? []).includes(String(v))) throw new Error(`${userName(p)}=${String(v)}: no run had it, so the model of ${f.metric} has no estimate for it (measured: ${(m.levels[p.name] ?? []).join(', ')})`);
  }
  for (const x of m.fixed ?? []) {
    const v = setting[x.name];
    if (typeof x.value === 'string' && v !== undefined && String(v) !== x.value) throw new Error(`${userName(x)}=${String(v)}: no run had it, so the model of ${f.metric} has no estimate for it (measured: ${x.value})`);
  }
  return m;
}

/** The predicted mean of the saved fit's metric at a setting (no intervals: analyze's predict gives those). */
export function evaluateFit(f: SavedFit, setting: ModelSetting): number {
  const m = formulaFor(f, setting);
  return meanOfLinear(m, linearPredictor(m, setting).lin);
}

/** The numbers of a setting the model reads that lie outside the ranges it was fitted on (an extrapolation), by name. */
export function outsideRanges(f: SavedFit, setting: ModelSetting): string[] {
  const m = formulaFor(f, setting);
  const out: string[] = [];
  for (const p of m.params) {
    const r = m.ranges[p.name];
    const v = setting[p.name];
    if (p.kind === 'numeric' && r && typeof v === 'number' && (v < r[0] * (1 - 1e-9) || v > r[1] * (1 + 1e-9))) out.push(userName(p));
  }
  return out;
}

const ATOM_KINDS = ['num', 'level', 'pixel_rate', 'bpp'];

/**
 * Checks that a parsed JSON value is a saved model this version evaluates; throws an Error naming
 * the field that is wrong (`fit.model.coef[2] is "x", not a number`).
 */
export function checkSavedModel(v: unknown): { format: 1; fit: SavedFit } {
  const fail = (where: string, what: string): never => {
    throw new Error(`${where} ${what}`);
  };
  const obj = (x: unknown, where: string): Record<string, unknown> => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : fail(where, `is ${JSON.stringify(x)}, not an object`));
  const arr = (x: unknown, where: string): unknown[] => (Array.isArray(x) ? x : fail(where, `is ${JSON.stringify(x)}, not a list`));
  const num = (x: unknown, where: string): number => (typeof x === 'number' && Number.isFinite(x) ? x : fail(where, `is ${JSON.stringify(x)}, not a number`));
  const str = (x: unknown, where: string): string => (typeof x === 'string' ? x : fail(where, `is ${JSON.stringify(x)}, not text`));
  const top = obj(v, 'the file');
  if (top['format'] !== 1) fail('format', `is ${JSON.stringify(top['format'])}: not a saved model of this version (format 1)`);
  const fit = obj(top['fit'], 'fit');
  const metric = str(fit['metric'], 'fit.metric');
  const formula = (x: unknown, where: string): ModelFormula => {
    const m = obj(x, where);
    if (typeof m['yLog'] !== 'boolean') fail(`${where}.yLog`, `is ${JSON.stringify(m['yLog'])}, not true or false`);
    if (m['smear'] !== undefined) num(m['smear'], `${where}.smear`);
    const terms = arr(m['terms'], `${where}.terms`);
    const coef = arr(m['coef'], `${where}.coef`);
    if (coef.length !== terms.length) fail(`${where}.coef`, `has ${coef.length} coefficients for ${terms.length} terms`);
    coef.forEach((c, i) => num(c, `${where}.coef[${i}]`));
    terms.forEach((t, i) => {
      const at = `${where}.terms[${i}]`;
      str(obj(t, at)['name'], `${at}.name`);
      arr((t as Record<string, unknown>)['atoms'], `${at}.atoms`).forEach((a, j) => {
        const atom = obj(a, `${at}.atoms[${j}]`);
        if (!ATOM_KINDS.includes(atom['kind'] as string)) fail(`${at}.atoms[${j}].kind`, `is ${JSON.stringify(atom['kind'])}, not one of ${ATOM_KINDS.join(', ')}`);
        if (atom['kind'] === 'num' || atom['kind'] === 'level') str(atom['param'], `${at}.atoms[${j}].param`);
        if (atom['kind'] === 'level') str(atom['level'], `${at}.atoms[${j}].level`);
      });
    });
    arr(m['params'], `${where}.params`).forEach((p, i) => {
      const po = obj(p, `${where}.params[${i}]`);
      str(po['name'], `${where}.params[${i}].name`);
      if (po['kind'] !== 'numeric' && po['kind'] !== 'categorical') fail(`${where}.params[${i}].kind`, `is ${JSON.stringify(po['kind'])}, not numeric or categorical`);
    });
    for (const [k, r] of Object.entries(obj(m['ranges'], `${where}.ranges`))) arr(r, `${where}.ranges.${k}`).forEach((x, i) => num(x, `${where}.ranges.${k}[${i}]`));
    for (const [k, l] of Object.entries(obj(m['levels'], `${where}.levels`))) arr(l, `${where}.levels.${k}`).forEach((x, i) => str(x, `${where}.levels.${k}[${i}]`));
    if (m['fixed'] !== undefined) arr(m['fixed'], `${where}.fixed`).forEach((x, i) => str(obj(x, `${where}.fixed[${i}]`)['name'], `${where}.fixed[${i}].name`));
    return m as unknown as ModelFormula;
  };
  if (fit['levels'] !== undefined) {
    const by = str(fit['by'], 'fit.by');
    const levels = arr(fit['levels'], 'fit.levels').map((l, i) => ({ level: str(obj(l, `fit.levels[${i}]`)['level'], `fit.levels[${i}].level`), model: formula((l as Record<string, unknown>)['model'], `fit.levels[${i}].model`) }));
    return { format: 1, fit: { metric, by, levels } };
  }
  return { format: 1, fit: { metric, model: formula(fit['model'], 'fit.model') } };
}

/** A saved model as it travels in a point's settings: the file's name, its text and the text's sha256 (hex). */
export interface ModelCode {
  name: string;
  source: string;
  sha256: string;
}

/** A model file read and checked; throws naming the file and what is wrong with it. */
export function loadModelFile(file: string): { code: ModelCode; fit: SavedFit } {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'the model file does not exist (streambench model fit SET --metric M saves SET/models/M.json)' : `the model file cannot be read (${code ?? 'error'})`}`);
  }
  const code = { name: file, source, sha256: createHash('sha256').update(source).digest('hex') };
  return { code, fit: modelFromCode(code) };
}

/** The fit of a model that came as text (a file's, or one carried in settings, whose hash is checked); throws naming it. */
export function modelFromCode(code: ModelCode): SavedFit {
  const actual = createHash('sha256').update(code.source).digest('hex');
  if (actual !== code.sha256) throw new Error(`${code.name}: its text hashes to ${actual}, not the ${code.sha256} it came with`);
  let v: unknown;
  try {
    v = JSON.parse(code.source);
  } catch {
    throw new Error(`${code.name}: not a saved model (not valid JSON); fit it again with streambench model fit`);
  }
  try {
    return checkSavedModel(v).fit;
  } catch (e) {
    throw new Error(`${code.name}: not a saved model this version reads: ${(e as Error).message}; fit it again with streambench model fit`);
  }
}
