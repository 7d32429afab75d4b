/** Turns a program's output into metrics: regex named groups, JSON lines, or `key=value` blocks. */
import type { ExtractRule } from './declare.ts';
import type { MetricValue } from '../../store/records.ts';

export interface ProgramOutput {
  stdout: string;
  stderr: string;
}

// A number, optionally followed by a unit that programs glue to it: "809.8kbits/s", "81.6x", "12%".
const NUMBER_WITH_UNIT = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(?:[a-zA-Z%/]+(?:\/s)?)?\s*$/;

/** The value as a number when it reads as one (units dropped), else the trimmed text. */
export function parseMetricValue(text: string): MetricValue {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (m) {
    const n = Number(m[1]);
    if (Number.isFinite(n)) return n;
  }
  return text.trim();
}

/** Applies every rule in order; later rules overwrite earlier ones for the same metric name. */
export function extractMetrics(rules: readonly ExtractRule[], out: ProgramOutput): Record<string, MetricValue> {
  return extractWithReport(rules, out).metrics;
}

/** The metrics, and the index of each rule that gave none (so the point says so rather than lacking a column in silence). */
export function extractWithReport(rules: readonly ExtractRule[], out: ProgramOutput): { metrics: Record<string, MetricValue>; unmatched: number[] } {
  const metrics: Record<string, MetricValue> = {};
  const unmatched: number[] = [];
  rules.forEach((rule, i) => {
    const got = applyRule(rule, out[rule.from]);
    if (Object.keys(got).length === 0) unmatched.push(i);
    Object.assign(metrics, got);
  });
  return { metrics, unmatched };
}

/** A rule's kind as the benchmark file put it, for messages: `regex 'lat=(?<lat>\d+)'`, `jsonl`, `keyvalue`. */
export function describeRule(rule: ExtractRule): string {
  return rule.kind === 'regex' ? `regex '${rule.pattern.length > 60 ? `${rule.pattern.slice(0, 57)}...` : rule.pattern}'` : rule.kind;
}

/** One rule on one text. Exported for tests and for `streambench validate --try`-style checks. */
export function applyRule(rule: ExtractRule, text: string): Record<string, MetricValue> {
  switch (rule.kind) {
    case 'regex':
      return fromRegex(rule, text);
    case 'jsonl':
      return fromJsonLines(rule, text);
    case 'keyvalue':
      return fromKeyValue(rule, text);
  }
}

function fromRegex(rule: Extract<ExtractRule, { kind: 'regex' }>, text: string): Record<string, MetricValue> {
  const flags = rule.flags?.includes('g') ? rule.flags : `${rule.flags ?? ''}g`;
  const re = new RegExp(rule.pattern, flags);
  // Each match gives a set of named values; unnamed patterns give one value under `name`.
  const matches: Record<string, string>[] = [];
  for (const m of text.matchAll(re)) {
    if (m.groups && Object.keys(m.groups).length > 0) {
      const named: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups as Record<string, string | undefined>)) if (v !== undefined) named[k] = v; // a group that matched nothing is undefined
      matches.push(named);
    } else if (rule.name && m[1] !== undefined) {
      matches.push({ [rule.name]: m[1] });
    }
    if (m[0] === '') re.lastIndex++;
  }
  const take = rule.take ?? 'last';
  if (matches.length === 0) return {};
  if (take === 'last' || take === 'first') {
    const chosen = take === 'last' ? matches.at(-1)! : matches[0]!;
    return Object.fromEntries(Object.entries(chosen).map(([k, v]) => [k, parseMetricValue(v)]));
  }
  // Aggregates: over every match that gave a number for that name.
  const byName = new Map<string, number[]>();
  for (const match of matches) {
    for (const [k, v] of Object.entries(match)) {
      const n = parseMetricValue(v);
      if (typeof n !== 'number') continue;
      byName.set(k, [...(byName.get(k) ?? []), n]);
    }
  }
  const out: Record<string, MetricValue> = {};
  for (const [k, xs] of byName) out[k] = aggregate(take, xs);
  return out;
}

function aggregate(take: 'all-mean' | 'all-sum' | 'all-max' | 'all-min', xs: number[]): number {
  switch (take) {
    case 'all-sum':
      return xs.reduce((a, b) => a + b, 0);
    case 'all-mean':
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    case 'all-max':
      return Math.max(...xs);
    case 'all-min':
      return Math.min(...xs);
  }
}

function fromJsonLines(rule: Extract<ExtractRule, { kind: 'jsonl' }>, text: string): Record<string, MetricValue> {
  // Lines that are not JSON objects are ordinary log output and are skipped, not errors.
  const objects: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(s);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) objects.push(v as Record<string, unknown>);
    } catch {
      continue; // a log line that merely starts with '{'
    }
  }
  const chosen = (rule.take ?? 'last') === 'last' ? objects.at(-1) : objects[0];
  if (!chosen) return {};
  const out: Record<string, MetricValue> = {};
  flatten(chosen, rule.prefix ?? '', out);
  return out;
}

/** Nested objects become dotted names (`{"a":{"b":1}}` → `a.b`); arrays and nulls are left out. */
function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, MetricValue>): void {
  for (const [k, v] of Object.entries(obj)) {
    const name = `${prefix}${k}`;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out[name] = v;
    } else if (typeof v === 'string' || typeof v === 'boolean') {
      out[name] = v;
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      flatten(v as Record<string, unknown>, `${name}.`, out);
    }
  }
}

function fromKeyValue(rule: Extract<ExtractRule, { kind: 'keyvalue' }>, text: string): Record<string, MetricValue> {
  // Without block_end the whole output is one block; with it (FFmpeg's `progress`), the line
  // carrying that key closes a block.
  const blocks: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let has = false;
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][\w.\-]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    current[key] = value;
    has = true;
    if (rule.block_end !== undefined && key === rule.block_end) {
      blocks.push(current);
      current = {};
      has = false;
    }
  }
  if (has) blocks.push(current);
  const chosen = (rule.take ?? 'last') === 'last' ? blocks.at(-1) : blocks[0];
  if (!chosen) return {};
  const out: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(chosen)) out[`${rule.prefix ?? ''}${k}`] = parseMetricValue(v);
  return out;
}
