/** `streambench model fit|impact|predict|recommend`: models of a metric over a result set's parameters. */
import { existsSync, statSync } from 'node:fs';
import { InputError } from '../../base/errors.ts';
import { suggestHint } from '../../base/suggest.ts';
import type { FitByResult, FitResult, Outside, PhysicsChoice } from '../../analyze/fit.ts';
import { openModelSource, runsNote, settingDecls, type ModelSource } from '../../analyze/load.ts';
import { coverageText, displaySetting, fitAndSave, fitMetric, impactOf, predictSetting, readSavedModel, recommendFor, savedModels, type PredictAnswer } from '../../analyze/models.ts';
import type { Candidate, RecommendResult } from '../../analyze/recommend.ts';
import { parseAssignment } from '../../config/load.ts';
import { ResultSet } from '../../store/resultset.ts';
import { helpText, parseCommand, positiveIntOption, type CommandSpec } from '../args.ts';
import { renderTable } from '../table.ts';
import { openSet } from './results.ts';

export const modelSpec = {
  name: 'model',
  summary: 'Models of a metric over a result set: fitted formula, impact of each parameter, predictions, recommended settings.',
  usage: [
    'streambench model fit SET --metric M [--by PARAM] [--pixels-from P] [--fps-from P] [--bitrate-from P] [--include-flagged] [--json]',
    '       streambench model impact SET --metric M [--bootstrap N] [--include-flagged] [--json]',
    '       streambench model predict SET|MODEL [--metric M]... --set PARAM=VALUE... [--pixels-from P] [--fps-from P] [--bitrate-from P] [--json]',
    '       streambench model recommend SET --maximize M|--minimize M... [--where EXPR]... [--top N] [--pixels-from P] [--fps-from P] [--bitrate-from P] [--json]',
  ].join('\n'),
  help: [
    'SET is a result set directory, or the name of one below --root; MODEL a saved model file',
    '(SET/models/<metric>.json). M is a numeric summary metric of the set (`results catalog SET` lists',
    'them). Failed and interrupted runs are never used; runs recorded saturated (a machine busy on at',
    'least 90 % of its cores for 20 % of the window: their CPU figures measure contention) are left out,',
    'counted under the answer, unless --include-flagged.',
    '',
    "How parameters enter the formulas comes from their declarations (the workload's, or the file's",
    '`params:`), never from their names: a number (number, integer, duration, bitrate) enters as its value',
    'in base units; a frame size (type resolution, whatever it is called) as its pixel count',
    '(`size.pixels`; set it as `--set size=960x540`); anything else as a category, one level per value.',
    'The physics forms take the frame size, the frame rate (a number whose unit is fps) and the bitrate',
    '(type bitrate) from the parameters so declared; where several could play one part (two frame sizes',
    'that both vary), none is guessed: the physics forms are left out with a warning, and --pixels-from,',
    '--fps-from or --bitrate-from names the one to use. fit says which it used.',
    '',
    'fit        tries the candidate forms (linear, log-linear, physics: pixel rate = width x height x fps,',
    '           bits per pixel, log bitrate; linear and log-linear with pairwise interactions), picks one',
    '           by 5-fold cross-validation over points (the fewest terms within one standard error of the',
    '           best), and prints the formula with 95 % intervals, R^2, n, cross-validated MAPE and RMSE,',
    '           the worst residuals and warnings (collinearity, too few points). Saved as',
    '           SET/models/<metric>.json (atomically). --by PARAM: one model per level of a category.',
    "impact     each parameter's and pair's share of the metric's variance, the repetitions' noise as its",
    '           own row; shares and noise add up to 1. 95 % percentile intervals of 1,000 bootstrap',
    '           resamples over points (never widened: a share outside its interval is marked *), and an',
    '           F test against the noise (p).',
    'predict    the metric at a setting, with the 95 % interval of the mean (CI) and of one run (PI). A',
    '           number outside the measured range (a parameter, or the pixel rate or bits per pixel) is',
    '           an extrapolation: said, with its distance from the range; inside it, no note. A level of',
    '           a category that no run had (a preset never measured) is refused, exit 2, with the',
    '           levels that exist: the model has no estimate for it. Values are read as `run --set`',
    '           reads them: --set bitrate=8M --set resolution=1920x1080 --set fps=60.',
    '           From SET: the metrics named by --metric (fitted now), else every model saved in SET.',
    'recommend  the best settings (measured points, and a grid over the measured values with midpoints,',
    '           predicted) under --where constraints on metrics or parameters (guest.cpu_pct<50,',
    '           bitrate<=5M, codec=h264; a frame size compares by its pixels). Several objectives give the',
    '           Pareto front; when no setting fits, it says so and lists the closest ones.',
    '',
    '  --root DIR            where result sets are looked for (default: results)',
    '  --metric M            the metric (fit, impact: one; predict: repeatable)',
    '  --by PARAM            fit: one model per level of this categorical parameter',
    '  --bootstrap N         impact: bootstrap resamples for the intervals (default 1000)',
    '  --set PARAM=VALUE     predict: a parameter value (one per parameter the model uses)',
    '  --maximize M          recommend: an objective (repeatable; with --minimize too)',
    '  --minimize M          recommend: an objective to minimise (repeatable)',
    '  --where EXPR          recommend: a constraint NAME OP VALUE, OP one of < <= > >= = != (repeatable)',
    '  --top N               recommend: how many settings to list for one objective (default 5)',
    '  --pixels-from P       the frame size (type resolution) the pixel rate is computed from, where several vary',
    '  --fps-from P          the frame rate (unit fps) of the pixel rate, where several vary',
    '  --bitrate-from P      the bitrate (type bitrate) of bits per pixel, where several vary',
    '  --include-flagged     keep the runs recorded saturated',
    '  --json                the answer as JSON (each with runs {leftOut {saturated}, notChecked, includeFlagged, text}): fit {metric, formula, terms [{name, coef, ci}], r2, n, cv',
    '                        {mape, rmse}, warnings, physics {pixels, fps, bitrate}, ...} (with --by {metric, by, levels [{level, ...}]});',
    '                        impact {metric, factors [{name, share, ci, outside, p}], noise {share, ci, outside}, ...}; predict',
    '                        {setting, predictions [{metric, value, ci, pi, outside [{param, value, range,',
    '                        distance, relative}], coverage {kind, nearest {key, setting, differs}} (with --metric)}]};',
    '                        recommend {objectives,',
    '                        fits, best, closest, considered}',
  ].join('\n'),
  options: {
    root: { type: 'string' },
    metric: { type: 'string', multiple: true },
    by: { type: 'string' },
    bootstrap: { type: 'string' },
    set: { type: 'string', multiple: true },
    maximize: { type: 'string', multiple: true },
    minimize: { type: 'string', multiple: true },
    where: { type: 'string', multiple: true },
    top: { type: 'string' },
    json: { type: 'boolean' },
    'include-flagged': { type: 'boolean' },
    'pixels-from': { type: 'string' },
    'fps-from': { type: 'string' },
    'bitrate-from': { type: 'string' },
  },
} satisfies CommandSpec;

const SUBS = ['fit', 'impact', 'predict', 'recommend'];

/** Runs `streambench model SUB ...`; returns the exit code. */
export async function modelCommand(argv: string[], out: NodeJS.WriteStream): Promise<number> {
  const a = parseCommand(modelSpec, argv);
  const [sub, target, ...extra] = a.positionals;
  if (a.values.help || !sub) return (out.write(helpText(modelSpec)), a.values.help ? 0 : 2);
  if (!SUBS.includes(sub)) throw InputError.single(`streambench model ${sub}`, `unknown subcommand '${sub}'`, suggestHint(sub, SUBS));
  if (!target) throw InputError.single(`streambench model ${sub}`, 'expected a result set', modelSpec.usage);
  if (extra.length > 0) throw InputError.single(`streambench model ${sub}`, `unexpected argument '${extra[0]}'`, 'options take their value after them: --where "guest.cpu_pct<50"');
  const root = a.values.root ?? 'results';
  const json = Boolean(a.values.json);
  const metrics = a.values.metric ?? [];
  const oneMetric = (): string => {
    if (metrics.length !== 1) throw InputError.single(`streambench model ${sub}`, metrics.length === 0 ? 'expected --metric M' : 'takes one --metric', 'streambench results catalog SET lists the metrics');
    return metrics[0]!;
  };
  const write = (v: unknown, text: () => string) => out.write(json ? `${JSON.stringify(v, null, 2)}\n` : text());
  const includeFlagged = Boolean(a.values['include-flagged']);
  const physics: PhysicsChoice = {
    ...(a.values['pixels-from'] !== undefined ? { pixels: a.values['pixels-from'] } : {}),
    ...(a.values['fps-from'] !== undefined ? { fps: a.values['fps-from'] } : {}),
    ...(a.values['bitrate-from'] !== undefined ? { bitrate: a.values['bitrate-from'] } : {}),
  };
  // Which runs a model stood on: in every --json answer ({runs: {leftOut, notChecked, ...}}) and under every text one.
  const withRuns = (v: object, src: ModelSource) => ({ ...v, runs: runsNote(src) });
  const runsLine = (src: ModelSource) => {
    const t = runsNote(src).text;
    return t ? `runs: ${t}\n` : '';
  };

  // Which parameter plays a part of the physics forms is chosen where a model is fitted: a saved one has chosen.
  const fitsNow = sub === 'fit' || sub === 'recommend' || (sub === 'predict' && metrics.length > 0);
  const physicsFlag = Object.keys(physics).length > 0 ? (['pixels-from', 'fps-from', 'bitrate-from'] as const).find((f) => a.values[f] !== undefined) : undefined;
  if (physicsFlag && !fitsNow) throw InputError.single(`--${physicsFlag}`, `applies where a model is fitted (fit, predict --metric, recommend): ${sub === 'predict' ? 'a saved model chose when it was fitted' : 'impact fits no formula'}`);
  if (sub === 'predict' && existsSync(target) && statSync(target).isFile()) {
    const saved = readSavedModel(target);
    const answer = predictSetting([saved], parseSets(a.values.set));
    // The runs the model stood on, as they were when it was fitted (a model saved before says nothing).
    const runs = saved.conditions;
    write(runs ? { ...answer, runs } : answer, () => predictText(answer, target) + (runs?.text ? `runs: ${runs.text}\n` : ''));
    return 0;
  }
  const set: ResultSet = openSet(target, root);
  switch (sub) {
    case 'fit': {
      const metric = oneMetric();
      const src = await openModelSource(set, [metric], { includeFlagged });
      const { saved, file } = fitAndSave(src, metric, a.values.by, physics);
      write(withRuns(withoutModel(saved.fit) as object, src), () => fitText(src, saved.fit) + runsLine(src) + `saved ${file}\n`);
      return 0;
    }
    case 'impact': {
      const metric = oneMetric();
      const bootstrap = a.values.bootstrap === undefined ? undefined : Number(a.values.bootstrap);
      if (bootstrap !== undefined && !(Number.isInteger(bootstrap) && bootstrap >= 0 && bootstrap <= 10000)) throw InputError.single('--bootstrap', `'${a.values.bootstrap}' is not a whole number from 0 to 10000`);
      const src = await openModelSource(set, [metric], { includeFlagged });
      const r = impactOf(src, metric, bootstrap);
      write(withRuns(r, src), () => impactText(r, unitOf(src, metric)) + runsLine(src));
      return 0;
    }
    case 'predict': {
      const sets = parseSets(a.values.set);
      let models;
      let from: ModelSource | undefined;
      if (metrics.length > 0) {
        const src = await openModelSource(set, metrics, { includeFlagged });
        from = src;
        models = metrics.map((m) => ({ fit: fitMetric(src, m, undefined, physics), settings: settingDecls(src.catalog, src.decls) }));
      } else {
        models = savedModels(set.dir);
        if (models.length === 0) throw InputError.single('model predict', `${set.dir} has no saved model`, 'name the metrics with --metric M, or fit one first: streambench model fit SET --metric M');
      }
      const answer = predictSetting(models, sets, from);
      write(from ? withRuns(answer, from) : answer, () => predictText(answer, set.dir) + (from ? runsLine(from) : ''));
      return 0;
    }
    case 'recommend': {
      const asked = [...(a.values.maximize ?? []), ...(a.values.minimize ?? [])];
      const src = await openModelSource(set, undefined, { includeFlagged });
      const r = recommendFor(src, { maximize: a.values.maximize ?? [], minimize: a.values.minimize ?? [], where: a.values.where ?? [], top: positiveIntOption(modelSpec, 'top', a.values.top, 5), physics });
      const shown = { ...r, best: r.best.map((c) => ({ ...c, params: displaySetting(src, c.params, !json) })), closest: r.closest.map((c) => ({ ...c, params: displaySetting(src, c.params, !json) })) };
      write(withRuns(shown, src), () => recommendText(src, shown, asked, a.values.where ?? []) + runsLine(src));
      return 0;
    }
  }
  return 2;
}

function parseSets(sets: string[] | undefined): { key: string; value: string }[] {
  if (!sets || sets.length === 0) throw InputError.single('model predict', 'expected the setting: --set PARAM=VALUE for each parameter the model uses', 'e.g. --set codec=h264 --set resolution=1920x1080 --set fps=60 --set bitrate=8M');
  return sets.map((s) => {
    const o = parseAssignment(s, '--set');
    return { key: o.key, value: o.value.trim() };
  });
}

/** The fit as --json shows it: the saved model's internals (covariance, design) stay in the file. */
function withoutModel(f: FitResult | FitByResult): unknown {
  const strip = ({ model: _model, ...rest }: FitResult) => rest;
  return 'levels' in f ? { ...f, levels: f.levels.map((l) => strip(l)) } : strip(f);
}

function unitOf(src: ModelSource, metric: string): string {
  const u = src.metrics.find((m) => m.name === metric)?.unit;
  return u ? ` ${u}` : '';
}

/** Significant digits for a figure in a table. */
function num(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '-' : String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '-');

function fitText(src: ModelSource, f: FitResult | FitByResult): string {
  const unit = unitOf(src, f.metric);
  if ('levels' in f) return f.levels.map((l) => `${f.by}=${l.level}:\n${oneFitText(src, l, unit)}`).join('\n');
  return oneFitText(src, f, unit);
}

function oneFitText(src: ModelSource, f: FitResult, unit: string): string {
  const lines = [`${f.metric}${unit} over ${f.n} runs (${f.points} points): form ${f.form}, chosen by cross-validation among ${f.candidates.map((c) => c.form).join(', ')}`, `  ${f.formula}`];
  // Which parameters the physics quantities were computed from (the declarations chose them, or --pixels-from ...).
  if (f.physics && f.form.startsWith('physics')) {
    lines.push(`  pixel_rate = ${f.physics.pixels} (pixels) x ${f.physics.fps} (frames/s)${f.physics.bitrate !== undefined && f.terms.some((t) => t.name.includes('bits_per_pixel')) ? `; bits_per_pixel = ${f.physics.bitrate} / pixel_rate` : ''}`);
  }
  lines.push('');
  lines.push(
    renderTable(
      ['term', 'coef', '95 % CI'],
      f.terms.map((t) => [t.name, num(t.coef), `[${num(t.ci[0])}, ${num(t.ci[1])}]`]),
    ),
  );
  lines.push('', `R^2 ${num(f.r2, 3)}   cross-validated MAPE ${pct(f.cv.mape)}, RMSE ${num(f.cv.rmse, 3)}${unit}`);
  lines.push(
    renderTable(
      ['form', 'terms', 'CV MAPE', 'CV RMSE'],
      f.candidates.map((c) => [c.form + (c.form === f.form ? ' *' : ''), c.p, pct(c.cv.mape), num(c.cv.rmse, 3)]),
    ),
  );
  const worst = [...f.residuals].sort((x, y) => Math.abs(y.residual) - Math.abs(x.residual)).slice(0, 5);
  lines.push('', `largest residuals (of ${f.residuals.length} points; --json lists all):`);
  lines.push(
    renderTable(
      ['point', 'setting', 'runs', 'measured', 'fitted', 'residual'],
      worst.map((r) => [r.key, settingText(displaySetting(src, r.params)), r.n, num(r.y), num(r.fitted), num(r.residual, 3)]),
    ),
  );
  for (const w of f.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

function settingText(p: Record<string, number | string>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function impactText(r: ReturnType<typeof impactOf>, unit: string): string {
  const ci = (f: { ci: [number, number]; outside: boolean }) => `[${pct(f.ci[0])}, ${pct(f.ci[1])}]${f.outside ? ' *' : ''}`;
  const rows = [...r.factors].sort((x, y) => y.share - x.share).map((f) => [f.name, pct(f.share), ci(f), Number.isNaN(f.p) ? '-' : num(f.p, 2), bar(f.share)]);
  rows.push(['noise (repetitions)', pct(r.noise.share), ci(r.noise), '', bar(r.noise.share)]);
  const lines = [`${r.metric}${unit}: share of its variance over ${r.n} runs (${r.points} points)`, renderTable(['factor', 'share', '95 % CI', 'p', ''], rows)];
  lines.push('95 % CI: percentile interval of a bootstrap over points, as it came out (never widened to hold the share)' + ([...r.factors, r.noise].some((f) => f.outside) ? '; *: the share lies outside it (see the warning)' : ''));
  lines.push('p: F test of the factor against the noise of the repetitions (a parameter with p > 0.05 is not told apart from noise)');
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

function bar(share: number): string {
  return '#'.repeat(Math.max(0, Math.round(share * 40)));
}

function predictText(answer: PredictAnswer, from: string): string {
  const lines = [`at ${settingText(answer.setting)} (models of ${from}):`];
  lines.push(
    renderTable(
      ['metric', 'predicted', 'of', '95 % CI (of it)', '95 % PI (one run)', 'model'],
      answer.predictions.map((p) => [
        p.metric,
        num(p.value),
        p.estimate,
        `[${num(p.ci[0])}, ${num(p.ci[1])}]`,
        `[${num(p.pi[0])}, ${num(p.pi[1])}]`,
        [p.level !== undefined ? `level ${p.level}` : '', p.smearing !== undefined ? `log form, smearing x${num(p.smearing, 4)}` : ''].filter(Boolean).join(', '),
      ]),
    ),
  );
  if (answer.predictions.some((p) => p.smearing !== undefined)) {
    lines.push("a log-form model fits log(metric): exp of its prediction is the median of a run; the mean is that times Duan's smearing factor (the mean of exp(residual) over the runs fitted), as its CI; the PI is one run's own quantiles");
  }
  if (answer.predictions.some((p) => p.estimate === 'median')) {
    lines.push('median: a log-form model saved before its smearing factor was kept gives the median of a run; fit it again (streambench model fit) for the mean');
  }
  for (const p of answer.predictions) for (const o of p.outside) lines.push(`outside the measured range: ${p.metric}: ${outsideText(o)}: an extrapolation`);
  for (const p of answer.predictions) if (p.coverage && p.coverage.kind !== 'measured') lines.push(`${p.metric}: ${coverageText(p.coverage)}`);
  return `${lines.join('\n')}\n`;
}

/** `fps 60 is outside the measured 15 .. 30 (30 above the top, +100 %)`. */
function outsideText(o: Outside): string {
  const measured = o.range[0] === o.range[1] ? `the only value measured, ${num(o.range[0])}` : `the measured ${num(o.range[0])} .. ${num(o.range[1])}`;
  const by = `${num(Math.abs(o.distance))} ${o.distance > 0 ? 'above the top' : 'below the bottom'}${o.relative !== undefined ? `, ${o.relative > 0 ? '+' : '-'}${(Math.abs(o.relative) * 100).toFixed(0)} %` : ''}`;
  return `${o.param} ${num(o.value)} is outside ${measured} (${by})`;
}

function recommendText(src: ModelSource, r: RecommendResult, asked: string[], where: string[]): string {
  const metrics = [...new Set([...r.objectives.map((o) => o.metric), ...Object.keys(r.best[0]?.metrics ?? r.closest[0]?.metrics ?? {})])];
  const table = (cs: Candidate[], violations: boolean) =>
    renderTable(
      ['setting', 'from', ...metrics.map((m) => `${m}${unitOf(src, m)}`), ...(violations ? ['breaks'] : []), 'outside'],
      cs.map((c) => [
        settingText(c.params),
        c.source,
        ...metrics.map((m) => {
          const x = c.metrics[m]!;
          return x.measured !== undefined ? `${num(x.measured)} (measured)` : `${num(x.value)} [${num(x.pi[0])}, ${num(x.pi[1])}]`;
        }),
        ...(violations ? [c.violations.join(', ')] : []),
        c.outside.join(', '),
      ]),
    );
  const goal = r.objectives.map((o) => `${o.sense} ${o.metric}`).join(', ');
  const under = where.length > 0 ? ` where ${where.join(' and ')}` : '';
  if (!r.fits) return `no setting fits${under} (${r.considered} settings considered for ${asked.join(', ')}); the closest:\n${table(r.closest, true)}\n`;
  const head = r.objectives.length > 1 ? `the Pareto front (${goal})${under}: ${r.best.length} setting(s) no other beats on every objective` : `the best settings to ${goal}${under}`;
  return `${head}, of ${r.considered} considered (predicted figures: the mean of a run, a log-form model's retransformed by Duan's smearing factor, with the 95 % interval of one run):\n${table(r.best, false)}\n`;
}
