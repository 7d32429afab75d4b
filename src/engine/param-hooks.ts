/** Parameter hooks: `before` runs when a parameter takes a new value, `after` when it leaves it. */
import type { Params, ResolvedBenchmark, ResolvedHook } from '../config/resolved.ts';

/** Runs one hook with these template values; returns what went wrong, or undefined. */
export type HookRunner = (h: ResolvedHook, values: Record<string, unknown>) => Promise<string | undefined>;

/** The system's configuration between points on this machine: which parameter values its hooks have set. */
export class ParamHooks {
  /** The parameters the system is configured for; undefined: not configured yet, or its state is unknown. */
  private configured: Params | undefined;

  constructor(
    private readonly hooks: ResolvedBenchmark['paramHooks'],
    private readonly setValues: Record<string, unknown>,
    private readonly run: HookRunner,
  ) {}

  /** Configures the system for `params`: the `after` hooks of the values it leaves, then the `before` hooks of those it takes; returns the first failure. */
  async configure(params: Params, values: Record<string, unknown>): Promise<string | undefined> {
    const err = (this.configured ? await this.leave(this.configured, params) : undefined) ?? (await this.enter(params, this.configured, values));
    // After a failure the system is in an unknown state: the next point configures it from scratch.
    this.configured = err ? undefined : params;
    return err;
  }

  /** At the end of the run: the `after` hooks of every value still configured (their failures are in the hook events). */
  async unwind(): Promise<void> {
    if (this.configured) await this.leave(this.configured, undefined);
  }

  private async leave(prev: Params, next: Params | undefined): Promise<string | undefined> {
    for (const [param, hs] of Object.entries(this.hooks)) {
      if (next && next[param] === prev[param]) continue;
      for (const h of hs.after) {
        const err = await this.run(h, { ...this.setValues, ...prev });
        if (err) return err;
      }
    }
    return undefined;
  }

  private async enter(next: Params, prev: Params | undefined, values: Record<string, unknown>): Promise<string | undefined> {
    for (const [param, hs] of Object.entries(this.hooks)) {
      if (prev && prev[param] === next[param]) continue;
      for (const h of hs.before) {
        const err = await this.run(h, values);
        if (err) return err;
      }
    }
    return undefined;
  }
}
