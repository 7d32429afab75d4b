// The RDP stack's log readers on excerpts recorded here (xfreerdp 2.10 against xrdp 0.9.21 with
// WLOG_FILTER as the workload sets it; xrdp-sesrun's answer; xrdp --version), and the refusal of
// the graphics pipeline built from the version a machine's xrdp states.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gfxRefusal, parseXrdpVersion, rdpSettings } from '../../config/rdp-settings.ts';
import { SettingError } from '../../config/declare.ts';
import { carriedCodecs, evidenceLine, parseClientLog, sesrunDisplay } from './logs.ts';
import { rdpCodecEvidence, rdpFigures } from './stack.ts';

const RFX = `Password: [09:44:09:933] [22401:22402] [INFO][com.freerdp.gdi] - Remote framebuffer format PIXEL_FORMAT_BGRA32
[09:44:09:987] [22401:22402] [DEBUG][com.freerdp.core.update] - SurfaceFrameMarker: action: Begin (0) id: 1
[09:44:09:987] [22401:22402] [DEBUG][com.freerdp.gdi] - frameId 1 frameAction 0
[09:44:09:987] [22401:22402] [DEBUG][com.freerdp.gdi] - destLeft 0 destTop 0 destRight 800 destBottom 600 bpp 32 flags 0 codecID 3 width 800 height 600 length 11867
[09:44:09:987] [22401:22402] [DEBUG][com.freerdp.codec.rfx] - RFX_FRAME_BEGIN: frameIdx: 0 numRegions: 1
[09:44:09:988] [22401:22402] [DEBUG][com.freerdp.codec.rfx] - RFX_FRAME_END
[09:44:12:182] [22401:22402] [DEBUG][com.freerdp.gdi] - destLeft 0 destTop 0 destRight 800 destBottom 600 bpp 32 flags 0 codecID 3 width 800 height 600 length 38295
[09:44:12:182] [22401:22402] [DEBUG][com.freerdp.codec.rfx] - RFX_FRAME_BEGIN: frameIdx: 1 numRegions: 1
[09:44:13:927] [22401:22401] [ERROR][com.freerdp.utils] - Caught signal 'Terminated' [15]
[09:44:13:927] [22401:22401] [ERROR][com.freerdp.utils] - 0: /lib/x86_64-linux-gnu/libwinpr2.so.2(+0x562fe) [0x7f91682772fe]
`;

const BITMAP = `Password: [09:43:48:644] [21913:21915] [TRACE][com.freerdp.core.update] - Bitmap Update Data PDU
[09:43:48:644] [21913:21915] [TRACE][com.freerdp.core.update] - BitmapUpdate: 60
[09:43:49:100] [21913:21915] [TRACE][com.freerdp.core.update] - Bitmap Update Data PDU
[09:43:49:100] [21913:21915] [TRACE][com.freerdp.core.update] - BitmapUpdate: 4
`;

const window = { wallFromMs: ((9 * 60 + 43) * 60 + 48) * 1000, wallToMs: ((9 * 60 + 44) * 60 + 13) * 1000, durationS: 24 };
const times = { warmupS: 0, durationS: 1 };

test('xfreerdp RemoteFX log: surface commands of codec id 3 with RemoteFX frames, their bytes; its own exit is no error', () => {
  const log = parseClientLog(RFX);
  assert.deepEqual(
    log.surfaces.map((s) => [s.codecId, s.bytes]),
    [
      [3, 11867],
      [3, 38295],
    ],
  );
  assert.equal(log.rfxFrames.length, 2);
  assert.equal(log.bitmapUpdates.length, 0);
  assert.equal(log.connected, true);
  assert.deepEqual(log.errors, []);
  assert.deepEqual(carriedCodecs(log), { codecs: ['remotefx'], decoders: ['freerdp-rfx'] });
  assert.equal(log.surfaces[0]!.atMs, ((9 * 60 + 44) * 60 + 9) * 1000 + 987);
  const m = rdpFigures(log, window);
  assert.deepEqual([m['client.rfx_frames'], m['client.surface_commands'], m['client.surface_bytes'], m['client.bitmap_updates']], [2, 2, 11867 + 38295, 0]);
});

test('xfreerdp bitmap log: bitmap update PDUs and their rectangles; a surface command without RemoteFX frames is no RemoteFX', () => {
  const log = parseClientLog(BITMAP);
  assert.deepEqual(
    log.bitmapUpdates.map((b) => b.rects),
    [60, 4],
  );
  assert.deepEqual(carriedCodecs(log).codecs, ['bitmap']);
  const m = rdpFigures(log, window);
  assert.equal(m['client.bitmap_rects'], 64);
  assert.equal(m['client.updates_fps'], Number((2 / 24).toFixed(2)));
  const bare = parseClientLog('[09:44:09:987] [1:2] [DEBUG][com.freerdp.gdi] - destLeft 0 destTop 0 destRight 8 destBottom 6 bpp 32 flags 0 codecID 3 width 8 height 6 length 10\n');
  assert.deepEqual(carriedCodecs(bare).codecs, ['codec-id-3']);
});

test('codec evidence: the codec carried matches what was asked; RemoteFX asked and bitmaps carried fails quoting the client; nothing carried fails', () => {
  const rfx = rdpSettings({ rdp_codec: 'remotefx' }, times);
  const bmp = rdpSettings({ rdp_codec: 'bitmap', rdp_bpp: 16 }, times);
  const ok = rdpCodecEvidence(rfx, parseClientLog(RFX), RFX);
  assert.equal(ok.failure, undefined);
  assert.deepEqual(ok.server.codecs, ['remotefx']);
  const okB = rdpCodecEvidence(bmp, parseClientLog(BITMAP), BITMAP);
  assert.equal(okB.failure, undefined);
  const bad = rdpCodecEvidence(rfx, parseClientLog(BITMAP), BITMAP);
  assert.match(bad.failure ?? '', /codec asked remotefx.*the stream carried bitmap.*"\[TRACE\]\[com\.freerdp\.core\.update\] - Bitmap Update Data PDU"/);
  const badB = rdpCodecEvidence(bmp, parseClientLog(RFX), RFX);
  assert.match(badB.failure ?? '', /codec asked bitmap; the stream carried remotefx.*codecID 3/);
  const none = rdpCodecEvidence(rfx, parseClientLog('Password: \n'), '');
  assert.match(none.failure ?? '', /no picture of the session/);
  assert.equal(evidenceLine(RFX, 'remotefx'), '[DEBUG][com.freerdp.gdi] - destLeft 0 destTop 0 destRight 800 destBottom 600 bpp 32 flags 0 codecID 3 width 800 height 600 length 11867');
});

test("xrdp-sesrun's answer names the session's display; a refusal names none", () => {
  assert.equal(sesrunDisplay('ok data=1 display=:150 GUID=8cdb13f3127314dd55351bf360f76b7b\n'), 150);
  assert.equal(sesrunDisplay('[20261205-09:41:12] [ERROR] connect error - Operation now in progress\n'), undefined);
});

const XRDP_0_9 = `xrdp 0.9.21.1
  A Remote Desktop Protocol Server.
  Copyright (C) 2004-2020 Jay Sorg, Neutrino Labs, and all contributors.
  See https://github.com/neutrinolabs/xrdp for more information.

  Configure options:
      --enable-ipv6
      --enable-jpeg
      --enable-fuse
      --enable-rfxcodec
      --enable-opus
      --enable-painter
      --enable-vsock
      --build=x86_64-linux-gnu
`;

test('gfx and h264 are refused with the version the xrdp states; a newer xrdp lifts the refusal', () => {
  const b = parseXrdpVersion(XRDP_0_9)!;
  assert.equal(b.version, '0.9.21.1');
  assert.ok(b.options.includes('--enable-rfxcodec'));
  for (const codec of ['gfx', 'h264'] as const) {
    assert.throws(
      () => rdpSettings({ rdp_codec: codec }, times, undefined, () => b),
      (e: unknown) => e instanceof SettingError && e.param === 'rdp_codec' && /xrdp has from 0\.10 on; this machine's xrdp is 0\.9\.21\.1 \(`\/usr\/sbin\/xrdp --version`\)/.test(e.message),
    );
  }
  const newer = parseXrdpVersion(XRDP_0_9.replace('0.9.21.1', '0.10.1').replace('--enable-vsock', '--enable-vsock\n      --enable-x264'))!;
  assert.equal(gfxRefusal('gfx', newer), undefined);
  assert.equal(gfxRefusal('h264', newer), undefined);
  assert.match(gfxRefusal('h264', parseXrdpVersion(XRDP_0_9.replace('0.9.21.1', '0.10.1'))) ?? '', /neither --enable-x264 nor --enable-openh264/);
  assert.match(gfxRefusal('gfx', undefined) ?? '', /not installed here/);
  assert.equal(rdpSettings({ rdp_codec: 'gfx' }, times, undefined, () => newer).codec, 'gfx');
});
