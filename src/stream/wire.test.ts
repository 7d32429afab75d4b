import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSG_FRAME, MSG_PADDING, parseControl, parseDatagram, parseLiveResolution, stampPaddingSendTime, stampTcpSendTime, TcpDeframer, tcpFrameMessage, tcpPaddingMessage, udpPaddingDatagram } from './wire.ts';
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

test('frames and padding share the transport-wide packet numbers, over TCP and UDP; padding parses to its number and send stamp', () => {
  const h = { frame: 7, seq: 5, key: true, captureMs: 10, sendMs: 0 };
  const msg = tcpFrameMessage(h, Buffer.from('abc'), 41);
  stampTcpSendTime(msg, 12.5);
  const pad = tcpPaddingMessage(42, 1200);
  assert.equal(pad.length, 1200, 'a padding message is the size asked, header included');
  stampPaddingSendTime(pad, true, 13.25);
  const got = new TcpDeframer().push(Buffer.concat([msg, pad]));
  assert.equal(got.length, 2);
  const f = got[0]!;
  const p = got[1]!;
  assert.ok(f.type === MSG_FRAME && p.type === MSG_PADDING);
  assert.deepEqual({ pkt: f.pkt, header: f.header, payload: f.payload.toString() }, { pkt: 41, header: { ...h, sendMs: 12.5 }, payload: 'abc' });
  assert.deepEqual(p.padding, { pkt: 42, sendMs: 13.25 });
  const d = udpPaddingDatagram(43, 1200);
  assert.equal(d.length, 1200);
  stampPaddingSendTime(d, false, 14);
  const pd = parseDatagram(d);
  assert.ok(pd.type === MSG_PADDING);
  assert.deepEqual(pd.padding, { pkt: 43, sendMs: 14 });
  assert.throws(() => parseDatagram(d.subarray(0, 8)), /short padding datagram/);
  assert.equal(tcpPaddingMessage(1, 3).length, 17, 'never shorter than its header');
});
