#!/usr/bin/env node
// Builds the GUI (web/, Vite) into dist/web/ when web/ or the API's types changed since the last
// build (dist/web/.build-stamp). The build goes to a temporary directory that then replaces
// dist/web, so that a server or a test reading dist/web never sees half a build, and two builds
// started at once (several test runs) do not write into each other's files.
// Usage: node scripts/build-web.mjs [--force] [--quiet]
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const stamp = join(out, '.build-stamp');

/** The newest modification time of the build's inputs. */
function newestInput() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'web'));
  newest = Math.max(newest, statSync(join(root, 'src', 'server', 'api-types.ts')).mtimeMs);
  return newest;
}

/** Whether dist/web is older than its inputs (or missing). */
export function webStale() {
  return !existsSync(stamp) || !existsSync(join(out, 'index.html')) || newestInput() > statSync(stamp).mtimeMs;
}

/** Builds dist/web when stale (always with force); returns whether it built. */
export async function buildWeb({ force = false, quiet = false } = {}) {
  if (!force && !webStale()) return false;
  const started = Date.now();
  const { build } = await import('vite');
  const tmp = join(root, 'dist', `.web-${process.pid}-${Date.now()}`);
  mkdirSync(dirname(tmp), { recursive: true });
  try {
    await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn', build: { outDir: tmp, emptyOutDir: true } });
    // The stamp carries the time the inputs were read at: an edit made during the build makes it stale.
    writeFileSync(join(tmp, '.build-stamp'), `${new Date(started).toISOString()}\n`);
    // mtime = start of the build, so that inputs changed while it ran count as newer.
    utimesSync(join(tmp, '.build-stamp'), new Date(started), new Date(started));
    const old = `${out}.old-${process.pid}-${Date.now()}`;
    try {
      renameSync(out, old);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    try {
      renameSync(tmp, out);
    } catch (e) {
      // Another build put its dist/web in place between the two renames: as fresh as this one.
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!quiet) console.log(`build-web: dist/web built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb({ force: process.argv.includes('--force'), quiet: process.argv.includes('--quiet') });
}
