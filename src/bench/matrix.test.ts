import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandPoints, expandRange, orderPoints } from './matrix.ts';
import type { Axis } from './resolved.ts';

const axes: Axis[] = [
  { name: 'codec', values: ['h264', 'vp8'] },
  { name: 'crf', values: [20, 30] },
  { name: 'threads', values: [1, 2, 4] },
];

test('cartesian product, last parameter fastest', () => {
  const pts = expandPoints(axes, [], [], []);
  assert.equal(pts.length, 12);
  assert.deepEqual(pts[0]!.params, { codec: 'h264', crf: 20, threads: 1 });
  assert.deepEqual(pts[1]!.params, { codec: 'h264', crf: 20, threads: 2 });
  assert.deepEqual(pts[11]!.params, { codec: 'vp8', crf: 30, threads: 4 });
});

test('exclude drops every point matching a partial point; lists mean any of', () => {
  const pts = expandPoints(axes, [], [{ codec: ['vp8'], threads: [1, 4] }], []);
  assert.equal(pts.length, 12 - 4);
  assert.ok(pts.every((p) => !(p.params['codec'] === 'vp8' && p.params['threads'] !== 2)));
});

test('only keeps points matching at least one entry', () => {
  const pts = expandPoints(axes, [], [], [{ codec: ['h264'], crf: [20] }, { threads: [4], codec: ['vp8'] }]);
  assert.deepEqual(
    pts.map((p) => p.index),
    [0, 1, 2, 8, 11],
  );
});

test('linked axes vary together', () => {
  const linked: Axis[] = [
    { name: 'resolution', values: ['640x360', '1280x720', '1920x1080'] },
    { name: 'codec', values: ['h264', 'vp9'] },
    { name: 'bitrate', values: ['500k', '2M', '4M'] },
  ];
  const pts = expandPoints(linked, [['resolution', 'bitrate']], [], []);
  assert.equal(pts.length, 6);
  assert.deepEqual(pts[0]!.params, { resolution: '640x360', bitrate: '500k', codec: 'h264' });
  assert.deepEqual(pts[5]!.params, { resolution: '1920x1080', bitrate: '4M', codec: 'vp9' });
  assert.ok(pts.every((p) => ['640x360:500k', '1280x720:2M', '1920x1080:4M'].includes(`${p.params['resolution']}:${p.params['bitrate']}`)));
});

test('ranges: steps, counts, log scale, no float noise', () => {
  assert.deepEqual(expandRange({ from: 18, to: 33, step: 5 }), [18, 23, 28, 33]);
  assert.deepEqual(expandRange({ from: 0.1, to: 0.5, step: 0.1 }), [0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual(expandRange({ from: 10, to: 1, step: 3 }), [10, 7, 4, 1]);
  assert.deepEqual(expandRange({ from: 100, to: 10000, count: 3, scale: 'log' }), [100, 1000, 10000]);
  assert.deepEqual(expandRange({ from: 0, to: 1, count: 3 }), [0, 0.5, 1]);
});

test('group order: the costly parameter changes least often, ties keep declared order', () => {
  const pts = expandPoints(axes, [], [], []);
  const ordered = orderPoints(pts, { kind: 'group', params: ['threads'] }, axes);
  const changes = ordered.slice(1).filter((p, i) => p.params['threads'] !== ordered[i]!.params['threads']).length;
  assert.equal(changes, 2);
  assert.deepEqual(
    ordered.slice(0, 4).map((p) => p.index),
    [0, 3, 6, 9],
  );
});

test('seeded shuffle is a deterministic permutation', () => {
  const pts = expandPoints(axes, [], [], []);
  const a = orderPoints(pts, { kind: 'shuffle', seed: 7 }, axes).map((p) => p.index);
  const b = orderPoints(pts, { kind: 'shuffle', seed: 7 }, axes).map((p) => p.index);
  const c = orderPoints(pts, { kind: 'shuffle', seed: 8 }, axes).map((p) => p.index);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual([...a].sort((x, y) => x - y), pts.map((p) => p.index));
  assert.notDeepEqual(a, pts.map((p) => p.index));
});
