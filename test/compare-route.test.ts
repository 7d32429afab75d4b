// /api/compare over the compare view's sets (test/helpers/compare-sets.ts): its rows are compare()'s
// changes over the sets read as `streambench compare` reads them, the family is the metrics asked,
// and what it refuses is said in the GUI's words (a set, a metric), never as a command's option.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compare } from '../src/analyze/compare.ts';
import { compareSetOf, openModelSource } from '../src/analyze/load.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { writeCompareSet } from './helpers/compare-sets.ts';
import type { CompareResponse } from '../src/server/api-types.ts';
import { ApiFailure } from '../src/server/route.ts';
import { routes } from '../src/server/routes/compare.ts';
import { LoadedSets } from '../src/server/sets.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

let tmp: string;
let sets: LoadedSets;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sb-compare-route-'));
  sets = new LoadedSets((['before', 'after', 'elsewhere'] as const).map((n) => ResultSet.open(writeCompareSet(tmp, n))));
});

after(async () => {
  await sets.close();
  rmSync(tmp, { recursive: true, force: true });
});

const ask = (query: string) => routes[0]!.handle({ params: {}, query: new URLSearchParams(query), sets }) as Promise<CompareResponse>;

test("its rows are compare()'s changes, in order; the headline metrics by default; the first run of each side per setting", async () => {
  const r = await ask('base=before&new=after');
  assert.deepEqual(r.headline, ['latency.p50', 'client.psnr', 'guest.cpu_pct']);
  assert.deepEqual(
    r.metrics.map((m) => [m.name, m.unit, m.better]),
    [
      ['latency.p50', 'ms', 'lower'],
      ['client.psnr', 'dB', 'higher'],
      ['guest.cpu_pct', '%', 'lower'],
    ],
  );
  const [b, n] = [await openModelSource(sets.sets[0]!, undefined, { includeFlagged: true }), await openModelSource(sets.sets[1]!, undefined, { includeFlagged: true })];
  const want = compare(compareSetOf(b), compareSetOf(n), { metrics: r.headline });
  const c = r.columns;
  assert.equal(c['metric']!.length, want.changes.length);
  want.changes.forEach((ch, i) => {
    assert.deepEqual(
      [c['metric']![i], c['param:fps']![i], c['param:bitrate']![i], c['label:bitrate']![i], c['base_mean']![i], c['new_mean']![i], c['change']![i], c['relative']![i], c['lo']![i], c['hi']![i], c['p_adj']![i], c['real']![i]],
      [ch.metric, ch.params['fps'], ch.params['bitrate'], ch.params['bitrate'] === 1e6 ? '1M' : '3M', ch.base.mean, ch.new.mean, ch.change, ch.relative, ch.ci[0], ch.ci[1], ch.pAdj, ch.real],
    );
    // The runs to open are the setting's, in each set.
    for (const [side, src] of [
      ['base', b],
      ['new', n],
    ] as const) {
      const run = src.rows.find((x) => x.key === c[`${side}_key`]![i] && x.rep === c[`${side}_rep`]![i]);
      assert.ok(run, `row ${i}: no ${side} run ${String(c[`${side}_key`]![i])}`);
      assert.equal(run.cells['fps'], ch.params['fps']);
      assert.equal(run.rep, 1);
    }
  });
  assert.deepEqual(r.family, { metrics: r.headline, tests: 12 });
  assert.deepEqual(r.varying, ['fps', 'bitrate']);
  assert.equal(r.matched, 4);
  // The family is the metrics asked: one metric, its four tests.
  const one = await ask('base=before&new=after&metrics=latency.p50');
  assert.deepEqual(one.family, { metrics: ['latency.p50'], tests: 4 });
  assert.deepEqual(
    one.columns['p_adj'],
    compare(compareSetOf(b), compareSetOf(n), { metrics: ['latency.p50'] }).changes.map((ch) => ch.pAdj),
  );
});

test('sets with no setting in common: nothing matched, each side counted with examples as written', async () => {
  const r = await ask('base=before&new=elsewhere');
  assert.equal(r.matched, 0);
  assert.equal(r.columns['metric']!.length, 0);
  assert.equal(r.onlyBase.count, 4);
  assert.deepEqual(r.onlyNew, {
    count: 2,
    examples: [
      { codec: 'h264', fps: 60, bitrate: '1M' },
      { codec: 'h264', fps: 60, bitrate: '3M' },
    ],
  });
});

test('refusals name the set or the metric in the GUI\u2019s words', async () => {
  const refused = async (query: string, status: number, message: RegExp) => {
    await assert.rejects(ask(query), (e: unknown) => {
      assert.ok(e instanceof ApiFailure, String(e));
      assert.equal(e.status, status);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /--/);
      return true;
    });
  };
  await refused('new=after', 400, /^missing the query parameter base/);
  await refused('base=before&new=nosuch', 404, /^no open result set 'nosuch' \(open: before, after, elsewhere\)$/);
  await refused('base=before&new=before', 400, /^base and new are both 'before': choose two different sets$/);
  await refused('base=before&base=after&new=after', 400, /^base is given 2 times/);
  await refused('base=before&new=after&metrics=latency.p5', 400, /^'latency\.p5' is not a metric both before and after have a value of: did you mean 'latency\.p50'\?$/);
  await refused('base=before&new=after&metrics=latency.p50,latency.p50', 400, /asked more than once/);
});
