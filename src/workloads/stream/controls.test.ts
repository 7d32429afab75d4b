import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ClientFrame } from '../../stream/report.ts';
import { readControls, stampControls } from './run.ts';

const shown = (frame: number, display: number): ClientFrame => ({ frame, recvFirst: 0, recvEnd: 0, decStart: 0, decEnd: display - 1, display, key: false, bytes: 1, psnr: NaN, ssim: NaN });

test('a decision is stamped with the first frame shown from its first encoded frame on', () => {
  const client = [shown(10, 400), { ...shown(11, 430), display: NaN }, shown(12, 470), shown(13, 500)];
  const out = stampControls(
    [
      { t: 300, from: 'schedule', resolution: '320x180', applied: 'reopened', encodedFrame: 11, encodedMs: 420 },
      { t: 480, from: 'client', bitrate: 1e6, applied: 'live', encodedFrame: 14, encodedMs: 520 },
      { t: 490, from: 'stdin', rejected: 'no' },
    ],
    client,
  );
  // Frame 11 was replaced before a refresh showed it: 12 is the first one shown.
  assert.deepEqual([out[0]!.shownFrame, out[0]!.shownMs, out[0]!.scaledBack], [12, 470, 'swscale bicubic']);
  assert.equal(out[1]!.shownFrame, undefined, 'nothing shown after frame 14: no shown stamp');
  assert.deepEqual(out[2], { t: 490, from: 'stdin', rejected: 'no' });
});

test('controls.json is read back checked, naming the file and the record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-controls-'));
  const f = join(dir, 'controls.json');
  writeFileSync(f, JSON.stringify([{ t: 1, from: 'schedule', fps: 15 }]));
  assert.deepEqual(readControls(f), [{ t: 1, from: 'schedule', fps: 15 }]);
  writeFileSync(
    f,
    JSON.stringify([
      { t: 1, from: 'schedule' },
      { t: 'soon', from: 'x' },
    ]),
  );
  assert.throws(() => readControls(f), new RegExp(`${f}: \\[1\\]: control field 't' must be a number`));
  writeFileSync(f, '{');
  assert.throws(() => readControls(f), new RegExp(`^Error: ${f}: `));
});
