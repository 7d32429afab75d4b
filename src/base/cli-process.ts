/**
 * The one way code under src/ starts the streambench CLI as a subprocess. A subprocess is an
 * import that no import statement shows: a record agent that started `streambench run` would
 * pull the engine under the recorder. So test/layers.test.ts knows this module: no other file
 * may name the CLI's entry, and a caller may start only the subcommands that this table puts in
 * its own layer or a lower one.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Two levels up from src/base/ and from dist/base/ alike. */
const CLI = fileURLToPath(new URL('../../bin/streambench.js', import.meta.url));

/**
 * The layer (folder under src/) of the code each subcommand that src/ starts runs. The layering
 * test checks each entry against what src/cli/commands/<subcommand>.ts imports, and each
 * caller's layer against it.
 */
export const CLI_SUBCOMMAND_LAYERS = {
  agent: 'record',
  stream: 'stream',
  desktop: 'workloads',
  node: 'engine',
} as const;

/** A subcommand that code under src/ may start. */
export type CliSubcommand = keyof typeof CLI_SUBCOMMAND_LAYERS;

/** The argv (this Node, the CLI entry, the subcommand, `args`) of `streambench <subcommand> ...args`, for a caller that spawns through a helper of its own. */
export function cliArgv(subcommand: CliSubcommand, args: readonly string[]): string[] {
  return [process.execPath, CLI, subcommand, ...args];
}

/** Starts `streambench <subcommand> ...args` with this Node, without a shell. */
export function spawnCli(subcommand: CliSubcommand, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const [node, ...argv] = cliArgv(subcommand, args);
  return spawn(node!, argv, opts);
}
