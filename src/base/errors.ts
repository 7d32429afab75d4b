/** Typed errors that carry what the user needs to act on, and the exit code the CLI maps them to. */

/** Exit codes of the CLI, one per kind of failure (documented in docs/exit-codes.md). */
export const ExitCode = {
  ok: 0,
  pointsFailed: 1,
  invalidInput: 2,
  pointFailedStop: 3,
  store: 4,
  environment: 5,
  /** compare: a real change crossed a --fail-on threshold. */
  regression: 6,
  internal: 70,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Where in a source file a problem is: 1-based line and column. */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
}

/** One problem found in user input, with its position and an optional hint. */
export interface Problem {
  pos: SourcePos;
  /** Dotted path in the document, e.g. `matrix.codec`. */
  path: string;
  message: string;
  hint?: string;
}

/** A problem as the user reads it: `file:line:col: message (at path)`, and its hint on a second line. */
export function formatProblem(p: Problem): string {
  const where = p.pos.line !== undefined ? `${p.pos.file}:${p.pos.line}:${p.pos.col ?? 1}` : p.pos.file;
  const at = p.path ? ` (at ${p.path})` : '';
  return `${where}: ${p.message}${at}${p.hint ? `\n  hint: ${p.hint}` : ''}`;
}

/** Bad user input (benchmark file, CLI arguments): nothing was written. */
export class InputError extends Error {
  readonly exitCode = ExitCode.invalidInput;
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
  }
  static single(file: string, message: string, hint?: string): InputError {
    return new InputError([{ pos: { file }, path: '', message, ...(hint ? { hint } : {}) }]);
  }
}

/** A result set cannot be read or written (locked, corrupt, not found). */
export class StoreError extends Error {
  readonly exitCode = ExitCode.store;
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** What an errno says about the machine, and what the user can do about it. */
const ENVIRONMENT_CAUSES: Record<string, { what: string; fix: string }> = {
  EROFS: { what: 'read-only file system', fix: 'remount it read-write, or use another --results directory' },
  ENOSPC: { what: 'no space left on device', fix: 'free space on that file system (df -h shows it) and run again: recorded points are kept' },
  EDQUOT: { what: 'disk quota exceeded', fix: 'free space within your quota and run again: recorded points are kept' },
  EACCES: { what: 'permission denied', fix: 'check its owner and permissions, or use another directory' },
  EPERM: { what: 'operation not permitted', fix: 'check its owner, permissions and attributes (lsattr), or use another directory' },
  ENOENT: { what: 'no such file or directory', fix: 'check the path (a directory of it may have been moved or deleted meanwhile)' },
  ENOTDIR: { what: 'a part of the path is a file, not a directory', fix: 'check the path' },
  EISDIR: { what: 'is a directory, not a file', fix: 'give a file path' },
  EIO: { what: 'input/output error from the device', fix: 'check the disk (dmesg), then run again: recorded points are kept' },
  EMFILE: { what: 'too many open files', fix: 'raise the limit (ulimit -n) and run again' },
  ENFILE: { what: 'too many open files on the system', fix: 'close other programs or raise fs.file-max, then run again' },
};

/** The errno codes that mean the machine (disk, mounts, permissions), not the input, stopped us. */
export const ENVIRONMENT_ERRNOS: ReadonlySet<string> = new Set(Object.keys(ENVIRONMENT_CAUSES));

/** The disk, a mount or permissions stopped a read or write: the message names the path, the errno and a fix. */
export class EnvironmentError extends Error {
  readonly exitCode = ExitCode.environment;
  constructor(
    /** What was being done, e.g. `cannot write`. */
    readonly action: string,
    /** The file or directory; '' when the system did not say. */
    readonly path: string,
    /** The errno of the real cause (EROFS, ENOSPC, ...). */
    readonly code: string,
  ) {
    const c = ENVIRONMENT_CAUSES[code];
    super(`${action}${path ? ` ${path}` : ''}: ${c?.what ?? 'system error'} (${code})${c ? `; ${c.fix}` : ''}`);
    this.name = 'EnvironmentError';
  }
}

/** An error the code did not expect (a bug): the CLI prints one line, and the stack only when asked. */
export function internalErrorLine(e: unknown): string {
  const first = errorMessage(e).split('\n')[0]!.trim() || (e instanceof Error ? e.name : 'unknown error');
  return `error: ${first} (internal error; run with STREAMBENCH_DEBUG=1 for the stack)`;
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
