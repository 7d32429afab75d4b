/** Typed errors that carry what the user needs to act on, and the exit code the CLI maps them to. */

/** Exit codes of the CLI, one per kind of failure (documented in README.md). */
export const ExitCode = {
  ok: 0,
  pointsFailed: 1,
  invalidInput: 2,
  pointFailedStop: 3,
  store: 4,
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

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
