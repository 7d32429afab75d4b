/**
 * The live view of `streambench run FILE --ui`: the plan (each run left, running, done or
 * failed), the ETA, the point in progress with its settings, and its series as the agents send
 * them. It polls /api/live every half second (why not Server-Sent Events: src/server/routes/live.ts);
 * points that land are in the set at once, so the matrix view shows them too.
 */
import type { LiveResponse, LiveSeriesResponse, SetsResponse } from '../../../src/server/api-types.ts';
import { makeChart, type Chart, type ChartOption } from '../chart.ts';
import { el } from '../dom.ts';
import { roleColour, runText } from '../run/common.ts';
import { mount as mountMatrix } from './matrix.ts';
import { defaultSeries } from './run.ts';
import type { ViewContext } from '../view.ts';

const POLL_MS = 500;

function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return 'unknown';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`;
}

export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const head = el('div', { className: 'live-head' });
  const current = el('div', { className: 'panel' });
  const chartBox = el('div', { className: 'chart' });
  const lag = el('span', { className: 'note live-lag' });
  chartBox.style.height = '300px';
  const table = el('table', { className: 'live-runs' });
  const matrixBox = el('div', { className: 'live-matrix' });
  root.append(
    head,
    current,
    el('div', { className: 'panel' }, el('h3', {}, 'the point in progress: its series as they arrive ', lag), chartBox),
    el('div', { className: 'panel' }, el('h3', { textContent: 'the plan' }), table),
    el('div', { className: 'panel' }, el('h3', { textContent: 'the matrix so far (drawn again as each point lands)' }), matrixBox),
  );
  let landed = 0;
  let unmountMatrix: (() => void) | undefined;

  /**
   * The matrix view of the points recorded so far, mounted again with a fresh catalogue when a
   * point lands (the first points bring the metrics it offers). It lives inside the live tab, so
   * it hears state changes as if it were its own tab.
   */
  async function refreshMatrix(): Promise<void> {
    const catalog = await ctx.api<SetsResponse>('/api/sets');
    if (!alive) return;
    unmountMatrix?.();
    matrixBox.replaceChildren();
    const inner = Object.assign(Object.create(ctx) as ViewContext, {
      catalog,
      onStateChange: (fn: (s: Record<string, string>) => void) => ctx.onStateChange((st) => fn({ ...st, view: 'matrix' })),
    });
    unmountMatrix = mountMatrix(matrixBox, inner);
  }
  let chart: Chart | undefined;
  let lastSeq = -1;
  let ids: string[] = [];

  async function poll(): Promise<void> {
    try {
      const st = await ctx.api<LiveResponse | { active: false; running: false }>('/api/live');
      if (!alive) return;
      if (!('set' in st)) {
        head.replaceChildren(el('p', { className: 'note', textContent: 'No benchmark is running here: the live view shows `streambench run FILE --ui` while it runs.' }));
        window.__sb.draws++;
        return;
      }
      if (st.seq !== lastSeq) {
        drawPlan(st);
        lastSeq = st.seq;
      }
      drawHead(st);
      if (st.current) await drawSeries();
      const now = st.counts.done + st.counts.failed + st.counts.interrupted;
      if (now !== landed && st.counts.done > 0) {
        landed = now;
        await refreshMatrix();
      }
      window.__sb.draws++;
    } catch (e) {
      // The run is over and its server gone, or a poll failed once: said, and tried again.
      head.dataset['error'] = e instanceof Error ? e.message : String(e);
    } finally {
      if (alive) timer = setTimeout(() => void poll(), POLL_MS);
    }
  }

  function drawHead(st: LiveResponse): void {
    const c = st.counts;
    const state = st.active ? (st.current ? 'running' : 'starting') : 'finished';
    head.dataset['state'] = state;
    head.replaceChildren(
      el('strong', { textContent: `${st.set}: ${state}` }),
      el('span', {
        className: 'note',
        textContent: ` · ${c.done} done, ${c.running} running, ${c.left} left${c.failed > 0 ? `, ${c.failed} failed` : ''}${c.interrupted > 0 ? `, ${c.interrupted} interrupted` : ''} · elapsed ${duration(st.elapsedS)}${st.active ? ` · ETA ${duration(st.etaS)}` : ''}`,
      }),
      ...(st.summary
        ? [el('div', { className: 'note', textContent: `Finished: ${st.summary.ok} ok, ${st.summary.failed} failed, ${st.summary.skipped} already recorded, in ${duration(st.summary.seconds)}${st.summary.stoppedBy ? `; stopped: ${st.summary.stoppedBy}` : ''}.` })]
        : []),
    );
    const matrix = el('a', { href: '?view=matrix', textContent: 'matrix view (fills in as points land)' });
    matrix.addEventListener('click', (ev) => {
      ev.preventDefault();
      ctx.setState({ view: 'matrix' });
    });
    head.append(el('div', {}, matrix));
    const cur = st.current;
    current.replaceChildren(
      cur
        ? el(
            'div',
            {},
            el('strong', { textContent: `point ${cur.n} of ${cur.of}${cur.attempt > 1 ? ` (attempt ${cur.attempt})` : ''}, r${cur.rep}, running for ${duration(cur.runningS)}` }),
            el('div', {
              className: 'note',
              textContent: Object.entries(cur.params)
                .map(([k, v]) => `${k}=${v}`)
                .join(' '),
            }),
          )
        : el('span', { className: 'note', textContent: st.active ? 'between points' : 'no point in progress' }),
    );
  }

  function drawPlan(st: LiveResponse): void {
    const r = st.runs;
    table.replaceChildren(el('tr', {}, el('th', { textContent: '#' }), el('th', { textContent: 'settings' }), el('th', { textContent: 'rep' }), el('th', { textContent: 'state' })));
    r.key.forEach((key, i) => {
      const row = el('tr', {}, el('td', { textContent: String(i + 1) }), el('td', { textContent: r.label[i]! }), el('td', { textContent: String(r.rep[i]) }), el('td', { textContent: `${r.state[i]}${r.error[i] ? `: ${r.error[i]}` : ''}` }));
      row.dataset['key'] = key;
      row.dataset['rep'] = String(r.rep[i]);
      row.dataset['state'] = r.state[i]!;
      row.className = `state-${r.state[i]}`;
      if (r.state[i] === 'done' || r.state[i] === 'failed') {
        row.style.cursor = 'pointer';
        row.title = 'open this run';
        row.addEventListener('click', () => ctx.setState({ view: 'run', run: runText({ set: st.set, key, rep: r.rep[i]! }) }));
      }
      table.append(row);
    });
  }

  async function drawSeries(): Promise<void> {
    const width = Math.max(200, chartBox.clientWidth || 1000);
    const data = await ctx.api<LiveSeriesResponse>('/api/live/series', { ids: ids.join(','), width });
    if (!alive) return;
    // The CPU and memory of each role: a first look; the run view shows all once the point lands.
    const want = defaultSeries(data.list).filter((id) => /:cpu\.busy_pct$|:proc\.[^.]+\.cpu_pct$/.test(id));
    if (want.join(',') !== ids.join(',')) {
      ids = want;
      if (ids.length > 0) return drawSeries();
    }
    const meta = new Map(data.list.map((s) => [s.id, s]));
    // How far behind the point the newest sample is (the agents send a batch a second; the page asks twice a second).
    const newest = Math.max(-Infinity, ...data.series.map((s) => s.columns.t[s.columns.t.length - 1] ?? -Infinity));
    if (data.current && Number.isFinite(newest)) {
      const behind = Math.max(0, data.current.runningS - newest);
      lag.textContent = `(newest sample ${behind.toFixed(1)} s behind)`;
      lag.dataset['behindS'] = behind.toFixed(2);
    }
    chart ??= makeChart(chartBox, 'live.series');
    chart.setOption(
      {
        animation: false,
        grid: { left: 60, right: 20, top: 30, bottom: 40 },
        legend: { type: 'scroll', top: 0 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value', name: 's since the point began', nameLocation: 'middle', nameGap: 25, min: 0 },
        yAxis: { type: 'value', name: '%' },
        series: data.series.map((s) => ({ type: 'line', id: s.id, name: `${meta.get(s.id)?.role ?? ''} ${meta.get(s.id)?.name ?? s.id}`, showSymbol: false, color: roleColour(meta.get(s.id)?.role ?? ''), data: s.columns.t.map((t, i) => [t, s.columns.v[i]]) })),
      } as ChartOption,
      { notMerge: true },
    );
  }

  void poll();
  return () => {
    alive = false;
    if (timer) clearTimeout(timer);
    chart?.dispose();
    unmountMatrix?.();
  };
}
