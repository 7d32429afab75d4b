/**
 * A stream point's quality-of-experience figures, from its roles' reports, through the one set of
 * definitions in src/stream/qoe.ts: freezes, the worst sliding-window latency, utilization of the
 * offered capacity, rate switches, and how the sending rate answered each capacity change; plus
 * quality over time as series. Times are on the reports' clock (ms), like analyzeStream's.
 */
import type { StreamSettings } from '../../config/stream-settings.ts';
import { freezes, latencyP95Max, rateAnswers, rateSeries, rateSwitches, utilization, type Span } from '../../stream/qoe.ts';
import type { ClientFrame, GuestFrame, RoleReport } from '../../stream/report.ts';
import type { MetricValue } from '../../store/records.ts';

/** Sliding windows of qoe.latency_p95_max: 1 s, stepped by 250 ms. */
export const LATENCY_WINDOW_MS = 1000;
export const LATENCY_STEP_MS = 250;
/** Bins of the sending rate that reaction and recovery are read on. */
export const RATE_BIN_MS = 100;
/** A frame identical to its source has infinite PSNR: counted as this, as client.psnr counts it. */
export const PSNR_CAP = 100;
/** Bins of the quality series. */
export const QUALITY_BIN_MS = 500;

export interface QoeResult {
  metrics: Record<string, MetricValue>;
  freezes: Span[];
  /** Quality over time (t in s since the point began), to merge with the point's other series; absent when no frame was measured. */
  series?: { t: number[]; cols: Record<string, number[]> };
}

const round = (x: number, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : NaN);
const mean = (xs: readonly number[]) => (xs.length > 0 ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN);
const finite = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);

/** The QoE figures of a window. `latency`: capture time and latency of each frame shown in it; `deliveredBytes`: what the client received in it. */
export function qoeOf(s: StreamSettings, r: { guest: RoleReport; host: RoleReport; client: RoleReport }, window: Span, latency: { captureMs: number[]; latencyMs: number[] }, deliveredBytes: number): QoeResult {
  const client = r.client.frames as ClientFrame[];
  const shownAll = client.filter((c) => !c.dropped && Number.isFinite(finite(c.display))).map((c) => finite(c.display));
  const before = shownAll.filter((t) => t < window.fromMs);
  const frozen = freezes(shownAll, window, s.freezeMs, before.length > 0 ? Math.max(...before) : undefined);

  const guest = r.guest.frames as GuestFrame[];
  const sent = rateSeries(
    guest.map((g) => g.sendEnd),
    guest.map((g) => g.bytes),
    window,
    RATE_BIN_MS,
  );
  const capacity = r.host.capacity ? { t: r.host.capacity.t, v: r.host.capacity.bps } : undefined;
  const answers = capacity ? rateAnswers(capacity, sent, RATE_BIN_MS, window) : [];
  const answered = (kind: 'drop' | 'rise') => answers.filter((a) => a.kind === kind && a.answeredMs !== undefined).map((a) => a.answeredMs!);
  const decisions = (r.guest.controls ?? []).filter((c) => c.rejected === undefined);

  const metrics: Record<string, MetricValue> = {
    'qoe.freeze_count': frozen.length,
    'qoe.freeze_ms': round(frozen.reduce((a, f) => a + f.toMs - f.fromMs, 0)),
    'qoe.latency_p95_max': round(latencyP95Max(latency.captureMs, latency.latencyMs, window, LATENCY_WINDOW_MS, LATENCY_STEP_MS)),
    'rate.switches': rateSwitches(decisions, window, { bitrate: s.bitrateBps, fps: s.fps, resolution: `${s.width}x${s.height}` }),
  };
  // Only where the link has a capacity (net_rate or a trace): an unlimited link offers nothing to measure against.
  if (capacity) {
    metrics['qoe.utilization'] = round(utilization(deliveredBytes * 8, capacity, window), 3);
    metrics['rate.reaction_ms'] = round(mean(answered('drop')));
    metrics['rate.recovery_ms'] = round(mean(answered('rise')));
    metrics['rate.unanswered'] = answers.filter((a) => a.answeredMs === undefined).length;
  }

  // PSNR and SSIM per bin of display time, where the client measured them.
  const measured = client.filter((c) => Number.isFinite(finite(c.psnr)) && Number.isFinite(finite(c.display)));
  let series: QoeResult['series'];
  if (measured.length > 0) {
    const bins = new Map<number, { psnr: number[]; ssim: number[] }>();
    for (const c of measured) {
      const b = Math.floor(finite(c.display) / QUALITY_BIN_MS);
      const x = bins.get(b) ?? { psnr: [], ssim: [] };
      x.psnr.push(Math.min(finite(c.psnr), PSNR_CAP));
      if (Number.isFinite(finite(c.ssim))) x.ssim.push(finite(c.ssim));
      bins.set(b, x);
    }
    const keys = [...bins.keys()].sort((a, b) => a - b);
    series = { t: keys.map((k) => (k * QUALITY_BIN_MS) / 1000), cols: { quality_psnr: keys.map((k) => round(mean(bins.get(k)!.psnr), 2)), quality_ssim: keys.map((k) => round(mean(bins.get(k)!.ssim), 4)) } };
  }
  return { metrics, freezes: frozen, ...(series ? { series } : {}) };
}
