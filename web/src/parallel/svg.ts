/**
 * The parallel coordinates as an SVG file: what the canvases show, as a figure to keep: every axis
 * with its name, its unit (or `parameter`), its ticks and `log` where it is logarithmic; each
 * brush as a rectangle on its axis with the range it keeps written beside it; the selected runs'
 * lines in their colours; and the colour legend with its metric, unit and ends.
 */
import { escapeHtml } from '../dom.ts';
import { axisX, colourAt, fmt, posY, ticks, PALETTE, type Layout, type OverlayInput } from './draw.ts';
import { brushSpan, type Axis, type Brush } from './model.ts';

/** What a brush keeps, in words: `12.5 to 80 ms`, or its categories. */
export function brushText(axis: Axis, b: Brush): string {
  if ('cats' in b) return b.cats.join(', ');
  return `${fmt(b.lo)} to ${fmt(b.hi)}${axis.unit ? ` ${axis.unit}` : ''}`;
}

/** The plot as SVG text (see the file's comment); `colour[i]` is run i's place on the colour scale (0..1), `legend` the colouring metric. */
export function svgOf(layout: Layout, axes: readonly Axis[], mask: Uint8Array, colour: Float32Array | undefined, brushes: readonly Brush[], legend: OverlayInput['colour']): string {
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="#fff"/>`];
  const y = (p: number) => posY(layout, p).toFixed(1);
  const esc = (s: string) => escapeHtml(s);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const pts = axes.map((a, k) => (a.pos[i]! === a.pos[i]! ? `${axisX(layout, k, axes.length).toFixed(1)},${y(a.pos[i]!)}` : '')).filter(Boolean);
    const t = colour ? colour[i]! : NaN;
    parts.push(`<polyline fill="none" stroke-opacity="0.5" stroke="${t === t ? colourAt(t) : '#5f6368'}" points="${pts.join(' ')}"/>`);
  }
  axes.forEach((a, k) => {
    const x = axisX(layout, k, axes.length);
    parts.push(`<line x1="${x}" x2="${x}" y1="${y(1)}" y2="${y(0)}" stroke="#202124"/><text x="${x}" y="14" text-anchor="middle" font-weight="bold">${esc(a.name)}</text>`);
    const sub = [a.unit ? `(${a.unit})` : a.kind === 'param' ? 'parameter' : '', a.log ? 'log' : ''].filter(Boolean).join(' ');
    if (sub) parts.push(`<text x="${x}" y="28" text-anchor="middle" font-size="10" fill="#5f6368">${esc(sub)}</text>`);
    if (a.type === 'categorical') {
      (a.categories ?? []).forEach((c, j, all) => {
        const p = all.length === 1 ? 0.5 : j / (all.length - 1);
        parts.push(`<text x="${x - 4}" y="${(posY(layout, p) + 4).toFixed(1)}" text-anchor="end">${esc(c)}</text>`);
      });
    } else {
      for (const v of ticks(a)) {
        const p = a.log ? (Math.log(v) - Math.log(a.min)) / (Math.log(a.max) - Math.log(a.min)) : a.max === a.min ? 0.5 : (v - a.min) / (a.max - a.min);
        parts.push(`<text x="${x - 4}" y="${(posY(layout, p) + 4).toFixed(1)}" text-anchor="end">${esc(fmt(v))}</text>`);
      }
    }
    const b = brushes.find((x2) => x2.axis === a.name);
    if (b) {
      const [lo, hi] = brushSpan(a, b);
      const top = posY(layout, hi);
      const h = Math.max(2, posY(layout, lo) - top);
      parts.push(
        `<rect class="brush" data-axis="${esc(a.name)}" x="${x - 7}" y="${top.toFixed(1)}" width="14" height="${h.toFixed(1)}" fill="#1a73e8" fill-opacity="0.25" stroke="#1a73e8"><title>${esc(`${a.name}: ${brushText(a, b)}`)}</title></rect>`,
        `<text x="${x + 9}" y="${(top + 10).toFixed(1)}" font-size="10" fill="#1a73e8">${esc(brushText(a, b))}</text>`,
      );
    }
  });
  if (legend) {
    const x = layout.width - 70;
    const stops = PALETTE.map((c, i) => `<stop offset="${(i / (PALETTE.length - 1)).toFixed(3)}" stop-color="${c}"/>`).join('');
    const label = legend.unit ? `${legend.name} (${legend.unit})` : legend.name;
    parts.push(
      `<defs><linearGradient id="colour-scale" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`,
      `<g class="legend"><text x="${layout.width - 4}" y="14" text-anchor="end" font-weight="bold" font-size="10">colour</text><text x="${layout.width - 4}" y="28" text-anchor="end" font-size="10">${esc(label)}</text>`,
      `<rect x="${x}" y="${y(1)}" width="14" height="${(posY(layout, 0) - posY(layout, 1)).toFixed(1)}" fill="url(#colour-scale)"/>`,
      `<text x="${x + 18}" y="${(posY(layout, 1) + 4).toFixed(1)}" font-size="10">${esc(fmt(legend.max))}</text><text x="${x + 18}" y="${(posY(layout, 0) - 4).toFixed(1)}" font-size="10">${esc(fmt(legend.min))}</text>${legend.log ? `<text x="${x + 18}" y="${((posY(layout, 0) + posY(layout, 1)) / 2).toFixed(1)}" font-size="10">log</text>` : ''}</g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
