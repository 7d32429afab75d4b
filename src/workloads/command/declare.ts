/**
 * The `command` workload (any program per point), declared once: its block's schema, the metrics
 * it always records, its placement, and how it resolves its part of a benchmark file. Its
 * parameters are the benchmark file's own (typed by its `params:` section or from their values);
 * the metrics its extraction rules find are declared by the file (`unit`, `better` beside a
 * rule), and what neither declares has no unit and no direction. Imports base and config only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { errorMessage } from '../../base/errors.ts';
import { suggestHint } from '../../base/suggest.ts';
import { BETTER, type Better, type MetricDecl, type WorkloadDecl } from '../../config/declare.ts';
import { checkArgv, checkTemplate, checkTemplateMap, checkTemplates, seconds, type Ctx } from '../../config/resolve-kit.ts';
import { Argv, Duration } from '../../config/schema.ts';
import { show } from '../../config/show.ts';
import type { WorkloadDef } from '../../config/workload-def.ts';

const From = Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]));
const BetterSchema = Type.Union(BETTER.map((b) => Type.Literal(b)));
/** What a rule's metrics are: one unit and direction for all of them, or per metric name. Left out: no unit, no direction (never guessed). */
const RuleMeta = {
  unit: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Record(Type.String(), Type.String({ minLength: 1 }))], { description: "Unit of the rule's metrics (ms, fps, bit/s, ...), or metric name -> unit." })),
  better: Type.Optional(Type.Union([BetterSchema, Type.Record(Type.String(), BetterSchema)], { description: 'Which direction is better: higher, lower or none; or metric name -> direction.' })),
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
export type RawCommandWorkload = Static<typeof CommandWorkloadSchema>;

/** One rule that turns a program's output into metrics (applied by src/workloads/command/extract.ts). */
export type ExtractRule =
  | { kind: 'regex'; from: 'stdout' | 'stderr'; pattern: string; flags?: string; name?: string; take?: 'last' | 'first' | 'all-mean' | 'all-sum' | 'all-max' | 'all-min' }
  | { kind: 'jsonl'; from: 'stdout' | 'stderr'; take?: 'last' | 'first'; prefix?: string }
  | { kind: 'keyvalue'; from: 'stdout' | 'stderr'; take?: 'last' | 'first'; block_end?: string; prefix?: string };

export interface CommandWorkload {
  type: 'command';
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  timeoutS?: number;
  sampleIntervalS: number;
  metrics: ExtractRule[];
  successExitCodes: number[];
}

const m = (name: string, unit: string | undefined, better: MetricDecl['better'], doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: 'local', kind: 'summary', view: 'points', doc });
const series = (name: string, unit: string, doc: string): MetricDecl => ({ name, unit, better: 'lower', role: 'local', kind: 'series', view: 'timeseries', doc });

export const COMMAND_METRICS: readonly MetricDecl[] = [
  m('exit_code', undefined, 'none', "the program's exit code (-1 when killed by a signal)"),
  m('wall_time_s', 's', 'lower', 'from spawn to exit, monotonic clock'),
  m('cpu_user_s', 's', 'lower', "user CPU time of the whole process tree (the kernel's accounting of reaped children)"),
  m('cpu_system_s', 's', 'lower', 'system CPU time of the whole process tree'),
  m('cpu_pct', '%', 'lower', '(user + system) / wall, percent of one core; after a warm-up, the recorded window only'),
  m('peak_rss_mb', 'MiB', 'lower', "largest resident memory of the process tree (sampled sum and each process's VmHWM)"),
  series('nprocs', 'count', 'processes in the tree'),
  series('rss_mb', 'MiB', 'resident memory of the tree'),
  series('cpu_user_s', 's', 'user CPU time of the tree so far'),
  series('cpu_system_s', 's', 'system CPU time of the tree so far'),
];

export const COMMAND_DECL: WorkloadDecl = {
  type: 'command',
  roles: ['local'],
  params: [],
  metrics: COMMAND_METRICS,
  headline: ['wall_time_s', 'cpu_pct', 'peak_rss_mb'],
  processLabels: ['command'],
  executors: {
    agents: { refused: "the command workload cannot run under the agents executor (only stream places its roles on the agents' machines)" },
    slurm: { machines: ['local'], reach: 'none' },
  },
  needs: [],
  renamed: [{ from: 'cpu_percent', to: 'cpu_pct' }],
};

export const COMMAND_WORKLOAD: WorkloadDef<CommandWorkload> = {
  ...COMMAND_DECL,
  schema: CommandWorkloadSchema,
  resolve(ctx, raw, allowed) {
    const w = raw as RawCommandWorkload;
    checkArgv(ctx, ['workload', 'argv'], w.argv);
    checkTemplates(ctx, ['workload', 'argv'], w.argv, allowed);
    checkTemplateMap(ctx, ['workload', 'env'], w.env, allowed);
    if (w.cwd !== undefined) checkTemplate(ctx, ['workload', 'cwd'], w.cwd, allowed);
    return {
      type: 'command',
      argv: w.argv,
      env: w.env ?? {},
      ...(w.cwd !== undefined ? { cwd: w.cwd } : {}),
      ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}),
      sampleIntervalS: seconds(ctx, ['workload', 'sample_interval'], w.sample_interval, 0.1, 'interval'),
      metrics: extractRules(ctx, w.metrics),
      successExitCodes: w.success_exit_codes ?? [0],
    };
  },
  fileMetrics: (ctx, raw) => ruleMetrics(ctx, (raw as RawCommandWorkload).metrics),
};

function extractRules(ctx: Ctx, raw: RawCommandWorkload['metrics']): ExtractRule[] {
  return (raw ?? []).map((r, i): ExtractRule => {
    const from = r.from ?? 'stdout';
    if ('regex' in r) {
      try {
        const re = new RegExp(r.regex, r.flags ?? '');
        const named = /\(\?<[A-Za-z_]/.test(r.regex);
        if (!named && !r.name) ctx.add(['workload', 'metrics', i, 'regex'], 'a regex without named groups needs `name`', 'name the value with (?<speed>...) or add name: speed');
        if (new RegExp(`${re.source}|`).exec('')!.length < 2) ctx.add(['workload', 'metrics', i, 'regex'], 'the regex has no capture group', 'capture the value: speed=(?<speed>[0-9.]+)');
      } catch (e) {
        ctx.add(['workload', 'metrics', i, 'regex'], `invalid regular expression: ${show(errorMessage(e), 200, false)}`);
      }
      return { kind: 'regex', from, pattern: r.regex, ...(r.flags ? { flags: r.flags } : {}), ...(r.name ? { name: r.name } : {}), ...(r.take ? { take: r.take } : {}) } as ExtractRule;
    }
    if ('jsonl' in r) return { kind: 'jsonl', from, ...(r.take ? { take: r.take } : {}), ...(r.prefix ? { prefix: r.prefix } : {}) };
    return { kind: 'keyvalue', from, ...(r.take ? { take: r.take } : {}), ...(r.block_end ? { block_end: r.block_end } : {}), ...(r.prefix ? { prefix: r.prefix } : {}) };
  });
}

/** The metric names a rule gives: its named groups or `name` (regex), else a pattern of whatever follows its prefix. */
function ruleNames(r: NonNullable<RawCommandWorkload['metrics']>[number]): { names: string[]; pattern?: string } {
  if ('regex' in r) {
    const groups = [...r.regex.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
    return { names: groups.length > 0 ? [...new Set(groups)] : r.name ? [r.name] : [] };
  }
  return { names: [], pattern: `${r.prefix ?? ''}*` };
}

/**
 * The metrics of the file's extraction rules, with what it says beside each rule (`unit`,
 * `better`): one unit or direction for all of a rule's metrics, or per metric name. Only what
 * is given is declared: a metric without a unit has none, never a guessed one.
 */
function ruleMetrics(ctx: Ctx, raw: RawCommandWorkload['metrics']): MetricDecl[] {
  const out: MetricDecl[] = [];
  (raw ?? []).forEach((r, i) => {
    const { names, pattern } = ruleNames(r);
    const gives = (name: string) => names.includes(name) || (pattern !== undefined && name.startsWith(pattern.slice(0, -1)) && name.length >= pattern.length);
    const keyed = new Set<string>();
    for (const field of ['unit', 'better'] as const) {
      const v = r[field];
      if (v === undefined || typeof v === 'string') continue;
      for (const name of Object.keys(v)) {
        if (gives(name)) keyed.add(name);
        else ctx.add(['workload', 'metrics', i, field, name], `no metric '${name}' comes from this rule`, () => (names.length > 0 ? suggestHint(name, names) : `its metrics are named ${pattern}`));
      }
    }
    const doc = `extracted by workload.metrics[${i}]`;
    const decl = (name: string): MetricDecl => {
      const unit = typeof r.unit === 'string' ? r.unit : r.unit?.[name];
      const better: Better = (typeof r.better === 'string' ? r.better : r.better?.[name]) ?? 'none';
      return { name, ...(unit !== undefined ? { unit } : {}), better, role: 'local', kind: 'summary', view: 'points', doc };
    };
    // Names given one by one first: findMetric takes an exact name before a pattern.
    for (const name of new Set([...names, ...keyed])) out.push(decl(name));
    if (pattern !== undefined) out.push(decl(pattern));
  });
  return out;
}
