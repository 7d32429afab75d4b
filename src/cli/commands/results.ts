/** `streambench results list|show|export|query|catalog|unlock`: reading result sets (and breaking a dead run's lock). */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorMessage, InputError, StoreError } from '../../base/errors.ts';
import { environmentError, onDisk } from '../../base/fs-atomic.ts';
import { suggestHint } from '../../base/suggest.ts';
import { openSetDatabase, viewsUsedBy } from '../../store/database.ts';
import { setCatalog, type Catalog } from '../../store/catalog.ts';
import { EXPORTERS } from '../../store/export.ts';
import { listResultSets, ResultSet } from '../../store/resultset.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';
import { flagLines, summaryTable } from '../summary.ts';
import { metricMatcher, renderTable } from '../table.ts';

export const resultsSpec = {
  name: 'results',
  summary: 'Read result sets: list them, show one, export it, or query it with SQL (DuckDB).',
  usage: [
    'streambench results list [--root DIR]',
    '       streambench results show SET [--metrics PATTERN]...',
    '       streambench results export SET --format csv|json|parquet [-o FILE]',
    '       streambench results query SET "SQL"',
    '       streambench results catalog SET [--json]',
    '       streambench results unlock SET',
  ].join('\n'),
  help: [
    'SET is a result set directory, or the name of one below --root.',
    '',
    'What SQL sees (DuckDB; each view has set, point_key and rep, to join with points):',
    '  points      table, one row per point and repetition: set, point_key, rep, status, error,',
    '              started_at, wall_s, one column per parameter, one per metric',
    '  timeseries  what the workload sampled itself: t (s since the point started) and its columns',
    '              (command: nprocs, rss_mb, cpu_user_s, cpu_system_s of its process tree;',
    "              stream: queue_bytes, queue_packets of the relay's queue)",
    '  samples     what the recording agents sampled: t (s), role, probe, name, value; probe is cpu, mem,',
    '              net, proc, cpufreq, gpu.nvidia, gpu.intel, gpu.amd or custom.<name> (a custom probe)',
    '  events      per-frame events the pipeline roles sent their agents: t (s), role, frame, stage, value',
    '  frames      the stream workload: one row per frame, its size, the time of each stage, latency_ms,',
    '              psnr, ssim, lost, dropped, shown, warmup, late',
    '',
    "A parameter's column holds its typed value in base units (bitrate in bits/s, durations in ms), so",
    '`order by bitrate` sorts by value; `<param>.label` holds the text written where it differs (2M), and',
    'a frame size keeps its label in `resolution` with `resolution.width`, `.height` and `.pixels`.',
    '`catalog` lists every parameter and metric of a set: type, unit, direction (better: higher, lower,',
    'none), role, kind (summary, series, frame), where it is and what it means; --json gives',
    '{"params": [{name, type, unit, values, range, doc, ...}], "metrics": [{name, unit, better, role,',
    'kind, view, doc, ...}]}. A metric no workload or benchmark file declares has no unit and no direction.',
    '',
    '`unlock` removes the lock (SET/.lock) of a run known to have ended: `run` refuses a set locked by a',
    'process of another host (it cannot tell from here whether that run is alive) and says so, naming the',
    'host and pid. It refuses a lock held by a live process of this host. A stale lock of this host (its',
    'process gone) needs no unlock: the next run takes it over.',
    '',
    '  --root DIR            where result sets are looked for (default: results)',
    "  --metrics PATTERN     show: the metric columns whose name matches, a glob ('client.*', '*.cpu_pct';",
    '                        commas for several) or a /regular expression/; repeatable. Without it, show',
    '                        prints those that fit the terminal (9 when piped) and says how many it hides',
    '  --format FMT          export format: csv, json or parquet (default: csv)',
    '  -o, --output FILE     export to FILE (default: standard output; required for parquet)',
    '  --json                catalog: as JSON',
  ].join('\n'),
  options: { root: { type: 'string' }, format: { type: 'string' }, output: { type: 'string', short: 'o' }, metrics: { type: 'string', multiple: true }, json: { type: 'boolean' } },
} satisfies CommandSpec;

/** A result set by its directory or its name below root; StoreError with the closest names when there is none. */
export function openSet(arg: string, root: string): ResultSet {
  if (existsSync(join(arg, 'streambench-set.json'))) return ResultSet.open(arg);
  if (existsSync(join(root, arg, 'streambench-set.json'))) return ResultSet.open(join(root, arg));
  // A path that exists says more about itself (a file, a directory that is no set, unreadable) than a search does.
  if (existsSync(arg)) return ResultSet.open(arg);
  if (isAbsolute(arg) || arg.includes('/')) throw new StoreError(`${arg} does not exist`);
  const rootIsDir = existsSync(root) && statSync(root).isDirectory();
  const names = rootIsDir ? listResultSets(root).map((s) => s.name) : [];
  const hint = names.length > 0 ? `; ${suggestHint(arg, names)}` : `; there are no result sets in ${root} (--root DIR looks elsewhere)`;
  throw new StoreError(`no result set '${arg}' (looked at ${arg} and ${join(root, arg)})${hint}`);
}

/** Runs `streambench results SUB ...`; returns the exit code. */
export async function resultsCommand(argv: string[], out: NodeJS.WriteStream): Promise<number> {
  const a = parseCommand(resultsSpec, argv);
  const [sub, target, ...rest] = a.positionals;
  if (a.values.help || !sub) return (out.write(helpText(resultsSpec)), a.values.help ? 0 : 2);
  const root = a.values.root ?? 'results';
  const need = () => {
    if (!target) throw InputError.single(`streambench results ${sub}`, 'expected a result set', resultsSpec.usage);
    return openSet(target, root);
  };

  switch (sub) {
    case 'list': {
      const sets = listResultSets(target ?? root);
      if (sets.length === 0) return (out.write(`no result sets in ${target ?? root}\n`), 0);
      const rows = sets.map((s) => {
        const pts = s.points();
        return [s.name, s.dir, pts.length, pts.filter((p) => p.outcome.status === 'ok').length, pts.filter((p) => p.outcome.status !== 'ok').length, s.info.createdAt];
      });
      out.write(renderTable(['name', 'directory', 'points', 'ok', 'not ok', 'created'], rows) + '\n');
      return 0;
    }
    case 'show': {
      const set = need();
      const pts = set.points().sort((x, y) => x.index - y.index || x.rep - y.rep);
      const params = [...new Set(pts.flatMap((p) => Object.keys(p.params)))];
      const metrics = a.values.metrics ?? [];
      metricMatcher(metrics);
      const table = summaryTable(pts, params, { metrics, ...(out.isTTY && out.columns ? { width: out.columns } : {}) });
      out.write(`${set.name} (${set.dir}): ${pts.length} point(s)\n\n${table}\n`);
      const flags = flagLines(pts);
      if (flags.length > 0) out.write(`\n${flags.join('\n')}\n`);
      for (const p of pts) if (p.outcome.status === 'failed') out.write(`\n${p.key} r${p.rep}: ${p.outcome.error}`);
      out.write('\n');
      return 0;
    }
    case 'export': {
      const set = need();
      const format = a.values.format ?? 'csv';
      const exporter = EXPORTERS[format];
      if (!exporter) throw InputError.single('--format', `unknown export format '${format}'`, suggestHint(format, Object.keys(EXPORTERS)));
      if (format === 'parquet' && !a.values.output) throw InputError.single('--format parquet', 'Parquet is binary: give a file with -o FILE');
      const db = await openSetDatabase([set], { views: [] });
      try {
        const query = 'SELECT * FROM points ORDER BY point_key, rep';
        if (a.values.output) {
          await exporter.write(db.conn, query, a.values.output);
          out.write(`wrote ${a.values.output}\n`);
        } else {
          const tmp = onDisk('cannot create a temporary directory in', tmpdir(), () => mkdtempSync(join(tmpdir(), 'streambench-export-')));
          try {
            const file = join(tmp, `points${exporter.extension}`);
            await exporter.write(db.conn, query, file);
            await pipeline(createReadStream(file), out, { end: false });
          } finally {
            rmSync(tmp, { recursive: true, force: true });
          }
        }
      } finally {
        db.close();
      }
      return 0;
    }
    case 'query': {
      const set = need();
      const sql = rest.join(' ');
      if (!sql) throw InputError.single('streambench results query', 'expected an SQL query', 'e.g. streambench results query SET "select status, count(*) from points group by status"');
      const db = await openSetDatabase([set], { views: viewsUsedBy(sql) });
      try {
        const reader = await db.conn.runAndReadAll(sql);
        const rows = reader.getRowsJS().map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
        out.write(renderTable(reader.columnNames(), rows, { fullValues: 'round(x, n) in the SQL shows the digits you choose' }) + '\n');
      } catch (e) {
        // A missing file named in the SQL is the query's fault; a full or read-only disk is not.
        const env = environmentError(e);
        if (env && !['ENOENT', 'ENOTDIR', 'EISDIR'].includes(env.code)) throw env;
        throw InputError.single('SQL', errorMessage(e).split('\n')[0]!);
      } finally {
        db.close();
      }
      return 0;
    }
    case 'catalog': {
      const set = need();
      const catalog = setCatalog(set.points());
      out.write(a.values.json ? `${JSON.stringify(catalog, null, 2)}\n` : catalogText(set.name, catalog));
      return 0;
    }
    case 'unlock': {
      const set = need();
      if (rest.length > 0) throw InputError.single('streambench results unlock', `one result set; unexpected '${rest[0]}'`, resultsSpec.usage);
      const removed = set.unlock();
      out.write(removed ? `removed the lock ${removed}; the next run takes the set\n` : `${set.dir} has no lock\n`);
      return 0;
    }
    default:
      throw InputError.single(`streambench results ${sub}`, `unknown subcommand '${sub}'`, suggestHint(sub, ['list', 'show', 'export', 'query', 'catalog', 'unlock']));
  }
}

/** The catalogue as two tables: the parameters, then the metrics. */
function catalogText(name: string, c: Catalog): string {
  const values = (p: Catalog['params'][number]) => {
    if (p.range && p.range[0] !== p.range[1]) return `${p.range[0]} .. ${p.range[1]}`;
    const v = p.values ?? [];
    return v.slice(0, 6).join(', ') + (v.length > 6 ? `, ... (${v.length})` : '');
  };
  const params = renderTable(
    ['parameter', 'type', 'unit', 'values', 'columns', 'doc'],
    c.params.map((p) => [p.name, p.type, p.unit ?? '', values(p), [...(p.label ? [p.label] : []), ...(p.columns ?? [])].join(', '), p.doc]),
  );
  const metrics = renderTable(
    ['metric', 'unit', 'better', 'kind', 'view', 'role', 'doc'],
    c.metrics.map((m) => [m.column ?? m.name, m.unit ?? '', m.better, m.kind, m.view, m.role, m.source === 'undeclared' ? '(undeclared: no unit, no direction)' : m.doc]),
  );
  return `${name}: ${c.params.length} parameter(s), ${c.metrics.length} metric(s)\n\n${params}\n\n${metrics}\n`;
}
