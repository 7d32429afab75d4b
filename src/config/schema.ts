/**
 * The benchmark file's schema, declared once: TypeBox gives both the TypeScript type of the raw
 * file and the JSON Schema that validates it (and that editors use, see schema/benchmark.schema.json).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { describeParam, PARAM_TYPES, type ParamDecl } from './declare.ts';
import { MAX_PARALLEL, MAX_RANGE_VALUES, MAX_RETRIES, MAX_SEED } from './limits.ts';

/** A duration: seconds, or a string with a unit. */
export const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*(ms|s|m|min|h)?\\s*$' })], {
  description: 'A duration: seconds as a number, or a string such as "500ms", "5s", "2m", "1h".',
});
export const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export const Argv = Type.Array(Type.String(), { minItems: 1, description: 'A command as an argv array; `{param}` is replaced by values. No shell is involved.' });

const HookObject = Type.Object(
  {
    run: Argv,
    timeout: Type.Optional(Duration),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    on: Type.Optional(Type.String({ description: "Run on this role's machine, through its agent (which must allow commands)." })),
  },
  { additionalProperties: false },
);
/** A hook is an argv array, or an object with `run` and optional `timeout`. */
const Hook = Type.Union([Argv, HookObject]);
const Hooks = Type.Union([Hook, Type.Array(Hook)]);

const ExecutorType = Type.Union([Type.Literal('local'), Type.Literal('slurm'), Type.Literal('agents')], {
  description: "Where points run: 'local' (this machine, one at a time), 'slurm' (each point a Slurm job) or 'agents' (each role through its agent in recording.agents, one point at a time).",
});
/** Where points run; the command line's --executor, --parallel, --partition, --slurm-opt win over it. */
const Executor = Type.Union([
  ExecutorType,
  Type.Object(
    {
      type: ExecutorType,
      parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PARALLEL, description: 'Most points running at once (slurm; default 1).' })),
      partition: Type.Optional(Type.String({ minLength: 1, description: 'The Slurm partition of the jobs.' })),
      slurm_options: Type.Optional(Type.Array(Type.String({ pattern: '^-' }), { description: 'More sbatch options for every job component, e.g. ["--account=lab"].' })),
    },
    { additionalProperties: false },
  ),
]);

const ProbeRate = Type.Union([Duration, Type.Literal(false)]);
/** A process to watch: exactly one of name, cmdline, cgroup, pid (resolve.ts checks it, naming the line). */
const ProcessSelector = Type.Object(
  {
    label: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64, description: 'Names its metrics: <role>.proc.<label>.cpu_pct, .rss_mb, .threads.' }),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Executable name (comm), exact; the kernel keeps its first 15 characters.' })),
    cmdline: Type.Optional(Type.String({ minLength: 1, description: 'Regular expression on the command line, its arguments joined by spaces.' })),
    cgroup: Type.Optional(Type.String({ minLength: 1, description: 'A part of one of its cgroup paths, e.g. system.slice/postgresql.service.' })),
    pid: Type.Optional(Type.Integer({ minimum: 1, description: 'One process by its pid.' })),
    on: Type.Optional(Type.String({ description: 'The role whose agent watches it; required when there are several, else that one.' })),
  },
  { additionalProperties: false, description: 'Processes matching it are summed under its label, picked up as they start and dropped as they end.' },
);
const Recording = Type.Object(
  {
    agents: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Type.Union([Type.Literal('local'), Type.Object({ url: Type.String(), token_env: Type.Optional(Type.String()) }, { additionalProperties: false })]), {
        additionalProperties: false,
        description: "Role -> 'local' (started by the engine) or {url, token_env} of an agent started by hand.",
      }),
    ),
    probes: Type.Optional(
      Type.Object(
        { cpu: Type.Optional(ProbeRate), mem: Type.Optional(ProbeRate), net: Type.Optional(ProbeRate), proc: Type.Optional(Duration), cpufreq: Type.Optional(ProbeRate), gpu: Type.Optional(ProbeRate) },
        { additionalProperties: false, description: 'Sampling interval per probe (false: off).' },
      ),
    ),
    processes: Type.Optional(Type.Array(ProcessSelector, { description: 'Processes to watch from the start of every point, by name, command line, cgroup or pid.' })),
    custom: Type.Optional(
      Type.Array(Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), run: Argv, format: Type.Union([Type.Literal('jsonl'), Type.Literal('prometheus')]), interval: Type.Optional(Duration), on: Type.Optional(Type.String()) }, { additionalProperties: false })),
    ),
    allow_commands: Type.Optional(Type.Boolean({ description: 'Local agents run hooks aimed at their role (`on: ROLE`).' })),
  },
  { additionalProperties: false, description: 'Recording agents and probes; false turns recording off.' },
);

const Range = Type.Object(
  {
    from: Type.Number(),
    to: Type.Number(),
    step: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    scale: Type.Optional(Type.Union([Type.Literal('linear'), Type.Literal('log')])),
    count: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_RANGE_VALUES })),
  },
  { additionalProperties: false, description: 'A numeric range: from..to by step (linear), or count points (linear or log).' },
);
const Axis = Type.Union([Scalar, Type.Array(Scalar, { minItems: 1 }), Range]);

const Order = Type.Union([
  Type.Literal('declared'),
  Type.Literal('shuffled'),
  Type.Object({ shuffle: Type.Integer({ minimum: 0, maximum: MAX_SEED, description: 'Seed of the shuffle (32 bits).' }) }, { additionalProperties: false }),
  Type.Object({ group: Type.Array(Type.String(), { minItems: 1, description: 'Parameters that are costly to change, slowest-changing first.' }) }, { additionalProperties: false }),
]);

/** What a parameter no workload declares is (the `command` workload's, a hook's): its type and unit. */
const ParamInfo = Type.Object(
  {
    type: Type.Union(
      PARAM_TYPES.map((t) => Type.Literal(t)),
      { description: 'number, integer, enum, duration (ms), bitrate (bit/s), resolution (WxH), path, text or boolean.' },
    ),
    unit: Type.Optional(Type.String({ minLength: 1, description: 'Unit of its values (duration: ms, bitrate: bit/s, resolution: px are fixed).' })),
    values: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'enum: the values allowed.' })),
    doc: Type.Optional(Type.String({ description: 'One line: what it does.' })),
  },
  { additionalProperties: false },
);

const Partial = Type.Record(Type.String(), Type.Union([Scalar, Type.Array(Scalar)]), {
  description: 'A partial point: parameter -> value (or list of values, any of which matches).',
});

export const BenchmarkFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 100, description: 'Name of the benchmark; the default result set directory.' }),
    description: Type.Optional(Type.String()),
    // Checked here for its type only; each workload type's own schema is applied next (resolve.ts),
    // so errors name the workload's keys rather than every branch of a union.
    workload: Type.Object({ type: Type.String({ description: 'The workload type: stream, spice or command.' }) }, { additionalProperties: true }),
    matrix: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.]*$' }), Axis, { additionalProperties: false }),
    params: Type.Optional(
      Type.Record(Type.String(), ParamInfo, {
        description: 'Type, unit and doc of parameters the workload does not declare; without it a parameter is a number when all its values are numbers, else text, and has no unit.',
      }),
    ),
    link: Type.Optional(Type.Array(Type.Array(Type.String(), { minItems: 2 }), { description: 'Groups of parameters that vary together (zipped), e.g. [[resolution, bitrate]].' })),
    exclude: Type.Optional(Type.Array(Partial)),
    only: Type.Optional(Type.Array(Partial)),
    repeat: Type.Optional(Type.Integer({ minimum: 1 })),
    warmup: Type.Optional(Duration),
    duration: Type.Optional(Duration),
    order: Type.Optional(Order),
    setup: Type.Optional(Hooks),
    teardown: Type.Optional(Hooks),
    hooks: Type.Optional(Type.Record(Type.String(), Type.Object({ before: Type.Optional(Hooks), after: Type.Optional(Hooks) }, { additionalProperties: false }), { description: 'Per parameter: commands run before the first point with a new value and after the last one.' })),
    on_error: Type.Optional(Type.Union([Type.Literal('stop'), Type.Literal('continue')])),
    recording: Type.Optional(Type.Union([Type.Literal(false), Recording])),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_RETRIES })),
    executor: Type.Optional(Executor),
  },
  { additionalProperties: false, $id: 'https://streambench.dev/schema/benchmark.json', title: 'streambench benchmark file' },
);

export type BenchmarkFile = Static<typeof BenchmarkFileSchema>;
export type RawHook = Static<typeof Hook>;
export type RawHooks = Static<typeof Hooks>;
export type RawAxis = Static<typeof Axis>;
export type ParamValue = Static<typeof Scalar>;
export type RawParamInfo = Static<typeof ParamInfo>;

/** Keys allowed at the top level, for suggestions. */
export const TOP_LEVEL_KEYS = Object.keys(BenchmarkFileSchema.properties);

/** The JSON Schema document shipped for editors: the file schema with every workload type spelt out. */
export function jsonSchema(workloads: readonly TSchema[]): TSchema {
  const s = JSON.parse(JSON.stringify(BenchmarkFileSchema)) as { properties: Record<string, unknown> } & TSchema;
  s.properties['workload'] = { anyOf: JSON.parse(JSON.stringify(workloads)) as unknown[] };
  return s;
}

/**
 * A workload parameter in its workload block, from its declaration: described for editors (doc,
 * values, default), typed loosely: its value is checked by the declaration's rules, which name
 * what is wrong better than a schema can.
 */
export function paramSchema(d: ParamDecl, value: TSchema): TSchema {
  return Type.Optional(Type.Union([value], { description: describeParam(d), ...(d.default !== undefined ? { default: d.default } : {}), ...(d.values ? { examples: [...d.values] } : {}) }));
}
