/** Loading a benchmark: YAML or TypeScript module -> overrides -> schema -> ResolvedBenchmark. */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYamlValue } from 'yaml';
import { errorMessage, InputError, type Problem, type SourcePos } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import { DEFAULT_MAX_RUNS, MAX_FILE_BYTES } from './limits.ts';
import { countPoints, PlanTooComplexError } from './matrix.ts';
import type { PartialPoint, ResolvedBenchmark } from './resolved.ts';
import { resolveBenchmark } from './resolve.ts';
import { BenchmarkFileSchema, TOP_LEVEL_KEYS, type BenchmarkFile } from './schema.ts';
import { show } from './show.ts';
import { checkData, parseYaml, PlainLocator, problemAt, problemsError, type Locator, type PathSeg } from './source.ts';
import { validateAgainst } from './validate.ts';

/** `--set key=value`: a top-level field (or a dotted path below one), or a matrix parameter to fix. */
export interface Override {
  key: string;
  value: string;
}

/** Splits `key=value`; the value is read as a YAML scalar or flow list (`2s`, `23`, `[a, b]`). */
export function parseAssignment(text: string, flag: string): Override {
  const i = text.indexOf('=');
  if (i <= 0) throw InputError.single(flag, `${show(text)} is not key=value`, `write ${flag} duration=2s`);
  return { key: text.slice(0, i).trim(), value: text.slice(i + 1) };
}

function scalar(value: string): unknown {
  try {
    return parseYamlValue(value) ?? value;
  } catch {
    // Not YAML (`--set label=a: b`): the text itself is the value, as a shell user means it.
    return value;
  }
}

/** Path segments that would reach an object's prototype instead of a field. */
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

function applyOverrides(data: Record<string, unknown>, sets: readonly Override[]): { problems: Problem[]; touched: Map<string, SourcePos> } {
  const problems: Problem[] = [];
  const touched = new Map<string, SourcePos>();
  const rawMatrix = data['matrix'];
  const matrix = rawMatrix !== null && typeof rawMatrix === 'object' && !Array.isArray(rawMatrix) ? (rawMatrix as Record<string, unknown>) : {};
  for (const s of sets) {
    const pos = { file: `--set ${show(s.key, 60, false)}=${show(s.value, 60, false)}` };
    const segs = s.key.split('.');
    if (segs.some((seg) => seg === '' || UNSAFE_SEGMENTS.has(seg))) {
      problems.push({ pos, path: '', message: `${show(s.key)} is not a field path`, hint: 'write names separated by dots, e.g. --set recording.probes.cpu=200ms' });
    } else if (Object.hasOwn(matrix, s.key) && !TOP_LEVEL_KEYS.includes(s.key)) {
      matrix[s.key] = scalar(s.value);
      touched.set(`matrix.${s.key}`, pos);
    } else if (TOP_LEVEL_KEYS.includes(segs[0]!) && segs[0] !== 'matrix') {
      let o = data;
      for (const seg of segs.slice(0, -1)) {
        if (!Object.hasOwn(o, seg) || o[seg] === null || typeof o[seg] !== 'object') o[seg] = {};
        o = o[seg] as Record<string, unknown>;
      }
      o[segs.at(-1)!] = scalar(s.value);
      touched.set(s.key, pos);
    } else {
      const candidates = [...TOP_LEVEL_KEYS.filter((k) => k !== 'matrix'), ...Object.keys(matrix)];
      problems.push({ pos, path: s.key, message: `${show(s.key)} is neither a top-level field nor a parameter of the matrix`, hint: suggestHint(s.key, candidates) });
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
    if (this.touched.size === 0) return this.inner.at(path, key);
    const dotted = [...path, ...(key !== undefined ? [key] : [])].join('.');
    for (const [k, pos] of this.touched) if (dotted === k || dotted.startsWith(k + '.')) return pos;
    return this.inner.at(path, key);
  }
}

/**
 * Where in the module a load error points: esbuild's "file:L:C: ERROR: ..." for code that does
 * not compile, else the first stack frame in the module itself.
 */
function modulePosition(file: string, e: unknown): { pos: SourcePos; message: string } {
  const text = errorMessage(e);
  const compile = /^.*?:(\d+):(\d+): ERROR: (.*)$/m.exec(text);
  if (compile) return { pos: { file, line: Number(compile[1]), col: Number(compile[2]) }, message: `does not compile: ${show(compile[3]!, 200, false)}` };
  const abs = resolvePath(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const frame = new RegExp(`${abs}(?:\\?[^:)]*)?:(\\d+):(\\d+)`).exec(stack);
  const first = text.split('\n')[0]!.trim();
  return { pos: frame ? { file, line: Number(frame[1]), col: Number(frame[2]) } : { file }, message: show(first === '' ? String(e) : first, 200, false) };
}

async function readModule(file: string): Promise<unknown> {
  // A module is code: it runs here, with the rights of the user who runs the benchmark.
  const { tsImport } = await import('tsx/esm/api');
  let mod: { default?: unknown };
  try {
    mod = (await tsImport(pathToFileURL(resolvePath(file)).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    const { pos, message } = modulePosition(file, e);
    throw new InputError([{ pos, path: '', message: message.startsWith('does not compile') ? `the module ${message}` : `the module failed to load: ${message}` }]);
  }
  try {
    // A module outside an ESM package is loaded as CommonJS, which nests the default export once more.
    const inner = mod.default as { default?: unknown; name?: unknown; __esModule?: unknown } | undefined;
    if (inner && typeof inner === 'object' && 'default' in inner && !('name' in inner)) mod = inner;
    // Such a module with named exports only: its exports object is no benchmark.
    else if (inner && typeof inner === 'object' && inner.__esModule === true) return undefined;
  } catch (e) {
    // Looking at the export ran its code (a getter, a Proxy's trap) and that threw.
    const { pos, message } = modulePosition(file, e);
    throw new InputError([{ pos, path: '', message: `the module's data cannot be read: ${message}` }]);
  }
  if (typeof mod.default !== 'function') return mod.default;
  try {
    return await (mod.default as () => unknown)();
  } catch (e) {
    const { pos, message } = modulePosition(file, e);
    throw new InputError([{ pos, path: '', message: `the module's default export (a function) failed: ${message}` }]);
  }
}

async function readSource(file: string): Promise<{ data: unknown; locator: Locator; text: string }> {
  let text: string;
  try {
    // Sized before it is read: a huge file would cost tens of times its size once parsed.
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_FILE_BYTES) throw InputError.single(file, `the benchmark file is ${(size / 1048576).toFixed(1)} MiB, above the ${MAX_FILE_BYTES / 1048576} MiB allowed`, 'a benchmark declares its matrix: use ranges instead of long lists');
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw InputError.single(file, `cannot read the benchmark file: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
  }
  if (/\.(m?ts|m?js|cts|cjs)$/.test(file)) {
    const data = await readModule(file);
    if (data === undefined) throw InputError.single(file, 'the module has no default export', 'end it with: export default defineBenchmark({ ... })');
    const locator = new PlainLocator(file);
    // Checked before the JSON round trip, which would turn NaN into null and fail on a cycle. The
    // data is the module's: a Proxy among it runs code of the module as it is read, and what that
    // throws is the file's error, not an internal one.
    try {
      const problems = checkData(data, locator);
      if (problems.length > 0) throw problemsError(problems);
      return { data: JSON.parse(JSON.stringify(data)) as unknown, locator, text };
    } catch (e) {
      if (e instanceof InputError) throw e;
      const { pos, message } = modulePosition(file, e);
      throw new InputError([{ pos, path: '', message: `the module's data cannot be read: ${message}` }]);
    }
  }
  const parsed = parseYaml(file, text);
  if (!parsed.ok) throw problemsError(parsed.problems);
  return { data: parsed.data, locator: parsed.locator, text };
}

/** How loading bounds the plan, and the `--filter` flags of `run` (each `key=value[,value]`). */
export interface LoadOptions {
  /** Planned runs allowed (points after constraints x repeat); default DEFAULT_MAX_RUNS. */
  maxRuns?: number;
  filters?: readonly string[];
}

/** Reads, validates and resolves a benchmark file; throws InputError listing every problem found. */
export async function loadBenchmark(file: string, sets: readonly Override[] = [], opts: LoadOptions = {}): Promise<ResolvedBenchmark> {
  const src = await readSource(file);
  if (src.data === null || typeof src.data !== 'object' || Array.isArray(src.data)) {
    const what = src.data === null || src.data === undefined ? 'it is empty' : Array.isArray(src.data) ? 'it is a list' : `it is ${typeof src.data === 'string' ? 'text' : `a ${typeof src.data}`}`;
    throw problemsError([problemAt(src.locator, [], `a benchmark file must be a mapping of keys (name, workload, matrix, ...), but ${what}`, 'start from examples/ffmpeg-sweep.yaml')]);
  }
  const data = src.data as Record<string, unknown>;
  const { problems, touched } = applyOverrides(data, sets);
  if (problems.length > 0) throw problemsError(problems);
  const loc = new OverrideLocator(src.locator, touched);
  const bad = checkData(data, loc);
  if (bad.length > 0) throw problemsError(bad);
  const structural = validateAgainst(BenchmarkFileSchema, data, loc);
  if (structural.length > 0) throw problemsError(structural);
  const fixed = new Set([...touched.keys()].filter((k) => k.startsWith('matrix.')).map((k) => k.slice('matrix.'.length)));
  const r = resolveBenchmark(data as BenchmarkFile, loc, src.text, fixed, opts.maxRuns ?? DEFAULT_MAX_RUNS);
  if (!r.ok) throw problemsError(r.problems);
  const filters = opts.filters ?? [];
  checkFilters(r.value, parseFilters(r.value, filters), filters);
  return r.value;
}

/** `--filter key=value[,value]` flags as partial points; a key must be a parameter of the matrix. */
export function parseFilters(b: Pick<ResolvedBenchmark, 'axes'>, filters: readonly string[]): PartialPoint[] {
  const names = b.axes.map((a) => a.name);
  return filters.map((f) => {
    const { key, value } = parseAssignment(f, '--filter');
    if (!names.includes(key)) throw InputError.single(`--filter ${show(f, 60, false)}`, `${show(key)} is not a parameter of the matrix`, suggestHint(key, names));
    return { [key]: value.split(',').map((v) => v.trim()) };
  });
}

/** `run --filter` flags that leave no point of a plan that has some. */
function checkFilters(b: ResolvedBenchmark, filter: PartialPoint[], filterText: readonly string[]): void {
  if (filter.length === 0) return;
  let none: boolean;
  try {
    none = countPoints(b.axes, b.links, b.exclude, b.only, filter, 0) === 0;
  } catch (e) {
    // Too intricate to count cheaply: the plan itself was counted, and the engine lists it.
    if (e instanceof PlanTooComplexError) return;
    throw e;
  }
  if (none) throw InputError.single(`--filter ${filterText.map((f) => show(f, 60, false)).join(' --filter ')}`, 'no point matches the filter', 'streambench validate FILE lists the values of each parameter');
}
