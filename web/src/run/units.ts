/**
 * Values in the catalogue's units as people read them on an axis or in a tooltip: bytes and bit
 * rates with decimal prefixes (`1.5 MB/s`, `850 kbit/s`, `12 kB`), other units as numbers with the
 * unit after them. The unit always comes from the catalogue (the series' declaration), never from
 * a series' name.
 */

/** Units whose values take decimal prefixes (k = 1000): sizes and rates of bytes and bits. */
const PREFIXED = new Set(['B', 'B/s', 'bit/s', 'bit']);

/** A value with its unit: prefixed for bytes and bits (`1.5 MB/s`), else the number and the unit (`42.1 %`); no unit: the number. */
export function valueText(v: number, unit: string | null | undefined): string {
  if (!Number.isFinite(v)) return '';
  if (unit && PREFIXED.has(unit)) {
    const a = Math.abs(v);
    const [div, p] = a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
    return `${Number((v / div).toPrecision(3))} ${p}${unit}`;
  }
  const n = String(Number(v.toPrecision(4)));
  return unit ? `${n}${unit === '%' ? ' %' : ` ${unit}`}` : n;
}

/** The tick text of an axis in `unit`: prefixed values for bytes and bits (the axis' name says the unit), else ECharts' own. */
export function tickFormatter(unit: string | null | undefined): ((v: number) => string) | undefined {
  return unit && PREFIXED.has(unit) ? (v: number) => valueText(v, unit) : undefined;
}

/**
 * Units of quantities that start at zero (a share, a rate, a size, a time, a count): their axes
 * start at zero, so that a change of a few points on a busy machine is not drawn as a cliff.
 * Others (a PSNR in dB, a temperature, a load average without a unit) zoom to the data.
 */
const FROM_ZERO = new Set(['%', 'B', 'B/s', 'bit/s', 'MiB', 'MiB/s', 'ms', 'count', 'packets', 'packets/s', 'switches/s', 'fps', 'frames', 'W']);

/** Whether an axis in `unit` starts at zero (FROM_ZERO). */
export function fromZero(unit: string | null | undefined): boolean {
  return unit !== null && unit !== undefined && FROM_ZERO.has(unit);
}

/** An axis' name: its unit, or that the catalogue declares none (a custom probe, a load average). */
export function axisUnitName(unit: string | null | undefined): string {
  return unit ?? 'no unit declared';
}
