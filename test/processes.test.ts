// Processes chosen in the benchmark file (`recording.processes`) are recorded per label, checked
// against pidstat on the same pids over the same window; and what fails without a word elsewhere
// (custom probes, extraction rules, selectors that match nothing) is a flag on the point.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../src/base/errors.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-processes-'));
/** pidstat intervals of 1 s in the measured span. */
const INTERVALS = 5;

/**
 * The program under test. It starts two workers that differ in name, command line, CPU and
 * memory: `heavy` (comm sb-heavy, burns 6 ms of CPU per 14 ms asleep, holds 64 MB) and `light`
 * (argument sb-light, burns 2 ms per 18 ms asleep). Each stops itself (SIGSTOP) once set up.
 * Once the agent has had time to find them (its rescan period is 1 s), the driver starts
 * `pidstat -p HEAVY,LIGHT 1 N`, lets the workers run (SIGCONT) as soon as pidstat has taken its
 * first reading, and stops them again when pidstat prints its last report. So the workers use
 * CPU only inside pidstat's span, and the CPU seconds pidstat counts are all those of the point.
 * The burn is measured in CPU time, so a loaded machine stretches the cycle but does not
 * change what each cycle costs.
 */
const DRIVER = `
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
const N = ${INTERVALS};
const worker = (title, burnMs, sleepMs, mb, extra) => spawn(process.execPath, ['-e', \`
  \${title ? 'process.title = ' + JSON.stringify(title) + ';' : ''}
  const keep = Buffer.alloc(\${mb} * 1048576, 1);
  process.kill(process.pid, 'SIGSTOP');
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const cycle = () => { const end = cpu() + \${burnMs}; while (cpu() < end); keep[0]++; setTimeout(cycle, \${sleepMs}); };
  cycle();
\`, ...extra], { stdio: 'ignore' });
const heavy = worker('sb-heavy', 6, 14, 64, []);
const light = worker('', 2, 18, 0, ['sb-light']);
const pids = [heavy.pid, light.pid];
const state = (pid) => { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3); };
const threads = (pid) => Number(/^Threads:\\s+(\\d+)/m.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
while (!pids.every((p) => state(p) === 'T')) await sleep(20);
await sleep(1500);
const pidstat = spawn('pidstat', ['-h', '-u', '-r', '-p', pids.join(','), '1', String(N)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LC_ALL: 'C' } });
let text = '';
let started;
let span;
pidstat.stdout.on('data', (d) => {
  // pidstat prints its banner, then reads its first figures: the workers go just after.
  if (started === undefined) { started = performance.now(); for (const p of pids) process.kill(p, 'SIGCONT'); }
  text += d;
  const reports = text.split('\\n').filter((l) => /^\\d/.test(l)).length;
  if (span === undefined && reports >= N * pids.length) { for (const p of pids) process.kill(p, 'SIGSTOP'); span = (performance.now() - started) / 1000; }
});
await new Promise((r) => pidstat.once('close', r));
process.stdout.write(text);
console.log(JSON.stringify({ heavy: heavy.pid, light: light.pid, span, threads: { heavy: threads(heavy.pid), light: threads(light.pid) } }));
// The agent samples every 100 ms: let the last interval of work reach it before the point ends.
await sleep(500);
for (const p of pids) process.kill(p, 'SIGKILL');
`;

interface PidstatRow {
  pid: number;
  cpu: number;
  rssKb: number;
}

/** pidstat -h rows: the columns named by its '#' header line. */
function parsePidstat(text: string): PidstatRow[] {
  const header = text.split('\n').find((l) => l.startsWith('#'));
  assert.ok(header, `no pidstat header in:\n${text}`);
  const cols = header.slice(1).trim().split(/\s+/);
  return text
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const at = (name: string) => Number(f[cols.indexOf(name)]);
      return { pid: at('PID'), cpu: at('%CPU'), rssKb: at('RSS') };
    });
}

test('processes by name and by command line: CPU and RSS of each within 3 points / 5 % of pidstat on the same pid and window; a selector that matches nothing is flagged', async (t) => {
  const driver = join(work, 'driver.mjs');
  writeFileSync(driver, DRIVER);
  const file = join(work, 'procs.yaml');
  writeFileSync(
    file,
    `name: procs
workload:
  type: command
  argv: [${JSON.stringify(process.execPath)}, ${JSON.stringify(driver)}]
matrix: {case: 1}
recording:
  probes: {net: false, cpufreq: false, gpu: false}
  processes:
    - {label: heavy, name: sb-heavy}
    - {label: light, cmdline: ' sb-light$'}
    - {label: ghost, name: sb-no-such-process}
`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'procs-results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const p = set.points()[0]!;
  assert.equal(summary.ok, 1, `${summary.stoppedBy} ${JSON.stringify(p.outcome)}`);
  const dir = set.pointDir(p.key, p.rep);
  const out = readFileSync(join(dir, 'stdout.log'), 'utf8');
  const facts = JSON.parse(out.trim().split('\n').at(-1)!) as { heavy: number; light: number; span: number; threads: { heavy: number; light: number } };
  const rows = parsePidstat(out);

  // The window is the whole run of the command (no warm-up): wall_time_s long.
  const windowS = p.metrics['wall_time_s'] as number;
  for (const label of ['heavy', 'light'] as const) {
    const mine = rows.filter((r) => r.pid === facts[label]);
    assert.equal(mine.length, INTERVALS, `${label}: one pidstat report per interval`);
    // CPU seconds as pidstat counts them (its mean over its span), spread over the point's window:
    // outside pidstat's span the worker was stopped and used none.
    const truth = (mine.reduce((a, r) => a + r.cpu, 0) / mine.length) * (facts.span / windowS);
    const recorded = p.metrics[`local.proc.${label}.cpu_pct`] as number;
    assert.ok(Math.abs(recorded - truth) <= 3, `${label}: recorded ${recorded} % of a core, pidstat ${truth.toFixed(2)} % over the same window`);
    const rss = p.metrics[`local.proc.${label}.rss_mb`] as number;
    const truthRss = Math.max(...mine.map((r) => r.rssKb)) / 1024;
    assert.ok(Math.abs(rss - truthRss) <= Math.max(2, truthRss * 0.05), `${label}: recorded RSS ${rss} MB, pidstat ${truthRss.toFixed(1)} MB`);
    t.diagnostic(`${label}: CPU ${recorded} % (pidstat ${truth.toFixed(2)} %), RSS ${rss} MB (pidstat ${truthRss.toFixed(1)} MB)`);
    const threads = p.metrics[`local.proc.${label}.threads`] as number;
    assert.ok(threads >= facts.threads[label] && threads <= facts.threads[label] + 2, `${label}: ${threads} threads recorded, /proc said ${facts.threads[label]} at the end`);
  }
  // Two selections, two figures: the 64 MB the heavy worker holds is in its RSS only, and it
  // burns three times the CPU per cycle.
  const rssOf = (l: string) => p.metrics[`local.proc.${l}.rss_mb`] as number;
  assert.ok(rssOf('heavy') - rssOf('light') > 50, `heavy ${rssOf('heavy')} MB, light ${rssOf('light')} MB`);
  assert.ok((p.metrics['local.proc.heavy.cpu_pct'] as number) > (p.metrics['local.proc.light.cpu_pct'] as number));

  assert.deepEqual(
    p.flags.filter((f) => f.includes('selector')),
    ["process selector 'ghost' (name sb-no-such-process) matched nothing on local"],
  );
  const db = await openSetDatabase([set]);
  try {
    const series = (await db.conn.runAndReadAll(`SELECT name, count(*) AS n, max(value) AS top FROM samples WHERE probe = 'proc' AND name LIKE 'proc.%.cpu_pct' GROUP BY name ORDER BY name`)).getRowObjectsJson();
    const byName = Object.fromEntries(series.map((r) => [r['name'] as string, r]));
    for (const label of ['heavy', 'light']) assert.ok(Number(byName[`proc.${label}.cpu_pct`]?.['n']) >= 20, `the series of ${label} in samples.parquet: ${JSON.stringify(series)}`);
    assert.equal(Number(byName['proc.ghost.cpu_pct']?.['top']), 0);
  } finally {
    db.close();
  }
});

test('what failed in silence is a flag on the point: a missing custom probe, one printing non-JSON, one printing no number, an extraction rule that never matched', async () => {
  const file = join(work, 'silent.yaml');
  writeFileSync(
    file,
    `name: silent
workload:
  type: command
  argv: [${JSON.stringify(process.execPath)}, -e, "console.log('fps=30'); setTimeout(() => 0, 1500)"]
  metrics:
    - {regex: 'fps=(?<fps>\\d+)'}
    - {regex: 'latency=(?<latency_ms>[\\d.]+)', from: stderr}
matrix: {case: 1}
recording:
  probes: {net: false, cpufreq: false, gpu: false}
  custom:
    - {name: gone, run: [streambench-no-such-probe], format: jsonl, interval: 200ms}
    - {name: garbled, run: [echo, 'fps: 30'], format: jsonl, interval: 200ms}
    - {name: words, run: [echo, '{"codec": "h264"}'], format: jsonl, interval: 200ms}
    - {name: fine, run: [echo, '{"fps": 30}'], format: jsonl, interval: 200ms}
`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'silent-results'), b.name);
  const summary = await runBenchmark(b, { results: set, signal: new AbortController().signal });
  assert.equal(summary.ok, 1, summary.stoppedBy);
  const p = set.points()[0]!;
  assert.equal(p.metrics['fps'], 30);
  const flags = p.flags.filter((f) => !f.startsWith('peak_rss_mb'));
  const expected = [
    /^workload\.metrics\[1\] \(regex 'latency=\(\?<latency_ms>\[\\d\.\]\+\)'\) matched nothing in stderr: no metric from it$/,
    /^probe custom\.gone failed on local \(\d+ samples?\): streambench-no-such-probe could not start \(spawn streambench-no-such-probe ENOENT\) \(see agents\.log\)$/,
    /^probe custom\.garbled failed on local \(\d+ samples?\): echo printed unreadable jsonl: line 1 is not JSON: fps: 30 \(see agents\.log\)$/,
    /^custom probe 'words' gave no value on local: no run of it finished with a number in its output \(see agents\.log\)$/,
  ];
  assert.equal(flags.length, expected.length, flags.join('\n'));
  for (const re of expected)
    assert.ok(
      flags.some((f) => re.test(f)),
      `no flag like ${re} in:\n${flags.join('\n')}`,
    );
  // The agent's log says each reason once, not once per failed sample.
  const log = readFileSync(join(set.dir, 'agents.log'), 'utf8');
  assert.equal(log.match(/probe custom\.gone failed/g)?.length, 1, log);
});

test("recording.processes is checked with file:line: one criterion, a regex that compiles, a known role, `on` where several, one label per role, none of the workload's own", async () => {
  const file = join(work, 'bad-processes.yaml');
  writeFileSync(
    file,
    `name: bad
workload: {type: stream}
matrix: {codec: h264}
recording:
  processes:
    - {label: server, name: x11vnc, on: guest}
    - {label: viewer, cmdline: 'vncviewer (', on: client}
    - {label: db, cgroup: system.slice/postgresql.service, on: hots}
    - {label: server, name: Xorg, on: guest}
    - {label: both, name: a, cmdline: b, on: host}
    - {label: none, on: host}
    - {label: noon, name: x}
    - {label: guest, name: y, on: guest}
    - {label: server, name: x11vnc, on: client}
`,
  );
  const err = await loadBenchmark(file).then(
    () => assert.fail('accepted'),
    (e: unknown) => e as InputError,
  );
  assert.ok(err instanceof InputError);
  const lines = err.problems.map((p) => `${p.pos.line}: ${p.message}`);
  assert.deepEqual(lines, [
    '7: Invalid regular expression: /vncviewer (/: Unterminated group',
    "8: no agent has role 'hots'",
    "9: label 'server' is used twice on role guest (also recording.processes[0])",
    "10: process 'both' needs exactly one of name, cmdline, cgroup, pid (it has name and cmdline)",
    "11: process 'none' needs exactly one of name, cmdline, cgroup, pid",
    "12: process 'noon' needs `on`: the workload has several roles (guest, host, client)",
    "13: label 'guest' is taken by the stream workload's own processes",
  ]);

  // A command workload has one role: `on` defaults to it.
  const ok = join(work, 'one-role.yaml');
  writeFileSync(ok, `name: one\nworkload: {type: command, argv: ["true"]}\nmatrix: {a: 1}\nrecording:\n  processes: [{label: db, cgroup: postgresql.service}]\n`);
  assert.deepEqual((await loadBenchmark(ok)).recording?.processes, [{ label: 'db', role: 'local', cgroup: 'postgresql.service' }]);
});
