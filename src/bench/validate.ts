/** Structural validation of a benchmark document against the schema, with errors at file:line. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import type { Problem } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
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
  return explain(validate.errors ?? []).map((e) => {
    const path = [...base, ...toPath(e.instancePath)];
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(((e.parentSchema as { properties?: object }).properties ?? {}) as object);
      return problemAt(loc, path, `unknown key '${extra}'`, suggestHint(extra, allowed), extra);
    }
    return problemAt(loc, path, message(e), describe(e));
  });
}

/**
 * Ajv reports every branch of a union that failed. Keep what a person needs: when some branch got
 * past the type check (the value is an object, say), its inner errors; otherwise one line for the union.
 */
function explain(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const out: ErrorObject[] = [];
  const consumed = new Set<ErrorObject>();
  for (const u of unions) {
    const inner = errors.filter(
      (e) => e !== u && (e.instancePath === u.instancePath || e.instancePath.startsWith(u.instancePath + '/')) && e.schemaPath.startsWith(u.schemaPath.replace(/\/(anyOf|oneOf)$/, '')),
    );
    inner.forEach((e) => consumed.add(e));
    consumed.add(u);
    const deep = inner.filter((e) => e.keyword !== 'type' && e.keyword !== 'const' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    if (deep.length > 0) out.push(...deep.filter((e) => !out.includes(e)));
    else if (!out.some((o) => o.instancePath === u.instancePath)) out.push(u);
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
    case 'pattern':
      return `'${String(e.data)}' does not have the expected form`;
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
