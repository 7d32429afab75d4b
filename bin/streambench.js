#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by scripts/setup.sh) when it is at least as new as every
// source file; otherwise the TypeScript sources through tsx's loader. Long-running processes
// (agents, stream roles) should not carry tsx: it costs about 1 % of a core even when idle.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

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
if (process.env.STREAMBENCH_FROM_SOURCE !== '1' && builtAt() >= newestSource(new URL('src', root).pathname)) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
// `streambench results export ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
process.exitCode = await main(process.argv.slice(2));
