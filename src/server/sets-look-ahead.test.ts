// While pages ask, the GUI server looks at the sets' indexes ahead of requests, so that a control
// change does not wait for a look of its own (one stat per point.json); yet no answer comes from a
// look older than a second, and a change behind the index (new points, damage) is still the next
// request's answer. The clock is node:test's mock (Date and setTimeout): the order of events is
// what is checked, not how fast the machine is.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResultSet } from '../store/resultset.ts';
import { LoadedSets } from './sets.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../workloads/index.ts';

const FIXTURE = new URL('../../test/fixtures/sets/stream-matrix', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-look-ahead-'));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

/** A copy of the fixture set, its index built; and one of its point.json files. */
function copy(): { dir: string; file: string } {
  const dir = join(work, `set-${seq++}`);
  cpSync(FIXTURE, dir, { recursive: true });
  // The first reader builds the index (a view of what it rebuilt); the ones after read it.
  ResultSet.open(dir).index().close();
  const points = join(dir, 'points');
  return { dir, file: join(points, readdirSync(points).sort()[3]!, 'point.json') };
}

test('an index view tells whether its set is still as it read it: a touched, damaged or added point is a change', async () => {
  const s = copy();
  const set = ResultSet.open(s.dir);
  const fresh = () => set.index();
  let v = fresh();
  assert.equal((await v.unchanged?.())?.same, true, 'nothing changed');
  v.close();
  assert.equal((await v.unchanged?.())?.same, true, 'closing the view (its records read) changes nothing');
  writeFileSync(s.file, '{"not": "a point"');
  assert.equal((await v.unchanged?.())?.same, false, 'a point.json written behind the index');
  rmSync(s.file);
  // The first reader after it rebuilds the index; the next reads it.
  fresh().close();
  v = fresh();
  assert.equal((await v.unchanged?.())?.same, true, 'the index read anew: the deleted point is what it knows');
  cpSync(join(s.dir, 'points', readdirSync(join(s.dir, 'points')).sort()[0]!), join(s.dir, 'points', 'zz-copied'), { recursive: true });
  assert.equal((await v.unchanged?.())?.same, false, 'a point directory added');
  v.close();
});

test('looks ahead keep answers fresh without a look of their own; damage is still the next answer after a look', async (t) => {
  const s = copy();
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const gui = new LoadedSets([ResultSet.open(s.dir)]);
  try {
    const ask = async (times: number) => {
      for (let i = 0; i < times; i++) {
        t.mock.timers.tick(300);
        await gui.settled();
        await gui.get();
      }
    };
    await gui.get();
    assert.deepEqual(gui.looks, { own: 1, ahead: 0 });
    // A page opening asks every 300 ms for 1.8 s: no look ahead takes the CPU from it.
    await ask(6);
    assert.equal(gui.looks.ahead, 0, 'no look ahead while the page opens');
    // It goes on asking for 3 s: each look ahead starts half a second after the last look.
    const own = gui.looks.own;
    await ask(10);
    assert.equal(gui.looks.own, own, 'no request waited for a look: each came within a second of a look ahead');
    // Read anew: the assertion above narrowed the field's type to 0.
    const made: number = gui.looks.ahead;
    assert.ok(made >= 4, `looks ahead were made (${made})`);

    writeFileSync(s.file, '{"not": "a point"');
    t.mock.timers.tick(300);
    await gui.settled();
    t.mock.timers.tick(300);
    await gui.settled();
    await assert.rejects(gui.get(), new RegExp(`${s.file} is corrupt`), 'the look ahead saw a change: the request looks and answers with the damage');
    assert.equal(gui.looks.own, own + 1);
    assert.equal(gui.lookAheadError, undefined);
  } finally {
    await gui.close();
  }
});

test('no answer comes from a look older than a second: a request after a pause looks for itself', async (t) => {
  const s = copy();
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const gui = new LoadedSets([ResultSet.open(s.dir)]);
  try {
    await gui.get();
    // Nobody asked for longer than the server goes on looking ahead.
    for (let i = 0; i < 30; i++) {
      t.mock.timers.tick(1000);
      await gui.settled();
    }
    const ahead = gui.looks.ahead;
    t.mock.timers.tick(5000);
    await gui.settled();
    assert.equal(gui.looks.ahead, ahead, 'no look ahead once no page asks');
    writeFileSync(s.file, '{"not": "a point"');
    await assert.rejects(gui.get(), new RegExp(`${s.file} is corrupt`));
    assert.equal(gui.looks.own, 2);
  } finally {
    await gui.close();
  }
});
