import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codecVerdict, type CodecEvidence } from './codec.ts';

const vp8: CodecEvidence = { asked: 'gstreamer:vp8', askedFamily: 'vp8', server: { codecs: ['gstreamer:vp8'], encoders: ['vp8enc'] }, client: { codecs: ['vp8'], decoders: ['vp8dec'] }, streams: 1, streamsExpected: true };

test('both sides used the codec asked: it matches, no flag, no failure', () => {
  const v = codecVerdict(vp8);
  assert.deepEqual(v.metrics, { 'codec.asked': 'gstreamer:vp8', 'codec.server': 'gstreamer:vp8', 'codec.server_encoder': 'vp8enc', 'codec.client': 'vp8', 'codec.client_decoder': 'vp8dec', 'codec.match': true });
  assert.deepEqual(v.flags, []);
  assert.equal(v.failure, undefined);
});

test("a server that encoded another codec than asked: no match, a flag quoting what it encoded and the stack's reason", () => {
  const v = codecVerdict({ ...vp8, server: { codecs: ['spice:mjpeg'], encoders: ['spice-server-mjpeg'] }, client: { codecs: ['mjpeg'], decoders: ['spice-gtk-mjpeg'] }, fallback: 'it fell back to its own MJPEG encoder' });
  assert.equal(v.metrics['codec.match'], false);
  assert.equal(v.metrics['codec.server'], 'spice:mjpeg');
  assert.deepEqual(v.flags, ['codec asked gstreamer:vp8, the server encoded spice:mjpeg: it fell back to its own MJPEG encoder']);
});

test('the server used the codec but the client shows another family, or none: no match, a flag quoting both logs', () => {
  const v = codecVerdict({ ...vp8, client: { codecs: [], decoders: [] } });
  assert.equal(v.metrics['codec.match'], false);
  assert.equal(v.metrics['codec.client'], 'none');
  assert.equal(v.metrics['codec.client_decoder'], 'none');
  assert.deepEqual(v.flags, ["codec asked gstreamer:vp8: the server's log shows gstreamer:vp8, the client's none"]);
  // Two codecs over the point (the server changed its mind) are both named, and are no match.
  const two = codecVerdict({ ...vp8, server: { codecs: ['gstreamer:vp8', 'spice:mjpeg'], encoders: ['vp8enc', 'spice-server-mjpeg'] } });
  assert.equal(two.metrics['codec.server'], 'gstreamer:vp8+spice:mjpeg');
  assert.equal(two.metrics['codec.server_encoder'], 'vp8enc+spice-server-mjpeg');
  assert.equal(two.metrics['codec.match'], false);
  assert.equal(two.flags.length, 1);
});

test('no video stream: a flag when streams were asked for, none when images were; the failure the evidence carries is handed on', () => {
  const none = { ...vp8, server: { codecs: [], encoders: [] }, client: { codecs: [], decoders: [] }, streams: 0 };
  assert.deepEqual(codecVerdict(none).flags, ['no video stream was created: the content was sent as images']);
  assert.equal(codecVerdict(none).metrics['codec.server'], 'none');
  assert.deepEqual(codecVerdict({ ...none, streamsExpected: false }).flags, []);
  const failed = codecVerdict({ ...vp8, client: { codecs: [], decoders: [] }, failure: 'the client could not decode the gstreamer:vp8 stream' });
  assert.equal(failed.failure, 'the client could not decode the gstreamer:vp8 stream');
  assert.equal(failed.metrics['codec.match'], false);
});
