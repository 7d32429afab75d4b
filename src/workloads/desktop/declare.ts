/**
 * What every desktop workload's declaration shares (spice, vnc, rdp: src/workloads/<type>/declare.ts):
 * its block's schema (its parameters, `content`, `timeout`), the resolved shape, where its roles go
 * under each executor, what its client needs beside the stack, and how it resolves its block. Like
 * a workload's declaration, it imports base and config only.
 */
import { Type, type TObject } from '@sinclair/typebox';
import type { MetricDecl, NeedDecl, ParamDecl, WorkloadDecl } from '../../config/declare.ts';
import { pickDefaults, seconds, type Ctx } from '../../config/resolve-kit.ts';
import type { ParamValue } from '../../config/resolved.ts';
import { Duration, paramSchema } from '../../config/schema.ts';

/** A desktop workload as resolved: the points' defaults, the content program, the time-out. */
export interface DesktopWorkload<T extends string> {
  type: T;
  defaults: Record<string, ParamValue>;
  content?: string[];
  timeoutS?: number;
}

/** The schema of a desktop workload's block: its type, its parameters, `content` (an X program shown on `display`) and `timeout`. */
export function desktopSchema(type: string, params: readonly ParamDecl[], display: string): TObject {
  return Type.Object(
    {
      type: Type.Literal(type),
      ...Object.fromEntries(params.map((d) => [d.name, paramSchema(d, Type.Union([Type.String(), Type.Number(), Type.Boolean()]))])),
      content: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: `An X program (argv) shown on ${display} instead of a scene.` })),
      timeout: Type.Optional(Duration),
    },
    { additionalProperties: false },
  );
}

/** A summary metric of a point (a column of `points`). */
export const desktopMetric = (name: string, unit: string | undefined, better: MetricDecl['better'], role: string, doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role, kind: 'summary', view: 'points', doc });

/**
 * Where a desktop point's roles go: the server and content on the guest, the relay on the host,
 * the viewer on the client, each reached at its machine's address. Under Slurm it needs
 * recording: the player's stamps and the client's sightings meet on one clock only through the
 * agents' measurements of the clocks.
 */
export function desktopExecutors(type: string): WorkloadDecl['executors'] {
  return {
    agents: { machines: ['guest', 'host', 'client'], reach: 'address' },
    slurm: {
      machines: ['guest', 'host', 'client'],
      reach: 'address',
      needsRecording: `the ${type} workload under the slurm executor needs recording: its roles run on three nodes, and the recording agents measure their clocks (without them, latency would mix two clocks)`,
    },
  };
}

/** What every desktop point's client needs beside the stack's viewer. */
export const DESKTOP_CLIENT_NEEDS: readonly NeedDecl[] = [
  { what: 'Xvfb (the virtual screen of the client)', check: 'Xvfb', debian: 'xvfb' },
  { what: 'ffmpeg (grabbing and measuring the screens)', check: 'ffmpeg', debian: 'ffmpeg' },
];

/** Resolves a desktop workload's block (checked against desktopSchema): its parameters' defaults, its content, its time-out. */
export function resolveDesktop<T extends string>(type: T, ctx: Ctx, raw: unknown, params: Record<string, string>): DesktopWorkload<T> {
  const w = raw as { content?: string[]; timeout?: unknown };
  return { type, defaults: pickDefaults(w, params), ...(w.content ? { content: w.content } : {}), ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
}
