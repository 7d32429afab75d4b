// The pacer's schedule: fragments spaced at the pacing rate, a frame never spread over more than its cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paceOffsets } from './pacer.ts';

test('fragments leave at the pacing rate, one after the bytes before it', () => {
  // 1250 B at 10 Mbit/s is 1 ms each.
  assert.deepEqual(paceOffsets([1250, 1250, 1250, 500], 10e6, 100), [0, 1, 2, 3]);
  assert.deepEqual(paceOffsets([1250], 10e6, 100), [0], 'a single fragment goes at once');
});

test('a frame larger than the cap allows is compressed into it, in the same order', () => {
  const at = paceOffsets(
    Array.from({ length: 41 }, () => 1250),
    10e6,
    16,
  );
  assert.equal(at[0], 0);
  assert.ok(Math.abs(at.at(-1)! - 16) < 1e-9, 'the last fragment leaves at the cap');
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! > at[i - 1]!);
});
