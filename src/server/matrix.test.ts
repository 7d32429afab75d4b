// The matrix route (/api/matrix) called in-process over small real result sets, written through the
// store as the engine writes them: a fixed value matches by value for every parameter type, whatever
// spelling the GUI (or an edited link) sends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { typeValue, type ParamDecl, type RawValue } from '../config/declare.ts';
import type { PointRecord } from '../store/records.ts';
import { ResultSet } from '../store/resultset.ts';
import type { MatrixResponse, SetsResponse } from './api-types.ts';
import { ApiFailure } from './route.ts';
import { ROUTES } from './routes/index.ts';
import { LoadedSets } from './sets.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-matrix-route-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A parameter of the test set: its declaration (as a benchmark file's `params:` gives it) and the values its points cycle through, as written. */
interface TestParam {
  decl: ParamDecl;
  values: RawValue[];
}

const decl = (name: string, type: ParamDecl['type'], extra: Partial<ParamDecl> = {}): ParamDecl => ({ name, type, doc: '', role: 'all', ...extra });

/** One parameter per type; `idx` numbers the points (the plots' x). */
const PARAMS: TestParam[] = [
  { decl: decl('idx', 'integer'), values: [] },
  { decl: decl('threads', 'integer'), values: [1, 2, 3] },
  // Fractional: stored as DOUBLE, where 0 is 0.0 and 2 is 2.0.
  { decl: decl('loss', 'number', { unit: '%' }), values: [0, 0.5, 2] },
  { decl: decl('rate', 'bitrate', { unit: 'bit/s' }), values: ['300k', '1M', '2.5M'] },
  { decl: decl('delay', 'duration', { unit: 'ms' }), values: ['0ms', '0.5ms', '30ms'] },
  { decl: decl('size', 'resolution', { unit: 'px' }), values: ['320x180', '640x360'] },
  { decl: decl('mode', 'enum', { values: ['fast', 'slow'] }), values: ['fast', 'slow'] },
  { decl: decl('window', 'boolean'), values: [true, false] },
  { decl: decl('note', 'text'), values: ["it's", 'a b'] },
  { decl: decl('file', 'path'), values: ['/tmp/a.y4m', 'clips/b.y4m'] },
];
/** Parameters no declaration covers: typed from their values (numbers, true/false, text). */
const INFERRED: TestParam[] = [
  { decl: { ...decl('ratio', 'number'), doc: '' }, values: [1, 1.5] },
  { decl: { ...decl('cache', 'boolean'), doc: '' }, values: [false, true] },
];
const POINTS = 12;

function valueOf(p: TestParam, i: number): RawValue {
  return p.decl.name === 'idx' ? i : p.values[i % p.values.length]!;
}

/** A set of POINTS points, two repetitions each; `y` is the point's index plus a little noise. */
function writeSet(name: string): string {
  const dir = join(tmp, name);
  const set = ResultSet.openOrCreate(dir, name);
  set.index().close();
  for (let i = 0; i < POINTS; i++) {
    for (const rep of [1, 2]) {
      const params: PointRecord['params'] = {};
      const typed: NonNullable<PointRecord['typed']> = {};
      const declared: NonNullable<NonNullable<PointRecord['declared']>['params']> = {};
      for (const p of [...PARAMS, ...INFERRED]) {
        const v = valueOf(p, i);
        params[p.decl.name] = v;
        typed[p.decl.name] = typeValue(p.decl, v);
        declared[p.decl.name] = { ...p.decl, source: INFERRED.includes(p) ? 'inferred' : 'file' };
      }
      const key = `k${String(i).padStart(3, '0')}`;
      const w = set.beginPoint(key, rep);
      w.commit({
        key,
        rep,
        index: i,
        params,
        typed,
        declared: { params: declared, metrics: [{ name: 'y', unit: 'ms', better: 'lower', role: 'local', kind: 'summary', view: 'points', doc: 'a latency' }] },
        outcome: { status: 'ok' },
        attempts: 1,
        workload: 'command',
        benchmark: { name, sha256: 'e'.repeat(64) },
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:00:01.000Z',
        wallS: 1,
        metrics: { y: 10 + i + (rep === 1 ? -0.5 : 0.5) },
        flags: [],
      });
    }
  }
  return dir;
}

async function call(sets: LoadedSets, path: string, query: Record<string, string>): Promise<unknown> {
  const route = ROUTES.find((r) => r.method === 'GET' && r.path === path)!;
  return route.handle({ params: {}, query: new URLSearchParams(query), sets });
}

let sets: LoadedSets;
before(() => {
  sets = new LoadedSets([ResultSet.open(writeSet('types'))]);
});
after(() => sets?.close());

/** The x values (point indices) plotted with one parameter fixed to `value` (the text after `v:`). */
async function fixedTo(param: string, value: string): Promise<number[]> {
  const r = (await call(sets, '/api/matrix', { metric: 'y', x: 'idx', kind: 'line', agg: 'mean', [`c.${param}`]: `v:${value}` })) as MatrixResponse;
  return r.columns['x'] as number[];
}

for (const p of [...PARAMS, ...INFERRED].filter((x) => x.decl.name !== 'idx')) {
  test(`${p.decl.type} parameter${INFERRED.includes(p) ? ' (inferred from its values)' : ''} '${p.decl.name}': each value the GUI offers, fixed, gives exactly the runs that have it`, async () => {
    const cat = (await call(sets, '/api/sets', {})) as SetsResponse;
    const c = cat.params.find((x) => x.name === p.decl.name);
    assert.ok(c, `the catalogue lacks ${p.decl.name}`);
    assert.equal(c.type, p.decl.type, `${p.decl.name}: its type in the catalogue`);
    // What the GUI's control sends: each value of the catalogue as text (`v:${String(v)}`, web/src/views/matrix.ts).
    assert.equal(c.values!.length, p.values.length, `${p.decl.name}: values ${JSON.stringify(c.values)}`);
    for (const v of c.values!) {
      const j = p.values.findIndex((w) => JSON.stringify(typeValue(p.decl, w)) === JSON.stringify(v) || (p.decl.type === 'resolution' && w === v));
      assert.ok(j >= 0, `${p.decl.name}: catalogue value ${JSON.stringify(v)} is none of the written ones`);
      const want = Array.from({ length: POINTS }, (_, i) => i).filter((i) => i % p.values.length === j);
      assert.deepEqual(await fixedTo(p.decl.name, String(v)), want, `${p.decl.name} fixed to ${String(v)} (as the GUI sends it)`);
    }
  });
}

test('a fixed value in the spellings a user writes in a link matches by value: 0.0, 2.5M, 1000k, 30ms, 0.03s, 2.0', async () => {
  const spelled: [string, string, number[]][] = [
    ['loss', '0.0', [0, 3, 6, 9]],
    ['loss', '2', [2, 5, 8, 11]],
    ['loss', '2.0', [2, 5, 8, 11]],
    ['loss', '2%', [2, 5, 8, 11]],
    ['loss', '5e-1', [1, 4, 7, 10]],
    ['rate', '2.5M', [2, 5, 8, 11]],
    ['rate', '1000k', [1, 4, 7, 10]],
    ['rate', '300000', [0, 3, 6, 9]],
    ['delay', '30ms', [2, 5, 8, 11]],
    ['delay', '0.03s', [2, 5, 8, 11]],
    ['delay', '30', [2, 5, 8, 11]],
    ['delay', '0', [0, 3, 6, 9]],
    ['threads', '2.0', [1, 4, 7, 10]],
    ['size', ' 640x360', [1, 3, 5, 7, 9, 11]],
    ['window', 'TRUE', [0, 2, 4, 6, 8, 10]],
    ['ratio', '1.0', [0, 2, 4, 6, 8, 10]],
  ];
  for (const [param, value, want] of spelled) assert.deepEqual(await fixedTo(param, value), want, `${param} fixed to '${value}'`);
});

test('a value the set does not have is refused, naming the values it has', async () => {
  for (const [param, value] of [['loss', '1'], ['rate', '2M'], ['delay', '1s'], ['size', '1280x720'], ['window', 'yes'], ['note', 'its'], ['threads', '1.5'], ['mode', "fast' OR 1=1 --"]] as const) {
    await assert.rejects(fixedTo(param, value), (e: unknown) => e instanceof ApiFailure && e.status === 400 && e.message.includes(`${param} has no value '${value}' here (it has `), `${param}=${value}`);
  }
});
