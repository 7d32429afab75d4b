/**
 * The open sets read as the models and `compare` read them (src/analyze/load.ts: the catalogue and
 * the typed points table), kept per server and per state of the sets: reading a set is the slow
 * part of a model or a comparison, and a click in the GUI should not read it again.
 */
import { openModelSource, type ModelSource } from '../analyze/load.ts';
import type { ResultSet } from '../store/resultset.ts';
import type { LoadedSets } from './sets.ts';

/** Sources read, per server. */
const sources = new WeakMap<LoadedSets, Map<string, Promise<ModelSource>>>();

/** Sources kept per server: a few sets, with and without flagged runs. */
const MAX_SOURCES = 8;

/** The set read for the models (every numeric summary metric), reused while the sets do not change. */
export async function modelSource(sets: LoadedSets, set: ResultSet, includeFlagged: boolean): Promise<ModelSource> {
  // The sets' state (a run adding points changes it): a source read for an older state is not used.
  const { version } = await sets.get();
  let cache = sources.get(sets);
  if (!cache) sources.set(sets, (cache = new Map<string, Promise<ModelSource>>()));
  const key = `${version}\u0000${set.name}\u0000${includeFlagged}`;
  let got = cache.get(key);
  if (!got) {
    got = openModelSource(set, undefined, { includeFlagged });
    cache.set(key, got);
    const c = cache;
    // A read that failed (a file being written) is tried again by the next request.
    got.catch(() => c.delete(key));
    while (cache.size > MAX_SOURCES) cache.delete(cache.keys().next().value!);
  }
  return got;
}
