/** Slurm's commands (sbatch, scontrol, scancel, srun), run as argv arrays, and their answers parsed. */
import { execFile } from 'node:child_process';
import { EnvironmentError, errorMessage } from '../base/errors.ts';

/** The cluster cannot be used (controller down, set not shared, Slurm missing): exit 5, one line. */
export class ClusterError extends EnvironmentError {
  constructor(message: string) {
    super('slurm', '', 'ESLURM');
    this.message = message;
    this.name = 'ClusterError';
  }
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm command; a missing program is a ClusterError, a non-zero exit is returned. */
export function slurmCmd(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new ClusterError(`'${cmd}' is not installed: the Slurm executor needs Slurm's client commands (Debian: apt-get install slurm-client)`));
        return;
      }
      const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
      if (e?.killed) {
        reject(new ClusterError(`'${cmd} ${args.join(' ')}' did not answer within ${timeoutMs / 1000} s: is the Slurm controller overloaded?`));
        return;
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The first line of what a failed command said, for a message. */
export function said(r: CmdResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split('\n')[0]?.replace(/^\w+: error: /, '') ?? `exit code ${r.code}`;
}

/** Checks that the controller answers (`scontrol ping`); throws a ClusterError saying why not. */
export async function pingController(): Promise<void> {
  let r: CmdResult;
  try {
    r = await slurmCmd('scontrol', ['ping'], 15_000);
  } catch (e) {
    throw new ClusterError(`the Slurm controller cannot be reached: ${errorMessage(e)}`);
  }
  if (r.code !== 0 || !/\bUP\b/.test(r.stdout)) {
    const conf = process.env['SLURM_CONF'] ? ` (SLURM_CONF=${process.env['SLURM_CONF']})` : '';
    throw new ClusterError(`the Slurm controller cannot be reached${conf}: ${said(r) || 'scontrol ping says it is down'}`);
  }
}

/** One component of a job as `scontrol show job -o` tells it. */
export interface JobComponent {
  jobId: string;
  offset: number;
  state: string;
  reason: string;
  exitCode: string;
  nodeList: string;
}

/** States after which a job runs no more. */
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED']);

/** Whether a job state is final. */
export function jobEnded(state: string): boolean {
  return ENDED.has(state);
}

/** Parses `scontrol show job -o ID` (one line per component of a heterogeneous job). */
export function parseShowJob(text: string): JobComponent[] {
  const out: JobComponent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('JobId=')) continue;
    const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1] ?? '';
    out.push({ jobId: field('JobId'), offset: Number(field('HetJobOffset') || 0), state: field('JobState'), reason: field('Reason'), exitCode: field('ExitCode'), nodeList: field('NodeList') });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/** The job's components now, or undefined when the controller no longer knows it (ended long ago). */
export async function showJob(jobId: string): Promise<JobComponent[] | undefined> {
  const r = await slurmCmd('scontrol', ['show', 'job', '-o', jobId]);
  if (r.code !== 0) {
    if (/Invalid job id/i.test(r.stderr + r.stdout)) return undefined;
    throw new ClusterError(`scontrol show job ${jobId}: ${said(r)}`);
  }
  return parseShowJob(r.stdout);
}

/** Cancels a job (all its components); a job already gone is no error. */
export async function cancelJob(jobId: string): Promise<void> {
  const r = await slurmCmd('scancel', [jobId]);
  if (r.code !== 0 && !/Invalid job id|already completing or completed/i.test(r.stderr)) throw new ClusterError(`scancel ${jobId}: ${said(r)}`);
}

/** The address Slurm gives a node (NodeAddr), its name when none is set. */
export async function nodeAddress(node: string): Promise<string> {
  const r = await slurmCmd('scontrol', ['show', 'node', '-o', node]);
  if (r.code !== 0) throw new ClusterError(`scontrol show node ${node}: ${said(r)}`);
  return / NodeAddr=(\S+)/.exec(r.stdout)?.[1] ?? node;
}
