/** How the `spice` workload resolves its own part of a benchmark file: its defaults and content, checked over the plan. */
import { checkParamValues, pickDefaults, seconds } from '../resolve-kit.ts';
import type { SpiceWorkload } from '../resolved.ts';
import { SpiceWorkloadSchema, type RawSpiceWorkload } from '../schema.ts';
import { spiceSettings, SPICE_PARAMS } from '../spice-settings.ts';
import type { WorkloadDef } from '../workload-def.ts';
import { SPICE_DECL } from './spice.ts';

export const SPICE_WORKLOAD: WorkloadDef<SpiceWorkload> = {
  ...SPICE_DECL,
  schema: SpiceWorkloadSchema,
  resolve(ctx, raw) {
    const w = raw as RawSpiceWorkload;
    return { type: 'spice', defaults: pickDefaults(w, SPICE_PARAMS), ...(w.content ? { content: w.content } : {}), ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
  },
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, SPICE_PARAMS, spiceSettings, []);
  },
};
