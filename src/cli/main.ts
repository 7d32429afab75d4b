/** The streambench command line: the only place that prints for humans. */
import { ExitCode, InputError, StoreError } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { resultsCommand, resultsSpec } from './commands/results.ts';
import { runCommand, runSpec } from './commands/run.ts';
import { schemaCommand, schemaSpec } from './commands/schema.ts';
import { streamCommand, streamSpec } from './commands/stream.ts';
import { validateCommand, validateSpec } from './commands/validate.ts';

const COMMANDS = {
  run: { spec: runSpec, fn: runCommand },
  validate: { spec: validateSpec, fn: validateCommand },
  results: { spec: resultsSpec, fn: resultsCommand },
  schema: { spec: schemaSpec, fn: schemaCommand },
  stream: { spec: streamSpec, fn: streamCommand },
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`);
  return `streambench: benchmark real-time video streaming and any program, over a matrix of parameters.\n\nUsage: streambench COMMAND [options]   (streambench COMMAND --help for details)\n\nCommands:\n${lines.join('\n')}\n`;
}

/** Runs the CLI with argv (without node and script); returns the exit code. */
export async function main(argv: string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out.write(usage());
    return name ? 0 : ExitCode.invalidInput;
  }
  const cmd = COMMANDS[name as keyof typeof COMMANDS];
  try {
    if (!cmd) throw InputError.single('streambench', `unknown command '${name}'`, suggestHint(name, Object.keys(COMMANDS)));
    return await cmd.fn(rest, out);
  } catch (e) {
    if (e instanceof InputError) {
      err.write(`error: ${e.problems.length > 1 ? `${e.problems.length} problems\n` : ''}${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof StoreError) {
      err.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
