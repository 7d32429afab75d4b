/**
 * Charts: ECharts with animation off (a plot must show the data at once, and tests read it as
 * drawn), resized with their element, and registered on `window.__sb.charts` under a name so
 * that browser tests can read what is plotted (`getOption()`). exportButtons adds PNG, SVG and
 * CSV downloads of a chart.
 */
import type { CustomSeriesRenderItem, EChartsOption } from 'echarts';
import { BarChart, BoxplotChart, CustomChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';
import { toCsv } from './csv.ts';
import { download } from './dom.ts';
import './test-hook.ts';

export type { TestHook } from './test-hook.ts';
export { toCsv };
export type Chart = echarts.ECharts;
export type ChartOption = EChartsOption;

// Only the parts of ECharts the views draw with (its full build is about 1.1 MB, parsed before
// the first plot): a series type or component a view starts using must be added here, or
// ECharts says in the console that it is missing and leaves it out. Both renderers: the canvas
// draws on screen, the SVG one draws the SVG export (chartSvg).
echarts.use([LineChart, BarChart, ScatterChart, BoxplotChart, HeatmapChart, CustomChart, GridComponent, TitleComponent, TooltipComponent, LegendComponent, DataZoomComponent, VisualMapComponent, MarkLineComponent, MarkAreaComponent, CanvasRenderer, SVGRenderer]);

/** Series types and option keys registered above; usePart adds a page's own (the report's parallel chart). */
const seriesTypes = new Set(['line', 'bar', 'scatter', 'boxplot', 'heatmap', 'custom']);
/** Option keys whose component needs registering, and whether it is. */
const optionParts: Record<string, boolean> = {
  visualMap: true,
  dataZoom: true,
  markLine: true,
  markArea: true,
  markPoint: false,
  toolbox: false,
  brush: false,
  graphic: false,
  polar: false,
  radar: false,
  geo: false,
  parallel: false,
  parallelAxis: false,
  singleAxis: false,
  calendar: false,
  timeline: false,
  dataset: false,
  aria: false,
};

/** Registers more of ECharts for one page (its parts and the series types and option keys they bring). */
export function usePart(parts: Parameters<typeof echarts.use>[0], series: readonly string[], keys: readonly string[]): void {
  echarts.use(parts);
  for (const s of series) seriesTypes.add(s);
  for (const k of keys) optionParts[k] = true;
}

/**
 * Throws on a series type or component the page did not register: ECharts' production build
 * leaves them out without a word, so a view would lose a series silently; thrown, the browser
 * tests (which fail on page errors) see it.
 */
function checkRegistered(option: ChartOption): void {
  const missing = (what: string) => {
    throw new Error(`chart: ${what} is not registered with ECharts (add it in web/src/chart.ts)`);
  };
  const o = option as Record<string, unknown>;
  for (const [k, ok] of Object.entries(optionParts)) if (!ok && o[k] !== undefined) missing(`the component of '${k}'`);
  const series = o['series'] === undefined ? [] : Array.isArray(o['series']) ? (o['series'] as Record<string, unknown>[]) : [o['series'] as Record<string, unknown>];
  for (const s of series) {
    const t = s['type'];
    if (typeof t === 'string' && !seriesTypes.has(t)) missing(`the series type '${t}'`);
    for (const k of ['markLine', 'markArea', 'markPoint']) if (s[k] !== undefined && !optionParts[k]) missing(`the component of '${k}'`);
  }
}

/** A chart in el (animation off, resized with el), registered as `name` for tests. */
export function makeChart(el: HTMLElement, name: string): Chart {
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
  const setOption = chart.setOption.bind(chart) as (option: ChartOption, ...rest: unknown[]) => void;
  chart.setOption = (option: ChartOption, ...rest: unknown[]) => {
    checkRegistered(option);
    setOption(option, ...rest);
  };
  chart.setOption({ animation: false });
  const ro = new ResizeObserver(() => chart.resize());
  ro.observe(el);
  window.__sb.charts[name] = chart;
  const dispose = chart.dispose.bind(chart);
  chart.dispose = () => {
    ro.disconnect();
    if (window.__sb.charts[name] === chart) delete window.__sb.charts[name];
    dispose();
  };
  return chart;
}

/** The chart drawn again as SVG (a second, off-screen instance: the visible one draws on a canvas). */
export function chartSvg(chart: Chart): string {
  const div = document.createElement('div');
  const svg = echarts.init(div, undefined, { renderer: 'svg', ssr: true, width: chart.getWidth(), height: chart.getHeight() });
  try {
    svg.setOption({ ...(chart.getOption() as ChartOption), animation: false });
    return svg.renderToSVGString();
  } finally {
    svg.dispose();
  }
}

/** Adds PNG, SVG and CSV download buttons for a chart to container; files are named `name.png` etc. (name read at each press when a function). */
export function exportButtons(container: HTMLElement, chart: Chart, csv: () => string, name: string | (() => string)): void {
  const box = document.createElement('div');
  box.className = 'exports';
  const button = (label: string, f: () => void) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.dataset['export'] = label.toLowerCase();
    b.addEventListener('click', f);
    box.append(b);
  };
  const file = () => (typeof name === 'function' ? name() : name).replace(/[^A-Za-z0-9_.=-]+/g, '_');
  button('PNG', () => {
    // Decoded here: fetching the data: URL would be refused by the page's own policy (connect-src 'self').
    const url = chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#fff' });
    const bin = atob(url.slice(url.indexOf(',') + 1));
    const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
    download(`${file()}.png`, new Blob([bytes], { type: 'image/png' }));
  });
  button('SVG', () => download(`${file()}.svg`, new Blob([chartSvg(chart)], { type: 'image/svg+xml' })));
  button('CSV', () => download(`${file()}.csv`, new Blob([csv()], { type: 'text/csv' })));
  container.append(box);
}

/**
 * renderItem of a custom series drawing error bars from data rows [x, lo, hi]: a vertical line with
 * caps `capPx` wide each side. The matrix view and the report draw their intervals with it.
 */
export function errorBarRenderer(color: string, capPx: number): CustomSeriesRenderItem {
  return (_params, api) => {
    const x = api.value(0);
    const top = api.coord([x, api.value(2)]);
    const bottom = api.coord([x, api.value(1)]);
    const style = { stroke: color, lineWidth: 1.2 };
    return {
      type: 'group',
      children: [
        { type: 'line', shape: { x1: top[0], y1: top[1], x2: bottom[0], y2: bottom[1] }, style },
        { type: 'line', shape: { x1: top[0]! - capPx, y1: top[1], x2: top[0]! + capPx, y2: top[1] }, style },
        { type: 'line', shape: { x1: bottom[0]! - capPx, y1: bottom[1], x2: bottom[0]! + capPx, y2: bottom[1] }, style },
      ],
    };
  };
}
