/**
 * The JSON Schema of a point record (`points/<key>-r<rep>/point.json`), for the programs that
 * read result sets without streambench: `streambench schema --point` prints it (the same as
 * schema/point.schema.json). Its parts that say whether a figure can be trusted (flags,
 * conditions, timeline) are spelled out; metrics and parameters are open maps (the catalogue,
 * `results catalog SET --json`, describes each one).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { CONDITION_CODES } from '../config/conditions.ts';
import { STORE_FORMAT } from './records.ts';

const Num = Type.Number();
const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

const Clock = Type.Object(
  {
    offsetMs: Type.Number({ description: "offset at the point's start: the role's clock minus the collecting clock, ms" }),
    uncertaintyMs: Type.Number({ minimum: 0, description: 'mapped times are true within ± this, ms' }),
    driftMs: Type.Optional(Type.Number({ description: "change of the offset from the point's start to its end, ms (interpolated between)" })),
    same: Type.Optional(Type.Boolean({ description: 'the role read the collecting clock itself (same boot id and time namespace)' })),
  },
  { additionalProperties: false },
);

const Condition = Type.Object(
  {
    code: Type.Union(CONDITION_CODES.map((c) => Type.Literal(c))),
    severity: Type.Union([Type.Literal('flag'), Type.Literal('note')], { description: 'flag: a figure of the point may not be true; note: worth knowing' }),
    reason: Type.String({ description: 'what was seen, with the figure and the threshold' }),
  },
  { additionalProperties: false },
);

const Conditions = Type.Object(
  {
    checked: Type.Array(Type.String(), { description: 'each check that ran' }),
    notChecked: Type.Array(Type.Object({ check: Type.String(), why: Type.String() }, { additionalProperties: false }), { description: 'each check that could not run, and why' }),
    found: Type.Array(Condition, { description: 'what crossed a threshold (docs/conditions.md)' }),
    placement: Type.Optional(
      Type.Object(
        {
          roles: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'role -> index into machines' }),
          machines: Type.Array(Type.Object({ hostname: Type.String(), bootId: Type.Union([Type.String(), Type.Null()]), cores: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })),
          cpus: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Integer({ minimum: 0 })), { description: 'role -> the CPUs the kernel gave it, when pinned' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'absent in records written before conditions were checked: "not checked", never clean' },
);

const Outcome = Type.Union([
  Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }),
  Type.Object({ status: Type.Literal('failed'), error: Type.String() }, { additionalProperties: false }),
  Type.Object({ status: Type.Literal('interrupted'), reason: Type.String() }, { additionalProperties: false }),
]);

const Executor = Type.Union([
  Type.Object({ kind: Type.Literal('slurm'), jobId: Type.String(), nodes: Type.Record(Type.String(), Type.String()), clocks: Type.Optional(Type.Record(Type.String(), Clock)) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('agents'), jobId: Type.String(), nodes: Type.Record(Type.String(), Type.String()), agents: Type.Record(Type.String(), Type.String()), clocks: Type.Optional(Type.Record(Type.String(), Clock)) }, { additionalProperties: false }),
]);

/** The schema of point.json. */
export const PointRecordSchema: TSchema = Type.Object(
  {
    format: Type.Literal(STORE_FORMAT),
    key: Type.String(),
    rep: Type.Integer({ minimum: 1 }),
    index: Type.Integer({ minimum: 0 }),
    params: Type.Record(Type.String(), Scalar, { description: 'the parameters as written' }),
    typed: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'the same, typed in base units' })),
    declared: Type.Optional(Type.Unknown({ description: "what the benchmark file declared beyond its workload (its own parameters' types, its metrics' units)" })),
    outcome: Outcome,
    attempts: Type.Integer({ minimum: 1 }),
    workload: Type.String(),
    benchmark: Type.Object({ name: Type.String(), sha256: Type.String() }, { additionalProperties: false }),
    startedAt: Type.String(),
    endedAt: Type.String(),
    wallS: Num,
    metrics: Type.Record(Type.String(), Type.Union([Scalar, Type.Null()]), { description: '`results catalog SET` describes each; null where a figure could not be computed (JSON has no NaN)' }),
    files: Type.Array(Type.String()),
    flags: Type.Array(Type.String(), { description: "what went wrong while recording (gaps, failed probes); the conditions' flags are in conditions.found" }),
    conditions: Type.Optional(Conditions),
    timeline: Type.Optional(
      Type.Object(
        {
          warmup: Type.Optional(Type.Tuple([Num, Num])),
          window: Type.Tuple([Num, Num], { description: 'the recorded window every summary figure covers, s since the point began' }),
          clocks: Type.Optional(Type.Record(Type.String(), Clock)),
        },
        { additionalProperties: false, description: "the point's clock (s since the point began): of samples.parquet, frames.parquet (in ms) and timeseries.parquet" },
      ),
    ),
    executor: Type.Optional(Executor),
  },
  { additionalProperties: false },
);

/** The JSON Schema document of point.json. */
export function pointSchemaDocument(): object {
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'https://streambench.dev/schema/point.schema.json', title: 'streambench point record (points/<key>-r<rep>/point.json)', ...(JSON.parse(JSON.stringify(PointRecordSchema)) as object) };
}
