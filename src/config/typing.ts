/**
 * A point's parameters typed (base units: bits/s, ms, ...), from the values typed once when the
 * file was resolved (ResolvedBenchmark.params), and what the file declared beyond the workload:
 * resolved with the benchmark (its `declared`) and with each planned point (its `typed`), so the
 * engine reads them and never types anything at run time.
 */
import { typeValue, type DeclaredByFile, type MetricDecl, type TypedValue } from './declare.ts';
import type { Params, ResolvedBenchmark, ResolvedParam } from './resolved.ts';

/** A point's parameters typed; a name the matrix does not have keeps its value as written. */
export function typePoint(params: Readonly<Record<string, ResolvedParam>>, point: Params): Record<string, TypedValue> {
  const typed: Record<string, TypedValue> = {};
  for (const [name, v] of Object.entries(point)) {
    const p = params[name];
    typed[name] = p ? (p.typed.get(String(v)) ?? typeValue(p.decl, v)) : v;
  }
  return typed;
}

/** What the file declares beyond the workload, the same for every point: the types of the parameters the workload does not declare, and its metrics. */
export function declaredByFile(params: Readonly<Record<string, ResolvedParam>>, metrics: readonly MetricDecl[]): DeclaredByFile | undefined {
  const declaredParams: NonNullable<DeclaredByFile['params']> = {};
  for (const [name, p] of Object.entries(params)) if (p.source !== 'workload') declaredParams[name] = { ...p.decl, source: p.source };
  const declared: DeclaredByFile = { ...(Object.keys(declaredParams).length > 0 ? { params: declaredParams } : {}), ...(metrics.length > 0 ? { metrics: [...metrics] } : {}) };
  return Object.keys(declared).length > 0 ? declared : undefined;
}

/** Both, for one point (as its record keeps them). */
export function pointTyping(b: Pick<ResolvedBenchmark, 'params' | 'metrics'>, params: Params): { typed: Record<string, TypedValue>; declared?: DeclaredByFile } {
  const declared = declaredByFile(Object.fromEntries(Object.entries(b.params).filter(([name]) => name in params)), b.metrics);
  return { typed: typePoint(b.params, params), ...(declared ? { declared } : {}) };
}
