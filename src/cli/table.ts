/** Plain-text tables for the terminal. */

/** Formats a cell: numbers get at most 4 significant decimals, missing values a dash. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return String(v);
}

/**
 * Renders rows as aligned columns with a header line. With `maxRows`, only the first rows are
 * shown and a last line counts the others. Widths are found with a loop, never Math.max(...xs):
 * spreading 200000 rows into arguments overflows the call stack.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly unknown[])[], maxRows = Infinity): string {
  const shown = rows.length > maxRows ? rows.slice(0, maxRows) : rows;
  const text = shown.map((r) => r.map(cell));
  const widths = header.map((h) => h.length);
  for (const r of text) {
    for (let i = 0; i < widths.length; i++) {
      const len = (r[i] ?? '').length;
      if (len > widths[i]!) widths[i] = len;
    }
  }
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)];
  if (shown.length < rows.length) out.push(`... and ${rows.length - shown.length} more row(s)`);
  return out.join('\n');
}
