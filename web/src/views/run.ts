/**
 * The run view: every recorded series of one run (the agents' samples of guest, host and client,
 * and the workload's own series such as the relay's queue) on one time axis, one panel per probe,
 * zoom shared by all panels; flags listed and recording gaps shaded; a second run overlaid on
 * run-relative time (dashed). The server decimates each series to the panel's width (min/max per
 * pixel column) and again for every zoom, so a spike is never lost. The point's warm-up is shaded
 * grey and its recorded window's edges drawn, as point.json's timeline gives them (records made
 * before it have none: a note says so). State keys: run, run2 (SET/KEY/REP), series (ids,
 * comma-separated; the default set when absent), from, to (s).
 */
import * as echarts from 'echarts';
import type { RunFileProblem, RunInfoResponse, RunSeriesInfo, RunSeriesResponse, RunTimeline } from '../../../src/server/api-types.ts';
import { exportButtons, makeChart, toCsv, type Chart } from '../chart.ts';
import { el } from '../dom.ts';
import { debounce, roleColour, runQuery, runRef, runText, zoomOf, zoomState, type RunRef } from '../run/common.ts';
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

/** The panel a series goes to: its probe (custom probes each their own, the workload's series one). */
function panelOf(s: RunSeriesInfo): string {
  if (s.source === 'timeseries') return 'workload';
  if (s.source === 'frames') return 'frames';
  // A watched process's CPU and its memory have different units: two panels.
  return s.probe === 'proc' && s.unit !== '%' ? `proc.${s.unit ?? 'other'}` : s.probe;
}

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
  root.append(head, flagsBox, status, panels);

  const disposeCharts = () => {
    for (const c of charts) c.dispose();
    charts = [];
  };

  let info: RunInfoResponse | undefined;
  let info2: RunInfoResponse | undefined;
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
    pick.addEventListener('change', () => ctx.setState({ run2: pick.value || null }));
    const frames = el('button', { type: 'button', textContent: 'frames of this run', disabled: r.frames === null });
    frames.addEventListener('click', () => ctx.setState({ view: 'frames' }));
    head.replaceChildren(
      el('div', {}, el('strong', { textContent: `${r.set} · ${settings} · r${r.rep}` }), el('div', { className: 'note', textContent: `${r.workload} · ${outcome} · ${r.wallS.toFixed(1)} s · started ${r.startedAt} · key ${r.key}` })),
      el('label', {}, 'overlay a second run (dashed, run-relative time)', pick),
      frames,
      seriesPicker(r),
    );
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
    for (const p of [...data.problems, ...(data2?.problems ?? [])]) if (!problems.some((x) => x.file === p.file)) problems.push(p);
    const meta = new Map(r.series.map((s) => [s.id, s]));
    const byPanel = new Map<string, string[]>();
    for (const id of ids) {
      const p = panelOf(meta.get(id)!);
      byPanel.set(p, [...(byPanel.get(p) ?? []), id]);
    }
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
        : '');
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
      const box = el('div', { className: 'panel' }, el('h3', { textContent: panel }));
      const div = el('div', { className: 'chart' });
      div.style.height = `${last ? 230 : 180}px`;
      box.append(div);
      panels.append(box);
      const chart = makeChart(div, `run.${panel}`);
      chart.group = group;
      const series: echarts.SeriesOption[] = [];
      const units = new Set<string>();
      for (const id of byPanel.get(panel)!) {
        const m = meta.get(id)!;
        if (m.unit) units.add(m.unit);
        const d = data.series.find((s) => s.id === id)!;
        series.push({ type: 'line', name: `${m.role} ${m.name}`, id, showSymbol: false, connectNulls: false, lineStyle: { width: 1.2 }, color: roleColour(m.role), data: d.columns.t.map((t, i) => [t, d.columns.v[i]]) });
        const d2 = data2?.series.find((s) => s.id === id);
        if (d2) series.push({ type: 'line', name: `${m.role} ${m.name} (run 2)`, id: `${id}@2`, showSymbol: false, connectNulls: false, lineStyle: { width: 1.2, type: 'dashed' }, color: roleColour(m.role), data: d2.columns.t.map((t, i) => [t, d2.columns.v[i]]) });
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
        grid: { left: 70, right: 20, top: 30, bottom: last ? 60 : 25 },
        legend: { type: 'scroll', top: 0, textStyle: { fontSize: 11 } },
        tooltip: { trigger: 'axis', axisPointer: { type: 'line' } },
        xAxis: { type: 'value', min: 0, max: Math.ceil(tMax), name: last ? 's since the point began' : '', nameLocation: 'middle', nameGap: 25 },
        yAxis: { type: 'value', name: [...units].join(', '), scale: true },
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
    echarts.connect(group);
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
    echarts.disconnect(group);
    disposeCharts();
  };
}
