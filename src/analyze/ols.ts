// Ordinary least squares on ml-matrix's Householder QR. Columns are scaled to unit length first:
// physics terms (pixel rate ~1e8) sit beside an intercept of 1, and unscaled the numbers would say
// "ill-conditioned" about units, not about the design (Belsley's scaling for condition numbers).
import { inverse, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';

/** A column counts as aliased when its distance from the span of the earlier ones is below this (unit-length columns). */
const ALIAS_TOL = 1e-7;

/** What one least-squares fit gives: coefficients of the kept columns and their covariance. */
export interface OlsFit {
  /** Indices (into the design's columns) that were fitted; the others were aliased with earlier ones. */
  kept: number[];
  aliased: number[];
  /** Per kept column. */
  coef: number[];
  se: number[];
  /** Covariance of the kept coefficients (sigma2 x (X'X)^-1). */
  cov: number[][];
  sigma2: number;
  /** Residual degrees of freedom, n - rank. */
  df: number;
  n: number;
  r2: number;
  fitted: number[];
  residuals: number[];
  /** Condition number of the unit-scaled design (kept columns). */
  condition: number;
}

function scaleColumns(X: number[][], cols: number[]): { A: Matrix; scale: number[] } {
  const n = X.length;
  const scale = cols.map((j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i]![j]! ** 2;
    return Math.sqrt(s);
  });
  const A = new Matrix(n, cols.length);
  for (let i = 0; i < n; i++) {
    const row = X[i]!;
    for (let k = 0; k < cols.length; k++) A.set(i, k, scale[k]! > 0 ? row[cols[k]!]! / scale[k]! : 0);
  }
  return { A, scale };
}

/** Least squares of y on the columns of X (rows x columns; put the intercept column in X). */
export function ols(X: number[][], y: number[]): OlsFit {
  const n = X.length;
  const p = X[0]?.length ?? 0;
  const all = Array.from({ length: p }, (_, j) => j);
  // The first QR only finds aliased columns: |R_jj| of a unit column is its distance from the earlier ones.
  const first = new QrDecomposition(scaleColumns(X, all).A);
  const R0 = first.upperTriangularMatrix;
  const kept: number[] = [];
  const aliased: number[] = [];
  for (let j = 0; j < p; j++) (j < n && Math.abs(R0.get(j, j)) > ALIAS_TOL ? kept : aliased).push(j);

  const { A, scale } = scaleColumns(X, kept);
  const q = kept.length;
  const Y = Matrix.columnVector(y);
  const qr = new QrDecomposition(A);
  const b = q > 0 ? qr.solve(Y).to1DArray() : [];
  const fitted = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < q; k++) s += A.get(i, k) * b[k]!;
    fitted[i] = s;
  }
  const residuals = y.map((v, i) => v - fitted[i]!);
  const rss = residuals.reduce((s, r) => s + r * r, 0);
  const ybar = y.reduce((s, v) => s + v, 0) / n;
  const tss = y.reduce((s, v) => s + (v - ybar) ** 2, 0);
  const df = n - q;
  const sigma2 = df > 0 ? rss / df : NaN;
  let cov: number[][] = [];
  let condition = NaN;
  if (q > 0) {
    const R = qr.upperTriangularMatrix.subMatrix(0, q - 1, 0, q - 1);
    const Rinv = inverse(R);
    const XtXinv = Rinv.mmul(Rinv.transpose());
    cov = XtXinv.to2DArray().map((row, i) => row.map((v, k) => (sigma2 * v) / (scale[i]! * scale[k]!)));
    condition = new SingularValueDecomposition(R, { computeLeftSingularVectors: false, computeRightSingularVectors: false }).condition;
  }
  return {
    kept,
    aliased,
    coef: b.map((v, k) => v / scale[k]!),
    se: cov.map((row, k) => Math.sqrt(row[k]!)),
    cov,
    sigma2,
    df,
    n,
    r2: tss > 0 ? 1 - rss / tss : NaN,
    fitted,
    residuals,
    condition,
  };
}
