/**
 * The ground truth of a stream point run across time namespaces: its roles' raw reports (each
 * stamped on its own machine's clock) mapped with the namespaces' true shifts, which the test
 * set itself, instead of the offsets the engine measured. What the point recorded must equal
 * these figures within its stated clock uncertainty, whatever the load did to the figures.
 */
import { join } from 'node:path';
import { typeValues } from '../../src/config/declare.ts';
import { streamSettings } from '../../src/config/stream-settings.ts';
import { STREAM_PARAM_DECLS } from '../../src/config/stream-params.ts';
import { TimeBase } from '../../src/record/timebase.ts';
import type { PointRecord } from '../../src/store/records.ts';
import { readRoleReport } from '../../src/stream/report.ts';
import { analyzeStream, mapReportTimes } from '../../src/workloads/stream/run.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const ROLES = ['guest', 'host', 'client'] as const;

/**
 * The point's figures recomputed with each role's true offset (ms, role clock - collecting clock).
 * `defaults` are the workload block's values as the benchmark wrote them.
 */
export function figuresAtTrueOffsets(dir: string, p: PointRecord, trueOffsetsMs: Record<(typeof ROLES)[number], number>, defaults: Record<string, string | number>, times: { warmupS: number; durationS: number }): Record<string, number> {
  const settings = streamSettings({ ...typeValues(STREAM_PARAM_DECLS, defaults), ...p.typed }, times);
  const tb = new TimeBase(0, Object.fromEntries(ROLES.map((r) => [r, { kind: 'measured' as const, start: { offsetMs: trueOffsetsMs[r], uncertaintyMs: 0, rounds: 1, atMs: 0 } }])));
  const reports = Object.fromEntries(ROLES.map((r) => [r, mapReportTimes(readRoleReport(join(dir, `${r}.json`), r), (t) => tb.toPoint(r, t))])) as Parameters<typeof analyzeStream>[1];
  return analyzeStream(settings, reports).metrics as Record<string, number>;
}

/** Every stage p50 and latency percentile the clock tests compare (most cross roles). */
export const CLOCK_FIGURES = ['latency.p50', 'latency.p95', 'latency.p99', 'latency.to_decoded.p50', 'stage.uplink.p50', 'stage.relay.p50', 'stage.downlink.p50', 'stage.network.p50', 'stage.decode_wait.p50', 'stage.display_wait.p50', 'stage.encode.p50', 'stage.decode.p50'];

/** Stages timed on one role's clock alone: no offset enters them, so a move between two groups of runs is the load's. */
const ONE_CLOCK = ['stage.encode.p50', 'stage.relay.p50', 'stage.decode_wait.p50', 'stage.decode.p50', 'stage.display_wait.p50'];

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * The shifted runs' figures (their median) against the unshifted runs': each within the unshifted
 * range widened by the stated clock uncertainty, by the range itself (at least a timer tick, 1 ms,
 * or half the median: three runs of a busy machine can agree to 0.05 ms where a fourth moves a
 * tail by half its value), and by what the load moved between the two groups, read off the stages
 * that no offset enters (the sum of their medians' moves: a latency is a sum of stages). All of it
 * is milliseconds, against the 300 s and 5000 s offsets this comparison guards against; each run is
 * also held to the truth within its own uncertainty (figuresAtTrueOffsets). Once, at load 18, the
 * shifted group's encode p50 was 20 ms against 1 ms for the unshifted group run minutes before.
 */
export function compareToUnshifted(shifted: readonly PointRecord[], plain: readonly PointRecord[]): { failed: string[]; table: string } {
  const fig = (ps: readonly PointRecord[], k: string) => ps.map((p) => p.metrics[k] as number);
  const u = Math.max(...shifted.map((p) => p.metrics['clock.uncertainty_ms'] as number));
  const load = ONE_CLOCK.reduce((s, k) => s + Math.abs(median(fig(shifted, k)) - median(fig(plain, k))), 0);
  const rows = CLOCK_FIGURES.map((k) => {
    const base = fig(plain, k);
    const got = median(fig(shifted, k));
    const spread = Math.max(Math.max(...base) - Math.min(...base), 1, 0.5 * median(base));
    const lo = Math.min(...base) - u - spread - load;
    const hi = Math.max(...base) + u + spread + load;
    const ok = Number.isFinite(got) && got >= lo && got <= hi;
    return { k, ok, line: `${ok ? '  ' : '! '}${k}: shifted ${fig(shifted, k).join('/')} (median ${got}), unshifted ${base.join('/')}, allowed [${lo.toFixed(3)}, ${hi.toFixed(3)}]` };
  });
  const head = `clock uncertainty ${u} ms; the load moved the one-clock stages by ${load.toFixed(3)} ms in all between the groups`;
  return { failed: rows.filter((r) => !r.ok).map((r) => r.k), table: [head, ...rows.map((r) => r.line)].join('\n') };
}
