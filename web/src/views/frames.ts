/**
 * The frame view: one bar per frame at its capture time, its latency split into the stages the
 * run's frames hold (stacked), its size with keyframes marked, its quality (PSNR, SSIM) when
 * measured, and marks for lost, dropped and late frames. Frames captured during the warm-up are
 * drawn faded over a grey band, under one legend entry of their own: they are in no figure of the
 * point, and the late count is that of the recorded window (the point's frames.late), the
 * warm-up's said apart. On the run's clock, so the zoom (state `from`, `to`) is the run view's.
 * Long runs come reduced to the chart's width: per pixel column the frame with the highest
 * latency and the first lost, dropped or late one; zooming in fetches every frame of the window.
 * The freezes of freezes.json (the picture not renewed for longer than its threshold) are shaded
 * red over every plot, labelled `freeze`; hovering one gives its span and length.
 * State keys: run (SET/KEY/REP), from, to.
 */
import type * as echarts from 'echarts';
import type { FramesResponse, RunInfoResponse, RunMarksResponse } from '../../../src/server/api-types.ts';
import { exportButtons, makeChart, toCsv, type Chart } from '../chart.ts';
import { el } from '../dom.ts';
import { debounce, runQuery, runRef, runText, STAGE_COLOURS, zoomOf, zoomState } from '../run/common.ts';
import { freezeAreas, freezesAt, freezeText } from '../run/marks.ts';
import { axisUnitName, tickFormatter, valueText } from '../run/units.ts';
import type { ViewContext } from '../view.ts';

/** The legend entry of every warm-up series (frames captured before the recorded window). */
export const WARM = 'warm-up (not in the figures)';

export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  let chart: Chart | undefined;
  const head = el('div', { className: 'controls' });
  const status = el('p', { className: 'note' });
  const box = el('div', { className: 'panel' });
  const div = el('div', { className: 'chart' });
  div.style.height = '640px';
  box.append(div);
  root.append(head, status, box);
  const t0 = performance.now();
  let first = true;
  /** What is drawn now: the CSV export gives it. */
  let currentColumns: FramesResponse['columns'] = {};
  /** The run's marks (its freezes), fetched once per run: zooming does not change them. */
  let marks: { run: string; m: RunMarksResponse } | undefined;
  /** The unit of each series drawn, by its name (the tooltip says it). */
  let units = new Map<string, string | null>();

  async function load(): Promise<void> {
    const ref = runRef(ctx.state);
    if (!ref) {
      status.textContent = 'No run chosen: open a run (?view=frames&run=SET/KEY/REP).';
      return;
    }
    try {
      const zoom = zoomOf(ctx.state);
      const width = Math.max(200, Math.round(div.clientWidth || 1000) - 90);
      const fetchAt = performance.now();
      const [info, f, m] = await Promise.all([ctx.api<RunInfoResponse>('/api/run', runQuery(ref)), ctx.api<FramesResponse>('/api/run/frames', runQuery(ref, { width, ...zoom })), marks?.run === runText(ref) ? marks.m : ctx.api<RunMarksResponse>('/api/run/marks', runQuery(ref))]);
      if (!alive) return;
      marks = { run: runText(ref), m };
      const drawAt = performance.now();
      draw(info, f, m, zoom);
      // What the benchmark reports: the answer's wait, the drawing, and the whole from the view's mount.
      window.__sb.timings['framesFetch'] = drawAt - fetchAt;
      window.__sb.timings['framesDraw'] = performance.now() - drawAt;
      if (first) {
        window.__sb.timings['framesOpen'] = performance.now() - t0;
        first = false;
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      window.__sb.error = message;
      status.replaceChildren(el('span', { className: 'error', textContent: message }));
    }
  }

  function draw(info: RunInfoResponse, f: FramesResponse, m: RunMarksResponse, zoom: { from?: number; to?: number }): void {
    const c = f.columns;
    const fr = m.freezes;
    // Freezes are on the display's time, which runs past the last capture by the latency: the axes cover both.
    const frozen = fr?.freezes ?? [];
    const t = c['t'] as (number | null)[];
    const n = t.length;
    const col = (name: string) => (c[name] as (number | null)[] | undefined) ?? new Array<number | null>(n).fill(null);
    const settings = Object.entries(info.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const back = el('button', { type: 'button', textContent: 'series of this run' });
    back.addEventListener('click', () => ctx.setState({ view: 'run' }));
    head.replaceChildren(el('div', {}, el('strong', { textContent: `${info.set} · ${settings} · r${info.rep}` }), el('div', { className: 'note', textContent: `key ${info.key}` })), back);
    const warm = col('warmup');
    const isWarm = (i: number) => warm[i] === 1;
    // In view: the window's frames only, as the figures count them.
    const count = (name: string) => col(name).filter((v, i) => v === 1 && !isWarm(i)).length;
    const k = f.counts;
    const inWindow = f.total - k.warmup;
    status.textContent =
      `${f.total} frames: ${inWindow} in the recorded window${k.warmup > 0 ? `, ${k.warmup} in the warm-up (drawn faded over grey: not in the figures)` : ''}. ` +
      `${k.late} late in the window (decoded and shown more than ${f.lateMs} ms after capture: the point's frames.late)${k.lateWarmup > 0 ? ` (${k.lateWarmup} more in the warm-up)` : ''}. ` +
      (f.reduced ? `${f.shown} drawn: per pixel column the slowest frame and the first lost, dropped or late one (zoom in for every frame). ` : '') +
      `In view, window frames: ${count('lost')} lost, ${count('dropped')} dropped, ${count('late')} late, ${count('key')} keyframes.` +
      (k.warmup > 0 && !info.timeline ? " The record keeps no warm-up times (made before point.json had them): the grey band spans its warm-up frames' captures." : '') +
      (f.timeBase === 'stream' && f.problems.length === 0 ? " Times are the stream's (no capture events were recorded to place them on the run's clock)." : '') +
      f.problems.map((p) => ` ${p.error}: times are the stream's, not the run's.`).join('') +
      (fr && fr.freezes.length > 0
        ? ` ${fr.freezes.length} freeze(s) (no new picture for more than ${fr.thresholdMs} ms), ${Math.round(fr.freezes.reduce((a, z) => a + z.toMs - z.fromMs, 0))} ms in all, shaded red.`
        : fr
          ? ` No freeze (no picture held longer than ${fr.thresholdMs} ms).`
          : '') +
      m.problems.map((p) => ` ${p.error}: not shown: ${p.affects}.`).join('');
    status.dataset['freezes'] = String(fr?.freezes.length ?? 0);
    status.dataset['late'] = String(k.late);
    status.dataset['lateWarmup'] = String(k.lateWarmup);
    status.dataset['warmupFrames'] = String(k.warmup);
    const x = (i: number) => t[i];
    const unitOf = (column: string) => f.units[column] ?? null;
    const labels = (column: string) => (tickFormatter(unitOf(column)) ? { axisLabel: { formatter: tickFormatter(unitOf(column)) } } : {});
    // The tooltip's unit of each series: the stages' own (ms), sizes in bytes, the quality's.
    units = new Map<string, string | null>([...f.stages.map((st) => [st.name, unitOf(`stage.${st.name}`)] as const), ['size', unitOf('bytes')], ['keyframe size', unitOf('bytes')], ['PSNR', unitOf('psnr')], ['SSIM', unitOf('ssim')]]);
    // Large mode draws each series' bars as one path (a 36,000-frame run otherwise took seconds
    // to draw on a busy machine); a fixed bar width spares the search for the narrowest gap.
    const span = n > 1 ? (t[n - 1] ?? 0) - (t[0] ?? 0) : 0;
    const barWidth = Math.max(1, Math.min(14, Math.floor(((div.clientWidth || 1000) - 90) / Math.max(1, span > 0 ? (n * ((zoom.to ?? t[n - 1] ?? 0) - (zoom.from ?? t[0] ?? 0))) / span : n)) - 1));
    // barGap -100%: every bar at its frame's time (series side by side would shift each stack and
    // the window's and warm-up's bars apart by a bar's width).
    const bars = { type: 'bar' as const, barWidth, barGap: '-100%', large: true, largeThreshold: 400 };
    /** The [t, v] pairs of the window's frames (warm: false) or the warm-up's (warm: true) where keep(i). */
    const pairs = (vals: (number | null)[], warmUp: boolean, keep: (i: number) => boolean = () => true) => vals.flatMap((v, i) => (isWarm(i) === warmUp && keep(i) ? [[x(i), v]] : []));
    const stageSeries = (warmUp: boolean): echarts.SeriesOption[] =>
      f.stages.map((s, k2) => ({
        ...bars,
        name: warmUp ? WARM : s.name,
        stack: warmUp ? 'latency-warmup' : 'latency',
        xAxisIndex: 0,
        yAxisIndex: 0,
        color: STAGE_COLOURS[k2 % STAGE_COLOURS.length],
        ...(warmUp ? { itemStyle: { opacity: 0.3 } } : {}),
        data: pairs(col(`stage.${s.name}`), warmUp),
      }));
    const top = Math.max(1, ...col('latency_ms').map((v) => v ?? 0));
    const marks = (name: string, symbol: string, colour: string, at: number, warmUp: boolean): echarts.SeriesOption => ({
      type: 'scatter',
      name: warmUp ? WARM : name,
      id: warmUp ? `${name} (warm-up)` : name,
      xAxisIndex: 0,
      yAxisIndex: 0,
      symbol,
      symbolSize: 8,
      color: colour,
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated on custom series only; echarts' series union lends this one its doc
      ...(warmUp ? { itemStyle: { opacity: 0.35 } } : {}),
      data: col(name).flatMap((v, i) => (v === 1 && isWarm(i) === warmUp ? [[x(i), top * at]] : [])),
    });
    const key = col('key');
    // The warm-up: from point.json's timeline, else (older records) the span of its frames.
    const band = info.timeline?.warmup ?? f.warmupRange;
    const bandArea = band ? { silent: true, itemStyle: { color: 'rgba(120,120,120,0.16)' }, label: { show: false }, data: [[{ xAxis: band[0], name: 'warm-up' }, { xAxis: band[1] }] as [{ xAxis: number; name: string }, { xAxis: number }]] } : undefined;
    const hasWarm = k.warmup > 0;
    // The warm-up's legend entry first (its grey icon), carrying the band on each grid.
    const warmBands: echarts.SeriesOption[] = hasWarm
      ? [0, 1, 2].map((g): echarts.SeriesOption => ({
          // An empty bar series: its legend icon a grey block (the bars' own shape), no bar of its own.
          type: 'bar',
          barWidth,
          barGap: '-100%',
          name: WARM,
          id: `warm-up band ${g}`,
          xAxisIndex: g,
          yAxisIndex: g === 2 ? 2 : g,
          color: '#b4b4b4',
          data: [],
          ...(bandArea ? { markArea: { ...bandArea, label: { show: g === 0, position: 'insideTop', color: '#444', fontSize: 11 } } } : {}),
        }))
      : [];
    // The freezes: one legend entry, a red span on each plot (labelled on the first).
    const freezeSeries: echarts.SeriesOption[] =
      fr && fr.freezes.length > 0
        ? [0, 1, 2].map((g): echarts.SeriesOption => ({
            type: 'bar',
            barWidth,
            barGap: '-100%',
            name: 'freeze',
            id: `freeze band ${g}`,
            xAxisIndex: g,
            yAxisIndex: g,
            color: 'rgba(214,39,40,0.45)',
            data: [],
            markArea: { silent: true, data: freezeAreas(fr, g === 0) as never },
          }))
        : [];
    const option: echarts.EChartsOption = {
      animation: false,
      legend: { type: 'scroll', top: 0 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: (p: unknown) => frameTooltip(p, fr) },
      axisPointer: { link: [{ xAxisIndex: 'all' }] },
      // Room on the right for the SSIM axis' labels (0.9987): all three grids alike, so their times line up.
      grid: [
        { left: 70, right: 60, top: 50, height: 290 },
        { left: 70, right: 60, top: 380, height: 90 },
        { left: 70, right: 60, top: 515, height: 70 },
      ],
      // The axes span the run's frames, zoomed or not (a 'nice' end would leave a tenth of the plot empty).
      xAxis: [0, 1, 2].map((g) => ({
        type: 'value',
        gridIndex: g,
        min: Math.floor(Math.min(f.range?.[0] ?? 0, ...frozen.map((z) => z.fromMs / 1000)) * 10) / 10,
        max: Math.ceil(Math.max(f.range?.[1] ?? 1, ...frozen.map((z) => z.toMs / 1000)) * 10) / 10,
        ...(g === 2 ? { name: f.timeBase === 'run' ? 's since the point began (capture)' : 's since the stream began', nameLocation: 'middle', nameGap: 25 } : {}),
      })),
      // Each axis in the catalogue's unit of what it draws (frame columns of the workload's declaration).
      yAxis: [
        { type: 'value', gridIndex: 0, name: `latency (${axisUnitName(unitOf('latency_ms'))})`, ...labels('latency_ms') },
        { type: 'value', gridIndex: 1, name: `size (${axisUnitName(unitOf('bytes'))})`, ...labels('bytes') },
        { type: 'value', gridIndex: 2, name: `PSNR (${axisUnitName(unitOf('psnr'))})`, scale: true, splitNumber: 3, ...labels('psnr') },
        { type: 'value', gridIndex: 2, name: `SSIM (${axisUnitName(unitOf('ssim'))})`, scale: true, splitNumber: 3, position: 'right', ...labels('ssim') },
      ],
      dataZoom: [
        { type: 'inside', xAxisIndex: [0, 1, 2], filterMode: 'none', ...(zoom.from !== undefined ? { startValue: zoom.from, endValue: zoom.to } : {}) },
        { type: 'slider', xAxisIndex: [0, 1, 2], filterMode: 'none', height: 16, bottom: 4 },
      ],
      series: [
        ...warmBands,
        ...freezeSeries,
        ...stageSeries(false),
        marks('lost', 'triangle', '#d62728', 1.04, false),
        marks('dropped', 'diamond', '#7f0000', 1.08, false),
        marks('late', 'pin', '#ff7f0e', 1.12, false),
        // Keyframes are their own series (their own colour and legend entry): large mode has no per-bar style.
        { ...bars, name: 'size', xAxisIndex: 1, yAxisIndex: 1, color: '#7f8c9a', data: pairs(col('bytes'), false, (i) => key[i] !== 1) },
        { ...bars, name: 'keyframe size', xAxisIndex: 1, yAxisIndex: 1, color: '#d62728', data: pairs(col('bytes'), false, (i) => key[i] === 1) },
        ...(hasWarm
          ? [
              ...stageSeries(true),
              marks('lost', 'triangle', '#d62728', 1.04, true),
              marks('dropped', 'diamond', '#7f0000', 1.08, true),
              marks('late', 'pin', '#ff7f0e', 1.12, true),
              { ...bars, name: WARM, id: 'size (warm-up)', xAxisIndex: 1, yAxisIndex: 1, color: '#7f8c9a', itemStyle: { opacity: 0.3 }, data: pairs(col('bytes'), true, (i) => key[i] !== 1) },
              { ...bars, name: WARM, id: 'keyframe size (warm-up)', xAxisIndex: 1, yAxisIndex: 1, color: '#d62728', itemStyle: { opacity: 0.3 }, data: pairs(col('bytes'), true, (i) => key[i] === 1) },
            ]
          : []),
        { type: 'line', name: 'PSNR', xAxisIndex: 2, yAxisIndex: 2, showSymbol: false, connectNulls: false, data: col('psnr').map((v, i) => [x(i), v]) },
        { type: 'line', name: 'SSIM', xAxisIndex: 2, yAxisIndex: 3, showSymbol: false, connectNulls: false, lineStyle: { type: 'dashed' }, data: col('ssim').map((v, i) => [x(i), v]) },
      ] as echarts.SeriesOption[],
    };
    if (!chart) {
      chart = makeChart(div, 'frames');
      chart.on('datazoom', onZoom);
      exportButtons(box, chart, () => toCsv(currentColumns), `frames-${info.key}-r${info.rep}`);
    }
    chart.setOption(option, { notMerge: true });
    currentColumns = f.columns;
    window.__sb.draws++;
  }

  /** The axis tooltip: each series' value at the pointer, then the freeze it lies in, if any. */
  function frameTooltip(p: unknown, fr: RunMarksResponse['freezes']): string {
    const ps = (Array.isArray(p) ? p : [p]) as { axisValue?: number; seriesName?: string; seriesType?: string; marker?: string; value?: [number, number | null] }[];
    const at = ps[0]?.axisValue ?? NaN;
    const lines = [`${at.toFixed(3)} s`];
    const seen = new Set<string>();
    for (const x of ps) {
      const v = x.value?.[1];
      const name = x.seriesName ?? '';
      if (v === undefined || v === null || seen.has(name)) continue;
      seen.add(name);
      // A mark (lost, dropped, late) is drawn above the bars: its height is no value.
      lines.push(`${x.marker ?? ''}${name.replace(/[&<>]/g, '')}${x.seriesType === 'scatter' ? '' : `: ${valueText(v, units.get(name)).replace(/[&<>]/g, '')}`}`);
    }
    for (const z of freezesAt(fr, at)) lines.push(`<b style="color:#a00">${freezeText(z)}</b>`);
    return lines.join('<br>');
  }

  const onZoom = debounce(() => {
    const zoom = chart && alive ? zoomState(chart) : undefined;
    if (zoom) ctx.setState(zoom, { replace: true });
  }, 300);

  const stop = ctx.onStateChange(() => void load());
  void load();
  return () => {
    alive = false;
    stop();
    chart?.dispose();
  };
}
