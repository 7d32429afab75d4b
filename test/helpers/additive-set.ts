// A small result set on disk whose metrics follow known formulas, for the model view's tests:
// `clean` is additive and linear in its parameters with little noise, `noise` is noise only,
// `flat` is the same in every run. The matrix is constrained: x=4 never ran with c=c, so that
// setting is a combination each of whose values was tested but never together.
import { join } from 'node:path';
import { typeValue, type ParamDecl } from '../../src/config/declare.ts';
import { normalDraw, seededRandom } from '../../src/analyze/stats.ts';
import { ResultSet } from '../../src/store/resultset.ts';
import type { PointRecord } from '../../src/store/records.ts';

const decl = (name: string, type: ParamDecl['type'], extra: Partial<ParamDecl> = {}): ParamDecl => ({ name, type, doc: '', role: 'all', ...extra });

/** The parameters and their tested values. */
export const ADDITIVE_PARAMS: { decl: ParamDecl; values: (number | string)[] }[] = [
  { decl: decl('x', 'integer'), values: [1, 2, 3, 4] },
  { decl: decl('z', 'number', { unit: 'ms' }), values: [10, 20] },
  { decl: decl('c', 'enum', { values: ['a', 'b', 'c'] }), values: ['a', 'b', 'c'] },
];

/** The clean metric's formula (before its noise, sd 0.05). */
export function cleanTruth(p: { x: number; z: number; c: string }): number {
  return 5 + 2 * p.x + 0.1 * p.z + (p.c === 'b' ? 3 : p.c === 'c' ? -1 : 0);
}

/** The setting the constrained matrix skipped. */
export const SKIPPED = { x: 4, c: 'c' } as const;

/** Writes the set under `dir/name` (two repetitions per point) and returns its directory. */
export function writeAdditiveSet(dir: string, name = 'additive'): string {
  const out = join(dir, name);
  const set = ResultSet.openOrCreate(out, name);
  set.index().close();
  const rand = seededRandom(11);
  const metricDecl = (metric: string, doc: string) => ({ name: metric, unit: 'ms', better: 'lower' as const, role: 'local', kind: 'summary' as const, view: 'points' as const, doc });
  let index = 0;
  for (const x of ADDITIVE_PARAMS[0]!.values as number[]) {
    for (const z of ADDITIVE_PARAMS[1]!.values as number[]) {
      for (const c of ADDITIVE_PARAMS[2]!.values as string[]) {
        if (x === SKIPPED.x && c === SKIPPED.c) continue;
        index++;
        const key = `p${String(index).padStart(2, '0')}`;
        for (const rep of [1, 2]) {
          const params: PointRecord['params'] = { x, z, c };
          const typed: NonNullable<PointRecord['typed']> = {};
          const declared: NonNullable<NonNullable<PointRecord['declared']>['params']> = {};
          for (const p of ADDITIVE_PARAMS) {
            typed[p.decl.name] = typeValue(p.decl, params[p.decl.name]);
            declared[p.decl.name] = { ...p.decl, source: 'file' };
          }
          const w = set.beginPoint(key, rep);
          w.commit({
            key,
            rep,
            index,
            params,
            typed,
            declared: { params: declared, metrics: [metricDecl('clean', 'additive in x, z and c'), metricDecl('noise', 'noise only'), metricDecl('flat', 'the same in every run')] },
            outcome: { status: 'ok' },
            attempts: 1,
            workload: 'command',
            benchmark: { name: 'additive', sha256: 'a'.repeat(64) },
            startedAt: '2026-01-01T00:00:00.000Z',
            endedAt: '2026-01-01T00:00:01.000Z',
            wallS: 1,
            metrics: { clean: cleanTruth({ x, z, c }) + 0.05 * normalDraw(rand), noise: 20 + 3 * normalDraw(rand), flat: 7 },
            flags: [],
            conditions: { checked: ['saturated'], notChecked: [], found: [] },
          });
        }
      }
    }
  }
  return out;
}
