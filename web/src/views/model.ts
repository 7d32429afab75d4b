/**
 * The model view (issue 14 point 7): for one metric of one set, the fitted formula, the impact of
 * each parameter (bars, noise of the repetitions as its own bar), measured against predicted per
 * point, residuals per point with the worst linked to their runs, and a what-if form whose answer
 * is `streambench model predict SET --metric M --set ... --json`'s; per parameter the model's partial
 * dependence beside the measured means; a warning on a poor fit; a what-if far from the points
 * measured greyed and said so. State keys: mset, mmetric, and w.<param> for the what-if setting
 * (asked again when the address is opened).
 */
import type { ModelEffect, ModelMetricsResponse, ModelPredictResponse, ModelResponse } from '../../../src/server/api-types.ts';
import { exportButtons, makeChart, toCsv, type Chart } from '../chart.ts';
import { el } from '../dom.ts';
import type { ViewContext } from '../view.ts';

/** What the browser test reads: the model shown and the last what-if answer. */
export interface ModelHook {
  model?: ModelResponse;
  predict?: ModelPredictResponse;
  /** The metric menu's list and what it leaves out. */
  metrics?: ModelMetricsResponse;
}

/** The prefix of a what-if setting in the address (`w.fps=30`). */
const WHATIF = 'w.';

declare global {
  interface Window {
    __sbModel?: ModelHook;
  }
}

function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)} %`);

/** Mounts the view; returns its unmount. */
export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  // Read after each wait: the view may have been unmounted meanwhile.
  const live = () => alive;
  const charts: Chart[] = [];
  const hook: ModelHook = (window.__sbModel = {});
  const sets = ctx.catalog.sets.map((s) => s.name);
  const lists = new Map<string, Promise<ModelMetricsResponse>>();
  /** The model drawn and what it was asked for: a change of the what-if alone does not fit it again. */
  let drawn: { set: string; metric: string; flagged: boolean; model: ModelResponse } | undefined;
  /** The runs recorded saturated are left out of a model unless the box says keep them (the server's flagged=include). */
  const keepFlagged = () => ctx.state['mflagged'] === 'include';
  const flaggedQuery = (): Record<string, string> => (keepFlagged() ? { flagged: 'include' } : {});
  let answerWhatIf: (() => void) | undefined;

  const controls = el('div', { className: 'controls' });
  const status = el('p', { className: 'note' });
  const summary = el('div', { className: 'panel' });
  const effects = el('div', { className: 'facets effects' });
  const grid = el('div', { className: 'facets' });
  root.append(controls, status, summary, effects, grid);

  const select = (label: string, options: { value: string; text: string; title?: string }[], value: string, key: string) => {
    const s = el('select', {}, ...options.map((o) => el('option', { value: o.value, textContent: o.text, selected: o.value === value, title: o.title ?? '' })));
    s.dataset['control'] = key;
    s.addEventListener('change', () => {
      const patch: Record<string, string | null> = { [key]: s.value };
      // Another metric's model may use other parameters: the what-if is asked anew.
      for (const k of Object.keys(ctx.state)) if (k.startsWith(WHATIF)) patch[k] = null;
      ctx.setState(patch);
    });
    return el('label', {}, label, s);
  };

  function panel(title: string, name: string, height = 380, parent: HTMLElement = grid): { box: HTMLElement; chart: Chart } {
    const box = el('div', { className: 'panel' });
    const div = el('div', { className: 'chart' });
    div.style.height = `${height}px`;
    box.append(el('h3', { textContent: title }), div);
    parent.append(box);
    const chart = makeChart(div, name);
    charts.push(chart);
    return { box, chart };
  }

  function keepBox(): HTMLElement {
    const box = el('input', { type: 'checkbox', checked: keepFlagged() });
    box.dataset['control'] = 'mflagged';
    box.addEventListener('change', () => ctx.setState({ mflagged: box.checked ? 'include' : null }));
    return el('label', { title: 'runs recorded on a machine busy on at least 90 % of its cores measure contention: left out of models unless kept here' }, box, 'keep saturated runs');
  }

  function metricsOf(set: string): Promise<ModelMetricsResponse> {
    let got = lists.get(set);
    if (!got) {
      got = ctx.api<ModelMetricsResponse>('/api/model/metrics', { set });
      lists.set(set, got);
      got.catch(() => lists.delete(set));
    }
    return got;
  }

  function showError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    window.__sb.error = message;
    status.replaceChildren(el('span', { className: 'error', textContent: message }));
  }

  async function load(): Promise<void> {
    const set = ctx.state['mset'] ?? sets[0]!;
    let list: ModelMetricsResponse;
    try {
      list = await metricsOf(set);
    } catch (e) {
      if (alive) showError(e);
      return;
    }
    if (!alive) return;
    hook.metrics = list;
    const names = list.metrics.map((m) => m.name);
    const asked = ctx.state['mmetric'];
    const metric = asked ?? names.find((m) => m === 'guest.cpu_pct') ?? names.find((m) => m.endsWith('cpu_pct')) ?? names[0] ?? '';
    if (drawn && drawn.set === set && drawn.metric === metric && drawn.flagged === keepFlagged()) {
      answerWhatIf?.();
      return;
    }
    // A metric the address names that the menu leaves out stays named (the fit says why it cannot be modelled), never silently replaced.
    const options = list.metrics.map((m) => ({ value: m.name, text: m.name, title: `${m.doc}${m.unit ? ` (${m.unit})` : ''}` }));
    if (metric && !names.includes(metric)) options.unshift({ value: metric, text: `${metric} (not modelled)`, title: '' });
    const left = list.leftOut.length > 0 ? [el('details', { className: 'note left-out' }, el('summary', { textContent: `${list.leftOut.length} metric(s) left out of the menu` }), el('ul', {}, ...list.leftOut.map((l) => el('li', { textContent: `${l.name}: ${l.why}` }))))] : [];
    controls.replaceChildren(
      ...(sets.length > 1
        ? [
            select(
              'result set',
              sets.map((v) => ({ value: v, text: v })),
              set,
              'mset',
            ),
          ]
        : []),
      select('metric', options, metric, 'mmetric'),
      keepBox(),
      ...left,
    );
    if (!metric) {
      status.replaceChildren(el('span', { className: 'error', textContent: `no metric of ${set} varies over its runs: nothing to model` }));
      return;
    }
    const left1 = list.leftOut.find((l) => l.name === metric);
    if (left1) {
      drawn = undefined;
      for (const c of charts.splice(0)) c.dispose();
      summary.replaceChildren();
      effects.replaceChildren();
      grid.replaceChildren();
      showError(new Error(`${metric}: ${left1.why}; choose another metric`));
      window.__sb.draws++;
      return;
    }
    status.textContent = `fitting ${metric} ...`;
    try {
      const m = await ctx.api<ModelResponse>('/api/model', { set, metric, ...flaggedQuery() });
      if (!live()) return;
      hook.model = m;
      drawn = { set, metric, flagged: keepFlagged(), model: m };
      draw(m);
      delete window.__sb.error;
      window.__sb.draws++;
      answerWhatIf?.();
    } catch (e) {
      if (!live()) return;
      drawn = undefined;
      showError(e);
      window.__sb.draws++;
    }
  }

  function draw(m: ModelResponse): void {
    for (const c of charts.splice(0)) c.dispose();
    grid.replaceChildren();
    effects.replaceChildren();
    const unit = m.unit ? ` ${m.unit}` : '';
    status.textContent = `${m.set}: ${m.metric}${unit} over ${m.fit.n} runs (${m.fit.points} points); form ${m.fit.form}, chosen by 5-fold cross-validation.`;
    const q = m.quality;
    summary.replaceChildren(
      ...(q.poor ? [el('div', { className: 'warning poor-fit' }, el('strong', { textContent: 'Poor fit: read its curves and predictions with care. ' }), ...q.reasons.map((r) => el('div', { textContent: r })))] : []),
      el('code', { className: 'formula', textContent: m.fit.formula }),
      el('p', {
        className: 'fit-figures',
        textContent: `R² ${num(m.fit.r2, 3)}${m.fit.form.includes('log') ? ' (of the log)' : ''} · cross-validated R² ${num(q.cvR2, 3)} · MAPE ${pct(m.fit.cv.mape)} · RMSE ${num(m.fit.cv.rmse, 3)}${unit} (the metric's sd over the runs: ${num(q.sd, 3)}${unit})`,
      }),
      ...[...m.fit.warnings, ...m.impact.warnings].map((w) => el('p', { className: 'note', textContent: `warning: ${w}` })),
      // Which runs the model stands on: saturated runs are left out (their CPU figures measure contention).
      ...(m.runs.text ? [el('p', { className: 'note runs', textContent: `runs: ${m.runs.text}` })] : []),
    );
    drawEffects(m);

    // Impact: each factor's share of the variance, the repetitions' noise as the last bar.
    const f = m.impact.factors;
    const names = [...(f['name'] as string[]), 'noise (repetitions)'];
    const shares = [...(f['share'] as number[]), m.impact.noise.share];
    const lo = [...(f['lo'] as number[]), m.impact.noise.lo];
    const hi = [...(f['hi'] as number[]), m.impact.noise.hi];
    const outside = [...((f['outside'] as boolean[] | undefined) ?? names.slice(1).map(() => false)), m.impact.noise.outside];
    const imp = panel('Impact: share of the variance (95 % bootstrap interval in the tooltip)', 'model-impact', Math.max(220, 28 * names.length + 60));
    imp.chart.setOption({
      animation: false,
      grid: { left: 170, right: 40, top: 10, bottom: 30 },
      xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
      yAxis: { type: 'category', data: names, inverse: true },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number }) =>
          `${names[p.dataIndex]}: ${pct(shares[p.dataIndex])}, 95 % bootstrap interval [${pct(lo[p.dataIndex])}, ${pct(hi[p.dataIndex])}]${outside[p.dataIndex] ? '<br>the share lies outside its interval: the bootstrap is biased near 0 (see the warning)' : ''}`,
      },
      series: [{ type: 'bar', name: 'share', data: shares.map((s, i) => ({ value: s, itemStyle: { color: i === shares.length - 1 ? '#a0a8b3' : '#3a6ea5' } })), label: { show: true, position: 'right', formatter: (p: { value: number }) => pct(p.value) } }],
    });
    exportButtons(imp.box, imp.chart, () => toCsv({ factor: names, share: shares, lo, hi, outside }), `impact-${m.metric}`);

    // Measured against predicted, one dot per point (the mean of its runs), the diagonal where they agree.
    const r = m.fit.residuals;
    const measured = r['measured'] as number[];
    const fitted = r['fitted'] as number[];
    const settings = r['setting'] as string[];
    const all = [...measured, ...fitted];
    const [min, max] = [Math.min(...all), Math.max(...all)];
    const fit = panel('Measured against predicted (one dot per point)', 'model-fit');
    fit.chart.setOption({
      animation: false,
      grid: { left: 70, right: 20, top: 20, bottom: 50 },
      xAxis: { type: 'value', name: `predicted${unit}`, nameLocation: 'middle', nameGap: 30, scale: true },
      yAxis: { type: 'value', name: `measured${unit}`, scale: true },
      tooltip: { trigger: 'item', formatter: (p: { dataIndex: number; seriesIndex: number }) => (p.seriesIndex === 0 ? `${settings[p.dataIndex]}<br>measured ${num(measured[p.dataIndex])}, predicted ${num(fitted[p.dataIndex])}` : '') },
      series: [
        { type: 'scatter', name: 'points', data: fitted.map((x, i) => [x, measured[i]]), symbolSize: 8 },
        {
          type: 'line',
          name: 'measured = predicted',
          data: [
            [min, min],
            [max, max],
          ],
          symbol: 'none',
          lineStyle: { type: 'dashed', color: '#888' },
        },
      ],
    });
    const openAt = (i: number) => ctx.openRun(m.set, (r['key'] as string[])[i]!, (r['rep'] as number[])[i]!);
    fit.chart.on('click', (p) => {
      if (p.seriesIndex === 0) openAt(p.dataIndex);
    });
    exportButtons(fit.box, fit.chart, () => toCsv({ key: r['key']!, setting: settings, measured, predicted: fitted }), `fit-${m.metric}`);

    // Residuals per point, largest first; the worst five listed as links to their runs.
    const residual = r['residual'] as number[];
    const res = panel('Residuals per point (measured - predicted), largest first, named by setting; click a bar to open its run', 'model-residuals', settings.length <= 40 ? 460 : 380);
    res.chart.setOption({
      animation: false,
      // Each bar named by its setting (too many to read: by rank, the setting in the tooltip).
      grid: { left: 70, right: 20, top: 20, bottom: settings.length <= 40 ? 150 : 30 },
      xAxis: { type: 'category', data: settings.length <= 40 ? settings : settings.map((_, i) => String(i + 1)), axisLabel: { interval: 0, rotate: settings.length <= 40 ? 40 : 0, fontSize: 10, show: settings.length <= 40 } },
      yAxis: { type: 'value', name: `residual${unit}` },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number }) => `${settings[p.dataIndex]}<br>${(r['runs'] as number[])[p.dataIndex]} run(s): measured mean ${num(measured[p.dataIndex])}${unit}, predicted ${num(fitted[p.dataIndex])}${unit}<br>residual ${num(residual[p.dataIndex])}${unit}`,
      },
      series: [{ type: 'bar', name: 'residual', data: residual.map((v) => ({ value: v, itemStyle: { color: v >= 0 ? '#c0504d' : '#4f81bd' } })) }],
    });
    res.chart.on('click', (p) => openAt(p.dataIndex));
    const worst = el('ol', { className: 'worst' });
    for (let i = 0; i < Math.min(5, residual.length); i++) {
      const a = el('a', { href: '#', textContent: `${settings[i]}: residual ${num(residual[i])}${unit} (measured ${num(measured[i])}, predicted ${num(fitted[i])})` });
      a.dataset['key'] = (r['key'] as string[])[i]!;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        openAt(i);
      });
      worst.append(el('li', {}, a));
    }
    res.box.append(el('p', { className: 'note', textContent: 'the worst points (open their runs):' }), worst);
    exportButtons(res.box, res.chart, () => toCsv({ key: r['key']!, rep: r['rep']!, setting: settings, residual }), `residuals-${m.metric}`);

    whatIf(m);
  }

  /**
   * Per parameter the model uses, its partial dependence (the model's mean prediction with only
   * that parameter changed, averaged over the runs) as a line for a number, points for a category,
   * and the measured means beside it. Every panel has the same y scale, so a small effect looks small.
   */
  function drawEffects(m: ModelResponse): void {
    if (m.effects.length === 0) return;
    const unit = m.unit ? ` ${m.unit}` : '';
    const all = m.effects.flatMap((e) => [...e.value, ...e.observed.mean]);
    // Round ends a tenth of the span's decade apart, so the axis ticks read as round numbers.
    const span = Math.max(...all) - Math.min(...all) || Math.abs(all[0]!) || 1;
    const step = 10 ** Math.floor(Math.log10(span)) / 2;
    const [ymin, ymax] = [Math.floor(Math.min(...all) / step) * step, Math.ceil(Math.max(...all) / step) * step];
    effects.append(el('h3', { className: 'effects-title', textContent: `Effect of each parameter (partial dependence: the model's mean prediction with only that parameter changed, averaged over the runs; dots: the measured means; one y scale for all)` }));
    for (const e of m.effects) {
      const c = e.change;
      const dir = e.kind === 'numeric' ? `${c.value >= 0 ? 'rises' : 'falls'} from ${label(e, c.from)} to ${label(e, c.to)}: ${c.value >= 0 ? '+' : ''}${num(c.value, 3)}${unit}` : `${label(e, c.to)} is ${num(c.value, 3)}${unit} above ${label(e, c.from)}`;
      const p = panel(`${e.param}: ${dir}${c.pct !== null ? ` (${c.value >= 0 ? '+' : ''}${(c.pct * 100).toFixed(1)} %)` : ''}`, `model-effect-${e.param}`, 260, effects);
      p.box.classList.add('effect');
      p.box.dataset['param'] = e.param;
      const xName = `${e.param}${e.unit ? ` (${e.unit})` : ''}`;
      const tip = (i: number) => `${e.param} = ${e.observed.label[i]}: measured mean ${num(e.observed.mean[i])}${unit} over ${e.observed.n[i]} run(s)`;
      p.chart.setOption({
        animation: false,
        grid: { left: 70, right: 20, top: 30, bottom: 45 },
        legend: { top: 0, data: ['model (partial dependence)', 'measured mean'] },
        xAxis: e.kind === 'numeric' ? { type: 'value', name: xName, nameLocation: 'middle', nameGap: 28, scale: true } : { type: 'category', name: xName, nameLocation: 'middle', nameGap: 28, data: e.x as string[] },
        yAxis: { type: 'value', name: m.metric + unit, nameLocation: 'middle', nameGap: 50, min: Number(ymin.toPrecision(6)), max: Number(ymax.toPrecision(6)) },
        tooltip: {
          trigger: 'item',
          formatter: (q: { seriesIndex: number; dataIndex: number }) => (q.seriesIndex === 1 ? tip(q.dataIndex) : `${e.param} = ${label(e, e.x[q.dataIndex]!)}: the model's mean ${num(e.value[q.dataIndex])}${unit}`),
        },
        series: [
          e.kind === 'numeric'
            ? { type: 'line', name: 'model (partial dependence)', data: e.x.map((x, i) => [x, e.value[i]]), symbol: 'none', lineStyle: { width: 2, color: '#3a6ea5' }, itemStyle: { color: '#3a6ea5' } }
            : { type: 'scatter', name: 'model (partial dependence)', data: e.x.map((x, i) => [x, e.value[i]]), symbol: 'diamond', symbolSize: 14, itemStyle: { color: '#3a6ea5' } },
          { type: 'scatter', name: 'measured mean', data: e.observed.x.map((x, i) => [x, e.observed.mean[i]]), symbolSize: 8, itemStyle: { color: '#c0504d' } },
        ],
      });
      exportButtons(
        p.box,
        p.chart,
        () => toCsv({ [e.param]: e.x.map((x) => label(e, x)), model: e.value }, { metric: `${m.metric}${unit}`, set: m.set, what: `partial dependence of ${m.metric} on ${e.param}: the model's (${m.fit.form}) mean prediction averaged over the runs` }),
        `effect-${m.metric}-${e.param}`,
      );
    }
  }

  function label(e: ModelEffect, x: number | string): string {
    const i = e.observed.x.indexOf(x);
    return i >= 0 ? String(e.observed.label[i]) : typeof x === 'number' ? num(x) : x;
  }

  function whatIf(m: ModelResponse): void {
    const box = el('div', { className: 'panel whatif' });
    box.append(el('h3', { textContent: 'What if: the predicted value at a setting (a number measured or not; a category as measured)' }));
    const form = el('form', { className: 'controls' });
    const inputs = new Map<string, HTMLInputElement>();
    const fromAddress = () => Object.fromEntries(Object.entries(ctx.state).flatMap(([k, v]) => (k.startsWith(WHATIF) ? [[k.slice(WHATIF.length), v]] : [])));
    for (const s of m.settings) {
      const list = el('datalist', { id: `whatif-${s.name}` }, ...s.values.map((v) => el('option', { value: String(v) })));
      const input = el('input', { name: s.name, value: fromAddress()[s.name] ?? String(s.values[0] ?? ''), size: 12 });
      input.setAttribute('list', list.id);
      inputs.set(s.name, input);
      form.append(el('label', {}, `${s.name}${s.unit && s.unit !== s.name && s.type !== 'bitrate' && s.type !== 'resolution' ? ` (${s.unit})` : ''}`, input, list));
    }
    const go = el('button', { type: 'submit', textContent: 'predict' });
    form.append(go);
    const answer = el('div', { className: 'answer' });
    // The setting goes to the address; the address's change asks for the prediction (so a reload or a shared link asks it again).
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const patch: Record<string, string | null> = {};
      for (const k of Object.keys(ctx.state)) if (k.startsWith(WHATIF)) patch[k] = null;
      for (const [name, input] of inputs) patch[`${WHATIF}${name}`] = input.value.trim();
      const before = JSON.stringify(fromAddress());
      ctx.setState(patch);
      // The same setting again changes no address: asked here.
      if (JSON.stringify(fromAddress()) === before) answerWhatIf?.();
    });
    answerWhatIf = () => {
      const asked = fromAddress();
      if (Object.keys(asked).length === 0) return;
      for (const [name, input] of inputs) if (asked[name] !== undefined) input.value = asked[name];
      const unused = Object.keys(asked).filter((k) => !inputs.has(k));
      const missing = [...inputs.keys()].filter((k) => asked[k] === undefined);
      const q: Record<string, string> = { set: m.set, metric: m.metric, ...flaggedQuery() };
      for (const [name, input] of inputs) q[`s.${name}`] = input.value.trim();
      const notes = [
        ...(unused.length > 0 ? [el('p', { className: 'note unused', textContent: `the address sets ${unused.map((k) => `${k}=${asked[k]}`).join(', ')}, which the model of ${m.metric} does not use: left out` })] : []),
        ...(missing.length > 0 ? [el('p', { className: 'note unused', textContent: `the address gives no ${missing.join(', ')}: the form's value is used` })] : []),
      ];
      answer.replaceChildren(...notes, el('p', { textContent: 'predicting ...' }));
      ctx
        .api<ModelPredictResponse>('/api/model/predict', q)
        .then((p) => {
          if (!alive) return;
          hook.predict = p;
          const x = p.predictions[0]!;
          const unit = m.unit ? ` ${m.unit}` : '';
          const cov = x.coverage;
          const far = cov !== undefined && (cov.kind === 'outside' || cov.kind === 'unseen-combination');
          answer.classList.toggle('extrapolated', far);
          const near = cov
            ? Object.entries(cov.nearest.setting)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')
            : '';
          const headline = !cov
            ? []
            : cov.kind === 'outside'
              ? [
                  el('p', {
                    className: 'coverage',
                    textContent: `extrapolated: ${x.outside.map((o) => `${o.param} ${num(o.value)} outside tested ${o.range[0] === o.range[1] ? `(only ${num(o.range[0])})` : `${num(o.range[0])}–${num(o.range[1])}`}`).join('; ')}; nearest measured point ${near}`,
                  }),
                ]
              : cov.kind === 'unseen-combination'
                ? [el('p', { className: 'coverage', textContent: `extrapolated: this combination was never measured (each value was, but not together); nearest measured point ${near}, which differs in ${cov.nearest.differs.join(', ')}` })]
                : cov.kind === 'between'
                  ? [el('p', { className: 'note coverage', textContent: `interpolated: ${cov.nearest.differs.join(', ')} between tested values; nearest measured point ${near}` })]
                  : [el('p', { className: 'note coverage', textContent: 'a setting that was measured' })];
          answer.replaceChildren(
            ...notes,
            ...headline,
            el('p', { className: 'prediction', textContent: `${x.metric} = ${num(x.value)}${unit} (the ${x.estimate} of a run); 95 % CI of the ${x.estimate} [${num(x.ci[0])}, ${num(x.ci[1])}], 95 % interval of one run [${num(x.pi[0])}, ${num(x.pi[1])}]` }),
            ...(x.smearing !== undefined ? [el('p', { className: 'note retransform', textContent: `a log-form model: exp(prediction) is the median of a run; the mean is that x ${num(x.smearing)}, Duan's smearing factor (the mean of exp(residual) over the runs fitted)` })] : []),
            ...x.outside.map((o) =>
              el('p', {
                className: 'note outside',
                textContent: `outside the measured range: ${o.param} ${num(o.value)} (measured ${o.range[0] === o.range[1] ? `only ${num(o.range[0])}` : `${num(o.range[0])} .. ${num(o.range[1])}`}; ${num(Math.abs(o.distance))} ${o.distance > 0 ? 'above the top' : 'below the bottom'}${o.relative !== undefined ? `, ${o.relative > 0 ? '+' : '-'}${(Math.abs(o.relative) * 100).toFixed(0)} %` : ''}): an extrapolation`,
              }),
            ),
          );
          window.__sb.draws++;
        })
        .catch((e: unknown) => {
          // A refusal (a category no run had, a value that is no value) is one line: the model has no answer there.
          if (!alive) return;
          delete hook.predict;
          answer.classList.remove('extrapolated');
          answer.replaceChildren(...notes, el('p', { className: 'error', textContent: e instanceof Error ? e.message : String(e) }));
          window.__sb.draws++;
        });
    };
    box.append(form, answer);
    grid.append(box);
  }

  void load();
  const stop = ctx.onStateChange(() => void load());
  return () => {
    alive = false;
    stop();
    for (const c of charts.splice(0)) c.dispose();
    answerWhatIf = undefined;
    delete window.__sbModel;
  };
}
