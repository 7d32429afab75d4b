/**
 * The findings in words and in a table (what the report opens with), drawn by the report page and
 * the GUI's findings view from the same data (src/server/set-findings.ts): the same sentences and
 * figures in both.
 */
import type { ApiParam, ReportFinding, ReportFindings } from '../../src/server/api-types.ts';
import { el } from './dom.ts';
import './findings.css';
import { formatValue } from './report/format.ts';

/** What the findings are drawn from: the parameters (their units) and the findings. */
export interface FindingsData {
  params: ApiParam[];
  findings: ReportFindings;
}

/** A value with its unit, as a sentence says it: 1.2 Mbit/s, 12 ms, 61 %. */
export function withUnit(v: number, unit: string | null): string {
  const text = formatValue(v, unit);
  if (!unit) return text;
  // formatValue writes bit/s and bytes with their prefix (2M): the unit goes after it.
  const prefixed = unit === 'bit/s' || unit === 'B' ? /^(-?[\d.]+(?:e[-+]?\d+)?)([kMG]?)$/.exec(text) : null;
  return prefixed ? `${prefixed[1]!} ${prefixed[2]!}${unit}` : `${text} ${unit}`;
}

/** A parameter's value in its unit (bitrate 300 kbit/s, fps 15 fps), or as it is (a codec, a frame size). */
export function paramValue(d: FindingsData, name: string, v: ReportFinding['from']): string {
  const unit = d.params.find((p) => p.name === name)?.unit ?? null;
  return typeof v === 'number' ? (unit && unit !== 'px' ? withUnit(v, unit) : formatValue(v, unit)) : String(v);
}

/** A p-value as written: three significant digits (0.0504 is not 0.05), in exponent form below 0.001. */
export const pText = (p: number) => (p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(3))));

/** A percentage, signed: +240 %, -7.1 %. */
export const pctText = (x: number) => `${x >= 0 ? '+' : '-'}${Number(Math.abs(x).toPrecision(2))} %`;

/** The two levels a finding compares, in words. */
function levels(d: FindingsData, f: ReportFinding): [string, string] {
  const named = f.params.length > 1 ? `${f.level_param}=` : '';
  return [`${named}${paramValue(d, f.level_param, f.from)}`, `${named}${paramValue(d, f.level_param, f.to)}`];
}

/** One finding as a sentence: what moves what by how much, its interval and p where it has them. */
function sentence(d: FindingsData, f: ReportFinding, k: ReportFindings): string {
  const [from, to] = levels(d, f);
  // A change of a percentage (CPU 12.8 % -> 21.5 %) is in percentage points: "8.8 % higher" would read as relative, beside the relative change itself.
  const inUnit = (x: number) => (f.unit === '%' ? withUnit(x, f.unit).replace(/ %$/, ' points') : withUnit(x, f.unit));
  const size = f.unit === '%' ? withUnit(Math.abs(f.effect), f.unit).replace(/ %$/, ' percentage points') : inUnit(Math.abs(f.effect));
  const paren = [f.effect_pct !== null ? pctText(f.effect_pct) : null, f.ci ? `95 % CI ${inUnit(f.ci[0])} to ${inUnit(f.ci[1])}` : null, f.p !== null ? `p = ${pText(f.p)} after Holm over ${k.family.tests} tests` : null].filter(Boolean).join('; ');
  if (f.numeric) return `${f.parameter} from ${from} to ${to} ${f.effect >= 0 ? 'raises' : 'lowers'} ${f.metric} by ${size} (${paren})`;
  return `${f.metric} is ${size} higher with ${f.parameter} = ${to} than with ${from} (${paren})`;
}

/** How many sentences the findings open with; the table has every finding. */
const LEAD_SENTENCES = 8;

/** The findings' table: every metric x parameter, in the order of the data (`report --json`'s). Each cell carries its raw value (data-raw). */
function findingsTable(d: FindingsData, k: ReportFindings): HTMLElement {
  const table = el('table', { className: 'findings' });
  const cols = ['metric', 'parameter', 'from → to', 'effect', 'effect %', '95 % CI', 'F (df)', 'p (Holm)', 'significant'];
  table.append(el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c)))));
  const body = el('tbody');
  for (const f of k.findings) {
    const tr = el('tr', { className: f.significant ? 'significant' : '' });
    tr.dataset['metric'] = f.metric;
    tr.dataset['parameter'] = f.parameter;
    const [from, to] = levels(d, f);
    const cell = (key: string, raw: unknown, text: string) => {
      const td = el('td', {}, text);
      td.dataset['key'] = key;
      td.dataset['raw'] = JSON.stringify(raw);
      return td;
    };
    tr.append(
      cell('metric', f.metric, `${f.metric}${f.unit ? ` (${f.unit})` : ''}`),
      cell('parameter', f.parameter, f.parameter),
      cell('levels', [f.from, f.to], `${from} → ${to}`),
      cell('effect', f.effect, withUnit(f.effect, f.unit)),
      cell('effect_pct', f.effect_pct, f.effect_pct === null ? '–' : pctText(f.effect_pct)),
      cell('ci', f.ci, f.ci ? `${withUnit(f.ci[0], f.unit)} to ${withUnit(f.ci[1], f.unit)}` : '–'),
      cell('F', f.F, f.F !== null && f.df ? `${Number(f.F.toPrecision(3))} (${f.df[0]}, ${f.df[1]})` : '–'),
      cell('p', f.p, f.p === null ? '–' : pText(f.p)),
      cell('significant', f.significant, f.significant === null ? 'not tested' : f.significant ? 'yes' : 'no'),
    );
    body.append(tr);
  }
  table.append(body);
  return table;
}

/** The report's opening: what it finds, in words, then every finding in a table; the sets' warnings and the best and worst settings. */
export function findingsSection(d: FindingsData, main: HTMLElement): void {
  const k = d.findings;
  const box = el('section', { className: 'findings' });
  box.id = 'findings';
  box.append(el('h2', {}, 'Findings'));
  const lead = el('ul', { className: 'lead' });
  if (!k.repetitions) {
    lead.append(el('li', { className: 'strong' }, 'No repetitions (every point ran once): effects are shown, none is claimed significant.'));
    const largest = [...k.findings].filter((f) => f.effect_pct !== null && f.effect !== 0).sort((a, b) => Math.abs(b.effect_pct!) - Math.abs(a.effect_pct!));
    for (const f of largest.slice(0, LEAD_SENTENCES)) lead.append(el('li', {}, `${sentence(d, f, k)}.`));
  } else {
    const sig = k.findings.filter((f) => f.significant === true).sort((a, b) => a.p! - b.p!);
    if (sig.length === 0) lead.append(el('li', { className: 'strong' }, `No parameter has a significant effect on any headline metric (Holm over ${k.family.tests} tests, at ${k.family.alpha * 100} %).`));
    for (const f of sig.slice(0, LEAD_SENTENCES)) lead.append(el('li', {}, `${sentence(d, f, k)}.`));
    if (sig.length > LEAD_SENTENCES) lead.append(el('li', {}, `… and ${sig.length - LEAD_SENTENCES} more significant effect(s) in the table.`));
  }
  box.append(lead);
  for (const w of k.warnings) box.append(el('p', { className: 'warn' }, `Validity: ${w}`));
  for (const g of k.groups) box.append(el('p', { className: 'note' }, `Confounded: ${g.params.join(', ')} vary together over the runs (each value of one always with the same of the others): one factor, ${g.name}, never separable.`));
  box.append(
    el(
      'p',
      { className: 'note' },
      k.repetitions
        ? `Effect: for a numeric parameter, the mean at its highest tested value minus at its lowest; for a categorical one, the largest mean minus the smallest; each mean the mean of the point means at that value (the other parameters averaged over). Test: ${k.test ?? ''}. Family: ${k.family.tests} tests (${k.family.over}), significant when p < ${k.family.alpha} after Holm. The 95 % CI is not adjusted for the family.`
        : 'Effect: for a numeric parameter, the mean at its highest tested value minus at its lowest; for a categorical one, the largest mean minus the smallest; each mean the mean of the point means at that value. Without repetitions nothing is tested: no p, no interval.',
    ),
  );
  box.append(el('div', { className: 'scroll' }, findingsTable(d, k)));
  if (k.extremes.length > 0) {
    const ul = el('ul', { className: 'note extremes' });
    const setting = (s: Record<string, ReportFinding['from']>) =>
      Object.entries(s)
        .map(([n, v]) => `${n}=${paramValue(d, n, v)}`)
        .join(', ');
    for (const x of k.extremes) ul.append(el('li', {}, `${x.metric} (${x.better} is better): best ${withUnit(x.best.mean, x.unit)} at ${setting(x.best.setting)}; worst ${withUnit(x.worst.mean, x.unit)} at ${setting(x.worst.setting)} (each a point's mean over its runs)`));
    box.append(el('h3', {}, 'Best and worst setting'), ul);
  }
  for (const n of k.notes) box.append(el('p', { className: 'note' }, n));
  main.append(box);
}
