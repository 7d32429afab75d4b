// The vnc workload without running it: its servers' logs read from recorded excerpts (the codec
// evidence), the command lines its settings make, and validate's refusal of an encoding a server
// does not honour.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../base/errors.ts';
import { loadBenchmark } from '../../config/load.ts';
import { vncSettings } from '../../config/vnc-settings.ts';
import { codecVerdict } from '../desktop/codec.ts';
import '../index.ts';
import { familyBytes, parseX11vncLog, parseXtigervncLog } from './logs.ts';
import { serverMetrics, vncCodecEvidence, viewerArgv, x11vncArgv, xtigervncArgv } from './stack.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8');
const times = { warmupS: 0, durationS: 1 };
const work = mkdtempSync(join(tmpdir(), 'sb-vnc-unit-'));

test("x11vnc's log: the encoding the client asked, its levels, and the transmit statistics only", () => {
  const log = parseX11vncLog(fixture('x11vnc-zrle.txt'));
  assert.deepEqual(log.clientAsked, ['zrle']);
  assert.equal(log.compressLevel, 2);
  assert.equal(log.jpegQuality, 8);
  assert.equal(log.hasStatistics, true);
  assert.equal(log.updates, 78, 'the transmit table, not the received one (79)');
  // Messages and pseudo-encodings (ServerCutText, RichCursor, ExtendedDesktopSize) are no encodings.
  assert.deepEqual(
    log.encodings.map((e) => [e.id, e.rects, e.bytes, e.rawBytes]),
    [['zrle', 95, 4880232, 12115584]],
  );
  assert.match(log.encodings[0]!.line, /^ZRLE\s+:\s+95 \|\s+4880232\/ 12115584/);
  const m = serverMetrics(log, false);
  assert.equal(m['server.encoding.zrle.bytes'], 4880232);
  assert.equal(m['server.compression_ratio'], Number((12115584 / 4880232).toFixed(2)));
  assert.equal(m['server.jpeg_share'], undefined, "x11vnc's statistics do not split JPEG out of Tight");
});

test("Xtigervnc's EncodeManager statistics: sub-types summed per encoder, sizes in their units, the main encoding by bytes", () => {
  const log = parseXtigervncLog(fixture('xtigervnc-zrle.txt'));
  assert.equal(log.hasStatistics, true);
  assert.equal(log.updates, 52);
  assert.deepEqual(log.clientAsked, [], 'Xtigervnc does not log what the client asked');
  const zrle = log.encodings.find((e) => e.id === 'zrle')!;
  assert.equal(zrle.rects, 56 + 10 + 218);
  assert.equal(zrle.bytes, Math.round(1.76367 * 1024) + 917 + Math.round(4.86048 * 1024 * 1024));
  assert.deepEqual(
    log.encodings.find((e) => e.id === 'tight'),
    { id: 'tight', rects: 53, bytes: 848, rawBytes: Math.round(848 * 23.9764), line: 'Tight: / Solid: 53 rects, 4.924 kpixels / 848 B (1:23.9764 ratio)' },
  );
  // Solid areas go as Tight whatever the client prefers: ZRLE is the main encoding by bytes.
  assert.deepEqual(
    familyBytes(log).map((f) => f.family),
    ['zrle', 'tight'],
  );
  const tj = parseXtigervncLog(fixture('xtigervnc-tight.txt'));
  const jpeg = tj.encodings.find((e) => e.id === 'tight_jpeg')!;
  const tight = tj.encodings.find((e) => e.id === 'tight')!;
  assert.ok(jpeg.bytes > 0 && tight.bytes > 0);
  assert.equal(familyBytes(tj)[0]!.family, 'tight', 'Tight (JPEG) is Tight');
  assert.equal(serverMetrics(tj, true)['server.jpeg_share'], Number((jpeg.bytes / (jpeg.bytes + tight.bytes)).toFixed(3)));
  assert.equal(serverMetrics(log, true)['server.jpeg_share'], undefined, 'no JPEG share when Tight is not the main encoding');
});

test('Xtigervnc\'s counts past a thousand ("1.151 krects") and its Total line, whatever its count looks like', () => {
  // Recorded at 640x360, 30 fps, hextile: before, the Total's bytes were read as Tight's and the point failed.
  const log = parseXtigervncLog(fixture('xtigervnc-hextile-krects.txt'));
  const hextile = log.encodings.find((e) => e.id === 'hextile')!;
  assert.equal(hextile.rects, 277 + 51 + 1151);
  assert.equal(hextile.bytes, Math.round(6.58203 * 1024) + Math.round(7.23535 * 1024) + Math.round(38.9582 * 1024 * 1024));
  assert.deepEqual(
    log.encodings.find((e) => e.id === 'tight'),
    { id: 'tight', rects: 267, bytes: Math.round(4.17188 * 1024), rawBytes: Math.round(4.17188 * 1024), line: 'Tight: / Solid: 267 rects, 267 pixels / 4.17188 KiB (1:1 ratio)' },
  );
  assert.equal(familyBytes(log)[0]!.family, 'hextile');
});

test('a log without statistics (the server never saw the viewer go) gives no codec and no figures, never zeros', () => {
  const cut = fixture('x11vnc-zrle.txt')
    .split('\n')
    .filter((l) => !/Statistics|\|/.test(l))
    .join('\n');
  const log = parseX11vncLog(cut);
  assert.equal(log.hasStatistics, false);
  assert.deepEqual(log.encodings, []);
  assert.deepEqual(serverMetrics(log, false), { 'server.compress_level': 2, 'server.jpeg_quality': 8 });
  const v = codecVerdict(vncCodecEvidence(vncSettings({ encoding: 'zrle' }, times), log));
  assert.equal(v.metrics['codec.server'], 'none');
  assert.equal(v.metrics['codec.match'], false);
  assert.equal(v.failure, undefined);
});

test('codec evidence: x11vnc matches on both sides; Xtigervnc on its statistics alone; an encoding asked but not used fails quoting them', () => {
  const x = codecVerdict(vncCodecEvidence(vncSettings({ encoding: 'zrle' }, times), parseX11vncLog(fixture('x11vnc-zrle.txt'))));
  assert.deepEqual([x.metrics['codec.server'], x.metrics['codec.client'], x.metrics['codec.match'], x.failure], ['zrle', 'zrle', true, undefined]);
  const t = codecVerdict(vncCodecEvidence(vncSettings({ vnc_server: 'tigervnc', encoding: 'zrle' }, times), parseXtigervncLog(fixture('xtigervnc-zrle.txt'))));
  assert.deepEqual([t.metrics['codec.server'], t.metrics['codec.server_encoder'], t.metrics['codec.client'], t.metrics['codec.match']], ['zrle', 'zrle+tight', 'none', true]);
  // The same statistics for a point that asked hextile: it fails, quoting what the server sent.
  const h = codecVerdict(vncCodecEvidence(vncSettings({ vnc_server: 'tigervnc', encoding: 'hextile' }, times), parseXtigervncLog(fixture('xtigervnc-zrle.txt'))));
  assert.equal(h.metrics['codec.match'], false);
  assert.match(
    h.failure ?? '',
    /^encoding hextile was asked, but Xtigervnc's statistics show zrle \(\d+ B of \d+ B\): "ZRLE: \/ Bitmap RLE: 56 rects, .* \/ 4\.86048 MiB \(1:2\.28677 ratio\)", "Tight: \/ Solid: 53 rects, 4\.924 kpixels \/ 848 B \(1:23\.9764 ratio\)" \(server\.log\)$/,
  );
});

test("the commands: the viewer's preferences, and servers on the given address only, with the point's password file", () => {
  const s = vncSettings({ encoding: 'tight', jpeg_quality: 3, compress_level: 6, color_depth: 8, resolution: '800x600' }, times);
  const v = viewerArgv('10.0.0.2', 5999, s, '/p/vnc-passwd');
  assert.ok(v.includes('-PasswordFile=/p/vnc-passwd'), v.join(' '));
  for (const a of ['-AutoSelect=0', '-PreferredEncoding=Tight', '-NoJPEG=0', '-QualityLevel=3', '-CustomCompressLevel=1', '-CompressLevel=6', '-FullColor=0', '-LowColorLevel=2']) assert.ok(v.includes(a), a);
  assert.equal(v.at(-1), '10.0.0.2::5999');
  const off = viewerArgv('127.0.0.1', 1, vncSettings({ jpeg_quality: 'off', encoding: 'raw' }, times), '/p/vnc-passwd');
  assert.ok(off.includes('-NoJPEG=1') && off.includes('-PreferredEncoding=Raw') && off.includes('-FullColor=1') && !off.some((a) => a.startsWith('-QualityLevel')), off.join(' '));
  const x = x11vncArgv(101, '127.0.0.1', 5999, '/p/vnc-passwd');
  // libvncserver would otherwise also listen on [::]:5900, on every address.
  for (const a of ['-noipv6', '-v', '-forever']) assert.ok(x.includes(a), a);
  assert.ok(!x.includes('-nopw'), 'no server without a password');
  assert.deepEqual(x.slice(x.indexOf('-rfbauth'), x.indexOf('-rfbauth') + 2), ['-rfbauth', '/p/vnc-passwd']);
  assert.deepEqual(x.slice(x.indexOf('-listen'), x.indexOf('-listen') + 2), ['-listen', '127.0.0.1']);
  assert.deepEqual(x.slice(x.indexOf('-rfbportv6'), x.indexOf('-rfbportv6') + 2), ['-rfbportv6', '-1']);
  const t = xtigervncArgv(102, s, '127.0.0.1', 5998, '/p/vnc-passwd');
  for (const [k, val] of [
    ['-SecurityTypes', 'VncAuth'],
    ['-PasswordFile', '/p/vnc-passwd'],
    ['-interface', '127.0.0.1'],
    ['-rfbport', '5998'],
    ['-geometry', '800x600'],
    ['-Log', '*:stderr:100'],
  ] as const)
    assert.equal(t[t.indexOf(k) + 1], val, k);
});

async function problems(yaml: string): Promise<string[]> {
  const file = join(work, `b${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  try {
    await loadBenchmark(file);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.problems.map((p) => `${p.pos.line ?? '?'}: ${p.message}`);
  }
  return [];
}

test('validate refuses raw on Xtigervnc, at its line, with the reason; x11vnc takes it, and an excluded pair is no error', async () => {
  const one = await problems('name: v\nworkload: {type: vnc, vnc_server: tigervnc}\nmatrix:\n  encoding: [tight, raw]\n');
  assert.equal(one.length, 1, one.join('\n'));
  assert.match(one[0]!, /^4: encoding raw cannot run on vnc_server tigervnc: Xtigervnc has no Raw encoder/);
  const both = await problems('name: v\nworkload: {type: vnc}\nmatrix:\n  vnc_server: [x11vnc, tigervnc]\n  encoding: [zrle, raw]\n');
  assert.equal(both.length, 1, both.join('\n'));
  assert.match(both[0]!, /^5: encoding raw cannot run on vnc_server tigervnc/);
  assert.deepEqual(await problems('name: v\nworkload: {type: vnc, vnc_server: tigervnc, encoding: raw}\nmatrix: {fps: 10}\n').then((p) => p.map((x) => x.replace(/^\d+: /, ''))), [
    'encoding raw cannot run on vnc_server tigervnc: ' + 'Xtigervnc has no Raw encoder of choice: asked for Raw it encodes with other encodings the viewer lists (here Tight with JPEG, and ZRLE), so Raw cannot be measured on it; use vnc_server x11vnc for raw',
  ]);
  assert.deepEqual(await problems('name: v\nworkload: {type: vnc}\nmatrix:\n  vnc_server: [x11vnc, tigervnc]\n  encoding: [zrle, raw]\nexclude: [{vnc_server: tigervnc, encoding: raw}]\n'), []);
  assert.deepEqual(await problems('name: v\nworkload: {type: vnc, encoding: raw, jpeg_quality: off, color_depth: 6}\nmatrix: {fps: 10}\n'), []);
  assert.deepEqual(await problems('name: v\nworkload: {type: vnc}\nmatrix: {color_depth: [24, 8, 6, 3]}\n'), []);
  assert.match((await problems('name: v\nworkload: {type: vnc}\nmatrix: {color_depth: [24, 16]}\n')).join('\n'), /^3: color_depth '16' is not one of 24, 8, 6, 3/);
  const bad = await problems('name: v\nworkload: {type: vnc, jpeg_quality: 10}\nmatrix: {fps: 10}\n');
  assert.match(bad.join('\n'), /jpeg_quality '10' must be an integer from 0 to 9 \(off: no JPEG\)/);
});
