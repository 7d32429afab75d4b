// The models of a result set as the CLI and the GUI's server ask for them: one computation behind
// `model fit|impact|predict|recommend --json` and the model view, so a figure is the same in both.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, InputError, StoreError } from '../base/errors.ts';
import { checkSavedModel } from '../config/saved-model.ts';
import { writeJsonAtomic } from '../base/fs-atomic.ts';
import { formatBitrate } from '../config/declare.ts';
import { suggestHint } from '../base/suggest.ts';
import { coverageOf, type Coverage } from './coverage.ts';
import { userName, type Dataset } from './dataset.ts';
import { fit, predict, type FitByResult, type FitResult, type PhysicsChoice, type Prediction } from './fit.ts';
import { impact, type ImpactResult } from './impact.ts';
import { datasetOf, metricOf, runsNote, settingDecls, settingOf, type ModelSource, type SettingDecl } from './load.ts';
import { recommend, type Constraint, type RecommendResult } from './recommend.ts';

/** A fitted model as saved in a set (`models/<metric>.json`): the fit and what reading a setting for it needs. */
export interface SavedModel {
  format: 1;
  /** The set's name and directory when it was fitted. */
  set: string;
  dir: string;
  createdAt: string;
  /** Runs it was fitted on (a set that grew since has more). */
  runs: number;
  /** Which runs it stood on: saturated ones left out or kept, unchecked ones (absent in models saved before). */
  conditions?: ReturnType<typeof runsNote>;
  settings: SettingDecl[];
  fit: FitResult | FitByResult;
}

/** The directory of a set's saved models. */
export const MODELS_DIR = 'models';

/** File name of a metric's model: the metric's name, with anything but letters, digits, `.`, `_` and `-` as `_`. */
export function modelFile(dir: string, metric: string): string {
  return join(dir, MODELS_DIR, `${metric.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/** The runs of a metric as fitMetric fits them: a frame size as its pixel count, or as its labels where the fit is split by it. */
export function modelDataset(src: ModelSource, metric: string, by?: string): Dataset {
  const byFrame = by !== undefined && src.catalog.params.some((p) => p.name === by && p.type === 'resolution');
  return datasetOf(src, metric, byFrame ? { label: [by] } : 'pixels');
}

/** Fits a metric of the set (one model per level of `by` when given; `physics`: which parameter plays a part of the physics forms where several could). */
export function fitMetric(src: ModelSource, metric: string, by?: string, physics: PhysicsChoice = {}): FitResult | FitByResult {
  // Split by a frame size, that frame size is a category of its labels rather than a pixel count (the others stay pixel counts).
  const ds = modelDataset(src, metric, by);
  if (by === undefined) return fit(ds, { physics });
  const names = ds.params.map((p) => p.name);
  if (!names.includes(by)) {
    const shown = ds.params.map(userName);
    throw InputError.single(`--by ${by}`, `no parameter "${by}" to split by in ${src.set.dir}`, suggestHint(by, [...new Set(shown)]));
  }
  if (ds.params.find((p) => p.name === by)!.kind !== 'categorical') throw InputError.single(`--by ${by}`, `${by} is a number: --by takes a category (codec, scene, ...), a number enters the formula itself`);
  return fit(ds, { by, physics });
}

/** Fits and saves a metric's model in the set (atomically); returns it and the file. */
export function fitAndSave(src: ModelSource, metric: string, by?: string, physics: PhysicsChoice = {}): { saved: SavedModel; file: string } {
  const f = fitMetric(src, metric, by, physics);
  const saved: SavedModel = { format: 1, set: src.set.name, dir: src.set.dir, createdAt: new Date().toISOString(), runs: src.rows.length, conditions: runsNote(src), settings: settingDecls(src.catalog, src.decls), fit: f };
  const file = modelFile(src.set.dir, metric);
  writeJsonAtomic(file, saved);
  return { saved, file };
}

/** Reads a saved model file; a file that is not one says so. */
export function readSavedModel(file: string): SavedModel {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StoreError(`${file} does not exist`);
    if (e instanceof SyntaxError) throw new StoreError(`${file} is not a saved model (not valid JSON); fit it again with streambench model fit`);
    throw e;
  }
  const m = v as Partial<SavedModel> | null;
  if (!m || typeof m !== 'object' || m.format !== 1 || !m.fit || !Array.isArray(m.settings)) throw new StoreError(`${file} is not a saved model of this version; fit it again with streambench model fit`);
  // The formula is checked as the guest's model policy checks it, field by field.
  try {
    checkSavedModel(m);
  } catch (e) {
    throw new StoreError(`${file} is not a saved model this version reads: ${errorMessage(e)}; fit it again with streambench model fit`);
  }
  return m as SavedModel;
}

/** The saved models of a set, by metric. */
export function savedModels(dir: string): SavedModel[] {
  const d = join(dir, MODELS_DIR);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()
    .map((n) => readSavedModel(join(d, n)));
}

/** The share of variance per parameter and pair with the noise apart (a resolution as its labels). */
export function impactOf(src: ModelSource, metric: string, bootstrap?: number): ImpactResult {
  return impact(datasetOf(src, metric, 'label'), bootstrap === undefined ? {} : { bootstrap });
}

/** The parameters a model needs a value of, as a user sets them. */
export function neededSettings(f: FitResult | FitByResult): string[] {
  const names = 'levels' in f ? [f.by, ...f.levels.flatMap((l) => l.model.params.map(userName))] : f.model.params.map(userName);
  return [...new Set(names)];
}

/** A prediction answered for a user: the setting as given, each metric's value and intervals, what lies outside the measured range. */
export interface PredictAnswer {
  setting: Record<string, number | string>;
  /** From a set: each with `coverage`, how far the setting is from the points measured. */
  predictions: (Prediction & { coverage?: SettingCoverage })[];
}

/** Predicts each model's metric at the setting given as `--set` pairs (read with the set's declarations); from a set (`src`), each with how far the setting is from the points measured. */
export function predictSetting(models: readonly { fit: FitResult | FitByResult; settings: SettingDecl[] }[], sets: readonly { key: string; value: unknown }[], src?: ModelSource): PredictAnswer {
  if (models.length === 0) throw InputError.single('model predict', 'no model to predict with', 'fit one: streambench model fit SET --metric M, or name metrics with --metric');
  const setting = settingOf(models[0]!.settings, sets);
  for (const m of models) {
    const missing = neededSettings(m.fit).filter((n) => setting[n] === undefined);
    if (missing.length > 0) throw InputError.single('model predict', `the model of ${m.fit.metric} needs a value of ${missing.join(', ')}`, missing.map((n) => `--set ${n}=${exampleOf(m.settings, n)}`).join(' '));
  }
  const given = Object.fromEntries(sets.map((s) => [s.key, setting[s.key]!]));
  return {
    setting: given,
    predictions: models.map((m) => {
      const p = predict(m.fit, setting);
      return src ? { ...p, coverage: settingCoverage(src, m.fit, setting, p) } : p;
    }),
  };
}

/** A setting's distance from the points measured, in the user's names (a frame size by its label). */
export interface SettingCoverage extends Omit<Coverage, 'nearest'> {
  nearest: { key: string; setting: Record<string, number | string>; differs: string[] };
}

function settingCoverage(src: ModelSource, f: FitResult | FitByResult, setting: Record<string, number | string>, p: Prediction): SettingCoverage {
  let one: FitResult = f as FitResult;
  let rows = modelDataset(src, f.metric, 'levels' in f ? f.by : undefined).rows;
  if ('levels' in f) {
    one = f.levels.find((l) => l.level === p.level)!;
    rows = rows.filter((r) => String(r.params[f.by]) === p.level);
  }
  const c = coverageOf(one, rows, setting, p.outside);
  return { kind: c.kind, nearest: { key: c.nearest.key, setting: displaySetting(src, c.nearest.params), differs: c.nearest.differs } };
}

/** A coverage in one line: where the setting stands and the nearest point measured. */
export function coverageText(c: SettingCoverage): string {
  const near = `nearest measured point: ${Object.entries(c.nearest.setting)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  const differs = c.nearest.differs.join(', ');
  switch (c.kind) {
    case 'measured':
      return 'a setting measured';
    case 'between':
      return `between tested values of ${differs} (interpolated); ${near}`;
    case 'unseen-combination':
      return `extrapolated: an unseen combination, each value was tested but never together; ${near} (differs in ${differs})`;
    case 'outside':
      return `extrapolated: outside the tested range; ${near}${differs ? ` (differs in ${differs})` : ''}`;
  }
}

function exampleOf(settings: readonly SettingDecl[], name: string): string {
  const d = settings.find((s) => s.name === name);
  return d?.values?.[0] !== undefined ? String(d.values[0]) : 'VALUE';
}

const WHERE = /^\s*([A-Za-z_][A-Za-z0-9_.:/-]*)\s*(<=|>=|!=|=|<|>)\s*(.+?)\s*$/;

/** Parses `--where` constraints: a metric of the set (a number) or a parameter (read as `--set` reads it). */
export function parseWhere(src: ModelSource, texts: readonly string[]): Constraint[] {
  const decls = settingDecls(src.catalog, src.decls);
  return texts.map((text) => {
    const m = WHERE.exec(text);
    if (!m) throw InputError.single(`--where ${text}`, 'not a constraint: expected NAME OP VALUE with OP one of < <= > >= = !=', 'e.g. --where "guest.cpu_pct<50" --where "bitrate<=5M"');
    const [, name, op, raw] = m as unknown as [string, string, Constraint['op'], string];
    if (src.metrics.some((x) => x.name === name)) {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw InputError.single(`--where ${text}`, `${raw} is not a number (${name} is a metric)`);
      return { metric: name, op, value };
    }
    if (decls.some((d) => d.name === name)) {
      const s = settingOf(decls, [{ key: name, value: raw }]);
      // A frame size (any parameter of type resolution) is compared by its pixel count: `size<=1280x720`.
      const pixels = s[`${name}.pixels`];
      if (decls.find((d) => d.name === name)!.type === 'resolution' && pixels !== undefined) return { param: `${name}.pixels`, op, value: pixels };
      return { param: name, op, value: s[name]! };
    }
    throw InputError.single(`--where ${text}`, `"${name}" is neither a metric nor a parameter of ${src.set.dir}`, suggestHint(name, [...src.metrics.map((x) => x.name), ...decls.map((d) => d.name)]));
  });
}

/** Options of recommendFor. */
export interface RecommendAsk {
  maximize?: string[];
  minimize?: string[];
  where?: string[];
  top?: number;
  physics?: PhysicsChoice;
}

/** The best settings of a set: each metric named fitted, measured points and a grid predicted. */
export function recommendFor(src: ModelSource, ask: RecommendAsk): RecommendResult {
  const where = parseWhere(src, ask.where ?? []);
  const objectives = [...(ask.maximize ?? []), ...(ask.minimize ?? [])];
  for (const m of objectives) metricOf(src, m);
  if (objectives.length === 0) throw InputError.single('model recommend', 'nothing to optimise: give --maximize or --minimize a metric');
  const metrics = [...new Set([...objectives, ...where.flatMap((c) => (c.metric ? [c.metric] : []))])];
  const models = metrics.map((m) => fitMetric(src, m, undefined, ask.physics ?? {}));
  return recommend(models, { ...(ask.maximize ? { maximize: ask.maximize } : {}), ...(ask.minimize ? { minimize: ask.minimize } : {}), where, ...(ask.top ? { top: ask.top } : {}) });
}

/** A setting as the user reads it: a frame size by its label (from the set's runs); with `asText`, a bitrate as written (2M), else in bits/s. */
export function displaySetting(src: ModelSource, params: Record<string, number | string>, asText = true): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  // A frame size's pixel count, width and height (`size.pixels`) belong to it (`size`).
  const frames = new Map<string, { name: string; part: string }>(src.catalog.params.filter((p) => p.type === 'resolution').flatMap((p) => ['pixels', 'width', 'height'].map((part) => [`${p.name}.${part}`, { name: p.name, part }] as const)));
  // In the order the set declares its parameters, whatever order the setting came in.
  const order = (k: string) => {
    const i = src.catalog.params.findIndex((p) => p.name === (frames.get(k)?.name ?? k));
    return i < 0 ? Infinity : i;
  };
  for (const [k, v] of Object.entries(params).sort(([a], [b]) => order(a) - order(b))) {
    const frame = frames.get(k);
    if (frame?.part === 'pixels') {
      const row = src.rows.find((r) => r.cells[k] === v);
      out[frame.name] = row ? String(row.cells[frame.name]) : `${v} px`;
    } else if (frame === undefined) {
      const type = src.catalog.params.find((p) => p.name === k)?.type;
      out[k] = asText && type === 'bitrate' && typeof v === 'number' && Number.isInteger(v) ? formatBitrate(v) : v;
    }
  }
  return out;
}
