// Fitting a formula to one metric: candidate forms, the one chosen by grouped k-fold
// cross-validation, then a least-squares fit with t intervals, and predictions from the result.
//
// A log form fits log(y): exp of its prediction is the median of y at a setting (and its
// geometric mean), not its mean, which is larger by the spread. Predictions, fitted values and
// the cross-validated errors give the mean: exp(prediction) x Duan's smearing factor, the mean of
// exp(residual) over the runs fitted (Duan 1983; no normality assumed).
import { InputError } from '../base/errors.ts';
import { linearPredictor, meanOfLinear, type ModelFormula } from '../config/saved-model.ts';
import { checkDataset, groupPoints, levelsOf, userName, type Dataset, type ParamInfo, type ParamRole, type Row } from './dataset.ts';
import { ols } from './ols.ts';
import { seededRandom, shuffle, tQuantile } from './stats.ts';
import { designMatrix, INTERCEPT, paramsOfAtom, quantity, rangeOf, term, type Atom, type PhysicsFrom, type TermSpec } from '../config/model-terms.ts';

/** The candidate forms, simplest first. */
export const FORMS = ['linear', 'log-linear', 'physics', 'physics-log', 'linear+pairs', 'log-linear+pairs', 'physics-log+pairs'] as const;
export type FormName = (typeof FORMS)[number];

/** Options of fit. */
export interface FitOptions {
  /** A categorical parameter: one model per level of it. */
  by?: string;
  /** The forms to try (default: every form the data allow). */
  forms?: FormName[];
  /** Folds of the cross-validation (default 5; at most the number of points). */
  k?: number;
  /** Seed of the fold assignment. */
  seed?: number;
  /** Which parameter plays a part of the physics forms where several could (--pixels-from, --fps-from, --bitrate-from). */
  physics?: PhysicsChoice;
}

/** The parameters asked to play the parts of the physics forms, as the user names them. */
export interface PhysicsChoice {
  pixels?: string;
  fps?: string;
  bitrate?: string;
}

/** The parameters the physics quantities were computed from, as the user names them (pixel rate = pixels x fps; bits per pixel = bitrate / pixel rate). */
export interface PhysicsUsed {
  pixels: string;
  fps: string;
  bitrate?: string;
}

/** A fitted coefficient with its standard error and 95 % interval. */
export interface Term {
  name: string;
  coef: number;
  se: number;
  ci: [number, number];
}

/** A point's measured mean against the model's fitted value. */
export interface PointResidual {
  key: string;
  params: Record<string, number | string>;
  n: number;
  y: number;
  fitted: number;
  residual: number;
}

/** Everything predict needs, as plain JSON: the formula evaluated (saved-model.ts) and what its intervals need. */
export interface Model extends ModelFormula {
  /** Covariance of the coefficients. */
  cov: number[][];
  sigma2: number;
  df: number;
}

/** Cross-validated errors, on the metric's own scale. */
export interface CvScore {
  mape: number;
  rmse: number;
}

/** The result of fit without `by` (the stable shape is metric, formula, terms, r2, n, cv, warnings). */
export interface FitResult {
  metric: string;
  formula: string;
  terms: Term[];
  r2: number;
  n: number;
  cv: CvScore;
  warnings: string[];
  form: FormName;
  points: number;
  condition: number;
  candidates: { form: FormName; p: number; cv: CvScore }[];
  residuals: PointResidual[];
  /** The parameters the physics forms (when they were candidates) computed their quantities from. */
  physics?: PhysicsUsed;
  model: Model;
}

/** The result of fit with `by`: one fit per level. */
export interface FitByResult {
  metric: string;
  by: string;
  levels: ({ level: string } & FitResult)[];
}

/** Above this, a numeric parameter is nearly determined by the others in the design. */
export const VIF_LIMIT = 10;
/** Distinct points wanted beyond the number of terms. */
export const POINT_MARGIN = 5;

interface Form {
  yLog: boolean;
  terms: TermSpec[];
}

/** Parameters that vary in these runs: numeric with two values or more, categorical with two levels or more. */
function activeParams(params: readonly ParamInfo[], rows: readonly Row[]): ParamInfo[] {
  return params.filter((p) => new Set(rows.map((r) => String(r.params[p.name]))).size > 1);
}

/** The physics quantities' sources these runs allow, which parameters they are, and what could not be decided. */
export interface Physics {
  /** Absent: no physics form (no frame size or no frame rate, or one of them ambiguous). */
  from?: PhysicsFrom;
  used?: PhysicsUsed;
  /** Dataset names of the parameters the quantities consume (they enter no other term). */
  consumed: string[];
  warnings: string[];
}

interface Source {
  /** The user's name. */
  name: string;
  /** Dataset names by part. */
  parts: Partial<Record<ParamRole, string>>;
}

/**
 * Which parameters the physics forms read, from the declarations (ParamInfo.role): a frame size
 * (a pixel count, or a width and a height), a frame rate (unit fps), a bitrate (type bitrate).
 * Where several parameters could play one part, the one the user asked for (`choice`); else the
 * one that varies; several that vary are not guessed between: the warning asks.
 */
export function physicsOf(params: readonly ParamInfo[], rows: readonly Row[], choice: PhysicsChoice = {}, where = 'fit'): Physics {
  const numeric = params.filter((p) => p.kind === 'numeric' && p.role !== undefined);
  const sources = (roles: readonly ParamRole[]): Source[] => {
    const by = new Map<string, Source>();
    for (const p of numeric) {
      if (!roles.includes(p.role!)) continue;
      const name = userName(p);
      const s = by.get(name) ?? { name, parts: {} };
      s.parts[p.role!] = p.name;
      by.set(name, s);
    }
    return [...by.values()];
  };
  const frames = sources(['pixels', 'width', 'height']).filter((s) => s.parts.pixels !== undefined || (s.parts.width !== undefined && s.parts.height !== undefined));
  const rates = sources(['fps']);
  const bitrates = sources(['bitrate']);
  const varies = (s: Source) => Object.values(s.parts).some((name) => new Set(rows.map((r) => r.params[name])).size > 1);
  const warnings: string[] = [];
  const pick = (cands: Source[], asked: string | undefined, flag: string, what: string, declared: string): Source | 'ambiguous' | undefined => {
    if (asked !== undefined) {
      const c = cands.find((x) => x.name === asked);
      if (!c) throw InputError.single(where, `${flag} ${asked}: not a ${what} of these runs (${what}s: ${cands.map((x) => x.name).join(', ') || `none; ${declared}`})`);
      return c;
    }
    if (cands.length <= 1) return cands[0];
    const varying = cands.filter(varies);
    if (varying.length === 1) return varying[0];
    if (varying.length === 0) return cands[0];
    return 'ambiguous';
  };
  const frame = pick(frames, choice.pixels, '--pixels-from', 'frame size', 'a parameter of type resolution is one');
  const rate = pick(rates, choice.fps, '--fps-from', 'frame rate', 'a number whose unit is fps is one');
  const bitrate = pick(bitrates, choice.bitrate, '--bitrate-from', 'bitrate', 'a parameter of type bitrate is one');
  const names = (cands: Source[]) =>
    cands
      .filter(varies)
      .map((x) => x.name)
      .join(' or ');
  if (frame === 'ambiguous') warnings.push(`physics forms not tried: the pixel rate could take its frame size from ${names(frames)}: --pixels-from NAME says which`);
  if (rate === 'ambiguous') warnings.push(`physics forms not tried: the pixel rate could take its frame rate from ${names(rates)}: --fps-from NAME says which`);
  if (frame === undefined || rate === undefined || frame === 'ambiguous' || rate === 'ambiguous') {
    for (const [asked, flag] of [
      [choice.pixels, '--pixels-from'],
      [choice.fps, '--fps-from'],
      [choice.bitrate, '--bitrate-from'],
    ] as const) {
      if (asked !== undefined && frame !== 'ambiguous' && rate !== 'ambiguous') {
        warnings.push(`${flag} ${asked}: no physics form, for want of ${frame === undefined ? 'a frame size (a parameter of type resolution)' : 'a frame rate (a number whose unit is fps)'}`);
      }
    }
    return { consumed: [], warnings };
  }
  if (bitrate === 'ambiguous') warnings.push(`bits per pixel not used: the bitrate could be ${names(bitrates)}: --bitrate-from NAME says which`);
  const rateName = rate.parts.fps!;
  const from: PhysicsFrom = {
    ...(frame.parts.pixels !== undefined ? { pixels: frame.parts.pixels } : { width: frame.parts.width!, height: frame.parts.height! }),
    fps: rateName,
    ...(bitrate !== undefined && bitrate !== 'ambiguous' ? { bitrate: bitrate.parts.bitrate! } : {}),
  };
  const used: PhysicsUsed = { pixels: frame.name, fps: rate.name, ...(from.bitrate !== undefined ? { bitrate: (bitrate as Source).name } : {}) };
  // A frame size's pixel count, width and height all belong to it: none of them enters another term.
  const consumed = [...Object.values(frame.parts), rateName, ...(from.bitrate !== undefined ? [from.bitrate] : [])] as string[];
  return { from, used, consumed, warnings };
}

/** The candidate forms these parameters and values allow (physics forms from `physics`, as physicsOf found them). */
export function candidateForms(params: readonly ParamInfo[], rows: readonly Row[], physics: Physics = physicsOf(params, rows)): Map<FormName, Form> {
  const active = activeParams(params, rows);
  const positive = (name: string) => rows.every((r) => (r.params[name] as number) > 0);
  const yPositive = rows.every((r) => r.y > 0);
  const columns = (p: ParamInfo, log: boolean): Atom[][] =>
    p.kind === 'numeric'
      ? [[{ kind: 'num', param: p.name, log: log && positive(p.name) }]]
      : levelsOf(rows, p.name)
          .slice(1)
          .map((level) => [{ kind: 'level', param: p.name, level }]);
  const mains = (ps: readonly ParamInfo[], log: boolean) => ps.map((p) => columns(p, log));
  const withPairs = (cols: Atom[][][]): Atom[][] => {
    const out = cols.flat();
    for (let a = 0; a < cols.length; a++) for (let b = a + 1; b < cols.length; b++) for (const x of cols[a]!) for (const y of cols[b]!) out.push([...x, ...y]);
    return out;
  };
  const form = (yLog: boolean, atoms: Atom[][]): Form => ({ yLog, terms: [INTERCEPT, ...atoms.map(term)] });

  const forms = new Map<FormName, Form>();
  forms.set('linear', form(false, mains(active, false).flat()));
  forms.set('linear+pairs', form(false, withPairs(mains(active, false))));
  if (yPositive) {
    forms.set('log-linear', form(true, mains(active, true).flat()));
    forms.set('log-linear+pairs', form(true, withPairs(mains(active, true))));
  }
  const from = physics.from;
  const pixelRate: Atom | undefined = from ? { kind: 'pixel_rate', from } : undefined;
  if (from && pixelRate && new Set(rows.map((r) => quantity(pixelRate, r.params))).size > 1) {
    const consumed = new Set(physics.consumed);
    const rest = active.filter((p) => !consumed.has(p.name));
    const br = from.bitrate;
    const bitrate = br !== undefined && active.some((p) => p.name === br);
    const cats = rest.filter((p) => p.kind === 'categorical');
    const logRate: Atom = { kind: 'pixel_rate', log: true, from };
    // CPU = Mpix x fps x coeff(content): each level of a category gets its own slope on pixel rate.
    // Bitrate enters twice: its own cost (entropy coding, sending) and per pixel (how hard the encoder works).
    const linear: Atom[][] = [[pixelRate], ...(bitrate ? [[{ kind: 'num', param: br } as Atom], [{ kind: 'bpp', from } as Atom]] : []), ...mains(rest, false).flat()];
    for (const c of cats) for (const [lv] of columns(c, false)) linear.push([lv!, pixelRate]);
    forms.set('physics', form(false, linear));
    if (yPositive) {
      const logBitrate = bitrate && positive(br);
      const logs: Atom[][] = [[logRate], ...(logBitrate ? [[{ kind: 'num', param: br, log: true } as Atom]] : []), ...mains(rest, true).flat()];
      forms.set('physics-log', form(true, logs));
      // A rate the content cannot fill saturates (an easy scene sends less than a high target asks):
      // on the log scale that bend is the product of log pixel rate and log bitrate, and each
      // category (codec, scene) bends it its own way.
      const logCols: Atom[][][] = [[[logRate]], ...(logBitrate ? [[[{ kind: 'num', param: br, log: true } as Atom]]] : []), ...mains(rest, true)];
      forms.set('physics-log+pairs', form(true, withPairs(logCols)));
    }
  }
  return forms;
}

/** A setting's values in the order of the parameters, for sorting runs by what they are, not by their keys or names. */
function compareSettings(params: readonly ParamInfo[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const p of params) {
      const x = a.params[p.name]!;
      const y = b.params[p.name]!;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      if (c !== 0) return c;
    }
    return a.key < b.key ? -1 : a.key > b.key ? 1 : a.rep - b.rep;
  };
}

/**
 * Fold of each run: points are taken in the order of their settings (rows come sorted by
 * compareSettings), shuffled with the seed and dealt round-robin, so a point's repetitions share a
 * fold and the folds depend on the values measured, not on the names of the parameters or keys.
 */
function foldsOf(rows: readonly Row[], k: number, seed: number): number[] {
  const keys = shuffle([...new Set(rows.map((r) => r.key))], seededRandom(seed));
  const fold = new Map(keys.map((key, i) => [key, i % k]));
  return rows.map((r) => fold.get(r.key)!);
}

/** Duan's smearing factor: the mean of exp(residual) of a fit on the log scale. */
export function smearing(residuals: readonly number[]): number {
  if (residuals.length === 0) return 1;
  let s = 0;
  for (const r of residuals) s += Math.exp(r);
  return s / residuals.length;
}

function predictRow(x: readonly number[], kept: readonly number[], coef: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < kept.length; k++) s += coef[k]! * x[kept[k]!]!;
  return s;
}

interface CvRun extends CvScore {
  /** Standard error of the cross-validated mean squared error, from the spread of its per-point values. */
  mseSe: number;
}

function crossValidate(X: number[][], rows: readonly Row[], yLog: boolean, folds: number[], k: number): CvRun {
  let ape = 0;
  let nApe = 0;
  const perPoint = new Map<string, { se: number; n: number }>();
  for (let f = 0; f < k; f++) {
    const train = rows.flatMap((_, i) => (folds[i] === f ? [] : [i]));
    const fit = ols(
      train.map((i) => X[i]!),
      train.map((i) => (yLog ? Math.log(rows[i]!.y) : rows[i]!.y)),
    );
    // A log form predicts the mean as a fit on all runs does: exp(prediction) x the training fold's smearing factor.
    const smear = yLog ? smearing(fit.residuals) : 1;
    rows.forEach((r, i) => {
      if (folds[i] !== f) return;
      const lin = predictRow(X[i]!, fit.kept, fit.coef);
      const e = (yLog ? Math.exp(lin) * smear : lin) - r.y;
      const acc = perPoint.get(r.key) ?? { se: 0, n: 0 };
      acc.se += e * e;
      acc.n++;
      perPoint.set(r.key, acc);
      if (r.y !== 0) {
        ape += Math.abs(e / r.y);
        nApe++;
      }
    });
  }
  const total = [...perPoint.values()].reduce((s, a) => s + a.se, 0);
  const mse = total / rows.length;
  // Runs of one point share their fold, so the point (not the run) is the unit of the spread.
  const pointMse = [...perPoint.values()].map((a) => a.se / a.n);
  const m = pointMse.reduce((s, v) => s + v, 0) / pointMse.length;
  const sd = Math.sqrt(pointMse.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(pointMse.length - 1, 1));
  return { rmse: Math.sqrt(mse), mape: nApe > 0 ? ape / nApe : NaN, mseSe: sd / Math.sqrt(pointMse.length) };
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}

function formulaText(metric: string, yLog: boolean, terms: readonly Term[]): string {
  const parts = terms.map((t, i) => {
    const mag = fmt(Math.abs(t.coef));
    const body = t.name === INTERCEPT.name ? mag : `${mag}*${t.name}`;
    return i === 0 ? (t.coef < 0 ? `-${body}` : body) : `${t.coef < 0 ? '-' : '+'} ${body}`;
  });
  return `${yLog ? `log(${metric})` : metric} = ${parts.join(' ') || '0'}`;
}

/** Numeric parameters nearly determined by the others (variance inflation over VIF_LIMIT in the main-effects design). */
function collinearity(active: readonly ParamInfo[], rows: readonly Row[]): string[] {
  const numeric = active.filter((p) => p.kind === 'numeric');
  if (numeric.length === 0 || active.length < 2) return [];
  const others = (skip: string): TermSpec[] => [
    INTERCEPT,
    ...active
      .filter((p) => p.name !== skip)
      .flatMap((p) =>
        p.kind === 'numeric'
          ? [term([{ kind: 'num', param: p.name }])]
          : levelsOf(rows, p.name)
              .slice(1)
              .map((level) => term([{ kind: 'level', param: p.name, level }])),
      ),
  ];
  const out: string[] = [];
  for (const p of numeric) {
    const r2 = ols(
      designMatrix(others(p.name), rows),
      rows.map((r) => r.params[p.name] as number),
    ).r2;
    const vif = 1 / (1 - r2);
    if (vif > VIF_LIMIT) out.push(`collinearity: ${p.name} is nearly determined by the other parameters in this design (VIF ${Number.isFinite(vif) ? fmt(vif) : 'infinite'} > ${VIF_LIMIT}): its own effect is uncertain`);
  }
  return out;
}

/** Fits one metric: without `by` one model, with `by` one per level of that parameter. */
export function fit(ds: Dataset, opts: FitOptions & { by: string }): FitByResult;
export function fit(ds: Dataset, opts?: FitOptions): FitResult;
export function fit(ds: Dataset, opts: FitOptions = {}): FitResult | FitByResult {
  const metric = ds.metric ?? 'y';
  const { rows, dropped } = checkDataset(ds);
  if (opts.by === undefined) return fitRows(metric, ds.params, rows, opts, dropped, ds.source);
  const by = opts.by;
  if (!ds.params.some((p) => p.name === by)) {
    throw InputError.single(ds.source ?? `metric ${metric}`, `--by ${by}: no such parameter`, `parameters: ${ds.params.map((p) => p.name).join(', ')}`);
  }
  const params = ds.params.filter((p) => p.name !== by);
  return {
    metric,
    by,
    levels: levelsOf(rows, by).map((level) => ({
      level,
      ...fitRows(
        metric,
        params,
        rows.filter((r) => String(r.params[by]) === level),
        opts,
        0,
        ds.source,
      ),
    })),
  };
}

function fitRows(metric: string, params: readonly ParamInfo[], given: Row[], opts: FitOptions, dropped: number, source: string | undefined): FitResult {
  const where = source ?? `metric ${metric}`;
  if (given.length < 2) throw InputError.single(where, `${metric}: ${given.length} run(s) with a value: a model needs at least 2`);
  const warnings: string[] = [];
  if (dropped > 0) warnings.push(`${dropped} run(s) without a value of ${metric} left out`);
  // In the order of their settings: the same runs under other names (or keys) give the same model, to the last digit.
  const rows = [...given].sort(compareSettings(params));
  const points = groupPoints(rows);
  const physics = physicsOf(params, rows, opts.physics, where);
  warnings.push(...physics.warnings);
  const all = candidateForms(params, rows, physics);
  const wanted = opts.forms ?? [...FORMS];
  for (const f of wanted) if (!FORMS.includes(f)) throw InputError.single(where, `unknown form "${f}"`, `forms: ${FORMS.join(', ')}`);
  let forms = wanted.filter((f) => all.has(f));
  if (forms.length === 0) throw InputError.single(where, `none of the forms ${wanted.join(', ')} applies to these runs (log forms need a positive metric, physics forms a frame size and a frame rate: a parameter of type resolution and a number whose unit is fps)`);
  const eligible = forms.filter((f) => all.get(f)!.terms.length + 2 <= points.length);
  forms = eligible.length > 0 ? eligible : [forms[0]!];

  const k = Math.min(opts.k ?? 5, points.length);
  const folds = foldsOf(rows, Math.max(k, 1), opts.seed ?? 1);
  const candidates = forms.map((form) => {
    const spec = all.get(form)!;
    const X = designMatrix(spec.terms, rows);
    const cv = k >= 2 ? crossValidate(X, rows, spec.yLog, folds, k) : { mape: NaN, rmse: NaN, mseSe: NaN };
    return { form, p: spec.terms.length, cv: { mape: cv.mape, rmse: cv.rmse }, mseSe: cv.mseSe, X };
  });
  if (k < 2) warnings.push(`too few points for cross-validation (${points.length}): the form was not chosen by it`);
  // The one-standard-error rule (Hastie, Tibshirani & Friedman 7.10): the form with the fewest terms
  // whose cross-validated MSE is within one standard error of the lowest, so that noise does not
  // buy interaction terms that a fresh set would not confirm.
  const lowest = candidates.reduce((a, b) => (b.cv.rmse < a.cv.rmse ? b : a));
  const bar = lowest.cv.rmse ** 2 + (Number.isFinite(lowest.mseSe) ? lowest.mseSe : 0);
  const best = Number.isFinite(lowest.cv.rmse) ? candidates.filter((c) => c.cv.rmse ** 2 <= bar).reduce((a, b) => (b.p < a.p ? b : a)) : candidates[0]!;
  const spec = all.get(best.form)!;

  const y = rows.map((r) => (spec.yLog ? Math.log(r.y) : r.y));
  const res = ols(best.X, y);
  const terms = res.kept.map((j) => spec.terms[j]!);
  if (res.aliased.length > 0) {
    const names = res.aliased.map((j) => spec.terms[j]!.name);
    warnings.push(`rank deficiency: ${names.join(', ')} cannot be told apart from the other terms in this design and ${names.length === 1 ? 'was' : 'were'} left out`);
  }
  if (points.length < terms.length + POINT_MARGIN) {
    warnings.push(`too few points: ${points.length} distinct points for ${terms.length} terms (want at least ${terms.length + POINT_MARGIN}): intervals are wide and the choice of form is weak`);
  }
  if (!(res.df > 0)) warnings.push('no residual degrees of freedom: no intervals');
  const active = activeParams(params, rows);
  warnings.push(...collinearity(active, rows));

  const tq = tQuantile(0.975, res.df);
  const fitted = terms.length > 0 ? res.fitted : rows.map(() => 0);
  const outTerms: Term[] = terms.map((t, i) => ({ name: t.name, coef: res.coef[i]!, se: res.se[i]!, ci: [res.coef[i]! - tq * res.se[i]!, res.coef[i]! + tq * res.se[i]!] }));

  // The point's fitted mean: on the log scale exp(fitted) is its median, the smearing factor makes it the mean measured beside it.
  const smear = spec.yLog ? smearing(res.residuals) : 1;
  const fittedByKey = new Map<string, number>();
  rows.forEach((r, i) => fittedByKey.set(r.key, spec.yLog ? Math.exp(fitted[i]!) * smear : fitted[i]!));
  const residuals = points.map((p) => {
    const yMean = p.ys.reduce((s, v) => s + v, 0) / p.ys.length;
    const f = fittedByKey.get(p.key)!;
    return { key: p.key, params: p.params, n: p.ys.length, y: yMean, fitted: f, residual: yMean - f };
  });

  const used = new Set(terms.flatMap((t) => t.atoms.flatMap((a) => paramsOfAtom(a))));
  const modelParams = params.filter((p) => used.has(p.name));
  const ranges: Record<string, [number, number]> = {};
  const levels: Record<string, string[]> = {};
  for (const p of modelParams) {
    if (p.kind === 'numeric') ranges[p.name] = rangeOf(rows, (ps) => ps[p.name] as number);
    else levels[p.name] = levelsOf(rows, p.name);
  }
  // What did not vary: one value each, the only one the model knows.
  const fixed = params.filter((p) => !used.has(p.name) && !active.some((a) => a.name === p.name)).map((p) => ({ name: p.name, ...(p.of !== undefined ? { of: p.of } : {}), value: rows[0]!.params[p.name]! }));
  const physicsUsed = physics.used && [...all.keys()].some((f) => f.startsWith('physics')) ? physics.used : undefined;
  for (const t of terms) for (const a of t.atoms) if (a.kind === 'pixel_rate' || a.kind === 'bpp') ranges[a.kind === 'bpp' ? 'bits_per_pixel' : 'pixel_rate'] = rangeOf(rows, (ps) => quantity(a, ps));

  return {
    metric,
    formula: formulaText(metric, spec.yLog, outTerms),
    terms: outTerms,
    r2: res.r2,
    n: rows.length,
    cv: best.cv,
    warnings,
    form: best.form,
    points: points.length,
    condition: res.condition,
    candidates: candidates.map(({ form, p, cv }) => ({ form, p, cv })),
    residuals,
    ...(physicsUsed ? { physics: physicsUsed } : {}),
    model: { yLog: spec.yLog, ...(spec.yLog ? { smear } : {}), terms, coef: res.coef, cov: res.cov, sigma2: res.sigma2, df: res.df, params: modelParams, ranges, levels, fixed },
  };
}

/** A number of a prediction (a parameter or a physics quantity) outside the range the model was fitted on: an extrapolation. */
export interface Outside {
  /** The model's name of it (`size.pixels`, `pixel_rate`). */
  param: string;
  value: number;
  /** The fitted range (one value for a parameter that did not vary). */
  range: [number, number];
  /** How far beyond the range, in its units: value - top above it (positive), value - bottom below it (negative). */
  distance: number;
  /** The distance relative to the end of the range it is beyond (absent where that end is 0). */
  relative?: number;
}

function outsideOf(param: string, value: number, range: [number, number], slack = 0): Outside | undefined {
  const [lo, hi] = range;
  if (value >= lo * (1 - slack) && value <= hi * (1 + slack)) return undefined;
  const end = value > hi ? hi : lo;
  const distance = value - end;
  return { param, value, range, distance, ...(end !== 0 ? { relative: distance / Math.abs(end) } : {}) };
}

/** The refusal of a category no run had: one line, with the levels that exist. */
function unseen(metric: string, name: string, value: string, levels: readonly string[]): InputError {
  return InputError.single(`model of ${metric}`, `${name}=${value}: no run had it, so the model has no estimate for it (measured: ${levels.join(', ')})`);
}

/** A predicted value with the 95 % interval of the mean and the 95 % prediction interval of one run. */
export interface Prediction {
  metric: string;
  /** The mean of a run at the setting (`estimate` says which; a model saved before smearing was kept gives its median). */
  value: number;
  /** The 95 % interval of `value`. */
  ci: [number, number];
  /** The 95 % interval of one run. */
  pi: [number, number];
  /** What `value` is: the mean; or, from a log-form model saved without its smearing factor, the median (exp of the prediction). */
  estimate: 'mean' | 'median';
  /** A log-form model: the smearing factor that took exp(prediction), a median, to the mean (value and ci are multiplied by it; pi is not, being the run's own quantiles). */
  smearing?: number;
  outside: Outside[];
  /** The level of `by` whose model answered. */
  level?: string;
}

/** Predicts the metric at one setting; `outside` lists what lies beyond the fitted data (extrapolation). */
export function predict(result: FitResult | FitByResult, params: Record<string, number | string>): Prediction {
  if ('levels' in result) {
    const v = params[result.by];
    const at = result.levels.find((l) => l.level === String(v));
    if (!at) {
      if (v !== undefined)
        throw unseen(
          result.metric,
          result.by,
          String(v),
          result.levels.map((l) => l.level),
        );
      throw InputError.single(`model of ${result.metric}`, `no value for ${result.by}, which the model is split by`, `levels: ${result.levels.map((l) => l.level).join(', ')}`);
    }
    return { ...predict(at, params), level: at.level };
  }
  const m = result.model;
  const outside: Outside[] = [];
  for (const p of m.params) {
    const v = params[p.name];
    if (v === undefined) throw InputError.single(`model of ${result.metric}`, `no value for parameter "${p.name}", which the model uses`, `the model uses: ${m.params.map((q) => q.name).join(', ')}`);
    if (p.kind === 'numeric') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw InputError.single(`model of ${result.metric}`, `parameter "${p.name}" is ${JSON.stringify(v)}, not a number`);
      const o = outsideOf(p.name, v, m.ranges[p.name]!);
      if (o) outside.push(o);
    } else if (!m.levels[p.name]!.includes(String(v))) {
      // A level no run had has no coefficient: the baseline's value would come back under its name.
      throw unseen(result.metric, userName(p), String(v), m.levels[p.name]!);
    }
  }
  // A parameter that did not vary: another level is unknown, another number outside a range of one value.
  for (const f of m.fixed ?? []) {
    const v = params[f.name];
    if (v === undefined || v === f.value) continue;
    if (typeof f.value === 'number' && typeof v === 'number') outside.push(outsideOf(f.name, v, [f.value, f.value])!);
    else if (String(v) !== String(f.value)) throw unseen(result.metric, userName(f), String(v), [String(f.value)]);
  }
  // The physics quantities as the model's own atoms compute them (their parameters, pixels and fps).
  for (const t of m.terms) {
    for (const a of t.atoms) {
      if (a.kind !== 'pixel_rate' && a.kind !== 'bpp') continue;
      const name = a.kind === 'bpp' ? 'bits_per_pixel' : 'pixel_rate';
      const r = m.ranges[name];
      if (!r || outside.some((o) => o.param === name)) continue;
      const o = outsideOf(name, quantity(a, params), r, 1e-12);
      if (o) outside.push(o);
    }
  }
  const { x, lin } = linearPredictor(m, params);
  let q = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) q += x[i]! * m.cov[i]![j]! * x[j]!;
  const seMean = Math.sqrt(Math.max(q, 0));
  const sePred = Math.sqrt(m.sigma2 + seMean * seMean);
  const tq = tQuantile(0.975, m.df);
  const back = (v: number) => (m.yLog ? Math.exp(v) : v);
  // A log form: exp(prediction) and its interval are the median's; times the smearing factor, the mean's.
  const smear = m.yLog ? m.smear : 1;
  const mean = (v: number) => meanOfLinear(m, v);
  return {
    metric: result.metric,
    value: mean(lin),
    ci: [mean(lin - tq * seMean), mean(lin + tq * seMean)],
    pi: [back(lin - tq * sePred), back(lin + tq * sePred)],
    estimate: smear === undefined ? 'median' : 'mean',
    ...(m.yLog && smear !== undefined ? { smearing: smear } : {}),
    outside,
  };
}
