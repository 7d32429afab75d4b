// How much of a metric's variance each parameter and each pair of parameters explains, with the
// noise of repetitions kept apart.
//
// Method (well defined on full, sparse and constrained designs alike):
// - total SS = sum over runs of (y - mean)^2; noise = pure error, the spread of repetitions around
//   their point's mean (no model involved, so noise is never read as an effect). Without any
//   repetition it is the residual of the model below, which then also holds what "other" would.
// - every parameter is coded as a factor (treatment dummies), numbers with more than 12 values as
//   one linear column; the model is main effects + all pairwise products, fitted to the point means
//   weighted by their runs (the same fit as on the runs).
// - main effects: the exact Shapley decomposition of the SS of the main-effects model over the
//   parameters (2^m subset fits, m <= 12): on a constrained design two parameters that move
//   together share the SS they explain together, where type-II SS would give both nothing.
// - pairs: what the pairwise products add beyond all main effects (marginality: an interaction gets
//   only what the main effects cannot explain), split between the pairs in proportion to what each
//   adds to the main effects alone (its type-II SS on a balanced design), equally when all add nothing.
// - other: what the point means vary by beyond that (three-way and higher interactions, curvature
//   of a parameter kept linear). Shares are SS / total SS, so shares + noise = 1.
// - ci: percentile bootstrap over points (repetitions travel with their point), 1,000 resamples,
//   seeded, never widened: a share near 0 sits at a boundary where resampled points (duplicates fit
//   more easily) push the bootstrap distribution up, past the estimate itself. That is said (the
//   factor's `outside`, and a warning), not hidden by stretching the interval to hold the estimate.
// - p: an F test of the parameter (its main effect and every pair it is in) or pair, dropped from the
//   full model, against the pure-error mean square: a parameter with no effect gets p > 0.05 in 95 %
//   of sets. NaN without repetitions.
import { CholeskyDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { InputError } from '../base/errors.ts';
import { quantile } from '../base/quantile.ts';
import { checkDataset, groupPoints, type Dataset, type ParamInfo, type PointRuns } from './dataset.ts';
import { fUpperP, seededRandom } from './stats.ts';

/** Bootstrap resamples by default: enough for the 2.5 % and 97.5 % percentiles to be stable to about a percentage point of share. */
export const BOOTSTRAP = 1000;

/** Numeric parameters with more distinct values than this become one linear column instead of a factor. */
export const FACTOR_MAX_LEVELS = 12;
/** Exact Shapley values over at most this many parameters (2^m subset fits). */
export const MAX_PARAMS = 12;

/** Options of impact. */
export interface ImpactOptions {
  /** Bootstrap resamples for the intervals (0: none). Default BOOTSTRAP (1,000). */
  bootstrap?: number;
  seed?: number;
}

/** One parameter's or pair's share of the metric's variance. */
export interface Factor {
  /** A parameter, a pair `a*b`, or `other`. */
  name: string;
  share: number;
  /** The 95 % percentile bootstrap interval (never widened to hold the share). */
  ci: [number, number];
  /** The share lies outside its own interval: the bootstrap is biased there (a share near 0), read the interval with care. */
  outside: boolean;
  /** F test against the pure error (NaN for `other` or without repetitions). */
  p: number;
}

/** The stable shape: metric, factors [{name, share, ci}], noise {share}. */
export interface ImpactResult {
  metric: string;
  factors: Factor[];
  noise: { share: number; ci: [number, number]; outside: boolean; df: number };
  n: number;
  points: number;
  warnings: string[];
}

interface Coded {
  names: string[];
  /** Per parameter, its columns (values per point). */
  mains: number[][][];
  /** Per pair [a, b], its columns. */
  pairs: { a: number; b: number; cols: number[][] }[];
  /** Per point, its non-zero columns and their values; p columns in all. */
  nzCols: Int32Array[];
  nzVals: Float64Array[];
  p: number;
  mainIdx: number[][];
  pairIdx: number[][];
}

function code(params: readonly ParamInfo[], points: readonly PointRuns[]): Coded {
  const active = params.filter((p) => new Set(points.map((pt) => String(pt.params[p.name]))).size > 1);
  const mains = active.map((p) => {
    const values = points.map((pt) => pt.params[p.name]!);
    const distinct = [...new Set(values.map(String))];
    if (p.kind === 'numeric' && distinct.length > FACTOR_MAX_LEVELS) {
      const m = values.reduce<number>((s, v) => s + Number(v), 0) / values.length;
      return [values.map((v) => Number(v) - m)];
    }
    const levels =
      p.kind === 'numeric'
        ? distinct
            .map(Number)
            .sort((x, y) => x - y)
            .map(String)
        : distinct.sort();
    return levels.slice(1).map((lv) => values.map((v) => (String(v) === lv ? 1 : 0)));
  });
  const pairs: Coded['pairs'] = [];
  for (let a = 0; a < mains.length; a++) {
    for (let b = a + 1; b < mains.length; b++) {
      const cols = mains[a]!.flatMap((x) => mains[b]!.map((y) => x.map((v, i) => v * y[i]!)));
      pairs.push({ a, b, cols });
    }
  }
  const cols: number[][] = [];
  const mainIdx = mains.map((m) => m.map((c) => cols.push(c) - 1));
  const pairIdx = pairs.map((pr) => pr.cols.map((c) => cols.push(c) - 1));
  const nzCols = points.map((_, i) => Int32Array.from(cols.flatMap((col, j) => (col[i] !== 0 ? [j] : []))));
  const nzVals = nzCols.map((nz, i) => Float64Array.from(nz, (j) => cols[j]![i]!));
  return { names: active.map((p) => p.name), mains, pairs, nzCols, nzVals, p: cols.length, mainIdx, pairIdx };
}

/**
 * Weighted, centred cross-products of all columns and of the point means: SS of any column subset
 * follows. One Gram serves every resample of a bootstrap (load() refills it in place), so that the
 * thousands of small fits allocate nothing. Exported for its test.
 */
export class Gram {
  readonly G: Float64Array;
  readonly c: Float64Array;
  readonly p: number;
  private readonly S: Float64Array;
  private readonly sx: Float64Array;
  private readonly sxy: Float64Array;
  constructor(p: number) {
    this.p = p;
    this.G = new Float64Array(p * p);
    this.c = new Float64Array(p);
    this.S = new Float64Array(p * p);
    this.sx = new Float64Array(p);
    this.sxy = new Float64Array(p);
    this.L = new Float64Array(p * p);
    this.z = new Float64Array(p);
    this.zz = new Float64Array(p);
    this.rk = new Int32Array(p);
  }

  /** Fills the cross-products for point means ybar with weights w (runs x resample count). */
  load(coded: Pick<Coded, 'nzCols' | 'nzVals'>, ybar: Float64Array, w: Float64Array): this {
    const p = this.p;
    const { S, sx, sxy } = this;
    S.fill(0);
    sx.fill(0);
    sxy.fill(0);
    this.rows.length = 0;
    let W = 0;
    let sy = 0;
    // Sums over the non-zero entries of each point only (dummies and their products are mostly
    // zero), centred at the end; numeric columns were centred once in code(), so the subtraction
    // loses nothing to cancellation.
    for (let i = 0; i < ybar.length; i++) {
      const wi = w[i]!;
      if (wi === 0) continue;
      const cols = coded.nzCols[i]!;
      const vals = coded.nzVals[i]!;
      const yi = ybar[i]!;
      W += wi;
      sy += wi * yi;
      for (let a = 0; a < cols.length; a++) {
        const j = cols[a]!;
        const xa = wi * vals[a]!;
        sx[j] = sx[j]! + xa;
        sxy[j] = sxy[j]! + xa * yi;
        const row = j * p;
        // The upper triangle only (a point's columns are in ascending order); mirrored below.
        for (let b = a; b < cols.length; b++) S[row + cols[b]!] = S[row + cols[b]!]! + xa * vals[b]!;
      }
    }
    for (let j = 0; j < p; j++) {
      this.c[j] = sxy[j]! - (sx[j]! * sy) / W;
      for (let k = j; k < p; k++) this.G[j * p + k] = this.G[k * p + j] = S[j * p + k]! - (sx[j]! * sx[k]!) / W;
    }
    return this;
  }

  sub(idx: readonly number[]): Matrix {
    return new Matrix(idx.map((j) => idx.map((k) => this.G[j * this.p + k]!)));
  }

  /** Cholesky of a subset when it is clearly positive definite (no column close to the span of the others). */
  chol(idx: readonly number[]): CholeskyDecomposition | undefined {
    const chol = new CholeskyDecomposition(this.sub(idx));
    if (!chol.isPositiveDefinite()) return undefined;
    const L = chol.lowerTriangularMatrix;
    return idx.every((j, i) => L.get(i, i) ** 2 > 1e-10 * this.G[j * this.p + j]!) ? chol : undefined;
  }

  /** Work space of ssChol: the rows of the last subset's Cholesky factor (stride p), its forward-substituted c, the running sums of its squares and of its rank. */
  private readonly L: Float64Array;
  private readonly z: Float64Array;
  private readonly zz: Float64Array;
  private readonly rk: Int32Array;
  /** The columns whose rows L, z and zz hold, in order. */
  private rows: number[] = [];

  /**
   * SS explained by a subset, c' G^+ c = |L^-1 c|^2 with G = L L', by a Cholesky factorisation in
   * buffers of its own. A column whose part outside the span of the columns before it is below
   * 1e-10 of its own square sum adds nothing to the span: its row is left out (L_jj = 0), which is
   * what the pseudo-inverse does, so a resample that drops the only points of a level (a column all
   * zero, or one equal to another) needs no SVD. The rows of a factor depend only on the columns
   * before them, so the rows the last subset shares with this one as a prefix are kept: the full
   * model and each pair's fit start from the main effects' rows.
   */
  private ssChol(idx: readonly number[]): { ss: number; rank: number } {
    const k = idx.length;
    const p = this.p;
    const G = this.G;
    const L = this.L;
    const z = this.z;
    let r = 0;
    while (r < k && r < this.rows.length && this.rows[r] === idx[r]) r++;
    this.rows.length = r;
    for (let j = r; j < k; j++) {
      const cj = idx[j]!;
      const lj = j * p;
      // Row j of L: L_jm = (G_jm - sum_{q<m} L_jq L_mq) / L_mm for m < j (0 for a left-out row m),
      // then the diagonal.
      for (let m = 0; m < j; m++) {
        const lm = m * p;
        const lmm = L[lm + m]!;
        if (lmm === 0) {
          L[lj + m] = 0;
          continue;
        }
        let v = G[cj * p + idx[m]!]!;
        for (let q = 0; q < m; q++) v -= L[lj + q]! * L[lm + q]!;
        L[lj + m] = v / lmm;
      }
      const gjj = G[cj * p + cj]!;
      let d = gjj;
      for (let q = 0; q < j; q++) d -= L[lj + q]! ** 2;
      const prevZz = j > 0 ? this.zz[j - 1]! : 0;
      const prevRk = j > 0 ? this.rk[j - 1]! : 0;
      if (!(d > 1e-10 * gjj) || !(gjj > 0)) {
        L[lj + j] = 0;
        z[j] = 0;
        this.zz[j] = prevZz;
        this.rk[j] = prevRk;
      } else {
        const ljj = Math.sqrt(d);
        L[lj + j] = ljj;
        // Forward substitution as the factor grows: z_j = (c_j - sum L_jm z_m) / L_jj; SS = |z|^2.
        let v = this.c[cj]!;
        for (let m = 0; m < j; m++) v -= L[lj + m]! * z[m]!;
        z[j] = v / ljj;
        this.zz[j] = prevZz + z[j]! ** 2;
        this.rk[j] = prevRk + 1;
      }
      this.rows.push(cj);
    }
    return k > 0 ? { ss: this.zz[k - 1]!, rank: this.rk[k - 1]! } : { ss: 0, rank: 0 };
  }

  /** SS explained by a subset of the columns (c' G^+ c), and the subset's rank. */
  ss(idx: readonly number[], wantRank = false): { ss: number; rank: number } {
    if (idx.length === 0) return { ss: 0, rank: 0 };
    // The F tests' degrees of freedom come from the rank: there the SVD's, whose tolerance is the
    // textbook one, on the few fits of the estimate (never in a resample).
    if (!wantRank) return this.ssChol(idx);
    const b = Matrix.columnVector(idx.map((j) => this.c[j]!));
    const svd = new SingularValueDecomposition(this.sub(idx), { autoTranspose: true });
    const x = svd.solve(b).to1DArray();
    return { ss: x.reduce((s, v, i) => s + v * b.get(i, 0), 0), rank: svd.rank };
  }

  /**
   * SS lost by dropping each block of columns from the full model: with the full model's inverse,
   * beta_B' ((G^-1)_BB)^-1 beta_B, one factorisation for all blocks. Undefined when the full model
   * is (nearly) singular, where the caller refits without each block instead.
   */
  dropped(all: readonly number[], blocks: readonly number[][]): { full: number; lost: number[] } | undefined {
    const chol = this.chol(all);
    if (!chol) return undefined;
    const pos = new Map(all.map((j, i) => [j, i]));
    const b = Matrix.columnVector(all.map((j) => this.c[j]!));
    const beta = chol.solve(b);
    const inv = chol.solve(Matrix.eye(all.length));
    const full = beta.to1DArray().reduce((s, v, i) => s + v * b.get(i, 0), 0);
    const lost = blocks.map((block) => {
      if (block.length === 0) return 0;
      const ix = block.map((j) => pos.get(j)!);
      const bb = Matrix.columnVector(ix.map((i) => beta.get(i, 0)));
      // The solved inverse is symmetric only up to rounding, and Cholesky insists on symmetry.
      const V = new Matrix(ix.map((i) => ix.map((k) => (inv.get(i, k) + inv.get(k, i)) / 2)));
      const z = new CholeskyDecomposition(V).solve(bb).to1DArray();
      return z.reduce((s, v, i) => s + v * bb.get(i, 0), 0);
    });
    return { full, lost };
  }
}

interface Decomposition {
  mains: number[];
  pairs: number[];
  other: number;
  noise: number;
  total: number;
  /** F-test p per parameter and per pair. */
  pMains: number[];
  pPairs: number[];
  pureDf: number;
}

/** What every resample's decomposition shares: the points' means and spreads, each fit's columns, the Shapley weights, and one Gram to fill. */
interface Plan {
  coded: Coded;
  ybar: Float64Array;
  runs: Float64Array;
  /** Per point, sum of (y - its mean)^2, and of (y - c)^2 is ssAround + n (ybar - c)^2. */
  within: Float64Array;
  /** Per subset mask of the parameters, its main-effect columns (last parameter first, see below). */
  subsets: number[][];
  /** Shapley weight of a subset of size s: s! (m - s - 1)! / m!. */
  shapley: number[];
  allMains: number[];
  all: number[];
  /** Per pair, the main effects and its own columns. */
  withPair: number[][];
  /** Dropping a parameter for its F test takes its main effect and every pair it is in. */
  paramBlocks: number[][];
  gram: Gram;
  w: Float64Array;
}

function plan(coded: Coded, points: readonly PointRuns[]): Plan {
  const { mainIdx, pairIdx } = coded;
  const m = mainIdx.length;
  const ybar = Float64Array.from(points, (p) => p.ys.reduce((s, v) => s + v, 0) / p.ys.length);
  const within = Float64Array.from(points, (p, i) => p.ys.reduce((s, y) => s + (y - ybar[i]!) ** 2, 0));
  // Shapley over parameters of v(S) = SS(main effects of S): every subset once, by bitmask. The
  // columns go last parameter first, so that consecutive masks (which differ in their low bits)
  // share a prefix of columns, whose factor rows the Gram keeps; SS does not depend on the order.
  const order = mainIdx.map((_, a) => m - 1 - a);
  const subsets = Array.from({ length: 1 << m }, (_, mask) => order.flatMap((a) => (mask & (1 << a) ? mainIdx[a]! : [])));
  const fact = [1];
  for (let i = 1; i <= m; i++) fact.push(fact[i - 1]! * i);
  const shapley = Array.from({ length: m }, (_, s) => (fact[s]! * fact[m - s - 1]!) / fact[m]!);
  const allMains = order.flatMap((a) => mainIdx[a]!);
  return {
    coded,
    ybar,
    runs: Float64Array.from(points, (p) => p.ys.length),
    within,
    subsets,
    shapley,
    allMains,
    all: [...allMains, ...pairIdx.flat()],
    withPair: pairIdx.map((idx) => [...allMains, ...idx]),
    paramBlocks: mainIdx.map((idx, a) => [...idx, ...pairIdx.flatMap((pi, q) => (coded.pairs[q]!.a === a || coded.pairs[q]!.b === a ? pi : []))]),
    gram: new Gram(coded.p),
    w: new Float64Array(points.length),
  };
}

const popcount = (x: number) => {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
};

function decompose(pl: Plan, weights: ArrayLike<number>, withTests: boolean): Decomposition {
  const { coded, ybar, runs, within } = pl;
  const w = pl.w;
  let W = 0;
  let pureDf = 0;
  let pure = 0;
  let sy = 0;
  for (let i = 0; i < ybar.length; i++) {
    const k = weights[i]!;
    w[i] = runs[i]! * k;
    W += w[i]!;
    sy += w[i]! * ybar[i]!;
    pure += k * within[i]!;
    if (k > 0) pureDf += k * (runs[i]! - 1);
  }
  const grand = sy / W;
  // Total SS around the grand mean: each point's spread plus its runs' distance to the grand mean.
  let total = pure;
  for (let i = 0; i < ybar.length; i++) total += w[i]! * (ybar[i]! - grand) ** 2;

  const gram = pl.gram.load(coded, ybar, w);
  const { mainIdx, pairIdx } = coded;
  const m = mainIdx.length;
  const v = new Float64Array(1 << m);
  for (let mask = 0; mask < 1 << m; mask++) v[mask] = gram.ss(pl.subsets[mask]!).ss;
  const mains = mainIdx.map((_, a) => {
    let phi = 0;
    for (let mask = 0; mask < 1 << m; mask++) {
      if (mask & (1 << a)) continue;
      phi += pl.shapley[popcount(mask)]! * (v[mask | (1 << a)]! - v[mask]!);
    }
    return phi;
  });
  const { all, paramBlocks } = pl;
  const full = gram.ss(all, withTests);
  const mainsSS = v[(1 << m) - 1]!;
  const pairTotal = Math.max(full.ss - mainsSS, 0);
  // Each pair is weighed by what it adds to the main effects alone (a fit of at most the mains and
  // its own columns, cheap enough to repeat in every bootstrap resample); on a balanced design this
  // is its type-II SS.
  const alone = pl.withPair.map((cols) => Math.max(gram.ss(cols).ss - mainsSS, 0));
  const sumAlone = alone.reduce((s, x) => s + x, 0);
  const pairs = alone.map((t) => (sumAlone > 1e-12 * total ? (pairTotal * t) / sumAlone : pairTotal / Math.max(alone.length, 1)));
  const between = total - pure;
  const hasReps = pureDf > 0;
  const other = hasReps ? Math.max(between - full.ss, 0) : 0;
  const noise = hasReps ? pure : Math.max(between - full.ss, 0);

  let pMains: number[] = mains.map(() => NaN);
  let pPairs: number[] = pairs.map(() => NaN);
  if (withTests && hasReps && pure > 0) {
    const ms = pure / pureDf;
    const test = (lost: number, df: number) => (df > 0 ? fUpperP(Math.max(lost, 0) / df / ms, df, pureDf) : NaN);
    const fast = gram.dropped(all, [...pairIdx, ...paramBlocks]);
    if (fast) {
      pPairs = pairIdx.map((idx, q) => test(fast.lost[q]!, idx.length));
      pMains = paramBlocks.map((block, a) => test(fast.lost[pairIdx.length + a]!, block.length));
    } else {
      // A (nearly) singular full model: refit without each block, degrees of freedom from the ranks.
      const without = (block: readonly number[]) => {
        const drop = new Set(block);
        const r = gram.ss(
          all.filter((j) => !drop.has(j)),
          true,
        );
        return test(full.ss - r.ss, full.rank - r.rank);
      };
      pPairs = pairIdx.map(without);
      pMains = paramBlocks.map(without);
    }
  }
  return { mains, pairs, other, noise, total, pMains, pPairs, pureDf };
}

/** Shares of the metric's variance per parameter and pair, the replicate noise apart; they add up to 1. */
export function impact(ds: Dataset, opts: ImpactOptions = {}): ImpactResult {
  const metric = ds.metric ?? 'y';
  const where = ds.source ?? `metric ${metric}`;
  const { rows, dropped } = checkDataset(ds);
  const points = groupPoints(rows);
  const warnings: string[] = [];
  if (dropped > 0) warnings.push(`${dropped} run(s) without a value of ${metric} left out`);
  if (points.length < 2) throw InputError.single(where, `${metric}: ${points.length} point(s) with a value: impact needs at least 2`);
  const coded = code(ds.params, points);
  if (coded.names.length > MAX_PARAMS) {
    throw InputError.single(where, `${coded.names.length} parameters vary: impact takes at most ${MAX_PARAMS}`, 'fix some with a filter on the set, or use fit --by');
  }
  const pl = plan(coded, points);
  const d = decompose(pl, new Float64Array(points.length).fill(1), true);
  if (!(d.total > 0)) throw InputError.single(where, `${metric} is the same in every run (${rows[0]!.y}): there is no variance to explain`);
  if (d.pureDf === 0) warnings.push('no repetitions: noise is the residual of the main-effects + pairs model, and holds any higher-order interaction');

  const B = opts.bootstrap ?? BOOTSTRAP;
  const rand = seededRandom(opts.seed ?? 1);
  const samples: number[][] = [];
  const w = new Float64Array(points.length);
  for (let b = 0; b < B; b++) {
    w.fill(0);
    for (let i = 0; i < points.length; i++) w[Math.floor(rand() * points.length)]!++;
    const r = decompose(pl, w, false);
    samples.push(r.total > 0 ? [...r.mains, ...r.pairs, r.other, r.noise].map((x) => x / r.total) : []);
  }
  const ok = samples.filter((s) => s.length > 0);
  // The percentile interval as it is: a share outside it is reported (`outside`), never covered up.
  const ci = (k: number, point: number): { ci: [number, number]; outside: boolean } => {
    if (ok.length === 0) return { ci: [point, point], outside: false };
    const sorted = ok.map((s) => s[k]!).sort((x, y) => x - y);
    const interval: [number, number] = [quantile(sorted, 0.025), quantile(sorted, 0.975)];
    // A share that ties with a bound up to rounding (the noise is 1 minus the others) is inside.
    const eps = 1e-12;
    return { ci: interval, outside: point < interval[0] - eps || point > interval[1] + eps };
  };
  const shares = [...d.mains, ...d.pairs, d.other, d.noise].map((x) => x / d.total);
  const factors: Factor[] = [
    ...coded.names.map((name, a) => ({ name, share: shares[a]!, ...ci(a, shares[a]!), p: d.pMains[a]! })),
    ...coded.pairs.map((pr, q) => {
      const k = coded.names.length + q;
      return { name: `${coded.names[pr.a]}*${coded.names[pr.b]}`, share: shares[k]!, ...ci(k, shares[k]!), p: d.pPairs[q]! };
    }),
  ];
  const kOther = coded.names.length + coded.pairs.length;
  if (shares[kOther]! > 1e-9) factors.push({ name: 'other', share: shares[kOther]!, ...ci(kOther, shares[kOther]!), p: NaN });
  // Noise takes what the rows above leave, so that shares + noise = 1 up to one rounding.
  const noiseShare = 1 - factors.reduce((s, f) => s + f.share, 0);
  const noise = { share: noiseShare, ...ci(kOther + 1, noiseShare), df: d.pureDf };
  const outside = [...factors, { ...noise, name: 'noise' }].filter((f) => f.outside);
  if (outside.length > 0) {
    // Small shares with the digits that tell them from their bounds.
    const pc = (v: number) => `${Math.abs(v) >= 0.01 ? (v * 100).toFixed(1) : Math.abs(v) < 1e-9 ? '0' : (v * 100).toPrecision(2)} %`;
    const one = outside.length === 1;
    warnings.push(
      `the share${one ? '' : 's'} of ${outside.map((f) => `${f.name} (${pc(f.share)}, interval ${pc(f.ci[0])} to ${pc(f.ci[1])})`).join(', ')} ${one ? 'lies' : 'lie'} outside ${one ? 'its' : 'their'} bootstrap interval${one ? '' : 's'}: resampling points biases shares (a point drawn twice is fitted more easily, so a term's share near 0 goes up and what is left between points goes down); read that interval as the bootstrap's spread, not as a range around the estimate`,
    );
  }
  return { metric, factors, noise, n: rows.length, points: points.length, warnings };
}
