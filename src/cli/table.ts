/** Plain-text tables for the terminal, which say what they round and what they leave out. */
import { errorMessage, InputError } from '../base/errors.ts';

/** Fewest and most significant digits a rounded number is shown with. */
export const MIN_DIGITS = 3;
export const MAX_DIGITS = 7;

/** A number with `digits` significant digits, never fewer than its integer part has (12345.6 stays 12346, not 1.23e4). */
export function formatNumber(v: number, digits: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const intDigits = Math.abs(v) >= 1 ? Math.floor(Math.log10(Math.abs(v))) + 1 : 0;
  return String(Number(v.toPrecision(Math.min(100, Math.max(digits, intDigits)))));
}

/** Formats a value on its own (no column to compare with): numbers with 4 significant digits, missing values a dash. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return formatNumber(v, 4);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a cell is a scalar or a value with its own text (a date, a decimal)
  return String(v);
}

/**
 * One column's cells. Its numbers get the fewest significant digits, from MIN_DIGITS up to
 * MAX_DIGITS, at which its distinct values still read differently (1.2341 and 1.2346 need 5);
 * `digits` says how many when some number shows fewer digits than it has.
 */
export function formatColumn(values: readonly unknown[]): { cells: string[]; digits: number | undefined } {
  const distinct = new Set<number>();
  for (const v of values) if (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v)) distinct.add(v);
  let digits = MIN_DIGITS;
  while (digits < MAX_DIGITS && new Set([...distinct].map((v) => formatNumber(v, digits))).size < distinct.size) digits++;
  let rounded = false;
  const cells: string[] = [];
  for (const v of values) {
    if (typeof v !== 'number') {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- as in cell()
      cells.push(v === null || v === undefined ? '-' : String(v));
      continue;
    }
    const s = formatNumber(v, digits);
    if (Number(s) !== v) rounded = true;
    cells.push(s);
  }
  return { cells, digits: rounded ? digits : undefined };
}

export interface TableOptions {
  /** Only the first rows are shown, and a last line counts the others. */
  maxRows?: number;
  /** Where the numbers are in full, said under the table when some were rounded (e.g. 'results export has them in full'). */
  fullValues?: string;
}

/**
 * Renders rows as aligned columns with a header line; numbers rounded per column (formatColumn),
 * with a line saying so when `fullValues` is given. Widths are found with a loop, never
 * Math.max(...xs): spreading 200000 rows into arguments overflows the call stack.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly unknown[])[], opts: TableOptions = {}): string {
  const maxRows = opts.maxRows ?? Infinity;
  const shown = rows.length > maxRows ? rows.slice(0, maxRows) : rows;
  const columns = header.map((_, i) => formatColumn(shown.map((r) => r[i])));
  const widths = header.map((h) => h.length);
  for (let i = 0; i < widths.length; i++) {
    for (const c of columns[i]!.cells) if (c.length > widths[i]!) widths[i] = c.length;
  }
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...shown.map((_, j) => line(columns.map((c) => c.cells[j]!)))];
  if (shown.length < rows.length) out.push(`... and ${rows.length - shown.length} more row(s)`);
  const digits = columns.map((c) => c.digits).filter((d): d is number => d !== undefined);
  if (opts.fullValues && digits.length > 0) {
    const lo = Math.min(...digits);
    const hi = Math.max(...digits);
    out.push(`(numbers rounded to ${lo === hi ? lo : `${lo} to ${hi}`} significant digits, the fewest that keep each column's values apart; ${opts.fullValues})`);
  }
  return out.join('\n');
}

/** Turns one glob into a regular expression: `*` any characters, `?` one; anchored at both ends. */
function globRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * The test for `--metrics PATTERN` (repeatable): a glob over metric names (`client.*`,
 * `*.cpu_pct`; commas separate several) or a /regular expression/ (flags after the last slash);
 * a name matching any of them is chosen. InputError naming the bad pattern.
 */
export function metricMatcher(patterns: readonly string[]): (name: string) => boolean {
  const tests: RegExp[] = [];
  for (const p of patterns) {
    const re = /^\/(.*)\/([a-z]*)$/s.exec(p);
    if (re) {
      try {
        tests.push(new RegExp(re[1]!, re[2]!.replace(/[gy]/g, '')));
      } catch (e) {
        throw InputError.single('--metrics', `'${p}' is not a regular expression: ${errorMessage(e)}`, "a glob such as 'client.*', or a /regular expression/");
      }
      continue;
    }
    const globs = p.split(',').map((g) => g.trim());
    if (globs.some((g) => g === '')) throw InputError.single('--metrics', `'${p}' has an empty pattern`, "e.g. --metrics 'client.*,latency.*'");
    tests.push(...globs.map(globRegExp));
  }
  return (name) => tests.some((t) => t.test(name));
}
