/**
 * A workload's definition as config sees it: its declaration (what it takes and gives, its
 * roles, where it can be placed) and how it resolves its own part of a benchmark file, as a
 * Vite plugin resolves its own config. The common resolution (resolve.ts) validates the block
 * against the workload's schema, then hands it to `resolve`, and calls the checks it offers.
 * Config knows no workload by name: it asks the registry (workloads/index.ts) it was handed.
 */
import type { TSchema } from '@sinclair/typebox';
import type { MetricDecl, WorkloadDecl } from './declare.ts';
import type { Ctx, PlanShape } from './resolve-kit.ts';
import type { ResolvedWorkload } from './resolved.ts';

export interface WorkloadDef<W extends ResolvedWorkload = ResolvedWorkload> extends WorkloadDecl {
  /** The schema of its `workload:` block (type included), for validation and the shipped JSON Schema. */
  schema: TSchema;
  /** Its block (which passed `schema`) resolved; problems go to ctx, each at its path. `placeholders`: the names its templates may use. */
  resolve(ctx: Ctx, raw: unknown, placeholders: readonly string[]): W;
  /** Checks its values over the plan (each distinct value once), where they are written; skipped when the plan is too large to count. */
  checkPlan?(ctx: Ctx, w: W, plan: PlanShape): void;
  /** Checks that need a point's times (warm-up and duration, resolved). */
  checkTimes?(ctx: Ctx, w: W, times: { warmupS: number; durationS?: number }): void;
  /** The metrics the file itself declares beside the workload's (extraction rules, say). */
  fileMetrics?(ctx: Ctx, raw: unknown): MetricDecl[];
}
