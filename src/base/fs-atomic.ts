/**
 * Atomic file writes (a temporary file beside the target, fsync, rename), and the file system's
 * failures turned into EnvironmentErrors that name the path and the real cause.
 */
import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ENVIRONMENT_ERRNOS, EnvironmentError, errorMessage } from './errors.ts';

/** strerror texts as DuckDB quotes them in its `IO Error: ... "path": <text>` messages. */
const STRERROR: Record<string, string> = {
  'No space left on device': 'ENOSPC',
  'Read-only file system': 'EROFS',
  'Disk quota exceeded': 'EDQUOT',
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'No such file or directory': 'ENOENT',
  'Not a directory': 'ENOTDIR',
  'Is a directory': 'EISDIR',
  'Input/output error': 'EIO',
  'Too many open files': 'EMFILE',
};

const READS = new Set(['read', 'scandir', 'stat', 'lstat', 'readlink', 'access', 'opendir']);

interface Errno {
  code: string;
  path?: string;
  syscall?: string;
}

/** The errno behind e, from Node's fs errors or from DuckDB's IO errors; undefined when e is no such error. */
function errnoOf(e: unknown): Errno | undefined {
  if (!(e instanceof Error)) return undefined;
  const n = e as NodeJS.ErrnoException;
  if (typeof n.code === 'string' && ENVIRONMENT_ERRNOS.has(n.code)) {
    return { code: n.code, ...(n.path ? { path: n.path } : {}), ...(n.syscall ? { syscall: n.syscall } : {}) };
  }
  // DuckDB (Parquet writes, COPY, read_parquet) reports the OS error as text only.
  const m = /IO Error: ([^"\n]*)"([^"\n]+)"[^:\n]*: ([^\n]+)/.exec(e.message);
  if (m) {
    const text = Object.keys(STRERROR).find((t) => m[3]!.includes(t));
    if (text) return { code: STRERROR[text]!, path: m[2]!, syscall: /read/i.test(m[1]!) ? 'read' : 'write' };
  }
  return undefined;
}

/**
 * Why a write below path really failed when the system said ENOENT: `mkdir -p` on a read-only or
 * unwritable parent reports ENOENT for the missing child, not the EROFS/EACCES that stopped it.
 * Returns the errno of the nearest existing ancestor's problem, or undefined when there is none.
 */
export function realCause(path: string): string | undefined {
  let p = resolve(path);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const parent = dirname(p);
      if (parent === p) return undefined;
      // A missing ancestor: keep walking up; anything else about it is itself the cause.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return code;
      p = parent;
      continue;
    }
    if (p === resolve(path)) return undefined;
    if (!isDir) return 'ENOTDIR';
    try {
      accessSync(p, constants.W_OK);
      return undefined;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  }
}

/**
 * The EnvironmentError that e stands for when the machine caused it (disk full, read-only,
 * permissions, missing path: as an fs errno or a DuckDB IO error), else undefined. `action` and
 * `path` name what the user was doing ("cannot write", the file); they default to the error's own.
 */
export function environmentError(e: unknown, action?: string, path?: string): EnvironmentError | undefined {
  if (e instanceof EnvironmentError) return e;
  const errno = errnoOf(e);
  if (!errno) return undefined;
  const reading = action !== undefined ? /read|list/.test(action) : READS.has(errno.syscall ?? '');
  let code = errno.code;
  if (code === 'ENOENT' && !reading) code = realCause(errno.path ?? path ?? '.') ?? code;
  return new EnvironmentError(action ?? (reading ? 'cannot read' : 'cannot write'), path ?? errno.path ?? '', code);
}

/** Errnos that say the disk itself is failing us, whatever the path: full, read-only, over quota, broken. */
const DISK_ERRNOS = new Set(['ENOSPC', 'EROFS', 'EDQUOT', 'EIO']);

/**
 * The EnvironmentError when e means the disk holding dir fails every write the same way (full,
 * read-only, or dir itself unwritable or gone), so a run must stop rather than fail each point;
 * undefined for a failure of the point's own (e.g. a workload's input file it may not read).
 */
export function storageFailure(e: unknown, dir: string): EnvironmentError | undefined {
  const env = environmentError(e);
  if (!env) return undefined;
  const root = resolve(dir);
  const inside = env.path !== '' && (resolve(env.path) === root || resolve(env.path).startsWith(root + sep));
  return DISK_ERRNOS.has(env.code) || inside ? env : undefined;
}

/** Runs a file operation on path; a failure of the machine becomes an EnvironmentError naming path. */
export function onDisk<T>(action: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw environmentError(e, action, path) ?? e;
  }
}

/** onDisk for asynchronous operations (DuckDB writes). */
export async function onDiskAsync<T>(action: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw environmentError(e, action, path) ?? e;
  }
}

/**
 * Removes what a failed write left (a partial temporary file). It runs only while the write's own
 * error is being thrown, and that error is the one to act on: a failure here (the same disk) is
 * reported with it rather than replacing it.
 */
export function removePartial(path: string, cause: unknown): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    if (cause instanceof Error) cause.message += ` (and ${path} could not be removed: ${errorMessage(e)})`;
  }
}

/** Writes text so a reader sees either the old file or the whole new one, even after kill -9. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  onDisk('cannot write', path, () => {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      const fd = openSync(tmp, 'w');
      try {
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (e) {
      // A partial file on a full disk holds the space the user has to free.
      removePartial(tmp, e);
      throw e;
    }
  });
}

/** writeFileAtomic of a value as indented JSON. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
