/** The table of points that `run` ends with and `results show` prints: which metric columns, and what it leaves out. */
import { InputError } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { workloadDecl } from '../config/registry.ts';
import { conditionsSummary, runFlags } from '../store/conditions.ts';
import type { PointRecord } from '../store/records.ts';
import { formatColumn, metricMatcher, renderTable } from './table.ts';

/** Metric columns shown when the output is no terminal (whose width would say how many fit). */
export const DEFAULT_METRIC_COLUMNS = 9;
/** Metric columns shown on a terminal however narrow: fewer would say too little. */
const MIN_METRIC_COLUMNS = 3;

/** Every metric of the records, the workload's main ones first, then by name (exit_code last: the status column says it). */
export function orderedMetrics(records: readonly PointRecord[]): string[] {
  const all = new Set(records.flatMap((r) => Object.keys(r.metrics)));
  // The columns a user reads first: the workload's headline figures, from its declaration.
  const preferred = workloadDecl(records[0]?.workload ?? 'command')?.headline ?? [];
  const rest = [...all].filter((m) => !preferred.includes(m) && m !== 'exit_code').sort();
  return [...preferred.filter((m) => all.has(m)), ...rest, ...(all.has('exit_code') ? ['exit_code'] : [])];
}

export interface SummaryOptions {
  /** `--metrics` patterns: every metric matching one of them, and only those. */
  metrics?: readonly string[];
  /** A terminal's width: as many metric columns as fit in it. Absent: DEFAULT_METRIC_COLUMNS. */
  width?: number;
  /** When `metrics` matches nothing: an input error (default), or the usual columns and a line saying so (after a run, whose exit code must stay the run's). */
  noMatch?: 'error' | 'note';
}

/** The metric columns to show, how many metrics the records have in all, and why the --metrics patterns were not followed, if so. */
export function summaryMetrics(records: readonly PointRecord[], params: readonly string[], opts: SummaryOptions = {}): { shown: string[]; all: string[]; unmatched?: string } {
  const all = orderedMetrics(records);
  if (opts.metrics && opts.metrics.length > 0) {
    const match = metricMatcher(opts.metrics);
    const shown = all.filter(match);
    if (shown.length > 0 || all.length === 0) return { shown, all };
    const message = `${opts.metrics.map((m) => `'${m}'`).join(', ')} matches none of the ${all.length} metrics of these points`;
    const hint = `${suggestHint(opts.metrics[0]!, all)} (--metrics '*' shows them all)`;
    if (opts.noMatch !== 'note') throw InputError.single('--metrics', message, hint);
    return { ...summaryMetrics(records, params, { ...(opts.width !== undefined ? { width: opts.width } : {}) }), unmatched: `--metrics ${message} (${hint}).` };
  }
  // exit_code is only worth a column when asked for: the status column tells it.
  const candidates = all.filter((m) => m !== 'exit_code');
  if (opts.width === undefined) return { shown: candidates.slice(0, DEFAULT_METRIC_COLUMNS), all };
  const width = (header: string, values: unknown[]) => formatColumn(values).cells.reduce((w, c) => Math.max(w, c.length), header.length);
  let used =
    params.reduce(
      (a, p) =>
        a +
        width(
          p,
          records.map((r) => r.params[p]),
        ) +
        2,
      0,
    ) +
    width(
      'rep',
      records.map((r) => r.rep),
    ) +
    2 +
    width(
      'status',
      records.map((r) => r.outcome.status),
    );
  const shown: string[] = [];
  for (const m of candidates) {
    const w =
      width(
        m,
        records.map((r) => r.metrics[m]),
      ) + 2;
    if (shown.length >= MIN_METRIC_COLUMNS && used + w > opts.width) break;
    shown.push(m);
    used += w;
  }
  return { shown, all };
}

/** A glob that picks the hidden columns' most common first part, for the hint: 'local.*'. */
function examplePattern(hidden: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const h of hidden) {
    const head = h.includes('.') ? `${h.slice(0, h.indexOf('.'))}.*` : h;
    counts.set(head, (counts.get(head) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/**
 * One row per point: its parameters, repetition, status and metric columns (summaryMetrics),
 * then a line naming the metric columns left out and how to see them, and one saying how the
 * numbers were rounded and where they are in full.
 */
export function summaryTable(records: readonly PointRecord[], params: readonly string[], opts: SummaryOptions = {}): string {
  const { shown, all, unmatched } = summaryMetrics(records, params, opts);
  const rows = records.map((r) => [...params.map((p) => r.params[p]), r.rep, r.outcome.status, ...shown.map((m) => r.metrics[m])]);
  const table = renderTable([...params, 'rep', 'status', ...shown], rows, { fullValues: '`results export` has them in full' });
  const hidden = all.filter((m) => !shown.includes(m));
  if (hidden.length === 0) return table;
  const some = hidden.slice(0, 6).join(', ') + (hidden.length > 6 ? ', ...' : '');
  const note =
    opts.metrics && opts.metrics.length > 0 && !unmatched
      ? `${shown.length} of ${all.length} metric columns match --metrics ${opts.metrics.map((m) => `'${m}'`).join(' ')}.`
      : `${shown.length} of ${all.length} metric columns shown; ${hidden.length} hidden (${some}): --metrics PATTERN shows those it matches, e.g. --metrics '${examplePattern(hidden)}', or --metrics '*' for all.`;
  return `${table}\n${unmatched ? `${unmatched}\n` : ''}${note}`;
}

/** Kinds of flag listed under a table; the others are counted. */
const MAX_FLAG_LINES = 12;

/**
 * The points' flags under the table, so that what went wrong in a point that still passed is
 * seen: one line per kind of flag (its text with the numbers left out), with how many points
 * have it and the first one's text.
 */
export function flagLines(records: readonly PointRecord[]): string[] {
  const kinds = new Map<string, { text: string; first: PointRecord; n: number }>();
  for (const r of records) {
    for (const f of runFlags(r)) {
      const kind = f.replace(/\d+(\.\d+)?/g, '#');
      const k = kinds.get(kind);
      if (k) k.n++;
      else kinds.set(kind, { text: f, first: r, n: 1 });
    }
  }
  const summary = conditionsSummary(records).line;
  if (kinds.size === 0) return summary ? [`Conditions: ${summary}`] : [];
  const lines = [...kinds.values()].slice(0, MAX_FLAG_LINES).map(({ text, first, n }) => `  ${n === 1 ? '1 point' : `${n} points`} (${n === 1 ? '' : 'e.g. '}${first.key} r${first.rep}): ${text}`);
  if (kinds.size > MAX_FLAG_LINES) lines.push(`  ... and ${kinds.size - MAX_FLAG_LINES} more kinds of flag`);
  return [...(summary ? [`Conditions: ${summary}`] : []), 'Flags (each point.json has its own):', ...lines];
}
