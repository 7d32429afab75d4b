// Models stand on runs whose figures are true: runs recorded saturated are left out unless asked,
// counted; runs recorded before conditions were checked are kept and counted as not known.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PointConditions } from '../store/records.ts';
import { ResultSet } from '../store/resultset.ts';
import { datasetOf, openModelSource, runsNote } from './load.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-load-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const saturated: PointConditions = { checked: ['saturated'], notChecked: [], found: [{ code: 'saturated', severity: 'flag', reason: 'box was busy' }] };
const clean: PointConditions = { checked: ['saturated'], notChecked: [], found: [] };

/** Six points of `x` (1..6), two runs each: y = 10 x, but the saturated runs read 1000. */
function writeSet(): ResultSet {
  const set = ResultSet.openOrCreate(join(tmp, 'set'), 'load');
  set.index().close();
  for (let x = 1; x <= 6; x++) {
    for (const rep of [1, 2]) {
      const key = `k${x}`;
      const conditions = x === 6 ? saturated : x === 5 ? undefined : clean;
      const w = set.beginPoint(key, rep);
      const r: Parameters<typeof w.commit>[0] = {
        key,
        rep,
        index: x,
        params: { x },
        typed: { x },
        declared: { params: { x: { name: 'x', type: 'number', doc: 'x', role: 'local', source: 'file' } }, metrics: [{ name: 'y', unit: 'ms', better: 'lower', role: 'local', kind: 'summary', view: 'points', doc: 'y' }] },
        outcome: { status: 'ok' },
        attempts: 1,
        workload: 'command',
        benchmark: { name: 'load', sha256: 'f'.repeat(64) },
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:00:01.000Z',
        wallS: 1,
        metrics: { y: x === 6 ? 1000 : 10 * x + (rep === 1 ? -0.1 : 0.1) },
        flags: [],
        ...(conditions ? { conditions } : {}),
      };
      w.commit(r);
    }
  }
  return set;
}

test('saturated runs are left out by default and counted; --include-flagged keeps them; unchecked runs are counted as not known', async () => {
  const set = writeSet();
  const src = await openModelSource(set, ['y']);
  assert.equal(src.rows.length, 10);
  assert.deepEqual(src.leftOut, { saturated: 2 });
  assert.equal(src.notChecked, 2);
  assert.ok(
    datasetOf(src, 'y').rows.every((r) => r.y < 100),
    'the saturated figure of 1000 is not in the data',
  );
  const note = runsNote(src);
  assert.match(note.text ?? '', /left out 2 saturated run\(s\).*--include-flagged keeps them; 2 run\(s\) recorded before conditions were checked/);

  const all = await openModelSource(set, ['y'], { includeFlagged: true });
  assert.equal(all.rows.length, 12);
  assert.deepEqual(all.leftOut, { saturated: 0 });
  assert.match(runsNote(all).text ?? '', /flagged runs kept \(--include-flagged\)/);
});
