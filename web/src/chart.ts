/**
 * Charts: ECharts with animation off (a plot must show the data at once, and tests read it as
 * drawn), resized with their element, and registered on `window.__sb.charts` under a name so
 * that browser tests can read what is plotted (`getOption()`). exportButtons adds PNG, SVG and
 * CSV downloads of a chart.
 */
import * as echarts from 'echarts';
import { download } from './dom.ts';

export type Chart = echarts.ECharts;
export type ChartOption = echarts.EChartsOption;

/** The test hook: charts by name, and counters and timings the views update. */
export interface TestHook {
  charts: Record<string, Chart>;
  /** Incremented after each completed draw of a view. */
  draws: number;
  /** Milliseconds: `firstPlot` from navigation start to the first plot, `redraw` from the last control change to its plot. */
  timings: Record<string, number>;
  /** The last error a view showed, if any. */
  error?: string;
}

declare global {
  interface Window {
    __sb: TestHook;
  }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- declared for the tests that read it; absent until this line runs
window.__sb ??= { charts: {}, draws: 0, timings: {} };

/** A chart in el (animation off, resized with el), registered as `name` for tests. */
export function makeChart(el: HTMLElement, name: string): Chart {
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
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

/**
 * A CSV text from columns (RFC 4180 quoting), after `# key: value` lines that say what it holds
 * (metric and unit, the selection, the sets, the aggregate: a file read a month later says what
 * it is; pandas reads it with comment='#', DuckDB with its comment option).
 */
export function toCsv(columns: Record<string, readonly unknown[]>, provenance: Readonly<Record<string, string>> = {}): string {
  const names = Object.keys(columns);
  const n = Math.max(0, ...names.map((k) => columns[k]!.length));
  const cell = (v: unknown) => {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a column holds numbers, text, or values with their own text
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [...Object.entries(provenance).map(([k, v]) => `# ${k}: ${v.replace(/[\r\n]+/g, ' ')}`), names.map(cell).join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((k) => cell(columns[k]![i])).join(','));
  return `${lines.join('\n')}\n`;
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
export function errorBarRenderer(color: string, capPx: number): echarts.CustomSeriesRenderItem {
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
