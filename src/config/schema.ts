/**
 * The benchmark file's schema, declared once: TypeBox gives both the TypeScript type of the raw
 * file and the JSON Schema that validates it (and that editors use, see schema/benchmark.schema.json).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BETTER, describeParam, PARAM_TYPES, type ParamDecl } from './declare.ts';
import { MAX_PARALLEL, MAX_RANGE_VALUES, MAX_RETRIES, MAX_SEED } from './limits.ts';
import { SPICE_PARAM_DECLS } from './workloads/spice.ts';
import { STREAM_DECL, STREAM_PARAM_DECLS } from './workloads/stream.ts';

const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*(ms|s|m|min|h)?\\s*$' })], {
  description: 'A duration: seconds as a number, or a string such as "500ms", "5s", "2m", "1h".',
});
const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const Argv = Type.Array(Type.String(), { minItems: 1, description: 'A command as an argv array; `{param}` is replaced by values. No shell is involved.' });

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

const From = Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]));
const Better = Type.Union(BETTER.map((b) => Type.Literal(b)));
/** What a rule's metrics are: one unit and direction for all of them, or per metric name. Left out: no unit, no direction (never guessed). */
const RuleMeta = {
  unit: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Record(Type.String(), Type.String({ minLength: 1 }))], { description: "Unit of the rule's metrics (ms, fps, bit/s, ...), or metric name -> unit." })),
  better: Type.Optional(Type.Union([Better, Type.Record(Type.String(), Better)], { description: 'Which direction is better: higher, lower or none; or metric name -> direction.' })),
};
const ExtractRule = Type.Union([
  Type.Object(
    {
      regex: Type.String({ description: 'Named groups become metrics: speed=\\s*(?<speed>[\\d.]+)' }),
      from: From,
      flags: Type.Optional(Type.String()),
      name: Type.Optional(Type.String()),
      take: Type.Optional(Type.Union(['last', 'first', 'all-mean', 'all-sum', 'all-max', 'all-min'].map((s) => Type.Literal(s)))),
      ...RuleMeta,
    },
    { additionalProperties: false },
  ),
  Type.Object({ jsonl: Type.Boolean(), from: From, take: Type.Optional(Type.Union([Type.Literal('last'), Type.Literal('first')])), prefix: Type.Optional(Type.String()), ...RuleMeta }, { additionalProperties: false }),
  Type.Object(
    {
      keyvalue: Type.Boolean(),
      from: From,
      take: Type.Optional(Type.Union([Type.Literal('last'), Type.Literal('first')])),
      block_end: Type.Optional(Type.String()),
      prefix: Type.Optional(Type.String()),
      ...RuleMeta,
    },
    { additionalProperties: false },
  ),
]);

export const CommandWorkloadSchema = Type.Object(
  {
    type: Type.Literal('command'),
    argv: Argv,
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    cwd: Type.Optional(Type.String()),
    timeout: Type.Optional(Duration),
    sample_interval: Type.Optional(Duration),
    metrics: Type.Optional(Type.Array(ExtractRule)),
    success_exit_codes: Type.Optional(Type.Array(Type.Integer())),
  },
  { additionalProperties: false },
);

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

const StreamParamValue = Type.Union([Type.String(), Type.Number()]);

/**
 * A workload parameter in its workload block, from its declaration: described for editors (doc,
 * values, default), typed loosely: its value is checked by the declaration's rules, which name
 * what is wrong better than a schema can.
 */
function paramSchema(d: ParamDecl, value: TSchema): TSchema {
  return Type.Optional(Type.Union([value], { description: describeParam(d), ...(d.default !== undefined ? { default: d.default } : {}), ...(d.values ? { examples: [...d.values] } : {}) }));
}

/** The built-in pipeline: each stream parameter may be set here as the default for every point. */
export const StreamWorkloadSchema = Type.Object(
  {
    type: Type.Literal('stream'),
    ...Object.fromEntries(STREAM_PARAM_DECLS.map((d) => [d.name, paramSchema(d, StreamParamValue)])),
    schedule: Type.Optional(
      Type.Array(
        Type.Object(
          { at: Duration, bitrate: Type.Optional(StreamParamValue), fps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })), keyframe: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, description: 'A change sent to the guest while streaming, at a time after the stream starts.' },
        ),
      ),
    ),
    cpus: Type.Optional(
      Type.Object(Object.fromEntries(STREAM_DECL.roles.map((r) => [r, Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 4095 }), { minItems: 1, maxItems: 4096, uniqueItems: true }))])), {
        additionalProperties: false,
        description: "CPUs each role is pinned to (taskset), e.g. {guest: [0], client: [1]}; a role not named runs on any CPU. On a machine the roles share, it keeps one role's load off another's core.",
      }),
    ),
    timeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

/** A real SPICE stack: server in an X server, content on its display, remote-viewer on a virtual screen. */
export const SpiceWorkloadSchema = Type.Object(
  {
    type: Type.Literal('spice'),
    ...Object.fromEntries(SPICE_PARAM_DECLS.map((d) => [d.name, paramSchema(d, Type.Union([Type.String(), Type.Number(), Type.Boolean()]))])),
    content: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'An X program (argv) shown on the guest display instead of a scene.' })),
    timeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type RawSpiceWorkload = Static<typeof SpiceWorkloadSchema>;

export type BenchmarkFile = Static<typeof BenchmarkFileSchema>;
export type RawStreamWorkload = Static<typeof StreamWorkloadSchema>;
export type RawHook = Static<typeof Hook>;
export type RawHooks = Static<typeof Hooks>;
export type RawAxis = Static<typeof Axis>;
export type ParamValue = Static<typeof Scalar>;
export type RawCommandWorkload = Static<typeof CommandWorkloadSchema>;
export type RawParamInfo = Static<typeof ParamInfo>;

/** Keys allowed at the top level, for suggestions. */
export const TOP_LEVEL_KEYS = Object.keys(BenchmarkFileSchema.properties);

/** The JSON Schema document shipped for editors: the file schema with every workload type spelt out. */
export function jsonSchema(workloads: readonly TSchema[]): TSchema {
  const s = JSON.parse(JSON.stringify(BenchmarkFileSchema)) as { properties: Record<string, unknown> } & TSchema;
  s.properties['workload'] = { anyOf: JSON.parse(JSON.stringify(workloads)) as unknown[] };
  return s;
}
