// One declaration per workload (src/workloads/<type>/declare.ts): the tables of docs/ (workloads.md,
// recording.md, results.md), `stream --help`, the
// schema, the CLI's headline columns and the role processes' boundary all agree with it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../src/base/errors.ts';
import { findMetric, metricPattern, typeValue, type MetricDecl, type ParamDecl } from '../src/config/declare.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { planRuns } from '../src/config/matrix.ts';
import { settingsFromJson, streamSettings } from '../src/config/stream-settings.ts';
import { RECORDING_METRICS, renamedMetrics } from '../src/config/registry.ts';
import { BUILTIN_WORKLOADS } from '../src/workloads/index.ts';
import { jsonSchema } from '../src/config/schema.ts';
import { pointTyping } from '../src/config/resolve.ts';
import { upgradeRecord, type PointRecord } from '../src/store/records.ts';
import { docSections, docText, root } from './helpers/docs.ts';

const WORKLOAD_DECLS = Object.fromEntries(BUILTIN_WORKLOADS.map((m) => [m.def.type, m.def]));

const CLI = join(root, 'bin/streambench.js');

/** A page's section by heading, with its text up to the next ## or ### heading. */
function section(file: string, heading: RegExp): string {
  const found = docSections(docText(file)).filter((p) => heading.test(p.split('\n')[0]!));
  assert.equal(found.length, 1, `one section of ${file} matches ${heading}`);
  return found[0]!;
}

/** Rows of the tables of a text whose header starts with these column names; cells trimmed. */
function tableRows(text: string, header: readonly string[]): string[][] {
  const rows: string[][] = [];
  const lines = text.split('\n');
  const cells = (l: string) =>
    l
      .replace(/^\|/, '')
      .replace(/\|\s*$/, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !header.every((h, j) => cells(lines[i]!)[j] === h)) continue;
    for (let k = i + 2; k < lines.length && lines[k]!.startsWith('|'); k++) rows.push(cells(lines[k]!));
  }
  return rows;
}

/** The names of a row's first cell: `latency.p50`, `.p95` is latency.p50 and latency.p95. */
function namesOf(cell: string): string[] {
  const names: string[] = [];
  for (const [, n] of cell.matchAll(/`([^`]+)`/g)) {
    const first = names[0];
    names.push(n!.startsWith('.') && first ? `${first.slice(0, first.lastIndexOf('.'))}${n}` : n!);
  }
  return names;
}

const sections = {
  stream: section('docs/workloads.md', /^## The built-in streaming pipeline/),
  command: section('docs/workloads.md', /^## The `command` workload/),
  spice: section('docs/workloads.md', /^## Benchmarking a real SPICE server/),
  rdp: section('docs/workloads.md', /^## Benchmarking RDP/),
  vnc: section('docs/workloads.md', /^## Benchmarking VNC \(`vnc` workload\)/),
  // The page up to its first section: the probes, the metrics they add, the `recording:` block.
  recording: docSections(docText('docs/recording.md'))[0]!,
};

test("the parameter tables of docs/workloads.md are the workloads' declared parameters, with their types and units", () => {
  for (const type of ['stream', 'spice', 'vnc', 'rdp'] as const) {
    const decls = WORKLOAD_DECLS[type]!.params;
    const rows = tableRows(sections[type], ['parameter', 'type', 'unit']);
    assert.ok(rows.length > 5, `${type}: the parameter table was found`);
    const seen = new Set<string>();
    for (const [names, t, unit] of rows) {
      for (const name of namesOf(names!)) {
        const d = decls.find((x) => x.name === name);
        assert.ok(d, `${type}: docs/workloads.md lists '${name}', which the workload does not declare`);
        assert.equal(t, d.type, `${type}: type of ${name}`);
        assert.equal(unit, d.unit ?? '', `${type}: unit of ${name}`);
        seen.add(name);
      }
    }
    assert.deepEqual(
      decls.map((d) => d.name).filter((n) => !seen.has(n)),
      [],
      `${type}: declared parameters missing from docs/workloads.md`,
    );
  }
});

test('the metric tables of docs/workloads.md and docs/recording.md are the declared summary metrics, with their units and directions', () => {
  const check = (what: string, text: string, decls: readonly MetricDecl[]) => {
    const rows = tableRows(text, ['metric', 'unit', 'better', 'definition']);
    assert.ok(rows.length > 0, `${what}: the metric table was found`);
    const summary = decls.filter((d) => d.kind === 'summary');
    const covered = new Set<string>();
    for (const [names, unit, better] of rows) {
      for (const name of namesOf(names!)) {
        // A pattern of the docs (`<role>.cpu_pct`, `stage.<s>.p50`) covers the declared names it matches.
        const re = metricPattern(name);
        const matched = summary.filter((d) => d.name === name || (re.test(d.name) && !/[<*]/.test(d.name)));
        assert.ok(matched.length > 0, `${what}: the docs list '${name}', which is not declared`);
        for (const d of matched) {
          assert.equal(unit, d.unit ?? '', `${what}: unit of ${d.name}`);
          assert.equal(better, d.better, `${what}: better of ${d.name}`);
          covered.add(d.name);
        }
      }
    }
    assert.deepEqual(
      summary.map((d) => d.name).filter((n) => !covered.has(n)),
      [],
      `${what}: declared metrics missing from the docs`,
    );
  };
  check('stream', sections.stream, WORKLOAD_DECLS['stream']!.metrics);
  check('command', sections.command, WORKLOAD_DECLS['command']!.metrics);
  check('spice', sections.spice, WORKLOAD_DECLS['spice']!.metrics);
  check('rdp', sections.rdp, WORKLOAD_DECLS['rdp']!.metrics);
  check('vnc', sections.vnc, WORKLOAD_DECLS['vnc']!.metrics);
  check('recording', sections.recording, RECORDING_METRICS);
});

test('the renames table of docs/results.md is the one sets written before are converted by', () => {
  const rows = tableRows(docText('docs/results.md'), ['workload', 'old name', 'new name', 'change']);
  const listed = rows.flatMap(([w, from, to, change]) => {
    const f = namesOf(from!);
    const t = namesOf(to!);
    assert.equal(f.length, t.length, `${from} -> ${to}`);
    return f.map((x, i) => `${w} ${x} -> ${t[i]}${/× 1000/.test(change!) ? ' x1000' : ''}`);
  });
  const renames = Object.keys(WORKLOAD_DECLS).map((w) => [w, renamedMetrics(w)] as const);
  const declared = renames.flatMap(([w, rs]) => rs.map((r) => `${w} ${r.from} -> ${r.to}${r.factor ? ` x${r.factor}` : ''}`));
  assert.deepEqual(listed.sort(), declared.sort());
  // Every new name is declared by its workload: a rename into an undeclared name would be a new mystery column.
  for (const [w, rs] of renames) for (const r of rs) assert.ok(findMetric(WORKLOAD_DECLS[w]!.metrics, r.to), `${w}: ${r.to} is declared`);
});

test('a record written before typed parameters is read with the new names, units and typed values', () => {
  const old = {
    format: 1,
    key: 'k',
    rep: 1,
    index: 0,
    params: { bitrate: '2M', resolution: '320x240', net_rate: 'none', tag: 'x' },
    outcome: { status: 'ok' },
    attempts: 1,
    workload: 'stream',
    benchmark: { name: 'b', sha256: '' },
    startedAt: '',
    endedAt: '',
    wallS: 1,
    files: [],
    flags: [],
    metrics: { 'client.bitrate': 331.2, 'guest.cpu_percent': 12.5, 'net.loss_measured_percent': 0, 'client.fps': 11 },
  } as unknown as PointRecord;
  const r = upgradeRecord(old);
  assert.deepEqual(r.metrics, { 'client.bitrate': 331200, 'guest.cpu_pct': 12.5, 'net.loss_measured_pct': 0, 'client.fps': 11 });
  assert.deepEqual(r.typed, { bitrate: 2e6, resolution: { width: 320, height: 240 }, net_rate: null, tag: 'x' });
  // Read twice (an index holds upgraded records): the same, never scaled again.
  assert.deepEqual(upgradeRecord(r), r);
  assert.deepEqual(old.metrics['client.bitrate'], 331.2, 'the record read is not changed in place');
});

test('typing is idempotent: a typed value typed again stays the same, so the engine hands workloads typed values', () => {
  for (const d of Object.values(WORKLOAD_DECLS).flatMap<ParamDecl>((w) => w.params)) {
    if (d.default === undefined) continue;
    const t = typeValue(d, d.default);
    assert.deepEqual(typeValue(d, t), t, d.name);
  }
  const bitrate = WORKLOAD_DECLS['stream']!.params.find((p) => p.name === 'bitrate')!;
  assert.equal(typeValue(bitrate, '2.5M'), 2_500_000);
  assert.throws(() => typeValue(bitrate, '2X'), /bitrate '2X' is not a bitrate/);
  const typed = { codec: 'vp9', bitrate: 500_000, resolution: { width: 640, height: 360 }, net_delay: 30, net_loss: 5 };
  const raw = { codec: 'vp9', bitrate: '500k', resolution: '640x360', net_delay: '30ms', net_loss: '5%' };
  const times = { warmupS: 1, durationS: 2 };
  assert.deepEqual(streamSettings(typed, times), streamSettings(raw, times));
});

test('metric patterns: <x> is one name part, * anything; an exact name wins over a pattern', () => {
  assert.ok(metricPattern('<role>.proc.<label>.cpu_pct').test('guest.proc.server.cpu_pct'));
  assert.ok(!metricPattern('<role>.proc.<label>.cpu_pct').test('guest.proc.a.b.cpu_pct'));
  assert.ok(metricPattern('custom.<name>.*').test('custom.enc.a.b'));
  assert.ok(!metricPattern('custom.<name>.*').test('custom.enc'));
  const decls: MetricDecl[] = [
    { name: 'app.*', better: 'none', role: 'local', kind: 'summary', view: 'points', doc: '' },
    { name: 'app.fps', unit: 'fps', better: 'higher', role: 'local', kind: 'summary', view: 'points', doc: '' },
  ];
  assert.equal(findMetric(decls, 'app.fps')?.unit, 'fps');
  assert.equal(findMetric(decls, 'app.x')?.name, 'app.*');
  assert.equal(findMetric(decls, 'other'), undefined);
});

test('the headline columns of each workload are metrics it declares', () => {
  for (const w of Object.values(WORKLOAD_DECLS))
    for (const h of w.headline)
      assert.ok(
        w.metrics.some((m) => m.name === h && m.kind === 'summary'),
        `${w.type}: ${h}`,
      );
});

test('the schema describes each workload parameter from its declaration', () => {
  const s = JSON.parse(JSON.stringify(jsonSchema(Object.values(WORKLOAD_DECLS).map((d) => d.schema)))) as { properties: { workload: { anyOf: { properties: Record<string, { description?: string; default?: unknown }> }[] } } };
  const stream = s.properties.workload.anyOf.find((w) => JSON.stringify(w.properties['type']).includes('"stream"'))!;
  for (const d of WORKLOAD_DECLS['stream']!.params) {
    assert.ok(stream.properties[d.name]?.description?.startsWith(d.doc), d.name);
    assert.deepEqual(stream.properties[d.name]?.default, d.default, d.name);
  }
});

test('`stream --help` lists every declared parameter with its type', () => {
  const r = spawnSync(process.execPath, [CLI, 'stream', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const d of WORKLOAD_DECLS['stream']!.params) assert.match(r.stdout, new RegExp(`^  ${d.name} +${d.type} `, 'm'), d.name);
});

test('settings crossing into a role are checked where they enter: field named, exit 2, no stack', () => {
  const bad = [
    ['{"codec":"h264x"}', /^error: --config: codec 'h264x' is not one of h264, h265, vp8, vp9, av1, mjpeg\n$/],
    ['{"codec":"h264","bitrateBps":5}', /^error: --config: bitrateBps: bitrate '5' must be between 1k and 1G bits\/s\n$/],
    ['{"net":{"loss":2}}', /^error: --config: net\.loss: net_loss '200' is not a loss percentage between 0 and 100\n$/],
    ['{"width":320}', /^error: --config: width '320' and height 'undefined' must both be numbers\n$/],
    ['{"codec":"h264","colour":"red"}', /^error: --config: unknown field 'colour'\n$/],
    ['[1]', /^error: --config: the settings must be a JSON object\n$/],
  ] as const;
  for (const [config, message] of bad) {
    const r = spawnSync(process.execPath, [CLI, 'stream', 'guest', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `${config}: ${r.stderr}`);
    assert.match(r.stderr, message, config);
  }
  // What the workload hands over passes unchanged; a field left out takes its default.
  const s = streamSettings({ codec: 'vp8', bitrate: '1M', transport: 'udp', net_rate: '2M', net_loss: 5, quality: 30, rate_control: 'crf', source: 'a.y4m', resolution: '64x48' }, { warmupS: 1, durationS: 3 });
  assert.deepEqual(settingsFromJson(JSON.parse(JSON.stringify(s))), s);
  assert.equal(settingsFromJson({ net: { delayMs: 30 } }).codec, 'h264');
});

test("the file's params: section and the rules' unit/better are checked at their lines; they leave the point keys alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-decl-'));
  const load = async (text: string) => {
    const file = join(dir, 'b.yaml');
    writeFileSync(file, text);
    return loadBenchmark(file);
  };
  const problems = async (text: string): Promise<string> => {
    try {
      await load(text);
    } catch (e) {
      assert.ok(e instanceof InputError, String(e));
      return e.message;
    }
    assert.fail('the file was accepted');
  };
  const head = 'name: t\nworkload: {type: stream}\n';
  assert.match(await problems(`${head}params: {bitrate: {type: number}}\nmatrix: {bitrate: [1M]}\n`), /b\.yaml:3:\d+: 'bitrate' is a parameter of the stream workload, which declares its type and unit/);
  assert.match(await problems(`${head}params: {labl: {type: text}}\nmatrix: {label: [a]}\n`), /b\.yaml:3:\d+: 'labl' is not a parameter of the matrix.*\n  hint: did you mean 'label'/);
  assert.match(await problems(`${head}params: {mode: {type: enum}}\nmatrix: {mode: [a]}\n`), /'mode' needs its values/);
  assert.match(await problems(`${head}params: {mode: {type: enum, values: [a, b]}}\nmatrix: {mode: [a, c]}\n`), /b\.yaml:4:\d+: mode 'c' is not one of a, b \(at matrix\.mode\[1\]\)/);
  assert.match(await problems(`${head}params: {wait: {type: duration, unit: s}}\nmatrix: {wait: [1s]}\n`), /a duration is stored in ms, not 's'/);
  assert.match(await problems(`${head}params: {crf: {type: integer}}\nmatrix: {crf: [23, 23.5]}\n`), /b\.yaml:4:\d+: crf '23\.5' must be an integer/);
  const rule = (extra: string) => `name: t\nworkload:\n  type: command\n  argv: [echo, "{crf}"]\n  metrics:\n    - {regex: 'x=(?<speed>[0-9]+)'${extra}}\nmatrix: {crf: [23]}\n`;
  assert.match(await problems(rule(', unit: {sped: x}')), /b\.yaml:6:\d+: no metric 'sped' comes from this rule.*\n  hint: did you mean 'speed'/);
  // A unit, a direction and a parameter's doc describe the points: they do not make them new ones.
  const plain = await load(rule(''));
  const described = await load(`params: {crf: {type: integer, unit: CRF, doc: x264's CRF}}\n${rule(', unit: x, better: higher')}`);
  assert.deepEqual(
    planRuns(described).map((r) => r.key),
    planRuns(plain).map((r) => r.key),
  );
  assert.deepEqual(
    described.metrics.find((m) => m.name === 'speed'),
    { name: 'speed', unit: 'x', better: 'higher', role: 'local', kind: 'summary', view: 'points', doc: 'extracted by workload.metrics[0]' },
  );
  assert.deepEqual(pointTyping(described, { crf: 23 }), { typed: { crf: 23 }, declared: { params: { crf: { name: 'crf', type: 'integer', unit: 'CRF', doc: "x264's CRF", role: 'all', source: 'file' } }, metrics: described.metrics } });
  rmSync(dir, { recursive: true, force: true });
});

test("each built-in workload's needs are what scripts/setup.sh installs, and validate lists them, saying which this machine lacks", () => {
  const setup = docText('scripts/setup.sh');
  for (const m of BUILTIN_WORKLOADS)
    for (const n of m.def.needs) {
      assert.ok(n.debian !== undefined, `${m.def.type}: ${n.what} names its Debian package`);
      assert.ok(setup.includes(`[${n.check}]=${n.debian}`), `${m.def.type}: scripts/setup.sh installs ${n.debian} when ${n.check} is missing`);
    }
  const dir = mkdtempSync(join(tmpdir(), 'sb-needs-'));
  const file = join(dir, 'b.yaml');
  writeFileSync(file, 'name: needs\nworkload: {type: stream}\nmatrix: {codec: h264}\n');
  // A PATH without ffmpeg: the stream workload's one need is missing here.
  const r = spawnSync(process.execPath, [join(root, 'bin/streambench.js'), 'validate', file], { encoding: 'utf8', env: { ...process.env, PATH: dir } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /needs on the machines of its roles[^\n]*\n {4}ffmpeg and its libraries[^\n]*: NOT FOUND on this machine \(ffmpeg\); on Debian: apt-get install ffmpeg/);
  assert.match(r.stderr, /^warning: ffmpeg and its libraries .*not found on this machine, where the local executor would run the points/m);
  const here = spawnSync(process.execPath, [join(root, 'bin/streambench.js'), 'validate', file], { encoding: 'utf8' });
  assert.match(here.stdout, /ffmpeg and its libraries[^\n]*: found \(/);
  assert.equal(here.stderr, '');
  rmSync(dir, { recursive: true });
});
