import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import { loadBenchmark } from './load.ts';
import { planRuns } from './matrix.ts';
import { stableKey } from '../base/canonical.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-load-'));
let n = 0;
function file(text: string, ext = '.yaml'): string {
  const p = join(dir, `b${n++}${ext}`);
  writeFileSync(p, text);
  return p;
}

const GOOD = `name: demo
workload:
  type: command
  argv: [echo, "{codec}", "{crf}"]
matrix:
  codec: [h264, vp8]
  crf: {from: 20, to: 30, step: 5}
  threads: 2
exclude:
  - {codec: vp8, crf: 30}
repeat: 2
duration: 1.5s
`;

async function problems(text: string, sets: { key: string; value: string }[] = []) {
  try {
    await loadBenchmark(file(text), sets);
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected the file to be rejected');
}

test('a valid file resolves, and plans points x repetitions', async () => {
  const b = await loadBenchmark(file(GOOD));
  assert.equal(b.durationS, 1.5);
  assert.deepEqual(
    b.axes.map((a) => [a.name, a.values]),
    [
      ['codec', ['h264', 'vp8']],
      ['crf', [20, 25, 30]],
      ['threads', [2]],
    ],
  );
  const runs = planRuns(b);
  assert.equal(runs.length, (6 - 1) * 2);
  assert.equal(new Set(runs.map((r) => r.key)).size, 5);
});

test('YAML syntax errors give the line', async () => {
  const p = await problems('name: x\nmatrix:\n  a: [1, 2\nworkload: {type: command, argv: [true]}\n');
  assert.match(p[0]!.message, /YAML syntax/);
  assert.ok(p[0]!.pos.line! >= 3);
});

test('unknown key: line, column and a suggestion', async () => {
  const p = await problems(GOOD.replace('repeat: 2', 'repaet: 2'));
  assert.equal(p.length, 1);
  assert.equal(p[0]!.pos.line, 11);
  assert.equal(p[0]!.pos.col, 1);
  assert.match(p[0]!.message, /unknown key 'repaet'/);
  assert.match(p[0]!.hint!, /did you mean 'repeat'/);
});

test('unknown parameter in exclude names its line and suggests', async () => {
  const p = await problems(GOOD.replace('{codec: vp8, crf: 30}', '{codex: vp8, crf: 30}'));
  assert.equal(p[0]!.pos.line, 10);
  assert.match(p[0]!.message, /unknown parameter 'codex' in exclude/);
  assert.match(p[0]!.hint!, /codec/);
});

test('a value in exclude that the parameter never takes is an error', async () => {
  const p = await problems(GOOD.replace('{codec: vp8, crf: 30}', '{codec: vp9}'));
  assert.match(p[0]!.message, /'vp9' is not a value of 'codec'/);
});

test('wrong types: plain words and the line', async () => {
  const p = await problems(GOOD.replace('repeat: 2', 'repeat: two'));
  assert.equal(p[0]!.pos.line, 11);
  assert.match(p[0]!.message, /must be integer/);
  const d = await problems(GOOD.replace('duration: 1.5s', 'duration: soon'));
  assert.equal(d[0]!.pos.line, 12);
  assert.match(d[0]!.message, /does not have the expected form/);
});

test('workload errors are reported against the workload schema', async () => {
  const p = await problems(GOOD.replace('argv: [echo, "{codec}", "{crf}"]', 'args: [echo]'));
  assert.ok(p.some((x) => /missing required key 'argv'/.test(x.message)));
  assert.ok(p.some((x) => /unknown key 'args'/.test(x.message) && x.pos.line === 4));
  const t = await problems(GOOD.replace('type: command', 'type: comand'));
  assert.match(t[0]!.hint!, /did you mean 'command'/);
});

test('unknown placeholders are caught at load time', async () => {
  const p = await problems(GOOD.replace('"{crf}"', '"{cfr}"'));
  assert.equal(p[0]!.pos.line, 4);
  assert.match(p[0]!.message, /unknown placeholder \{cfr\}/);
  assert.match(p[0]!.hint!, /crf/);
});

test('linked axes must have equal lengths', async () => {
  const p = await problems(GOOD + 'link:\n  - [codec, crf]\n');
  assert.match(p[0]!.message, /same number of values: codec has 2, crf has 3/);
});

test('--set overrides a field or fixes a parameter; a bad one names the flag', async () => {
  const b = await loadBenchmark(file(GOOD), [
    { key: 'duration', value: '2s' },
    { key: 'codec', value: 'h264' },
  ]);
  assert.equal(b.durationS, 2);
  assert.deepEqual(b.axes[0]!.values, ['h264']);
  const p = await problems(GOOD, [{ key: 'codecs', value: 'h264' }]);
  assert.match(p[0]!.hint!, /codec/);
  const q = await problems(GOOD, [{ key: 'repeat', value: 'x' }]);
  assert.equal(q[0]!.pos.file, '--set repeat=x');
});

test('a TypeScript module exporting defineBenchmark loads like YAML', async () => {
  const index = new URL('../index.ts', import.meta.url).pathname;
  const p = file(
    `import { defineBenchmark } from ${JSON.stringify(index)};
const crfs = [18, 23, 28].filter((c) => c !== 23);
export default defineBenchmark({ name: 'scripted', workload: { type: 'command', argv: ['echo', '{crf}'] }, matrix: { crf: crfs } });
`,
    '.ts',
  );
  const b = await loadBenchmark(p);
  assert.deepEqual(b.axes[0]!.values, [18, 28]);
  const bad = file(`export default { name: 'x', workload: { type: 'command', argv: ['echo'] }, matrix: { a: [1] }, repat: 1 };\n`, '.ts');
  await assert.rejects(loadBenchmark(bad), (e: unknown) => e instanceof InputError && /unknown key 'repat'/.test(e.message));
});

test('stream parameters are checked where they are written, before anything runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-load-stream-'));
  const file = join(dir, 's.yaml');
  writeFileSync(file, 'name: s\nworkload: {type: stream, resolution: 640x360}\nmatrix:\n  codec: [h264, h246]\n  net_loss: [0, 150]\n');
  await assert.rejects(loadBenchmark(file), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /s\.yaml:4:\d+: codec 'h246' is not one of h264, h265, vp8, vp9, av1, mjpeg/);
    assert.match(e.message, /s\.yaml:5:\d+: net_loss '150' is not a loss percentage/);
    return true;
  });
  writeFileSync(file, 'name: s\nworkload: {type: stream, resolution: 641x360}\nmatrix: {codec: h264}\n');
  await assert.rejects(loadBenchmark(file), /s\.yaml:2:\d+: resolution '641x360' must be WxH with even numbers/);
});

test("a trace's content joins its points' keys: editing the file makes new points, a point without one keeps its key", async () => {
  const trace = join(dir, 'step.trace');
  writeFileSync(trace, '1\n2\n');
  const f = file(`name: keys\nworkload: {type: stream, bitrate: 1M}\nmatrix:\n  net_trace: ${JSON.stringify(trace)}\n  codec: [h264, vp8]\n`);
  const keys = async () => planRuns(await loadBenchmark(f)).map((r) => r.key);
  const before = await keys();
  assert.deepEqual(await keys(), before, 'the same file: the same keys');
  writeFileSync(trace, '1\n2\n2\n');
  const after = await keys();
  assert.equal(new Set([...before, ...after]).size, 4, `an edited trace: new keys for both points (${before.join(', ')} -> ${after.join(', ')})`);
  // The key of a point that reads no file is the one it always had (sets recorded before keep resuming).
  const plain = file('name: keys\nworkload: {type: stream, bitrate: 1M}\nmatrix:\n  codec: [h264]\n');
  const b = await loadBenchmark(plain);
  assert.equal(planRuns(b)[0]!.key, stableKey({ params: { codec: 'h264' }, workload: b.workload, warmup: b.warmupS, duration: b.durationS ?? null }));
});
