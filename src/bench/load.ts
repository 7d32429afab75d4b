/** Loading a benchmark: YAML or TypeScript module -> overrides -> schema -> ResolvedBenchmark. */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYamlValue } from 'yaml';
import { InputError, type Problem, type SourcePos } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import type { ResolvedBenchmark } from './resolved.ts';
import { resolveBenchmark } from './resolve.ts';
import { BenchmarkFileSchema, TOP_LEVEL_KEYS, type BenchmarkFile } from './schema.ts';
import { parseYaml, PlainLocator, type Locator, type PathSeg } from './source.ts';
import { validateAgainst } from './validate.ts';

/** `--set key=value`: a top-level field (or a dotted path below one), or a matrix parameter to fix. */
export interface Override {
  key: string;
  value: string;
}

/** Splits `key=value`; the value is read as a YAML scalar or flow list (`2s`, `23`, `[a, b]`). */
export function parseAssignment(text: string, flag: string): Override {
  const i = text.indexOf('=');
  if (i <= 0) throw InputError.single(flag, `'${text}' is not key=value`, `write ${flag} duration=2s`);
  return { key: text.slice(0, i).trim(), value: text.slice(i + 1) };
}

function scalar(value: string): unknown {
  try {
    return parseYamlValue(value) ?? value;
  } catch {
    return value;
  }
}

function applyOverrides(data: Record<string, unknown>, sets: readonly Override[]): { problems: Problem[]; touched: Map<string, SourcePos> } {
  const problems: Problem[] = [];
  const touched = new Map<string, SourcePos>();
  const matrix = (data['matrix'] ?? {}) as Record<string, unknown>;
  for (const s of sets) {
    const pos = { file: `--set ${s.key}=${s.value}` };
    const segs = s.key.split('.');
    if (Object.hasOwn(matrix, s.key) && !TOP_LEVEL_KEYS.includes(s.key)) {
      matrix[s.key] = scalar(s.value);
      touched.set(`matrix.${s.key}`, pos);
    } else if (TOP_LEVEL_KEYS.includes(segs[0]!) && segs[0] !== 'matrix') {
      let o = data;
      for (const seg of segs.slice(0, -1)) {
        if (o[seg] === undefined || typeof o[seg] !== 'object') o[seg] = {};
        o = o[seg] as Record<string, unknown>;
      }
      o[segs.at(-1)!] = scalar(s.value);
      touched.set(s.key, pos);
    } else {
      const candidates = [...TOP_LEVEL_KEYS.filter((k) => k !== 'matrix'), ...Object.keys(matrix)];
      problems.push({ pos, path: s.key, message: `'${s.key}' is neither a top-level field nor a parameter of the matrix`, hint: suggestHint(s.key, candidates) });
    }
  }
  return { problems, touched };
}

/** Points overridden values at the --set flag that gave them instead of the file's line. */
class OverrideLocator implements Locator {
  constructor(
    private readonly inner: Locator,
    private readonly touched: Map<string, SourcePos>,
  ) {}
  get file(): string {
    return this.inner.file;
  }
  at(path: readonly PathSeg[], key?: string): SourcePos {
    const dotted = [...path, ...(key !== undefined ? [key] : [])].join('.');
    for (const [k, pos] of this.touched) if (dotted === k || dotted.startsWith(k + '.')) return pos;
    return this.inner.at(path, key);
  }
}

async function readSource(file: string): Promise<{ data: unknown; locator: Locator; text: string }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw InputError.single(file, `cannot read the benchmark file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (/\.(m?ts|m?js)$/.test(file)) {
    // A module is code: it runs here, with the rights of the user who runs the benchmark.
    const { tsImport } = await import('tsx/esm/api');
    let mod: { default?: unknown };
    try {
      mod = (await tsImport(pathToFileURL(resolvePath(file)).href, import.meta.url)) as { default?: unknown };
    } catch (e) {
      throw InputError.single(file, `the module failed to load: ${(e as Error).message}`);
    }
    // A module outside an ESM package is loaded as CommonJS, which nests the default export once more.
    const inner = mod.default as { default?: unknown; name?: unknown } | undefined;
    if (inner && typeof inner === 'object' && 'default' in inner && !('name' in inner)) mod = inner;
    const data = typeof mod.default === 'function' ? await (mod.default as () => unknown)() : mod.default;
    if (data === undefined) throw InputError.single(file, 'the module has no default export', 'end it with: export default defineBenchmark({ ... })');
    return { data: JSON.parse(JSON.stringify(data)) as unknown, locator: new PlainLocator(file), text };
  }
  const parsed = parseYaml(file, text);
  if (!parsed.ok) throw new InputError(parsed.problems);
  return { data: parsed.data, locator: parsed.locator, text };
}

/** Reads, validates and resolves a benchmark file; throws InputError listing every problem found. */
export async function loadBenchmark(file: string, sets: readonly Override[] = []): Promise<ResolvedBenchmark> {
  const src = await readSource(file);
  if (src.data === null || typeof src.data !== 'object' || Array.isArray(src.data)) {
    throw InputError.single(file, 'a benchmark file must be a mapping of keys (name, workload, matrix, ...)');
  }
  const data = src.data as Record<string, unknown>;
  const { problems, touched } = applyOverrides(data, sets);
  if (problems.length > 0) throw new InputError(problems);
  const loc = new OverrideLocator(src.locator, touched);
  const structural = validateAgainst(BenchmarkFileSchema, data, loc);
  if (structural.length > 0) throw new InputError(structural);
  const fixed = new Set([...touched.keys()].filter((k) => k.startsWith('matrix.')).map((k) => k.slice('matrix.'.length)));
  const r = resolveBenchmark(data as BenchmarkFile, loc, src.text, fixed);
  if (!r.ok) throw new InputError(r.problems);
  return r.value;
}
