/** Semantic checks and resolution of a structurally valid benchmark document into a ResolvedBenchmark. */
import { formatDuration, parseDuration } from '../base/duration.ts';
import { sha256 } from '../base/canonical.ts';
import { errorMessage, type Problem } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { DEFAULT_MAX_RUNS, describeSeconds, MAX_TIME_S, MIN_INTERVAL_S, PROBLEMS_SHOWN } from './limits.ts';
import { expandRange, PlanTooComplexError, Search, type RangeSpec } from './matrix.ts';
import { planSizeProblem } from './plan-size.ts';
import { inferParam, typeValue, type Better, type DeclaredByFile, type MetricDecl, type ParamDecl, type TypedValue } from './declare.ts';
import { BUILTIN_TEMPLATE_NAMES, type Axis, type ExecutorSettings, type ExtractRule, type Order, type Params, type ParamValue, type PartialPoint, type ProbeRates, type ProcessSelection, type Recording, type ResolvedBenchmark, type ResolvedHook, type ResolvedParam, type ResolvedWorkload } from './resolved.ts';
import { CommandWorkloadSchema, SpiceWorkloadSchema, StreamWorkloadSchema, type RawSpiceWorkload, type BenchmarkFile, type RawAxis, type RawCommandWorkload, type RawHooks, type RawStreamWorkload } from './schema.ts';
import { workloadDecl } from './workloads/index.ts';
import { show } from './show.ts';
import { CODEC_DEPENDENT_PARAMS, parseBitrate, SettingError, streamSettings, STREAM_PARAMS } from './stream-settings.ts';
import { spiceSettings, SPICE_PARAMS } from './spice-settings.ts';
import { problemAt, pathText, type Locator, type PathSeg } from './source.ts';
import { templateRefs } from './template.ts';
import { validateAgainst } from './validate.ts';
import { y4mSourceProblem } from './y4m-check.ts';

const DEFAULT_HOOK_TIMEOUT_S = 60;

/** Names that templates and result tables already use, so no parameter may take them. */
const RESERVED: readonly string[] = [...BUILTIN_TEMPLATE_NAMES, 'set', 'status', 'error', 'started_at', 'wall_s'];

/** A parameter name becomes a column, a template name and a key of plain objects: short, and not an Object property. */
const MAX_PARAM_NAME = 64;

/** Workload types this version knows, with the schema each is checked against. */
export const WORKLOAD_TYPES = { stream: StreamWorkloadSchema, spice: SpiceWorkloadSchema, command: CommandWorkloadSchema } as const;

class Ctx {
  problems: Problem[] = [];
  constructor(readonly loc: Locator) {}
  /** A hint may be given as a function: it is worked out only for problems that will be shown. */
  add(path: PathSeg[], message: string, hint?: string | (() => string), key?: string): void {
    const h = typeof hint === 'function' ? (this.problems.length < PROBLEMS_SHOWN ? hint() : undefined) : hint;
    this.problems.push(problemAt(this.loc, path, message, h, key));
  }
}

function axisValues(raw: RawAxis): ParamValue[] {
  if (Array.isArray(raw)) return raw;
  if (raw !== null && typeof raw === 'object') return expandRange(raw as RangeSpec);
  return [raw];
}

/** What a duration field takes: above 0 (a timeout, a duration) or from 0 (a warm-up), or at least a sampling interval. */
type TimeKind = 'positive' | 'nonnegative' | 'interval';

/**
 * Seconds of a duration field, within what the engine's timers hold (MAX_TIME_S). `dflt` is
 * returned for an absent value, and after reporting a bad one.
 */
function seconds(ctx: Ctx, path: PathSeg[], v: unknown, dflt: number, kind: TimeKind = 'positive'): number {
  if (v === undefined) return dflt;
  const s = parseDuration(v);
  if (s === undefined) {
    ctx.add(path, `${show(v)} is not a duration`, 'write seconds as a number, or "500ms", "5s", "2m"');
    return dflt;
  }
  if (s > MAX_TIME_S) {
    ctx.add(path, `${show(v)} is longer than the ${describeSeconds(MAX_TIME_S)} a duration may be`, 'split a long measurement into several points');
    return dflt;
  }
  if (kind === 'positive' && s <= 0) {
    ctx.add(path, `${show(v)} must be above 0`);
    return dflt;
  }
  if (kind === 'interval' && s < MIN_INTERVAL_S) {
    ctx.add(path, `${show(v)} is shorter than the ${MIN_INTERVAL_S * 1000}ms a sampling interval may be`);
    return dflt;
  }
  return s;
}

/** Checks the placeholders of one templated string against the names it may use. */
function checkTemplate(ctx: Ctx, path: PathSeg[], text: string, allowed: readonly string[]): void {
  try {
    for (const ref of templateRefs(text)) {
      if (!allowed.includes(ref)) ctx.add(path, `unknown placeholder {${show(ref, 40, false)}}`, () => suggestHint(ref, allowed));
    }
  } catch (e) {
    ctx.add(path, errorMessage(e));
  }
}

function checkTemplates(ctx: Ctx, path: PathSeg[], strings: readonly string[], allowed: readonly string[]): void {
  strings.forEach((s, i) => checkTemplate(ctx, [...path, i], s, allowed));
}

/**
 * The values of an env mapping, each at its own key; and the keys themselves: a name a process can
 * be given. An empty name, or one holding '=' (`PATH=/tmp/evil:/usr/bin:/bin` would set PATH) or
 * NUL, is refused.
 */
function checkTemplateMap(ctx: Ctx, path: PathSeg[], map: Readonly<Record<string, string>> | undefined, allowed: readonly string[]): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\u0000')) ctx.add(path, `${show(k)} is not an environment variable name: a name is not empty and holds no '=' or NUL`, 'e.g. env: {LOG_LEVEL: debug}', k);
    checkTemplate(ctx, [...path, k], v, allowed);
  }
}

/** A program to start: its name (argv[0]) cannot be empty. */
function checkArgv(ctx: Ctx, path: PathSeg[], argv: readonly string[]): void {
  if (argv[0] === '') ctx.add([...path, 0], 'the program name (argv[0]) is empty', 'name the program to run, e.g. [ffmpeg, -version]');
}

function hooks(ctx: Ctx, path: PathSeg[], raw: RawHooks | undefined, allowed: readonly string[]): ResolvedHook[] {
  if (raw === undefined) return [];
  // An argv array (strings) or an object is a single hook; any other array is a list of hooks.
  type One = string[] | { run: string[]; timeout?: number | string; env?: Record<string, string>; on?: string };
  const single = !Array.isArray(raw) || raw.every((x) => typeof x === 'string');
  const list: One[] = single ? [raw as One] : (raw as One[]);
  return list.map((h, i) => {
    const p = single ? path : [...path, i];
    const o = Array.isArray(h) ? { run: h } : h;
    checkArgv(ctx, Array.isArray(h) ? p : [...p, 'run'], o.run);
    checkTemplates(ctx, Array.isArray(h) ? p : [...p, 'run'], o.run, allowed);
    checkTemplateMap(ctx, [...p, 'env'], o.env, allowed);
    return {
      argv: o.run,
      timeoutS: seconds(ctx, [...p, 'timeout'], o.timeout, DEFAULT_HOOK_TIMEOUT_S),
      env: o.env ?? {},
      where: pathText(p),
      ...('on' in o && o.on !== undefined ? { on: o.on } : {}),
    };
  });
}

/** `fixed` parameters were narrowed by --set, so constraints may name values they no longer take. */
function partials(ctx: Ctx, key: 'exclude' | 'only', raw: BenchmarkFile['exclude'], axes: Axis[], fixed: ReadonlySet<string>): PartialPoint[] {
  const names = axes.map((a) => a.name);
  const byName = new Map(axes.map((a) => [a.name, a]));
  const texts = new Map<string, Set<string>>();
  const valuesOf = (axis: Axis) => {
    let t = texts.get(axis.name);
    if (!t) texts.set(axis.name, (t = new Set(axis.values.map(String))));
    return t;
  };
  return (raw ?? []).map((entry, i) => {
    const out: Record<string, ParamValue[]> = {};
    const keys = Object.keys(entry);
    if (keys.length === 0) {
      ctx.add([key, i], `an empty entry in ${key} matches every point${key === 'exclude' ? ', so nothing would run' : ''}`, 'name at least one parameter, e.g. {codec: vp8}');
    }
    for (const [name, v] of Object.entries(entry)) {
      const axis = byName.get(name);
      if (!axis) {
        ctx.add([key, i], `unknown parameter ${show(name)} in ${key}`, () => suggestHint(name, names), name);
        continue;
      }
      const values = Array.isArray(v) ? v : [v];
      if (values.length === 0) ctx.add([key, i, name], `an empty list matches no value of '${name}'`, 'list at least one value, or drop the key');
      values.forEach((x, j) => {
        if (!fixed.has(name) && !valuesOf(axis).has(String(x))) {
          const shown = axis.values.slice(0, 10).map((y) => show(y, 30)).join(', ');
          ctx.add([key, i, name, ...(Array.isArray(v) ? [j] : [])], `${show(x)} is not a value of '${name}'`, `its values are: ${shown}${axis.values.length > 10 ? `, ... (${axis.values.length} in all)` : ''}`);
        }
      });
      out[name] = values;
    }
    return out;
  });
}

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

function workload(ctx: Ctx, raw: BenchmarkFile['workload'], allowed: readonly string[]): ResolvedWorkload | undefined {
  const type = (raw as { type: string }).type;
  // Own keys only: `type: constructor` must not find Object's constructor.
  if (!Object.hasOwn(WORKLOAD_TYPES, type)) {
    ctx.add(['workload', 'type'], `unknown workload type ${show(type)}`, suggestHint(type, Object.keys(WORKLOAD_TYPES)));
    return undefined;
  }
  const schema = WORKLOAD_TYPES[type as keyof typeof WORKLOAD_TYPES];
  const problems = validateAgainst(schema, raw, ctx.loc, ['workload']);
  if (problems.length > 0) {
    ctx.problems.push(...problems);
    return undefined;
  }
  if (type === 'stream') return streamWorkload(ctx, raw as RawStreamWorkload);
  if (type === 'spice') {
    const w = raw as RawSpiceWorkload;
    return { type: 'spice', defaults: pickDefaults(w, SPICE_PARAMS), ...(w.content ? { content: w.content } : {}), ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
  }
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
}

/** The agents and probes of a run; defaults: local agents for the stream's three roles, or one `local` agent. */
function resolveRecording(ctx: Ctx, raw: BenchmarkFile['recording'], type: string): Recording | undefined {
  if (raw === false) return undefined;
  const r = raw ?? {};
  const agents: Recording['agents'] = r.agents
    ? Object.entries(r.agents).map(([role, a]) => (a === 'local' ? { role } : { role, url: a.url, ...(a.token_env ? { tokenEnv: a.token_env } : {}) }))
    : (type === 'stream' || type === 'spice' ? ['guest', 'host', 'client'] : ['local']).map((role) => ({ role }));
  for (const a of agents) {
    if (a.url !== undefined && !/^https?:\/\//.test(a.url)) ctx.add(['recording', 'agents', a.role, 'url'], `'${a.url}' is not an http:// or https:// URL`);
  }
  const ms = (path: PathSeg[], v: number | string | false | undefined, dflt: number | false): number | false => (v === false ? false : v === undefined ? dflt : seconds(ctx, path, v, 0.1, 'interval') * 1000);
  const p = r.probes ?? {};
  const probes: ProbeRates = {
    cpu: ms(['recording', 'probes', 'cpu'], p.cpu, 100),
    mem: ms(['recording', 'probes', 'mem'], p.mem, 100),
    net: ms(['recording', 'probes', 'net'], p.net, 100),
    proc: ms(['recording', 'probes', 'proc'], p.proc, 100) || 100,
    cpufreq: ms(['recording', 'probes', 'cpufreq'], p.cpufreq, 1000),
    gpu: ms(['recording', 'probes', 'gpu'], p.gpu, 1000),
  };
  if (r.custom) {
    probes.custom = r.custom.map((c, i) => {
      if (c.on !== undefined && !agents.some((a) => a.role === c.on)) ctx.add(['recording', 'custom', i, 'on'], `no agent has role '${c.on}'`, suggestHint(c.on, agents.map((a) => a.role)));
      checkArgv(ctx, ['recording', 'custom', i, 'run'], c.run);
      return { name: c.name, argv: c.run, format: c.format, intervalMs: ms(['recording', 'custom', i, 'interval'], c.interval, 1000) || 1000, ...(c.on ? { on: c.on } : {}) };
    });
  }
  return { agents, probes, processes: processSelections(ctx, r.processes ?? [], agents.map((a) => a.role), type), allowCommands: r.allow_commands ?? false };
}

/**
 * Labels the workloads give the processes they start themselves (src/workloads: command.ts,
 * stream.ts, spice.ts call ctx.watch with them): a declared process under one of them would
 * mix with the workload's own.
 */
const WORKLOAD_PROCESS_LABELS: Record<string, readonly string[]> = { command: ['command'], stream: ['guest', 'host', 'client'], spice: ['server', 'player', 'relay', 'client'] };

/** `recording.processes`: one criterion each, a regex that compiles, a known role, one label per role. */
function processSelections(ctx: Ctx, raw: NonNullable<Exclude<BenchmarkFile['recording'], false | undefined>['processes']>, roles: readonly string[], type: string): ProcessSelection[] {
  const out: ProcessSelection[] = [];
  const seen = new Map<string, number>();
  raw.forEach((p, i) => {
    const at = (...rest: PathSeg[]): PathSeg[] => ['recording', 'processes', i, ...rest];
    const criteria = (['name', 'cmdline', 'cgroup', 'pid'] as const).filter((k) => p[k] !== undefined);
    if (criteria.length !== 1) {
      ctx.add(
        at(),
        `process '${p.label}' needs exactly one of name, cmdline, cgroup, pid${criteria.length > 1 ? ` (it has ${criteria.join(' and ')})` : ''}`,
        criteria.length > 1 ? 'declare one entry per criterion, each with its own label' : "e.g. name: x11vnc (the executable's name) or cmdline: 'vncviewer .*'",
      );
    }
    if (p.cmdline !== undefined) {
      try {
        new RegExp(p.cmdline);
      } catch (e) {
        ctx.add(at('cmdline'), show(errorMessage(e), 200, false));
      }
    }
    let role = p.on;
    if (role === undefined) {
      if (roles.length === 1) role = roles[0];
      else ctx.add(at(), `process '${p.label}' needs \`on\`: the workload has several roles (${roles.join(', ')})`, `e.g. on: ${roles[0]}`);
    } else if (!roles.includes(role)) ctx.add(at('on'), `no agent has role '${role}'`, () => suggestHint(role!, roles));
    if ((Object.hasOwn(WORKLOAD_PROCESS_LABELS, type) ? WORKLOAD_PROCESS_LABELS[type]! : []).includes(p.label)) ctx.add(at('label'), `label '${p.label}' is taken by the ${type} workload's own processes`, 'choose another label');
    if (role === undefined) return;
    const key = `${role}\u0000${p.label}`;
    const first = seen.get(key);
    if (first !== undefined) ctx.add(at('label'), `label '${p.label}' is used twice on role ${role} (also recording.processes[${first}])`, 'each process needs its own label: its metrics are named by it');
    else seen.set(key, i);
    out.push({ label: p.label, role, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.cmdline !== undefined ? { cmdline: p.cmdline } : {}), ...(p.cgroup !== undefined ? { cgroup: p.cgroup } : {}), ...(p.pid !== undefined ? { pid: p.pid } : {}) });
  });
  return out;
}

function streamWorkload(ctx: Ctx, w: RawStreamWorkload): ResolvedWorkload {
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
 * Checks a workload's parameter values where they are written (its defaults, then each matrix
 * value of its parameters), so a bad one names its line before anything runs. Each distinct
 * value is parsed once, not each point: with the other parameters at their defaults, and those
 * whose rules depend on the codec (`dependent`) once per codec they meet in the plan.
 */
function checkParamValues(
  ctx: Ctx,
  defaults: Record<string, ParamValue>,
  plan: { axes: Axis[]; links: string[][]; exclude: PartialPoint[]; only: PartialPoint[] },
  params: Record<string, string>,
  parse: (p: Record<string, ParamValue>, times: { warmupS: number; durationS: number }) => unknown,
  dependent: readonly string[],
): void {
  const times = { warmupS: 0, durationS: 1 };
  // The context of each check: the defaults, less the codec and what depends on it, so that a
  // default preset meant for the matrix's vp9 is not judged against the default h264.
  const base = Object.fromEntries(Object.entries(defaults).filter(([k]) => k !== 'codec' && !dependent.includes(k)));
  const codecAxis = plan.axes.find((a) => a.name === 'codec');
  const unconstrained = plan.exclude.length === 0 && plan.only.length === 0;
  let search: Search | undefined;
  /** Whether some planned point has both values; a bad pair that exclude/only or a link rule out is no error. */
  const together = (name: string, v: ParamValue, codec: ParamValue): boolean => {
    const onAxis = plan.axes.some((a) => a.name === name);
    if (unconstrained && !plan.links.some((g) => g.includes('codec') && g.includes(name))) return true;
    try {
      search ??= new Search(plan.axes, plan.links, plan.exclude, plan.only);
      return search.setFilter([{ codec: [codec], ...(onAxis ? { [name]: [v] } : {}) }]).count(0) !== 0;
    } catch (e) {
      // Too intricate to tell: check the pair, as if it were planned.
      if (e instanceof PlanTooComplexError) return true;
      throw e;
    }
  };
  const codecsFor = (name: string): (ParamValue | undefined)[] => {
    if (!dependent.includes(name)) return [undefined];
    if (!codecAxis) return [defaults['codec']];
    return codecAxis.values;
  };
  const check = (name: string, v: ParamValue, path: PathSeg[]): void => {
    for (const codec of codecsFor(name)) {
      try {
        parse({ ...base, ...(codec !== undefined ? { codec } : {}), [name]: v }, times);
      } catch (e) {
        if (!(e instanceof SettingError)) throw e;
        // Another parameter's error is reported when that parameter's turn comes; a pair the
        // plan never runs is no error (asked only on failure: a count per pair costs).
        if (e.param === name && (codec === undefined || !codecAxis || together(name, v, codec))) {
          ctx.add(path, e.message);
          return;
        }
      }
    }
  };
  const onAxis = new Set(plan.axes.map((a) => a.name));
  for (const [name, v] of Object.entries(defaults)) if (!onAxis.has(name)) check(name, v, ['workload', name]);
  for (const a of plan.axes) {
    if (!(a.name in params)) continue;
    a.values.forEach((v, i) => check(a.name, v, ['matrix', a.name, ...(a.values.length > 1 ? [i] : [])]));
  }
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

/** The workload block's values of the named parameters: the defaults under the matrix. */
function pickDefaults(raw: object, params: Record<string, string>): Record<string, ParamValue> {
  const defaults: Record<string, ParamValue> = {};
  for (const k of Object.keys(params)) {
    const v = (raw as Record<string, unknown>)[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') defaults[k] = v;
  }
  return defaults;
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

/** The fixed unit of the types whose values are stored in base units. */
const BASE_UNITS: Partial<Record<ParamDecl['type'], string>> = { duration: 'ms', bitrate: 'bit/s', resolution: 'px' };

/**
 * What each parameter of the matrix is, and its values typed once: the workload's declaration
 * for the names it declares (their values are checked by checkParamValues), the file's `params:`
 * section for the others, else inferred from the values (numbers: number; else text).
 */
function resolveParams(ctx: Ctx, raw: BenchmarkFile['params'], axes: readonly Axis[], type: string | undefined): Record<string, ResolvedParam> {
  const declared = type !== undefined ? workloadDecl(type)?.params ?? [] : [];
  const names = axes.map((a) => a.name);
  for (const [name, info] of Object.entries(raw ?? {})) {
    if (declared.some((d) => d.name === name)) ctx.add(['params', name], `'${name}' is a parameter of the ${type} workload, which declares its type and unit`, 'remove it from params');
    else if (!names.includes(name)) ctx.add(['params', name], `'${name}' is not a parameter of the matrix`, () => suggestHint(name, names), name);
    if (info.type === 'enum' && !info.values) ctx.add(['params', name, 'type'], `enum '${name}' needs its values`, 'e.g. values: [fast, slow]');
    if (info.type !== 'enum' && info.values) ctx.add(['params', name, 'values'], `values are for an enum; '${name}' is ${info.type}`);
    const base = BASE_UNITS[info.type];
    if (base !== undefined && info.unit !== undefined && info.unit !== base) ctx.add(['params', name, 'unit'], `a ${info.type} is stored in ${base}, not ${show(info.unit)}`, 'leave unit out');
  }
  const out: Record<string, ResolvedParam> = {};
  for (const a of axes) {
    const own = declared.find((d) => d.name === a.name);
    const info = raw?.[a.name];
    const decl: ParamDecl = own ?? (info ? { name: a.name, type: info.type, ...(BASE_UNITS[info.type] ?? info.unit ? { unit: BASE_UNITS[info.type] ?? info.unit! } : {}), ...(info.values ? { values: info.values } : {}), doc: info.doc ?? '', role: 'all' } : inferParam(a.name, a.values));
    const typed = new Map<string, TypedValue>();
    a.values.forEach((v, i) => {
      try {
        typed.set(String(v), typeValue(decl, v));
      } catch (e) {
        if (!(e instanceof SettingError)) throw e;
        // A workload's parameter is reported by checkParamValues, with what depends on the codec.
        if (!own) ctx.add(['matrix', a.name, ...(a.values.length > 1 ? [i] : [])], e.message);
      }
    });
    out[a.name] = { decl, source: own ? 'workload' : info ? 'file' : 'inferred', typed };
  }
  return out;
}

/**
 * A point's parameters typed (base units: bits/s, ms, ...), from the values typed when the file
 * was resolved, and what the file declared beyond the workload (its parameters' types, its
 * metrics' units), for the point's record.
 */
export function pointTyping(b: Pick<ResolvedBenchmark, 'params' | 'metrics'>, params: Params): { typed: Record<string, TypedValue>; declared?: DeclaredByFile } {
  const typed: Record<string, TypedValue> = {};
  const declaredParams: NonNullable<DeclaredByFile['params']> = {};
  for (const [name, v] of Object.entries(params)) {
    const p = b.params[name];
    if (!p) {
      typed[name] = v;
      continue;
    }
    typed[name] = p.typed.get(String(v)) ?? typeValue(p.decl, v);
    if (p.source !== 'workload') declaredParams[name] = { ...p.decl, source: p.source };
  }
  const declared: DeclaredByFile = { ...(Object.keys(declaredParams).length > 0 ? { params: declaredParams } : {}), ...(b.metrics.length > 0 ? { metrics: [...b.metrics] } : {}) };
  return { typed, ...(Object.keys(declared).length > 0 ? { declared } : {}) };
}

/**
 * A value listed twice runs the same point twice under one key (the result set keeps one): an
 * error, at the second one. Linked parameters may repeat a value; their combinations may not.
 * Values that read the same as text (1 and "1") are the same value: templates make them so.
 */
function checkDuplicates(ctx: Ctx, matrix: BenchmarkFile['matrix'], axes: readonly Axis[], links: readonly string[][]): void {
  const linked = new Set(links.flat());
  for (const a of axes) {
    if (linked.has(a.name)) continue;
    const first = new Map<string, number>();
    const reported = new Set<string>();
    const isList = Array.isArray(matrix[a.name]);
    a.values.forEach((v, i) => {
      const k = String(v);
      const j = first.get(k);
      if (j === undefined) {
        first.set(k, i);
        return;
      }
      if (reported.has(k)) return;
      reported.add(k);
      if (isList) ctx.add(['matrix', a.name, i], `${show(v)} is listed twice in '${a.name}' (items ${j + 1} and ${i + 1})`, 'each value runs once; use repeat for repetitions');
      else ctx.add(['matrix', a.name], `the range of '${a.name}' gives ${show(v)} twice (values are rounded to 12 digits)`, 'widen the range or take fewer values');
    });
  }
  links.forEach((group, g) => {
    const members = group.map((n) => axes.find((a) => a.name === n)).filter((a): a is Axis => a !== undefined);
    if (members.length === 0) return;
    const size = Math.min(...members.map((m) => m.values.length));
    const first = new Map<string, number>();
    for (let i = 0; i < size; i++) {
      const k = JSON.stringify(members.map((m) => String(m.values[i])));
      const j = first.get(k);
      if (j === undefined) first.set(k, i);
      else {
        ctx.add(['link', g], `linked values ${j + 1} and ${i + 1} make the same combination (${members.map((m) => `${m.name}=${show(m.values[i], 30)}`).join(', ')})`, 'each combination runs once; use repeat for repetitions');
        break;
      }
    }
  });
}

/** Resolves a document that passed the schema; returns problems instead when it is not coherent. */
export function resolveBenchmark(data: BenchmarkFile, loc: Locator, text: string, fixed: ReadonlySet<string> = new Set(), maxRuns = DEFAULT_MAX_RUNS): { ok: true; value: ResolvedBenchmark } | { ok: false; problems: Problem[] } {
  const ctx = new Ctx(loc);
  const axes: Axis[] = [];
  const broken = new Set<string>();
  for (const [name, raw] of Object.entries(data.matrix)) {
    if (name.length > MAX_PARAM_NAME) {
      ctx.add(['matrix'], `parameter name ${show(name)} is longer than ${MAX_PARAM_NAME} characters`, undefined, name);
      continue;
    }
    if (RESERVED.includes(name) || name in Object.prototype || name === '__proto__') ctx.add(['matrix'], `'${name}' is a reserved name and cannot be a parameter`, `rename it, e.g. ${name}_value`, name);
    try {
      const values = axisValues(raw);
      if (values.length === 0) ctx.add(['matrix', name], `parameter '${name}' has no values`);
      axes.push({ name, values });
    } catch (e) {
      ctx.add(['matrix', name], `range of '${name}': ${errorMessage(e)}`);
      // Still a parameter (with no values): its name in templates, links and constraints is no second error.
      axes.push({ name, values: [] });
      broken.add(name);
    }
  }
  const names = axes.map((a) => a.name);
  if (names.length === 0) ctx.add(['matrix'], 'the matrix declares no parameter', 'add at least one, e.g. matrix: { threads: [1, 2] }');

  const links: string[][] = [];
  const linked = new Set<string>();
  (data.link ?? []).forEach((group, i) => {
    const members = group.filter((n, j) => {
      if (!names.includes(n)) ctx.add(['link', i, j], `unknown parameter ${show(n)} in link`, () => suggestHint(n, names));
      else if (linked.has(n)) ctx.add(['link', i, j], `'${n}' is already in another linked group`);
      else if (group.indexOf(n) !== j) ctx.add(['link', i, j], `'${n}' is listed twice in this group`);
      else return true;
      return false;
    });
    members.forEach((n) => linked.add(n));
    if (members.some((n) => broken.has(n))) {
      links.push(members);
      return;
    }
    const lens = members.map((n) => axes.find((a) => a.name === n)!.values.length);
    if (new Set(lens).size > 1) {
      ctx.add(['link', i], `linked parameters must have the same number of values: ${members.map((n, j) => `${n} has ${lens[j]}`).join(', ')}`);
    }
    links.push(members);
  });
  checkDuplicates(ctx, data.matrix, axes, links);

  // Values of a parameter narrowed by --set, or whose range is broken, are not checked against it.
  const unchecked = new Set([...fixed, ...broken]);
  const exclude = partials(ctx, 'exclude', data.exclude, axes, unchecked);
  const only = partials(ctx, 'only', data.only, axes, unchecked);
  // The plan can be counted only when the matrix and its constraints are sound.
  const planSound = ctx.problems.length === 0;

  let order: Order = { kind: 'declared' };
  const o = data.order;
  if (o === 'shuffled') order = { kind: 'shuffle', seed: 1 };
  else if (o !== undefined && typeof o === 'object' && 'shuffle' in o) order = { kind: 'shuffle', seed: o.shuffle };
  else if (o !== undefined && typeof o === 'object' && 'group' in o) {
    o.group.forEach((n, i) => {
      if (!names.includes(n)) ctx.add(['order', 'group', i], `unknown parameter '${n}' in order.group`, suggestHint(n, names));
    });
    order = { kind: 'group', params: o.group.filter((n) => names.includes(n)) };
  }

  const pointNames = [...names, ...BUILTIN_TEMPLATE_NAMES];
  const setNames = ['name', 'results_dir'];
  const paramHooks: ResolvedBenchmark['paramHooks'] = {};
  for (const [param, h] of Object.entries(data.hooks ?? {})) {
    if (!names.includes(param)) {
      ctx.add(['hooks'], `hooks for unknown parameter '${param}'`, suggestHint(param, names), param);
      continue;
    }
    paramHooks[param] = {
      before: hooks(ctx, ['hooks', param, 'before'], h.before, pointNames),
      after: hooks(ctx, ['hooks', param, 'after'], h.after, pointNames),
    };
  }
  const setup = hooks(ctx, ['setup'], data.setup, setNames);
  const teardown = hooks(ctx, ['teardown'], data.teardown, setNames);
  const w = workload(ctx, data.workload, pointNames);
  const plan = { axes, links, exclude, only };
  // The plan's size first: values are checked per distinct value, and a plan past the limit
  // (200000 values, say) would be checked at length only to be refused.
  const size = planSound ? planSizeProblem({ ...plan, repeat: data.repeat ?? 1 }, [], maxRuns) : undefined;
  if (size) ctx.add([], size.message, size.hint, size.key);
  else if (w?.type === 'stream') {
    checkParamValues(ctx, w.defaults, plan, STREAM_PARAMS, streamSettings, CODEC_DEPENDENT_PARAMS);
    checkSources(ctx, w.defaults, axes);
  }
  else if (w?.type === 'spice') checkParamValues(ctx, w.defaults, plan, SPICE_PARAMS, spiceSettings, []);
  const warmupS = seconds(ctx, ['warmup'], data.warmup, 0, 'nonnegative');
  const durationS = data.duration === undefined ? undefined : seconds(ctx, ['duration'], data.duration, 1);
  if (warmupS + (durationS ?? 0) > MAX_TIME_S) {
    ctx.add(['duration'], `warmup + duration is ${formatDuration(warmupS + (durationS ?? 0))}, longer than the ${describeSeconds(MAX_TIME_S)} a point may last`);
  }
  if (w?.type === 'stream') {
    // The stream ends at warmup + duration (10 s by default): a change scheduled later never applies.
    const endS = warmupS + (durationS ?? 10);
    w.schedule.forEach((c, i) => {
      if (c.atS >= endS) ctx.add(['workload', 'schedule', i, 'at'], `at ${formatDuration(c.atS)} is after the stream ends (${formatDuration(endS)}), so the change would never apply`);
    });
  }

  const params = resolveParams(ctx, data.params, axes, w?.type);
  const metrics = w?.type === 'command' ? ruleMetrics(ctx, (data.workload as RawCommandWorkload).metrics) : [];
  const recording = w ? resolveRecording(ctx, data.recording, w.type) : undefined;
  if (recording) {
    const roles = recording.agents.map((a) => a.role);
    for (const h of [...setup, ...teardown, ...Object.values(paramHooks).flatMap((x) => [...x.before, ...x.after])]) {
      if (h.on !== undefined && !roles.includes(h.on)) ctx.add(h.where.split(/[.[\]]+/).filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : x)), `hook runs on role '${h.on}', which has no agent`, suggestHint(h.on, roles));
    }
  } else {
    for (const h of [...setup, ...teardown]) if (h.on !== undefined) ctx.add(['recording'], `a hook runs on role '${h.on}', but recording is off`, 'remove `recording: false` or the `on:`');
  }
  if (ctx.problems.length > 0 || !w) return { ok: false, problems: ctx.problems };
  return {
    ok: true,
    value: {
      name: data.name,
      description: data.description ?? '',
      source: { file: loc.file, text, sha256: sha256(text) },
      workload: w,
      axes,
      links,
      exclude,
      only,
      repeat: data.repeat ?? 1,
      warmupS,
      ...(durationS !== undefined ? { durationS } : {}),
      order,
      setup,
      teardown,
      paramHooks,
      onError: data.on_error ?? 'stop',
      retries: data.retries ?? 0,
      ...(recording ? { recording } : {}),
      ...(data.executor !== undefined ? { executor: resolveExecutor(data.executor) } : {}),
      params,
      metrics,
    },
  };
}

/** The file's `executor:` (the schema checked its shape). */
function resolveExecutor(e: NonNullable<BenchmarkFile['executor']>): ExecutorSettings {
  if (typeof e === 'string') return { type: e, slurmOptions: [] };
  return { type: e.type, ...(e.parallel !== undefined ? { parallel: e.parallel } : {}), ...(e.partition !== undefined ? { partition: e.partition } : {}), slurmOptions: e.slurm_options ?? [] };
}
