// The GUI server's summary of a set (catalogue, counts, flags) is kept beside the set's index, so
// that opening the set again reads no record: the kept one answers exactly what the records give,
// is the one used for that state of the index, and is never used for another state.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResultSet } from '../store/resultset.ts';
import { LoadedSets } from './sets.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const FIXTURE = new URL('../../test/fixtures/sets/stream-matrix', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-summary-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** What the GUI is told of the set: its catalogue, its counts, the flags it queries. */
async function seen(dir: string) {
  const sets = new LoadedSets([ResultSet.open(dir)]);
  try {
    const l = await sets.get();
    const flags = (await sets.query('SELECT * FROM point_flags ORDER BY point_key, rep')).columns;
    return { catalog: l.catalog, infos: l.infos, flags, runs: l.records.length };
  } finally {
    await sets.close();
  }
}

const summaryFile = (dir: string) => readdirSync(join(dir, 'index')).find((n) => n.endsWith('.gui-summary.json'));

test('the summary kept beside the index answers what the records give, for its state only', async () => {
  const dir = join(work, 'set');
  cpSync(FIXTURE, dir, { recursive: true });
  const first = await seen(dir);
  const file = summaryFile(dir);
  assert.ok(file, 'the first opening kept the summary');
  assert.equal((first.flags['flags'] ?? []).length, first.infos[0]!.flagged, 'every flagged run in point_flags');
  // Read back: the same catalogue, counts and flags as made from the records.
  assert.deepEqual(await seen(dir), first);

  // The kept summary is the one read for this state (a changed count shows)...
  const path = join(dir, 'index', file);
  const kept = JSON.parse(readFileSync(path, 'utf8')) as { infos: { runs: number }[] };
  kept.infos[0]!.runs = 12345;
  writeFileSync(path, JSON.stringify(kept));
  assert.equal((await seen(dir)).infos[0]!.runs, 12345);
  // ...and never for another: a point taken out of the set makes a new state, summarized from its records.
  const points = readdirSync(join(dir, 'points')).sort();
  rmSync(join(dir, 'points', points[0]!), { recursive: true });
  const now = await seen(dir);
  assert.equal(now.infos[0]!.runs, first.runs - 1);
  assert.equal(now.runs, first.runs - 1);
});
