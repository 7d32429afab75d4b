/**
 * The runs the brushes select, as a table under parallel coordinates: sortable by any column,
 * linked to the plot by hover (a row draws out its line; a hovered line marks its row and scrolls
 * to it), a click opening the run. Virtualised: only the rows in view (and a few either side)
 * exist in the page, each a fixed height, so 10,000 selected runs cost what 40 do.
 */
import type { Columns } from '../../../src/server/api-types.ts';
import { el, escapeHtml } from '../dom.ts';
import { fmt } from './draw.ts';

/** A column of the table: a run's set, a parameter, its repetition, or a metric. */
export interface TableColumn {
  /** Its column in the runs' columns. */
  name: string;
  label: string;
  numeric: boolean;
  /** Shown on hover of the header: the metric's description. */
  doc?: string;
}

export type SortDir = 'asc' | 'desc';
export interface Sort {
  column: string;
  dir: SortDir;
}

export interface RunTable {
  root: HTMLElement;
  /** The columns shown (the axes moved, a metric added). */
  setColumns(columns: readonly TableColumn[]): void;
  /** Shows the runs with mask[i] = 1, in the table's order. */
  setRows(mask: Uint8Array): void;
  /** Marks run i's row (undefined: none); `reveal` scrolls the table (not the page) to it. */
  mark(i: number | undefined, reveal: boolean): void;
  /** The runs listed, in the table's order (indexes into the columns). */
  order(): Int32Array;
  sort(): Sort | undefined;
}

/** Height of one row (px): fixed, so a row's place is its index times it. */
const ROW = 26;
/** Rows drawn beyond the visible ones each side, so a scroll shows no blank before the next frame. */
const SPARE = 8;
/** Height of the scrolled box (px). */
const VIEW = 420;

/** Ranks of every run by one column (stable: ties keep the runs' own order); runs without a value last either way. */
export function sortOrder(values: Columns[string], numeric: boolean, dir: SortDir): Int32Array {
  const n = values.length;
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const sign = dir === 'asc' ? 1 : -1;
  const missing = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && v !== v);
  if (numeric) {
    const x = Float64Array.from(values, (v) => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : NaN));
    idx.sort((a, b) => {
      const ma = x[a]! !== x[a]!;
      const mb = x[b]! !== x[b]!;
      if (ma || mb) return ma === mb ? a - b : ma ? 1 : -1;
      return sign * (x[a]! - x[b]!) || a - b;
    });
  } else {
    const s = values.map((v) => (missing(v) ? undefined : String(v)));
    const collator = new Intl.Collator('en', { numeric: true });
    idx.sort((a, b) => {
      const sa = s[a];
      const sb = s[b];
      if (sa === undefined || sb === undefined) return sa === sb ? a - b : sa === undefined ? 1 : -1;
      return sign * collator.compare(sa, sb) || a - b;
    });
  }
  return idx;
}

/** The run table over the runs' columns; `onOpen` opens run i, `onHover` says which row the mouse is on. */
export function makeRunTable(
  cols: Columns,
  n: number,
  columns: readonly TableColumn[],
  opts: { sort: Sort | undefined; onSort(s: Sort | undefined): void; onOpen(i: number): void; onHover(i: number | undefined): void; id(i: number): string; flagged(i: number): boolean },
): RunTable {
  let shown = [...columns];
  let sort = opts.sort && columns.some((c) => c.name === opts.sort!.column) ? opts.sort : undefined;
  let ranks: Int32Array = Int32Array.from({ length: n }, (_, i) => i);
  let rows = new Int32Array(0);
  let marked: number | undefined;
  const box = el('div', { className: 'pc-scroll' });
  box.style.maxHeight = `${VIEW}px`;
  const table = el('table', { className: 'pc-table' });
  const colgroup = el('colgroup');
  const thead = el('thead');
  const tbody = el('tbody');
  table.append(colgroup, thead, tbody);
  box.append(table);
  const root = el('div', { className: 'pc-list' }, box);

  const resort = () => {
    const c = sort ? shown.find((x) => x.name === sort!.column) : undefined;
    ranks = c && sort ? sortOrder(cols[c.name] ?? [], c.numeric, sort.dir) : Int32Array.from({ length: n }, (_, i) => i);
  };
  const header = () => {
    const cells = ['<th class="open"></th>'];
    for (const c of shown) {
      const dir = sort?.column === c.name ? sort.dir : undefined;
      const aria = dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none';
      const arrow = dir === 'asc' ? ' ▲' : dir === 'desc' ? ' ▼' : '';
      const tip = `${c.doc ? `${c.doc}\n` : ''}click to sort`;
      // Long names break after their dots and underscores, never inside a word.
      const label = escapeHtml(c.label).replace(/([._])/g, '$1<wbr>');
      cells.push(`<th data-col="${escapeHtml(c.name)}" aria-sort="${aria}" class="${c.numeric ? 'num' : ''}" title="${escapeHtml(tip)}">${label}${arrow}</th>`);
    }
    thead.innerHTML = `<tr>${cells.join('')}</tr>`;
    // Fixed widths, from the header's longest piece and the values' longest text (the first 500 runs):
    // rows come and go as the table scrolls, and the columns must not jump with them.
    const ch = shown.map((c) => {
      let w = Math.max(...c.label.split(/(?<=[._ ])/).map((p) => p.length)) + 2;
      const v = cols[c.name] ?? [];
      for (let i = 0; i < Math.min(n, 500); i++) {
        const x = v[i];
        if (x !== null && x !== undefined) w = Math.max(w, (c.numeric && typeof x === 'number' ? fmt(x) : String(x)).length + 1);
      }
      return Math.min(w, 22);
    });
    colgroup.innerHTML = `<col style="width:5em">${ch.map((w) => `<col style="width:${w}ch">`).join('')}`;
  };
  const cell = (c: TableColumn, i: number) => {
    const v = cols[c.name]?.[i];
    if (v === null || v === undefined) return '<td></td>';
    const text = c.numeric && typeof v === 'number' ? fmt(v) : String(v);
    const flag = c.name === 'rep' && opts.flagged(i) ? ' <span title="flagged run">⚑</span>' : '';
    return `<td class="${c.numeric ? 'num' : ''}" title="${escapeHtml(String(v))}">${escapeHtml(text)}${flag}</td>`;
  };
  // Only the rows in view are made, between two spacers that keep the scroll height true.
  let drawn = '';
  const render = () => {
    const first = Math.max(0, Math.floor(box.scrollTop / ROW) - SPARE);
    const last = Math.min(rows.length, Math.ceil((box.scrollTop + VIEW) / ROW) + SPARE);
    const span = shown.length + 1;
    const out = [`<tr class="pad" style="height:${first * ROW}px"><td colspan="${span}"></td></tr>`];
    for (let r = first; r < last; r++) {
      const i = rows[r]!;
      const id = escapeHtml(opts.id(i));
      out.push(`<tr data-run="${id}" data-i="${i}"${i === marked ? ' class="hover"' : ''}><td class="open"><button type="button" data-run="${id}" title="open this run">open</button></td>${shown.map((c) => cell(c, i)).join('')}</tr>`);
    }
    out.push(`<tr class="pad" style="height:${(rows.length - last) * ROW}px"><td colspan="${span}"></td></tr>`);
    const html = out.join('');
    // A scroll inside the same rows changes nothing: the page is left alone.
    if (html !== drawn) tbody.innerHTML = html;
    drawn = html;
  };
  box.addEventListener('scroll', render, { passive: true });

  thead.addEventListener('click', (ev) => {
    const th = (ev.target as HTMLElement).closest('th[data-col]');
    if (!(th instanceof HTMLElement)) return;
    const column = th.dataset['col']!;
    // Ascending, descending, then the runs' own order again.
    sort = sort?.column !== column ? { column, dir: 'asc' } : sort.dir === 'asc' ? { column, dir: 'desc' } : undefined;
    opts.onSort(sort);
    resort();
    header();
    api.setRows(mask);
  });
  tbody.addEventListener('click', (ev) => {
    const tr = (ev.target as HTMLElement).closest('tr[data-i]');
    if (tr instanceof HTMLElement) opts.onOpen(Number(tr.dataset['i']));
  });
  tbody.addEventListener('mouseover', (ev) => {
    const tr = (ev.target as HTMLElement).closest('tr[data-i]');
    const i = tr instanceof HTMLElement ? Number(tr.dataset['i']) : undefined;
    if (i !== marked) opts.onHover(i);
  });
  tbody.addEventListener('mouseleave', () => opts.onHover(undefined));

  let mask: Uint8Array = new Uint8Array(n).fill(1);
  const api: RunTable = {
    root,
    setColumns(next) {
      shown = [...next];
      if (sort && !shown.some((c) => c.name === sort!.column)) sort = undefined;
      resort();
      header();
      drawn = '';
      render();
    },
    setRows(m) {
      mask = m;
      let count = 0;
      for (let i = 0; i < n; i++) count += m[i]!;
      rows = new Int32Array(count);
      for (let r = 0, j = 0; r < n; r++) if (m[ranks[r]!]) rows[j++] = ranks[r]!;
      render();
    },
    mark(i, reveal) {
      marked = i;
      if (reveal && i !== undefined) {
        const r = rows.indexOf(i);
        const head = thead.getBoundingClientRect().height;
        // Scrolled only when the row is out of view, so that it sits under the mouse of whoever follows it.
        if (r >= 0 && (r * ROW < box.scrollTop || (r + 1) * ROW > box.scrollTop + VIEW - head)) box.scrollTop = Math.max(0, r * ROW - (VIEW - head) / 2);
      }
      // The rows made again: a revealed row may be new, and the next scroll must keep the mark.
      drawn = '';
      render();
    },
    order: () => rows,
    sort: () => sort,
  };
  resort();
  header();
  return api;
}
