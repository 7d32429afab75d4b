/** What the shell gives each view (web/src/views/<name>.ts exports `mount(el, ctx)` returning its unmount). */
import type { SetsResponse } from '../../src/server/api-types.ts';
import type { api } from './api.ts';
import type { ViewState } from './state.ts';

export interface ViewContext {
  /** The state in the address now (read each time: it changes). */
  readonly state: ViewState;
  /** Changes the state (null removes a key); `replace` keeps the back button's list as it is. */
  setState(patch: Record<string, string | null | undefined>, opts?: { replace?: boolean }): void;
  /** Calls fn on every change of the state; returns the function that stops it. */
  onStateChange(fn: (s: ViewState) => void): () => void;
  api: typeof api;
  /** The open sets and their joint catalogue. */
  catalog: SetsResponse;
  /** Opens one run (point and repetition) of a set in the run view. */
  openRun(set: string, key: string, rep: number): void;
}

/** A view module. */
export interface ViewModule {
  mount(el: HTMLElement, ctx: ViewContext): () => void;
}
