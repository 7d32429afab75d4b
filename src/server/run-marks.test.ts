// The reader of a run's decisions and freezes: a file absent and unlisted is no problem, one
// listed and missing, damaged, of the wrong shape or a FIFO is one line naming it; a good one is
// read with its unknown fields dropped and null stamps kept.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkControls, checkFreezes, CONTROLS_FILE, FREEZES_FILE, readPointJson } from './run-marks.ts';

test('controls.json and freezes.json are read checked, each problem one line naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-marks-'));
  try {
    assert.deepEqual(readPointJson(dir, FREEZES_FILE, false, checkFreezes), {}, 'absent and not listed: no marks, no problem');
    assert.equal(readPointJson(dir, CONTROLS_FILE, true, checkControls).problem?.error, `${join(dir, CONTROLS_FILE)} is missing`);

    writeFileSync(
      join(dir, CONTROLS_FILE),
      JSON.stringify([
        { t: 900, from: 'schedule', fps: 15 },
        { t: 120.5, from: 'policy', bitrate: 8e5, applied: 'live', encodedFrame: null, estimate: { state: 'overuse', trend: 3.2 }, later: 'a newer field' },
      ]),
    );
    assert.deepEqual(readPointJson(dir, CONTROLS_FILE, true, checkControls).value, [
      { t: 120.5, from: 'policy', bitrate: 8e5, applied: 'live', encodedFrame: null, estimate: { state: 'overuse', trend: 3.2 } },
      { t: 900, from: 'schedule', fps: 15 },
    ]);
    const bad = (text: string) => {
      writeFileSync(join(dir, CONTROLS_FILE), text);
      const p = readPointJson(dir, CONTROLS_FILE, true, checkControls).problem;
      assert.ok(p && p.file === CONTROLS_FILE && p.problem === 'damaged', JSON.stringify(p));
      return p.error;
    };
    assert.match(bad('[{"t": 1, "fr'), /controls\.json is not readable JSON: damaged or cut short/);
    assert.match(bad('{"t": 1}'), /controls\.json: must be a list of decisions$/);
    assert.match(bad('[{"t": 1, "from": "policy", "bitrate": "fast"}]'), /controls\.json: \[0\]: 'bitrate' must be a number, not "fast"$/);
    assert.match(bad('[{"from": "policy"}]'), /\[0\] needs t \(a number of ms\) and from/);
    assert.match(bad('[{"t": 1, "from": "policy", "estimate": {"a": [1]}}]'), /'estimate' must be an object of numbers and strings/);

    writeFileSync(join(dir, FREEZES_FILE), JSON.stringify({ thresholdMs: 150, freezes: [{ fromMs: 1000, toMs: 1250 }] }));
    assert.deepEqual(readPointJson(dir, FREEZES_FILE, false, checkFreezes).value, { thresholdMs: 150, freezes: [{ fromMs: 1000, toMs: 1250 }] });
    writeFileSync(join(dir, FREEZES_FILE), JSON.stringify({ thresholdMs: 150, freezes: [{ fromMs: 1000, toMs: 900 }] }));
    assert.match(readPointJson(dir, FREEZES_FILE, false, checkFreezes).problem!.error, /freezes\[0\] must be .* toMs not before fromMs/);

    // A FIFO is never opened (a read would wait for a writer forever).
    rmSync(join(dir, FREEZES_FILE));
    execFileSync('mkfifo', [join(dir, FREEZES_FILE)]);
    assert.equal(readPointJson(dir, FREEZES_FILE, false, checkFreezes).problem?.error, `${join(dir, FREEZES_FILE)} is a FIFO (named pipe), not a JSON file: not read`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
