/**
 * The common resolution of a structurally valid benchmark document into a ResolvedBenchmark:
 * the matrix, its links and constraints, order, hooks, times, the parameters' types and the
 * executor. The workload's own part is resolved by its definition (workloads/<type>-resolve.ts,
 * found in the registry), the recording's by resolve-recording.ts.
 */
import { formatDuration } from '../base/duration.ts';
import { sha256 } from '../base/canonical.ts';
import { errorMessage, type Problem } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { DEFAULT_MAX_RUNS, describeSeconds, MAX_TIME_S } from './limits.ts';
import { expandRange } from './matrix.ts';
import { planSizeProblem } from './plan-size.ts';
import { inferParam, typeValue, type ParamDecl, type TypedValue } from './declare.ts';
import { BUILTIN_TEMPLATE_NAMES, type Axis, type ExecutorSettings, type Order, type ParamValue, type PartialPoint, type ResolvedBenchmark, type ResolvedHook, type ResolvedParam, type ResolvedWorkload } from './resolved.ts';
import { checkArgv, checkTemplateMap, checkTemplates, Ctx, seconds } from './resolve-kit.ts';
import { resolveRecording } from './resolve-recording.ts';
import type { BenchmarkFile, RawAxis, RawHooks } from './schema.ts';
import { workloadDecl, workloadTypes } from './registry.ts';
import { show } from './show.ts';
import { SettingError } from './stream-settings.ts';
import { pathText, type Locator, type PathSeg } from './source.ts';
import { validateAgainst } from './validate.ts';
import { declaredByFile } from './typing.ts';

export { pointTyping } from './typing.ts';
import type { WorkloadDef } from './workload-def.ts';

const DEFAULT_HOOK_TIMEOUT_S = 60;

/** Names that templates and result tables already use, so no parameter may take them. */
const RESERVED: readonly string[] = [...BUILTIN_TEMPLATE_NAMES, 'set', 'status', 'error', 'started_at', 'wall_s'];

/** A parameter name becomes a column, a template name and a key of plain objects: short, and not an Object property. */
const MAX_PARAM_NAME = 64;

function axisValues(raw: RawAxis): ParamValue[] {
  if (Array.isArray(raw)) return raw;
  if (typeof raw === 'object') return expandRange(raw);
  return [raw];
}

function hooks(ctx: Ctx, path: PathSeg[], raw: RawHooks | undefined, allowed: readonly string[]): ResolvedHook[] {
  if (raw === undefined) return [];
  // An argv array (strings) or an object is a single hook; any other array is a list of hooks.
  type One = string[] | { run: string[]; timeout?: number | string; env?: Record<string, string>; on?: string };
  const single = !Array.isArray(raw) || raw.every((x) => typeof x === 'string');
  const list: One[] = single ? [raw] : raw;
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
          const shown = axis.values
            .slice(0, 10)
            .map((y) => show(y, 30))
            .join(', ');
          ctx.add([key, i, name, ...(Array.isArray(v) ? [j] : [])], `${show(x)} is not a value of '${name}'`, `its values are: ${shown}${axis.values.length > 10 ? `, ... (${axis.values.length} in all)` : ''}`);
        }
      });
      out[name] = values;
    }
    return out;
  });
}

/** The workload block, checked against its type's schema and resolved by its definition. */
function workload(ctx: Ctx, raw: BenchmarkFile['workload'], allowed: readonly string[]): { w: ResolvedWorkload; def: WorkloadDef } | undefined {
  const type = raw.type;
  // A Map of the registry: `type: constructor` finds no Object property.
  const def = workloadDecl(type);
  if (!def) {
    ctx.add(['workload', 'type'], `unknown workload type ${show(type)}`, suggestHint(type, workloadTypes()));
    return undefined;
  }
  const problems = validateAgainst(def.schema, raw, ctx.loc, ['workload']);
  if (problems.length > 0) {
    ctx.problems.push(...problems);
    return undefined;
  }
  return { w: def.resolve(ctx, raw, allowed), def };
}

/** The fixed unit of the types whose values are stored in base units. */
const BASE_UNITS: Partial<Record<ParamDecl['type'], string>> = { duration: 'ms', bitrate: 'bit/s', resolution: 'px' };

/**
 * What each parameter of the matrix is, and its values typed once: the workload's declaration
 * for the names it declares (their values are checked by checkParamValues), the file's `params:`
 * section for the others, else inferred from the values (numbers: number; else text).
 */
function resolveParams(ctx: Ctx, raw: BenchmarkFile['params'], axes: readonly Axis[], def: WorkloadDef | undefined): Record<string, ResolvedParam> {
  const declared = def?.params ?? [];
  const type = def?.type;
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
    const decl: ParamDecl =
      own ?? (info ? { name: a.name, type: info.type, ...((BASE_UNITS[info.type] ?? info.unit) ? { unit: BASE_UNITS[info.type] ?? info.unit! } : {}), ...(info.values ? { values: info.values } : {}), doc: info.doc ?? '', role: 'all' } : inferParam(a.name, a.values));
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
  const resolved = workload(ctx, data.workload, pointNames);
  const w = resolved?.w;
  const plan = { axes, links, exclude, only };
  // The plan's size first: values are checked per distinct value, and a plan past the limit
  // (200000 values, say) would be checked at length only to be refused.
  const size = planSound ? planSizeProblem({ ...plan, repeat: data.repeat ?? 1 }, [], maxRuns) : undefined;
  if (size) ctx.add([], size.message, size.hint, size.key);
  else if (resolved) resolved.def.checkPlan?.(ctx, resolved.w, plan);
  const warmupS = seconds(ctx, ['warmup'], data.warmup, 0, 'nonnegative');
  const durationS = data.duration === undefined ? undefined : seconds(ctx, ['duration'], data.duration, 1);
  if (warmupS + (durationS ?? 0) > MAX_TIME_S) {
    ctx.add(['duration'], `warmup + duration is ${formatDuration(warmupS + (durationS ?? 0))}, longer than the ${describeSeconds(MAX_TIME_S)} a point may last`);
  }
  resolved?.def.checkTimes?.(ctx, resolved.w, { warmupS, ...(durationS !== undefined ? { durationS } : {}) });

  const params = resolveParams(ctx, data.params, axes, resolved?.def);
  const metrics = resolved?.def.fileMetrics?.(ctx, data.workload) ?? [];
  const recording = resolved ? resolveRecording(ctx, data.recording, resolved.def) : undefined;
  if (recording) {
    const roles = recording.agents.map((a) => a.role);
    for (const h of [...setup, ...teardown, ...Object.values(paramHooks).flatMap((x) => [...x.before, ...x.after])]) {
      if (h.on !== undefined && !roles.includes(h.on))
        ctx.add(
          h.where
            .split(/[.[\]]+/)
            .filter(Boolean)
            .map((x) => (/^\d+$/.test(x) ? Number(x) : x)),
          `hook runs on role '${h.on}', which has no agent`,
          suggestHint(h.on, roles),
        );
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
      ...(declaredByFile(params, metrics) ? { declared: declaredByFile(params, metrics)! } : {}),
    },
  };
}

/** The file's `executor:` (the schema checked its shape). */
function resolveExecutor(e: NonNullable<BenchmarkFile['executor']>): ExecutorSettings {
  if (typeof e === 'string') return { type: e, slurmOptions: [] };
  return { type: e.type, ...(e.parallel !== undefined ? { parallel: e.parallel } : {}), ...(e.partition !== undefined ? { partition: e.partition } : {}), slurmOptions: e.slurm_options ?? [] };
}
