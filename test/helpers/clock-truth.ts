/**
 * The ground truth of a stream point run across time namespaces: its roles' raw reports (each
 * stamped on its own machine's clock) mapped with the namespaces' true shifts, which the test
 * set itself, instead of the offsets the engine measured. What the point recorded must equal
 * these figures within its stated clock uncertainty, whatever the load did to the figures.
 */
import { join } from 'node:path';
import { typeValues } from '../../src/config/declare.ts';
import { streamSettings } from '../../src/config/stream-settings.ts';
import { STREAM_PARAM_DECLS } from '../../src/config/workloads/stream.ts';
import { TimeBase } from '../../src/record/timebase.ts';
import type { PointRecord } from '../../src/store/records.ts';
import { readRoleReport } from '../../src/stream/report.ts';
import { analyzeStream, mapReportTimes } from '../../src/workloads/stream.ts';

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
