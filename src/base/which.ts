/** Finding a program as the shell's PATH lookup would, without a shell. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The full path of `cmd` as PATH would resolve it (or `cmd` itself when it holds a '/'), or undefined when there is no such executable. */
export function which(cmd: string, path = process.env['PATH'] ?? ''): string | undefined {
  const candidates = cmd.includes('/')
    ? [cmd]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here (or not executable): try the next PATH entry
    }
  }
  return undefined;
}
