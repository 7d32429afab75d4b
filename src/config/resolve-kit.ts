/**
 * What every part of a benchmark file's resolution shares: the problems found (each at its path
 * in the file), durations, templated strings, programs to start, and the check of a settings
 * parser's values over the plan. The common resolution (resolve.ts), each workload's own part
 * (workloads/<type>-resolve.ts) and the recording's (resolve-recording.ts) use them.
 */
import { parseDuration } from '../base/duration.ts';
import { errorMessage, type Problem } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { SettingError } from './declare.ts';
import { describeSeconds, MAX_TIME_S, MIN_INTERVAL_S, PROBLEMS_SHOWN } from './limits.ts';
import { PlanTooComplexError, Search } from './matrix.ts';
import type { Axis, ParamValue, PartialPoint } from './resolved.ts';
import { show } from './show.ts';
import { problemAt, type Locator, type PathSeg } from './source.ts';
import { templateRefs } from './template.ts';

/** The matrix and its constraints, as a workload's checks over the plan see them. */
export interface PlanShape {
  axes: Axis[];
  links: string[][];
  exclude: PartialPoint[];
  only: PartialPoint[];
}

export class Ctx {
  problems: Problem[] = [];
  constructor(readonly loc: Locator) {}
  /** A hint may be given as a function: it is worked out only for problems that will be shown. */
  add(path: PathSeg[], message: string, hint?: string | (() => string), key?: string): void {
    const h = typeof hint === 'function' ? (this.problems.length < PROBLEMS_SHOWN ? hint() : undefined) : hint;
    this.problems.push(problemAt(this.loc, path, message, h, key));
  }
}

/** What a duration field takes: above 0 (a timeout, a duration) or from 0 (a warm-up), or at least a sampling interval. */
export type TimeKind = 'positive' | 'nonnegative' | 'interval';

/**
 * Seconds of a duration field, within what the engine's timers hold (MAX_TIME_S). `dflt` is
 * returned for an absent value, and after reporting a bad one.
 */
export function seconds(ctx: Ctx, path: PathSeg[], v: unknown, dflt: number, kind: TimeKind = 'positive'): number {
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
export function checkTemplate(ctx: Ctx, path: PathSeg[], text: string, allowed: readonly string[]): void {
  try {
    for (const ref of templateRefs(text)) {
      if (!allowed.includes(ref)) ctx.add(path, `unknown placeholder {${show(ref, 40, false)}}`, () => suggestHint(ref, allowed));
    }
  } catch (e) {
    ctx.add(path, errorMessage(e));
  }
}

export function checkTemplates(ctx: Ctx, path: PathSeg[], strings: readonly string[], allowed: readonly string[]): void {
  strings.forEach((s, i) => checkTemplate(ctx, [...path, i], s, allowed));
}

/**
 * The values of an env mapping, each at its own key; and the keys themselves: a name a process can
 * be given. An empty name, or one holding '=' (`PATH=/tmp/evil:/usr/bin:/bin` would set PATH) or
 * NUL, is refused.
 */
export function checkTemplateMap(ctx: Ctx, path: PathSeg[], map: Readonly<Record<string, string>> | undefined, allowed: readonly string[]): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\u0000')) ctx.add(path, `${show(k)} is not an environment variable name: a name is not empty and holds no '=' or NUL`, 'e.g. env: {LOG_LEVEL: debug}', k);
    checkTemplate(ctx, [...path, k], v, allowed);
  }
}

/** A program to start: its name (argv[0]) cannot be empty. */
export function checkArgv(ctx: Ctx, path: PathSeg[], argv: readonly string[]): void {
  if (argv[0] === '') ctx.add([...path, 0], 'the program name (argv[0]) is empty', 'name the program to run, e.g. [ffmpeg, -version]');
}

/**
 * Checks a workload's parameter values where they are written (its defaults, then each matrix
 * value of its parameters), so a bad one names its line before anything runs. Each distinct
 * value is parsed once, not each point: with the other parameters at their defaults, and those
 * whose rules depend on the codec (`dependent`) once per codec they meet in the plan.
 */
export function checkParamValues(ctx: Ctx, defaults: Record<string, ParamValue>, plan: PlanShape, params: Record<string, string>, parse: (p: Record<string, ParamValue>, times: { warmupS: number; durationS: number }) => unknown, dependent: readonly string[]): void {
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

/** The workload block's values of the named parameters: the defaults under the matrix. */
export function pickDefaults(raw: object, params: Record<string, string>): Record<string, ParamValue> {
  const defaults: Record<string, ParamValue> = {};
  for (const k of Object.keys(params)) {
    const v = (raw as Record<string, unknown>)[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') defaults[k] = v;
  }
  return defaults;
}
