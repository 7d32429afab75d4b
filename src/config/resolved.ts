/** The benchmark as the engine sees it: parsed, validated and resolved once; never raw YAML. */
import type { DeclaredByFile, MetricDecl, ParamDecl, TypedValue } from './declare.ts';

export type ParamValue = string | number | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export interface ResolvedHook {
  argv: string[];
  timeoutS: number;
  env: Record<string, string>;
  /** Where it was declared, e.g. `hooks.codec.before[0]`, for messages. */
  where: string;
  /** The role whose agent runs it; absent: run here by the engine. */
  on?: string;
}

/** Sampling interval in ms per probe; false turns one off. */
export interface ProbeRates {
  cpu?: number | false;
  mem?: number | false;
  net?: number | false;
  proc?: number;
  cpufreq?: number | false;
  gpu?: number | false;
  custom?: { name: string; argv: string[]; format: 'jsonl' | 'prometheus'; intervalMs: number; on?: string }[];
}

/** A process the benchmark file asks to watch (`recording.processes`): exactly one criterion, on one role's machine. */
export interface ProcessSelection {
  /** The metric names' middle part: `<role>.proc.<label>.cpu_pct`. */
  label: string;
  /** The role whose agent watches it. */
  role: string;
  /** Executable name (comm), exact. */
  name?: string;
  /** Regular expression on the command line, arguments joined by spaces. */
  cmdline?: string;
  /** Substring of one of the process's cgroup paths. */
  cgroup?: string;
  pid?: number;
}

export interface Recording {
  /** Role -> an agent started by hand (url, token read from the environment variable), or local. */
  agents: { role: string; url?: string; tokenEnv?: string }[];
  probes: ProbeRates;
  /** Processes to watch from the start of every point, each on its role's agent. */
  processes: ProcessSelection[];
  allowCommands: boolean;
}

/** The file's `executor:`: where points run. */
export interface ExecutorSettings {
  type: 'local' | 'slurm' | 'agents';
  parallel?: number;
  partition?: string;
  slurmOptions: string[];
}

/**
 * A workload's resolved part of a benchmark file: its type and what its definition resolved
 * (CommandWorkload, StreamWorkload, SpiceWorkload, or another module's). Only the workload's own
 * modules look inside; the engine hands it to the runner its registry names for the type.
 */
export interface ResolvedWorkload {
  type: string;
  timeoutS?: number;
  /** The parameter values its block sets for every point (those of a declared workload), under the matrix's. */
  defaults?: Readonly<Record<string, ParamValue>>;
}

export interface Axis {
  name: string;
  values: ParamValue[];
}

/** A partial point: each named parameter must take one of the listed values. */
export type PartialPoint = Readonly<Record<string, readonly ParamValue[]>>;

export type Order = { kind: 'declared' } | { kind: 'shuffle'; seed: number } | { kind: 'group'; params: string[] };

/** A parameter of the matrix: what it is, and each of its values typed once (by its text). */
export interface ResolvedParam {
  decl: ParamDecl;
  /** workload: the workload declares it; file: the file's `params:` section; inferred: from its values. */
  source: 'workload' | 'file' | 'inferred';
  /** Typed value by the text of each value of the parameter. */
  typed: ReadonlyMap<string, TypedValue>;
}

export interface ResolvedBenchmark {
  name: string;
  description: string;
  /** Path of the file it came from, and its exact text (frozen into the result set). */
  source: { file: string; text: string; sha256: string };
  workload: ResolvedWorkload;
  axes: Axis[];
  links: string[][];
  exclude: PartialPoint[];
  only: PartialPoint[];
  repeat: number;
  warmupS: number;
  /** Recorded time per point; undefined for a command that runs until it exits. */
  durationS?: number;
  order: Order;
  setup: ResolvedHook[];
  teardown: ResolvedHook[];
  paramHooks: Record<string, { before: ResolvedHook[]; after: ResolvedHook[] }>;
  onError: 'stop' | 'continue';
  retries: number;
  /** Undefined: recording off. */
  recording?: Recording;
  /** Where points run, as the file says (`executor:`); absent: locally. Not part of point keys. */
  executor?: ExecutorSettings;
  /**
   * Every parameter of the matrix, typed. Kept out of `workload`, which the point keys hash:
   * describing a parameter or a metric better must not make its points new ones.
   */
  params: Readonly<Record<string, ResolvedParam>>;
  /** Metrics the file describes (unit, direction beside the `command` workload's extraction rules). */
  metrics: readonly MetricDecl[];
  /** What the file declares beyond the workload (its parameters' types, its metrics), resolved once: every point's record keeps it. */
  declared?: DeclaredByFile;
}

/** Names usable in templates besides the parameters. */
export const BUILTIN_TEMPLATE_NAMES = ['rep', 'point_key', 'point_dir', 'results_dir', 'duration', 'warmup', 'name'] as const;
