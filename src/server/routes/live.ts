/**
 * The live view's data: what `streambench run FILE --ui` is doing now. The CLI feeds a LiveFeed
 * with the engine's events (plan, point-start, point-end, done) and the agents' samples of the
 * point in progress (engine option onSample), and attaches it to the server's sets; the routes
 * answer from it. The page polls (every 0.5 s) rather than holding a Server-Sent Events stream:
 * an EventSource cannot send the Authorization header, so the token would have to travel in the
 * URL (and into logs and history); a poll is one small request through the same request rules
 * as every other call, and keeps the samples under 2 s behind (agents send a batch a second).
 */
import type { PlannedRun } from '../../config/matrix.ts';
import type { EngineEvent, RunSummary } from '../../engine/events.ts';
import type { PointSample } from '../../engine/recorder.ts';
import { findMetric } from '../../config/declare.ts';
import { RECORDING_METRICS } from '../../config/registry.ts';
import type { LiveResponse, LiveSeriesResponse, RunSeriesInfo } from '../api-types.ts';
import { decimateMinMax } from '../decimate.ts';
import { ApiFailure, listParam, type Route, type RouteContext } from '../route.ts';
import type { LoadedSets } from '../sets.ts';

/** Samples kept per series of the point in progress (a 10-minute point at 10 Hz is 6,000). */
const MAX_SAMPLES = 50_000;

type RunState = 'left' | 'running' | 'done' | 'failed' | 'interrupted';

/** What a run of the engine is doing, from its events; what the live routes answer. */
export class LiveFeed {
  private runs: { key: string; rep: number; label: string; state: RunState; error?: string }[] = [];
  private plan: { total: number; toRun: number; recorded: number; resultsDir: string } | undefined;
  private current: { key: string; rep: number; n: number; of: number; attempt: number; params: Record<string, string | number | boolean>; since: number } | undefined;
  private etaS: number | undefined;
  private summary: RunSummary | undefined;
  private startedAt = Date.now();
  /** The point in progress's series: id -> times and values. */
  private series = new Map<string, { role: string; probe: string; name: string; t: number[]; v: number[] }>();
  private seq = 0;

  /** `planned`: every run the engine will go through, in order (from makePlan), so the page lists those left. */
  constructor(
    planned: readonly PlannedRun[],
    readonly setName: string,
  ) {
    this.runs = planned.map((r) => ({
      key: r.key,
      rep: r.rep,
      label: Object.entries(r.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      state: 'left',
    }));
  }

  /** Takes an engine event (chain it with the progress printer). */
  handle = (e: EngineEvent): void => {
    this.seq++;
    const find = (run: PlannedRun) => this.runs.find((r) => r.key === run.key && r.rep === run.rep);
    switch (e.type) {
      case 'plan':
        this.plan = { total: e.total, toRun: e.toRun, recorded: e.recorded, resultsDir: e.resultsDir };
        this.startedAt = Date.now();
        break;
      case 'point-start': {
        const r = find(e.run);
        if (r) r.state = 'running';
        this.current = { key: e.run.key, rep: e.run.rep, n: e.n, of: e.of, attempt: e.attempt, params: { ...e.run.params }, since: Date.now() };
        this.series.clear();
        if (e.etaS !== undefined) this.etaS = e.etaS;
        break;
      }
      case 'point-end': {
        const r = find(e.run);
        if (r) {
          const o = e.record.outcome;
          r.state = o.status === 'ok' ? 'done' : o.status === 'failed' ? 'failed' : 'interrupted';
          if (o.status === 'failed') r.error = o.error;
        }
        this.current = undefined;
        this.etaS = e.etaS;
        break;
      }
      case 'done':
        this.summary = e.summary;
        this.current = undefined;
        this.etaS = 0;
        break;
      default:
        break;
    }
  };

  /** Takes a sample of the point in progress. */
  sample = (s: PointSample): void => {
    if (!this.current) return;
    for (const [name, value] of Object.entries(s.values)) {
      const id = `samples:${s.role}:${name}`;
      let x = this.series.get(id);
      if (!x) this.series.set(id, (x = { role: s.role, probe: s.probe, name, t: [], v: [] }));
      // Agents' batches arrive in order; a sample out of order (a resend) goes where it belongs.
      if (x.t.length > 0 && s.t < x.t[x.t.length - 1]!) {
        const at = x.t.findIndex((t) => t > s.t);
        x.t.splice(at, 0, s.t);
        x.v.splice(at, 0, value);
      } else {
        x.t.push(s.t);
        x.v.push(value);
      }
      if (x.t.length > MAX_SAMPLES) {
        x.t.splice(0, x.t.length - MAX_SAMPLES);
        x.v.splice(0, x.v.length - MAX_SAMPLES);
      }
    }
  };

  /** The state the live view shows. */
  status(): LiveResponse {
    const count = (st: RunState) => this.runs.filter((r) => r.state === st).length;
    return {
      active: this.summary === undefined,
      set: this.setName,
      seq: this.seq,
      plan: this.plan ?? null,
      runs: {
        key: this.runs.map((r) => r.key),
        rep: this.runs.map((r) => r.rep),
        label: this.runs.map((r) => r.label),
        state: this.runs.map((r) => r.state),
        error: this.runs.map((r) => r.error ?? null),
      },
      counts: { left: count('left'), running: count('running'), done: count('done'), failed: count('failed'), interrupted: count('interrupted') },
      current: this.current ? { key: this.current.key, rep: this.current.rep, n: this.current.n, of: this.current.of, attempt: this.current.attempt, params: this.current.params, runningS: (Date.now() - this.current.since) / 1000 } : null,
      etaS: this.etaS ?? null,
      elapsedS: (Date.now() - this.startedAt) / 1000,
      summary: this.summary ?? null,
    };
  }

  /** The series of the point in progress, listed. */
  seriesList(): RunSeriesInfo[] {
    return [...this.series.entries()]
      .map(([id, s]) => ({ id, source: 'samples' as const, role: s.role, probe: s.probe, name: s.name, n: s.t.length, from: s.t[0] ?? 0, to: s.t[s.t.length - 1] ?? 0, unit: findMetric(RECORDING_METRICS, s.name, 'series')?.unit ?? null }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** A series of the point in progress, decimated to width. */
  seriesData(id: string, width: number): { t: number[]; v: number[]; n: number; reduced: boolean } | undefined {
    const s = this.series.get(id);
    if (!s) return undefined;
    const d = decimateMinMax(s.t, s.v, width);
    return { t: d.t, v: d.v, n: d.n, reduced: d.reduced };
  }
}

/** The feeds of the servers that show a run in progress, by their sets. */
const feeds = new WeakMap<LoadedSets, LiveFeed>();

/** Makes the server over these sets answer /api/live from the feed. */
export function attachLive(sets: LoadedSets, feed: LiveFeed): void {
  feeds.set(sets, feed);
}

function feedOf(ctx: RouteContext): LiveFeed | undefined {
  return feeds.get(ctx.sets);
}

async function live(ctx: RouteContext): Promise<LiveResponse | { active: false; running: false }> {
  const f = feedOf(ctx);
  return f ? f.status() : { active: false, running: false };
}

async function liveSeries(ctx: RouteContext): Promise<LiveSeriesResponse> {
  const f = feedOf(ctx);
  if (!f) throw new ApiFailure(404, 'no run in progress here: the live view needs `streambench run FILE --ui`');
  const w = Number(ctx.query.get('width') ?? 1000);
  if (!Number.isInteger(w) || w < 10 || w > 8000) throw new ApiFailure(400, `width '${String(ctx.query.get('width')).slice(0, 40)}' is not a whole number from 10 to 8000`);
  const list = f.seriesList();
  const ids = listParam(ctx.query, 'ids', 200) ?? [];
  const known = new Set(list.map((s) => s.id));
  // A series not (yet) sampled in this point is answered empty: the next point may not have it.
  const series = ids.map((id) => {
    const d = known.has(id) ? f.seriesData(id, w) : undefined;
    return { id, n: d?.n ?? 0, reduced: d?.reduced ?? false, columns: { t: d?.t ?? [], v: (d?.v ?? []).map((x) => (Number.isNaN(x) ? null : x)) } };
  });
  const st = f.status();
  return { list, series, current: st.current, width: w };
}

export const routes: Route[] = [
  { method: 'GET', path: '/api/live', handle: live },
  { method: 'GET', path: '/api/live/series', handle: liveSeries },
];
