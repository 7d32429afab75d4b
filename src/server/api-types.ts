/**
 * Every request and response of the GUI's HTTP API, declared once: the server's routes and the
 * web client (web/, through a type-only import) both take them from here. Data travels as
 * columns (`{ columns: { name: values[] } }`), never as arrays of row objects. Each area keeps
 * its own section below; add yours, keep the others'.
 */

/** A JSON value as it travels. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Columns of equal length: one array of values per name. */
export interface Columns {
  [name: string]: (string | number | boolean | null)[];
}

/** What any route answers when it refuses or fails: the HTTP status carries the kind. */
export interface ApiError {
  error: string;
}

// ---------------------------------------------------------------------------------------------
// Sets and catalogue (src/server/routes/sets.ts)

/** A parameter of the open sets (the catalogue's, see src/store/catalog.ts). */
export interface ApiParam {
  name: string;
  type: string;
  unit: string | null;
  doc: string;
  role: string;
  source: string;
  values?: (string | number | boolean)[];
  /** Some runs have no typed value of it (written `none`): a setting beside `values`. */
  none?: true;
  range?: [number, number];
  allowed?: string[];
  label?: string;
  columns?: string[];
  /** Several sets open: the sets whose runs have this parameter (absent: all of them). */
  sets?: string[];
}

/** A metric of the open sets (the catalogue's). */
export interface ApiMetric {
  name: string;
  unit: string | null;
  better: 'higher' | 'lower' | 'none';
  role: string;
  kind: string;
  view: string;
  doc: string;
  pattern?: string;
  column?: string;
  source: string;
}

/** One open result set. */
export interface ApiSetInfo {
  name: string;
  dir: string;
  /** Runs (point x repetition) recorded, by outcome. */
  runs: number;
  ok: number;
  failed: number;
  interrupted: number;
  /** Runs whose record carries flags (recorded, but something was odd: its recording, or a condition such as saturation). */
  flagged: number;
  /** Ok runs recorded before conditions were checked (never counted as clean). */
  notChecked: number;
  /** Ok runs that found each condition (saturated, roles_share_machine, ...). */
  conditions: Record<string, number>;
  /** One line saying when the set was recorded saturated, with roles sharing a machine, or unchecked; null when nothing to say. */
  conditionsLine: string | null;
}

/** GET /api/sets: the open sets and their joint catalogue. */
export interface SetsResponse {
  sets: ApiSetInfo[];
  params: ApiParam[];
  metrics: ApiMetric[];
  /** Changes whenever a set gains points (a run going on): the client reloads what it shows. */
  version: number;
}

// ---------------------------------------------------------------------------------------------
// Matrix view (src/server/routes/matrix.ts)

/** The pseudo-parameter naming the result set when several are open (compare). */
export const SET_PARAM = 'set';

export type Aggregate = 'mean' | 'median' | 'p95' | 'min' | 'max';
export const AGGREGATES: readonly Aggregate[] = ['mean', 'median', 'p95', 'min', 'max'];

/** How the matrix route treats a parameter that is neither x, series nor facet. */
export type ParamControl = { mode: 'value'; value: string } | { mode: 'aggregate' } | { mode: 'overlay' };

/**
 * Query of GET /api/matrix (as URL parameters): `metric`, `x`, optional `series`, `facet`,
 * `agg` (how aggregated parameters are combined; default mean), `kind` (line, scatter, bar,
 * heatmap: groups; box: spread; stack: the stage medians), and one `c.<param>` per other
 * parameter: `v:<value>` (fix it), `agg` (combine its values), `overlay` (one series per value).
 * A parameter without a control is aggregated.
 */
export type MatrixKind = 'line' | 'scatter' | 'bar' | 'heatmap' | 'box' | 'stack';
export const MATRIX_KINDS: readonly MatrixKind[] = ['line', 'scatter', 'bar', 'heatmap', 'box', 'stack'];

/**
 * GET /api/matrix answer. One row per plotted group (x value x series x facet): `x` (the value),
 * `xlabel` (as written: 300k), `xorder` (what sorts it: a frame size's pixels), `series`
 * (a label: the series parameter's value and the overlaid ones', `name=value` joined by ', '),
 * `facet`, `value` (the aggregate), `lo`/`hi` (95 % CI of the mean over repetitions, t-interval,
 * on the log scale for a metric that cannot be negative, see `intervals`; null where it cannot be
 * given: one repetition, or an aggregate other than the mean), `points` (distinct points
 * combined), `runs` (runs combined), `flagged` (flagged runs among them), `set`/`key`/`rep` (the
 * run to open when the group is one point; null otherwise), and `values:<param>` for each
 * parameter in `aggregated`: how many of its values the group combines.
 * Kind box adds `q1`, `median`, `q3`, `min`, `max`; kind stack gives `stage` per row (one row
 * per group and stage) with `value` its median.
 */
export interface MatrixResponse {
  columns: Columns;
  metric: { name: string; unit: string | null; better: string; view: string };
  x: { name: string; numeric: boolean; log: boolean; unit: string | null };
  /** Runs left out because they failed or were interrupted (they are no results). */
  excludedFailed: number;
  /** Flagged runs included (recorded, but something was odd: marked on the plot). */
  flagged: number;
  /** What the plot shows, in words (the legend's note): its intervals only where it has them. */
  interval: string;
  /** A mean's plot (line, scatter, bar, heatmap): the intervals' scale and how many of the groups have one. */
  intervals?: { scale: 'log' | 'linear'; groups: number; of: number };
  /** The parameters that vary and are aggregated over (neither x, series, facet, overlaid nor fixed). */
  aggregated: string[];
  /** Box over repetitions or frames; stack: the stages in stacking order. */
  spreadOver?: 'runs' | 'frames';
  /** Box: the values beyond Tukey's fences (1.5 IQR past the quartiles), the farthest first, at most a few per box; each with its run. */
  outliers?: { x: string | number | boolean | null; xlabel: string; series: string; facet: string; value: number; set: string; key: string; rep: number }[];
  stages?: string[];
  /** The SQL the server ran, for the curious (and tests). */
  sql: string;
}

// ---------------------------------------------------------------------------------------------
// Parallel coordinates (src/server/routes/runs.ts)

/** One axis of the runs table: a parameter that varies, or a chosen metric. */
export interface RunsAxis {
  /** The parameter's or metric's name; its column in RunsResponse.columns. */
  name: string;
  kind: 'param' | 'metric';
  /** numeric: numeric parameter types and every metric; categorical: enum, text, frame size, boolean, the set. */
  type: 'numeric' | 'categorical';
  unit: string | null;
  /** Categorical axes: the categories, bottom to top (frame sizes by pixels, enums in declared order). */
  categories?: string[];
  /** Numeric axes whose positive values span 20x or more: drawn on a log scale. */
  log?: boolean;
  better?: 'higher' | 'lower' | 'none';
}

/** A summary metric that can be an axis or the colour (its column holds numbers). */
export interface RunsMetric {
  name: string;
  /** Its column of `points` (differs from the name for a metric named like a parameter). */
  column: string;
  unit: string | null;
  better: 'higher' | 'lower' | 'none';
}

/**
 * GET /api/runs?[set=NAME]&[metrics=a,b,c]: every run that ended ok as columns: `set`,
 * `point_key`, `rep`, `flagged`, and one column per axis (the parameters that vary, then the
 * metrics asked for, or the headline ones when none is named; `metrics=` with nothing: none).
 */
export interface RunsResponse {
  axes: RunsAxis[];
  columns: Columns;
  runs: number;
  /** Runs left out because they failed or were interrupted. */
  excludedFailed: number;
  /** Flagged runs among those listed. */
  flagged: number;
  /** Every numeric summary metric of the sets: what the axis and colour choosers offer. */
  metrics: RunsMetric[];
  sql: string;
}

// ---------------------------------------------------------------------------------------------
// Report (src/server/report.ts, `streambench report`): the data a report page carries inlined.

/** One plot of a metric against a parameter: /api/matrix's answer for it (kind line, others aggregated by mean). */
export interface ReportPlot {
  metric: string;
  param: string;
  /** Its y axis starts at zero: a ratio-scale metric (a unit that cannot be negative, no value below 0: positiveMetric). */
  fromZero: boolean;
  matrix: MatrixResponse;
}

/** Everything a report shows, computed by the server's own routes; the page only draws it. */
export interface ReportData {
  /** The sets' names, directories and run counts (several: a comparison, `set` is a parameter); the benchmark(s) that ran into them, when, where. */
  sets: ApiSetInfo[];
  benchmarks: string[];
  /** ISO times: the first run's start, the last run's end (null without runs). */
  from: string | null;
  to: string | null;
  /** The machines of the roles (agents.json), e.g. `guest, host, client: vm (AMD EPYC, 2 cores, Debian ...)`. */
  hosts: string[];
  /** When the report was written. */
  generatedAt: string;
  /** The parameters that vary in the set (the x axes), and the headline metrics plotted. */
  params: ApiParam[];
  metrics: ApiMetric[];
  plots: ReportPlot[];
  /** The stage stack: one bar per point (/api/matrix kind=stack, every parameter but x overlaid); null when the set has no stage metrics. */
  stack: MatrixResponse | null;
  /** Parallel coordinates: every ok run, its varying parameters and the headline metrics, as columns. */
  runs: Columns;
  /** Plots that could not be made, each with why (a metric no run has, say). */
  skipped: string[];
  /** Several sets: them side by side; null for one set. */
  comparison: SetComparison | null;
  /** What the report finds, said first (src/analyze/findings.ts computes it): effects, tests, warnings. */
  findings: ReportFindings;
}

/** A parameter's value as the points table holds it. */
export type ReportCell = string | number | boolean | null;

/**
 * One headline metric against one varying parameter (or a group of linked ones): the difference of
 * marginal means between two levels, its 95 % interval, and the Holm-adjusted p of the parameter's
 * type-II F test. The shape of src/analyze/findings.ts's Finding (the server checks they agree).
 */
export interface ReportFinding {
  metric: string;
  unit: string | null;
  /** A parameter, or a linked group named `a = b = c`. */
  parameter: string;
  params: string[];
  /** Numeric: to is the highest tested value, from the lowest; categorical: the largest- and smallest-mean categories. */
  numeric: boolean;
  /** The parameter whose values from and to are (a linked group's first numeric one, else its first). */
  level_param: string;
  from: ReportCell;
  to: ReportCell;
  from_mean: number;
  to_mean: number;
  /** to_mean - from_mean. */
  effect: number;
  /** effect / |from_mean| x 100; null when from_mean is 0. */
  effect_pct: number | null;
  /** 95 % interval of the effect (the model's residual variance); null without repetitions. */
  ci: [number, number] | null;
  /** Holm-adjusted p; null when untested (no repetitions). */
  p: number | null;
  p_raw: number | null;
  F: number | null;
  df: [number, number] | null;
  /** p < alpha after Holm; null when untested. */
  significant: boolean | null;
  /** Points at from and at to; runs of the metric in the model. */
  points: [number, number];
  runs: number;
}

/** The best or worst point of a metric. */
export interface ReportExtreme {
  setting: Record<string, ReportCell>;
  mean: number;
  runs: number;
}

/** The report's findings and their header. */
export interface ReportFindings {
  /** Whether some point has two or more ok runs (without: nothing tested, nothing claimed). */
  repetitions: boolean;
  /** The test in words; null without repetitions. */
  test: string | null;
  /** The multiple-comparison family: tests, correction, over what, alpha. */
  family: { tests: number; correction: 'holm'; over: string; alpha: number };
  /** Confounded (linked) parameters, each reported as one factor. */
  groups: { name: string; params: string[] }[];
  /** The sets' validity flags (their conditions line, flagged runs), as the sets say them. */
  warnings: string[];
  notes: string[];
  findings: ReportFinding[];
  extremes: { metric: string; unit: string | null; better: 'higher' | 'lower'; best: ReportExtreme; worst: ReportExtreme }[];
}

/** GET /api/findings: the report's findings over the open sets, with the parameters and headline metrics they are about. */
export interface FindingsResponse {
  params: ApiParam[];
  metrics: ApiMetric[];
  findings: ReportFindings;
}

/** One cell of a comparison: a metric over the ok points of one set and setting (each point first averaged over its repetitions). */
export interface ComparisonCell {
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Points with a value. */
  points: number;
}

/** One row of a comparison: a set at one setting of the parameters every set varies. */
export interface ComparisonRow {
  set: string;
  /** The shared parameters' values of this row (`by`'s order). */
  settings: (string | number | boolean | null)[];
  /** Ok points and runs in this row; flagged runs among them. */
  points: number;
  runs: number;
  flagged: number;
  /** By metric name (the comparison's metrics). */
  values: Record<string, ComparisonCell>;
}

/**
 * Several sets side by side (`report A B C`): the headline metrics every set has, one row per set
 * at each setting of the parameters every set varies (the network, say), every other parameter (each
 * set's own: its codec, ...) aggregated: mean over the points, and their range.
 */
export interface SetComparison {
  /** The parameters every set has and that vary: the rows' settings. */
  by: ApiParam[];
  /** The parameters only some sets have, or that vary in one set only: aggregated in each row. */
  aggregated: string[];
  metrics: ApiMetric[];
  rows: ComparisonRow[];
  /** Headline metrics left out, each with why (a set that has no value of it, ...). */
  left: string[];
}

// ---------------------------------------------------------------------------------------------
// Run view and frame view (src/server/routes/run.ts)

/**
 * One recorded series of a run: a sample name of one role's agent, a column of the workload's own
 * series, or the frames' end-to-end latency (`frames:client:latency_ms`, one value per frame at
 * its capture start: the frame view's frames, drawn beside the rest).
 */
export interface RunSeriesInfo {
  /** `samples:<role>:<name>`, `timeseries:<role>:<name>` or `frames:client:latency_ms`: what /api/run/series takes in `ids`. */
  id: string;
  source: 'samples' | 'timeseries' | 'frames';
  role: string;
  /** The probe that sampled it (cpu, mem, net, proc, gpu..., custom.<name>); `workload` for the workload's series, `frames` for the frames. */
  probe: string;
  name: string;
  /** Samples recorded, and the first and last sample's time (s since the point began). */
  n: number;
  from: number;
  to: number;
  /** As declared (src/config/recording-metrics.ts, the workload's declaration); null: none declared. */
  unit: string | null;
  /**
   * 'stream': its times are on the stream's own clock (s since the guest started streaming), not
   * the point's: an old record (no timeline) without the capture events that place it. Absent:
   * on the point's clock.
   */
  clock?: 'stream';
}

/** Where a point's warm-up and recorded window lie on its clock (s since the point began), as point.json's `timeline` says. */
export interface RunTimeline {
  /** Null: the point had no warm-up. */
  warmup: [number, number] | null;
  window: [number, number];
}

/** A stretch with no data from an agent (the run's `recording gap` flags); times null when the flag gives none. */
export interface RunGap {
  role: string;
  from: number | null;
  to: number | null;
  text: string;
}

/** A stage of a frame's life: the time from one column of frames.parquet to another. */
export interface FrameStage {
  name: string;
  from: string;
  to: string;
}

/**
 * A file of a run that could not be read (missing, damaged, unreadable, too slow): what it holds
 * is left out of the answer, everything else is there. The view shows `error` where its panel
 * would be.
 */
export interface RunFileProblem {
  /** The file's name in the run's directory: samples.parquet, timeseries.parquet, frames.parquet, events.parquet. */
  file: string;
  /** What is wrong: missing, not a file, permission, damaged, timeout, unreadable. */
  problem: string;
  /** One line naming the file (its path) and what is wrong. */
  error: string;
  /** What is left out for it, in words: "the agents' samples", "the frames", ... */
  affects: string;
}

/** GET /api/run?set=&key=&rep=: what one run holds. */
export interface RunInfoResponse {
  set: string;
  key: string;
  rep: number;
  workload: string;
  params: Record<string, string | number | boolean>;
  outcome: { status: 'ok' } | { status: 'failed'; error: string } | { status: 'interrupted'; reason: string };
  flags: string[];
  gaps: RunGap[];
  /**
   * Where its roles ran, when they shared a machine: each line of its conditions that says so
   * (`guest, host, client ran on one machine (box, 2 cores)`); empty when each ran on its own, null
   * when the record kept no conditions (made before they were checked: unknown).
   */
  sharedMachine: string[] | null;
  startedAt: string;
  wallS: number;
  /** The warm-up and the recorded window; null for records made before point.json kept them. */
  timeline: RunTimeline | null;
  series: RunSeriesInfo[];
  /**
   * Its frames, when it has frames.parquet: how many, the stages they hold, whether PSNR/SSIM are
   * there, where the frames' clock sits on the run's (offsetS: run time of the frames' time 0: 0
   * for records with a timeline, whose frames are on the point's clock; for older ones taken from
   * the capture events, null when the run has none), and the late threshold it was recorded with.
   */
  frames: { count: number; stages: FrameStage[]; quality: boolean; offsetS: number | null; lateMs: number } | null;
  /** Every run of the same set (to pick a second one to overlay). */
  runs: { key: string; rep: number; status: string; label: string }[];
  /** The run's files that could not be read, each once: their series (or frames) are left out of `series` (or `frames`). */
  problems: RunFileProblem[];
}

/**
 * GET /api/run/series?set=&key=&rep=&ids=a,b&width=PX[&from=S&to=S]: each series decimated to
 * at most two samples per pixel column of `width` (its minimum and maximum), in [from, to] plus
 * one sample beyond each edge; `v` null where the line breaks (missing value, or a silence).
 * `ids`: at most 200, each once (a repeated id is refused with 400).
 */
export interface RunSeriesResponse {
  series: { id: string; n: number; reduced: boolean; columns: { t: number[]; v: (number | null)[] } }[];
  width: number;
  /** Files that could not be read: the ids asked from them are left out of `series`. */
  problems: RunFileProblem[];
}

/**
 * GET /api/run/frames?set=&key=&rep=&width=PX[&from=S&to=S]: one row per frame as columns:
 * `frame`, `t` (capture start, s on the run's clock; on the stream's when timeBase is 'stream'),
 * `bytes`, `key`, `latency_ms`, `psnr`, `ssim`, `lost`, `dropped`, `shown`, `warmup` (those the
 * file has), `late` (1: decoded and shown more than late_ms after capture, as frames.late counts:
 * the file's own column, or for records before it latency over lateMs), and `stage.<name>` (ms)
 * per stage. With more frames than two per pixel column, each column keeps its highest-latency
 * frame and its first lost, dropped or late one (`reduced`).
 */
export interface FramesResponse {
  columns: Columns;
  stages: FrameStage[];
  /** Frames in the file, and rows sent. */
  total: number;
  shown: number;
  reduced: boolean;
  lateMs: number;
  offsetS: number | null;
  timeBase: 'run' | 'stream';
  /** The first and last frame's time in the whole run (the axis to zoom out to); null without frames. */
  range: [number, number] | null;
  /**
   * Counted over every frame of the run, whatever the zoom: frames captured during the warm-up,
   * late frames outside it (what the point's frames.late counts) and late ones in it.
   */
  counts: { warmup: number; late: number; lateWarmup: number };
  /** Where `late` comes from: the file's own column (written with the point's late_ms), or lateMs here (records before that column). */
  lateFrom: 'column' | 'threshold';
  /** The first and last warm-up frame's time (the warm-up as its frames show it); null without warm-up frames. */
  warmupRange: [number, number] | null;
  /** Files besides frames.parquet that could not be read (events.parquet: the frames stay on the stream's clock). */
  problems: RunFileProblem[];
  /** The catalogue's unit of each frame column sent (`latency_ms`: ms, `bytes`: B, `psnr`: dB; stages: ms), null where it declares none. */
  units: Record<string, string | null>;
}

/**
 * One decision a run recorded (its controls.json, written by the stream workload: a change of
 * bitrate, frame rate or resolution, or a keyframe request), stamped along its way. Times are ms
 * on the point's clock (ms since the point began; s x 1000 of the run view's axis): decided (`t`),
 * first frame encoded with it (`encodedMs`), first frame shown with it (`shownMs`); null where a
 * stamp is unknown. The server checks each record against the fields of src/config/control-record.ts where it reads
 * the file (src/server/run-marks.ts); fields it does not know are dropped, not refused.
 */
export interface RunControlRecord {
  t: number;
  /** Who decided: 'policy', 'schedule', 'stdin', 'client'. */
  from: string;
  bitrate?: number;
  fps?: number;
  /** 'WxH'. */
  resolution?: string;
  keyframe?: boolean;
  scaler?: string;
  scaledBack?: string;
  /** 'live' (the open encoder took it) or 'reopened' (with a keyframe). */
  applied?: string;
  /** Why it was refused; a refused decision has no other stamp. */
  rejected?: string;
  encodedFrame?: number | null;
  encodedMs?: number | null;
  shownFrame?: number | null;
  shownMs?: number | null;
  /** From a policy: what led to it (state, incoming_bps, delay_based_bps, ...). */
  estimate?: Record<string, number | string | null>;
}

/**
 * A run's freezes (its freezes.json): each stretch where the displayed picture was not renewed for
 * longer than `thresholdMs`, in ms since the point began (the clock of frames.parquet's display).
 */
export interface RunFreezes {
  thresholdMs: number;
  freezes: { fromMs: number; toMs: number }[];
}

/**
 * GET /api/run/marks?set=&key=&rep=: what the run view and the frame view mark on their time axis:
 * the decisions of controls.json (null: the run has none) and the freezes of freezes.json (null:
 * the run has no such file, as records made before it). A file that is damaged is left out (null)
 * and listed in `problems`, as the runs' other files are.
 */
export interface RunMarksResponse {
  decisions: RunControlRecord[] | null;
  freezes: RunFreezes | null;
  problems: RunFileProblem[];
}

// ---------------------------------------------------------------------------------------------
// Live view (src/server/routes/live.ts): `streambench run FILE --ui` while it runs.

/**
 * GET /api/live: the run in progress. `runs` lists every planned run in order, with its state
 * (left, running, done, failed, interrupted); `current` is the point in progress; `active` false
 * once the engine is done (`summary` then says how it ended). A server with no run answers
 * `{active: false, running: false}`. `seq` changes with every engine event.
 */
export interface LiveResponse {
  active: boolean;
  set: string;
  seq: number;
  plan: { total: number; toRun: number; recorded: number; resultsDir: string } | null;
  runs: { key: string[]; rep: number[]; label: string[]; state: ('left' | 'running' | 'done' | 'failed' | 'interrupted')[]; error: (string | null)[] };
  counts: { left: number; running: number; done: number; failed: number; interrupted: number };
  current: { key: string; rep: number; n: number; of: number; attempt: number; params: Record<string, string | number | boolean>; runningS: number } | null;
  etaS: number | null;
  elapsedS: number;
  summary: { planned: number; skipped: number; ok: number; failed: number; interrupted: boolean; stoppedBy?: string; seconds: number } | null;
}

/** GET /api/live/series?ids=a,b&width=PX: the point in progress's series so far (decimated), and the list of them. */
export interface LiveSeriesResponse {
  list: RunSeriesInfo[];
  series: RunSeriesResponse['series'];
  current: LiveResponse['current'];
  width: number;
}

// ---------------------------------------------------------------------------------------------
// Model view (src/server/routes/model.ts): the same computation as `streambench model ... --json`.

/** A parameter of the what-if form: the user's name (a frame size as `resolution`), its type and the measured values. */
export interface ModelSetting {
  name: string;
  type: string;
  unit: string | null;
  values: (string | number | boolean)[];
}

/** GET /api/model/metrics?set=S: the metrics a model can be asked of (a value that varies over the runs read); the others with why they are left out. */
export interface ModelMetricsResponse {
  set: string;
  metrics: { name: string; unit: string | null; doc: string }[];
  leftOut: { name: string; why: string }[];
}

/**
 * One parameter's partial dependence (src/analyze/partial.ts): the model's mean prediction at each
 * `x` averaged over the runs with only this parameter changed, and the observed means of the runs
 * per tested value beside it. A frame size's x is its pixel count (`unit` pixels), labelled.
 */
export interface ModelEffect {
  param: string;
  kind: 'numeric' | 'categorical';
  unit: string | null;
  x: (number | string)[];
  value: number[];
  /** Per tested value: x, its label (a frame size's `1280x720`), the runs' mean and count. */
  observed: { x: (number | string)[]; label: (number | string)[]; mean: number[]; n: number[] };
  /** A number's value at its highest tested value minus at its lowest; a category's largest minus smallest; `pct` relative to `from`'s. */
  change: { from: number | string; to: number | string; value: number; pct: number | null };
}

/** GET /api/model?set=S&metric=M: the fitted formula, the impact of each parameter, residuals per point. */
export interface ModelResponse {
  set: string;
  metric: string;
  unit: string | null;
  fit: {
    formula: string;
    form: string;
    r2: number | null;
    n: number;
    points: number;
    cv: { mape: number | null; rmse: number | null };
    warnings: string[];
    /** Columns name, coef, lo, hi (95 % interval). */
    terms: Columns;
    /** Per point: key, rep (its first run, to open), runs, setting (text), measured (mean), fitted, residual; largest |residual| first. */
    residuals: Columns;
  };
  /** src/analyze/fit-quality.ts: poor when R² or the cross-validated R² is below 0.5, each reason with its figures. */
  quality: { r2: number; cvR2: number | null; sd: number; poor: boolean; reasons: string[] };
  /** Partial dependence of each parameter the model uses. */
  effects: ModelEffect[];
  impact: {
    /** Columns name, share, lo, hi (95 % percentile bootstrap interval, never widened), outside (the share lies outside it), p; largest share first. */
    factors: Columns;
    noise: { share: number; lo: number; hi: number; outside: boolean };
    warnings: string[];
  };
  /** What the what-if form asks for: the parameters the model uses. */
  settings: ModelSetting[];
  /** Which runs the model stood on: saturated runs left out unless asked (?flagged=include), runs never checked. */
  runs: { leftOut: { saturated: number }; notChecked: number; includeFlagged: boolean; text: string | null };
}

/** GET /api/model/predict?set=S&metric=M&s.PARAM=VALUE...: as `model predict SET --metric M --set PARAM=VALUE... --json`. */
export interface ModelPredictResponse {
  setting: Record<string, number | string>;
  /**
   * `value` is the mean of a run (`estimate`; a log-form model's exp(prediction) x its `smearing` factor), `ci` its 95 % interval, `pi` one run's.
   * `outside`: the numbers beyond the measured range (an extrapolation), each with its distance from the range (signed: above the top positive)
   * and that distance relative to the end it is beyond. A category no run had gets no prediction: the request fails (400) with one line.
   */
  predictions: {
    metric: string;
    value: number;
    ci: [number, number];
    pi: [number, number];
    estimate: 'mean' | 'median';
    smearing?: number;
    outside: { param: string; value: number; range: [number, number]; distance: number; relative?: number }[];
    level?: string;
    /** How far the setting is from the points measured (src/analyze/coverage.ts): `outside` and `unseen-combination` are extrapolations. */
    coverage?: { kind: 'outside' | 'unseen-combination' | 'between' | 'measured'; nearest: { key: string; setting: Record<string, number | string>; differs: string[] } };
  }[];
  /** Which runs the model stood on (as ModelResponse.runs; `model predict --json` says the same). */
  runs: { leftOut: { saturated: number }; notChecked: number; includeFlagged: boolean; text: string | null };
}

// ---------------------------------------------------------------------------------------------
// Compare view (src/server/routes/compare.ts): the same computation as `streambench compare BASE NEW --json`.

/**
 * GET /api/compare?base=A&new=B[&metrics=M1,M2]: two open sets (names, different), runs matched by
 * their settings. `metrics` (comma-separated, each once) are the metrics compared and the Holm
 * family; absent, the headline metrics of the sets' workloads that both have. Every ok run counts,
 * flagged ones too, as in `compare`.
 */
export interface CompareResponse {
  base: string;
  new: string;
  /** The metrics compared, in the order asked, as the catalogue has them (unit, direction, description). */
  metrics: ApiMetric[];
  /** Every numeric summary metric both sets have (what can be chosen). */
  available: ApiMetric[];
  /** The default choice: the headline metrics of the sets' workloads that both have. */
  headline: string[];
  /** The parameters runs are matched on (both sets' together, in the order they are declared); a set without one matches it as absent. */
  params: string[];
  /** The parameters whose value differs between matched settings (what tells the rows apart). */
  varying: string[];
  correction: 'holm';
  alpha: number;
  /** The correction family: the metrics compared, and how many tests it holds. */
  family: { metrics: string[]; tests: number };
  /** Settings run in both sets, and those only one of them has (not compared): how many, and the first few (values as written). */
  matched: number;
  onlyBase: { count: number; examples: Record<string, number | string>[] };
  onlyNew: { count: number; examples: Record<string, number | string>[] };
  /**
   * One row per metric x matched setting, as `compare --json`'s `changes`: `metric`, `param:<name>`
   * for each of `params` (its value as compare matched it; null where the sets lack it) and
   * `label:<name>` (the value as written: 2M, 640x360), `base_mean`, `base_n`, `new_mean`, `new_n`,
   * `change` (new - base, the metric's unit), `relative` (change / |base mean|; null when the base
   * mean is 0), `lo`, `hi` (95 % interval of the change; null without a test), `test` (welch,
   * pooled, none), `df`, `p`, `p_adj` (Holm over the family; null without a test), `real`
   * (p_adj < alpha), and the first run of each side at that setting: `base_key`, `base_rep`,
   * `new_key`, `new_rep`.
   */
  columns: Columns;
  /** What compare noted (tests against the pooled noise, no repetitions). */
  notes: string[];
}
