/**
 * The report page (web/report.html): draws what `streambench report` computed and inlined into
 * the page (src/server/report.ts). It fetches nothing: the file opens from file:// with no
 * server and no network. Charts are registered on `window.__sb.charts` (web/src/chart.ts), as in
 * the GUI, under `plot:<metric>:<param>`, `stack` and `parallel`; `window.__sb.report` says when
 * every chart is drawn.
 */
import { ParallelChart } from 'echarts/charts';
import { ParallelComponent, ToolboxComponent } from 'echarts/components';
import type { Columns, ComparisonRow, MatrixResponse, ReportData, ReportPlot, SetComparison } from '../../../src/server/api-types.ts';
import { errorBarRenderer, exportButtons, makeChart, toCsv, usePart, type ChartOption } from '../chart.ts';
import { el, escapeHtml } from '../dom.ts';
import { formatValue } from './format.ts';
import { findingsSection } from '../findings.ts';

// What the report draws beyond the GUI's views (web/src/chart.ts registers theirs): the parallel coordinates of its runs, and the toolbox its plots keep.
usePart([ParallelChart, ParallelComponent, ToolboxComponent], ['parallel'], ['parallel', 'parallelAxis', 'toolbox']);

declare global {
  interface Window {
    __sbReport?: { charts: string[]; done: boolean; error?: string };
  }
}

function readData(): ReportData {
  const text = document.getElementById('sb-report-data')?.textContent ?? 'null';
  const data = JSON.parse(text) as ReportData | null;
  if (!data) throw new Error('this page carries no report data: write a report with `streambench report RESULT-SET`');
  return data;
}

function header(d: ReportData): void {
  const h = document.getElementById('header')!;
  h.replaceChildren(el('h1', {}, `${d.sets.map((s) => s.name).join(' vs ')}: streambench report`));
  const dl = el('dl');
  const row = (k: string, v: string) => dl.append(el('dt', {}, k), el('dd', {}, v));
  row('benchmark', d.benchmarks.join(', ') || '(none)');
  row('recorded', d.from && d.to ? `${d.from.replace('T', ' ').slice(0, 19)} to ${d.to.replace('T', ' ').slice(0, 19)} UTC` : '(no runs)');
  for (const line of d.hosts.length > 0 ? d.hosts : ['(no agents.json: unknown)']) row('machine', line);
  const several = d.sets.length > 1;
  for (const s of d.sets) {
    const of = several ? ` of ${s.name}` : '';
    row(`runs${of}`, `${s.runs} (point x repetition): ${s.ok} ok, ${s.failed} failed, ${s.interrupted} interrupted, ${s.flagged} flagged; failed and interrupted runs are never plotted`);
    // Said where it is seen first: a set recorded saturated has CPU figures that measure contention.
    if (s.conditionsLine) {
      row(`conditions${of}`, s.conditionsLine);
      (dl.lastElementChild as HTMLElement).classList.add('warn');
    }
    row(several ? `set ${s.name}` : 'set', s.dir);
  }
  row('written', `${d.generatedAt.replace('T', ' ').slice(0, 19)} UTC`);
  h.append(dl);
}

/** The colour of a plot's means and error bars (the browser test looks for it on the canvas). */
const LINE = '#2f5fb3';

const label = (v: string | number | boolean | null, unit: string | null) => (typeof v === 'number' ? formatValue(v, unit) : String(v));

/** One metric against one parameter: the mean per x value as a line, its 95 % interval as error bars where it has one. */
function plotOption(p: ReportPlot, unit: string | null): ChartOption {
  const m: MatrixResponse = p.matrix;
  const xs = m.columns['x'] ?? [];
  const values = m.columns['value'] ?? [];
  const lo = m.columns['lo'] ?? [];
  const hi = m.columns['hi'] ?? [];
  const categorical = !m.x.numeric;
  const xOf = (i: number): string | number => (categorical ? String(xs[i]) : Number(xs[i]));
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const data = xs.map((_, i) => [xOf(i), num(values[i])]);
  const bars = xs.map((_, i) => [xOf(i), num(lo[i]), num(hi[i])]).filter((b) => b[1] !== null && b[2] !== null);
  return {
    animation: false,
    title: {
      text: `${p.metric}${unit ? ` (${unit})` : ''} by ${p.param}`,
      // Flagged runs are results, but something was odd while recording them: said where they count.
      ...(m.flagged > 0 ? { subtext: `${m.flagged} flagged run(s) included`, subtextStyle: { color: '#b06000', fontSize: 11 } } : {}),
      left: 'center',
      textStyle: { fontSize: 13 },
    },
    grid: { left: 70, right: 20, top: m.flagged > 0 ? 55 : 40, bottom: 45 },
    tooltip: {
      trigger: 'item',
      // The group behind a point: its mean, interval, and how many points and runs it combines.
      formatter: (item) => {
        const i = (item as { dataIndex: number; seriesIndex: number }).seriesIndex === 0 ? (item as { dataIndex: number }).dataIndex : -1;
        if (i < 0) return '';
        const ci = num(lo[i]) !== null && num(hi[i]) !== null ? `\n95 % CI of the mean${m.intervals?.scale === 'log' ? ' (log scale)' : ''}: ${label(num(lo[i]), unit)} to ${label(num(hi[i]), unit)}` : '\nno interval (a point with one repetition)';
        const flagged = Number(m.columns['flagged']?.[i] ?? 0);
        return escapeHtml(
          `${p.param} = ${String(m.columns['xlabel']?.[i] ?? xs[i])}\nmean ${label(num(values[i]), unit)}${unit ? ` ${unit}` : ''}${ci}\n${String(m.columns['points']?.[i] ?? '?')} point(s), ${String(m.columns['runs']?.[i] ?? '?')} run(s)${flagged > 0 ? `, ${flagged} flagged` : ''}`,
        ).replace(/\n/g, '<br>');
      },
    },
    toolbox: { feature: {} },
    xAxis: categorical
      ? { type: 'category', name: p.param, nameLocation: 'middle', nameGap: 28, data: [...new Set(xs.map(String))] }
      : { type: m.x.log ? 'log' : 'value', name: `${p.param}${m.x.unit ? ` (${m.x.unit})` : ''}`, nameLocation: 'middle', nameGap: 28, scale: true, axisLabel: { formatter: (v: number) => formatValue(v, m.x.unit) } },
    // A ratio-scale metric (a time, a rate, a share: it cannot be negative) from zero, so that heights compare as ratios; others zoom to the data.
    yAxis: { type: 'value', scale: !p.fromZero, ...(p.fromZero ? { min: 0 } : {}), name: unit ?? '', axisLabel: { formatter: (v: number) => formatValue(v, unit) } },
    series: [
      // Categories have no order between them to draw a line along: points only.
      categorical
        ? // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated on custom series only; echarts' series union lends this one its doc
          { type: 'scatter', name: 'mean', data, symbolSize: 9, itemStyle: { color: LINE } }
        : // eslint-disable-next-line @typescript-eslint/no-deprecated -- as above
          { type: 'line', name: 'mean', data, symbolSize: 7, connectNulls: false, lineStyle: { color: LINE, width: 2 }, itemStyle: { color: LINE } },
      {
        type: 'custom',
        name: 'error bars',
        data: bars,
        z: 1,
        renderItem: errorBarRenderer(LINE, 5),
        encode: { x: 0, y: [1, 2] },
      },
    ],
  };
}

/** A series label of /api/matrix (`name=value, ...`) with each number in its parameter's unit (`bitrate=1M`, not 1000000). */
function seriesLabel(text: string, params: ReportData['params']): string {
  return text.replace(/([^=, ]+)=(-?[\d.]+(?:e[-+]?\d+)?)(?=,|$)/g, (all, name: string, v: string) => {
    const unit = params.find((p) => p.name === name)?.unit ?? null;
    return unit ? `${name}=${formatValue(Number(v), unit)}` : all;
  });
}

/** The stage stack: one horizontal bar per point, each stage's median stacked in pipeline order. */
function stackOption(m: MatrixResponse, params: ReportData['params']): { option: ChartOption; rows: number } {
  const c = m.columns;
  const stages = m.stages ?? [];
  const xUnit = params[0]?.unit ?? null;
  const groups: string[] = [];
  const index = new Map<string, number>();
  const values = new Map<string, (number | null)[]>(stages.map((s) => [s, []]));
  (c['stage'] ?? []).forEach((st, i) => {
    const g = [label(c['x']![i] ?? null, xUnit), seriesLabel(String(c['series']![i] ?? ''), params)].filter(Boolean).join(', ');
    let gi = index.get(g);
    if (gi === undefined) index.set(g, (gi = groups.push(g) - 1));
    values.get(String(st))![gi] = (c['value']![i] as number | null) ?? null;
  });
  return {
    rows: groups.length,
    option: {
      animation: false,
      title: { text: `where latency goes: median of each stage per point (ms)`, left: 'center', textStyle: { fontSize: 13 } },
      legend: { top: 30, data: stages },
      grid: { left: 300, right: 30, top: 70, bottom: 30 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => `${typeof v === 'number' ? v.toFixed(2) : String(v)} ms` },
      xAxis: { type: 'value', name: 'ms' },
      yAxis: { type: 'category', data: groups, inverse: true, axisLabel: { fontSize: 10 } },
      series: stages.map((s) => ({ type: 'bar', name: s, stack: 'stages', data: Array.from({ length: groups.length }, (_, i) => values.get(s)![i] ?? null) })),
    },
  };
}

/** One colour per set, the same in the table's marks and every comparison chart. */
const SET_COLOURS = ['#2f5fb3', '#d0652d', '#3b9a57', '#8e4fb3', '#b3932f', '#2fa5b3'];

/** A row's settings as text: `network=wan, net_rate=4M`. */
function settingsText(c: SetComparison, row: ComparisonRow): string {
  // Units that formatValue does not already say (2M is bit/s): 20 ms, not 20.
  const withUnit = (v: string | number | boolean | null, unit: string | null) => `${label(v, unit)}${typeof v === 'number' && unit && !['bit/s', 'B', 'fps'].includes(unit) ? ` ${unit}` : ''}`;
  return c.by.map((p, i) => `${p.name}=${withUnit(row.settings[i] ?? null, p.unit)}`).join(', ') || 'all';
}

/**
 * The sets side by side: per setting of the shared parameters, a row per set, each metric's mean
 * over the points with their range; the best set of each setting in bold (by the metric's direction).
 */
function comparisonTable(c: SetComparison): HTMLElement {
  const table = el('table', { className: 'compare' });
  const head = el('tr');
  head.append(el('th', {}, c.by.map((p) => p.name).join(', ') || 'setting'), el('th', {}, 'set'), el('th', {}, 'points (runs)'));
  for (const m of c.metrics) {
    const th = el('th', {}, `${m.name}${m.unit ? ` (${m.unit})` : ''}`);
    th.title = `${m.doc}${m.better !== 'none' ? ` (${m.better} is better)` : ''}`;
    head.append(th);
  }
  table.append(el('thead', {}, head));
  const body = el('tbody');
  const groups = new Map<string, ComparisonRow[]>();
  for (const r of c.rows) groups.set(settingsText(c, r), [...(groups.get(settingsText(c, r)) ?? []), r]);
  for (const [setting, rows] of groups) {
    const best = new Map<string, number>();
    for (const m of c.metrics) {
      const means = rows.map((r) => r.values[m.name]?.mean).filter((v): v is number => typeof v === 'number');
      const top = m.better === 'lower' ? Math.min(...means) : Math.max(...means);
      // A tie names no best.
      if (means.length > 1 && m.better !== 'none' && means.filter((v) => v === top).length === 1) best.set(m.name, top);
    }
    rows.forEach((r, i) => {
      const tr = el('tr');
      tr.dataset['set'] = r.set;
      tr.dataset['setting'] = setting;
      if (i === 0) {
        const td = el('td', {}, setting);
        td.rowSpan = rows.length;
        tr.append(td);
      }
      const name = el('td', { className: 'set' }, r.set);
      name.style.borderLeft = `4px solid ${setColour(c, r.set)!}`;
      tr.append(name, el('td', {}, `${r.points} (${r.runs}${r.flagged > 0 ? `, ${r.flagged} flagged` : ''})`));
      for (const m of c.metrics) {
        const v = r.values[m.name];
        const td = el('td');
        td.dataset['metric'] = m.name;
        if (!v || v.mean === null) td.append('–');
        else {
          td.append(el('span', { className: best.get(m.name) === v.mean ? 'best' : '' }, label(v.mean, m.unit)));
          if (v.points > 1 && v.min !== null && v.max !== null && v.min !== v.max) td.append(el('span', { className: 'range' }, ` ${label(v.min, m.unit)}–${label(v.max, m.unit)}`));
          // Fewer points than the row (a point with no value of it: no frame seen, say): said.
          if (v.points < r.points) td.append(el('span', { className: 'range' }, ` (${v.points} of ${r.points} points)`));
        }
        tr.append(td);
      }
      body.append(tr);
    });
  }
  table.append(body);
  return table;
}

/** A set's colour: its place among the sets of the comparison. */
function setColour(c: SetComparison, set: string): string | undefined {
  const sets = [...new Set(c.rows.map((r) => r.set))];
  const i = sets.indexOf(set);
  return i < 0 ? undefined : SET_COLOURS[i % SET_COLOURS.length];
}

/** One metric of the comparison: grouped bars, a bar per set at each setting, its range over the set's points as a whisker. */
function comparisonOption(c: SetComparison, metric: SetComparison['metrics'][number]): ChartOption {
  const settings = [...new Set(c.rows.map((r) => settingsText(c, r)))];
  const sets = [...new Set(c.rows.map((r) => r.set))];
  const unit = metric.unit;
  const cell = (set: string, s: string) => c.rows.find((r) => r.set === set && settingsText(c, r) === s)?.values[metric.name];
  return {
    animation: false,
    title: { text: `${metric.name}${unit ? ` (${unit})` : ''}`, left: 'center', textStyle: { fontSize: 13 } },
    legend: { top: 24, data: sets },
    grid: { left: 70, right: 20, top: 60, bottom: 20 + 14 * Math.max(1, c.by.length) },
    tooltip: { trigger: 'item' },
    // Every setting named, wrapped under its bars.
    xAxis: { type: 'category', data: settings.map((x) => x.replace(/, /g, '\n')), axisLabel: { interval: 0, fontSize: 10 } },
    // From zero: the bars' heights are the values, so their ratio is the sets' ratio.
    yAxis: { type: 'value', min: 0, name: unit ?? '', axisLabel: { formatter: (v: number) => formatValue(v, unit) } },
    series: sets.flatMap((set) => {
      const colour = setColour(c, set)!;
      return [
        {
          type: 'bar' as const,
          name: set,
          itemStyle: { color: colour },
          data: settings.map((s) => cell(set, s)?.mean ?? null),
          tooltip: { valueFormatter: (v: unknown) => (typeof v === 'number' ? `${formatValue(v, unit)}${unit ? ` ${unit}` : ''}` : '–') },
        },
      ];
    }),
  };
}

/** Parallel coordinates of every ok run: an axis per varying parameter and headline metric, coloured by the first metric. */
function parallelOption(d: ReportData): ChartOption {
  const runs: Columns = d.runs;
  const names = [...d.params.map((p) => p.name), ...d.metrics.map((m) => m.column ?? m.name)];
  const n = runs['point_key']?.length ?? 0;
  const axes = names.map((name, dim) => {
    const vals = runs[name] ?? [];
    const categorical = vals.some((v) => typeof v === 'string' || typeof v === 'boolean');
    const unit = d.params.find((p) => p.name === name)?.unit ?? d.metrics.find((m) => (m.column ?? m.name) === name)?.unit ?? null;
    return categorical ? { dim, name, type: 'category' as const, data: [...new Set(vals.map(String))] } : { dim, name, type: 'value' as const, scale: true, axisLabel: { formatter: (v: number) => formatValue(v, unit) } };
  });
  const data = Array.from({ length: n }, (_, i) =>
    names.map((name) => {
      const v = runs[name]?.[i] ?? null;
      return typeof v === 'string' || typeof v === 'boolean' ? String(v) : v;
    }),
  );
  const colourDim = d.params.length;
  const colourVals = data.map((r) => r[colourDim]).filter((v): v is number => typeof v === 'number');
  return {
    animation: false,
    title: { text: `every ok run (${n}), coloured by ${names[colourDim] ?? ''}`, left: 'center', textStyle: { fontSize: 13 } },
    parallelAxis: axes,
    parallel: { left: 60, right: 90, top: 70, bottom: 40, parallelAxisDefault: { nameLocation: 'end', nameGap: 12, nameTextStyle: { fontSize: 11 }, nameRotate: 0 } },
    ...(colourVals.length > 0 ? { visualMap: { type: 'continuous', dimension: colourDim, min: Math.min(...colourVals), max: Math.max(...colourVals), right: 0, top: 'middle', calculable: false, inRange: { color: ['#313695', '#74add1', '#fee090', '#f46d43', '#a50026'] } } } : {}),
    series: [{ type: 'parallel', data, lineStyle: { width: 1, opacity: 0.6 } }],
  };
}

function panel(parent: HTMLElement, name: string, option: ChartOption, csv: () => string, tall = false, caption?: string): void {
  const box = el('div', { className: 'panel' });
  const div = el('div', { className: tall ? 'chart tall' : 'chart' });
  div.dataset['chart'] = name;
  box.append(div);
  // What this chart shows, its own intervals included (they differ from plot to plot: a group with a single run has none).
  if (caption) {
    const p = el('p', { className: 'note caption' }, `${caption[0]!.toUpperCase()}${caption.slice(1)}.`);
    p.dataset['caption'] = name;
    box.append(p);
  }
  parent.append(box);
  const chart = makeChart(div, name);
  chart.setOption(option);
  exportButtons(box, chart, csv, name);
  window.__sbReport!.charts.push(name);
}

/** Whether the plot's metric moves significantly with its parameter (its finding, a linked group's included). */
function significant(d: ReportData, p: ReportPlot): boolean {
  return d.findings.findings.some((f) => f.metric === p.metric && f.params.includes(p.param) && f.significant === true);
}

/** One metric-by-parameter plot in its panel; its caption says what it draws and how many points and runs are behind each value. */
function plotPanel(grid: HTMLElement, p: ReportPlot, unit: string | null, sets: string): void {
  const c = p.matrix.columns;
  const n = (c['x'] ?? []).map((x, i) => `${String(c['xlabel']?.[i] ?? x)} ${String(c['points']?.[i] ?? '?')}/${String(c['runs']?.[i] ?? '?')}`);
  // The CSV says what it holds (metric and unit, x, what was aggregated, the sets), as the GUI's do.
  const provenance = {
    metric: `${p.metric}${unit ? ` (${unit})` : ''}`,
    x: p.param,
    aggregate: 'mean of the point means',
    selection: `${p.matrix.aggregated.join(', ') || 'nothing else varies'}${p.matrix.aggregated.length > 0 ? ': mean over all' : ''}`,
    sets,
    values: p.matrix.interval,
  };
  panel(grid, `plot:${p.metric}:${p.param}`, plotOption(p, unit), () => toCsv(c, provenance), false, `${p.matrix.interval}; n per ${p.param} value (points/runs): ${n.join(', ')}`);
}

function render(): void {
  window.__sbReport = { charts: [], done: false };
  const main = document.getElementById('report')!;
  try {
    const d = readData();
    header(d);
    findingsSection(d, main);
    const c = d.comparison;
    if (c) {
      main.append(
        el('h2', {}, `The sets side by side: ${d.sets.map((s) => s.name).join(', ')}`),
        el(
          'p',
          { className: 'note' },
          `Each headline metric every set has, one row per set at each setting of ${c.by.length > 0 ? c.by.map((p) => p.name).join(', ') : 'the sets (no parameter varies in all of them)'}; ${c.aggregated.length > 0 ? `${c.aggregated.join(', ')} (not varied in every set) aggregated: the mean over the points, their range beside it` : 'nothing else varies'}. Each point is first averaged over its repetitions; failed and interrupted runs are left out. Bold: the best set at that setting, by the metric's direction. Bars start at zero.`,
        ),
        el('div', { className: 'scroll' }, comparisonTable(c)),
      );
      if (c.left.length > 0) main.append(el('p', { className: 'note' }, `Not compared: ${c.left.join('; ')}.`));
      const grid = el('div', { className: 'grid' });
      main.append(grid);
      for (const m of c.metrics) {
        const rows = c.rows.map((r) => ({ set: r.set, setting: settingsText(c, r), mean: r.values[m.name]?.mean ?? null, min: r.values[m.name]?.min ?? null, max: r.values[m.name]?.max ?? null, points: r.values[m.name]?.points ?? 0 }));
        panel(
          grid,
          `compare:${m.name}`,
          comparisonOption(c, m),
          () =>
            toCsv(
              { set: rows.map((r) => r.set), setting: rows.map((r) => r.setting), mean: rows.map((r) => r.mean), min: rows.map((r) => r.min), max: rows.map((r) => r.max), points: rows.map((r) => r.points) },
              {
                metric: `${m.name}${m.unit ? ` (${m.unit})` : ''}`,
                settings: c.by.map((p) => p.name).join(', ') || 'none',
                aggregate: `mean over each set's points (each first averaged over its repetitions); ${c.aggregated.join(', ') || 'nothing else'} aggregated`,
                sets: d.sets.map((x) => x.name).join(', '),
              },
            ),
          false,
          `the mean over each set's points at each setting (n points per bar in the table above)`,
        );
      }
      main.append(el('h2', {}, 'Every headline metric against every parameter'));
    }
    main.append(
      el(
        'p',
        { className: 'note' },
        "Each headline metric against each parameter that varies; the other parameters aggregated by mean (each point first averaged over its repetitions). Under each plot: what it draws, its intervals where it has them. The same computation as the GUI's matrix view.",
      ),
    );
    const setNames = d.sets.map((x) => `${x.name} (${x.dir})`).join(', ');
    for (const m of d.metrics) {
      const plots = d.plots.filter((p) => p.metric === m.name);
      if (plots.length === 0) continue;
      main.append(el('h2', {}, `${m.name}${m.unit ? ` (${m.unit})` : ''}`), el('p', { className: 'note' }, m.doc));
      const grid = el('div', { className: 'grid' });
      main.append(grid);
      // Tested: the plots of no significant effect folded away (their charts still drawn, resized when opened).
      const shown = d.findings.repetitions ? plots.filter((p) => significant(d, p)) : plots;
      const folded = plots.filter((p) => !shown.includes(p));
      for (const p of shown) plotPanel(grid, p, m.unit, setNames);
      if (folded.length > 0) {
        const more = el('div', { className: 'grid' });
        const details = el('details', { className: 'folded' }, el('summary', {}, `no significant effect: ${folded.length} plot${folded.length > 1 ? 's' : ''}`), more);
        details.dataset['metric'] = m.name;
        main.append(details);
        for (const p of folded) plotPanel(more, p, m.unit, setNames);
      }
    }
    if (d.stack) {
      main.append(el('h2', {}, 'Stage stack'), el('p', { className: 'note' }, "Per point: the median of each pipeline stage over its frames (each run's stage.<s>.p50), averaged over the repetitions, stacked in pipeline order: capture start to display."));
      const { option, rows } = stackOption(d.stack, d.params);
      const box = el('div');
      main.append(box);
      panel(box, 'stack', option, () => toCsv(d.stack!.columns), true);
      box.querySelector<HTMLElement>('.chart')!.style.height = `${Math.max(300, 90 + rows * 18)}px`;
    }
    main.append(el('h2', {}, 'Parallel coordinates'), el('p', { className: 'note' }, "Every run that ended ok: its parameters and headline metrics (the GUI's parallel view brushes these axes)."));
    const box = el('div');
    main.append(box);
    panel(box, 'parallel', parallelOption(d), () => toCsv(d.runs), false);
    box.querySelector<HTMLElement>('.chart')!.style.height = '420px';
    if (d.skipped.length > 0) {
      main.append(el('h2', {}, 'Not plotted'));
      const ul = el('ul', { className: 'note' });
      for (const s of d.skipped) ul.append(el('li', {}, s));
      main.append(ul);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    window.__sbReport.error = msg;
    main.append(el('p', { className: 'error' }, msg));
  }
  window.__sbReport.done = true;
}

render();
