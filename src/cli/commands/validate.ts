/** `streambench validate FILE`: checks a benchmark file and prints its matrix, writing nothing. */
import { loadBenchmark, parseAssignment } from '../../bench/load.ts';
import { planRuns, expandPoints } from '../../bench/matrix.ts';
import { InputError } from '../../base/errors.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const validateSpec = {
  name: 'validate',
  summary: 'Check a benchmark file (YAML or TypeScript) and show what it would run. Writes nothing.',
  usage: 'streambench validate FILE [--set key=value]...',
  help: '  --set key=value       override a top-level field or fix a parameter (repeatable)',
  options: { set: { type: 'string', multiple: true } },
} satisfies CommandSpec;

export async function validateCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(validateSpec, argv);
  if (a.values.help) return out.write(helpText(validateSpec)), 0;
  const file = a.positionals[0];
  if (!file || a.positionals.length > 1) throw InputError.single('streambench validate', 'expected exactly one benchmark file', validateSpec.usage);
  const b = await loadBenchmark(file, (a.values.set ?? []).map((s) => parseAssignment(s, '--set')));
  const points = expandPoints(b.axes, b.links, b.exclude, b.only);
  const runs = planRuns(b);
  out.write(`${file}: valid. Benchmark '${b.name}', workload ${b.workload.type}.\n`);
  for (const axis of b.axes) out.write(`  ${axis.name}: ${axis.values.map(String).join(', ')}\n`);
  out.write(`  ${points.length} point(s) x ${b.repeat} repetition(s) = ${runs.length} run(s)\n`);
  return 0;
}
