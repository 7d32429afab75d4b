/** "Did you mean" suggestions for misspelt keys and parameter names. */

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("rnu" -> "run"
// is one edit), the commonest typo.
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within a third of the word's length, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  // The distance costs length x length: a megabyte-long key in a hostile file must not stall.
  if (word.length > 64) return undefined;
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** A hint line: "did you mean X?" or the list of what is allowed. */
export function suggestHint(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  if (c) return `did you mean '${c}'?`;
  if (candidates.length === 0) return 'nothing is allowed here';
  return `expected one of: ${candidates.slice(0, 20).join(', ')}${candidates.length > 20 ? `, ... (${candidates.length} in all)` : ''}`;
}
