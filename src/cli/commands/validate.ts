/** `streambench validate FILE`: checks a benchmark file and prints its matrix, writing nothing. */
import { InputError } from '../../base/errors.ts';
import { DEFAULT_MAX_RUNS, describeSeconds, MAX_DEPTH, MAX_FILE_BYTES, MAX_FILE_VALUES, MAX_RANGE_VALUES, MAX_RETRIES, MAX_SEED, MAX_TIME_S, MIN_INTERVAL_S, PROBLEMS_SHOWN } from '../../config/limits.ts';
import { loadBenchmark, parseAssignment } from '../../config/load.ts';
import { countRuns } from '../../config/matrix.ts';
import { describeNeeds, findNeeds } from '../../config/needs.ts';
import { workloadDecl } from '../../config/registry.ts';
import { show } from '../../config/show.ts';
import { MAX_STREAM_MS } from '../../config/stream-settings.ts';
import { helpText, parseCommand, positiveIntOption, type CommandSpec } from '../args.ts';

export const validateSpec = {
  name: 'validate',
  summary: 'Check a benchmark file (YAML or TypeScript) and show what it would run. Writes nothing.',
  usage: 'streambench validate FILE [--set key=value]... [--max-runs N]',
  help: [
    '  --set key=value       override a top-level field or fix a parameter (repeatable)',
    `  --max-runs N          allow a plan of up to N runs (points x repeat; default ${DEFAULT_MAX_RUNS})`,
    '',
    'Limits (docs/benchmark-file.md):',
    `  planned runs, counted after exclude/only/link and repeat: ${DEFAULT_MAX_RUNS} unless --max-runs`,
    `  duration, warmup, warmup + duration, timeouts: up to ${describeSeconds(MAX_TIME_S)}; duration and timeouts above 0`,
    `  sampling intervals (probes, sample_interval): at least ${MIN_INTERVAL_S * 1000}ms`,
    `  stream net_delay, net_jitter, net_queue, late_ms: up to ${MAX_STREAM_MS / 1000}s`,
    `  a range: up to ${MAX_RANGE_VALUES} values; retries: up to ${MAX_RETRIES}; shuffle seed: 0 to ${MAX_SEED}`,
    `  the file: up to ${MAX_FILE_BYTES / 1048576} MiB and ${MAX_FILE_VALUES} values (keys, scalars, lists, mappings),`,
    `    nested up to ${MAX_DEPTH} levels; numbers finite; a module's data holds no getters`,
    '  a stream source: an existing regular file with a YUV4MPEG2 header (a FIFO is refused, never opened)',
    '  argv: a program name that is not empty; env names: not empty, no = or NUL',
    '',
    `Every problem is counted; the first ${PROBLEMS_SHOWN} are printed, one line each (file:line:column,`,
    'what is wrong, and a hint line where there is one).',
    "What the workload's points need installed (its declaration's `needs`) is looked up on this",
    'machine and listed: found, or NOT FOUND with the Debian package. With the local executor a',
    'missing one is also a warning on stderr (its points would fail here); the exit code stays 0,',
    'since another machine may run them.',
    'Exit codes: 0 valid, 2 invalid input.',
  ].join('\n'),
  options: { set: { type: 'string', multiple: true }, 'max-runs': { type: 'string' } },
} satisfies CommandSpec;

/** Values listed per parameter; a 100000-value list is summarised, not printed. */
const VALUES_SHOWN = 10;

export async function validateCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(validateSpec, argv);
  if (a.values.help) return (out.write(helpText(validateSpec)), 0);
  const file = a.positionals[0];
  if (!file || a.positionals.length > 1) throw InputError.single('streambench validate', 'expected exactly one benchmark file', validateSpec.usage);
  const maxRuns = positiveIntOption(validateSpec, 'max-runs', a.values['max-runs'], DEFAULT_MAX_RUNS);
  const b = await loadBenchmark(
    file,
    (a.values.set ?? []).map((s) => parseAssignment(s, '--set')),
    { maxRuns },
  );
  // loadBenchmark refused a plan over maxRuns, so this count completes.
  const count = countRuns(b, [], maxRuns)!;
  out.write(`${file}: valid. Benchmark '${b.name}', workload ${b.workload.type}.\n`);
  for (const axis of b.axes) {
    const shown = axis.values.slice(0, VALUES_SHOWN).map((v) => show(v, 40, false));
    out.write(`  ${axis.name}: ${shown.join(', ')}${axis.values.length > VALUES_SHOWN ? `, ... (${axis.values.length} values)` : ''}\n`);
  }
  out.write(`  ${count.points} point(s) x ${b.repeat} repetition(s) = ${count.runs} run(s)\n`);
  const found = findNeeds(workloadDecl(b.workload.type)?.needs ?? []);
  if (found.length > 0) {
    out.write(`  needs on the machines of its roles (looked up on this one):\n`);
    for (const line of describeNeeds(found)) out.write(`    ${line}\n`);
  }
  const missing = found.filter((f) => f.at === undefined);
  if (missing.length > 0 && (b.executor?.type ?? 'local') === 'local') process.stderr.write(`warning: ${missing.map((m) => m.need.what).join('; ')}: not found on this machine, where the local executor would run the points (they would fail)\n`);
  return 0;
}
