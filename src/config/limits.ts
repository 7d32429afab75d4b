/**
 * The limits a benchmark file is held to, in one place: `validate` checks each of them (so `run`
 * does before it writes anything), docs/benchmark-file.md and `--help` quote them.
 */

/** Planned runs (points x repetitions) allowed without `--max-runs`. */
export const DEFAULT_MAX_RUNS = 100_000;

/**
 * The longest duration, warm-up, timeout or warm-up + duration: 7 days (declared in base, where
 * the agents' protocol bounds a hook's timeout with it too).
 */
export { MAX_TIME_S } from '../base/duration.ts';

/** The shortest sampling interval (probes, process-tree sampling): a shorter one is a busy loop. */
export const MIN_INTERVAL_S = 0.01;

/** Values one range may expand to. */
export const MAX_RANGE_VALUES = 100_000;

/** Extra attempts for a failed point. */
export const MAX_RETRIES = 100;

/** Seeds of `order: {shuffle: SEED}` are 32-bit: the shuffle's generator has 32 bits of state. */
export const MAX_SEED = 2 ** 32 - 1;

/** Nesting depth of the file's data; the deepest legitimate field is six levels down. */
export const MAX_DEPTH = 16;

/**
 * Size of a benchmark file, checked before it is read: its parsed form costs tens of times its
 * text. With MAX_FILE_VALUES it bounds what validating any file costs (under 2 s and 500 MB for
 * the whole `validate` command: docs/benchmark-file.md, Limits); a legitimate file is a few
 * kilobytes (ranges declare long axes).
 */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Values a file may hold: a YAML file's keys, scalars, aliases and collections, counted by the
 * YAML lexer before the (much costlier) parse; a module's data, counted as it is walked.
 */
export const MAX_FILE_VALUES = 10_000;

/** Problems printed for one file; the rest are counted ("... and N more"). */
export const PROBLEMS_SHOWN = 20;

/** Search steps allowed to count or list a plan whose exclude/only rules interlock in costly ways. */
export const MAX_PLAN_STEPS = 5_000_000;

/** Seconds as users read them: 604800 -> "168h (7 days)". */
export function describeSeconds(s: number): string {
  return s % 86400 === 0 ? `${s / 3600}h (${s / 86400} days)` : `${s}s`;
}
/** Most points at once under a cluster executor (`--parallel`, `executor.parallel`). */
export const MAX_PARALLEL = 1000;
