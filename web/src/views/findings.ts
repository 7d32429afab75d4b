/**
 * The findings view: what the report opens with (which parameter moves which headline metric, by
 * how much, tested over the repetitions with Holm's correction), from /api/findings, drawn by the
 * same code as the report (web/src/findings.ts): the same sentences and figures. Each row of the
 * table opens the matrix view of its metric against its parameter.
 */
import type { FindingsResponse } from '../../../src/server/api-types.ts';
import { el } from '../dom.ts';
import { findingsSection } from '../findings.ts';
import type { ViewContext } from '../view.ts';

/** What browser tests read: the answer drawn. */
declare global {
  interface Window {
    __sbFindings?: { data?: FindingsResponse };
  }
}

export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  const hook = (window.__sbFindings = {} as { data?: FindingsResponse });
  const status = el('p', { className: 'note' }, 'computing the findings ...');
  root.append(status);
  ctx
    .api<FindingsResponse>('/api/findings')
    .then((data) => {
      if (!alive) return;
      hook.data = data;
      const box = el('div', { className: 'findings-view' });
      findingsSection(data, box);
      const table = box.querySelector('table.findings');
      table?.querySelector('thead tr')?.append(el('th', {}, 'plot'));
      for (const tr of table?.querySelectorAll<HTMLTableRowElement>('tbody tr') ?? []) {
        const f = data.findings.findings.find((x) => x.metric === tr.dataset['metric'] && x.parameter === tr.dataset['parameter']);
        if (!f) continue;
        const a = el('a', { href: `?view=matrix&y=${encodeURIComponent(f.metric)}&x=${encodeURIComponent(f.level_param)}`, textContent: 'plot' });
        a.addEventListener('click', (ev) => {
          ev.preventDefault();
          ctx.setState({ view: 'matrix', y: f.metric, x: f.level_param });
        });
        const td = el('td', {}, a);
        td.dataset['key'] = 'plot';
        tr.append(td);
      }
      status.replaceWith(box);
      delete window.__sb.error;
      window.__sb.draws++;
    })
    .catch((e: unknown) => {
      if (!alive) return;
      const message = e instanceof Error ? e.message : String(e);
      window.__sb.error = message;
      status.replaceChildren(el('span', { className: 'error', textContent: `cannot compute the findings: ${message}` }));
    });
  return () => {
    alive = false;
    root.replaceChildren();
  };
}
