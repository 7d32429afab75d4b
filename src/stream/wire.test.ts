import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseControl, parseLiveResolution } from './wire.ts';
import { parseControlRecord } from './report.ts';

test('a control message carries a resolution, checked: WxH, even, within the limits', () => {
  assert.deepEqual(parseControl({ resolution: '640x360', bitrate: 1e6, from: 'policy' }), { bitrate: 1e6, resolution: '640x360', from: 'policy' });
  assert.deepEqual(parseControl({ resolution: ' 320X180 ' }), { resolution: '320x180' });
  assert.throws(() => parseControl({ resolution: '641x360' }), /641x360 must have an even width and height/);
  assert.throws(() => parseControl({ resolution: '32x32' }), /32x32 must be from 64x64 to 7680x4320/);
  assert.throws(() => parseControl({ resolution: '8000x4000' }), /must be from 64x64 to 7680x4320/);
  assert.throws(() => parseControl({ resolution: 'big' }), /control resolution "big" must be 'WxH'/);
  assert.throws(() => parseControl({ resolution: 640 }), /must be 'WxH'/);
  assert.deepEqual(parseLiveResolution('64x64'), { width: 64, height: 64 });
});

test('a control record is checked where it enters: every field its type, no unknown field', () => {
  const ok = { t: 1, from: 'schedule', resolution: '320x180', scaler: 'swscale bicubic', applied: 'reopened', encodedFrame: 3, encodedMs: 2, shownFrame: 3, shownMs: null };
  const r = parseControlRecord(ok, 'guest.json: controls[0]');
  assert.ok(Number.isNaN(r.shownMs), 'an unknown time (null in JSON) reads as NaN');
  assert.throws(() => parseControlRecord({ t: 1, from: 'x', encodedFrame: '3' }, 'guest.json: controls[2]'), /guest.json: controls\[2\]: control field 'encodedFrame' must be a number, got "3"/);
  assert.throws(() => parseControlRecord({ t: 1, from: 'x', colour: 'red' }, 'f'), /f: unknown field 'colour'/);
  assert.throws(() => parseControlRecord({ from: 'x' }, 'f'), /needs t \(a number\) and from/);
  assert.throws(() => parseControlRecord([], 'f'), /must be an object/);
});
