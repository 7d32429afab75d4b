/** `streambench report RESULT-SET [--out FILE]`: one self-contained HTML file with the set's main plots. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../../base/errors.ts';
import { onDisk, writeFileAtomic } from '../../base/fs-atomic.ts';
import { buildReport } from '../../server/report.ts';
import type { ReportData } from '../../server/api-types.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';
import { openSet } from './results.ts';

export const reportSpec = {
  name: 'report',
  summary: 'Write one self-contained HTML report of a result set, or of several side by side: its main plots, readable with no server and no network.',
  usage: 'streambench report RESULT-SET... [--out FILE | --json] [--root DIR]',
  help: [
    'RESULT-SET is a result set directory, or the name of one below --root.',
    '',
    'Several sets (e.g. the desktop stacks of examples/desktops/ run on the same scene and network) are',
    'compared: `set` becomes a parameter of every plot, and a table at the top lines them up on the',
    'headline metrics they all have, one row per set at each setting of the parameters every set varies',
    "(the network, say), each set's own parameters (its codec, ...) aggregated: mean over the points and",
    'their range. Set names must differ.',
    '',
    'The report leads with its findings: for each headline metric and each parameter that varies, the',
    'effect (numeric parameter: the mean at its highest tested value minus at its lowest; categorical:',
    'the largest mean minus the smallest; each mean over the points at that value of the point means),',
    'its percentage, a 95 % interval, and, when some point has repetitions, the p of a type-II F test',
    '(a main-effects linear model of the runs, every varying parameter a categorical factor),',
    'Holm-adjusted over all parameters x headline metrics; significant when p < 0.05 after Holm.',
    'Without repetitions nothing is tested or claimed (p and interval null). Parameters that vary',
    'together (a link: group, one value of each always with the same of the others) are one factor,',
    "`network = net_rate = net_delay`. The sets' validity warnings (conditions, flagged runs) and",
    'the best and worst setting of each metric follow; plots of no significant effect are folded away.',
    '',
    'The report is one HTML file (script, styles and data inside it; it fetches nothing) with, from',
    "the set's catalogue: each headline metric of its workload against each parameter that varies",
    '(the other parameters aggregated by mean, each point first averaged over its repetitions, with',
    'the 95 % confidence interval over repetitions where one exists, on the log scale for a metric that',
    "cannot be negative; each plot's caption says which), the stage stack (each pipeline stage's median per",
    'point, from the frames), and parallel coordinates of every run that ended ok; above them the set,',
    'the benchmark, when and on which machines it ran, and how many runs are ok, failed or flagged.',
    "Failed and interrupted runs are counted, never plotted. The figures are the GUI's own",
    '(`streambench ui`, its matrix view): the same server code computes both.',
    '',
    '  --out FILE            where to write it (default: report.html inside the result set; for several,',
    '                        compare-A+B+....html beside the first)',
    "  --json                print the report's data as JSON instead (what the page draws: the header, the",
    '                        findings with their header (family size, Holm, repetitions, warnings, linked',
    "                        groups), and each plot as the GUI's /api/matrix answers it); writes nothing",
    '  --root DIR            where result sets are looked for by name (default: results)',
  ].join('\n'),
  options: { out: { type: 'string', short: 'o' }, json: { type: 'boolean' }, root: { type: 'string' } },
} satisfies CommandSpec;

/** The checkout's top: this file is src/cli/commands/ or dist/cli/commands/, three levels down. */
const TOP = fileURLToPath(new URL('../../../', import.meta.url));
const PAGE = join(TOP, 'dist', 'report', 'report.html');
/** What the page is built from: its HTML, its build config, its code and the chart module it shares with the GUI. */
const PAGE_SOURCES = ['web/report.html', 'web/vite.report.config.ts', 'web/src/report', 'web/src/chart.ts', 'package-lock.json'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

/**
 * The report page without its data (dist/report/report.html), built with Vite
 * (web/vite.report.config.ts) when missing or older than its sources: scripts/setup.sh leaves
 * dist/ to be rebuilt whenever the sources change. Built into a temporary directory and renamed
 * into place, so that two reports written at once never read a half-written page.
 */
function reportPage(out: NodeJS.WritableStream): string {
  const sourcesAt = Math.max(...PAGE_SOURCES.map((p) => newest(join(TOP, p))));
  const hasSources = existsSync(join(TOP, 'web', 'report.html'));
  if (existsSync(PAGE) && (!hasSources || statSync(PAGE).mtimeMs >= sourcesAt)) return readFileSync(PAGE, 'utf8');
  if (!hasSources) throw new Error(`the report page ${PAGE} is missing and web/report.html is not here to build it from: reinstall streambench`);
  const vite = join(TOP, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) throw new Error(`the report page is not built and Vite is not installed (${vite}): run scripts/setup.sh`);
  out.write(`building the report page ${PAGE} with Vite (once, and again when its sources change)\n`);
  onDisk('cannot create', join(TOP, 'dist', 'report'), () => mkdirSync(join(TOP, 'dist', 'report'), { recursive: true }));
  const tmp = onDisk('cannot create a directory in', join(TOP, 'dist'), () => mkdtempSync(join(TOP, 'dist', 'report.build-')));
  const started = new Date();
  try {
    const r = spawnSync(process.execPath, [vite, 'build', '--config', join(TOP, 'web', 'vite.report.config.ts'), '--outDir', tmp, '--emptyOutDir'], { cwd: TOP, encoding: 'utf8' });
    const built = join(tmp, 'report.html');
    if (r.status !== 0 || !existsSync(built)) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a spawn that failed (ENOENT) has null stdout and stderr, whatever the types say
      const output = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
      const why =
        output
          .split('\n')
          .find((l) => /error/i.test(l))
          ?.trim() ??
        r.error?.message ??
        `exit ${r.status}`;
      throw new Error(`building the report page with Vite failed: ${why}`);
    }
    // Dated when its sources were read: a source edited during the build leaves it stale.
    onDisk('cannot write', PAGE, () => {
      utimesSync(built, started, started);
      renameSync(built, PAGE);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return readFileSync(PAGE, 'utf8');
}

/** The page with the report's data in its data element; `<` escaped so that no text in the data can end the element. */
export function fillPage(page: string, data: ReportData): string {
  const open = '<script id="sb-report-data" type="application/json">';
  const at = page.indexOf(open);
  const end = at < 0 ? -1 : page.indexOf('</script>', at);
  if (at < 0 || end < 0) throw new Error(`the report page ${PAGE} has no data element: delete it and run again to rebuild it`);
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `${page.slice(0, at + open.length)}${json}${page.slice(end)}`;
}

/** Runs `streambench report ...`; returns the exit code. */
export async function reportCommand(argv: string[], out: NodeJS.WriteStream): Promise<number> {
  const a = parseCommand(reportSpec, argv);
  if (a.values.help) return (out.write(helpText(reportSpec)), 0);
  if (a.positionals.length === 0) throw InputError.single('streambench report', 'expected a result set', reportSpec.usage);
  if (a.values.json && a.values.out !== undefined) throw InputError.single('streambench report', '--json prints the data and writes no file: give --json or --out, not both');
  const sets = a.positionals.map((t) => openSet(t, a.values.root ?? 'results'));
  if (a.values.json) return (out.write(`${JSON.stringify(await buildReport(sets), null, 1)}\n`), 0);
  // One set: its report lives in it; several: beside the first, named after them all.
  const file = resolve(a.values.out ?? (sets.length === 1 ? join(sets[0]!.dir, 'report.html') : join(dirname(sets[0]!.dir), `compare-${sets.map((s) => s.name).join('+')}.html`)));
  if (existsSync(file) && statSync(file).isDirectory()) throw InputError.single('--out', `${file} is a directory: give a file name, e.g. ${join(file, 'report.html')}`);
  const page = reportPage(out);
  const data = await buildReport(sets);
  writeFileAtomic(file, fillPage(page, data));
  const ok = data.sets.reduce((n, s) => n + s.ok, 0);
  const notOk = data.sets.reduce((n, s) => n + s.failed + s.interrupted, 0);
  const compared = data.comparison ? `${data.sets.length} sets side by side on ${data.comparison.metrics.length} metric(s), ` : '';
  out.write(`wrote ${file}: ${compared}${data.plots.length} plot(s)${data.stack ? ', the stage stack' : ''}, parallel coordinates of ${ok} ok run(s)${notOk > 0 ? ` (${notOk} failed or interrupted, not plotted)` : ''}\n`);
  out.write(`open it in a browser: ${pathToFileURL(file).href}\n`);
  return 0;
}
