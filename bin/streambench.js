#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by scripts/setup.sh) when it is at least as new as every
// source file; otherwise the TypeScript sources through tsx's loader. Long-running processes
// (agents, stream roles) should not carry tsx: it costs about 1 % of a core even when idle.
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const root = new URL('..', import.meta.url);

// The last resort: an error nothing caught (a failed import, an event handler of a long-running
// agent or stream role) prints one line and exits 70, never a stack trace; STREAMBENCH_DEBUG=1
// adds the stack. Once the CLI is loaded, its reporter takes over, so the disk's errors still get exit 5.
// Before the CLI is loaded, the disk's errors are those of loading it (tsx's cache in TMPDIR).
const ENVIRONMENT = new Set(['EROFS', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EIO', 'EMFILE', 'ENFILE']);

// mkdir -p below a read-only or unwritable directory says ENOENT: the nearest existing ancestor tells why.
function realCause(path) {
  for (let p = dirname(path); ; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) return 'ENOTDIR';
      accessSync(p, constants.W_OK);
      return undefined;
    } catch (e) {
      if (e.code !== 'ENOENT' || dirname(p) === p) return e.code;
    }
  }
}

let report = (e) => {
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim() || 'unknown error';
  if (e instanceof Error && ENVIRONMENT.has(e.code)) {
    const code = (e.code === 'ENOENT' && e.path && e.syscall !== 'open' ? realCause(e.path) : undefined) ?? e.code;
    const what = e.path ? `cannot ${e.syscall ?? 'use'} ${e.path}` : first;
    process.stderr.write(`error: ${what} (${code}); streambench could not start: check that TMPDIR (${process.env.TMPDIR ?? '/tmp'}) is writable and has space\n`);
  } else {
    process.stderr.write(`error: ${first} (internal error; run with STREAMBENCH_DEBUG=1 for the stack)\n`);
  }
  if (process.env.STREAMBENCH_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return e instanceof Error && ENVIRONMENT.has(e.code) ? 5 : 70;
};
let ending = false;
const lastResort = (e) => {
  // An error while reporting one must not loop back here.
  if (ending) process.exit(70);
  ending = true;
  process.exit(report(e));
};
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(new URL('dist/.build-stamp', root)).mtimeMs;
  } catch {
    return -1;
  }
}

let main;
let reportError;
if (process.env.STREAMBENCH_FROM_SOURCE !== '1' && builtAt() >= newestSource(new URL('src', root).pathname)) {
  ({ main, reportError } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main, reportError } = await import('../src/cli/main.ts'));
}
// A dist/ built before the reporter existed has none: keep the plain one then.
if (typeof reportError === 'function') report = (e) => reportError(e, process.stderr);
// `streambench results export ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  lastResort(e);
}
