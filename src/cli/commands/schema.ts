/** `streambench schema`: prints the JSON Schema of benchmark files, for editors. */
import { jsonSchema } from '../../config/schema.ts';
import { workloadDecl, workloadTypes } from '../../config/registry.ts';
import { pointSchemaDocument } from '../../store/point-schema.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const schemaSpec = {
  name: 'schema',
  summary: 'Print the JSON Schema of benchmark files (the same as schema/benchmark.schema.json), or of point records.',
  usage: 'streambench schema [--point]',
  help: [
    'Without options: the schema of benchmark files, for editors (schema/benchmark.schema.json).',
    '',
    '  --point               the schema of a point record, points/<key>-r<rep>/point.json (schema/point.schema.json):',
    '                        outcome, metrics, flags, conditions (what the point checked about itself), timeline',
    "                        (its recorded window and the roles' clocks), executor",
  ].join('\n'),
  options: { point: { type: 'boolean' } },
} satisfies CommandSpec;

export function schemaText(): string {
  return JSON.stringify(jsonSchema(workloadTypes().map((t) => workloadDecl(t)!.schema)), null, 2) + '\n';
}

/** The JSON Schema of point.json, as `schema --point` prints it. */
export function pointSchemaText(): string {
  return JSON.stringify(pointSchemaDocument(), null, 2) + '\n';
}

export async function schemaCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(schemaSpec, argv);
  if (a.values.help) return (out.write(helpText(schemaSpec)), 0);
  out.write(a.values.point ? pointSchemaText() : schemaText());
  return 0;
}
