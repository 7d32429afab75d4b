// Whether a fitted model is good enough to read: a model that explains less than half of the
// metric's variance, or predicts held-out points hardly better than their mean would, draws
// curves and answers what-ifs that look as sure as a good one's. The figures and the thresholds
// are said beside the warning (docs/models.md), so a reader can judge them.
import type { FitResult } from './fit.ts';

/** Below this R² (of the fit on all runs; a log form's on the log scale) the fit is poor. */
export const POOR_R2 = 0.5;
/** Below this cross-validated R² (1 - RMSE_cv² / variance of the metric over the runs) the fit is poor. */
export const POOR_CV_R2 = 0.5;

/** A fit's quality figures and, when poor, why. */
export interface FitQuality {
  r2: number;
  /** 1 - (cross-validated RMSE / sd)²: the share of the variance the model predicts on points it did not see (negative: worse than the mean). */
  cvR2: number | null;
  /** Standard deviation of the metric over the runs fitted (divided by n, as the RMSE is). */
  sd: number;
  poor: boolean;
  /** One line per threshold crossed, with its figures. */
  reasons: string[];
}

/** The quality of a fit from its figures and the metric's values over the runs it was fitted on. */
export function fitQuality(f: Pick<FitResult, 'r2' | 'cv'>, ys: readonly number[]): FitQuality {
  const v = ys.filter(Number.isFinite);
  const mean = v.reduce((s, y) => s + y, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, y) => s + (y - mean) ** 2, 0) / v.length);
  const cvR2 = Number.isFinite(f.cv.rmse) && sd > 0 ? 1 - (f.cv.rmse / sd) ** 2 : null;
  const reasons: string[] = [];
  const r = (x: number) => String(Number(x.toFixed(2)));
  if (Number.isFinite(f.r2) && f.r2 < POOR_R2) reasons.push(`R² ${r(f.r2)} is below ${POOR_R2}: the model explains less than half of the metric's variance over the runs`);
  if (cvR2 !== null && cvR2 < POOR_CV_R2)
    reasons.push(`cross-validated R² ${r(cvR2)} is below ${POOR_CV_R2}: on points left out of the fit its error (RMSE ${Number(f.cv.rmse.toPrecision(3))}) is ${r(f.cv.rmse / sd)} x the metric's spread over the runs (sd ${Number(sd.toPrecision(3))})`);
  return { r2: f.r2, cvR2, sd, poor: reasons.length > 0, reasons };
}
