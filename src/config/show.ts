/** Values quoted in messages: bounded, on one line. */

/**
 * A value for a message: quoted when it is text, and cut to `max` characters, so a megabyte-long
 * string in a file still gives a one-line error.
 */
export function show(v: unknown, max = 60, quote = true): string {
  const text = typeof v === 'string' ? v : Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'a mapping' : String(v);
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  // Control characters (binary junk) would break the line or the terminal: show them escaped.
  const safe = cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return typeof v === 'string' && quote ? `'${safe}'` : safe;
}

/** A value in single quotes whatever its type, as setting errors write them: `fps '0'`. */
export function quoted(v: unknown): string {
  return `'${show(v, 60, false)}'`;
}
