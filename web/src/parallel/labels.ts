/**
 * The words around parallel coordinates: an axis' title fitted to the room it has (wrapped after
 * a dot, then shortened in the middle, the full name on hover), the numbers of a brush as the
 * read-out says them, and where each axis' labels may go so that none leaves the plot or runs
 * into its neighbour's.
 */
import type { Axis, Brush } from './model.ts';

/** Width of a text in px, as the canvas measures it in the font in use. */
export type Measure = (text: string) => number;

/** A text drawn on the plot and its box (css px from the canvas' top left corner). */
export interface LabelBox {
  kind: 'title' | 'unit' | 'tick' | 'category' | 'readout' | 'legend';
  /** The axis it belongs to (none for the legend). */
  axis?: string;
  /** What is drawn, and the whole text where it was shortened (what hovering shows). */
  text: string;
  full: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The text shortened in the middle (both ends kept: `stage.enc…p50`) to fit `width`; '' when not even one character each side fits. */
export function shorten(text: string, width: number, measure: Measure): string {
  if (measure(text) <= width) return text;
  // Half the characters each side at most; the longest split that fits.
  for (let keep = text.length - 1; keep >= 2; keep--) {
    const head = Math.ceil(keep / 2);
    const s = `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
    if (measure(s) <= width) return s;
  }
  return '';
}

/**
 * A title in at most two lines of `width`: whole when it fits, else broken after the dot that
 * balances the lines best (`client.` / `bitrate`), each line shortened in the middle if still too long.
 */
export function fitTitle(text: string, width: number, measure: Measure): string[] {
  if (measure(text) <= width) return [text];
  let best: [string, string] | undefined;
  let worst = Infinity;
  for (let k = text.indexOf('.'); k >= 0; k = text.indexOf('.', k + 1)) {
    const pair: [string, string] = [text.slice(0, k + 1), text.slice(k + 1)];
    if (pair[1] === '') continue;
    const w = Math.max(measure(pair[0]), measure(pair[1]));
    if (w < worst) {
      worst = w;
      best = pair;
    }
  }
  if (!best) return [shorten(text, width, measure)];
  return best.map((line) => shorten(line, width, measure)).filter((l) => l !== '');
}

/** A brush end as the read-out says it: four significant digits, thousands grouped (2,513,000; 0.01234). */
export function readoutNumber(x: number): string {
  return Number(x.toPrecision(4)).toLocaleString('en', { maximumFractionDigits: 20 });
}

/** What a brush keeps, in words: `latency.p95: 12.35 – 40.12 ms`, `codec: h264, vp9`. */
export function brushReadout(axis: Pick<Axis, 'name' | 'unit'>, brush: Brush): string {
  if ('cats' in brush) return `${axis.name}: ${brush.cats.length > 0 ? brush.cats.join(', ') : 'nothing'}`;
  return `${axis.name}: ${readoutNumber(brush.lo)} – ${readoutNumber(brush.hi)}${axis.unit ? ` ${axis.unit}` : ''}`;
}

/** A horizontal span (px) the labels of one axis may use. */
export interface Slot {
  lo: number;
  hi: number;
}

/**
 * The span each axis' labels may use: halfway to each neighbour (a few px apart), the plot's
 * left edge for the first and `right` (where the colour legend begins) for the last. Spans never
 * overlap, so labels kept inside their own never run into another axis' labels.
 */
export function slots(xs: readonly number[], right: number): Slot[] {
  return xs.map((x, k) => ({
    lo: k === 0 ? 2 : (xs[k - 1]! + x) / 2 + 3,
    hi: k === xs.length - 1 ? right : (x + xs[k + 1]!) / 2 - 3,
  }));
}

/** Where a text of width w centred on x starts, moved inside its slot when it would leave it. */
export function placeCentred(x: number, w: number, slot: Slot): number {
  return Math.max(slot.lo, Math.min(x - w / 2, slot.hi - w));
}
