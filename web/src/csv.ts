/**
 * CSV text from columns, apart from the charts: views that draw no ECharts chart (compare,
 * parallel) export CSV without loading ECharts.
 */

/**
 * A CSV text from columns (RFC 4180 quoting), after `# key: value` lines that say what it holds
 * (metric and unit, the selection, the sets, the aggregate: a file read a month later says what
 * it is; pandas reads it with comment='#', DuckDB with its comment option).
 */
export function toCsv(columns: Record<string, readonly unknown[]>, provenance: Readonly<Record<string, string>> = {}): string {
  const names = Object.keys(columns);
  const n = Math.max(0, ...names.map((k) => columns[k]!.length));
  const cell = (v: unknown) => {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a column holds numbers, text, or values with their own text
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [...Object.entries(provenance).map(([k, v]) => `# ${k}: ${v.replace(/[\r\n]+/g, ' ')}`), names.map(cell).join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((k) => cell(columns[k]![i])).join(','));
  return `${lines.join('\n')}\n`;
}
