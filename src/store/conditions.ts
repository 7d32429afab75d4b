/**
 * Reading a run's conditions (what it checked about itself: src/config/conditions.ts) the same
 * way everywhere: the flags a view counts, whether a run is saturated, and the one line a report
 * or the GUI says about a whole set. A record written before the checks existed is "not
 * checked", never clean.
 */
import { CONDITION_CODES, CONDITION_DOCS, type ConditionCode } from '../config/conditions.ts';
import type { PointRecord } from './records.ts';

/** Every flag of a run: what went wrong in its recording, then each condition that flags it (`code: reason`). */
export function runFlags(r: PointRecord): string[] {
  return [...r.flags, ...(r.conditions?.found ?? []).filter((c) => c.severity === 'flag').map((c) => `${c.code}: ${c.reason}`)];
}

/** Whether the run found this condition about itself. */
export function hasCondition(r: PointRecord, code: ConditionCode): boolean {
  return (r.conditions?.found ?? []).some((c) => c.code === code);
}

/** What a set's ok runs found about their conditions. */
export interface ConditionsSummary {
  /** Ok runs counted. */
  runs: number;
  /** Runs recorded before conditions were checked. */
  notChecked: number;
  /** Runs with at least one flag (recording problems or a flagging condition). */
  flagged: number;
  /** Runs that found each condition. */
  byCode: Partial<Record<ConditionCode, number>>;
  /** One line for a report's or the GUI's header, to follow `Conditions: `; null when there is nothing to say. */
  line: string | null;
}

/** The conditions of a set's ok runs, counted, and said in one line. */
export function conditionsSummary(records: readonly PointRecord[]): ConditionsSummary {
  const ok = records.filter((r) => r.outcome.status === 'ok');
  const byCode: Partial<Record<ConditionCode, number>> = {};
  for (const r of ok) for (const code of new Set((r.conditions?.found ?? []).map((c) => c.code))) byCode[code] = (byCode[code] ?? 0) + 1;
  const notChecked = ok.filter((r) => r.conditions === undefined).length;
  const flagged = ok.filter((r) => runFlags(r).length > 0).length;
  const of = (n: number) => (n === ok.length ? `all ${n}` : `${n} of ${ok.length}`);
  const parts: string[] = [];
  if (byCode.saturated) parts.push(`recorded saturated in ${of(byCode.saturated)} runs (a machine busy on at least 90 % of its cores: their CPU figures measure contention)`);
  if (byCode.roles_share_machine) parts.push(`roles shared a machine in ${of(byCode.roles_share_machine)} runs (their CPU figures share its cores)`);
  const others = CONDITION_CODES.filter((c) => c !== 'saturated' && c !== 'roles_share_machine' && byCode[c]);
  if (others.length > 0) parts.push(`also flagged: ${others.map((c) => `${c} ${byCode[c]}`).join(', ')}`);
  if (notChecked > 0) parts.push(`not checked in ${of(notChecked)} runs (recorded before streambench checked saturation, skipped frames and clocks)`);
  const line = parts.length > 0 ? `${parts.join('; ')}.` : null;
  return { runs: ok.length, notChecked, flagged, byCode, line };
}

/** The codes a condition summary can name, with what each means (for a legend). */
export function conditionLegend(): { code: ConditionCode; severity: 'flag' | 'note'; when: string }[] {
  return CONDITION_CODES.map((code) => ({ code, ...CONDITION_DOCS[code] }));
}
