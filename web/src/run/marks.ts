/**
 * Marks of a run's time axis: the decisions of controls.json (vertical lines in the network
 * panel, what was decided in the tooltip) and the freezes of freezes.json (shaded spans in the
 * frame view). Times come in ms on the point's clock; the axes are in s.
 */
import type { RunControlRecord, RunFreezes } from '../../../src/server/api-types.ts';

/** A colour per decider: the policy's own, a schedule's, a message's (stdin, client). */
export function deciderColour(from: string): string {
  return ({ policy: '#9467bd', schedule: '#8c564b' } as Record<string, string>)[from] ?? '#7f7f7f';
}

/** A rate in bit/s as people write it: 1.49 Mbit/s, 850 kbit/s. */
export function rateText(bps: number): string {
  const a = Math.abs(bps);
  if (a >= 1e9) return `${(bps / 1e9).toPrecision(3)} Gbit/s`;
  if (a >= 1e6) return `${(bps / 1e6).toPrecision(3)} Mbit/s`;
  if (a >= 1e3) return `${(bps / 1e3).toPrecision(3)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

/** A short label of what a decision changed: `1.49M`, `15 fps`, `640x360`, `key`. */
export function decisionLabel(d: RunControlRecord): string {
  const parts: string[] = [];
  if (d.bitrate !== undefined) parts.push(d.bitrate >= 1e6 ? `${(d.bitrate / 1e6).toPrecision(3)}M` : `${Math.round(d.bitrate / 1e3)}k`);
  if (d.fps !== undefined) parts.push(`${d.fps} fps`);
  if (d.resolution !== undefined) parts.push(d.resolution);
  if (d.keyframe) parts.push('key');
  return `${parts.join(' ') || 'none'}${d.rejected !== undefined ? ' (refused)' : ''}`;
}

/** An estimate's value: rates (fields ending _bps) as rates, other numbers to 4 digits. */
function estimateValue(k: string, v: number | string | null): string {
  if (typeof v !== 'number') return String(v);
  return k.endsWith('_bps') ? rateText(v) : String(Number(v.toPrecision(4)));
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const sec = (ms: number | null | undefined) => (typeof ms === 'number' && Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)} s` : 'never');

/** What a decision was, in tooltip lines (HTML, escaped): when, by whom, what, applied or refused, its stamps and the estimate behind it. */
export function decisionHtml(d: RunControlRecord): string {
  const what: string[] = [];
  if (d.bitrate !== undefined) what.push(`bitrate ${rateText(d.bitrate)}`);
  if (d.fps !== undefined) what.push(`${d.fps} fps`);
  if (d.resolution !== undefined) what.push(`resolution ${d.resolution}`);
  if (d.keyframe) what.push('a keyframe');
  const lines = [`<b>decision at ${sec(d.t)}</b> by ${esc(d.from)}: ${esc(what.join(', ') || 'no change')}`];
  if (d.rejected !== undefined) lines.push(`refused: ${esc(d.rejected)}`);
  else {
    if (d.applied !== undefined) lines.push(`applied: ${esc(d.applied)}`);
    if (d.encodedFrame !== undefined) lines.push(`first encoded: frame ${d.encodedFrame ?? '?'} at ${sec(d.encodedMs)}; first shown: ${d.shownFrame != null ? `frame ${d.shownFrame} at ${sec(d.shownMs)}` : 'never'}`);
  }
  if (d.estimate)
    lines.push(
      `estimate: ${Object.entries(d.estimate)
        .map(([k, v]) => `${esc(k)} ${esc(estimateValue(k, v))}`)
        .join(', ')}`,
    );
  return lines.join('<br>');
}

/**
 * The markLine items of the decisions: one vertical line per decision at its time (s), coloured by
 * who decided, labelled with what it changed where the previous label is at least `gapS` away.
 */
export function decisionLines(decisions: readonly RunControlRecord[], gapS: number): unknown[] {
  let lastLabel = -Infinity;
  return decisions.map((d) => {
    const s = d.t / 1000;
    const show = s - lastLabel >= gapS;
    if (show) lastLabel = s;
    return {
      xAxis: s,
      name: `${d.from}: ${decisionLabel(d)}`,
      lineStyle: { color: deciderColour(d.from), type: d.rejected !== undefined ? 'dotted' : 'solid', width: 1.2 },
      label: { show, formatter: decisionLabel(d), position: 'end', fontSize: 10, color: deciderColour(d.from) },
    };
  });
}

/** The decisions within `px` pixels of an axis value (toPx: the axis' time to pixels). */
export function decisionsNear(decisions: readonly RunControlRecord[], at: number, toPx: (s: number) => number, px = 6): RunControlRecord[] {
  const x = toPx(at);
  return decisions.filter((d) => Math.abs(toPx(d.t / 1000) - x) <= px);
}

/** A freeze's length, in words. */
export function freezeText(f: { fromMs: number; toMs: number }): string {
  return `freeze ${(f.fromMs / 1000).toFixed(3)} to ${(f.toMs / 1000).toFixed(3)} s: ${Math.round(f.toMs - f.fromMs)} ms without a new picture`;
}

/** The markArea items of the freezes: a shaded span each (s), labelled `freeze`. */
export function freezeAreas(fr: RunFreezes, labels: boolean): unknown[] {
  return fr.freezes.map((f) => [{ xAxis: f.fromMs / 1000, name: 'freeze', itemStyle: { color: 'rgba(214,39,40,0.16)' }, label: { show: labels, formatter: 'freeze', position: 'insideTop', fontSize: 10, color: '#a00' } }, { xAxis: f.toMs / 1000 }]);
}

/** The freezes around an axis value (s). */
export function freezesAt(fr: RunFreezes | null, at: number): RunFreezes['freezes'] {
  return fr ? fr.freezes.filter((f) => at >= f.fromMs / 1000 && at <= f.toMs / 1000) : [];
}
