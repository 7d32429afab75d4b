/**
 * The shell: the header (open sets, view tabs) and the view the address names. Views are the
 * modules in views/ (found at build time, so each view's author adds a file and its tab works);
 * a tab whose module is not there yet is shown greyed.
 */
import type { SetsResponse } from '../../src/server/api-types.ts';
import { api, prefetch } from './api.ts';
import { el } from './dom.ts';
import { firstMatrixQuery } from './matrix-query.ts';
import { onStateChange, readState, writeState } from './state.ts';
import './test-hook.ts';
import type { ViewContext, ViewModule } from './view.ts';

/** The tabs, in order (compare needs two open sets; the matrix view also overlays several with `set` as a parameter). */
const TABS = ['findings', 'matrix', 'compare', 'parallel', 'run', 'frames', 'live', 'model'] as const;
const modules = import.meta.glob<ViewModule>('./views/*.ts');
const moduleOf = (name: string) => modules[`./views/${name}.ts`];

function showError(target: HTMLElement, message: string): void {
  window.__sb.error = message;
  target.replaceChildren(el('p', { className: 'error', textContent: message }));
}

async function start(): Promise<void> {
  const viewEl = document.getElementById('view')!;
  // The catalogue and the first view's module (with ECharts) are fetched side by side: neither waits for the other.
  const sets = api<SetsResponse>('/api/sets');
  const first = firstMatrixQuery(readState());
  if (first) prefetch('/api/matrix', first);
  void moduleOf(readState()['view'] ?? 'matrix')?.().catch(() => undefined);
  let catalog: SetsResponse;
  try {
    catalog = await sets;
  } catch (e) {
    showError(viewEl, `cannot load the result sets: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  document.getElementById('sets')!.textContent = catalog.sets.map((s) => `${s.name} (${s.ok} ok${s.failed + s.interrupted > 0 ? `, ${s.failed + s.interrupted} failed` : ''}${s.flagged > 0 ? `, ${s.flagged} flagged` : ''})`).join(' · ');
  document.title = `streambench: ${catalog.sets.map((s) => s.name).join(', ')}`;
  // One line per set recorded saturated, with roles sharing a machine, or before conditions were
  // checked: said above every view, since every figure below carries it.
  const lines = catalog.sets.filter((s) => s.conditionsLine).map((s) => `Conditions${catalog.sets.length > 1 ? ` of ${s.name}` : ''}: ${s.conditionsLine}`);
  const banner = document.getElementById('conditions')!;
  banner.replaceChildren(...lines.map((l) => el('div', { textContent: l })));
  banner.hidden = lines.length === 0;

  const ctx: ViewContext = {
    get state() {
      return readState();
    },
    setState: writeState,
    onStateChange,
    api,
    catalog,
    openRun: (set, key, rep) => writeState({ view: 'run', run: `${set}/${key}/${rep}` }),
  };

  const tabs = document.getElementById('tabs')!;
  let current: { name: string; unmount: () => void } | undefined;
  let loading = 0;
  const route = async () => {
    const name = readState()['view'] ?? 'matrix';
    for (const a of tabs.querySelectorAll('a')) a.classList.toggle('active', a.dataset['view'] === name);
    if (current?.name === name) return;
    current?.unmount();
    current = undefined;
    const load = moduleOf(name);
    if (!load) {
      showError(viewEl, `no view '${name}' (views: ${TABS.filter((t) => moduleOf(t)).join(', ')})`);
      return;
    }
    const mine = ++loading;
    const mod = await load();
    if (mine !== loading) return;
    viewEl.replaceChildren();
    // Marked current before mounting: a view that writes its defaults to the state while it
    // mounts must not have this route mount it a second time.
    const mounted = { name, unmount: () => {} };
    current = mounted;
    mounted.unmount = mod.mount(viewEl, ctx);
  };
  for (const t of TABS) {
    const a = el('a', { textContent: t, href: `?view=${t}`, className: moduleOf(t) ? '' : 'missing' });
    a.dataset['view'] = t;
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      writeState({ view: t });
    });
    tabs.append(a);
  }
  onStateChange(() => void route());
  await route();
}

void start();
