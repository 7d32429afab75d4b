/**
 * The compare view: two open sets, runs matched by their settings, one row per metric and setting
 * run in both: the means, the change (in the metric's unit and in percent), its 95 % interval and
 * the p-value after Holm's correction over every test of the metrics shown, as
 * `streambench compare BASE NEW --metric M... --json` computes them (the server calls the same
 * code: /api/compare). Real changes (corrected p under 0.05) are highlighted, coloured by whether
 * they go the way the catalogue says is better; every row opens both runs. State keys: cbase,
 * cnew, cmetrics (comma-separated; absent: the headline metrics), csort, cdir.
 */
import type { ApiMetric, CompareResponse } from '../../../src/server/api-types.ts';
import { toCsv } from '../csv.ts';
import { download, el } from '../dom.ts';
import type { ViewContext } from '../view.ts';

/** What the browser test reads: the comparison shown. */
export interface CompareHook {
  compare?: CompareResponse;
}

declare global {
  interface Window {
    __sbCompare?: CompareHook;
  }
}

/** The columns a table can be sorted by (`param:<name>` too). */
const SORTS = ['metric', 'base', 'new', 'change', 'relative', 'ci', 'p'] as const;

type Dir = 'asc' | 'desc';

/** A cell of the answer's columns (undefined: a column the answer lacks). */
type Cell = string | number | boolean | null | undefined;

function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

const signed = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : `${v > 0 ? '+' : ''}${num(v, digits)}`);
const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)} %`);
const pText = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'no test' : v < 1e-3 ? v.toExponential(1) : v.toFixed(3));

/** Whether a real change went the better way, the worse, or the metric has no better way. */
export function verdict(change: number, better: ApiMetric['better']): 'better' | 'worse' | 'changed' {
  if (better === 'none' || change === 0) return 'changed';
  return change < 0 === (better === 'lower') ? 'better' : 'worse';
}

/**
 * The rows' order for a sort key: numbers by value (`relative` by its size, |change %|, as a
 * change of -20 % matters as much as one of +20 %), text by its order; a row without a value last,
 * whichever the direction.
 */
export function order(c: CompareResponse['columns'], key: string, dir: Dir): number[] {
  const n = c['metric']?.length ?? 0;
  const value = (i: number): number | string | null => {
    const raw = (name: string) => c[name]?.[i] ?? null;
    const v = key === 'base' ? raw('base_mean') : key === 'new' ? raw('new_mean') : key === 'ci' ? raw('lo') : key === 'p' ? raw('p_adj') : raw(key);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (key === 'relative' && typeof v === 'number') return Math.abs(v);
    return v;
  };
  const idx = Array.from({ length: n }, (_, i) => i);
  const sign = dir === 'asc' ? 1 : -1;
  return idx.sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === null || y === null) return x === y ? a - b : x === null ? 1 : -1;
    const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
    return d !== 0 ? sign * d : a - b;
  });
}

/** Mounts the view; returns its unmount. */
export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  let asked = 0;
  const hook: CompareHook = (window.__sbCompare = {});
  const sets = ctx.catalog.sets.map((s) => s.name);
  /** What each pair of sets has in common (from its first answer): the metrics an address may name. */
  const availableOf = new Map<string, CompareResponse>();

  const controls = el('div', { className: 'controls' });
  const notes = el('div', { className: 'address-notes' });
  const status = el('p', { className: 'note' });
  const body = el('div', { className: 'compare' });
  root.append(controls, notes, status, body);

  const select = (label: string, values: string[], value: string, key: string) => {
    const s = el('select', {}, ...values.map((v) => el('option', { value: v, textContent: v, selected: v === value })));
    s.dataset['control'] = key;
    s.addEventListener('change', () => ctx.setState({ [key]: s.value }));
    return el('label', {}, label, s);
  };

  const fail = (message: string) => {
    window.__sb.error = message;
    status.replaceChildren(el('span', { className: 'error', textContent: message }));
    body.replaceChildren();
  };

  async function load(): Promise<void> {
    const mine = ++asked;
    const s = ctx.state;
    const said: string[] = [];
    if (sets.length < 2) {
      controls.replaceChildren();
      fail(`Only one result set is open (${sets[0] ?? 'none'}): comparing needs two. Open the GUI over both sets, the base first.`);
      return;
    }
    // What the address asks that is not open is said, and the view shows the sets it has.
    const pick = (key: 'cbase' | 'cnew', fallback: string) => {
      const v = s[key];
      if (v !== undefined && !sets.includes(v)) said.push(`the address asks for the set '${v}' as ${key === 'cbase' ? 'base' : 'new'}, which is not open (open: ${sets.join(', ')})`);
      return v !== undefined && sets.includes(v) ? v : fallback;
    };
    const base = pick('cbase', sets[0]!);
    const next = pick('cnew', sets.find((n) => n !== base) ?? sets[1]!);
    const swap = el('button', { type: 'button', textContent: 'swap', title: 'make the new set the base and the base the new' });
    swap.dataset['control'] = 'swap';
    swap.addEventListener('click', () => ctx.setState({ cbase: next, cnew: base }));
    controls.replaceChildren(select('base', sets, base, 'cbase'), swap, select('new', sets, next, 'cnew'));
    if (base === next) {
      notes.replaceChildren(...said.map((t) => el('p', { className: 'warning', textContent: t })));
      fail(`base and new are both ${base}: choose two different sets`);
      return;
    }
    status.textContent = `comparing ${base} with ${next} ...`;
    try {
      const pair = `${base}\u0000${next}`;
      let wanted: string[] | undefined;
      if (s['cmetrics'] !== undefined) {
        // The metrics both sets have are known from a first answer; an address naming others is told so, and they are left out.
        let known = availableOf.get(pair);
        if (!known) availableOf.set(pair, (known = await ctx.api<CompareResponse>('/api/compare', { base, new: next })));
        const names = s['cmetrics'].split(',').filter((m) => m !== '');
        const unknown = names.filter((m) => !known.available.some((a) => a.name === m));
        if (unknown.length > 0) said.push(`the address asks for ${unknown.map((m) => `'${m}'`).join(', ')}, which ${base} and ${next} do not both have a value of: left out`);
        wanted = names.filter((m) => !unknown.includes(m));
      }
      const r = await ctx.api<CompareResponse>('/api/compare', { base, new: next, ...(wanted ? { metrics: wanted.join(',') } : {}) });
      if (!alive || mine !== asked) return;
      availableOf.set(pair, r);
      hook.compare = r;
      notes.replaceChildren(...said.map((t) => el('p', { className: 'warning', textContent: t })));
      draw(r);
      delete window.__sb.error;
      window.__sb.draws++;
    } catch (e) {
      if (!alive || mine !== asked) return;
      notes.replaceChildren(...said.map((t) => el('p', { className: 'warning', textContent: t })));
      fail(e instanceof Error ? e.message : String(e));
    }
  }

  /** The metric chooser: a box per metric both sets have, its description on hover; the headline ones by default. */
  function chooser(r: CompareResponse): HTMLElement {
    const chosen = new Set(r.metrics.map((m) => m.name));
    const box = el('details', { className: 'metrics' });
    box.append(el('summary', { textContent: `metrics: ${r.metrics.length} of ${r.available.length}${ctx.state['cmetrics'] === undefined ? ' (the headline ones)' : ''}` }));
    const list = el('div', { className: 'metric-list' });
    for (const m of r.available) {
      const input = el('input', { type: 'checkbox', checked: chosen.has(m.name), value: m.name });
      input.addEventListener('change', () => {
        const now = r.available.map((a) => a.name).filter((n) => (n === m.name ? input.checked : chosen.has(n)));
        ctx.setState({ cmetrics: now.join(',') });
      });
      list.append(el('label', { className: 'value', title: describe(m) }, input, m.name));
    }
    const headline = el('button', { type: 'button', textContent: 'headline metrics' });
    headline.addEventListener('click', () => ctx.setState({ cmetrics: null }));
    const all = el('button', { type: 'button', textContent: 'all' });
    all.addEventListener('click', () => ctx.setState({ cmetrics: r.available.map((a) => a.name).join(',') }));
    box.append(list, el('div', {}, headline, ' ', all));
    return box;
  }

  function draw(r: CompareResponse): void {
    const c = r.columns;
    const n = c['metric']?.length ?? 0;
    const metricOf = new Map(r.metrics.map((m) => [m.name, m]));
    const real = Array.from({ length: n }, (_, i) => i).filter((i) => c['real']?.[i] === true);
    const verdicts = real.map((i) => verdict(c['change']![i] as number, metricOf.get(c['metric']![i] as string)?.better ?? 'none'));
    const count = (v: string) => verdicts.filter((x) => x === v).length;
    const fixed = r.params.filter((p) => !r.varying.includes(p));
    const fixedText = fixed.map((p) => `${p} = ${String(c[`label:${p}`]?.[0] ?? 'absent')}`).join(', ');
    controls.querySelector('details.metrics')?.remove();
    controls.append(chooser(r));

    const parts: HTMLElement[] = [];
    if (r.matched === 0) {
      const ex = (xs: Record<string, number | string>[]) => xs.slice(0, 3).map(setting).join('; ');
      parts.push(
        el('p', {
          className: 'warning no-shared',
          textContent: `${r.base} and ${r.new} share no settings: no combination of parameter values was run in both (${r.base}: ${r.onlyBase.count}, e.g. ${ex(r.onlyBase.examples) || 'none'}; ${r.new}: ${r.onlyNew.count}, e.g. ${ex(r.onlyNew.examples) || 'none'}), so no run can be matched and nothing is compared here. The matrix view can still put them side by side with the set as the series.`,
        }),
      );
      status.textContent = `${r.base} → ${r.new}: nothing to compare.`;
      body.replaceChildren(...parts);
      return;
    }
    status.textContent =
      `${r.base} → ${r.new}: ${r.matched} setting(s) run in both, matched by ${r.varying.join(', ') || 'their parameters'}${fixedText ? ` (${fixedText} throughout)` : ''}; ` +
      `${r.metrics.length} metric(s), ${r.family.tests} test(s), Holm-corrected at ${r.alpha}: ${real.length} real change(s)` +
      (real.length > 0 ? ` (${[count('worse') ? `${count('worse')} worse` : '', count('better') ? `${count('better')} better` : '', count('changed') ? `${count('changed')} with no better direction` : ''].filter(Boolean).join(', ')})` : '') +
      '.';
    const only: string[] = [];
    if (r.onlyBase.count > 0) only.push(`${r.onlyBase.count} setting(s) only in ${r.base}, e.g. ${setting(r.onlyBase.examples[0]!)}`);
    if (r.onlyNew.count > 0) only.push(`${r.onlyNew.count} only in ${r.new}, e.g. ${setting(r.onlyNew.examples[0]!)}`);
    if (only.length > 0) parts.push(el('p', { className: 'note only', textContent: `Not compared: ${only.join('; ')}.` }));
    for (const t of r.notes) parts.push(el('p', { className: 'note', textContent: `note: ${t}` }));
    parts.push(
      el(
        'p',
        { className: 'note legend' },
        'Each row: the mean of each side over its runs at that setting; change = new − base, its 95 % interval and test (Welch, or the pooled noise of the metric when a side ran once); p corrected by Holm over every row shown. ',
        el('span', { className: 'swatch worse' }),
        ' real, the worse way · ',
        el('span', { className: 'swatch better' }),
        ' real, the better way · ',
        el('span', { className: 'swatch changed' }),
        ' real, the metric has no better way · no colour: not shown to differ.',
      ),
    );
    if (r.metrics.length === 0) {
      parts.push(el('p', { className: 'warning', textContent: 'No metric chosen: tick some under "metrics".' }));
      body.replaceChildren(...parts);
      return;
    }

    const sortKey = (() => {
      const k = ctx.state['csort'];
      return k !== undefined && ((SORTS as readonly string[]).includes(k) || (k.startsWith('param:') && r.varying.includes(k.slice(6)))) ? k : 'p';
    })();
    const dir: Dir = ctx.state['cdir'] === 'desc' ? 'desc' : ctx.state['cdir'] === 'asc' ? 'asc' : sortKey === 'relative' ? 'desc' : 'asc';
    const headers: { key: string; label: string; title: string }[] = [
      { key: 'metric', label: 'metric', title: 'the metric, its unit and which way is better (from the catalogue)' },
      ...r.varying.map((p) => ({ key: `param:${p}`, label: p, title: `the setting's ${p}` })),
      { key: 'base', label: `${r.base} (runs)`, title: `the mean over the runs of ${r.base} at the setting` },
      { key: 'new', label: `${r.new} (runs)`, title: `the mean over the runs of ${r.new} at the setting` },
      { key: 'change', label: 'change', title: 'new − base, in the unit of the metric' },
      { key: 'relative', label: 'change %', title: 'the change relative to the base mean; sorted by its size (|change %|)' },
      { key: 'ci', label: '95 % CI', title: 'the 95 % interval of the change (sorted by its low end)' },
      { key: 'p', label: 'p (Holm)', title: `p after Holm's correction over the ${r.family.tests} tests shown` },
      { key: '', label: 'verdict', title: 'a real change: the better or the worse way, as the catalogue says' },
      { key: '', label: 'runs', title: 'open the first run of each side at the setting, or both overlaid' },
    ];
    const head = el('tr');
    for (const h of headers) {
      const th = el('th', { title: h.title });
      if (h.key) {
        const active = h.key === sortKey;
        const b = el('button', { type: 'button', className: 'sort', textContent: `${h.label}${active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}` });
        th.dataset['sort'] = h.key;
        th.setAttribute('aria-sort', active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
        b.addEventListener('click', () => ctx.setState({ csort: h.key, cdir: active ? (dir === 'asc' ? 'desc' : 'asc') : h.key === 'relative' ? 'desc' : 'asc' }));
        th.append(b);
      } else th.textContent = h.label;
      head.append(th);
    }
    const tbody = el('tbody');
    for (const i of order(c, sortKey, dir)) {
      const metric = c['metric']![i] as string;
      const m = metricOf.get(metric);
      const unit = m?.unit ? ` ${m.unit}` : '';
      // A change of a metric in percent is in percentage points: "-6 %" beside "-17.1 %" would read as two percentages.
      const changeUnit = m?.unit === '%' ? ' pp' : unit;
      const isReal = c['real']![i] === true;
      const v = isReal ? verdict(c['change']![i] as number, m?.better ?? 'none') : null;
      const tr = el('tr', { className: v ? `real ${v}` : '' });
      tr.dataset['metric'] = metric;
      tr.dataset['real'] = String(isReal);
      // The value as the answer holds it, every digit, for a reader that checks the figures.
      const raw = (td: HTMLTableCellElement, value: Cell) => {
        td.dataset['raw'] = value === null || value === undefined ? '' : String(value);
        return td;
      };
      const cell = (cls: string, text: string, value?: Cell) => {
        const td = el('td', { className: cls, textContent: text });
        return value === undefined ? td : raw(td, value);
      };
      tr.append(
        el('td', { className: 'metric', title: m ? describe(m) : metric }, metric, unit ? el('span', { className: 'unit', textContent: ` (${unit.trim()})` }) : '', m && m.better !== 'none' ? el('div', { className: 'direction', textContent: `${m.better} is better` }) : ''),
      );
      for (const p of r.varying) tr.append(cell(`param`, String(c[`label:${p}`]![i]), c[`param:${p}`]![i]));
      const side = (cls: string, mean: Cell, runs: Cell) => {
        const td = raw(el('td', { className: `num ${cls}` }, num(mean as number | null), el('span', { className: 'runs', textContent: ` (${String(runs)})` })), mean);
        td.dataset['n'] = String(runs);
        return td;
      };
      tr.append(side('base', c['base_mean']![i], c['base_n']![i]), side('new', c['new_mean']![i], c['new_n']![i]));
      const change = cell('num change', `${signed(c['change']![i] as number | null)}${changeUnit}`, c['change']![i]);
      if (changeUnit === ' pp') change.title = 'percentage points: the difference of two percentages';
      tr.append(change);
      tr.append(cell('num relative', pct(c['relative']![i] as number | null), c['relative']![i]));
      const ci = cell('num ci', c['lo']![i] === null ? 'no test' : `[${num(c['lo']![i] as number)}, ${num(c['hi']![i] as number)}]`);
      ci.dataset['lo'] = String(c['lo']![i] ?? '');
      ci.dataset['hi'] = String(c['hi']![i] ?? '');
      ci.title = c['test']![i] === 'none' ? 'no repetitions on either side: no test' : `${String(c['test']![i])} t test, ${num(c['df']![i] as number, 3)} degrees of freedom; raw p ${pText(c['p']![i] as number | null)}`;
      tr.append(ci, cell('num p', pText(c['p_adj']![i] as number | null), c['p_adj']![i]));
      tr.append(cell('verdict', v === null ? '' : v === 'changed' ? (Number(c['change']![i]) > 0 ? 'higher' : 'lower') : v));
      tr.append(el('td', { className: 'links' }, ...links(r, i)));
      tbody.append(tr);
    }
    const table = el('table', { className: 'compare-table' }, el('thead', {}, head), tbody);
    const csv = el('button', { type: 'button', textContent: 'CSV' });
    csv.dataset['export'] = 'csv';
    csv.addEventListener('click', () => download(`compare-${r.base}-to-${r.new}.csv`.replace(/[^A-Za-z0-9_.=+-]+/g, '_'), new Blob([csvOf(r)], { type: 'text/csv' })));
    parts.push(el('div', { className: 'table-box' }, el('div', { className: 'exports' }, csv), table));
    body.replaceChildren(...parts);
  }

  /** Links to the first run of each side at row i's setting, and to both overlaid in the run view. */
  function links(r: CompareResponse, i: number): HTMLElement[] {
    const c = r.columns;
    const ref = (set: string, side: 'base' | 'new') => {
      const key = c[`${side}_key`]?.[i];
      const rep = c[`${side}_rep`]?.[i];
      return typeof key === 'string' && typeof rep === 'number' ? `${set}/${key}/${rep}` : null;
    };
    const [b, n] = [ref(r.base, 'base'), ref(r.new, 'new')];
    const link = (text: string, title: string, state: Record<string, string>) => {
      const a = el('a', { href: `?${new URLSearchParams({ view: 'run', ...state }).toString()}`, textContent: text, title });
      a.dataset['open'] = text;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        ctx.setState({ view: 'run', run2: null, ...state });
      });
      return a;
    };
    const out: HTMLElement[] = [];
    if (b) out.push(link('base', `open ${b}`, { run: b }));
    if (n) out.push(link('new', `open ${n}`, { run: n }));
    if (b && n) out.push(link('both', `open ${b} with ${n} overlaid, dashed`, { run: b, run2: n }));
    return out.flatMap((a, k) => (k === 0 ? [a] : [el('span', { textContent: ' · ' }), a]));
  }

  /** The table as CSV, after lines saying what it compares and how. */
  function csvOf(r: CompareResponse): string {
    const c = r.columns;
    const keep = Object.keys(c).filter((k) => !k.startsWith('label:'));
    return toCsv(Object.fromEntries(keep.map((k) => [k, c[k]!])), {
      base: r.base,
      new: r.new,
      metrics: r.metrics.map((m) => `${m.name} (${m.unit ?? 'no unit'})`).join(', '),
      matched: `${r.matched} setting(s) run in both, by ${r.params.join(', ')}`,
      correction: `Holm over ${r.family.tests} test(s) of the metrics listed, real when p_adj < ${r.alpha}`,
      values: 'base_mean and new_mean are means over the runs at a setting (base_n, new_n runs); change = new_mean - base_mean; relative = change / |base_mean|; lo, hi: 95 % interval of the change',
    });
  }

  void load();
  const stop = ctx.onStateChange((st) => {
    if ((st['view'] ?? 'matrix') === 'compare') void load();
  });
  return () => {
    alive = false;
    stop();
    delete window.__sbCompare;
  };
}

/** A metric's description for a hover: what it is, its unit, which way is better. */
function describe(m: ApiMetric): string {
  return `${m.name}${m.unit ? ` (${m.unit})` : ''}: ${m.doc || 'no description'}${m.better !== 'none' ? `; ${m.better} is better` : ''}`;
}

/** A setting as one line: `fps=15 bitrate=1M`. */
function setting(p: Record<string, number | string>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
