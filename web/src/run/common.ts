/** Pieces the run, frame and live views share: the run named in the state, colours, zoom (DOM helpers: ../dom.ts). */
import type { ViewState } from '../state.ts';

/** A run as the state names it: `run=SET/KEY/REP` (what openRun writes). */
export interface RunRef {
  set: string;
  key: string;
  rep: number;
}

/** The run under `key` of the state (run or run2), or undefined when absent or malformed. */
export function runRef(s: ViewState, key = 'run'): RunRef | undefined {
  const v = s[key];
  if (!v) return undefined;
  // The set's name may hold slashes; the key and rep never do.
  const m = /^(.*)\/([^/]+)\/(\d+)$/.exec(v);
  return m ? { set: m[1]!, key: m[2]!, rep: Number(m[3]) } : undefined;
}

/** The state text of a run. */
export function runText(r: RunRef): string {
  return `${r.set}/${r.key}/${r.rep}`;
}

/** The API's query for a run. */
export function runQuery(r: RunRef, extra: Record<string, string | number | undefined> = {}): Record<string, string | number | undefined> {
  return { set: r.set, key: r.key, rep: r.rep, ...extra };
}

/** A colour per role, so guest, host and client read the same in every panel. */
export function roleColour(role: string): string {
  return ({ guest: '#1f77b4', host: '#ff7f0e', client: '#2ca02c', local: '#9467bd' } as Record<string, string>)[role] ?? '#8c564b';
}

/** Colours of the frame stages, in pipeline order. */
export const STAGE_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Calls f at most once per `ms`, with the latest arguments (zooming fires many events). */
export function debounce<A extends unknown[]>(f: (...a: A) => void, ms: number): (...a: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...a: A) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => f(...a), ms);
  };
}

/**
 * The state a chart's zoom sets: its data-zoom window (seconds of the run), or no window once it is
 * zoomed fully out; undefined while the chart has no window to say.
 */
export function zoomState(chart: { getOption(): unknown }): { from: string | null; to: string | null } | undefined {
  const dz = (chart.getOption() as { dataZoom?: { startValue?: number; endValue?: number; start?: number; end?: number }[] }).dataZoom?.[0];
  if (!dz || dz.startValue === undefined || dz.endValue === undefined) return undefined;
  const full = dz.start === 0 && dz.end === 100;
  return full ? { from: null, to: null } : { from: dz.startValue.toFixed(3), to: dz.endValue.toFixed(3) };
}

/** The zoom window in the state (`from`, `to`, seconds of the run), if any. */
export function zoomOf(s: ViewState): { from?: number; to?: number } {
  const f = Number(s['from']);
  const t = Number(s['to']);
  return s['from'] !== undefined && s['to'] !== undefined && Number.isFinite(f) && Number.isFinite(t) && t > f ? { from: f, to: t } : {};
}
