/** Structural validation of a benchmark document against the schema, with errors at file:line. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import type { Problem } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { PROBLEMS_SHOWN } from './limits.ts';
import { show } from './show.ts';
import { problemAt, type Locator, type PathSeg } from './source.ts';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const compiled = new WeakMap<TSchema, ValidateFunction>();

function compile(schema: TSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

function toPath(instancePath: string): PathSeg[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Validates `data` against `schema`; `base` prefixes every reported path (for nested documents). */
export function validateAgainst(schema: TSchema, data: unknown, loc: Locator, base: PathSeg[] = []): Problem[] {
  const validate = compile(schema);
  if (validate(data)) return [];
  // Hints (did you mean) cost a string distance per candidate: only the problems shown get one.
  return explain(validate.errors ?? []).map((e, i) => {
    const path = [...base, ...toPath(e.instancePath)];
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const patterns = Object.keys((e.parentSchema as { patternProperties?: object }).patternProperties ?? {});
      if (patterns.length > 0) return problemAt(loc, path, `the name ${show(extra)} does not have the expected form`, `names match ${patterns.join(' or ')}`, extra);
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return problemAt(loc, path, `unknown key ${show(extra)}`, i < PROBLEMS_SHOWN ? suggestHint(extra, allowed) : undefined, extra);
    }
    return problemAt(loc, path, message(e), describe(e));
  });
}

const isUnion = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

/**
 * Ajv reports every branch of a union that failed. Keep what a person needs: when some branch got
 * past the type check (the value is an object, say), its inner errors; otherwise one line for the union.
 * Linear in the number of errors (times the path depth): a file with 100000 bad values is common
 * enough among generated files.
 */
function explain(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter(isUnion);
  const unionsAt = new Map<string, ErrorObject[]>();
  for (const u of unions) unionsAt.set(u.instancePath, [...(unionsAt.get(u.instancePath) ?? []), u]);
  const inner = new Map<ErrorObject, ErrorObject[]>(unions.map((u) => [u, []]));
  const consumed = new Set<ErrorObject>(unions);
  if (unions.length > 0) {
    for (const e of errors) {
      // A union's inner errors sit at its path or below it, and under its schema path.
      const segs = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/');
      let prefix = '';
      for (let i = 0; i <= segs.length; i++) {
        if (i > 0) prefix += `/${segs[i - 1]!}`;
        for (const u of unionsAt.get(prefix) ?? []) {
          if (u !== e && e.schemaPath.startsWith(u.schemaPath.replace(/\/(anyOf|oneOf)$/, ''))) {
            inner.get(u)!.push(e);
            consumed.add(e);
          }
        }
      }
    }
  }
  const out: ErrorObject[] = [];
  const inOut = new Set<ErrorObject>();
  const outPaths = new Set<string>();
  const push = (e: ErrorObject) => {
    if (inOut.has(e)) return;
    inOut.add(e);
    outPaths.add(e.instancePath);
    out.push(e);
  };
  for (const u of unions) {
    const all = inner.get(u)!;
    const branch = closestBranch(u, all);
    const deep = branch ?? all.filter((e) => e.keyword !== 'type' && e.keyword !== 'const' && !isUnion(e));
    if (deep.length > 0) deep.forEach(push);
    else if (!outPaths.has(u.instancePath)) push(u);
  }
  for (const e of errors) if (!consumed.has(e)) out.push(e);
  // A union nested in a union reports once per path and keyword.
  const seen = new Set<string>();
  return out.filter((e) => {
    const k = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The errors of the one branch of a union that the value fits best, if there is one: of the
 * branches whose type the value has, the one whose keys all fit (no unknown or missing key)
 * when the others' do not. `order: {shuffle: 1.5}` is a seed that must be an integer, not a
 * `group` entry missing its key. Undefined when no branch stands out (`duration: true`).
 */
function closestBranch(u: ErrorObject, inner: ErrorObject[]): ErrorObject[] | undefined {
  const prefix = `${u.schemaPath}/`;
  const branches = new Map<string, ErrorObject[]>();
  for (const e of inner) {
    if (isUnion(e) || !e.schemaPath.startsWith(prefix)) continue;
    const k = e.schemaPath.slice(prefix.length).split('/')[0]!;
    branches.set(k, [...(branches.get(k) ?? []), e]);
  }
  const typed = [...branches.values()].filter((es) => !es.some((e) => (e.keyword === 'type' || e.keyword === 'const') && e.instancePath === u.instancePath));
  const misfit = (es: ErrorObject[]) => es.filter((e) => e.keyword === 'additionalProperties' || e.keyword === 'required').length;
  const fitting = typed.filter((es) => misfit(es) === 0);
  return fitting.length === 1 && typed.length > 1 ? fitting[0] : undefined;
}

function message(e: ErrorObject): string {
  switch (e.keyword) {
    case 'anyOf':
    case 'oneOf':
      return `this value has the wrong form`;
    case 'required':
      return `missing required key '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'type':
      return `must be ${(e.params as { type: string }).type}`;
    case 'const':
      return `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    case 'maximum':
      return `must be at most ${(e.params as { limit: number }).limit}`;
    case 'minimum':
      return `must be at least ${(e.params as { limit: number }).limit}`;
    case 'exclusiveMinimum':
      return `must be above ${(e.params as { limit: number }).limit}`;
    case 'maxLength':
      return `must be at most ${(e.params as { limit: number }).limit} characters long`;
    case 'minItems':
      return `must have at least ${(e.params as { limit: number }).limit} item(s)`;
    case 'pattern':
      return `${show(String(e.data))} does not have the expected form`;
    default:
      return e.message ?? e.keyword;
  }
}

function describe(e: ErrorObject): string | undefined {
  const s = e.parentSchema as { description?: string; anyOf?: { const?: unknown }[] } | undefined;
  if ((e.keyword === 'anyOf' || e.keyword === 'oneOf') && s?.anyOf?.every((b) => b.const !== undefined)) {
    return `expected one of: ${s.anyOf.map((b) => JSON.stringify(b.const)).join(', ')}`;
  }
  return s?.description;
}
