/** `streambench run FILE`: runs (or resumes) a benchmark into a result set. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../../base/duration.ts';
import { ExitCode, InputError } from '../../base/errors.ts';
import { DEFAULT_MAX_RUNS } from '../../config/limits.ts';
import { loadBenchmark, parseAssignment, parseFilters } from '../../config/load.ts';
import { runBenchmark } from '../../engine/engine.ts';
import { AgentsExecutor, agentsProblem } from '../../engine/agents-executor.ts';
import type { RemoteExecutor } from '../../engine/executor.ts';
import { SlurmExecutor } from '../../engine/slurm.ts';
import type { ResolvedBenchmark } from '../../config/resolved.ts';
import { placement } from '../../config/registry.ts';
import { MAX_PARALLEL } from '../../config/limits.ts';
import { makePlan } from '../../engine/plan.ts';
import type { PointRecord } from '../../store/records.ts';
import { ResultSet } from '../../store/resultset.ts';
import { helpText, parseCommand, positiveIntOption, type CommandSpec } from '../args.ts';
import { Progress } from '../progress.ts';
import { startLiveUi, uiPort } from './run-ui.ts';
import { CONDITION_CODES, CONDITION_DOCS } from '../../config/conditions.ts';
import { DEFAULT_METRIC_COLUMNS, flagLines, summaryTable } from '../summary.ts';
import { metricMatcher, renderTable } from '../table.ts';

/** Wraps a help line at `width`, continuation lines indented by `indent`. */
function wrapHanging(text: string, width: number, indent: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/(?<=\S) (?=\S)/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = ' '.repeat(indent) + word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

export const runSpec = {
  name: 'run',
  summary: 'Run a benchmark: every point of its matrix, one by one, into a result set. Running it again resumes.',
  usage: 'streambench run FILE [--dry-run] [--set key=value]... [--filter key=value]... [--results DIR] [--force] [--max-runs N] [--metrics PATTERN]... [--ui [--port N]] [--executor local|slurm|agents] [--parallel N] [--partition P] [--slurm-opt ARG]...',
  help: [
    '  --dry-run             list the points, which are already recorded, and the estimated time; run nothing',
    '  --set key=value       override a top-level field (duration=2s, repeat=3) or fix a parameter (codec=h264)',
    '  --filter key=value    run only points whose parameter has this value (a,b for any of several)',
    '  --results DIR         result set directory (default: results/<benchmark name>)',
    '  --force               run points again even when already recorded',
    `  --max-runs N          allow a plan of up to N runs (points x repeat; default ${DEFAULT_MAX_RUNS})`,
    "  --metrics PATTERN     the final table's metric columns: those whose name matches, a glob ('client.*',",
    "                        '*.cpu_pct'; commas for several) or a /regular expression/; repeatable",
    '  --ui                  serve the GUI while it runs (prints its address): the live view shows the plan, the',
    '                        point in progress and its series as they arrive; on a terminal it keeps serving',
    '                        after the run until Ctrl-C',
    "  --port N              --ui: the GUI's port on 127.0.0.1 (default 8080; 0: any free one)",
    '  --executor local|slurm|agents  where points run: here, one at a time (default), each as a Slurm job,',
    '                         or each role through its agent in recording.agents (one point at a time)',
    '                        (a heterogeneous job with a node per role for stream; one node for command)',
    '  --parallel N          slurm: at most N points at once (default 1); never two points on one node',
    '  --partition P         slurm: the partition of the jobs',
    "  --slurm-opt ARG       slurm: one more sbatch option for every job component ('--account=lab'); repeatable",
    "  (the file's `executor:` gives the same; these options win over it)",
    '',
    'The final table has a row per point. Without --metrics it shows the metric columns that fit the',
    `terminal (${DEFAULT_METRIC_COLUMNS} when the output is no terminal), the workload's main ones first, and says how many`,
    "it hides; numbers get the fewest significant digits (3 to 7) that keep a column's values apart,",
    'and a line says so when it rounds. Flags the points got (a probe that failed, a process selector',
    'that matched nothing, ...) are listed under it.',
    '',
    'Every point checks its own conditions and records them in point.json (`conditions`): a flag',
    'says a figure may not measure what it claims, with the figure and the threshold:',
    ...CONDITION_CODES.flatMap((c) => wrapHanging(`  ${c.padEnd(23)}${CONDITION_DOCS[c].severity === 'note' ? '(a note) ' : ''}${CONDITION_DOCS[c].when}`, 100, 25)),
    'Before anything starts the machine is sampled for 0.2 s: a warning says when it is',
    'already busy. Roles on other machines (--executor agents, slurm) have their stamps mapped onto',
    "one clock through their agents' measured offsets (clock.uncertainty_ms; docs/recording.md: One",
    'clock for every role).',
    '',
    'The file is checked as `streambench validate` checks it before anything is written; its limits',
    'are listed by `streambench validate --help`. --dry-run lists the first 50 runs and counts the rest.',
    '',
    'With --executor slurm the result set must be on a file system the nodes share (checked at start);',
    "per-parameter hooks run in each point's job, before and after it; see docs/executors.md.",
    '',
    'The run locks the set (SET/.lock). A lock of a run of this host that is gone (kill -9) is taken over;',
    'a live one, or one of another host (which cannot be checked from here), is refused (exit 4) naming its',
    'host and pid: `streambench results unlock SET` breaks a lock whose run is known to have ended.',
    '',
    'Exit codes: 0 all points ok, 1 some points failed, 2 invalid input, 3 stopped on a failure',
    '(on_error: stop, or a failed setup), 4 result set unusable or in use, 5 disk full, read-only or',
    'not permitted, or the Slurm cluster or the agents unusable (recorded points are kept),',
    '70 internal error, 130 interrupted.',
  ].join('\n'),
  options: {
    'dry-run': { type: 'boolean' },
    set: { type: 'string', multiple: true },
    filter: { type: 'string', multiple: true },
    results: { type: 'string' },
    force: { type: 'boolean' },
    'max-runs': { type: 'string' },
    metrics: { type: 'string', multiple: true },
    ui: { type: 'boolean' },
    port: { type: 'string' },
    executor: { type: 'string' },
    parallel: { type: 'string' },
    partition: { type: 'string' },
    'slurm-opt': { type: 'string', multiple: true },
  },
} satisfies CommandSpec;

/** Runs --dry-run lists; the rest are counted (a 100000-run plan is no table to read). */
const DRY_RUN_ROWS = 50;

export async function runCommand(argv: string[], out: NodeJS.WriteStream): Promise<number> {
  const a = parseCommand(runSpec, argv);
  if (a.values.help) return (out.write(helpText(runSpec)), 0);
  const file = a.positionals[0];
  if (!file || a.positionals.length > 1) throw InputError.single('streambench run', 'expected exactly one benchmark file', runSpec.usage);
  const maxRuns = positiveIntOption(runSpec, 'max-runs', a.values['max-runs'], DEFAULT_MAX_RUNS);
  const port = uiPort(a.values.ui, a.values.port);
  // A pattern that is no regular expression is said now, not after an hour of running.
  const metrics = a.values.metrics ?? [];
  metricMatcher(metrics);
  // Every check, the plan's size and the filters included, happens here, before anything is written.
  const b = await loadBenchmark(
    file,
    (a.values.set ?? []).map((s) => parseAssignment(s, '--set')),
    { maxRuns, filters: a.values.filter ?? [] },
  );
  const filter = parseFilters(b, a.values.filter ?? []);
  const dir = a.values.results ?? join('results', b.name);
  const params = b.axes.map((x) => x.name);

  if (a.values['dry-run']) {
    const set = existsSync(join(dir, 'streambench-set.json')) ? ResultSet.open(dir) : undefined;
    const plan = makePlan(b, set, { filter, force: Boolean(a.values.force) });
    const rows = plan.runs.slice(0, DRY_RUN_ROWS).map((r, i) => [i + 1, ...params.map((p) => r.params[p]), r.rep, r.key, plan.recorded[i] ? 'recorded' : 'to run']);
    out.write(renderTable(['#', ...params, 'rep', 'key', 'state'], rows) + '\n');
    if (plan.runs.length > DRY_RUN_ROWS) out.write(`... and ${plan.runs.length - DRY_RUN_ROWS} more run(s) (--filter key=value narrows the list)\n`);
    const toRun = plan.recorded.filter((r) => r === undefined).length;
    const est = plan.perPointS !== undefined ? `about ${formatDuration(plan.perPointS * toRun)}` : 'unknown (no duration set and nothing recorded yet)';
    out.write(`\n${plan.runs.length} run(s): ${plan.runs.length - toRun} already recorded, ${toRun} to run. Estimated time: ${est}. Results: ${dir}\n`);
    return 0;
  }

  const executor = makeExecutor(b, a.values);
  const set = ResultSet.openOrCreate(dir, b.name);
  const ui = port !== undefined ? await startLiveUi(b, set, { filter, force: Boolean(a.values.force), port }, out) : undefined;
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      out.write(`\n${sig} again: exiting now; the point in progress is not recorded.\n`);
      process.exit(ExitCode.interrupted);
    }
    out.write(`\n${sig}: stopping the current point and cleaning up (press Ctrl-C again to exit at once)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- isTTY is undefined, not false, on a pipe or a file
    const progress = new Progress(out, Boolean(out.isTTY), []);
    const summary = await runBenchmark(b, {
      results: set,
      filter,
      force: Boolean(a.values.force),
      signal: abort.signal,
      onEvent: ui
        ? (e) => {
            progress.handle(e);
            ui.feed.handle(e);
          }
        : progress.handle,
      ...(ui ? { onSample: ui.feed.sample } : {}),
      ...(executor ? { executor } : {}),
    });
    const plan = makePlan(b, set, { filter });
    const records = plan.runs.map((r) => set.read(r.key, r.rep)).filter((r): r is PointRecord => r !== undefined);
    if (records.length > 0) {
      const table = summaryTable(records, params, { metrics, noMatch: 'note', ...(out.isTTY && out.columns ? { width: out.columns } : {}) });
      const flags = flagLines(records);
      out.write(['', table, ...(flags.length > 0 ? ['', ...flags] : [])].join('\n') + '\n');
    }
    out.write(
      `\n${summary.ok} ok, ${summary.failed} failed, ${summary.skipped} already recorded, in ${formatDuration(summary.seconds)}.` +
        `${summary.stoppedBy ? `\nStopped: ${summary.stoppedBy}` : ''}${summary.interrupted ? '\nInterrupted: run the same command again to resume.' : ''}\n` +
        `Results: ${dir}  (streambench results show ${dir}; streambench results export ${dir} --format csv)\n`,
    );
    if (summary.interrupted) return ExitCode.interrupted;
    if (summary.stoppedBy) return ExitCode.pointFailedStop;
    return summary.failed > 0 ? ExitCode.pointsFailed : ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ui?.finish(out);
  }
}

/** The executor the command line and the file ask for (the command line wins); undefined: local. */
function makeExecutor(b: ResolvedBenchmark, v: { executor?: string | undefined; parallel?: string | undefined; partition?: string | undefined; 'slurm-opt'?: string[] | undefined }): RemoteExecutor | undefined {
  const kind = v.executor ?? b.executor?.type ?? 'local';
  if (kind !== 'local' && kind !== 'slurm' && kind !== 'agents') throw InputError.single('streambench run --executor', `'${kind}' is no executor`, 'local, slurm or agents');
  const parallel = positiveIntOption(runSpec, 'parallel', v.parallel, b.executor?.parallel ?? 1);
  if (parallel > MAX_PARALLEL) throw InputError.single('streambench run --parallel', `${parallel} is more than ${MAX_PARALLEL} points at once`);
  const options = [...(b.executor?.slurmOptions ?? []), ...(v['slurm-opt'] ?? [])];
  for (const o of options) if (!o.startsWith('-')) throw InputError.single('streambench run --slurm-opt', `'${o}' is no sbatch option (they start with -)`, 'e.g. --slurm-opt=--account=lab');
  const partition = v.partition ?? b.executor?.partition;
  if (kind === 'local' || kind === 'agents') {
    const slurmOnly = v.parallel !== undefined ? '--parallel' : v.partition !== undefined ? '--partition' : v['slurm-opt'] ? '--slurm-opt' : undefined;
    if (slurmOnly) throw InputError.single(`streambench run ${slurmOnly}`, `${slurmOnly} needs --executor slurm: the ${kind} executor runs one point at a time`);
    if (kind === 'local') return undefined;
    const problem = agentsProblem(b);
    if (problem) throw InputError.single(b.source.file, problem);
    return new AgentsExecutor(b);
  }
  const p = placement(b.workload.type, 'slurm');
  if ('refused' in p) throw InputError.single(b.source.file, p.refused, p.hint);
  if (p.needsRecording !== undefined && !b.recording) throw InputError.single(b.source.file, p.needsRecording, 'remove `recording: false`');
  return new SlurmExecutor(b, { parallel, ...(partition !== undefined ? { partition } : {}), options });
}
