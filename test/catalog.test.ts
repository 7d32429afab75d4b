// Numbers stored as numbers, and every column of a result set described: real points of each
// workload store only metrics they declare; export, query, show and catalog over a stream sweep;
// sets written before this (test/fixtures/sets) keep their keys and open with the new names.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findMetric } from '../src/config/declare.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { RECORDING_METRICS } from '../src/config/registry.ts';
import { BUILTIN_WORKLOADS } from '../src/workloads/index.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { undeclaredMetrics, type Catalog } from '../src/store/catalog.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { parseClientLog, parseServerLog } from '../src/workloads/spice/logs.ts';
import { csvFields } from './helpers/csv.ts';
import { runCli } from './helpers/cli.ts';

const WORKLOAD_DECLS = Object.fromEntries(BUILTIN_WORKLOADS.map((m) => [m.def.type, m.def]));

const root = new URL('..', import.meta.url).pathname;
const FIXTURES = join(root, 'test/fixtures/sets');
const work = mkdtempSync(join(tmpdir(), 'sb-catalog-'));
after(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args);

async function run(name: string, yaml: string): Promise<ResultSet> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, yaml);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, `${name}-results`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  return set;
}

/** Column names of a view, and the distinct sample names, of a set. */
async function stored(set: ResultSet): Promise<{ frames: string[]; timeseries: string[]; samples: string[] }> {
  const db = await openSetDatabase([set]);
  try {
    const cols = async (view: string) => (await db.conn.runAndReadAll(`SELECT * FROM ${view} LIMIT 0`)).columnNames().filter((c) => !['set', 'point_key', 'rep'].includes(c));
    const samples = (await db.conn.runAndReadAll('SELECT DISTINCT name FROM samples')).getRows().map((r) => String(r[0]));
    return { frames: await cols('frames'), timeseries: await cols('timeseries'), samples };
  } finally {
    db.close();
  }
}

/** Every stored name the declarations do not cover, in each place a workload stores figures. */
async function undeclared(set: ResultSet, type: string): Promise<string[]> {
  const decls = [...WORKLOAD_DECLS[type]!.metrics, ...RECORDING_METRICS];
  const points = set.points();
  assert.ok(points.length > 0);
  const s = await stored(set);
  assert.ok(s.samples.length > 10, `the agents recorded samples: ${s.samples.length}`);
  return [
    ...points.flatMap((p) => undeclaredMetrics(p).map((m) => `summary ${m}`)),
    // A view no point feeds has only its key columns and t.
    ...s.frames.filter((c) => c !== 't' && !decls.some((d) => d.kind === 'frame' && d.name === c)).map((c) => `frames.${c}`),
    ...s.timeseries.filter((c) => c !== 't' && !decls.some((d) => d.view === 'timeseries' && d.name === c)).map((c) => `timeseries.${c}`),
    ...s.samples.filter((n) => !findMetric(RECORDING_METRICS, n, 'series')).map((n) => `samples ${n}`),
  ];
}

function catalogOf(dir: string): Catalog {
  const r = cli(['results', 'catalog', dir, '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Catalog;
}

/** The export's columns that the catalogue does not name (as a parameter, one of its columns, or a metric). */
function unnamed(csvHeader: string, c: Catalog): string[] {
  const named = new Set([
    'set',
    'point_key',
    'rep',
    'status',
    'error',
    'started_at',
    'wall_s',
    'flags',
    'conditions',
    ...c.params.flatMap((p) => [p.name, ...(p.label ? [p.label] : []), ...(p.columns ?? [])]),
    ...c.metrics.filter((m) => m.kind === 'summary').map((m) => m.column ?? m.name),
  ]);
  return csvHeader.split(',').filter((h) => !named.has(h));
}

test('a stream sweep: bitrate in bits/s, fps, width and height as numbers; sorted by value; labels shown; every column described', async () => {
  const set = await run(
    'sweep',
    `name: sweep
workload: {type: stream, codec: h264, scene: typing, net_delay: 2ms}
matrix:
  bitrate: [1M, 500k]
  resolution: [320x240, 352x288]
  fps: [15]
link: [[bitrate, resolution]]
duration: 1s
`,
  );
  const points = set.points();
  assert.deepEqual(
    points.map((p) => p.outcome.status),
    ['ok', 'ok'],
    JSON.stringify(points.map((p) => p.outcome)),
  );
  // The record keeps what was written and the typed value.
  const p1 = points.find((p) => p.params['bitrate'] === '1M')!;
  assert.deepEqual(p1.typed, { bitrate: 1_000_000, resolution: { width: 320, height: 240 }, fps: 15 });
  assert.deepEqual(await undeclared(set, 'stream'), [], 'the stream workload stores what it does not declare');

  const exp = cli(['results', 'export', set.dir, '--format', 'csv']);
  assert.equal(exp.code, 0, exp.err);
  const [header, ...lines] = exp.out.trim().split('\n');
  const cols = csvFields(header!);
  const rows = lines.map((l) => Object.fromEntries(csvFields(l).map((v, i) => [cols[i]!, v])));
  const one = rows.find((r) => r['bitrate.label'] === '1M')!;
  // Each row says whether to trust it: its conditions (here the roles shared this machine).
  assert.match(one['conditions'] ?? '', /roles_share_machine/);
  assert.equal(one['bitrate'], '1000000');
  assert.equal(one['resolution'], '320x240');
  assert.deepEqual([one['resolution.width'], one['resolution.height'], one['resolution.pixels'], one['fps']], ['320', '240', '76800', '15']);
  assert.equal(rows.find((r) => r['bitrate.label'] === '500k')!['bitrate'], '500000');
  // client.bitrate is in bits/s like the parameter: at a 1M target, a kbit/s figure would be at most about 1000.
  assert.ok(Number(one['client.bitrate']) > 5000, `client.bitrate ${one['client.bitrate']}`);

  // As text, '1M' sorts before '500k'; as a number, 500000 first.
  const q = cli(['results', 'query', set.dir, 'select bitrate, typeof(bitrate) as t, "resolution.pixels" as px from points order by bitrate']);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /^bitrate +t +px\n[- ]+\n500000 +BIGINT +101376\n1000000 +BIGINT +76800\n/);
  const show = cli(['results', 'show', set.dir]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^1M +320x240 +15 +1 +ok/m);
  assert.match(show.out, /^500k +352x288 +15 +1 +ok/m);

  const c = catalogOf(set.dir);
  const bitrate = c.params.find((p) => p.name === 'bitrate')!;
  assert.deepEqual({ type: bitrate.type, unit: bitrate.unit, range: bitrate.range, label: bitrate.label }, { type: 'bitrate', unit: 'bit/s', range: [500_000, 1_000_000], label: 'bitrate.label' });
  assert.deepEqual(c.params.find((p) => p.name === 'resolution')!.columns, ['resolution.width', 'resolution.height', 'resolution.pixels']);
  assert.deepEqual(unnamed(header!, c), [], 'export columns the catalogue does not describe');
  for (const m of c.metrics) {
    assert.ok('unit' in m && ['higher', 'lower', 'none'].includes(m.better) && m.doc !== '' && m.source !== 'undeclared', JSON.stringify(m));
  }
  const fps = c.metrics.find((m) => m.name === 'client.fps')!;
  assert.deepEqual([fps.unit, fps.better, fps.role, fps.kind], ['fps', 'higher', 'client', 'summary']);
  const proc = c.metrics.find((m) => m.name === 'guest.proc.guest.cpu_pct')!;
  assert.deepEqual([proc.unit, proc.role, proc.pattern], ['%', 'guest', '<role>.proc.<label>.cpu_pct']);
  assert.ok(c.metrics.some((m) => m.name === 'latency_ms' && m.kind === 'frame' && m.view === 'frames'));
});

test('a command point: what the file declares is described, what it does not has no unit and no direction', async () => {
  const set = await run(
    'cmd',
    `name: cmd
workload:
  type: command
  argv: [sh, -c, 'echo "lat={lat}"; echo "{{\\"fps\\": {crf}, \\"note\\": \\"{mode}\\"}}"']
  metrics:
    - {regex: 'lat=(?<latency_ms>[0-9.]+)', unit: ms, better: lower}
    - {jsonl: true, prefix: app., unit: {app.fps: fps}, better: {app.fps: higher}}
params:
  crf: {type: integer, unit: CRF, doc: "x264's constant rate factor"}
  delay: {type: duration}
matrix:
  crf: [23, 30]
  lat: [1.5]
  mode: [fast]
  delay: [20ms]
`,
  );
  assert.deepEqual(
    set.points().map((p) => p.outcome.status),
    ['ok', 'ok'],
  );
  assert.deepEqual(await undeclared(set, 'command'), [], 'the command workload stores what nothing declares');
  const c = catalogOf(set.dir);
  const param = (n: string) => c.params.find((p) => p.name === n)!;
  assert.deepEqual([param('crf').type, param('crf').unit, param('crf').source, param('crf').doc, param('crf').range], ['integer', 'CRF', 'file', "x264's constant rate factor", [23, 30]]);
  assert.deepEqual([param('delay').type, param('delay').unit, param('delay').values, param('delay').label], ['duration', 'ms', [20], 'delay.label']);
  assert.deepEqual([param('lat').type, param('lat').unit, param('lat').source], ['number', null, 'inferred']);
  assert.deepEqual([param('mode').type, param('mode').unit], ['text', null]);
  const metric = (n: string) => c.metrics.find((m) => m.name === n)!;
  assert.deepEqual([metric('latency_ms').unit, metric('latency_ms').better, metric('latency_ms').source], ['ms', 'lower', 'file']);
  assert.deepEqual([metric('app.fps').unit, metric('app.fps').better], ['fps', 'higher']);
  // Nothing said about app.note: no unit and no direction, never one guessed from its name.
  assert.deepEqual([metric('app.note').unit, metric('app.note').better, metric('app.note').pattern], [null, 'none', 'app.*']);
  assert.deepEqual([metric('cpu_pct').unit, metric('peak_rss_mb').unit, metric('local.agent.cpu_pct').role], ['%', 'MiB', 'local']);
  const q = cli(['results', 'query', set.dir, 'select "delay", "delay.label", crf from points order by crf']);
  assert.match(q.out, /^delay +delay\.label +crf\n[- ]+\n20 +20ms +23\n20 +20ms +30\n/);
});

test("the SPICE server's and client's logs give only metrics the spice workload declares (recorded logs)", () => {
  const decls = WORKLOAD_DECLS['spice']!.metrics;
  const dir = join(root, 'test/fixtures');
  const names = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.startsWith('spice-server-'))) for (const k of Object.keys(parseServerLog(readFileSync(join(dir, f), 'utf8')).metrics)) names.add(k);
  assert.ok(names.has('server.target_bitrate') && names.has('server.net_test_bitrate'), [...names].join(', '));
  assert.deepEqual(
    [...names].filter((n) => !findMetric(decls, n, 'summary')),
    [],
  );
  // The client's log is parsed into frames and streams, named by spice.ts (its real point in spice.test.ts checks those).
  assert.ok(parseClientLog(readFileSync(join(dir, 'remote-viewer-vp8.txt'), 'utf8')).frames.length > 0);
});

test('sets written before: every point keeps its key (a rerun runs nothing new), and they open with the new names and units', () => {
  const stream = join(work, 'old-stream');
  cpSync(join(FIXTURES, 'old-stream'), stream, { recursive: true });
  const bench = (dir: string) => join(dir, 'benchmarks', readdirSync(join(dir, 'benchmarks'))[0]!);
  const dry = cli(['run', bench(stream), '--results', stream, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /2 run\(s\): 2 already recorded, 0 to run/);
  const again = cli(['run', bench(stream), '--results', stream]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /0 ok, 0 failed, 2 already recorded/);
  assert.deepEqual(readdirSync(join(stream, 'points')).sort(), readdirSync(join(FIXTURES, 'old-stream', 'points')).sort(), 'no point was added');

  // The 3-point command set: its two ok points are recorded under their keys; the failed one would run again, under its own key.
  const cmd = join(work, 'old-3pt');
  cpSync(join(FIXTURES, 'old-3pt'), cmd, { recursive: true });
  const dry3 = cli(['run', bench(cmd), '--results', cmd, '--dry-run']);
  assert.match(dry3.out, /3 run\(s\): 2 already recorded, 1 to run/);
  for (const d of readdirSync(join(cmd, 'points'))) assert.ok(dry3.out.includes(d.replace(/-r1$/, '')), `${d} planned under its own key`);

  // Read with the new names: the old csv's client.bitrate (kbit/s) is now bits/s.
  const before = readFileSync(join(FIXTURES, 'old-stream.export.csv'), 'utf8').trim().split('\n');
  const oldCols = before[0]!.split(',');
  const exp = cli(['results', 'export', stream, '--format', 'csv']);
  const [header, ...lines] = exp.out.trim().split('\n');
  const cols = header!.split(',');
  assert.ok(cols.includes('client.cpu_pct') && !cols.includes('client.cpu_percent') && cols.includes('net.loss_measured_pct'), header);
  for (const [i, line] of before.slice(1).entries()) {
    const old = Object.fromEntries(line.split(',').map((v, j) => [oldCols[j]!, v]));
    const now = Object.fromEntries(lines[i]!.split(',').map((v, j) => [cols[j]!, v]));
    assert.equal(now['point_key'], old['point_key']);
    assert.ok(Math.abs(Number(now['client.bitrate']) - Number(old['client.bitrate']) * 1000) < 1e-6, `${now['client.bitrate']} bit/s, was ${old['client.bitrate']} kbit/s`);
    assert.equal(now['client.cpu_pct'], old['client.cpu_percent']);
    assert.equal(now['bitrate'], old['bitrate'] === '1M' ? '1000000' : '500000');
    assert.equal(now['bitrate.label'], old['bitrate']);
  }
  const show = cli(['results', 'show', stream]);
  assert.match(show.out, /^1M +1 +ok/m);
  const c = catalogOf(stream);
  assert.deepEqual(unnamed(header!, c), []);
  assert.ok(
    c.metrics.every((m) => m.source !== 'undeclared'),
    JSON.stringify(c.metrics.filter((m) => m.source === 'undeclared')),
  );
  assert.equal(c.metrics.find((m) => m.name === 'client.bitrate')!.unit, 'bit/s');
});
