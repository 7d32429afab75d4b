/** `streambench schema`: prints the JSON Schema of benchmark files, for editors. */
import { jsonSchema } from '../../config/schema.ts';
import { WORKLOAD_TYPES } from '../../config/resolve.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const schemaSpec = {
  name: 'schema',
  summary: 'Print the JSON Schema of benchmark files (the same as schema/benchmark.schema.json).',
  usage: 'streambench schema',
  help: '',
  options: {},
} satisfies CommandSpec;

export function schemaText(): string {
  return JSON.stringify(jsonSchema(Object.values(WORKLOAD_TYPES)), null, 2) + '\n';
}

export async function schemaCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(schemaSpec, argv);
  if (a.values.help) return out.write(helpText(schemaSpec)), 0;
  out.write(schemaText());
  return 0;
}
