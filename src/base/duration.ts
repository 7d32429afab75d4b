/** Durations as users write them ("5s", "500ms", "2m", "1h", or a number of seconds). */

/**
 * The longest duration, warm-up, timeout or warm-up + duration anything may be given: 7 days.
 * Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires at once, so the engine adds
 * its own margins (grace periods, a stream's 60 s allowance) well below that. `validate` bounds a
 * benchmark file's durations with it (config/limits.ts), an agent a hook's timeout.
 */
export const MAX_TIME_S = 7 * 24 * 3600;

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };
const RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min|h)?\s*$/;

/** Seconds for a duration value, or undefined when it is not one. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = RE.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}

/** A short human form: 850ms, 12.5s, 3m20s, 1h05m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
