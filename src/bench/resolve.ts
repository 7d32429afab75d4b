/** Semantic checks and resolution of a structurally valid benchmark document into a ResolvedBenchmark. */
import { parseDuration } from '../base/duration.ts';
import { sha256 } from '../base/canonical.ts';
import type { Problem } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { expandRange, type RangeSpec } from './matrix.ts';
import { BUILTIN_TEMPLATE_NAMES, type Axis, type ExtractRule, type Order, type ParamValue, type PartialPoint, type ProbeRates, type Recording, type ResolvedBenchmark, type ResolvedHook, type ResolvedWorkload } from './resolved.ts';
import { CommandWorkloadSchema, SpiceWorkloadSchema, StreamWorkloadSchema, type RawSpiceWorkload, type BenchmarkFile, type RawAxis, type RawCommandWorkload, type RawHooks, type RawStreamWorkload } from './schema.ts';
import { parseBitrate, SettingError, streamSettings, STREAM_PARAMS } from './stream-settings.ts';
import { spiceSettings, SPICE_PARAMS } from './spice-settings.ts';
import { problemAt, pathText, type Locator, type PathSeg } from './source.ts';
import { templateRefs } from './template.ts';
import { validateAgainst } from './validate.ts';

const DEFAULT_HOOK_TIMEOUT_S = 60;

/** Names that templates and result tables already use, so no parameter may take them. */
const RESERVED: readonly string[] = [...BUILTIN_TEMPLATE_NAMES, 'set', 'status', 'error', 'started_at', 'wall_s'];

/** Workload types this version knows, with the schema each is checked against. */
export const WORKLOAD_TYPES = { stream: StreamWorkloadSchema, spice: SpiceWorkloadSchema, command: CommandWorkloadSchema } as const;

class Ctx {
  problems: Problem[] = [];
  constructor(readonly loc: Locator) {}
  add(path: PathSeg[], message: string, hint?: string, key?: string): void {
    this.problems.push(problemAt(this.loc, path, message, hint, key));
  }
}

function axisValues(raw: RawAxis): ParamValue[] {
  if (Array.isArray(raw)) return raw;
  if (raw !== null && typeof raw === 'object') return expandRange(raw as RangeSpec);
  return [raw];
}

function seconds(ctx: Ctx, path: PathSeg[], v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const s = parseDuration(v);
  if (s === undefined) {
    ctx.add(path, `'${String(v)}' is not a duration`, 'write seconds as a number, or "500ms", "5s", "2m"');
    return dflt;
  }
  return s;
}

function checkTemplates(ctx: Ctx, path: PathSeg[], strings: readonly string[], allowed: readonly string[]): void {
  strings.forEach((s, i) => {
    try {
      for (const ref of templateRefs(s)) {
        if (!allowed.includes(ref)) ctx.add([...path, i], `unknown placeholder {${ref}}`, suggestHint(ref, allowed));
      }
    } catch (e) {
      ctx.add([...path, i], (e as Error).message);
    }
  });
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
    checkTemplates(ctx, Array.isArray(h) ? p : [...p, 'run'], o.run, allowed);
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
  return (raw ?? []).map((entry, i) => {
    const out: Record<string, ParamValue[]> = {};
    for (const [name, v] of Object.entries(entry)) {
      const axis = axes.find((a) => a.name === name);
      if (!axis) {
        ctx.add([key, i], `unknown parameter '${name}' in ${key}`, suggestHint(name, names), name);
        continue;
      }
      const values = Array.isArray(v) ? v : [v];
      for (const x of values) {
        if (!fixed.has(name) && !axis.values.some((y) => String(y) === String(x))) {
          ctx.add([key, i, name], `${JSON.stringify(x)} is not a value of '${name}'`, `its values are: ${axis.values.map((y) => JSON.stringify(y)).join(', ')}`);
        }
      }
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
        ctx.add(['workload', 'metrics', i, 'regex'], `invalid regular expression: ${(e as Error).message}`);
      }
      return { kind: 'regex', from, pattern: r.regex, ...(r.flags ? { flags: r.flags } : {}), ...(r.name ? { name: r.name } : {}), ...(r.take ? { take: r.take } : {}) } as ExtractRule;
    }
    if ('jsonl' in r) return { kind: 'jsonl', from, ...(r.take ? { take: r.take } : {}), ...(r.prefix ? { prefix: r.prefix } : {}) };
    return { kind: 'keyvalue', from, ...(r.take ? { take: r.take } : {}), ...(r.block_end ? { block_end: r.block_end } : {}), ...(r.prefix ? { prefix: r.prefix } : {}) };
  });
}

function workload(ctx: Ctx, raw: BenchmarkFile['workload'], allowed: readonly string[]): ResolvedWorkload | undefined {
  const type = (raw as { type: string }).type;
  const schema = WORKLOAD_TYPES[type as keyof typeof WORKLOAD_TYPES];
  if (!schema) {
    ctx.add(['workload', 'type'], `unknown workload type '${type}'`, suggestHint(type, Object.keys(WORKLOAD_TYPES)));
    return undefined;
  }
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
  checkTemplates(ctx, ['workload', 'argv'], w.argv, allowed);
  checkTemplates(ctx, ['workload', 'env'], Object.values(w.env ?? {}), allowed);
  return {
    type: 'command',
    argv: w.argv,
    env: w.env ?? {},
    ...(w.cwd !== undefined ? { cwd: w.cwd } : {}),
    ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}),
    sampleIntervalS: seconds(ctx, ['workload', 'sample_interval'], w.sample_interval, 0.1),
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
  const ms = (path: PathSeg[], v: number | string | false | undefined, dflt: number | false): number | false => (v === false ? false : v === undefined ? dflt : seconds(ctx, path, v, 0) * 1000);
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
      return { name: c.name, argv: c.run, format: c.format, intervalMs: ms(['recording', 'custom', i, 'interval'], c.interval, 1000) || 1000, ...(c.on ? { on: c.on } : {}) };
    });
  }
  return { agents, probes, allowCommands: r.allow_commands ?? false };
}

function streamWorkload(ctx: Ctx, w: RawStreamWorkload): ResolvedWorkload {
  const defaults = pickDefaults(w, STREAM_PARAMS);
  const schedule: { atS: number; bitrate?: number; fps?: number; keyframe?: boolean }[] = [];
  (w.schedule ?? []).forEach((c, i) => {
    const at = seconds(ctx, ['workload', 'schedule', i, 'at'], c.at, 0);
    const entry: (typeof schedule)[number] = { atS: at };
    if (c.bitrate !== undefined) {
      try {
        entry.bitrate = parseBitrate(c.bitrate);
      } catch (e) {
        ctx.add(['workload', 'schedule', i, 'bitrate'], (e as Error).message);
      }
    }
    if (c.fps !== undefined) entry.fps = c.fps;
    if (c.keyframe !== undefined) entry.keyframe = c.keyframe;
    schedule.push(entry);
  });
  return { type: 'stream', defaults, schedule, ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
}

/**
 * Checks a workload's parameter values where they are written (its defaults, then each matrix
 * value of its parameters), so a bad one names its line before anything runs.
 */
function checkParamValues(ctx: Ctx, defaults: Record<string, ParamValue>, axes: Axis[], params: Record<string, string>, parse: (p: Record<string, ParamValue>, times: { warmupS: number; durationS: number }) => unknown, what: string): void {
  const times = { warmupS: 0, durationS: 1 };
  const attempt = (p: Record<string, ParamValue>, onError: (e: SettingError) => void): boolean => {
    try {
      parse(p, times);
      return true;
    } catch (e) {
      if (!(e instanceof SettingError)) throw e;
      onError(e);
      return false;
    }
  };
  if (!attempt(defaults, (e) => ctx.add(['workload', e.param], e.message, `the ${what} parameters: ${Object.keys(params).join(', ')}`))) return;
  for (const a of axes) {
    if (!(a.name in params)) continue;
    a.values.forEach((v, i) => attempt({ ...defaults, [a.name]: v }, (e) => ctx.add(['matrix', a.name, ...(a.values.length > 1 ? [i] : [])], e.message)));
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

/** Resolves a document that passed the schema; returns problems instead when it is not coherent. */
export function resolveBenchmark(data: BenchmarkFile, loc: Locator, text: string, fixed: ReadonlySet<string> = new Set()): { ok: true; value: ResolvedBenchmark } | { ok: false; problems: Problem[] } {
  const ctx = new Ctx(loc);
  const axes: Axis[] = [];
  for (const [name, raw] of Object.entries(data.matrix)) {
    if (RESERVED.includes(name)) ctx.add(['matrix'], `'${name}' is a reserved name and cannot be a parameter`, `rename it, e.g. ${name}_value`, name);
    try {
      const values = axisValues(raw);
      if (values.length === 0) ctx.add(['matrix', name], `parameter '${name}' has no values`);
      axes.push({ name, values });
    } catch (e) {
      ctx.add(['matrix', name], (e as Error).message);
    }
  }
  const names = axes.map((a) => a.name);
  if (names.length === 0) ctx.add(['matrix'], 'the matrix declares no parameter', 'add at least one, e.g. matrix: { threads: [1, 2] }');

  const links: string[][] = [];
  const linked = new Set<string>();
  (data.link ?? []).forEach((group, i) => {
    const members = group.filter((n, j) => {
      if (!names.includes(n)) ctx.add(['link', i, j], `unknown parameter '${n}' in link`, suggestHint(n, names));
      else if (linked.has(n)) ctx.add(['link', i, j], `'${n}' is already in another linked group`);
      else return true;
      return false;
    });
    members.forEach((n) => linked.add(n));
    const lens = members.map((n) => axes.find((a) => a.name === n)!.values.length);
    if (new Set(lens).size > 1) {
      ctx.add(['link', i], `linked parameters must have the same number of values: ${members.map((n, j) => `${n} has ${lens[j]}`).join(', ')}`);
    }
    links.push(members);
  });

  const exclude = partials(ctx, 'exclude', data.exclude, axes, fixed);
  const only = partials(ctx, 'only', data.only, axes, fixed);

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
  if (w?.type === 'stream') checkParamValues(ctx, w.defaults, axes, STREAM_PARAMS, streamSettings, 'stream');
  if (w?.type === 'spice') checkParamValues(ctx, w.defaults, axes, SPICE_PARAMS, spiceSettings, 'SPICE');
  const warmupS = seconds(ctx, ['warmup'], data.warmup, 0);
  const durationS = data.duration === undefined ? undefined : seconds(ctx, ['duration'], data.duration, 0);

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
    },
  };
}
