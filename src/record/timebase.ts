/**
 * One time base for a point: every role's stamps mapped onto the clock of the process that
 * collects the point (the engine, or a Slurm job's first node), as milliseconds since the point
 * began. Each role's offset is measured at the point's start and again at its end, and
 * interpolated between the two, so a clock that drifts during a long point is followed. Every
 * workload maps its roles' times through here before it computes a figure that crosses roles.
 */
import type { ClockEstimate } from './clock.ts';

/** How a role's clock relates to the base clock. */
export type RoleClock =
  /** The role reads the base clock itself: same boot and same time namespace. Offset 0, exactly. */
  | { kind: 'same' }
  /** Measured against the base clock (NTP-style) at the start and, once the point ends, again. */
  | { kind: 'measured'; start: ClockEstimate; end?: ClockEstimate }
  /** Not measured (a role on another machine with no agent to ask): its times cannot be mapped. */
  | { kind: 'unknown'; why: string };

/** A role's clock as a point record keeps it (the store's ClockRecord has the same fields). */
export interface RoleClockSummary {
  /** Offset at the point's start (role clock - base clock), ms. */
  offsetMs: number;
  /** Mapped times are true within ± this, ms. */
  uncertaintyMs: number;
  /** Change of the offset from the start to the end of the point, ms. */
  driftMs: number;
  /** The role read the base clock itself. */
  same: boolean;
}

export class TimeBase {
  /**
   * @param originMs the point's start on the base clock: times are given as ms since it
   * @param clocks every role's clock; a role not listed is a programming error, not a same clock
   */
  constructor(
    readonly originMs: number,
    private readonly clocks: Readonly<Record<string, RoleClock>>,
  ) {}

  /** A time base where every listed role reads the base clock (all on the collecting machine). */
  static local(originMs: number, roles: readonly string[]): TimeBase {
    return new TimeBase(originMs, Object.fromEntries(roles.map((r) => [r, { kind: 'same' } as const])));
  }

  get roles(): string[] {
    return Object.keys(this.clocks);
  }

  private clock(role: string): RoleClock {
    const c = this.clocks[role];
    if (!c) throw new Error(`the time base has no clock for role '${role}' (roles: ${this.roles.join(', ')})`);
    return c;
  }

  /** Whether the role's times can be mapped (false: on another machine, not measured). */
  known(role: string): boolean {
    return this.clock(role).kind !== 'unknown';
  }

  /** Why a role's times cannot be mapped, or undefined when they can. */
  whyUnknown(role: string): string | undefined {
    const c = this.clock(role);
    return c.kind === 'unknown' ? c.why : undefined;
  }

  /** The offset (role - base) in effect at base time `baseMs`: interpolated between the start and end measurements. */
  private offsetAt(c: Extract<RoleClock, { kind: 'measured' }>, baseMs: number): number {
    const { start, end } = c;
    if (!end || end.atMs === start.atMs) return start.offsetMs;
    return start.offsetMs + ((end.offsetMs - start.offsetMs) * (baseMs - start.atMs)) / (end.atMs - start.atMs);
  }

  /** A time on the role's clock (ms) as a time on the base clock (ms); NaN for a role that cannot be mapped. */
  toBase(role: string, t: number): number {
    const c = this.clock(role);
    if (c.kind === 'same') return t;
    if (c.kind === 'unknown') return NaN;
    // The offset is linear in base time b (off(b) = o0 + k(b - a0)), and b = t - off(b): solved exactly.
    const { start, end } = c;
    if (!end || end.atMs === start.atMs) return t - start.offsetMs;
    const k = (end.offsetMs - start.offsetMs) / (end.atMs - start.atMs);
    return (t - start.offsetMs + k * start.atMs) / (1 + k);
  }

  /** A time on the role's clock as ms since the point began. */
  toPoint(role: string, t: number): number {
    return this.toBase(role, t) - this.originMs;
  }

  /** A time on the base clock as a time on the role's clock (the inverse of toBase). */
  fromBase(role: string, baseMs: number): number {
    const c = this.clock(role);
    if (c.kind === 'same') return baseMs;
    if (c.kind === 'unknown') return NaN;
    return baseMs + this.offsetAt(c, baseMs);
  }

  /** How far a mapped time of this role may be from the truth, ms (0 for the base clock, Infinity when unknown). */
  uncertaintyMs(role: string): number {
    const c = this.clock(role);
    if (c.kind === 'same') return 0;
    if (c.kind === 'unknown') return Infinity;
    return Math.max(c.start.uncertaintyMs, c.end?.uncertaintyMs ?? 0);
  }

  /**
   * The uncertainty of a figure that subtracts one role's time from another's: the largest sum of
   * two roles' uncertainties over the pairs of `roles` (a stage from guest to client is off by at
   * most both mappings' errors). One role alone: its own (a window placed on its clock).
   */
  crossUncertaintyMs(roles: readonly string[] = this.roles): number {
    if (roles.length === 0) return 0;
    if (roles.length === 1) return this.uncertaintyMs(roles[0]!);
    let worst = 0;
    for (let i = 0; i < roles.length; i++) for (let j = i + 1; j < roles.length; j++) worst = Math.max(worst, this.uncertaintyMs(roles[i]!) + this.uncertaintyMs(roles[j]!));
    return worst;
  }

  /** Each known role's clock as the point record keeps it. */
  summary(): Record<string, RoleClockSummary> {
    const out: Record<string, RoleClockSummary> = {};
    for (const [role, c] of Object.entries(this.clocks)) {
      if (c.kind === 'same') out[role] = { offsetMs: 0, uncertaintyMs: 0, driftMs: 0, same: true };
      else if (c.kind === 'measured') {
        out[role] = { offsetMs: round3(c.start.offsetMs), uncertaintyMs: round3(this.uncertaintyMs(role)), driftMs: round3(c.end ? c.end.offsetMs - c.start.offsetMs : 0), same: false };
      }
    }
    return out;
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
