/** The streambench command line: the only place that prints for humans. */
import { EnvironmentError, ExitCode, InputError, internalErrorLine, StoreError } from '../base/errors.ts';
import { environmentError } from '../base/fs-atomic.ts';
import { suggestHint } from '../base/suggest.ts';
type CommandFn = (argv: string[], out: NodeJS.WriteStream) => Promise<number>;

// Each command's module is loaded only when it runs: an agent or a stream role must not load
// DuckDB and FFmpeg's libraries it never uses (memory, start-up time, and what they cost).
// Config knows no workload of its own: the workload registry (src/workloads/index.ts) hands it
// theirs when loaded. Every command that reads benchmark files or result sets loads it first; an
// agent, a stream role and a desktop role do not need it (and it would load DuckDB into them).
const WITHOUT_WORKLOADS = new Set(['agent', 'stream', 'desktop']);

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandFn> }> = {
  run: { summary: 'Run a benchmark: every point of its matrix, one by one, into a result set. Running it again resumes.', load: async () => (await import('./commands/run.ts')).runCommand },
  validate: { summary: 'Check a benchmark file (YAML or TypeScript) and show what it would run. Writes nothing.', load: async () => (await import('./commands/validate.ts')).validateCommand },
  results: { summary: 'Read result sets: list them, show one, export it, or query it with SQL (DuckDB).', load: async () => (await import('./commands/results.ts')).resultsCommand },
  schema: { summary: 'Print the JSON Schema of benchmark files (the same as schema/benchmark.schema.json), or of point records.', load: async () => (await import('./commands/schema.ts')).schemaCommand },
  stream: { summary: 'Run one role of the built-in streaming pipeline (guest, host relay, or client) by hand.', load: async () => (await import('./commands/stream.ts')).streamCommand },
  desktop: { summary: "Run one role of a desktop point (the guest's server and content, or the client's viewer and screen reader).", load: async () => (await import('./commands/desktop.ts')).desktopCommand },
  model: { summary: 'Models of a metric over a result set: fitted formula, impact of each parameter, predictions, recommended settings.', load: async () => (await import('./commands/model.ts')).modelCommand },
  compare: { summary: 'Compare two result sets run by run: real changes with intervals and a corrected test; --fail-on gates CI.', load: async () => (await import('./commands/compare.ts')).compareCommand },
  ui: { summary: 'Serve the GUI over result sets: plot any indicator against any parameter, compare sets, open runs.', load: async () => (await import('./commands/ui.ts')).uiCommand },
  report: { summary: 'Write one self-contained HTML report of a result set, or of several side by side: its main plots, readable with no server and no network.', load: async () => (await import('./commands/report.ts')).reportCommand },
  agent: { summary: 'Run a recording agent: samples this machine for the engine, serves /metrics, runs hooks when allowed.', load: async () => (await import('./commands/agent.ts')).agentCommand },
  node: { summary: "Run a point on the nodes of a Slurm job (the Slurm executor's job step; not for use by hand).", load: async () => (await import('./commands/node.ts')).nodeCommand },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `streambench: benchmark real-time video streaming and any program, over a matrix of parameters.\n\nUsage: streambench COMMAND [options]   (streambench COMMAND --help for details)\n\nCommands:\n${lines.join('\n')}\n`;
}

/** Runs the CLI with argv (without node and script); returns the exit code. */
export async function main(argv: string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out.write(usage());
    return name ? 0 : ExitCode.invalidInput;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!cmd) throw InputError.single('streambench', `unknown command '${name}'`, suggestHint(name, Object.keys(COMMANDS)));
    if (!WITHOUT_WORKLOADS.has(name)) await import('../workloads/index.ts');
    return await (
      await cmd.load()
    )(rest, out);
  } catch (e) {
    return reportError(e, err);
  }
}

/**
 * Prints what went wrong for a human and returns the exit code: the message of an expected error
 * (input, result set, disk), or one line for anything else. The stack only with STREAMBENCH_DEBUG=1.
 */
export function reportError(e: unknown, err: NodeJS.WritableStream = process.stderr): number {
  const debug = process.env['STREAMBENCH_DEBUG'] === '1' && e instanceof Error && e.stack ? `${e.stack}\n` : '';
  if (e instanceof InputError) {
    err.write(`error: ${e.problems.length > 1 ? `${e.problems.length} problems\n` : ''}${e.message}\n${debug}`);
    return e.exitCode;
  }
  // An fs error that escaped without a name (a write deep in a workload or a hook log) is still the disk's.
  const known = e instanceof StoreError || e instanceof EnvironmentError ? e : environmentError(e);
  if (known) {
    err.write(`error: ${known.message}\n${debug}`);
    return known.exitCode;
  }
  err.write(`${internalErrorLine(e)}\n${debug}`);
  return ExitCode.internal;
}
