// The table of points: which metric columns it shows, and that it says what it leaves out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import type { MetricValue, PointRecord } from '../store/records.ts';
import { DEFAULT_METRIC_COLUMNS, flagLines, summaryMetrics, summaryTable } from './summary.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

function point(i: number, metrics: Record<string, MetricValue>, flags: string[] = []): PointRecord {
  return {
    format: 1,
    key: `k${i}`,
    rep: 1,
    index: i,
    params: { crf: 20 + i },
    outcome: { status: 'ok' },
    attempts: 1,
    workload: 'command',
    benchmark: { name: 'b', sha256: 'x' },
    startedAt: '',
    endedAt: '',
    wallS: 1,
    metrics,
    files: [],
    flags,
  };
}

// 14 metrics: the command's 3 main ones, exit_code, and 10 of the local agent.
const METRICS = (i: number): Record<string, MetricValue> => ({
  wall_time_s: 1.5 + i / 1000,
  cpu_pct: 99.1 + i / 100,
  peak_rss_mb: 12,
  exit_code: 0,
  ...Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`local.proc.p${j}.cpu_pct`, j + i / 3])),
});
const records = [point(1, METRICS(1)), point(2, METRICS(2), ['stopped at the end of its duration'])];

test('without a terminal: the main metric columns, then a line counting the hidden ones and saying how to see them', () => {
  const lines = summaryTable(records, ['crf']).split('\n');
  assert.equal(lines[0]!.split(/\s{2,}/).length, 3 + DEFAULT_METRIC_COLUMNS);
  assert.match(lines[0]!, /^crf\s+rep\s+status\s+wall_time_s\s+cpu_pct\s+peak_rss_mb\s+local\.proc\.p0\.cpu_pct/);
  // cpu_pct 99.11 and 99.12 need 4 digits; p1's 1.3333 and 1.6667 need 3.
  assert.match(lines[2]!, /^21\s+1\s+ok\s+1\.501\s+99\.11\s+12\s+0\.333\s+1\.33\s/);
  assert.equal(lines.at(-1), "9 of 14 metric columns shown; 5 hidden (local.proc.p6.cpu_pct, local.proc.p7.cpu_pct, local.proc.p8.cpu_pct, local.proc.p9.cpu_pct, exit_code): --metrics PATTERN shows those it matches, e.g. --metrics 'local.*', or --metrics '*' for all.");
  assert.match(lines.at(-2)!, /^\(numbers rounded to 3 to 4 significant digits, .* `results export` has them in full\)$/);
});

test('on a terminal: as many metric columns as fit its width; --metrics: every match and only those, or an input error', () => {
  const narrow = summaryMetrics(records, ['crf'], { width: 60 }).shown;
  const wide = summaryMetrics(records, ['crf'], { width: 400 }).shown;
  assert.deepEqual(narrow, ['wall_time_s', 'cpu_pct', 'peak_rss_mb']);
  assert.equal(wide.length, 13, 'all but exit_code');
  for (const line of summaryTable(records, ['crf'], { width: 100 }).split('\n').slice(0, 4)) assert.ok(line.length <= 100, line);

  const picked = summaryTable(records, ['crf'], { metrics: ['*.p1?.*', '/^exit/'] }).split('\n');
  assert.match(picked[0]!, /^crf\s+rep\s+status\s+exit_code$/);
  assert.equal(picked.at(-1), "1 of 14 metric columns match --metrics '*.p1?.*' '/^exit/'.");
  assert.throws(
    () => summaryTable(records, ['crf'], { metrics: ['wal_time_s'] }),
    (e: unknown) => e instanceof InputError && /matches none of the 14 metrics.*did you mean 'wall_time_s'/s.test(e.message),
  );
});

test('flags under the table: one line per kind, counted over the points', () => {
  const flagged = [
    point(1, {}, ['stopped at the end of its duration', "process selector 'x' (name y) matched nothing on local"]),
    point(2, {}, ['stopped at the end of its duration', 'probe custom.a failed on local (3 samples): boom']),
    point(3, {}, ['probe custom.a failed on local (12 samples): boom']),
  ];
  assert.deepEqual(flagLines(flagged), [
    // Records without conditions (written before they were checked) are never shown as clean.
    'Conditions: not checked in all 3 runs (recorded before streambench checked saturation, skipped frames and clocks).',
    'Flags (each point.json has its own):',
    '  2 points (e.g. k1 r1): stopped at the end of its duration',
    "  1 point (k1 r1): process selector 'x' (name y) matched nothing on local",
    '  2 points (e.g. k2 r1): probe custom.a failed on local (3 samples): boom',
  ]);
  assert.deepEqual(flagLines([{ ...point(1, {}), conditions: { checked: ['saturated'], notChecked: [], found: [] } }]), []);
});
