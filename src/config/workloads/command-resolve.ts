/** How the `command` workload resolves its own part of a benchmark file: its program, environment and extraction rules, and the metrics those rules declare. */
import { errorMessage } from '../../base/errors.ts';
import { suggestHint } from '../../base/suggest.ts';
import type { Better, MetricDecl } from '../declare.ts';
import { checkArgv, checkTemplate, checkTemplateMap, checkTemplates, seconds, type Ctx } from '../resolve-kit.ts';
import type { CommandWorkload, ExtractRule } from '../resolved.ts';
import { CommandWorkloadSchema, type RawCommandWorkload } from '../schema.ts';
import { show } from '../show.ts';
import type { WorkloadDef } from '../workload-def.ts';
import { COMMAND_DECL } from './command.ts';

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
