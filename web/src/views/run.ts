/**
 * The run view: every recorded series of one run (the agents' samples of guest, host and client,
 * and the workload's own series such as the relay's queue) on one time axis, one panel per probe,
 * zoom shared by all panels; flags listed and recording gaps shaded; a second run overlaid on
 * run-relative time (dashed). The server decimates each series to the panel's width (min/max per
 * pixel column) and again for every zoom, so a spike is never lost. The point's warm-up is shaded
 * grey and its recorded window's edges drawn, as point.json's timeline gives them (records made
 * before it have none: a note says so). The network panel (first, when the workload recorded rates
 * in bit/s) puts capacity, target, sent and delivered rates on the left axis and the queueing
 * delay on the right, with a vertical line per decision of the run's controls.json (/api/run/marks)
 * and what was decided in the tooltip. State keys: run, run2 (SET/KEY/REP), series (ids,
 * comma-separated; the default set when absent), from, to (s).
 */
import type * as echarts from 'echarts';
import { connect, disconnect } from 'echarts/core';
import type { RunControlRecord, RunFileProblem, RunInfoResponse, RunMarksResponse, RunSeriesInfo, RunSeriesResponse, RunTimeline } from '../../../src/server/api-types.ts';
import { exportButtons, makeChart, toCsv, type Chart } from '../chart.ts';
import { el } from '../dom.ts';
import { debounce, roleColour, runQuery, runRef, runText, zoomOf, zoomState, type RunRef } from '../run/common.ts';
import { decisionHtml, decisionLines, decisionsNear, deciderColour, rateText } from '../run/marks.ts';
import { axisUnitName, fromZero, tickFormatter, valueText } from '../run/units.ts';
import type { ViewContext } from '../view.ts';

/** The series shown when the state names none: what a first look needs, not all 300. */
export function defaultSeries(all: readonly RunSeriesInfo[]): string[] {
  const want = (s: RunSeriesInfo) =>
    s.source === 'timeseries' ||
    s.source === 'frames' ||
    s.name === 'cpu.busy_pct' ||
    s.name === 'mem.used_mb' ||
    /^proc\.[^.]+\.cpu_pct$/.test(s.name) ||
    /^proc\.[^.]+\.rss_mb$/.test(s.name) ||
    /^gpu\..*_pct$/.test(s.name) ||
    s.probe.startsWith('custom.') ||
    (/^net\.([^.]+)\.(rx|tx)_bytes_per_s$/.test(s.name) && !/^net\.lo\./.test(s.name));
  return all.filter(want).map((s) => s.id);
}

/** The unit of the rates the network panel draws on its left axis (the catalogue's unit of capacity_bps, target_bps, sent_bps, delivered_bps). */
const RATE_UNIT = 'bit/s';

/** Whether the run has the network panel: the workload recorded rates as series (offered capacity, a policy's target, sent, delivered). */
export function hasNetwork(all: readonly RunSeriesInfo[]): boolean {
  return all.some((s) => s.source === 'timeseries' && s.unit === RATE_UNIT);
}

/** What a series is grouped under before units: its probe (custom probes each their own), the workload's series, the frames. */
function baseOf(s: RunSeriesInfo): string {
  return s.source === 'timeseries' ? 'workload' : s.source === 'frames' ? 'frames' : s.probe;
}

/** Each group's first unit: that of its first series in the first look (a process's CPU, not its threads), else its first series'. */
export function homeUnits(all: readonly RunSeriesInfo[]): Map<string, string | null> {
  const home = new Map<string, string | null>();
  const first = new Set(defaultSeries(all));
  for (const s of [...all.filter((x) => first.has(x.id)), ...all]) if (!home.has(baseOf(s))) home.set(baseOf(s), s.unit);
  return home;
}

/**
 * The panel a series goes to: its group (baseOf), one unit per panel so that every axis has one
 * unit: a series in another unit than its group's first (a process's memory beside its CPU)
 * goes to `<group>.<unit>`. With the network panel, the workload's rates and delays (queueing
 * delay) go there, on two axes.
 */
function panelOf(s: RunSeriesInfo, network: boolean, home: Map<string, string | null>): string {
  if (s.source === 'timeseries' && network && (s.unit === RATE_UNIT || s.unit === 'ms')) return 'network';
  const base = baseOf(s);
  return s.unit === (home.has(base) ? home.get(base) : s.unit) ? base : `${base}.${s.unit ?? 'no unit'}`;
}

/**
 * The note above the timelines when the run's roles shared a machine (its conditions say so):
 * each machine's CPU and memory then appear once per role that ran there, and the roles' figures
 * take from the same cores. Null when each role had a machine, or the record does not say.
 */
export function sharedMachineNote(lines: readonly string[] | null): string | null {
  if (!lines || lines.length === 0) return null;
  return `Roles shared a machine: ${lines.join('; ')}. Their machine series (CPU, memory, network) are the same machine's seen by each role, and their processes took from the same cores.`;
}

/** Colours of the network panel's rates in the workload's order (capacity, target, sent, delivered), and of its delays: apart from the decisions' purple and brown. */
const NET_COLOURS = ['#333333', '#d62728', '#1f77b4', '#2ca02c', '#bcbd22', '#e377c2'];
const DELAY_COLOURS = ['#ff7f0e', '#17becf', '#7f7f7f'];

/** The network panel's tooltip: each series' value at the pointer (rates as rates), then the decisions within a few pixels of it. */
function networkTooltip(p: unknown, chart: Chart, decisions: readonly RunControlRecord[], meta: Map<string, RunSeriesInfo>): string {
  const ps = (Array.isArray(p) ? p : [p]) as { axisValue?: number; seriesId?: string; seriesName?: string; marker?: string; value?: [number, number | null] }[];
  const at = ps[0]?.axisValue ?? NaN;
  const lines = [`${at.toFixed(3)} s`];
  for (const x of ps) {
    const v = x.value?.[1];
    if (v === undefined || v === null || x.seriesId?.startsWith('decisions:')) continue;
    const unit = meta.get(x.seriesId?.replace(/@2$/, '') ?? '')?.unit;
    lines.push(`${x.marker ?? ''}${escapeHtml(x.seriesName ?? '')}: ${unit === RATE_UNIT ? rateText(v) : `${Number(v.toPrecision(4))}${unit ? ` ${unit}` : ''}`}`);
  }
  const near = Number.isFinite(at) ? decisionsNear(decisions, at, (s) => chart.convertToPixel({ xAxisIndex: 0 }, s)) : [];
  for (const d of near) lines.push(`<div class="decision" style="border-left:3px solid ${deciderColour(d.from)};padding-left:4px;margin-top:4px">${decisionHtml(d)}</div>`);
  return lines.join('<br>');
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The warm-up's shade. */
const WARMUP_COLOUR = 'rgba(120,120,120,0.18)';

/**
 * What every panel draws of the point's timeline: the warm-up as a grey band (markArea items) and
 * the recorded window's edges (markLine items), on the run's clock.
 */
export function timelineMarks(tl: RunTimeline | null, labels: boolean): { areas: unknown[]; lines: unknown[] } {
  if (!tl) return { areas: [], lines: [] };
  const label = (text: string, position: string) => (labels ? { show: true, formatter: text, position, fontSize: 10, color: '#444' } : { show: false });
  return {
    areas: tl.warmup ? [[{ xAxis: tl.warmup[0], name: 'warm-up', itemStyle: { color: WARMUP_COLOUR }, label: label('warm-up', 'insideTop') }, { xAxis: tl.warmup[1] }]] : [],
    lines: [
      { xAxis: tl.window[0], name: 'window start', label: label('window', 'end') },
      { xAxis: tl.window[1], name: 'window end', label: label('window end', 'end') },
    ],
  };
}

export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  let charts: Chart[] = [];
  const group = `run-${Math.random().toString(36).slice(2)}`;
  const head = el('div', { className: 'controls' });
  const flagsBox = el('div', { className: 'note' });
  const panels = el('div', { className: 'run-panels' });
  const status = el('p', { className: 'note' });
  const shared = el('p', { className: 'warning' });
  shared.dataset['shared'] = '';
  root.append(head, flagsBox, shared, status, panels);

  const disposeCharts = () => {
    for (const c of charts) c.dispose();
    charts = [];
  };

  let info: RunInfoResponse | undefined;
  let info2: RunInfoResponse | undefined;
  let marks: RunMarksResponse | undefined;
  let loadedFor = '';

  async function load(): Promise<void> {
    const s = ctx.state;
    const ref = runRef(s);
    if (!ref) {
      disposeCharts();
      panels.replaceChildren();
      head.replaceChildren();
      status.textContent = 'No run chosen: click a point in the matrix or parallel view, or open ?view=run&run=SET/KEY/REP.';
      return;
    }
    const ref2 = runRef(s, 'run2');
    const key = `${runText(ref)}|${ref2 ? runText(ref2) : ''}`;
    try {
      if (key !== loadedFor) {
        info = await ctx.api<RunInfoResponse>('/api/run', runQuery(ref));
        info2 = ref2 ? await ctx.api<RunInfoResponse>('/api/run', runQuery(ref2)) : undefined;
        marks = await ctx.api<RunMarksResponse>('/api/run/marks', runQuery(ref));
        loadedFor = key;
      }
      if (!alive || !info) return;
      drawHead(info, ref, ref2);
      await drawPanels(info, ref, ref2);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      window.__sb.error = message;
      status.replaceChildren(el('span', { className: 'error', textContent: message }));
    }
  }

  function drawHead(r: RunInfoResponse, ref: RunRef, ref2: RunRef | undefined): void {
    const settings = Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const outcome = r.outcome.status === 'ok' ? 'ok' : r.outcome.status === 'failed' ? `FAILED: ${r.outcome.error}` : `interrupted: ${r.outcome.reason}`;
    const pick = el('select', { name: 'run2' });
    pick.append(el('option', { value: '', textContent: '(none)' }));
    for (const o of r.runs) {
      if (o.key === ref.key && o.rep === ref.rep) continue;
      const v = runText({ set: r.set, key: o.key, rep: o.rep });
      pick.append(el('option', { value: v, textContent: `${o.label} r${o.rep}${o.status === 'ok' ? '' : ` (${o.status})`}`, selected: ref2 !== undefined && runText(ref2) === v }));
    }
    // A run of another set (the compare view opens one beside its base) is listed too, or the menu would say none is overlaid.
    if (ref2 && ![...pick.options].some((o) => o.value === runText(ref2))) {
      const label = info2
        ? `${info2.set} · ${Object.entries(info2.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')} r${info2.rep}`
        : runText(ref2);
      pick.append(el('option', { value: runText(ref2), textContent: label, selected: true }));
    }
    pick.addEventListener('change', () => ctx.setState({ run2: pick.value || null }));
    const frames = el('button', { type: 'button', textContent: 'frames of this run', disabled: r.frames === null });
    frames.addEventListener('click', () => ctx.setState({ view: 'frames' }));
    head.replaceChildren(
      el('div', {}, el('strong', { textContent: `${r.set} · ${settings} · r${r.rep}` }), el('div', { className: 'note', textContent: `${r.workload} · ${outcome} · ${r.wallS.toFixed(1)} s · started ${r.startedAt} · key ${r.key}` })),
      el('label', {}, 'overlay a second run (dashed, run-relative time)', pick),
      frames,
      seriesPicker(r),
    );
    const note = sharedMachineNote(r.sharedMachine);
    shared.textContent = note ?? '';
    shared.hidden = note === null;
    flagsBox.replaceChildren();
    if (r.flags.length > 0) {
      flagsBox.append(el('strong', { textContent: `${r.flags.length} flag(s):` }), el('ul', {}, ...r.flags.map((f) => el('li', { textContent: f }))));
      flagsBox.dataset['flags'] = String(r.flags.length);
    }
  }

  function chosen(r: RunInfoResponse): string[] {
    const s = ctx.state['series'];
    const ids = new Set(r.series.map((x) => x.id));
    return s ? s.split(',').filter((id) => ids.has(id)) : defaultSeries(r.series);
  }

  function seriesPicker(r: RunInfoResponse): HTMLElement {
    const on = new Set(chosen(r));
    const box = el('details', { className: 'series-picker' }, el('summary', { textContent: `series: ${on.size} of ${r.series.length}` }));
    const byRole = new Map<string, RunSeriesInfo[]>();
    for (const s of r.series) byRole.set(s.role, [...(byRole.get(s.role) ?? []), s]);
    const grid = el('div', { className: 'others' });
    for (const [role, list] of byRole) {
      const col = el('div', {}, el('strong', { textContent: role }));
      for (const s of list) {
        const cb = el('input', { type: 'checkbox', checked: on.has(s.id), value: s.id });
        cb.addEventListener('change', () => {
          if (cb.checked) on.add(s.id);
          else on.delete(s.id);
          ctx.setState({ series: [...on].join(',') });
        });
        col.append(el('label', { className: 'series-choice' }, cb, ` ${s.name}${s.unit ? ` (${s.unit})` : ''}`));
      }
      grid.append(col);
    }
    box.append(grid);
    return box;
  }

  async function drawPanels(r: RunInfoResponse, ref: RunRef, ref2: RunRef | undefined): Promise<void> {
    const chosenIds = chosen(r);
    const zoom = zoomOf(ctx.state);
    const width = Math.max(200, Math.round(panels.clientWidth || root.clientWidth || 1000));
    const q = (rr: RunRef, list: string[]) => ctx.api<RunSeriesResponse>('/api/run/series', runQuery(rr, { ids: list.join(','), width, ...zoom }));
    const data: RunSeriesResponse = chosenIds.length > 0 ? await q(ref, chosenIds) : { series: [], width, problems: [] };
    // A series whose file could not be read (now, or when the run was listed) is left out: its file's problem is shown instead.
    const ids = chosenIds.filter((id) => data.series.some((s) => s.id === id));
    const ids2 = ref2 && info2 ? ids.filter((id) => info2!.series.some((s) => s.id === id)) : [];
    const data2 = ref2 && ids2.length > 0 ? await q(ref2, ids2) : undefined;
    if (!alive) return;
    const problems: RunFileProblem[] = [...r.problems];
    for (const p of [...data.problems, ...(data2?.problems ?? []), ...(marks?.problems ?? [])]) if (!problems.some((x) => x.file === p.file)) problems.push(p);
    const meta = new Map(r.series.map((s) => [s.id, s]));
    const network = hasNetwork(r.series);
    const home = homeUnits(r.series);
    // The network panel first: what the stream was offered and what it did about it.
    const byPanel = new Map<string, string[]>(ids.some((id) => panelOf(meta.get(id)!, network, home) === 'network') ? [['network', []]] : []);
    for (const id of ids) {
      const p = panelOf(meta.get(id)!, network, home);
      byPanel.set(p, [...(byPanel.get(p) ?? []), id]);
    }
    // Rates before delays: the legend reads capacity, target, sent, delivered, then the queueing delay.
    byPanel.get('network')?.sort((a, b) => Number(meta.get(a)!.unit !== RATE_UNIT) - Number(meta.get(b)!.unit !== RATE_UNIT));
    const decisions = marks?.decisions ?? [];
    const byWhom = new Map<string, number>();
    for (const d of decisions) byWhom.set(d.from, (byWhom.get(d.from) ?? 0) + 1);
    const reduced = data.series.filter((s) => s.reduced).length;
    const tl = r.timeline;
    const unplaced = ids.map((id) => meta.get(id)!).filter((m) => m.clock === 'stream');
    status.textContent =
      (ids.length === 0 ? 'No series chosen (pick some above).' : `${ids.length} series in ${byPanel.size} panel(s)${reduced > 0 ? `; ${reduced} decimated to ${width} px (min and max of each pixel column: no spike lost)` : ''}. Drag or scroll on a plot to zoom all of them.`) +
      (tl
        ? ` Recorded window ${tl.window[0].toFixed(2)} to ${tl.window[1].toFixed(2)} s (dashed lines)${tl.warmup ? `, warm-up ${tl.warmup[0].toFixed(2)} to ${tl.warmup[1].toFixed(2)} s shaded grey: not in the point's figures` : ', no warm-up'}.`
        : ' Window not recorded (a set made before point.json kept the warm-up and the recorded window): none is drawn.') +
      (unplaced.length > 0
        ? ` ${unplaced.map((m) => m.name).join(', ')}: on the stream's own clock (s since the guest started), not the point's: ${problems.some((p) => p.file === 'events.parquet') ? 'events.parquet, which places them, could not be read' : 'the run has no capture events to place them'}.`
        : '') +
      (byPanel.has('network')
        ? marks?.problems.some((p) => p.file === 'controls.json')
          ? ' The decisions could not be read (controls.json: see its panel above): none is marked.'
          : decisions.length > 0
            ? ` ${decisions.length} decision(s) (${[...byWhom].map(([k, v]) => `${k}: ${v}`).join(', ')}) marked as vertical lines in the network panel; hover one for what was decided and why.`
            : ' No decisions recorded (no policy, or one that changed nothing).'
        : '');
    status.dataset['decisions'] = String(byPanel.has('network') ? decisions.length : 0);
    status.dataset['window'] = tl ? tl.window.join(',') : 'none';
    status.dataset['warmup'] = tl?.warmup ? tl.warmup.join(',') : 'none';
    disposeCharts();
    panels.replaceChildren();
    // A file that could not be read takes one panel, saying which file and what is wrong; the others draw.
    for (const p of problems) {
      const box = el('div', { className: 'panel problem' }, el('h3', { textContent: p.file }), el('p', {}, el('span', { className: 'error', textContent: p.error })), el('p', { className: 'note', textContent: `Not shown: ${p.affects}.` }));
      box.dataset['problem'] = p.file;
      panels.append(box);
    }
    const tMax = Math.max(r.wallS, ...r.series.map((s) => s.to));
    const names = [...byPanel.keys()];
    names.forEach((panel, pi) => {
      const last = pi === names.length - 1;
      // One unit per panel (panelOf): its first series says it.
      const unit = panel === 'network' ? RATE_UNIT : (meta.get(byPanel.get(panel)![0]!)!.unit ?? null);
      const title = panel === 'network' ? 'network' : `${baseOf(meta.get(byPanel.get(panel)![0]!)!)} (${axisUnitName(unit)})`;
      const box = el('div', { className: 'panel' }, el('h3', { textContent: title }));
      const div = el('div', { className: 'chart' });
      div.style.height = `${(panel === 'network' ? 80 : 0) + (last ? 230 : 180)}px`;
      box.append(div);
      panels.append(box);
      const chart = makeChart(div, `run.${panel}`);
      chart.group = group;
      const series: echarts.SeriesOption[] = [];
      const isNet = panel === 'network';
      // Decision labels at least ~50 px apart at this zoom (the rest are in the tooltip): a burst of decisions would print over itself.
      const span = (zoom.to ?? tMax) - (zoom.from ?? 0);
      const labelGapS = (50 * span) / Math.max(100, width - 90);
      byPanel.get(panel)!.forEach((id, k) => {
        const m = meta.get(id)!;
        const d = data.series.find((s) => s.id === id)!;
        // The network panel: rates on the left axis, delays on the right; a colour each (several are the host's).
        const axis = isNet && m.unit !== RATE_UNIT ? { yAxisIndex: 1 } : {};
        const rates = byPanel.get(panel)!.filter((x) => meta.get(x)!.unit === RATE_UNIT).length;
        const colour = !isNet ? roleColour(m.role) : m.unit === RATE_UNIT ? NET_COLOURS[k % NET_COLOURS.length]! : DELAY_COLOURS[(k - rates) % DELAY_COLOURS.length]!;
        series.push({ type: 'line', name: `${m.role} ${m.name}`, id, showSymbol: false, connectNulls: false, lineStyle: { width: 1.2 }, color: colour, ...axis, data: d.columns.t.map((t, i) => [t, d.columns.v[i]]) });
        const d2 = data2?.series.find((s) => s.id === id);
        if (d2) series.push({ type: 'line', name: `${m.role} ${m.name} (run 2)`, id: `${id}@2`, showSymbol: false, connectNulls: false, lineStyle: { width: 1.2, type: 'dashed' }, color: colour, ...axis, data: d2.columns.t.map((t, i) => [t, d2.columns.v[i]]) });
      });
      // The decisions: a vertical line each at the time it was decided, under one legend entry per decider.
      if (isNet) {
        for (const [from] of byWhom) {
          series.push({
            type: 'line',
            name: `decisions (${from})`,
            id: `decisions:${from}`,
            color: deciderColour(from),
            data: [],
            markLine: {
              silent: true,
              symbol: 'none',
              animation: false,
              data: decisionLines(
                decisions.filter((d) => d.from === from),
                labelGapS,
              ),
            },
          } as echarts.SeriesOption);
        }
      }
      // Gaps: shaded where an agent sent nothing; the warm-up grey and the window's edges.
      const gaps = r.gaps.filter((g) => g.from !== null && g.to !== null);
      const marks = timelineMarks(tl, pi === 0);
      const areas = [...gaps.map((g) => [{ xAxis: g.from, name: `gap (${g.role})` }, { xAxis: g.to }]), ...marks.areas];
      if (areas.length > 0 && series[0]) {
        (series[0] as { markArea?: unknown }).markArea = { silent: true, itemStyle: { color: 'rgba(200,0,0,0.12)' }, data: areas };
      }
      if (marks.lines.length > 0 && series[0]) {
        (series[0] as { markLine?: unknown }).markLine = { silent: true, symbol: 'none', animation: false, lineStyle: { color: '#555', type: 'dashed', width: 1 }, data: marks.lines };
      }
      chart.setOption({
        animation: false,
        grid: { left: isNet ? 70 : 80, right: 20, top: 30, bottom: last ? 60 : 25 },
        legend: { type: 'scroll', top: 0, textStyle: { fontSize: 11 } },
        tooltip: { trigger: 'axis', axisPointer: { type: 'line' }, ...(isNet ? { confine: true, formatter: (p: unknown) => networkTooltip(p, chart, decisions, meta) } : { valueFormatter: (v: unknown) => (typeof v === 'number' ? valueText(v, unit) : '') }) },
        xAxis: { type: 'value', min: 0, max: Math.ceil(tMax), name: last ? 's since the point began' : '', nameLocation: 'middle', nameGap: 25 },
        yAxis: isNet
          ? [
              { type: 'value', name: RATE_UNIT, min: 0, axisLabel: { formatter: (v: number) => rateText(v).replace('/s', '') } },
              { type: 'value', name: 'queueing delay (ms)', min: 0, splitLine: { show: false } },
            ]
          : {
              type: 'value',
              // Along the axis, beside its ticks: above it, a long legend would cover it.
              name: axisUnitName(unit),
              nameLocation: 'middle',
              nameGap: tickFormatter(unit) ? 60 : 48,
              ...(fromZero(unit) ? { min: 0 } : { scale: true }),
              ...(tickFormatter(unit) ? { axisLabel: { formatter: tickFormatter(unit) } } : {}),
            },
        dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none', ...(zoom.from !== undefined ? { startValue: zoom.from, endValue: zoom.to } : {}) }, ...(last ? [{ type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 18, bottom: 5 }] : [])],
        series,
      } as echarts.EChartsOption);
      exportButtons(
        box,
        chart,
        () =>
          toCsv(
            Object.fromEntries(
              byPanel.get(panel)!.flatMap((id) => {
                const d = data.series.find((s) => s.id === id)!;
                return [
                  [`${id} t`, d.columns.t],
                  [`${id} value`, d.columns.v],
                ];
              }),
            ),
          ),
        `run-${r.key}-r${r.rep}-${panel}`,
      );
      chart.on('datazoom', onZoom);
      charts.push(chart);
    });
    connect(group);
    window.__sb.draws++;
  }

  // After a zoom, the state keeps the window and the series come again, decimated for it.
  const onZoom = debounce(() => {
    const c = charts[0];
    const zoom = c && alive ? zoomState(c) : undefined;
    if (zoom) ctx.setState(zoom, { replace: true });
  }, 300);

  const stop = ctx.onStateChange(() => void load());
  void load();
  return () => {
    alive = false;
    stop();
    disconnect(group);
    disposeCharts();
  };
}
