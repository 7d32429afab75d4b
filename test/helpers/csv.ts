// CSV as DuckDB writes it, read back for tests: a field with a comma or a quote is quoted, a
// quote doubled. Reasons in the flags column carry commas, so splitting on commas misreads rows.

/** The fields of one CSV line. */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (line[q + 1] === '"') {
          v += line.slice(i, q + 1);
          i = q + 2;
        } else {
          v += line.slice(i, q);
          i = q + 2;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** A CSV text's rows as records by the header's names (no field may hold a line break). */
export function csvRows(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split('\n');
  const cols = csvFields(head!);
  return rows.map((r) => Object.fromEntries(csvFields(r).map((v, i) => [cols[i]!, v])));
}
