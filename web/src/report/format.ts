/** Numbers on the report's axes and tooltips, in the units the catalogue gives. */

const SI: [number, string][] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** A number for a label: bit/s and bytes with k/M/G (as the benchmark files write them, `2M`), others with up to 4 significant digits. */
export function formatValue(v: number, unit: string | null): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'bit/s' || unit === 'B') {
    for (const [f, s] of SI) if (Math.abs(v) >= f) return `${Number((v / f).toPrecision(3))}${s}`;
  }
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}
