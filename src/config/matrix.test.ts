import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countPoints, expandPoints, expandRange, orderPoints, type Point } from './matrix.ts';
import type { Axis, ParamValue, PartialPoint } from './resolved.ts';

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
  const pts = expandPoints(
    axes,
    [],
    [],
    [
      { codec: ['h264'], crf: [20] },
      { threads: [4], codec: ['vp8'] },
    ],
  );
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
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    pts.map((p) => p.index),
  );
  assert.notDeepEqual(
    a,
    pts.map((p) => p.index),
  );
});

/** The plan by definition: every combination of the product, then the constraints. */
function naive(axes: Axis[], links: string[][], exclude: PartialPoint[], only: PartialPoint[], filter: PartialPoint[]): Point[] {
  const groupOf = new Map<string, string[]>();
  for (const g of links) for (const n of g) groupOf.set(n, g);
  const units: Axis[][] = [];
  const done = new Set<string>();
  for (const a of axes) {
    if (done.has(a.name)) continue;
    const members = (groupOf.get(a.name) ?? [a.name]).map((n) => axes.find((x) => x.name === n)!);
    members.forEach((m) => done.add(m.name));
    units.push(members);
  }
  let combos: Record<string, ParamValue>[] = [{}];
  for (const u of units) combos = combos.flatMap((c) => Array.from({ length: u[0]!.values.length }, (_, i) => ({ ...c, ...Object.fromEntries(u.map((m) => [m.name, m.values[i]!])) })));
  const matches = (p: Record<string, ParamValue>, part: PartialPoint) => Object.entries(part).every(([k, vs]) => vs.some((v) => p[k] !== undefined && String(p[k]) === String(v)));
  return combos.map((params, index) => ({ index, params })).filter((p) => !exclude.some((e) => matches(p.params, e)) && (only.length === 0 || only.some((o) => matches(p.params, o))) && filter.every((f) => matches(p.params, f)));
}

test('counting and listing agree with the plan by definition, for 2000 random matrices and constraints', () => {
  let seed = 7;
  const r = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const ri = (n: number) => Math.floor(r() * n);
  for (let t = 0; t < 2000; t++) {
    const n = 1 + ri(4);
    const ax: Axis[] = Array.from({ length: n }, (_, i) => ({ name: `p${i}`, values: Array.from({ length: 1 + ri(4) }, (_, j) => (r() < 0.5 ? j : String(j))) }));
    const links: string[][] = [];
    if (n >= 2 && r() < 0.3) {
      ax[1]!.values = ax[0]!.values.map((_, j) => j * 10);
      links.push(['p1', 'p0']);
    }
    const partial = (): PartialPoint => {
      const o: Record<string, ParamValue[]> = {};
      for (let k = ri(3); k > 0; k--) {
        const a = ax[ri(n)]!;
        o[a.name] = Array.from({ length: 1 + ri(2) }, () => a.values[ri(a.values.length)]!);
      }
      if (r() < 0.05) o['not_a_parameter'] = [1];
      return o;
    };
    const exclude = Array.from({ length: ri(3) }, partial);
    const only = Array.from({ length: r() < 0.5 ? 0 : 1 + ri(2) }, partial);
    const filter = Array.from({ length: r() < 0.7 ? 0 : 1 + ri(2) }, partial);
    const want = naive(ax, links, exclude, only, filter);
    const label = JSON.stringify({ ax, links, exclude, only, filter });
    assert.deepEqual(expandPoints(ax, links, exclude, only, filter), want, label);
    assert.equal(countPoints(ax, links, exclude, only, filter, 1e9), want.length, label);
    if (want.length > 0) assert.equal(countPoints(ax, links, exclude, only, filter, want.length - 1), undefined, `${label}: the count stops past the cap`);
  }
});

test('a 10^12 product is counted, not built: past the cap at once, narrowed by only to its exact points', () => {
  const big: Axis[] = Array.from({ length: 12 }, (_, i) => ({ name: `q${i}`, values: Array.from({ length: 10 }, (_, j) => j) }));
  assert.equal(countPoints(big, [], [], [], [], 100_000), undefined);
  const only = [Object.fromEntries(big.map((a, i) => [a.name, i === 11 ? [1, 2, 3] : [i % 10]]))];
  assert.equal(countPoints(big, [], [], only, [], 100_000), 3);
  const pts = expandPoints(big, [], [], only);
  assert.deepEqual(
    pts.map((p) => p.params['q11']),
    [1, 2, 3],
  );
  assert.equal(pts[0]!.index, 12345678901, 'digits q0..q11: 0 1 2 3 4 5 6 7 8 9 0 1');
  // Every parameter constrained: 9^12 after the exclusions, still past the cap without listing.
  assert.equal(
    countPoints(
      big,
      [],
      big.map((a) => ({ [a.name]: [0] })),
      [],
      [],
      100_000,
    ),
    undefined,
  );
  assert.equal(
    countPoints(
      big,
      [],
      big.map((a) => ({ [a.name]: [1, 2, 3, 4, 5, 6, 7, 8, 9] })),
      [],
      [],
      1e15,
    ),
    1,
  );
});

test('ranges refuse what they cannot expand, before expanding', () => {
  assert.throws(() => expandRange({ from: 1, to: 10, step: 1, count: 3 }), /step or count, not both/);
  assert.throws(() => expandRange({ from: 1, to: 100, step: 10, scale: 'log' }), /log range needs count/);
  assert.throws(() => expandRange({ from: 0, to: 100, count: 3, scale: 'log' }), /above 0/);
  assert.throws(() => expandRange({ from: 0, to: 1, count: 1_000_000_000 }), /above the 100000 values/);
  assert.throws(() => expandRange({ from: 0, to: 1, step: 1e-300 }), /the range has .* values, above the 100000/);
  assert.throws(() => expandRange({ from: 0, to: Infinity }), /finite/);
  assert.equal(expandRange({ from: 0, to: 99_999 }).length, 100_000);
});
