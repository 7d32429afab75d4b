/**
 * The whole view state lives in the URL's query string (`?view=matrix&y=latency.p50&x=fps...`),
 * so that a copied address reproduces the view. Views read it with readState() and change it
 * with writeState(patch); onStateChange tells them when it changed (their own writes, the back
 * button, a pasted link).
 */

/** The view state: one string per key (`view` names the tab; each view owns its other keys). */
export type ViewState = Record<string, string>;

const EVENT = 'sb:state';

/** The state in the address now. */
export function readState(): ViewState {
  const out: ViewState = {};
  for (const [k, v] of new URLSearchParams(location.search)) out[k] = v;
  return out;
}

/**
 * Changes the state: each key of patch set, or removed when null. A new history entry unless
 * `replace` (for changes that should not fill the back button's list, such as defaults).
 */
export function writeState(patch: Record<string, string | null | undefined>, opts: { replace?: boolean } = {}): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined) q.delete(k);
    else q.set(k, v);
  }
  const next = `${location.pathname}?${q.toString()}`;
  if (next === `${location.pathname}${location.search}`) return;
  if (opts.replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  window.dispatchEvent(new Event(EVENT));
}

/** Calls fn whenever the state changes; returns the function that stops it. */
export function onStateChange(fn: (s: ViewState) => void): () => void {
  const h = () => fn(readState());
  window.addEventListener(EVENT, h);
  window.addEventListener('popstate', h);
  return () => {
    window.removeEventListener(EVENT, h);
    window.removeEventListener('popstate', h);
  };
}
