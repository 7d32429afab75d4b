/**
 * Names the code that is running, for what is saved under its name (the points table cached
 * beside a set's index, src/store/database.ts): a content hash of the program's TypeScript
 * sources (every `.ts` file of src/ but tests, by path and content). Run through tsx, the sources
 * are hashed as they are; run from dist/, the build stamp is read (`dist/.build-stamp`, written
 * atomically by scripts/build-dist.mjs with the hash of the sources it compiled). dist/ itself
 * is never walked: other commands write into it (a report's page build in
 * `dist/report.build-XXXX`), and a file vanishing under the walk would stop an unrelated reader.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The build stamp's name inside dist/. */
export const BUILD_STAMP = '.build-stamp';

/** What the build stamp holds. */
export interface BuildStamp {
  /** sourcesHash of the sources the build compiled. */
  sources: string;
  /** When the build read them (the stamp's mtime is that time too, so that an edit during the build leaves dist/ stale). */
  builtAt: string;
}

const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The content hash (sha256, hex) of the sources under src: every `.ts` file but `*.test.ts`, in
 * name order, by its path relative to src and its bytes. Hidden entries (an editor's swap files)
 * are left out, and so is a file that vanishes while it is read.
 */
export function sourcesHash(src: string): string {
  const h = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (rel !== '' && missing(e)) return;
      throw e;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      const name = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path, name);
      else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(path);
        } catch (err) {
          if (missing(err)) continue;
          throw err;
        }
        h.update(`${name}\0${bytes.length}\0`);
        h.update(bytes);
      }
    }
  };
  walk(src, '');
  return h.digest('hex');
}

/** The stamp of a build of dist/, or undefined when there is none that says what it compiled (a build before stamps had a hash, a stamp being replaced). */
export function readBuildStamp(dist: string): BuildStamp | undefined {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(join(dist, BUILD_STAMP), 'utf8'));
  } catch {
    // Missing, unreadable or an empty stamp of an older build: no identity, never an error of the reader.
    return undefined;
  }
  const o = v as Partial<BuildStamp> | null;
  if (o === null || typeof o !== 'object' || typeof o.sources !== 'string' || !/^[0-9a-f]{64}$/.test(o.sources)) return undefined;
  return { sources: o.sources, builtAt: typeof o.builtAt === 'string' ? o.builtAt : '' };
}

/**
 * The identity of the code in `top` (src/ or dist/, the folder holding the running module's
 * folder): 12 hex digits of the sources' hash. `compiled`: the running module is dist/'s
 * JavaScript, so the build stamp says it. Undefined when dist/ has no usable stamp: nothing is
 * then saved or reused under an identity.
 */
export function codeIdentity(top: string, compiled: boolean): string | undefined {
  if (compiled) return readBuildStamp(top)?.sources.slice(0, 12);
  return sourcesHash(top).slice(0, 12);
}
