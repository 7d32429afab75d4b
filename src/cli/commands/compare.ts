/** `streambench compare BASE NEW`: which differences between two result sets are real, and a gate for CI. */
import { ExitCode, InputError } from '../../base/errors.ts';
import { compare, parseRule, type Change, type CompareResult } from '../../analyze/compare.ts';
import { compareSetOf, metricOf, openModelSource } from '../../analyze/load.ts';
import { setDifferences, type FieldDiff, type SetDifferences } from '../../analyze/setinfo.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';
import { renderTable } from '../table.ts';
import { openSet } from './results.ts';
import { conditionsSummary } from '../../store/conditions.ts';
import type { ResultSet } from '../../store/resultset.ts';

export const compareSpec = {
  name: 'compare',
  summary: 'Compare two result sets run by run: real changes with intervals and a corrected test; --fail-on gates CI.',
  usage: 'streambench compare BASE NEW [--metric M]... [--fail-on RULE]... [--alpha A] [--all] [--json]',
  help: [
    'BASE and NEW are result set directories, or names of sets below --root. Runs are matched by their',
    'parameter values (typed: 2M and 2000000 are one value), not by point key, which also covers',
    'workload details. Per matched point and metric: the change of the mean, its 95 % interval, and a',
    "test that suits the repetitions: Welch's t test when both sides have two runs or more, else a t",
    "test against the metric's pooled noise of repetitions (none without any repetition). p-values are",
    "corrected for the number of comparisons by Holm's step-down method (it bounds the chance of any",
    'false alarm in the family); a change is real when its corrected p is under --alpha. The correction',
    'family is the metrics --fail-on names (every test of them), so that metrics shown beside the gate',
    'take none of its power; the other metrics are corrected among themselves and gate nothing. With no',
    '--fail-on, the family is every compared metric. The output says which. Also lists what differs',
    'besides the results: the workload fields of the benchmark files each set keeps, and the machines',
    '(CPU model, cores, memory, kernel, OS, Node and tool versions, from agents.json).',
    '',
    'Exit code 6 when a real change breaks a --fail-on rule (0 otherwise): a gate for CI.',
    '',
    '  --root DIR            where result sets are looked for (default: results)',
    '  --metric M            compare this numeric summary metric (repeatable; default: every one both have)',
    '  --fail-on RULE        METRIC>+N% or METRIC<-N% (relative to BASE), or METRIC>+N in its unit,',
    "                        e.g. --fail-on 'latency.p95>+5%' (repeatable)",
    '  --alpha A             level of the corrected test (default 0.05)',
    '  --all                 list every comparison, not only the real changes',
    '  --json                the answer as JSON: {correction, family {metrics, tests, by: fail-on|compared},',
    '                        others {metrics, tests} (with --fail-on), alpha, matched, onlyBase, onlyNew, changes',
    '                        [{params, metric, base {mean, n}, new {mean, n}, change, relative, ci, test, df,',
    '                        p, pAdj, real, family: gated|other}], failures, fail, notes, differences {workload, machines, notes},',
    '                        conditions {base, new: {flagged, notChecked, conditions, line}}}',
  ].join('\n'),
  options: {
    root: { type: 'string' },
    metric: { type: 'string', multiple: true },
    'fail-on': { type: 'string', multiple: true },
    alpha: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
  },
} satisfies CommandSpec;

/** Runs `streambench compare BASE NEW ...`; returns 6 when a --fail-on rule is broken by a real change. */
export async function compareCommand(argv: string[], out: NodeJS.WriteStream): Promise<number> {
  const a = parseCommand(compareSpec, argv);
  if (a.values.help) return (out.write(helpText(compareSpec)), 0);
  const [baseArg, newArg, ...extra] = a.positionals;
  if (!baseArg || !newArg || extra.length > 0) throw InputError.single('streambench compare', 'expected two result sets: BASE NEW', compareSpec.usage);
  const alpha = a.values.alpha === undefined ? 0.05 : Number(a.values.alpha);
  if (!(alpha > 0 && alpha < 1)) throw InputError.single('--alpha', `'${a.values.alpha}' is not a level between 0 and 1`, 'e.g. --alpha 0.01');
  // Rules are checked before any set is read: a typo in a CI gate should not wait for the data.
  const failOn = a.values['fail-on'] ?? [];
  failOn.forEach(parseRule);
  const root = a.values.root ?? 'results';
  const base = openSet(baseArg, root);
  const next = openSet(newArg, root);
  // A comparison is run by run: every ok run stands on both sides (its flags travel in the per-run figures).
  const [sb, sn] = [await openModelSource(base, undefined, { includeFlagged: true }), await openModelSource(next, undefined, { includeFlagged: true })];
  for (const m of [...(a.values.metric ?? []), ...failOn.map((f) => parseRule(f).metric)]) {
    metricOf(sb, m);
    metricOf(sn, m);
  }
  const r = compare(compareSetOf(sb), compareSetOf(sn), { ...(a.values.metric ? { metrics: a.values.metric } : {}), failOn, alpha });
  const differences = setDifferences(base, next);
  // Whether each side's figures can be trusted: flagged runs and the conditions they were recorded in.
  const conditions = { base: sideConditions(base), new: sideConditions(next) };
  if (a.values.json) out.write(`${JSON.stringify({ ...r, differences, conditions }, null, 2)}\n`);
  else out.write(compareText(base.dir, next.dir, r, differences, Boolean(a.values.all), (m) => sb.metrics.find((x) => x.name === m)?.unit ?? '') + conditionLines(conditions));
  return r.fail ? ExitCode.regression : ExitCode.ok;
}

/** A side's flagged runs and its conditions' line. */
function sideConditions(set: ResultSet): { flagged: number; notChecked: number; conditions: Record<string, number>; line: string | null } {
  const c = conditionsSummary(set.points());
  return { flagged: c.flagged, notChecked: c.notChecked, conditions: c.byCode, line: c.line };
}

function conditionLines(c: { base: { flagged: number; line: string | null }; new: { flagged: number; line: string | null } }): string {
  const lines: string[] = [];
  for (const [side, x] of [
    ['base', c.base],
    ['new', c.new],
  ] as const)
    if (x.line || x.flagged > 0) lines.push(`conditions of ${side}: ${x.flagged} flagged run(s)${x.line ? `; ${x.line}` : ''}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function num(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '-' : String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

const setting = (p: Record<string, number | string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

function changeRows(cs: readonly Change[], unit: (m: string) => string, families: boolean): (string | number)[][] {
  return cs.map((c) => [
    c.metric,
    setting(c.params),
    `${num(c.base.mean)} (${c.base.n})`,
    `${num(c.new.mean)} (${c.new.n})`,
    `${c.change >= 0 ? '+' : ''}${num(c.change)}${unit(c.metric) ? ` ${unit(c.metric)}` : ''} [${num(c.ci[0])}, ${num(c.ci[1])}]`,
    Number.isFinite(c.relative) ? `${c.relative >= 0 ? '+' : ''}${(c.relative * 100).toFixed(1)} %` : '-',
    c.test,
    num(c.pAdj),
    ...(families ? [c.family] : []),
    c.real ? 'real' : '',
  ]);
}

/** Which tests were corrected together: the gate's family, and the others' when rules name some metrics. */
export function familyLine(r: Pick<CompareResult, 'family' | 'others' | 'alpha'>): string {
  const f = r.family;
  const list = (ms: readonly string[]) => (ms.length <= 6 ? ms.join(', ') : `${ms.slice(0, 6).join(', ')}, ... (${ms.length} metrics)`);
  if (f.by === 'compared') return `correction family (Holm at ${r.alpha}): every compared metric, ${f.metrics.length} metric(s), ${f.tests} test(s)`;
  const others = r.others && r.others.metrics.length > 0 ? `; the other ${r.others.metrics.length} metric(s) (${r.others.tests} test(s)) are corrected among themselves and gate nothing` : '';
  return `correction family (Holm at ${r.alpha}): the gated metric(s) ${list(f.metrics)}, ${f.tests} test(s)${others}`;
}

function diffLines(title: string, ds: readonly FieldDiff[]): string[] {
  if (ds.length === 0) return [`${title}: none`];
  return [
    `${title}:`,
    renderTable(
      ['field', 'base', 'new'],
      ds.map((d) => [d.field, d.base.join(' | ') || '(absent)', d.new.join(' | ') || '(absent)']),
    ),
  ];
}

function compareText(baseDir: string, newDir: string, r: CompareResult, d: SetDifferences, all: boolean, unit: (m: string) => string): string {
  const metrics = new Set(r.changes.map((c) => c.metric)).size;
  const real = r.changes.filter((c) => c.real);
  const lines = [`${baseDir} -> ${newDir}: ${r.matched} matched point(s), ${metrics} metric(s), ${r.changes.length} comparisons; Holm-corrected at ${r.alpha}: ${real.length} real change(s)`];
  lines.push(familyLine(r));
  if (r.onlyBase.length > 0) lines.push(`only in base: ${r.onlyBase.length} point(s), e.g. ${setting(r.onlyBase[0]!)}`);
  if (r.onlyNew.length > 0) lines.push(`only in new: ${r.onlyNew.length} point(s), e.g. ${setting(r.onlyNew[0]!)}`);
  const shown = all ? r.changes : real;
  const families = r.others !== undefined && r.others.metrics.length > 0;
  if (shown.length > 0) lines.push('', renderTable(['metric', 'setting', 'base (runs)', 'new (runs)', 'change [95 % CI]', 'relative', 'test', 'p (Holm)', ...(families ? ['family'] : []), ''], changeRows(shown, unit, families)));
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push('', 'besides the results:', ...diffLines('  workload', d.workload), ...diffLines('  machines', d.machines));
  for (const n of d.notes) lines.push(`note: ${n}`);
  if (r.failures.length > 0) {
    lines.push('', `FAIL: ${r.failures.length} real change(s) beyond --fail-on:`);
    for (const f of r.failures) lines.push(`  ${f.rule}: ${setting(f.params)}: ${f.change >= 0 ? '+' : ''}${num(f.change)} (${Number.isFinite(f.relative) ? `${(f.relative * 100).toFixed(1)} %` : '-'})`);
  }
  return `${lines.join('\n')}\n`;
}
