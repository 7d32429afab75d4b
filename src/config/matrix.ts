/** Matrix expansion: axes and linked axes -> points, constraints, ordering, repetitions. */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { stableKey } from '../base/canonical.ts';
import { workloadDecl } from './registry.ts';
import { MAX_PLAN_STEPS, MAX_RANGE_VALUES } from './limits.ts';
import type { Axis, Order, ParamValue, Params, PartialPoint, ResolvedBenchmark } from './resolved.ts';
import { seededRandom } from '../base/random.ts';
import type { TypedValue } from './declare.ts';
import { typePoint } from './typing.ts';

/** A numeric range as written in the file. */
export interface RangeSpec {
  from: number;
  to: number;
  step?: number;
  count?: number;
  scale?: 'linear' | 'log';
}

/**
 * Values of a range; floating error is rounded away so 0.1 steps give 0.3, not 0.30000000000000004.
 * Throws an Error whose message says what is wrong with the range (resolve.ts gives it its line).
 */
export function expandRange(r: RangeSpec): number[] {
  const round = (x: number) => Number(x.toPrecision(12));
  if (![r.from, r.to, r.step ?? 1, r.count ?? 2].every(Number.isFinite)) throw new Error('from, to, step and count must be finite numbers');
  if (r.count !== undefined) {
    if (r.step !== undefined) throw new Error('a range takes step or count, not both');
    const n = r.count;
    if (!Number.isInteger(n) || n < 2) throw new Error(`count must be an integer of at least 2, not ${n}`);
    if (n > MAX_RANGE_VALUES) throw new Error(`count ${n} is above the ${MAX_RANGE_VALUES} values a range may have`);
    if (r.scale === 'log') {
      if (r.from <= 0 || r.to <= 0) throw new Error('a log range needs from and to above 0');
      const a = Math.log(r.from);
      const b = Math.log(r.to);
      return Array.from({ length: n }, (_, i) => round(Math.exp(a + ((b - a) * i) / (n - 1))));
    }
    return Array.from({ length: n }, (_, i) => round(r.from + ((r.to - r.from) * i) / (n - 1)));
  }
  if (r.scale === 'log') throw new Error('a log range needs count (how many values to spread on the log scale), not step');
  const step = r.step ?? 1;
  if (!(step > 0)) throw new Error(`step must be above 0, not ${step}`);
  // Sized before expanding, so a tiny step is refused at once rather than after 100000 iterations.
  const n = Math.floor(Math.abs(r.to - r.from) / step + 1e-9) + 1;
  if (n > MAX_RANGE_VALUES) throw new Error(`the range has ${n} values, above the ${MAX_RANGE_VALUES} a range may have: raise step or narrow from..to`);
  const out: number[] = [];
  const dir = r.to >= r.from ? 1 : -1;
  for (let i = 0; i <= n; i++) {
    const v = round(r.from + dir * step * i);
    if (dir > 0 ? v > r.to + step * 1e-9 : v < r.to - step * 1e-9) break;
    out.push(v);
  }
  return out;
}

export interface Point {
  /** Position in the declared (unordered) expansion, 0-based. */
  index: number;
  params: Params;
}

/** Values compare as text too, so `--filter crf=23` matches the number 23. */
export function sameValue(a: ParamValue | undefined, b: ParamValue): boolean {
  return a === b || (a !== undefined && String(a) === String(b));
}

/** Counting or listing a plan took more search steps than MAX_PLAN_STEPS; the message says what to simplify. */
export class PlanTooComplexError extends Error {
  constructor() {
    super(`exclude and only interlock in too many ways to plan within ${MAX_PLAN_STEPS} search steps: merge entries, or move parameters out of them`);
  }
}

/** One dimension of the product: an axis alone, or a linked group (its lists zipped). */
interface Unit {
  axes: Axis[];
  size: number;
}

function unitsOf(axes: readonly Axis[], links: readonly string[][]): Unit[] {
  const groupOf = new Map<string, readonly string[]>();
  for (const g of links) for (const n of g) groupOf.set(n, g);
  const byName = new Map(axes.map((a) => [a.name, a]));
  const units: Unit[] = [];
  const done = new Set<string>();
  for (const axis of axes) {
    if (done.has(axis.name)) continue;
    const members = (groupOf.get(axis.name) ?? [axis.name]).map((n) => byName.get(n)).filter((a): a is Axis => a !== undefined);
    members.forEach((m) => done.add(m.name));
    // Linked lists of unequal length are reported by resolve.ts; the shortest bounds the zip here.
    units.push({ axes: members, size: members.reduce((s, m) => Math.min(s, m.values.length), Infinity) });
  }
  return units;
}

/** The number of combinations before constraints (Infinity when past what a double holds). */
export function combinations(axes: readonly Axis[], links: readonly string[][]): number {
  return unitsOf(axes, links).reduce((p, u) => p * u.size, 1);
}

const EXCLUDE = 0;
const ONLY = 1;
const FILTER = 2;

/** A constraint entry compiled to, per unit it names, the value indices it accepts. */
interface Entry {
  kind: number;
  allowed: Map<number, Set<number>>;
}

/**
 * The plan's constraints, searched unit by unit. Each entry is alive while every unit assigned so
 * far has a value it accepts; counters of entry states tell at each step, without a scan, whether
 * the partial point is already out (dead) or every completion of it is in (settled).
 */
export class Search {
  readonly units: Unit[];
  private entries: Entry[] = [];
  private byUnit: number[][] = [];
  private readonly base: Entry[] = [];
  private readonly compile: (kind: number, partial: PartialPoint) => Entry | undefined;
  private readonly hasOnly: boolean;
  private impossible = false;
  private alive: Uint8Array = new Uint8Array(0);
  private rem: Int32Array = new Int32Array(0);
  private onlyAlive = 0;
  private onlyMatched = 0;
  private filterDead = 0;
  private filterPending = 0;
  private excludeMatched = 0;
  private excludePending = 0;
  /** Steps that led nowhere; bounded by MAX_PLAN_STEPS. */
  private wasted = 0;

  constructor(axes: readonly Axis[], links: readonly string[][], exclude: readonly PartialPoint[], only: readonly PartialPoint[], filter: readonly PartialPoint[] = []) {
    this.units = unitsOf(axes, links);
    const unitOf = new Map<string, number>();
    this.units.forEach((u, i) => u.axes.forEach((a) => unitOf.set(a.name, i)));
    const indexCache = new Map<string, Map<string, number[]>>();
    const valueIndex = (u: number, axis: Axis): Map<string, number[]> => {
      let m = indexCache.get(axis.name);
      if (!m) {
        m = new Map();
        const size = this.units[u]!.size;
        for (let i = 0; i < size; i++) {
          const k = String(axis.values[i]);
          const l = m.get(k);
          if (l) l.push(i);
          else m.set(k, [i]);
        }
        indexCache.set(axis.name, m);
      }
      return m;
    };
    // An entry naming a parameter the matrix lacks never matches: an exclude drops nothing, an
    // only keeps nothing, a filter leaves no point.
    this.compile = (kind: number, partial: PartialPoint): Entry | undefined => {
      const allowed = new Map<number, Set<number>>();
      for (const [name, vs] of Object.entries(partial)) {
        const u = unitOf.get(name);
        if (u === undefined) return undefined;
        const idx = valueIndex(
          u,
          this.units[u]!.axes.find((a) => a.name === name)!,
        );
        const here = new Set<number>();
        for (const v of vs) for (const i of idx.get(String(v)) ?? []) here.add(i);
        const prev = allowed.get(u);
        allowed.set(u, prev ? new Set([...here].filter((i) => prev.has(i))) : here);
      }
      return { kind, allowed };
    };
    for (const p of exclude) {
      const e = this.compile(EXCLUDE, p);
      if (e) this.base.push(e);
    }
    this.hasOnly = only.length > 0;
    for (const p of only) {
      const e = this.compile(ONLY, p);
      if (e) this.base.push(e);
    }
    this.setFilter(filter);
  }

  /** Replaces the filters (every one must match): the exclude and only rules stay compiled. */
  setFilter(filter: readonly PartialPoint[]): this {
    this.entries = [...this.base];
    this.impossible = false;
    for (const p of filter) {
      const e = this.compile(FILTER, p);
      if (e) this.entries.push(e);
      else this.impossible = true;
    }
    this.byUnit = this.units.map(() => []);
    this.entries.forEach((e, id) => {
      for (const u of e.allowed.keys()) this.byUnit[u]!.push(id);
    });
    this.namedCache.clear();
    this.reset();
    return this;
  }

  private reset(): void {
    this.alive = new Uint8Array(this.entries.length).fill(1);
    this.rem = Int32Array.from(this.entries, (e) => e.allowed.size);
    this.onlyAlive = this.onlyMatched = this.filterDead = this.filterPending = this.excludeMatched = this.excludePending = 0;
    this.wasted = 0;
    for (let e = 0; e < this.entries.length; e++) this.tally(e, 1);
  }

  private tally(e: number, sign: number): void {
    const alive = this.alive[e] === 1;
    const done = this.rem[e] === 0;
    switch (this.entries[e]!.kind) {
      case EXCLUDE:
        if (alive && done) this.excludeMatched += sign;
        else if (alive) this.excludePending += sign;
        break;
      case ONLY:
        if (alive) this.onlyAlive += sign;
        if (alive && done) this.onlyMatched += sign;
        break;
      default:
        if (!alive) this.filterDead += sign;
        else if (!done) this.filterPending += sign;
    }
  }

  /** Assigns unit u a value (class) that the entries in `accepts` accept; returns what to undo. */
  assign(u: number, accepts: (e: number) => boolean): number[] {
    const ids = this.byUnit[u]!;
    const killed: number[] = [];
    for (const e of ids) {
      this.tally(e, -1);
      this.rem[e]!--;
      if (this.alive[e] === 1 && !accepts(e)) {
        this.alive[e] = 0;
        killed.push(e);
      }
      this.tally(e, 1);
    }
    return killed;
  }

  /** Undoes assign(u): the entries it killed live again, each has unit u to assign again. */
  unassign(u: number, killed: readonly number[]): void {
    const ids = this.byUnit[u]!;
    for (const e of ids) this.tally(e, -1);
    for (const e of killed) this.alive[e] = 1;
    for (const e of ids) {
      this.rem[e]!++;
      this.tally(e, 1);
    }
  }

  /** No completion of the current partial point is in the plan. */
  dead(): boolean {
    return this.impossible || this.filterDead > 0 || this.excludeMatched > 0 || (this.hasOnly && this.onlyAlive === 0);
  }

  /** Every completion of the current partial point is in the plan. */
  settled(): boolean {
    return !this.dead() && this.filterPending === 0 && this.excludePending === 0 && (!this.hasOnly || this.onlyMatched > 0);
  }

  /** Counts a step that led nowhere; throws PlanTooComplexError past MAX_PLAN_STEPS. */
  waste(): void {
    if (++this.wasted > MAX_PLAN_STEPS) throw new PlanTooComplexError();
  }

  /**
   * The number of points, or undefined once it passes `cap`. Values a unit's entries treat alike
   * are counted as one class with a weight, and units no entry names only multiply: a 10^12
   * product answers in microseconds.
   */
  count(cap: number): number | undefined {
    this.reset();
    if (this.dead()) return 0;
    const constrained = this.units.map((_, i) => i).filter((i) => this.byUnit[i]!.length > 0);
    const free = this.units.reduce((p, u, i) => (this.byUnit[i]!.length > 0 ? p : p * u.size), 1);
    const classes = constrained.map((u) => this.classes(u));
    const suffix: number[] = new Array<number>(constrained.length + 1).fill(1);
    for (let d = constrained.length - 1; d >= 0; d--) suffix[d] = suffix[d + 1]! * this.units[constrained[d]!]!.size;
    let total = 0;
    const over = () => total > 0 && total * free > cap;
    const rec = (d: number, weight: number): boolean => {
      if (this.settled() || d === constrained.length) {
        total += weight * suffix[d]!;
        return !over();
      }
      const u = constrained[d]!;
      for (const c of classes[d]!) {
        const killed = this.assign(u, (e) => c.accepts.has(e));
        let ok = true;
        if (this.dead()) this.waste();
        else ok = rec(d + 1, weight * c.weight);
        this.unassign(u, killed);
        if (!ok) return false;
      }
      return true;
    };
    if (!rec(0, 1)) return undefined;
    return total === 0 ? 0 : total * free;
  }

  private classes(u: number): { weight: number; accepts: Set<number> }[] {
    const acceptedBy = new Map<number, number[]>();
    for (const e of this.byUnit[u]!) {
      for (const i of this.entries[e]!.allowed.get(u)!) {
        const l = acceptedBy.get(i);
        if (l) l.push(e);
        else acceptedBy.set(i, [e]);
      }
    }
    const classes = new Map<string, { weight: number; accepts: Set<number> }>();
    for (const l of acceptedBy.values()) {
      const k = l.join(',');
      const c = classes.get(k);
      if (c) c.weight++;
      else classes.set(k, { weight: 1, accepts: new Set(l) });
    }
    const rest = this.units[u]!.size - acceptedBy.size;
    if (rest > 0) {
      const c = classes.get('');
      if (c) c.weight += rest;
      else classes.set('', { weight: rest, accepts: new Set() });
    }
    return [...classes.values()];
  }

  private readonly namedCache = new Map<number, number[]>();

  /** Value indices of unit u that some entry names, ascending (declared order). */
  private named(u: number): number[] {
    let l = this.namedCache.get(u);
    if (!l) {
      const set = new Set<number>();
      for (const e of this.byUnit[u]!) for (const i of this.entries[e]!.allowed.get(u)!) set.add(i);
      l = [...set].sort((a, b) => a - b);
      this.namedCache.set(u, l);
    }
    return l;
  }

  /** Calls `each` with the value index per unit of every point in the plan, in declared order. */
  enumerate(each: (idx: Int32Array) => void): void {
    this.reset();
    if (this.dead()) return;
    const idx = new Int32Array(this.units.length);
    const rec = (d: number): void => {
      if (d === this.units.length) {
        each(idx);
        return;
      }
      const size = this.units[d]!.size;
      const ids = this.byUnit[d]!;
      if (ids.length === 0) {
        for (let i = 0; i < size; i++) {
          idx[d] = i;
          rec(d + 1);
        }
        return;
      }
      // Values no entry names all behave alike: when they lead nowhere, only the named ones are
      // tried, so `only: [{a: 1}]` over 10000 values of a costs one step per point, not 10000.
      const restKilled = this.assign(d, () => false);
      const restDead = this.dead();
      this.unassign(d, restKilled);
      const candidates = restDead ? this.named(d) : undefined;
      const n = candidates ? candidates.length : size;
      for (let k = 0; k < n; k++) {
        const i = candidates ? candidates[k]! : k;
        idx[d] = i;
        const killed = this.assign(d, (e) => this.entries[e]!.allowed.get(d)!.has(i));
        if (this.dead()) this.waste();
        else rec(d + 1);
        this.unassign(d, killed);
      }
    };
    rec(0);
  }
}

/**
 * Counts the points of the plan without listing them: undefined once the count passes `cap`.
 * Throws PlanTooComplexError when the constraints need too many search steps.
 */
export function countPoints(axes: readonly Axis[], links: readonly string[][], exclude: readonly PartialPoint[], only: readonly PartialPoint[], filter: readonly PartialPoint[], cap: number): number | undefined {
  return new Search(axes, links, exclude, only, filter).count(cap);
}

/**
 * Expands axes (cartesian product, linked groups zipped), then applies `exclude`, `only` and
 * `filter` (every filter must match). Only kept points are built: call countPoints first to bound them.
 */
export function expandPoints(axes: readonly Axis[], links: readonly string[][], exclude: readonly PartialPoint[], only: readonly PartialPoint[], filter: readonly PartialPoint[] = []): Point[] {
  const search = new Search(axes, links, exclude, only, filter);
  const units = search.units;
  const stride: number[] = new Array<number>(units.length).fill(1);
  for (let u = units.length - 2; u >= 0; u--) stride[u] = stride[u + 1]! * units[u + 1]!.size;
  const points: Point[] = [];
  search.enumerate((idx) => {
    const params: Record<string, ParamValue> = {};
    let index = 0;
    for (let u = 0; u < units.length; u++) {
      for (const a of units[u]!.axes) params[a.name] = a.values[idx[u]!]!;
      index += idx[u]! * stride[u]!;
    }
    points.push({ index, params });
  });
  return points;
}

/** Puts points in run order: as declared, shuffled with a seed, or grouped by costly parameters. */
export function orderPoints(points: readonly Point[], order: Order, axes: readonly Axis[]): Point[] {
  const out = [...points];
  if (order.kind === 'shuffle') {
    const r = seededRandom(order.seed);
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  } else if (order.kind === 'group') {
    // Ranks looked up, not searched: a comparison sort of 100000 points over long lists stays fast.
    const ranks = new Map<string, Map<ParamValue, number>>();
    for (const p of order.params) {
      const m = new Map<ParamValue, number>();
      (axes.find((a) => a.name === p)?.values ?? []).forEach((v, i) => {
        if (!m.has(v)) m.set(v, i);
      });
      ranks.set(p, m);
    }
    const rank = (name: string, v: ParamValue | undefined) => (v === undefined ? -1 : (ranks.get(name)!.get(v) ?? -1));
    // Array.prototype.sort is stable: points equal on the grouped parameters keep declared order.
    out.sort((a, b) => {
      for (const p of order.params) {
        const d = rank(p, a.params[p]) - rank(p, b.params[p]);
        if (d !== 0) return d;
      }
      return a.index - b.index;
    });
  }
  return out;
}

/** What one execution is: a point and one of its repetitions, with its stable key. */
export interface PlannedRun {
  /** Stable hash of everything that defines what the point runs (see `pointKey`). */
  key: string;
  rep: number;
  index: number;
  params: Params;
  /** The parameters typed (base units), as the workload computes with them and the record keeps them. */
  typed: Record<string, TypedValue>;
}

/**
 * The stable key of a point: parameters, workload and timing, normalised; order and names do not
 * matter. The files its `content` parameters name (a trace, a policy file) join it by their
 * sha256, so that editing one makes its points new ones; a point without such a file keeps the
 * key it always had.
 */
export function pointKey(b: ResolvedBenchmark, params: Params): string {
  const files = contentHashes(b, params);
  return stableKey({ params, workload: b.workload, warmup: b.warmupS, duration: b.durationS ?? null, ...(files ? { files } : {}) });
}

/** Parameter -> sha256 of the file its value names (comma-separated for a list of files), for the workload's `content` parameters whose value (the point's, else the workload's default) is a readable file. */
function contentHashes(b: ResolvedBenchmark, params: Params): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const d of workloadDecl(b.workload.type)?.params ?? []) {
    if (!d.content) continue;
    const v = params[d.name] ?? b.workload.defaults?.[d.name];
    if (typeof v !== 'string') continue;
    // One file, or several separated by commas (policy_models: the quality model, then the CPU model).
    const shas = (fileSha256(v) !== undefined ? [v] : v.split(',')).map((p) => fileSha256(p.trim())).filter((x) => x !== undefined);
    if (shas.length > 0) out[d.name] = shas.join(',');
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A file's sha256, read once per size and modification time (a plan keys many points with one trace); undefined when it names no readable file. */
function fileSha256(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined; // a built-in name (policy: gcc), or a file the workload's own checks report
  }
  if (!st.isFile()) return undefined;
  const stamp = `${path}\0${st.size}\0${st.mtimeMs}`;
  let sha = fileShas.get(stamp);
  if (sha === undefined) {
    sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    fileShas.set(stamp, sha);
  }
  return sha;
}
const fileShas = new Map<string, string>();

/** Counts of a plan: points after constraints and filters, and runs (points x repeat). */
export interface PlanCount {
  points: number;
  runs: number;
}

/**
 * Counts the runs of a plan without listing them; undefined once they pass `maxRuns`.
 * Throws PlanTooComplexError when the constraints need too many search steps.
 */
export function countRuns(b: Pick<ResolvedBenchmark, 'axes' | 'links' | 'exclude' | 'only' | 'repeat'>, filter: readonly PartialPoint[], maxRuns: number): PlanCount | undefined {
  const points = countPoints(b.axes, b.links, b.exclude, b.only, filter, Math.floor(maxRuns / b.repeat));
  return points === undefined ? undefined : { points, runs: points * b.repeat };
}

/** The whole plan: points in run order, each repeated `repeat` times back to back. Bound it with countRuns first. */
export function planRuns(b: ResolvedBenchmark, filter: readonly PartialPoint[] = []): PlannedRun[] {
  const points = expandPoints(b.axes, b.links, b.exclude, b.only, filter);
  return orderPoints(points, b.order, b.axes).flatMap((p) => {
    const key = pointKey(b, p.params);
    // Typed once per point, from the values typed when the file was resolved.
    const typed = typePoint(b.params, p.params);
    return Array.from({ length: b.repeat }, (_, r) => ({ key, rep: r + 1, index: p.index, params: p.params, typed }));
  });
}
