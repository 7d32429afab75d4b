/**
 * The matrix view: one indicator against one parameter, a second parameter as the series
 * (colour), optionally a third as small multiples, and a control for every other parameter (one
 * value, aggregated, overlaid). The server computes the groups in DuckDB (/api/matrix); this view
 * only draws them. State keys: y (metric), x, s (series), f (facet), kind, agg, c.<param>
 * (v:VALUE | agg | overlay).
 */
import { AGGREGATES, MATRIX_KINDS, type ApiParam, type MatrixKind, type MatrixResponse, type SetsResponse } from '../../../src/server/api-types.ts';
import { errorBarRenderer, exportButtons, makeChart, toCsv, type Chart, type ChartOption } from '../chart.ts';
import { el } from '../dom.ts';
import { matrixQuery } from '../matrix-query.ts';
import type { ViewState } from '../state.ts';
import type { ViewContext } from '../view.ts';

const STATE_KEYS = ['y', 'x', 's', 'f', 'kind', 'agg'];

function select(label: string, key: string, options: { value: string; text: string; title?: string }[], value: string, onChange: (v: string) => void): HTMLLabelElement {
  const s = el('select', { name: key });
  for (const o of options) s.append(el('option', { value: o.value, textContent: o.text, selected: o.value === value, ...(o.title ? { title: o.title } : {}) }));
  s.value = value;
  // The chosen option's description stays on the control (a closed select shows no option's).
  const describe = () => (s.title = options.find((o) => o.value === s.value)?.title ?? '');
  describe();
  s.addEventListener('change', () => {
    describe();
    onChange(s.value);
  });
  return el('label', {}, label, s);
}

/** A parameter's settings as the controls offer them: its values, and `none` where some runs have no value of it. */
const settingsOf = (p: ApiParam): (string | number | boolean)[] => [...(p.values ?? []), ...(p.none ? ['none'] : [])];
const multi = (p: ApiParam) => settingsOf(p).length > 1;
const unitText = (u: string | null | undefined) => (u ? ` (${u})` : '');

/** The state completed with defaults from the catalogue: the indicator, x and series when not given. */
export function withDefaults(s: ViewState, cat: SetsResponse): ViewState {
  const out = { ...s };
  const summary = cat.metrics.filter((m) => m.view === 'points');
  if (!out['y'] || !cat.metrics.some((m) => m.name === out['y'])) out['y'] = (summary.find((m) => m.name === 'latency.p50') ?? summary[0])?.name ?? '';
  const varying = cat.params.filter(multi);
  if (!out['x'] || !cat.params.some((p) => p.name === out['x'])) out['x'] = (varying.find((p) => p.range) ?? varying[0] ?? cat.params[0])?.name ?? '';
  if (out['s'] === undefined) out['s'] = varying.find((p) => p.name !== out['x'])?.name ?? '';
  out['kind'] ??= 'line';
  out['agg'] ??= 'mean';
  return out;
}

/**
 * What the address asks that these sets do not have (an edited or old link): each said in words,
 * with the keys to drop so that the rest of the view still draws. Never replaced silently.
 */
export function addressProblems(s: ViewState, cat: SetsResponse): { notes: string[]; drop: string[] } {
  const notes: string[] = [];
  const drop: string[] = [];
  const param = (n: string) => cat.params.find((p) => p.name === n);
  if (s['y'] && !cat.metrics.some((m) => m.name === s['y'])) notes.push(`the address asks for the indicator '${s['y']}', which these sets do not have`);
  for (const [k, what] of [
    ['x', 'x'],
    ['s', 'series'],
    ['f', 'small multiples'],
  ] as const) {
    const v = s[k];
    if (v && !param(v)) {
      notes.push(`the address asks for the parameter '${v}' as ${what}, which these sets do not have`);
      drop.push(k);
    }
  }
  if (s['kind'] && !(MATRIX_KINDS as readonly string[]).includes(s['kind'])) {
    notes.push(`the address asks for the plot '${s['kind']}', which is none of ${MATRIX_KINDS.join(', ')}`);
    drop.push('kind');
  }
  if (s['agg'] && !(AGGREGATES as readonly string[]).includes(s['agg'])) {
    notes.push(`the address asks for the aggregate '${s['agg']}', which is none of ${AGGREGATES.join(', ')}`);
    drop.push('agg');
  }
  for (const [k, v] of Object.entries(s)) {
    if (!k.startsWith('c.')) continue;
    const p = param(k.slice(2));
    if (!p) {
      notes.push(`the address fixes the parameter '${k.slice(2)}', which these sets do not have`);
      drop.push(k);
    } else if (v.startsWith('v:') && p.values && !settingsOf(p).some((x) => String(x) === v.slice(2))) {
      notes.push(`the address fixes ${p.name} = ${v.slice(2)}, a value these sets do not have (they have ${settingsOf(p).map(String).join(', ')})`);
      drop.push(k);
    } else if (v.startsWith('in:')) {
      let kept: string[] = [];
      try {
        kept = v.slice(3).split(',').map(decodeURIComponent);
      } catch {
        kept = [];
      }
      const unknown = kept.filter((x) => !settingsOf(p).some((y) => String(y) === x));
      if (kept.length === 0 || unknown.length > 0) {
        notes.push(`the address keeps values of ${p.name} these sets do not have (${unknown.join(', ') || v}; they have ${settingsOf(p).map(String).join(', ')})`);
        drop.push(k);
      }
    } else if (!v.startsWith('v:') && v !== 'agg' && v !== 'overlay') {
      notes.push(`the address sets ${k} to '${v}', which is none of v:VALUE, in:VALUE,..., agg, overlay`);
      drop.push(k);
    }
  }
  return { notes, drop };
}

/**
 * A warning when the sets compared (all open ones, unless c.set fixes one) have no parameter in
 * common besides the set itself: each plotted value then comes from one set's runs alone, and a
 * difference between them is a difference of everything they varied.
 */
export function sharedNothing(s: ViewState, cat: SetsResponse): string | undefined {
  const names = cat.sets.map((x) => x.name);
  if (names.length < 2 || s['c.set']?.startsWith('v:')) return undefined;
  const shared = cat.params.filter((p) => p.name !== 'set' && (!p.sets || names.every((n) => p.sets!.includes(n))));
  if (shared.length > 0) return undefined;
  return `the sets ${names.join(', ')} share no parameter: every value plotted comes from one set's runs alone, and their differences are differences of all they varied`;
}

/** What a control of the view does to each other parameter, in words (`codec = h264`, `fps: 15, 30`, `bitrate: mean over all`). */
function selectionText(s: ViewState, cat: SetsResponse, agg: string): string[] {
  return cat.params
    .filter((p) => p.name !== s['x'] && p.name !== s['s'] && p.name !== s['f'] && multi(p))
    .map((p) => {
      const c = s[`c.${p.name}`] ?? 'agg';
      if (c.startsWith('v:')) return `${p.name} = ${c.slice(2)}`;
      if (c.startsWith('in:')) return `${p.name}: ${agg} over ${c.slice(3).split(',').map(decodeURIComponent).join(', ')}`;
      return c === 'overlay' ? `${p.name}: overlaid` : `${p.name}: ${agg} over all`;
    });
}

/** An export's file name that says the selection: metric by x, series, facet, aggregate, fixed values (`latency.p50-by-bitrate-s=codec-mean-resolution=640x360`). */
export function exportName(r: MatrixResponse, s: ViewState, facet: string, faceted: boolean): string {
  const fixed = Object.entries(s)
    .filter(([k, v]) => k.startsWith('c.') && (v.startsWith('v:') || v.startsWith('in:')))
    .map(([k, v]) => `${k.slice(2)}=${v.startsWith('v:') ? v.slice(2) : v.slice(3).split(',').map(decodeURIComponent).join('+')}`);
  return [`${r.metric.name}-by-${r.x.name}`, s['s'] ? `s=${s['s']}` : '', faceted ? `${s['f']}=${facet}` : '', s['agg'] ?? 'mean', ...fixed].filter(Boolean).join('-');
}

/** The header lines of an export: what it holds and how it was selected. */
export function exportProvenance(r: MatrixResponse, s: ViewState, cat: SetsResponse, facet: string, faceted: boolean): Record<string, string> {
  const agg = s['agg'] ?? 'mean';
  return {
    metric: `${r.metric.name}${r.metric.unit ? ` (${r.metric.unit})` : ''}`,
    x: `${r.x.name}${r.x.unit ? ` (${r.x.unit})` : ''}`,
    ...(s['s'] ? { series: s['s'] } : {}),
    ...(faceted ? { facet: `${s['f']} = ${facet}` } : {}),
    aggregate: agg,
    selection: selectionText(s, cat, agg).join('; ') || 'nothing else varies',
    sets: cat.sets.map((x) => `${x.name} (${x.dir})`).join(', '),
    values: r.interval,
    'left out': `${r.excludedFailed} failed or interrupted run(s); ${r.flagged} flagged run(s) included`,
  };
}

/** The series colours, one per value of the series parameter (in the catalogue's order of its values). */
const PALETTE = ['#3b6fd4', '#d4533b', '#2e9e5b', '#9b59b6', '#e0a800', '#17a2b8', '#6c757d', '#e83e8c', '#8d6e63', '#20c997'];

/** The plotted value's text: 3 significant digits, the unit after. */
function fmt(v: unknown, unit?: string | null): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value of a category or a label: text, or a value with its own text
  if (typeof v !== 'number') return v === null || v === undefined ? '–' : String(v);
  const t = Math.abs(v) >= 1000 || Number.isInteger(v) ? v.toLocaleString('en', { maximumFractionDigits: 1 }) : v.toPrecision(3);
  return `${t}${unit ? ` ${unit}` : ''}`;
}

/** Axis numbers short (1.5M, 300k) where they are large, as bitrates are written. */
const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumSignificantDigits: 3 });
const axisNumber = (v: number) => (Math.abs(v) >= 10_000 ? compact.format(v) : String(v));

/** The chart options of one facet of a response; `yRange` gives small multiples one scale. */
export function facetOption(r: MatrixResponse, rows: number[], s: ViewState, cat: SetsResponse, title: string, yRange?: [number, number]): ChartOption {
  const c = r.columns;
  const kind = (s['kind'] ?? 'line') as MatrixKind;
  const yName = `${r.metric.name}${unitText(r.metric.unit)}`;
  const xName = `${r.x.name}${unitText(r.x.unit)}`;
  const labels = [...new Set(rows.map((i) => String(c['series']![i])))];
  // The legend says which parameter a colour is (`fps = 15`); overlaid ones already read name=value.
  const legendName = (l: string) => {
    if (l === '') return r.metric.name;
    const [first, ...overlaid] = l.split(', ');
    return [s['s'] ? `${s['s']} = ${first}` : first!.replace('=', ' = '), ...overlaid.map((o) => o.replace('=', ' = '))].join(', ');
  };
  // One colour per value of the series parameter, from its place among the set's values: the same
  // value keeps its colour in every plot, whatever the other controls leave out.
  const seriesParam = cat.params.find((p) => p.name === s['s']);
  const seriesValues = seriesParam ? settingsOf(seriesParam).map(String) : [];
  const colourOf = (l: string, li: number) => {
    const k = seriesValues.indexOf(l.split(', ')[0]!);
    return PALETTE[(k >= 0 && !l.includes(', ') ? k : li) % PALETTE.length]!;
  };
  // Categories in the server's order (by value, a frame size by its pixels).
  // Categories are the values as written (300k), in the server's order (by value, a frame size by its pixels).
  const catOf = (i: number) => String(c['xlabel']?.[i] ?? c['x']![i]);
  const catOrder = new Map(rows.map((i) => [catOf(i), Number(c['xorder']![i] ?? 0)]));
  const cats = [...new Set(rows.map(catOf))].sort((a, b) => catOrder.get(a)! - catOrder.get(b)! || a.localeCompare(b));
  const others = cat.params.filter((p) => p.name !== r.x.name && p.name !== s['s'] && p.name !== s['f'] && multi(p));
  // A fixed parameter as fixed; an aggregated one with the number of its values this group combines (the server counts them per group).
  const settings = (i: number) =>
    others
      .map((p) => {
        const ctl = s[`c.${p.name}`] ?? 'agg';
        if (ctl.startsWith('v:')) return `${p.name} = ${ctl.slice(2)}`;
        const n = c[`values:${p.name}`]?.[i];
        if (ctl === 'overlay' || typeof n !== 'number') return '';
        return n === 1 ? `${p.name}: 1 value in this group` : `${p.name}: ${s['agg'] ?? 'mean'} over ${n} values`;
      })
      .filter(Boolean);
  const ciText = r.intervals?.scale === 'log' ? '95 % CI of the mean (t, log scale)' : '95 % CI of the mean (t)';
  const tooltip = (i: number) => {
    const lines = [
      `<b>${r.x.name} = ${catOf(i)}</b>${c['series']![i] ? `<br>${s['s'] ? `${s['s']} = ` : ''}${c['series']![i]}` : ''}${c['facet']![i] ? `<br>${s['f']} = ${c['facet']![i]}` : ''}`,
      ...settings(i),
      kind === 'box'
        ? `median ${fmt(c['median']![i], r.metric.unit)} (quartiles ${fmt(c['q1']![i])} – ${fmt(c['q3']![i])}, range ${fmt(c['min']![i])} – ${fmt(c['max']![i])})`
        : `<b>${r.metric.name}${kind === 'stack' ? ` ${c['stage']![i]}` : ''}: ${fmt(c['value']![i], r.metric.unit)}</b>`,
      c['lo']![i] !== null && c['lo']![i] !== undefined ? `${ciText}: ${fmt(c['lo']![i])} – ${fmt(c['hi']![i])}` : '',
      `${c['points']![i]} point(s), ${c['runs']![i]} run(s)${Number(c['flagged']![i]) > 0 ? `, <span style="color:#c62828">${c['flagged']![i]} flagged</span>` : ''}`,
      c['key']![i] ? '<i>click: open the run</i>' : '',
    ];
    return lines.filter(Boolean).join('<br>');
  };
  const xOf = (i: number) => (r.x.numeric ? (c['x']![i] as number) : catOf(i));
  const xAxis = r.x.numeric
    ? { type: r.x.log ? ('log' as const) : ('value' as const), name: xName, nameLocation: 'middle' as const, nameGap: 28, scale: true, axisLabel: { formatter: axisNumber } }
    : { type: 'category' as const, data: cats, name: xName, nameLocation: 'middle' as const, nameGap: 28 };
  // A log y axis only where every value drawn is positive (it cannot show 0 or less).
  const ys = ['value', 'lo', 'hi', 'min', 'max', 'wlo', 'whi'].flatMap((k) => rows.map((i) => c[k]?.[i]).filter((v): v is number => typeof v === 'number'));
  const logY = s['ylog'] === '1' && kind !== 'stack' && kind !== 'heatmap' && ys.length > 0 && ys.every((v) => v > 0);
  const yAxis = {
    type: logY ? ('log' as const) : ('value' as const),
    name: `${yName}${logY ? ', log scale' : ''}`,
    nameLocation: 'middle' as const,
    nameGap: 50,
    scale: kind !== 'bar' && kind !== 'stack',
    axisLabel: { formatter: axisNumber },
    ...(yRange && !logY ? { min: yRange[0], max: yRange[1] } : {}),
  };
  const base: ChartOption = {
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
    grid: { left: 70, right: 20, top: 50, bottom: 70 },
    tooltip: { trigger: 'item', confine: true, formatter: (p: unknown) => tooltip(((p as { data: { i?: number } | number[] }).data as { i?: number }).i ?? (p as { value: number[] }).value[3] ?? 0) },
    legend: { bottom: 0, type: 'scroll' },
  };
  if (kind === 'heatmap') {
    const ys = [...new Set(rows.map((i) => String(c['series']![i])))];
    const vals = rows.map((i) => c['value']![i] as number).filter((v) => typeof v === 'number');
    return {
      ...base,
      legend: undefined,
      grid: { left: 110, right: 90, top: 50, bottom: 60 },
      xAxis: { type: 'category', data: cats, name: xName, nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'category', data: ys, name: s['s'] ?? '' },
      visualMap: { dimension: 2, min: Math.min(...vals), max: Math.max(...vals), calculable: true, orient: 'vertical', right: 0, top: 'middle', text: [yName, ''] },
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated on custom series only; echarts' series union lends this one its doc
      series: [{ type: 'heatmap', name: r.metric.name, label: { show: true, formatter: (p: unknown) => fmt((p as { value: number[] }).value[2]) }, data: rows.map((i) => ({ value: [catOf(i), String(c['series']![i]), c['value']![i] as number, i], i })) }],
    };
  }
  if (kind === 'box') {
    const facet = rows.length > 0 ? String(c['facet']![rows[0]!]) : '';
    const outliers = (r.outliers ?? []).filter((o) => o.facet === facet);
    return {
      ...base,
      xAxis: { type: 'category', data: cats, name: xName, nameLocation: 'middle', nameGap: 28 },
      yAxis,
      series: labels.flatMap((l, li) => {
        const color = colourOf(l, li);
        // Whiskers at Tukey's fences (the last values within 1.5 IQR of the quartiles), not at the range.
        const boxes = {
          type: 'boxplot' as const,
          name: legendName(l),
          itemStyle: { color: `${color}33`, borderColor: color },
          data: cats.map((x) => {
            const i = rows.find((j) => catOf(j) === x && String(c['series']![j]) === l);
            return i === undefined ? [] : { value: [c['wlo']![i] ?? c['min']![i], c['q1']![i], c['median']![i], c['q3']![i], c['whi']![i] ?? c['max']![i]] as number[], i };
          }),
        };
        const mine = outliers.filter((o) => o.series === l);
        const out = {
          type: 'scatter' as const,
          name: legendName(l),
          symbolSize: 6,
          itemStyle: { color },
          tooltip: { formatter: (p: unknown) => outlierTip((p as { dataIndex: number }).dataIndex) },
          data: mine.map((o) => ({ value: [o.xlabel, o.value], outlier: o })),
        };
        const outlierTip = (k: number) => {
          const o = mine[k]!;
          return `<b>outlier</b> ${fmt(o.value, r.metric.unit)}<br>${r.x.name} = ${o.xlabel}${o.series ? `<br>${o.series}` : ''}<br>run ${o.key} r${o.rep} (${o.set})<br><i>click: open the run</i>`;
        };
        return mine.length > 0 ? [boxes, out] : [boxes];
      }),
    };
  }
  if (kind === 'stack') {
    const stages = r.stages ?? [];
    const groups = labels;
    return {
      ...base,
      xAxis: { type: 'category', data: groups.length > 1 ? cats.flatMap((x) => groups.map((g) => `${x} · ${g}`)) : cats, name: xName, nameLocation: 'middle', nameGap: 28 },
      yAxis: { ...yAxis, name: 'stage median (ms)' },
      series: stages.map((st) => ({
        type: 'bar',
        name: st,
        stack: 'stages',
        data: cats.flatMap((x) =>
          groups.map((g) => {
            const i = rows.find((j) => catOf(j) === x && String(c['series']![j]) === g && c['stage']![j] === st);
            return i === undefined ? { value: null, i: -1 } : { value: c['value']![i] as number, i };
          }),
        ),
      })),
    };
  }
  const series: unknown[] = [];
  // One colour per label, given to its line and its error bars alike.
  labels.forEach((l, li) => {
    const color = colourOf(l, li);
    const mine = rows.filter((i) => String(c['series']![i]) === l);
    const data = mine.map((i) => {
      const flagged = Number(c['flagged']![i]) > 0;
      return { value: [xOf(i), c['value']![i] as number], i, ...(flagged ? { symbol: 'triangle', symbolSize: 12, itemStyle: { borderColor: '#c62828', borderWidth: 2 } } : {}) };
    });
    const name = legendName(l);
    series.push({ type: kind, name, data, symbolSize: 7, itemStyle: { color }, lineStyle: { color }, ...(kind === 'line' ? { showAllSymbol: true } : {}) });
    const bars = mine.filter((i) => c['lo']![i] !== null && c['lo']![i] !== undefined);
    if (bars.length > 0 && kind !== 'bar') {
      series.push({
        type: 'custom',
        name,
        id: `ci-${li}`,
        silent: true,
        z: 1,
        itemStyle: { color },
        renderItem: errorBarRenderer(color, 4),
        encode: { x: 0, y: [1, 2] },
        data: bars.map((i) => [r.x.numeric ? (c['x']![i] as number) : cats.indexOf(catOf(i)), c['lo']![i] as number, c['hi']![i] as number]),
      });
    }
  });
  return { ...base, xAxis, yAxis, series } as ChartOption;
}

/** Mounts the matrix view in el. */
export function mount(el0: HTMLElement, ctx: ViewContext): () => void {
  const cat = ctx.catalog;
  const controls = el('div', { className: 'controls' });
  const others = el('div', { className: 'others' });
  const info = el('p', { className: 'note' });
  const warn = el('div', { className: 'address-problems' });
  const plots = el('div', { className: 'facets' });
  el0.append(controls, others, warn, info, plots);
  /** What the address asked that these sets lack, said until the user changes the view. */
  let addressNotes: string[] = [];
  let request = 0;
  let changedAt: number | undefined;
  let drawnOnce = false;
  let last: { r: MatrixResponse; s: ViewState } | undefined;

  const set = (patch: Record<string, string | null>) => {
    changedAt = performance.now();
    addressNotes = [];
    ctx.setState(patch);
  };

  const renderControls = (s: ViewState) => {
    const metrics = cat.metrics.filter((m) => m.view === 'points' || m.view === 'frames');
    const params = cat.params;
    const pOpts = params.map((p) => ({ value: p.name, text: `${p.name}${unitText(p.unit)}` }));
    const none = { value: '', text: '(none)' };
    controls.replaceChildren(
      select(
        'indicator',
        'y',
        metrics.map((m) => ({ value: m.name, text: `${m.name}${unitText(m.unit)}${m.view === 'frames' ? ' [per frame: box]' : ''}`, title: `${m.doc}${m.better !== 'none' ? ` (${m.better} is better)` : ''}` })),
        s['y']!,
        (v) => set({ y: v, ...(metrics.find((m) => m.name === v)?.view === 'frames' ? { kind: 'box' } : {}) }),
      ),
      select('x', 'x', pOpts, s['x']!, (v) => set({ x: v, ...(s['s'] === v ? { s: '' } : {}), ...(s['f'] === v ? { f: null } : {}) })),
      select('series (colour)', 's', [none, ...pOpts.filter((o) => o.value !== s['x'])], s['s'] ?? '', (v) => set({ s: v })),
      select('small multiples', 'f', [none, ...pOpts.filter((o) => o.value !== s['x'] && o.value !== s['s'])], s['f'] ?? '', (v) => set({ f: v || null })),
      select(
        'plot',
        'kind',
        MATRIX_KINDS.map((k) => ({ value: k, text: k === 'stack' ? 'stage stack' : k === 'box' ? 'box (spread)' : k })),
        s['kind'] ?? 'line',
        (v) => set({ kind: v }),
      ),
      select(
        'aggregate',
        'agg',
        AGGREGATES.map((a) => ({ value: a, text: a })),
        s['agg'] ?? 'mean',
        (v) => set({ agg: v }),
      ),
      select(
        'y axis',
        'ylog',
        [
          { value: '', text: 'linear' },
          { value: '1', text: 'log' },
        ],
        s['ylog'] ?? '',
        (v) => set({ ylog: v || null }),
      ),
    );
    // With one set chosen (c.set), only its parameters have a control.
    const chosen = s['c.set']?.startsWith('v:') ? s['c.set'].slice(2) : undefined;
    const rest = params.filter((p) => p.name !== s['x'] && p.name !== s['s'] && p.name !== s['f'] && multi(p) && (chosen === undefined || !p.sets || p.sets.includes(chosen)));
    others.replaceChildren(
      ...(rest.length === 0 ? [el('span', { className: 'note', textContent: 'no other parameter varies' })] : []),
      ...rest.map((p) => {
        const now = s[`c.${p.name}`] ?? 'agg';
        const ctl = select(
          p.name + unitText(p.unit),
          `c.${p.name}`,
          [{ value: 'agg', text: `all: ${s['agg'] ?? 'mean'}` }, { value: 'overlay', text: 'all: overlaid' }, { value: 'some', text: `some: ${s['agg'] ?? 'mean'}…` }, ...settingsOf(p).map((v) => ({ value: `v:${String(v)}`, text: String(v) }))],
          now.startsWith('in:') ? 'some' : now,
          // "some" keeps every value until boxes are unticked: the same plot, now with its boxes shown.
          (v) =>
            set({
              [`c.${p.name}`]:
                v === 'agg'
                  ? null
                  : v === 'some'
                    ? `in:${settingsOf(p)
                        .map((x) => encodeURIComponent(String(x)))
                        .join(',')}`
                    : v,
            }),
        );
        if (now.startsWith('in:')) ctl.append(subsetBoxes(p, now));
        return ctl;
      }),
    );
    // The plotted parameters' values can be narrowed too (x, series, small multiples).
    const plotted = [s['x'], s['s'], s['f']].map((n) => params.find((p) => p.name === n)).filter((p): p is ApiParam => p !== undefined && multi(p));
    const narrow = el('details', { className: 'subsets' }, el('summary', {}, 'values shown of x, series, small multiples'));
    narrow.open = plotted.some((p) => s[`c.${p.name}`]?.startsWith('in:'));
    for (const p of plotted) narrow.append(el('label', {}, `${p.name}${unitText(p.unit)}`, subsetBoxes(p, s[`c.${p.name}`] ?? '')));
    if (plotted.length > 0) others.append(narrow);
  };

  /** The state value keeping `values` of p: none when that is all of them (no subset). */
  const subsetValue = (p: ApiParam, values: string[]): string | null => (values.length === settingsOf(p).length ? null : `in:${values.map(encodeURIComponent).join(',')}`);

  /** A box per value of p, ticked when the state keeps it (`in:...`; anything else keeps all); at least one stays ticked. */
  const subsetBoxes = (p: ApiParam, state: string): HTMLElement => {
    const all = settingsOf(p).map(String);
    const kept = state.startsWith('in:') ? new Set(state.slice(3).split(',').map(decodeURIComponent)) : new Set(all);
    const box = el('span', { className: 'subset' });
    box.dataset['param'] = p.name;
    for (const v of all) {
      const cb = el('input', { type: 'checkbox', checked: kept.has(v), value: v });
      cb.addEventListener('change', () => {
        const now = [...box.querySelectorAll<HTMLInputElement>('input')].filter((x) => x.checked).map((x) => x.value);
        if (now.length === 0) {
          cb.checked = true;
          return;
        }
        // All ticked again: no subset (a plain "all" control).
        set({ [`c.${p.name}`]: subsetValue(p, now) });
      });
      box.append(el('label', { className: 'value' }, cb, v));
    }
    return box;
  };

  /** One plot per facet value, kept across redraws (a chart made anew costs more than new options). */
  const panels = new Map<string, { panel: HTMLElement; chart: Chart; now: { c: MatrixResponse['columns']; cols: Record<string, unknown[]>; file: string } }>();
  const clear = () => {
    for (const p of panels.values()) p.chart.dispose();
    panels.clear();
    plots.replaceChildren();
  };

  const draw = (r: MatrixResponse, s: ViewState) => {
    const c = r.columns;
    const n = c['x']!.length;
    const facets = [...new Set(Array.from({ length: n }, (_, i) => String(c['facet']![i])))];
    info.textContent = [r.interval, r.excludedFailed > 0 ? `${r.excludedFailed} failed run(s) left out` : '', r.flagged > 0 ? `${r.flagged} flagged run(s) included, marked ▲` : '', n === 0 ? 'nothing to plot for this selection' : ''].filter(Boolean).join(' · ');
    // A chart's test-hook name says its facet when there are several: one set of names at a time.
    const key = (f: string) => `matrix${facets.length > 1 ? `:${f}` : ''}`;
    for (const [k, p] of panels) {
      if (!facets.some((f) => key(f) === k)) {
        p.chart.dispose();
        p.panel.remove();
        panels.delete(k);
      }
    }
    plots.classList.toggle('single', facets.length === 1);
    // Small multiples share one y scale, so that panels compare at a glance.
    let yRange: [number, number] | undefined;
    if (facets.length > 1 && (s['kind'] ?? 'line') !== 'heatmap' && s['kind'] !== 'stack') {
      const ys = ['value', 'lo', 'hi', 'min', 'max'].flatMap((k) => (c[k] ?? []).filter((v): v is number => typeof v === 'number'));
      if (ys.length > 0) {
        const lo = Math.min(...ys);
        const hi = Math.max(...ys);
        // Bounds on a round step, as ECharts' own scale would choose, so the axis labels stay round.
        const step = 10 ** Math.floor(Math.log10(hi - lo || Math.abs(hi) || 1)) / 2;
        yRange = [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
      }
    }
    for (const f of facets) {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => String(c['facet']![i]) === f);
      const cols: Record<string, unknown[]> = {};
      for (const [k, v] of Object.entries(c)) cols[k] = rows.map((i) => v[i]);
      const now = { c, cols, file: exportName(r, s, f, facets.length > 1), provenance: exportProvenance(r, s, cat, f, facets.length > 1) };
      let p = panels.get(key(f));
      if (!p) {
        const panel = el('div', { className: 'panel' });
        const box = el('div', { className: 'chart' });
        panel.append(box);
        plots.append(panel);
        const chart = makeChart(box, key(f));
        const made = { panel, chart, now };
        chart.on('click', (ev) => {
          const o = (ev.data as { outlier?: NonNullable<MatrixResponse['outliers']>[number] } | undefined)?.outlier;
          if (o) {
            ctx.openRun(o.set, o.key, o.rep);
            return;
          }
          const i = (ev.data as { i?: number } | undefined)?.i;
          const d = made.now.c;
          if (i === undefined || i < 0 || !d['key']![i]) return;
          ctx.openRun(String(d['set']![i]), String(d['key']![i]), Number(d['rep']![i]));
        });
        exportButtons(
          panel,
          chart,
          () => toCsv(made.now.cols, made.now.provenance),
          () => made.now.file,
        );
        panels.set(key(f), made);
        p = made;
      }
      p.now = now;
      plots.append(p.panel);
      const title = `${r.metric.name} by ${r.x.name}${s['f'] ? ` · ${s['f']} = ${f}` : ''}`;
      p.chart.setOption(facetOption(r, rows, s, cat, title, yRange), true);
    }
  };

  const refresh = async () => {
    // What the address asks that these sets lack: said above the plot, and left out of the view.
    const bad = addressProblems(ctx.state, cat);
    // A state written below refreshes at once (onStateChange, where this view is the tab shown):
    // that refresh asks for the plot, and this one must not ask a second time.
    const asked = request;
    if (bad.drop.length > 0) ctx.setState(Object.fromEntries(bad.drop.map((k) => [k, null])), { replace: true });
    if (bad.notes.length > 0) addressNotes = bad.notes;
    const apart = sharedNothing(ctx.state, cat);
    warn.replaceChildren(...(addressNotes.length > 0 ? [el('p', { className: 'warning', textContent: `${addressNotes.join('; ')}: showing what these sets have instead.` })] : []), ...(apart ? [el('p', { className: 'warning', textContent: apart })] : []));
    const s = withDefaults(ctx.state, cat);
    // Defaults are written back (without a history entry), so the address always says the whole view.
    const missing = Object.fromEntries(STATE_KEYS.filter((k) => ctx.state[k] === undefined && s[k] !== undefined).map((k) => [k, s[k]!]));
    if (Object.keys(missing).length > 0) ctx.setState(missing, { replace: true });
    if (request !== asked) return;
    renderControls(s);
    const mine = ++request;
    let r: MatrixResponse;
    try {
      r = await ctx.api<MatrixResponse>('/api/matrix', matrixQuery(s));
    } catch (e) {
      if (mine !== request) return;
      const msg = e instanceof Error ? e.message : String(e);
      window.__sb.error = msg;
      info.replaceChildren(el('span', { className: 'error', textContent: msg }));
      clear();
      return;
    }
    if (mine !== request) return;
    delete window.__sb.error;
    last = { r, s };
    draw(r, s);
    // Timed once the browser has painted the frame with the plot.
    requestAnimationFrame(() => {
      const now = performance.now();
      if (!drawnOnce) window.__sb.timings['firstPlot'] = now;
      else if (changedAt !== undefined) window.__sb.timings['redraw'] = now - changedAt;
      drawnOnce = true;
      changedAt = undefined;
      (window.__sb as unknown as { matrix?: unknown }).matrix = last;
      window.__sb.draws++;
    });
  };

  const stop = ctx.onStateChange((st) => {
    if ((st['view'] ?? 'matrix') === 'matrix') void refresh();
  });
  void refresh();
  // A run adding points to an open set: the plot fills in (the server reloads the set when its
  // index grows and counts that in `version`; the catalogue is taken anew, for new values).
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    ctx
      .api<SetsResponse>('/api/sets')
      .then((fresh) => {
        if (fresh.version === cat.version) return;
        Object.assign(cat, fresh);
        void refresh();
      })
      .catch((e: unknown) => {
        // Said, not swallowed; the next tick asks again (a server busy or restarting).
        info.title = `could not check for new points: ${e instanceof Error ? e.message : String(e)}`;
      })
      .finally(() => {
        polling = false;
      });
  }, 3000);
  return () => {
    clearInterval(poll);
    stop();
    request++;
    clear();
    el0.replaceChildren();
  };
}
