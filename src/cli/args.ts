/** Argument parsing shared by the commands (node's util.parseArgs), with usage errors as InputError. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage, InputError } from '../base/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options = Options> {
  name: string;
  summary: string;
  usage: string;
  /** Option lines shown by --help. */
  help: string;
  options: O;
}

/** Parses argv for a command; unknown options become a clear usage error. */
export function parseCommand<O extends Options>(spec: CommandSpec<O>, argv: string[]) {
  try {
    const options = { ...spec.options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } };
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw InputError.single(`streambench ${spec.name}`, errorMessage(e).split('\n')[0]!, `see: streambench ${spec.name} --help`);
  }
}

/** The value of an option that takes a positive whole number (`--max-runs 500000`), or `dflt` when absent. */
export function positiveIntOption(spec: CommandSpec, name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw InputError.single(`streambench ${spec.name} --${name}`, `'${value.slice(0, 40)}' is not a positive whole number`, `e.g. --${name} 500000`);
  return n;
}

export function helpText(spec: CommandSpec): string {
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\n${spec.help}\n  -h, --help            show this help\n`;
}
