/**
 * Drawing parallel coordinates on three stacked canvases: all runs once, dimmed, on the
 * background layer (redrawn only when the axes, their order or the size change); the selected
 * runs, coloured, on the foreground layer (the only layer a brush redraws); axes, labels, brushes
 * and the colour legend on the top layer, which also takes the mouse. The background's lines of
 * one colour go into one path; the foreground is rasterised by hand (see drawForeground).
 */
import { fitTitle, placeCentred, readoutNumber, shorten, slots, type LabelBox } from './labels.ts';
import { brushSpan, type Axis, type Brush } from './model.ts';

/** Colours of the scale, low to high (viridis, sampled). */
export const PALETTE = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'];
/** Bins of the colour scale: lines of one bin share a path. */
const BINS = 32;

export interface Layout {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Room around the axes: titles (two lines) and the unit line above, the colour legend right. */
export const MARGIN = { left: 60, right: 170, top: 62, bottom: 34 };

/** x of the i-th of n axes. */
export function axisX(layout: Layout, i: number, n: number): number {
  const span = layout.width - layout.left - layout.right;
  return n <= 1 ? layout.left + span / 2 : layout.left + (i * span) / (n - 1);
}

/** y of a position 0..1 on an axis (1 at the top). */
export function posY(layout: Layout, p: number): number {
  return layout.top + (1 - p) * (layout.height - layout.top - layout.bottom);
}

/** The position 0..1 at a y (clamped). */
export function yPos(layout: Layout, y: number): number {
  const h = layout.height - layout.top - layout.bottom;
  return Math.max(0, Math.min(1, 1 - (y - layout.top) / h));
}

/** A colour of the palette for t in 0..1, interpolated. */
export function colourAt(t: number): string {
  const x = Math.max(0, Math.min(1, t)) * (PALETTE.length - 1);
  const i = Math.min(PALETTE.length - 2, Math.floor(x));
  const f = x - i;
  const a = hex(PALETTE[i]!);
  const b = hex(PALETTE[i + 1]!);
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function hex(s: string): [number, number, number] {
  return [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];
}

/** Sizes a canvas to css pixels times the device's ratio; returns its context scaled to css pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/**
 * Strokes the lines of the runs for which `keep(i)` holds, in `style(bin)` per colour bin
 * (`bin(i)`, 0..BINS-1; -1 for the plain colour), as one path per bin.
 */
function strokeLines(ctx: CanvasRenderingContext2D, layout: Layout, axes: readonly Axis[], n: number, keep: (i: number) => boolean, bin: (i: number) => number, style: (b: number) => string): void {
  const xs = axes.map((_, k) => axisX(layout, k, axes.length));
  const y0 = layout.top;
  const h = layout.height - layout.top - layout.bottom;
  // Runs grouped by bin first (counting sort), so each bin's path is built in one go.
  const bins = new Int32Array(n);
  const counts = new Int32Array(BINS + 1);
  for (let i = 0; i < n; i++) {
    if (!keep(i)) {
      bins[i] = -2;
      continue;
    }
    const b = bin(i);
    bins[i] = b;
    counts[b + 1]!++;
  }
  const starts = new Int32Array(BINS + 2);
  for (let b = 0; b <= BINS; b++) starts[b + 1] = starts[b]! + counts[b]!;
  const order = new Int32Array(starts[BINS + 1]!);
  const fill = starts.slice();
  for (let i = 0; i < n; i++) if (bins[i]! >= -1) order[fill[bins[i]! + 1]!++] = i;
  const pos = axes.map((a) => a.pos);
  for (let b = -1; b < BINS; b++) {
    const from = starts[b + 1]!;
    const to = starts[b + 2]!;
    if (from === to) continue;
    ctx.strokeStyle = style(b);
    ctx.beginPath();
    for (let j = from; j < to; j++) {
      const i = order[j]!;
      let pen = false;
      for (let k = 0; k < pos.length; k++) {
        const p = pos[k]![i]!;
        // A run without a value on an axis breaks its line there.
        if (p !== p) {
          pen = false;
          continue;
        }
        const y = y0 + (1 - p) * h;
        if (pen) ctx.lineTo(xs[k]!, y);
        else ctx.moveTo(xs[k]!, y);
        pen = true;
      }
    }
    ctx.stroke();
  }
}

/** The background: every run, thin and pale, so the brushed-out ones stay visible as context. */
export function drawBackground(ctx: CanvasRenderingContext2D, layout: Layout, axes: readonly Axis[], n: number): void {
  ctx.clearRect(0, 0, layout.width, layout.height);
  ctx.lineWidth = 1;
  ctx.globalAlpha = Math.max(0.04, Math.min(0.5, 60 / Math.max(1, n)));
  strokeLines(
    ctx,
    layout,
    axes,
    n,
    () => true,
    () => -1,
    () => '#9aa0a6',
  );
  ctx.globalAlpha = 1;
}

/** The pixels of the foreground layer, kept between brushes (one allocation per size). */
export interface Raster {
  image: ImageData;
  pixels: Uint32Array;
}

/** A raster of the canvas' own pixel size. */
export function makeRaster(ctx: CanvasRenderingContext2D): Raster {
  const image = ctx.createImageData(ctx.canvas.width, ctx.canvas.height);
  return { image, pixels: new Uint32Array(image.data.buffer) };
}

/** An ImageData pixel (little-endian RGBA in one 32-bit word), opaque. */
function pixel(rgb: string): number {
  const m = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(rgb) ?? /^#(..)(..)(..)$/.exec(rgb);
  const [r, g, b] = rgb.startsWith('#') ? [1, 2, 3].map((k) => parseInt(m![k]!, 16)) : [1, 2, 3].map((k) => Number(m![k]));
  return ((255 << 24) | (b! << 16) | (g! << 8) | r!) >>> 0;
}

/**
 * The foreground: the selected runs coloured by `colour` (a value per run scaled to 0..1, NaN
 * for none: drawn grey), rasterised here into the layer's pixels, one-pixel lines, the higher
 * colours drawn last (on top). Why not the canvas' own strokes: chromium rasterises canvas paths
 * at the next frame, and with no GPU its anti-aliased strokes of 8,000 lines took 1.5 s on this
 * machine under load against about 0.1 s for these spans; a brush must answer under 100 ms.
 *
 * Past `chunk` lines, the first `chunk` (every k-th run in colour order, so all colours show) are
 * drawn now and the rest by the returned function, a chunk per call (per frame): a brush over
 * most of 10,000 runs answers at once and fills in over the next frames. It returns whether
 * chunks remain; undefined when all was drawn now.
 */
export function drawForeground(ctx: CanvasRenderingContext2D, raster: Raster, layout: Layout, axes: readonly Axis[], mask: Uint8Array, selected: number, colour: Float32Array | undefined, chunk = Infinity): (() => boolean) | undefined {
  const { pixels, image } = raster;
  pixels.fill(0);
  const W = image.width;
  const scale = W / layout.width;
  if (selected > 0 && axes.length > 0) {
    const n = mask.length;
    const colours = Array.from({ length: BINS }, (_, b) => pixel(colourAt((b + 0.5) / BINS)));
    const grey = pixel('#5f6368');
    // Runs by colour bin (counting sort), low colours first, so the high ones end on top.
    const counts = new Int32Array(BINS + 2);
    const bins = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      const t = colour ? colour[i]! : NaN;
      const b = t !== t ? 0 : 1 + Math.min(BINS - 1, Math.max(0, Math.floor(t * BINS)));
      bins[i] = b;
      counts[b + 1]!++;
    }
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    const order = new Int32Array(selected);
    for (let i = 0; i < n; i++) if (mask[i]) order[counts[bins[i]!]!++] = i;
    const xs = axes.map((_, k) => Math.round(axisX(layout, k, axes.length) * scale));
    const top = layout.top * scale;
    const h = (layout.height - layout.top - layout.bottom) * scale;
    const pos = axes.map((a) => a.pos);
    const m = pos.length;
    const ys = new Float64Array(m);
    const stride = Math.max(1, Math.ceil(selected / chunk));
    const lines = (start: number) => {
      for (let j = start; j < selected; j += stride) {
        const i = order[j]!;
        const b = bins[i]!;
        const c = b === 0 ? grey : colours[b - 1]!;
        for (let k = 0; k < m; k++) {
          const p = pos[k]![i]!;
          ys[k] = p !== p ? NaN : top + (1 - p) * h;
        }
        for (let k = 0; k + 1 < m; k++) {
          const ya = ys[k]!;
          const yb = ys[k + 1]!;
          // A run without a value on an axis breaks its line there.
          if (ya !== ya || yb !== yb) continue;
          const x0 = xs[k]!;
          const x1 = xs[k + 1]!;
          const slope = (yb - ya) / (x1 - x0);
          // Each column gets the vertical span the segment crosses in it: a gap-free one-pixel line.
          // Positions lie in 0..1, so every span is inside the canvas: no clamping in the loop. Fixed
          // point (16.16) keeps the loop in integers, which V8 runs faster than float rounding.
          const step = Math.round(slope * 65536);
          let yf = Math.round((ya + 0.5) * 65536);
          for (let at0 = x0; at0 < x1; at0++) {
            const yn = yf + step;
            let y = (yf < yn ? yf : yn) >> 16;
            const hi = (yf < yn ? yn : yf) >> 16;
            for (let at = y * W + at0; y <= hi; y++, at += W) pixels[at] = c;
            yf = yn;
          }
        }
      }
    };
    lines(0);
    ctx.putImageData(image, 0, 0);
    if (stride === 1) return undefined;
    let next = 1;
    return () => {
      lines(next++);
      ctx.putImageData(image, 0, 0);
      return next < stride;
    };
  }
  ctx.putImageData(image, 0, 0);
  return undefined;
}

/** Short text of a number for a tick or a legend. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '';
  const a = Math.abs(x);
  if (a >= 1e9) return `${+(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(x / 1e3).toPrecision(3)}k`;
  if (a === 0) return '0';
  return String(+x.toPrecision(3));
}

/**
 * Tick values of a numeric axis: about five round values in range; on a log axis 1, 2 and 5 of
 * each decade (decades alone past six of them), so the ticks' spacing itself shows the scale.
 */
export function ticks(axis: Pick<Axis, 'min' | 'max' | 'log'>): number[] {
  if (axis.max === axis.min) return [axis.min];
  if (axis.log) {
    const decades = Math.log10(axis.max / axis.min);
    const steps = decades > 6 ? [1] : decades > 1.5 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(axis.min)); e <= Math.ceil(Math.log10(axis.max)); e++) {
      for (const f of steps) {
        const v = +(f * 10 ** e).toPrecision(12);
        if (v >= axis.min && v <= axis.max) out.push(v);
      }
    }
    return out.length >= 2 ? out : [axis.min, axis.max];
  }
  const raw = (axis.max - axis.min) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(axis.min / step) * step; v <= axis.max + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** Where a value lies on a numeric axis, 0..1 (as model.ts toPos, for a tick that no run holds). */
function tickPos(axis: Axis, v: number): number {
  if (axis.max === axis.min) return 0.5;
  if (axis.log) return (Math.log(v) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min));
  return (v - axis.min) / (axis.max - axis.min);
}

/** What the line under an axis' title says: its unit, or that it is a parameter, and whether it is on a log scale. */
export function unitLine(axis: Pick<Axis, 'unit' | 'kind' | 'log'>): string {
  const what = axis.unit ? `(${axis.unit})` : axis.kind === 'param' ? 'parameter' : '';
  return axis.log ? `${what} (log)`.trim() : what;
}

export interface OverlayInput {
  axes: readonly Axis[];
  brushes: readonly Brush[];
  /** The brush being dragged: its axis and span (positions 0..1). */
  dragging?: { axis: string; a: number; b: number } | undefined;
  /** The axis being moved by its title, and where its title is now. */
  moving?: { axis: string; x: number } | undefined;
  colour?: { name: string; unit: string | null; min: number; max: number; log: boolean } | undefined;
  /** The run whose line is drawn out (hovered here or in the table), by index. */
  highlight?: number | undefined;
}

/** Where the colour legend begins: the last axis' labels stay left of it. */
export function legendLeft(layout: Layout): number {
  return layout.width - 106;
}

/** Colour of a hovered run's line. */
export const HIGHLIGHT = '#d93025';

/**
 * Axes with their titles, ticks, brushes and their read-outs, the colour legend and the hovered
 * run's line. Returns the box of every text drawn: what hovering a title looks up, and what tests
 * hold inside the plot.
 */
export function drawOverlay(ctx: CanvasRenderingContext2D, layout: Layout, o: OverlayInput): LabelBox[] {
  ctx.clearRect(0, 0, layout.width, layout.height);
  ctx.textBaseline = 'middle';
  const boxes: LabelBox[] = [];
  const n = o.axes.length;
  const xs = o.axes.map((axis, k) => (o.moving?.axis === axis.name ? o.moving.x : axisX(layout, k, n)));
  const room = slots(
    o.axes.map((_, k) => axisX(layout, k, n)),
    o.colour ? legendLeft(layout) - 4 : layout.width - 2,
  );
  /** Draws a text left-aligned at (x, y middle) and keeps its box. */
  const put = (text: string, x: number, y: number, box: Omit<LabelBox, 'text' | 'full' | 'x' | 'y' | 'w' | 'h'> & { full?: string }, h = 12) => {
    ctx.textAlign = 'left';
    ctx.fillText(text, x, y);
    boxes.push({ kind: box.kind, ...(box.axis !== undefined ? { axis: box.axis } : {}), text, full: box.full ?? text, x, y: y - h / 2, w: ctx.measureText(text).width, h });
  };
  const measure = (t: string) => ctx.measureText(t).width;
  o.axes.forEach((axis, k) => {
    const x = xs[k]!;
    const slot = o.moving?.axis === axis.name ? { lo: Math.max(2, x - 80), hi: Math.min(layout.width - 2, x + 80) } : room[k]!;
    ctx.strokeStyle = '#202124';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x + 0.5, posY(layout, 0));
    ctx.lineTo(x + 0.5, posY(layout, 1));
    ctx.stroke();
    const brush = o.brushes.find((b) => b.axis === axis.name);
    const span = o.dragging?.axis === axis.name ? [Math.min(o.dragging.a, o.dragging.b), Math.max(o.dragging.a, o.dragging.b)] : brush ? brushSpan(axis, brush) : undefined;
    const yTop = span ? posY(layout, span[1]!) : 0;
    const yBot = span ? posY(layout, span[0]!) : 0;
    if (span) {
      ctx.fillStyle = 'rgba(26, 115, 232, 0.25)';
      ctx.strokeStyle = '#1a73e8';
      ctx.fillRect(x - 7, yTop, 14, Math.max(2, yBot - yTop));
      ctx.strokeRect(x - 7 + 0.5, yTop + 0.5, 13, Math.max(1, yBot - yTop - 1));
    }
    // The title: up to two lines within the axis' own room; the full name on hover (the view's job).
    ctx.fillStyle = '#202124';
    ctx.font = 'bold 11px system-ui, sans-serif';
    let lines = fitTitle(axis.name, slot.hi - slot.lo, measure);
    if (lines.some((l) => l.includes('…'))) {
      // A point smaller before cutting letters out.
      ctx.font = 'bold 10px system-ui, sans-serif';
      lines = fitTitle(axis.name, slot.hi - slot.lo, measure);
    }
    lines.forEach((line, j) => put(line, placeCentred(x, measure(line), slot), lines.length === 1 ? 16 : 10 + 12 * j, { kind: 'title', axis: axis.name, full: axis.name }));
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = axis.log ? '#1a73e8' : '#5f6368';
    const unit = shorten(unitLine(axis), slot.hi - slot.lo, measure);
    if (unit) put(unit, placeCentred(x, measure(unit), slot), 36, { kind: 'unit', axis: axis.name, full: unitLine(axis) });
    ctx.fillStyle = '#3c4043';
    // Ticks and categories left of the axis, inside the room up to it; a number that does not fit is left out, never cut.
    const left = { lo: slot.lo, hi: x - 4 };
    if (axis.type === 'categorical') {
      const cats = axis.categories ?? [];
      const step = Math.max(1, Math.ceil((cats.length * 12) / (layout.height - layout.top - layout.bottom)));
      cats.forEach((c, i) => {
        if (i % step !== 0) return;
        const p = cats.length === 1 ? 0.5 : i / (cats.length - 1);
        const y = posY(layout, p);
        if (measure(c) <= left.hi - left.lo) {
          put(c, left.hi - measure(c), y, { kind: 'category', axis: axis.name, full: c });
          return;
        }
        // Too wide for the room left of the axis: across it, on a white halo, in the whole room of the axis.
        const text = shorten(c, slot.hi - slot.lo, measure);
        if (!text) return;
        const at = placeCentred(x, measure(text), slot);
        ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
        ctx.fillRect(at - 1, y - 6, measure(text) + 2, 12);
        ctx.fillStyle = '#3c4043';
        put(text, at, y, { kind: 'category', axis: axis.name, full: c });
      });
    } else {
      for (const v of ticks(axis)) {
        const y = posY(layout, tickPos(axis, v));
        ctx.beginPath();
        ctx.moveTo(x - 3, y + 0.5);
        ctx.lineTo(x, y + 0.5);
        ctx.stroke();
        const text = fmt(v);
        if (measure(text) <= left.hi - left.lo) put(text, left.hi - measure(text), y, { kind: 'tick', axis: axis.name });
      }
    }
    // The brush's ends in numbers: right of the axis at its edges where there is room, else across
    // the axis, the upper one above the brush and the lower one below it.
    if (brush && !('cats' in brush) && o.dragging?.axis !== axis.name) {
      ctx.font = 'bold 10px system-ui, sans-serif';
      for (const [v, edge, side] of [
        [brush.hi, yTop, -1],
        [brush.lo, yBot, 1],
      ] as const) {
        const text = readoutNumber(v);
        const w = measure(text);
        const beside = w <= slot.hi - (x + 9);
        if (!beside && w > slot.hi - slot.lo) continue;
        const at = beside ? x + 9 : placeCentred(x, w, slot);
        const y = edge + side * (beside ? 6 : 8);
        ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
        ctx.fillRect(at - 1, y - 6, w + 2, 12);
        ctx.fillStyle = '#1a73e8';
        put(text, at, y, { kind: 'readout', axis: axis.name });
      }
    }
  });
  if (o.highlight !== undefined && o.highlight >= 0) drawHighlight(ctx, layout, o.axes, xs, o.highlight);
  if (o.colour) drawLegend(ctx, layout, o.colour, put, measure);
  return boxes;
}

/** One run's line drawn out over the others: thicker, in its own colour, a dot on each axis. */
function drawHighlight(ctx: CanvasRenderingContext2D, layout: Layout, axes: readonly Axis[], xs: readonly number[], i: number): void {
  const pts = axes.map((a, k) => ({ x: xs[k]!, p: a.pos[i]! })).filter((q) => q.p === q.p);
  const path = () => {
    ctx.beginPath();
    pts.forEach((q, j) => (j === 0 ? ctx.moveTo(q.x, posY(layout, q.p)) : ctx.lineTo(q.x, posY(layout, q.p))));
  };
  ctx.lineJoin = 'round';
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 5;
  path();
  ctx.stroke();
  ctx.strokeStyle = HIGHLIGHT;
  ctx.lineWidth = 2.5;
  path();
  ctx.stroke();
  ctx.fillStyle = HIGHLIGHT;
  for (const q of pts) {
    ctx.beginPath();
    ctx.arc(q.x, posY(layout, q.p), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.lineWidth = 1;
}

function drawLegend(ctx: CanvasRenderingContext2D, layout: Layout, c: NonNullable<OverlayInput['colour']>, put: (text: string, x: number, y: number, box: { kind: 'legend'; full?: string }) => void, measure: (t: string) => number): void {
  const x = layout.width - 70;
  const yTop = posY(layout, 1);
  const yBot = posY(layout, 0);
  const grad = ctx.createLinearGradient(0, yBot, 0, yTop);
  PALETTE.forEach((col, i) => grad.addColorStop(i / (PALETTE.length - 1), col));
  ctx.fillStyle = grad;
  ctx.fillRect(x, yTop, 14, yBot - yTop);
  ctx.fillStyle = '#202124';
  ctx.font = '10px system-ui, sans-serif';
  put(fmt(c.max), x + 18, yTop + 4, { kind: 'legend' });
  put(fmt(c.min), x + 18, yBot - 4, { kind: 'legend' });
  if (c.log) put('log', x + 18, (yTop + yBot) / 2, { kind: 'legend' });
  // Right-aligned to the edge, inside the legend's own room: clear of the last axis' labels.
  const room = layout.width - 4 - legendLeft(layout);
  ctx.font = 'bold 10px system-ui, sans-serif';
  put('colour', layout.width - 4 - measure('colour'), 14, { kind: 'legend' });
  ctx.font = '10px system-ui, sans-serif';
  const label = c.unit ? `${c.name} (${c.unit})` : c.name;
  const text = shorten(label, room, measure);
  put(text, layout.width - 4 - measure(text), 28, { kind: 'legend', full: label });
}
