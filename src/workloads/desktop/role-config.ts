/**
 * What crosses the process boundary between a desktop point's session and its role processes
 * (`streambench desktop guest|client`), declared once: the settings handed over as JSON (--config),
 * and the report each role writes at SIGTERM (--report). Both are checked where they enter, naming
 * the field that is wrong. The stack's settings travel as the point's parameters, as written: the
 * role rebuilds them with the stack's own rules (DesktopStack.settings), so one set of rules holds.
 */
import type { ParamValue } from '../../config/resolved.ts';

/** The roles that run as `streambench desktop ROLE` (the host's relay is `streambench stream host --proxy`). */
export const DESKTOP_ROLE_PROCESSES = ['guest', 'client'] as const;
export type DesktopRoleName = (typeof DESKTOP_ROLE_PROCESSES)[number];

/** A role's settings (--config). */
export interface DesktopRoleConfig {
  /** The stack's id in src/workloads/desktop-stacks.ts ('spice'). */
  stack: string;
  /** The point's parameters as written, without the relay's network (net_*): a trace file may be on the engine's machine only, and the relay gets it as content. */
  params: Record<string, ParamValue>;
  /** An X program (argv) shown on the guest display instead of a scene. */
  content?: string[];
  warmupS: number;
  durationS: number;
  /** How long the scene player may play at most (the session ends it sooner). */
  lifetimeS: number;
  /** The client: what the guest's server start handed over for the viewer (ServerStarted.viewer: a session's user, ...). */
  viewer?: Record<string, string>;
}

/** The point's parameters a role gets: all but the relay's network. */
export function roleParams(params: Readonly<Record<string, ParamValue>>): Record<string, ParamValue> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('net_')));
}

const MAX_S = 7 * 24 * 3600;

/** A role's settings from its --config JSON; throws naming the field that is wrong. */
export function parseRoleConfig(v: unknown): DesktopRoleConfig {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('the settings must be a JSON object');
  const o = v as Record<string, unknown>;
  const known = ['stack', 'params', 'content', 'warmupS', 'durationS', 'lifetimeS', 'viewer'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new Error(`unknown field '${k}' (fields: ${known.join(', ')})`);
  if (typeof o['stack'] !== 'string' || o['stack'] === '') throw new Error('stack must be the name of a desktop stack, e.g. "spice"');
  const params = o['params'];
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error('params must be an object of parameter values');
  for (const [k, x] of Object.entries(params)) if (!['string', 'number', 'boolean'].includes(typeof x)) throw new Error(`params.${k} must be a string, a number or a boolean, not ${JSON.stringify(x)}`);
  const content = o['content'];
  if (content !== undefined && (!Array.isArray(content) || content.length === 0 || content.some((a) => typeof a !== 'string'))) throw new Error('content must be a non-empty list of strings (an argv)');
  const viewer = o['viewer'];
  if (viewer !== undefined && (viewer === null || typeof viewer !== 'object' || Array.isArray(viewer) || Object.values(viewer).some((x) => typeof x !== 'string'))) throw new Error('viewer must be an object of strings');
  const seconds = (k: 'warmupS' | 'durationS' | 'lifetimeS') => {
    const x = o[k];
    if (typeof x !== 'number' || !(x >= 0 && x <= MAX_S)) throw new Error(`${k} must be seconds from 0 to ${MAX_S}, not ${JSON.stringify(x)}`);
    return x;
  };
  return {
    stack: o['stack'],
    params: params as Record<string, ParamValue>,
    ...(content !== undefined ? { content: content as string[] } : {}),
    warmupS: seconds('warmupS'),
    durationS: seconds('durationS'),
    lifetimeS: seconds('lifetimeS'),
    ...(viewer !== undefined ? { viewer: viewer as Record<string, string> } : {}),
  };
}

/** CPU seconds of each process tree a role started, sampled over time on its machine's monotonic clock (ms). */
export interface TreeTimeline {
  t: number[];
  cpuS: Record<string, number[]>;
}

/** What a role process writes at SIGTERM. */
export interface DesktopRoleReport {
  role: DesktopRoleName;
  pid: number;
  cpu: TreeTimeline;
  /** The client: every grab of its screen whose frame number could be read (t on its monotonic clock, ms), and all grabs. */
  screen?: { t: number[]; n: number[]; grabs: number };
}

/** Reads a role's report; throws naming the file and the field that is wrong. */
export function parseRoleReport(v: unknown, where: string): DesktopRoleReport {
  const fail = (what: string) => new Error(`the desktop role's report ${where}: ${what}`);
  const o = v as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object') throw fail('not an object');
  if (!DESKTOP_ROLE_PROCESSES.includes(o['role'] as DesktopRoleName)) throw fail(`role must be one of ${DESKTOP_ROLE_PROCESSES.join(', ')}`);
  if (typeof o['pid'] !== 'number') throw fail('pid must be a number');
  const numbers = (x: unknown, k: string, n?: number): number[] => {
    if (!Array.isArray(x) || x.some((e) => typeof e !== 'number') || (n !== undefined && x.length !== n)) throw fail(`${k} must be a list of ${n ?? 'some'} numbers`);
    return x as number[];
  };
  const cpu = o['cpu'] as Record<string, unknown> | null;
  if (cpu === null || typeof cpu !== 'object') throw fail('cpu must be an object');
  const t = numbers(cpu['t'], 'cpu.t');
  const trees = cpu['cpuS'] as Record<string, unknown> | null;
  if (trees === null || typeof trees !== 'object') throw fail('cpu.cpuS must be an object');
  for (const [k, xs] of Object.entries(trees)) numbers(xs, `cpu.cpuS.${k}`, t.length);
  const screen = o['screen'] as Record<string, unknown> | undefined;
  if (screen !== undefined) {
    const st = numbers(screen['t'], 'screen.t');
    numbers(screen['n'], 'screen.n', st.length);
    if (typeof screen['grabs'] !== 'number') throw fail('screen.grabs must be a number');
  }
  return v as DesktopRoleReport;
}
