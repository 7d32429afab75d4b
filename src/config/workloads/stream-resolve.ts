/** How the `stream` workload resolves its own part of a benchmark file: its defaults, schedule and pinning, checked over the plan. */
import { errorMessage } from '../../base/errors.ts';
import { formatDuration } from '../../base/duration.ts';
import { checkParamValues, pickDefaults, seconds, type Ctx } from '../resolve-kit.ts';
import type { Axis, ParamValue, StreamWorkload } from '../resolved.ts';
import { StreamWorkloadSchema, type RawStreamWorkload } from '../schema.ts';
import type { PathSeg } from '../source.ts';
import { CODEC_DEPENDENT_PARAMS, parseBitrate, streamSettings, STREAM_PARAMS } from '../stream-settings.ts';
import type { WorkloadDef } from '../workload-def.ts';
import { y4mSourceProblem } from '../y4m-check.ts';
import { STREAM_DECL } from './stream.ts';

export const STREAM_WORKLOAD: WorkloadDef<StreamWorkload> = {
  ...STREAM_DECL,
  schema: StreamWorkloadSchema,
  resolve: resolveStream,
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, STREAM_PARAMS, streamSettings, CODEC_DEPENDENT_PARAMS);
    checkSources(ctx, w.defaults, plan.axes);
  },
  checkTimes(ctx, w, { warmupS, durationS }) {
    // The stream ends at warmup + duration (10 s by default): a change scheduled later never applies.
    const endS = warmupS + (durationS ?? 10);
    w.schedule.forEach((c, i) => {
      if (c.atS >= endS) ctx.add(['workload', 'schedule', i, 'at'], `at ${formatDuration(c.atS)} is after the stream ends (${formatDuration(endS)}), so the change would never apply`);
    });
  },
};

function resolveStream(ctx: Ctx, raw: unknown): StreamWorkload {
  const w = raw as RawStreamWorkload;
  const defaults = pickDefaults(w, STREAM_PARAMS);
  const schedule: { atS: number; bitrate?: number; fps?: number; keyframe?: boolean }[] = [];
  (w.schedule ?? []).forEach((c, i) => {
    const at = seconds(ctx, ['workload', 'schedule', i, 'at'], c.at, 0, 'nonnegative');
    const entry: (typeof schedule)[number] = { atS: at };
    if (c.bitrate !== undefined) {
      try {
        entry.bitrate = parseBitrate(c.bitrate);
      } catch (e) {
        ctx.add(['workload', 'schedule', i, 'bitrate'], errorMessage(e));
      }
    }
    if (c.fps !== undefined && !(c.fps >= 1 && c.fps <= 240)) ctx.add(['workload', 'schedule', i, 'fps'], `fps ${c.fps} must be from 1 to 240`);
    if (c.fps !== undefined) entry.fps = c.fps;
    if (c.keyframe !== undefined) entry.keyframe = c.keyframe;
    schedule.push(entry);
  });
  const cpus = w.cpus && Object.keys(w.cpus).length > 0 ? (Object.fromEntries(Object.entries(w.cpus).filter(([, v]) => v !== undefined)) as Record<string, number[]>) : undefined;
  return { type: 'stream', defaults, schedule, ...(cpus ? { cpus } : {}), ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
}

/**
 * Each distinct stream `source` where it is written (the workload's default unless the matrix
 * lists sources): an existing regular file with a YUV4MPEG2 header, checked without opening a
 * FIFO (src/config/y4m-check.ts), so a bad one is refused here, not when its point runs.
 */
function checkSources(ctx: Ctx, defaults: Record<string, ParamValue>, axes: readonly Axis[]): void {
  const axis = axes.find((a) => a.name === 'source');
  const where: [ParamValue, PathSeg[]][] = axis ? axis.values.map((v, i) => [v, ['matrix', 'source', ...(axis.values.length > 1 ? [i] : [])]]) : defaults['source'] !== undefined ? [[defaults['source'], ['workload', 'source']]] : [];
  const seen = new Map<string, string | undefined>();
  for (const [v, path] of where) {
    const file = String(v);
    if (!seen.has(file)) seen.set(file, y4mSourceProblem(file));
    const problem = seen.get(file);
    if (problem !== undefined) ctx.add(path, problem, 'give a .y4m file, e.g. one written by: ffmpeg -i clip.mp4 -pix_fmt yuv420p clip.y4m');
  }
}
