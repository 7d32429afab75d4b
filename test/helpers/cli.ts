// The streambench CLI run as a subprocess for tests: one way to start it, where each test file had
// its own. A test binds what its runs share (cwd, env) once: `const cli = (a) => runCli(a, { cwd: work })`.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI's entry, as users start it. */
export const CLI = fileURLToPath(new URL('../../bin/streambench.js', import.meta.url));

export interface CliOptions {
  /** Working directory; default: the test's own. */
  cwd?: string;
  /** Added to (over) the test's environment. */
  env?: NodeJS.ProcessEnv;
  /** Runs it as this user and group, without supplementary groups (setpriv): what another user of the machine sees. */
  uid?: number;
  /** Options of Node itself, before the entry (`--max-old-space-size=...`). */
  nodeArgs?: readonly string[];
  /** Killed (SIGKILL) past this many ms: only so that a hung CLI cannot hang the suite (default 300 s; nothing takes a fraction of it). */
  timeoutMs?: number;
}

/** How a run ended: its exit code (null when killed) and what it wrote, as UTF-8 text. */
export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

function command(args: readonly string[], opts: CliOptions): [string, string[]] {
  const node = [...(opts.nodeArgs ?? []), CLI, ...args];
  return opts.uid !== undefined ? ['setpriv', [`--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', process.execPath, ...node]] : [process.execPath, node];
}

const envOf = (opts: CliOptions) => (opts.env ? { ...process.env, ...opts.env } : process.env);

/** Runs `streambench ...args` to its end. */
export function runCli(args: readonly string[], opts: CliOptions = {}): CliResult {
  const [cmd, argv] = command(args, opts);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), env: envOf(opts), timeout: opts.timeoutMs ?? 300_000, killSignal: 'SIGKILL' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Runs `streambench ...args` without blocking the test's process (whose servers, agents or fake
 * tools the run talks to); `out` holds stdout and stderr interleaved as they came. No bound of its
 * own: the test's timeout is one.
 */
export function runCliAsync(args: readonly string[], opts: Omit<CliOptions, 'timeoutMs'> = {}): Promise<{ code: number | null; out: string }> {
  const [cmd, argv] = command(args, opts);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), env: envOf(opts) });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}
