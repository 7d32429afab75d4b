/**
 * The beginning and the end of a point, written once for every path that runs one (the engine's own, a Slurm job's
 * first node, the agents executor): the recording of the point ends and its figures and flags
 * join the workload's, the point checks its conditions, and the workload's series is written.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../base/errors.ts';
import { storageFailure } from '../base/fs-atomic.ts';
import type { RoleClockSummary } from '../record/timebase.ts';
import { writeSeriesParquet } from '../store/parquet.ts';
import type { PointConditions } from '../store/records.ts';
import { monoMs } from '../base/clock.ts';
import type { PointContext, PointResult, RolePlacement } from '../workloads/workload.ts';
import { pointConditions, timeBaseFor, type MachineSeries } from './point-checks.ts';
import type { RunRecorder } from './recorder.ts';

/**
 * What a workload's context takes from the point's recording, the same on every path: the point's
 * time base (its origin now), and, when agents record it, each role's agent and a way to have a
 * process watched (a failure to watch goes to `onError`, to become a flag).
 */
export function recordingContext(recording: RunRecorder | undefined, onError: (message: string) => void, placement?: RolePlacement): Pick<PointContext, 'timeBase' | 'agent' | 'watch'> {
  const originMs = recording?.originMs ?? monoMs();
  return {
    timeBase: timeBaseFor(recording, originMs, placement),
    ...(recording
      ? {
          agent: (role: string) => recording.agent(role),
          watch: (role: string, selector: { label: string; pid: number; tree?: boolean }) => {
            recording.watch(role, selector).catch((e: unknown) => onError(`could not watch ${selector.label}: ${errorMessage(e)}`));
          },
        }
      : {}),
  };
}

export interface PointEnd {
  /** The point's directory (its staging directory). */
  dir: string;
  /** The recorder whose point is open; absent when recording is off or did not start. */
  recorder?: RunRecorder;
  /** What went wrong with the recording so far (it did not start, a process could not be watched): it becomes a flag. */
  recErr?: string;
  /** The roles whose machines the point checks. */
  roles: readonly string[];
  /** What the engine's own watch of this machine saw, where no agent recorded. */
  watched?: MachineSeries;
  /** Where the roles ran, when an executor placed them on machines. */
  placement?: RolePlacement;
  nodes?: Record<string, string>;
  /** A failure to write under this directory (a full disk) is thrown rather than flagged: every later point would fail the same way. */
  storage?: string;
}

/**
 * Ends the point's recording and merges its metrics and flags into `result` (the workload's own
 * figures win a name clash: they are the more direct measurement), checks the point's conditions
 * when it succeeded, flags a recording problem, writes the workload's series; returns the
 * conditions and the roles' clocks.
 */
export async function endPoint(result: PointResult, o: PointEnd): Promise<{ conditions?: PointConditions; clocks: Record<string, RoleClockSummary> }> {
  let recErr = o.recErr;
  let clocks: Record<string, RoleClockSummary> = {};
  let recorded: Parameters<typeof pointConditions>[0]['recording'];
  if (o.recorder && recErr === undefined) {
    try {
      mkdirSync(o.dir, { recursive: true });
      const r = await o.recorder.endPoint(o.dir, result.window);
      result.metrics = { ...r.metrics, ...result.metrics };
      result.flags = [...result.flags, ...r.flags];
      clocks = r.clocks;
      recorded = { rec: r.recording, hellos: o.recorder.hellos };
    } catch (e) {
      const disk = o.storage !== undefined ? storageFailure(e, o.storage) : undefined;
      if (disk) throw disk;
      recErr = `recording failed: ${errorMessage(e)}`;
    }
  }
  const conditions =
    result.outcome.status === 'ok' ? pointConditions({ roles: o.roles, result, ...(recorded ? { recording: recorded } : {}), ...(o.watched ? { watch: o.watched } : {}), ...(o.placement ? { placement: o.placement } : {}), ...(o.nodes ? { nodes: o.nodes } : {}) }) : undefined;
  if (recErr !== undefined) result.flags = [...result.flags, recErr];
  if (result.series && (result.series['t']?.length ?? 0) > 0) {
    mkdirSync(o.dir, { recursive: true });
    await writeSeriesParquet(join(o.dir, 'timeseries.parquet'), result.series);
  }
  return { ...(conditions ? { conditions } : {}), clocks };
}
