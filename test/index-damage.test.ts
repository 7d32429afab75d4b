// Every reader of a result set notices a point record changed, deleted or damaged behind its index
// (src/store/index-file.ts compares each point.json's stat with what it indexed, and reads those
// that differ), as `run` does: a damaged point.json stops `results show/export/query/catalog`,
// `report`, `model fit` and the GUI's data with exit 4 (or an error) naming the file; a deleted one
// is a point no longer recorded; an unreadable point directory is the machine's error (exit 5); a
// point.json edited into another valid record is read as it is now. Nothing is repaired or
// removed behind the user. Real CLI processes on a real recorded set (test/fixtures/sets/stream-matrix).
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { INDEX_DIR, openIndex, readPointFile } from '../src/store/index-file.ts';
import { parsePointRecord, type PointRecord } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { LoadedSets } from '../src/server/sets.ts';
import { runCli } from './helpers/cli.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = new URL('..', import.meta.url).pathname;
const FIXTURE = join(root, 'test/fixtures/sets/stream-matrix');
const work = mkdtempSync(join(tmpdir(), 'sb-damage-'));
// Readable by the unprivileged user the permission case runs as.
chmodSync(work, 0o755);
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

const cli = (args: string[], uid?: number) => runCli(args, { cwd: work, env: { STREAMBENCH_DEBUG: '' }, ...(uid !== undefined ? { uid } : {}) });

/** A copy of the fixture, read once through the CLI so that its index and points table are built and saved. */
function indexedCopy(): { dir: string; point: string; file: string } {
  const dir = join(work, `set-${seq++}`);
  cpSync(FIXTURE, dir, { recursive: true });
  const first = cli(['results', 'query', dir, 'select count(*) as n from points']);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /\b72\b/);
  const point = join(dir, 'points', readdirSync(join(dir, 'points')).sort()[3]!);
  return { dir, point, file: join(point, 'point.json') };
}

/** The id of the generation the index is at (changes when it is rebuilt, compacted or refreshed). */
function generation(dir: string): string {
  const h = readdirSync(join(dir, INDEX_DIR)).find((n) => /^gen-\d+\.json$/.test(n))!;
  return (JSON.parse(readFileSync(join(dir, INDEX_DIR, h), 'utf8')) as { id: string }).id;
}

const readers = (dir: string): string[][] => [
  ['results', 'show', dir],
  ['results', 'export', dir, '--format', 'csv'],
  ['results', 'query', dir, 'select count(*) as n from points'],
  ['results', 'catalog', dir],
  ['report', dir, '--json'],
  ['model', 'fit', dir, '--metric', 'client.fps'],
];

function assertOneLine(r: { code: number | null; err: string }, code: number, ...patterns: RegExp[]): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.err})`);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.err}`);
  assert.match(lines[0]!, /^error: /);
  for (const p of patterns) assert.match(lines[0]!, p);
}

const damages: { name: string; apply(file: string): void; says: RegExp }[] = [
  { name: 'garbage', apply: (f) => writeFileSync(f, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 256))), says: /is corrupt \(not valid JSON/ },
  { name: 'truncated', apply: (f) => truncateSync(f, Math.floor(readFileSync(f).length / 2)), says: /is corrupt \(not valid JSON/ },
  {
    name: 'wrong shape',
    apply: (f) => {
      const v = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      writeFileSync(f, JSON.stringify({ ...v, flags: 'none', metrics: { ...(v['metrics'] as object), 'client.fps': { value: 30 } } }, null, 2));
    },
    says: /is not a valid point record \(metrics\.client\.fps is not a text, number or boolean\)/,
  },
];

for (const d of damages) {
  test(`a point.json ${d.name} behind the index: every reader stops with exit 4 naming it; the file and the index stay as they were`, async () => {
    const s = indexedCopy();
    d.apply(s.file);
    const damaged = readFileSync(s.file);
    const index = readdirSync(join(s.dir, 'index')).sort();
    for (const argv of readers(s.dir)) assertOneLine(cli(argv), 4, new RegExp(`${s.file} `), d.says, /move .* out of the result set/);
    // The GUI's data: a server that had the set loaded before answers with the same error at its next look.
    const gui = new LoadedSets([ResultSet.open(s.dir)]);
    await assert.rejects(gui.get(), (e: Error) => e.message.includes(s.file) && d.says.test(e.message));
    assert.deepEqual(readFileSync(s.file), damaged, 'never repaired behind the user');
    assert.deepEqual(readdirSync(join(s.dir, 'index')).sort(), index, 'the index neither rebuilt nor dropped');
  });
}

test('a GUI following the set: damage after it loaded is an error at its next look, every look after, not the old figures', async () => {
  const s = indexedCopy();
  const gui = new LoadedSets([ResultSet.open(s.dir)]);
  assert.equal((await gui.get()).records.length, 72);
  writeFileSync(s.file, '{"not": "a point"');
  // The server looks at the sets' indexes at most once a second: wait past it (a lower bound, never an upper one).
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 1100));
    await assert.rejects(gui.get(), new RegExp(`${s.file} is corrupt`));
    await assert.rejects(gui.get(), new RegExp(`${s.file} is corrupt`), 'the request right after too');
  }
});

test('a deleted point.json: the point is no longer recorded for any reader (as run runs it again); the rest unchanged', () => {
  const s = indexedCopy();
  const key = (JSON.parse(readFileSync(s.file, 'utf8')) as { key: string }).key;
  rmSync(s.file);
  const q = cli(['results', 'query', s.dir, `select count(*) as n, count(*) filter (where point_key = '${key}') as gone from points`]);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /\b71\s+\d/);
  const show = cli(['results', 'show', s.dir]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /: 71 point\(s\)/);
});

test("an unreadable point directory: readers stop with the machine's error naming it (exit 5), as run does", () => {
  const s = indexedCopy();
  chmodSync(join(s.dir, 'index'), 0o777);
  chmodSync(s.point, 0o000);
  try {
    for (const argv of readers(s.dir).slice(0, 3)) assertOneLine(cli(argv, 65534), 5, new RegExp(`cannot read ${s.file}`), /permission denied \(EACCES\)/);
  } finally {
    chmodSync(s.point, 0o755);
  }
});

test('a point.json edited into another valid record is read as it is now, by every reader', () => {
  const s = indexedCopy();
  const v = JSON.parse(readFileSync(s.file, 'utf8')) as { key: string; rep: number; metrics: Record<string, unknown> };
  v.metrics['client.fps'] = 12345;
  writeFileSync(s.file, JSON.stringify(v, null, 2) + '\n');
  const q = cli(['results', 'query', s.dir, `select "client.fps" as fps from points where point_key = '${v.key}' and rep = ${v.rep}`]);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /\b12345\b/);
  const csv = cli(['results', 'export', s.dir, '--format', 'csv']);
  assert.match(csv.out, /,12345(\.0)?,/);
});

test('a point.json touched, its mode changed, or copied with its times: same bytes, same answers; read once, the index takes the new figures', () => {
  const s = indexedCopy();
  const set = ResultSet.open(s.dir);
  let reads = 0;
  // The set as the index sees it, counting the records it parses.
  const counting = {
    dir: s.dir,
    runActive: () => false,
    readPoint: (d: string) => {
      reads++;
      const got = readPointFile(join(d, 'point.json'));
      if (!got) return undefined;
      const written = JSON.parse(got.bytes.toString('utf8')) as unknown;
      return { record: parsePointRecord(written) as PointRecord, written, file: got.file };
    },
  };
  const before = set.points();
  const gen0 = generation(s.dir);
  utimesSync(s.file, new Date(0), new Date(0));
  chmodSync(s.file, 0o600);
  // Copied over itself with its times: another inode, same bytes.
  const copy = `${s.file}.copy`;
  cpSync(s.file, copy, { preserveTimestamps: true });
  rmSync(s.file);
  cpSync(copy, s.file, { preserveTimestamps: true });
  rmSync(copy);
  const v = openIndex(counting);
  assert.deepEqual(v.records(), before);
  v.close();
  assert.equal(reads, 0, 'no record parsed again: only the changed file hashed');
  const gen1 = generation(s.dir);
  assert.notEqual(gen1, gen0, 'the index took the new figures');
  const again = openIndex(counting);
  assert.deepEqual(again.records(), before);
  again.close();
  assert.equal(generation(s.dir), gen1, 'and the next reader finds nothing to compare again');
  assert.equal(reads, 0);
  const q = cli(['results', 'query', s.dir, 'select count(*) as n from points']);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /\b72\b/);
});

test('the declared shape: every fixture record passes it (as the JSON Schema takes them); a metric may be null; each field of the wrong type is named', async () => {
  const { pointShapeProblem } = await import('../src/store/records.ts');
  const sets = join(root, 'test/fixtures/sets');
  let n = 0;
  for (const s of readdirSync(sets)) {
    let dirs: string[];
    try {
      dirs = readdirSync(join(sets, s, 'points'));
    } catch {
      continue;
    }
    for (const d of dirs) {
      n++;
      assert.equal(pointShapeProblem(JSON.parse(readFileSync(join(sets, s, 'points', d, 'point.json'), 'utf8'))), undefined, `${s}/${d}`);
    }
  }
  assert.ok(n > 100);
  const good = JSON.parse(readFileSync(join(FIXTURE, 'points', readdirSync(join(FIXTURE, 'points'))[0]!, 'point.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(pointShapeProblem({ ...good, metrics: { ...(good['metrics'] as object), 'roles.cpu_reported_s': null } }), undefined, 'NaN is written as null');
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...good, files: 'a,b' }, /^files/],
    [{ ...good, flags: [1] }, /^flags/],
    [{ ...good, outcome: { status: 'failed' } }, /without its error/],
    [{ ...good, rep: 0 }, /key or rep/],
    [{ ...good, params: { codec: ['h264'] } }, /^params\.codec/],
    [{ ...good, wallS: '1' }, /^wallS/],
    [{ ...good, timeline: { window: [0] } }, /^timeline\.window/],
    [{ ...good, conditions: { checked: [], notChecked: [], found: [{ code: 'x' }] } }, /^conditions\.found/],
    [{ ...good, benchmark: null }, /^benchmark/],
  ];
  for (const [v, why] of bad) assert.match(pointShapeProblem(v) ?? 'accepted', why);
});
