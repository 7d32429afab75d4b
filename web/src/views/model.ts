/**
 * The model view (issue 14 point 7): for one metric of one set, the fitted formula, the impact of
 * each parameter (bars, noise of the repetitions as its own bar), measured against predicted per
 * point, residuals per point with the worst linked to their runs, and a what-if form whose answer
 * is `streambench model predict SET --metric M --set ... --json`'s. State keys: mset, mmetric.
 */
import type { ModelPredictResponse, ModelResponse } from '../../../src/server/api-types.ts';
import { exportButtons, makeChart, toCsv, type Chart } from '../chart.ts';
import { el } from '../dom.ts';
import type { ViewContext } from '../view.ts';

/** What the browser test reads: the model shown and the last what-if answer. */
export interface ModelHook {
  model?: ModelResponse;
  predict?: ModelPredictResponse;
}

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
  const charts: Chart[] = [];
  const hook: ModelHook = (window.__sbModel = {});
  const sets = ctx.catalog.sets.map((s) => s.name);
  const metrics = ctx.catalog.metrics.filter((m) => m.kind === 'summary' && m.view === 'points').map((m) => m.name);
  const fallback = metrics.find((m) => m === 'guest.cpu_pct') ?? metrics.find((m) => m.endsWith('cpu_pct')) ?? metrics[0] ?? '';

  const controls = el('div', { className: 'controls' });
  const status = el('p', { className: 'note' });
  const summary = el('div', { className: 'panel' });
  const grid = el('div', { className: 'facets' });
  root.append(controls, status, summary, grid);

  const select = (label: string, values: string[], value: string, key: string) => {
    const s = el('select', {}, ...values.map((v) => el('option', { value: v, textContent: v, selected: v === value })));
    s.dataset['control'] = key;
    s.addEventListener('change', () => ctx.setState({ [key]: s.value }));
    return el('label', {}, label, s);
  };

  function panel(title: string, name: string, height = 380): { box: HTMLElement; chart: Chart } {
    const box = el('div', { className: 'panel' });
    const div = el('div', { className: 'chart' });
    div.style.height = `${height}px`;
    box.append(el('h3', { textContent: title }), div);
    grid.append(box);
    const chart = makeChart(div, name);
    charts.push(chart);
    return { box, chart };
  }

  async function load(): Promise<void> {
    const set = ctx.state['mset'] ?? sets[0]!;
    const metric = ctx.state['mmetric'] ?? fallback;
    controls.replaceChildren(...(sets.length > 1 ? [select('result set', sets, set, 'mset')] : []), select('metric', metrics, metric, 'mmetric'));
    status.textContent = `fitting ${metric} ...`;
    try {
      const m = await ctx.api<ModelResponse>('/api/model', { set, metric });
      if (!alive) return;
      hook.model = m;
      draw(m);
      delete window.__sb.error;
      window.__sb.draws++;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      window.__sb.error = message;
      status.replaceChildren(el('span', { className: 'error', textContent: message }));
    }
  }

  function draw(m: ModelResponse): void {
    for (const c of charts.splice(0)) c.dispose();
    grid.replaceChildren();
    const unit = m.unit ? ` ${m.unit}` : '';
    status.textContent = `${m.set}: ${m.metric}${unit} over ${m.fit.n} runs (${m.fit.points} points); form ${m.fit.form}, chosen by 5-fold cross-validation.`;
    summary.replaceChildren(
      el('code', { className: 'formula', textContent: m.fit.formula }),
      el('p', { textContent: `R² ${num(m.fit.r2, 3)} · cross-validated MAPE ${pct(m.fit.cv.mape)} · RMSE ${num(m.fit.cv.rmse, 3)}${unit}` }),
      ...[...m.fit.warnings, ...m.impact.warnings].map((w) => el('p', { className: 'note', textContent: `warning: ${w}` })),
      // Which runs the model stands on: saturated runs are left out (their CPU figures measure contention).
      ...(m.runs.text ? [el('p', { className: 'note runs', textContent: `runs: ${m.runs.text.replace('--include-flagged keeps them', 'the API keeps them with flagged=include')}` })] : []),
    );

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
    const res = panel('Residuals per point (measured - predicted), largest first; click a bar to open its run', 'model-residuals');
    res.chart.setOption({
      animation: false,
      grid: { left: 70, right: 20, top: 20, bottom: 30 },
      xAxis: { type: 'category', data: settings.map((_, i) => String(i + 1)), axisLabel: { show: settings.length <= 40 } },
      yAxis: { type: 'value', name: unit.trim() },
      tooltip: { trigger: 'item', formatter: (p: { dataIndex: number }) => `${settings[p.dataIndex]}<br>residual ${num(residual[p.dataIndex])}${unit}` },
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

  function whatIf(m: ModelResponse): void {
    const box = el('div', { className: 'panel whatif' });
    box.append(el('h3', { textContent: 'What if: the predicted value at a setting (a number measured or not; a category as measured)' }));
    const form = el('form', { className: 'controls' });
    const inputs = new Map<string, HTMLInputElement>();
    for (const s of m.settings) {
      const list = el('datalist', { id: `whatif-${s.name}` }, ...s.values.map((v) => el('option', { value: String(v) })));
      const input = el('input', { name: s.name, value: String(s.values[0] ?? ''), size: 12 });
      input.setAttribute('list', list.id);
      inputs.set(s.name, input);
      form.append(el('label', {}, `${s.name}${s.unit && s.unit !== s.name && s.type !== 'bitrate' && s.type !== 'resolution' ? ` (${s.unit})` : ''}`, input, list));
    }
    const go = el('button', { type: 'submit', textContent: 'predict' });
    form.append(go);
    const answer = el('div', { className: 'answer' });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q: Record<string, string> = { set: m.set, metric: m.metric };
      for (const [name, input] of inputs) q[`s.${name}`] = input.value.trim();
      answer.textContent = 'predicting ...';
      ctx
        .api<ModelPredictResponse>('/api/model/predict', q)
        .then((p) => {
          if (!alive) return;
          hook.predict = p;
          const x = p.predictions[0]!;
          const unit = m.unit ? ` ${m.unit}` : '';
          answer.replaceChildren(
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
          answer.replaceChildren(el('p', { className: 'error', textContent: e instanceof Error ? e.message : String(e) }));
          window.__sb.draws++;
        });
    });
    box.append(form, answer);
    grid.append(box);
  }

  void load();
  const stop = ctx.onStateChange(() => void load());
  return () => {
    alive = false;
    stop();
    for (const c of charts.splice(0)) c.dispose();
    delete window.__sbModel;
  };
}
