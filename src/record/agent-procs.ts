/**
 * Long-running processes an agent started with --allow-commands runs for a point (the roles of a
 * stream under `--executor agents`): `POST /v1/procs` starts one, `GET /v1/procs/ID` gives its
 * output from an offset and its exit (waiting up to `wait` ms for news), `POST /v1/procs/ID/signal`
 * signals its process group, `POST /v1/procs/end` ends all of them (the point's end). The agent's
 * token guards every one of these paths (an agent that runs commands always has one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { killGroup } from '../base/process-group.ts';
import { EnvVars } from './protocol.ts';

/** The body of `POST /v1/procs`: an argv (never a shell) and environment variables to add. */
export const ProcStart = Type.Object({ argv: Type.Array(Type.String(), { minItems: 1 }), env: Type.Optional(EnvVars) }, { additionalProperties: false });
/** The body of `POST /v1/procs/ID/signal`. */
export const ProcSignal = Type.Object({ signal: Type.Union([Type.Literal('SIGTERM'), Type.Literal('SIGINT'), Type.Literal('SIGKILL')]) }, { additionalProperties: false });

/** Output kept per stream of a process: a role says little (a ready line, its log); more is cut. */
const MAX_KEPT = 4 * 1024 * 1024;

interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit?: { code: number | null; signal: string | null; error?: string };
  waiters: (() => void)[];
}

/** The processes one agent started; all of them end with `endAll` (the point's end, the agent's close). */
export class AgentProcs {
  private readonly procs = new Map<string, Proc>();

  /** Starts argv detached (its own process group, so a signal reaches all it starts). */
  start(argv: readonly string[], env: Record<string, string> = {}): { id: string; pid: number | null } {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const id = randomBytes(8).toString('hex');
    const p: Proc = { child, stdout: '', stderr: '', waiters: [] };
    const wake = () => p.waiters.splice(0).forEach((w) => w());
    child.stdout.on('data', (d: Buffer) => {
      if (p.stdout.length < MAX_KEPT) p.stdout += d.toString();
      wake();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (p.stderr.length < MAX_KEPT) p.stderr += d.toString();
      wake();
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      p.exit = { code: null, signal: null, error: `cannot start '${argv[0]}': ${e.code ?? e.message}` };
      wake();
    });
    child.once('close', (code, signal) => {
      p.exit ??= { code, signal };
      wake();
    });
    this.procs.set(id, p);
    return { id, pid: child.pid ?? null };
  }

  /** Output after the given offsets and the exit once known; waits up to `waitMs` for either. */
  async poll(id: string, out: number, err: number, waitMs: number): Promise<{ stdout: string; stderr: string; exit: Proc['exit'] | null } | undefined> {
    const p = this.procs.get(id);
    if (!p) return undefined;
    if (!p.exit && p.stdout.length <= out && p.stderr.length <= err && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        p.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const exit = p.exit ?? null;
    // A process reported ended is forgotten: its launcher has what it needs.
    if (exit) this.procs.delete(id);
    return { stdout: p.stdout.slice(out), stderr: p.stderr.slice(err), exit };
  }

  /** Signals the process group; false when there is no such process. */
  signal(id: string, signal: NodeJS.Signals): boolean {
    const p = this.procs.get(id);
    if (!p) return false;
    if (!p.exit) killGroup(p.child.pid, signal);
    return true;
  }

  /** Kills every process still running; returns how many there were. */
  endAll(): number {
    let n = 0;
    for (const [id, p] of this.procs) {
      if (!p.exit) {
        killGroup(p.child.pid, 'SIGKILL');
        n++;
      }
      this.procs.delete(id);
    }
    return n;
  }
}
