/**
 * Removing a secret from what other processes of the same user can read about this one without
 * reading its memory: /proc/PID/environ and /proc/PID/cmdline.
 *
 * Deleting a variable from process.env does not do it: /proc/PID/environ shows the bytes of the
 * process's initial environment block (on its stack, between the kernel's env_start and env_end),
 * which unsetenv(3) never changes. Nor does Node change the initial argv block, except through
 * process.title. So the bytes are overwritten where the kernel reads them: through /proc/self/mem
 * (which a process may always write for itself), at the addresses /proc/self/stat gives.
 *
 * What stays: the process's memory (the token in the V8 heap, its copies in libc's and Node's
 * own tables), which any process of the same user may read through /proc/PID/mem or ptrace
 * unless the kernel's Yama ptrace_scope forbids it. Only another user, or a sandbox, keeps a
 * secret from a same-user process.
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';

/** The fields of /proc/self/stat from `n` (1-based, as proc(5) numbers them). */
function statField(stat: string, n: number): number {
  // The command name (field 2) may hold spaces and parentheses: count from after its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[n - 3]);
}

/** Overwrites with NUL bytes every entry of the block [start, end) of this process's memory for which `match` holds; returns how many. */
function zeroEntries(start: number, end: number, match: (entry: string) => boolean): number {
  if (!(end > start) || end - start > 16 * 1024 * 1024) throw new Error(`no readable block at ${start}..${end}`);
  const fd = openSync('/proc/self/mem', 'r+');
  try {
    const buf = Buffer.alloc(end - start);
    readSync(fd, buf, 0, buf.length, start);
    let n = 0;
    let at = 0;
    while (at < buf.length) {
      let stop = buf.indexOf(0, at);
      if (stop < 0) stop = buf.length;
      if (stop > at && match(buf.toString('latin1', at, stop))) {
        const zeros = Buffer.alloc(stop - at);
        writeSync(fd, zeros, 0, zeros.length, start + at);
        n++;
      }
      at = stop + 1;
    }
    return n;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes `name` from this process's environment: from process.env (what its children inherit)
 * and from the initial environment block (what /proc/PID/environ shows). Returns undefined when
 * done (or there was nothing to do), else why the block could not be changed.
 */
export function scrubEnvironment(name: string): string | undefined {
  delete process.env[name];
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    zeroEntries(statField(stat, 50), statField(stat, 51), (e) => e.startsWith(`${name}=`));
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/**
 * Replaces the command line others see (/proc/PID/cmdline, ps) by `shown`, and every argument
 * equal to one of `secrets` (or ending in `=SECRET`) in process.argv by '***'. process.title
 * rewrites Node's initial argv block, zero-filled after the new title; the argv block is checked
 * afterwards, and the entries still holding a secret are zeroed. Returns undefined when no secret
 * is left in /proc/self/cmdline, else why.
 */
export function scrubArgv(secrets: readonly string[], shown: string): string | undefined {
  const hit = (a: string) => secrets.some((s) => s !== '' && (a === s || a.endsWith(`=${s}`) || a.includes(s)));
  for (let i = 0; i < process.argv.length; i++) if (hit(process.argv[i]!)) process.argv[i] = '***';
  process.title = shown;
  try {
    if (!hit(readFileSync('/proc/self/cmdline', 'latin1'))) return undefined;
    const stat = readFileSync('/proc/self/stat', 'utf8');
    zeroEntries(statField(stat, 48), statField(stat, 49), hit);
    return hit(readFileSync('/proc/self/cmdline', 'latin1')) ? 'the command line still holds it' : undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}
