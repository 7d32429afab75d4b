// `streambench compare`: three sets of one benchmark recorded by the real engine (a program that
// waits 300 ms per job and says how long it waited): the base, the same benchmark rerun, and a run
// where job `b` was made 1 s slower. The program's own figure leaves out node's start-up, which
// varies by a second on a loaded machine where a timer is late by milliseconds. The gate must stay quiet on the rerun and catch exactly job b on the slow one.
// Machines: two copies of a set recorded with agents (test/fixtures/sets/old-stream), one with
// another kernel in its agents.json, as a set recorded on an upgraded machine has.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { runCli } from './helpers/cli.ts';
import type { CompareResult } from '../src/analyze/compare.ts';
import type { SetDifferences } from '../src/analyze/setinfo.ts';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-compare-'));
after(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, { cwd: work });

/** The benchmark; `slow` names the job that waits 1 s more (through the environment, so the parameters stay equal). */
const bench = (slow: string) => `name: gate
workload:
  type: command
  argv: [node, -e, "const t = performance.now(); setTimeout(() => console.log('waited_s=' + (performance.now() - t) / 1000), 300 + (process.env.SLOW_JOB === process.argv[1] ? 1000 : 0))", "{job}"]
  env: {SLOW_JOB: ${slow}}
  metrics:
    - {keyvalue: true, unit: s, better: lower}
matrix:
  job: [a, b, c]
repeat: 3
recording: false
`;

async function record(name: string, slow: string): Promise<string> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, bench(slow));
  const b = await loadBenchmark(file);
  const dir = join(work, name);
  const s = await runBenchmark(b, { results: ResultSet.openOrCreate(dir, b.name), signal: new AbortController().signal });
  assert.equal(s.ok, 9, JSON.stringify(s));
  return dir;
}

let base = '';
let rerun = '';
let slow = '';
before(async () => {
  base = await record('base', 'none');
  rerun = await record('rerun', 'none');
  slow = await record('slow', 'b');
});

const GATE = ['--metric', 'waited_s', '--fail-on', 'waited_s>+50%', '--json'];
/** What `compare --json` prints (the conditions it adds are not read here). */
type CompareJson = CompareResult & { differences: SetDifferences };

test('a set against itself: every change is 0 and none is real', () => {
  const r = cli(['compare', base, base, ...GATE]);
  assert.equal(r.code, 0, r.err);
  const c = JSON.parse(r.out) as CompareJson;
  assert.equal(c.correction, 'holm');
  // The gate's correction family: the metric --fail-on names, one test per matched point.
  assert.deepEqual(c.family, { metrics: ['waited_s'], tests: 3, by: 'fail-on' });
  assert.deepEqual(c.others, { metrics: [], tests: 0 });
  assert.ok(c.changes.every((ch: { family: string }) => ch.family === 'gated'));
  assert.equal(c.matched, 3);
  assert.equal(c.changes.length, 3);
  for (const ch of c.changes) assert.equal(ch.change, 0);
  assert.equal(c.changes.filter((ch: { real: boolean }) => ch.real).length, 0);
});

test('the same benchmark rerun: the gate passes (exit 0), nothing beyond the threshold, no workload difference', () => {
  const r = cli(['compare', base, rerun, ...GATE]);
  assert.equal(r.code, 0, r.out + r.err);
  const c = JSON.parse(r.out) as CompareJson;
  assert.equal(c.matched, 3);
  assert.deepEqual(c.failures, []);
  assert.equal(c.fail, false);
  // A busy machine may shift every run a little (a real, small change): never by half.
  for (const ch of c.changes) assert.ok(!ch.real || Math.abs(ch.relative) < 0.5, JSON.stringify(ch));
  for (const ch of c.changes) assert.equal(ch.test, 'welch');
  assert.deepEqual(c.differences.workload, []);
  assert.match(c.differences.notes.join('\n'), /no agents\.json/);
});

test('one job made slower: exactly that change is real and beyond the threshold, exit 6; the workload field that differs is listed', () => {
  const r = cli(['compare', base, slow, ...GATE]);
  assert.equal(r.code, 6, r.out + r.err);
  const c = JSON.parse(r.out) as CompareJson;
  assert.equal(c.fail, true);
  assert.deepEqual(
    c.failures.map((f) => f.params['job']),
    ['b'],
  );
  const b = c.changes.find((ch) => ch.params['job'] === 'b');
  assert.ok(b);
  assert.equal(b.real, true);
  // 1 s added; a timer may be late by some milliseconds, never early.
  assert.ok(b.change > 0.9 && b.change < 1.5 && b.ci[0] > 0.5, JSON.stringify(b));
  assert.deepEqual(c.differences.workload, [{ field: 'workload.env.SLOW_JOB', base: ['"none"'], new: ['"b"'] }]);

  const text = cli(['compare', base, slow, '--metric', 'waited_s', '--fail-on', 'waited_s>+50%']);
  assert.equal(text.code, 6);
  // The change as the table prints it: the fewest digits that say it (+1 when it was 1.0003 s).
  assert.match(text.out, /FAIL: 1 real change\(s\) beyond --fail-on:\n {2}waited_s>\+50%: job=b: \+(1|0\.9\d*|1\.\d+) /);
  assert.match(text.out, /workload\.env\.SLOW_JOB\s+"none"\s+"b"/);
  assert.match(text.out, /^correction family \(Holm at 0\.05\): the gated metric\(s\) waited_s, 3 test\(s\)$/m);
  // Without a rule, the family is every compared metric, and the output says so.
  const all = cli(['compare', base, slow]);
  assert.equal(all.code, 0, all.err);
  assert.match(all.out, /^correction family \(Holm at 0\.05\): every compared metric, \d+ metric\(s\), \d+ test\(s\)$/m);
});

test('a malformed rule or a misspelt metric is one line, exit 2', () => {
  const rule = cli(['compare', base, slow, '--fail-on', 'waited_s up 5%']);
  assert.equal(rule.code, 2);
  assert.match(rule.err, /^error: --fail-on: "waited_s up 5%" is not a rule: expected METRIC>\+N%/);
  const typo = cli(['compare', base, slow, '--metric', 'waited_ms']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /did you mean 'waited_s'\?/);
});

test('machines: a kernel changed between two sets is listed, the host name is not', () => {
  const a = join(work, 'machine-a');
  const b = join(work, 'machine-b');
  cpSync(join(root, 'test/fixtures/sets/old-stream'), a, { recursive: true });
  cpSync(join(root, 'test/fixtures/sets/old-stream'), b, { recursive: true });
  const agents = JSON.parse(readFileSync(join(b, 'agents.json'), 'utf8')) as Record<string, { facts: Record<string, string> }>;
  agents.client!.facts.kernel = '6.19.0-upgraded';
  for (const role of Object.keys(agents)) agents[role]!.facts.hostname = 'another-name';
  writeFileSync(join(b, 'agents.json'), JSON.stringify(agents));
  const r = cli(['compare', a, b, '--metric', 'client.bitrate', '--json']);
  assert.equal(r.code, 0, r.err);
  const c = JSON.parse(r.out) as CompareJson;
  assert.deepEqual(c.differences.machines, [{ field: 'client.kernel', base: ['"6.18.44-fc-v657"'], new: ['"6.19.0-upgraded"'] }]);
  assert.deepEqual(c.differences.workload, []);
});
