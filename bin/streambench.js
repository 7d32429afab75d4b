#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader: the same loader that reads benchmark modules.
import { register } from 'tsx/esm/api';

register();
// `streambench results export ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
