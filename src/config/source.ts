/** A benchmark file's text parsed with source positions, so every problem can name its line. */
import { isMap, isPair, isScalar, isSeq, Lexer, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { errorMessage, formatProblem, InputError, type Problem, type SourcePos } from '../base/errors.ts';
import { MAX_DEPTH, MAX_FILE_VALUES, PROBLEMS_SHOWN } from './limits.ts';
import { show } from './show.ts';

export type PathSeg = string | number;

/** Maps a document path to a file position. Implemented for YAML text and for plain objects. */
export interface Locator {
  readonly file: string;
  /** Position of the value at path (or, with `key`, of that key inside the map at path). */
  at(path: readonly PathSeg[], key?: string): SourcePos;
}

/** A path as messages write it, `matrix.codec[2]`; keys are cut and escaped like values (a hostile key is a megabyte of junk). */
export function pathText(path: readonly PathSeg[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? show(s, 40, false) : `.${show(s, 40, false)}`)).join('');
}

/** A problem at a path of the document (or at one of its keys), positioned by the locator. */
export function problemAt(loc: Locator, path: readonly PathSeg[], message: string, hint?: string, key?: string): Problem {
  const full = key !== undefined ? [...path, key] : path;
  return { pos: loc.at(path, key), path: pathText(full), message, ...(hint ? { hint } : {}) };
}

class YamlLocator implements Locator {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  at(path: readonly PathSeg[], key?: string): SourcePos {
    // Walk down as far as the path exists, so a missing value points at its parent.
    let node: unknown = this.doc.contents;
    let best: Node | undefined = (node as Node | null) ?? undefined;
    for (const seg of path) {
      const next = child(node, seg);
      if (next === undefined) break;
      node = next.value;
      best = (next.value as Node | undefined) ?? next.key ?? best;
    }
    if (key !== undefined && node !== undefined) {
      const k = child(node, key);
      if (k?.key) best = k.key;
    }
    const offset = best?.range?.[0] ?? 0;
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }
}

// Keys of each mapping, indexed on first use: locating every problem of a file with 100000 keys
// must not scan the mapping once per problem.
const keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

function child(node: unknown, seg: PathSeg): { key?: Node; value: unknown } | undefined {
  if (isMap(node)) {
    let index = keyIndex.get(node);
    if (!index) {
      index = new Map();
      for (const item of node.items) {
        if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      }
      keyIndex.set(node, index);
    }
    const item = index.get(String(seg));
    return item ? { key: item.key as Node, value: item.value } : undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const v = node.items[seg];
    return v === undefined ? undefined : { value: v };
  }
  return undefined;
}

/** Locator for input that has no text (a TypeScript module): positions name the file only. */
export class PlainLocator implements Locator {
  constructor(readonly file: string) {}
  at(): SourcePos {
    return { file: this.file };
  }
}

export type ParsedSource = { ok: true; data: unknown; locator: Locator } | { ok: false; problems: Problem[] };

/** Lexer tokens that carry no text of the file (markers the lexer inserts). */
const MARKERS = new Set(['\u0002', '\u0018', '\u001f']);

/**
 * Where the value past MAX_FILE_VALUES starts, or undefined when the text holds no more: keys,
 * scalars (plain, quoted, block), aliases, and flow and block collections, as the YAML lexer sees
 * them. Lexing costs a small part of parsing, so a file of a million values is refused before the
 * parse that would take seconds and gigabytes.
 */
function valueOverflow(text: string): number | undefined {
  let count = 0;
  let offset = 0;
  // A block list's item (`- x`) is one value, as a flow list's (`[x]`) is: its dash counts
  // (an item may be empty) unless a value follows it on its line, which then counts instead.
  let dash = false;
  for (const tok of new Lexer().lex(text)) {
    const c = tok[0];
    // A plain or block scalar follows a scalar marker; quoted scalars and aliases start with their sign.
    const value = c === '\u001f' || c === '"' || c === "'" || c === '*' || c === '[' || c === '{';
    if (tok === '-' || (value && !dash)) {
      if (++count > MAX_FILE_VALUES) return offset;
    }
    if (tok === '-') dash = true;
    else if (!/^[ \t]*$/.test(tok)) dash = false;
    if (!MARKERS.has(tok)) offset += tok.length;
  }
  return undefined;
}

/** Parses YAML text; syntax errors, warnings and alias bombs come back as problems with line and column. */
export function parseYaml(file: string, text: string): ParsedSource {
  const lines = new LineCounter();
  const at = (offset: number): SourcePos => {
    const p = lines.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  const over = valueOverflow(text);
  if (over !== undefined) {
    // Lines are counted here only for the position: the document is not parsed.
    let line = 1;
    let lineStart = 0;
    for (let i = text.indexOf('\n'); i >= 0 && i < over; i = text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return {
      ok: false,
      problems: [
        {
          pos: { file, line, col: over - lineStart + 1 },
          path: '',
          message: `the file holds more than ${MAX_FILE_VALUES} values (keys, scalars and collections); this is the first one past the limit`,
          hint: 'a benchmark declares its matrix, not its points: use ranges ({from, to, step}) instead of long lists',
        },
      ],
    };
  }
  let doc: Document;
  try {
    // uniqueKeys is checked below instead: the library compares each key with every earlier one,
    // which takes minutes for a file of 100000 keys.
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  } catch (e) {
    return { ok: false, problems: [{ pos: { file }, path: '', message: `YAML: the text cannot be parsed: ${firstLine(errorMessage(e))}` }] };
  }
  // Warnings too: an unresolved tag (`!foo bar`) would otherwise silently become the text 'bar'.
  const issues = [...doc.errors, ...doc.warnings];
  if (issues.length > 0) {
    // The library's message ends with the position, which the problem states already.
    return { ok: false, problems: issues.map((e) => ({ pos: at(e.pos[0]), path: '', message: `YAML syntax: ${firstLine(e.message.replace(/ at line \d+, column \d+:?\s*$/m, ''))}` })) };
  }
  const keyProblems = checkKeys(doc, at);
  if (keyProblems.length > 0) return { ok: false, problems: keyProblems };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // The yaml library refuses aliases that expand past maxAliasCount nodes (a "billion laughs"
    // bomb) with a ReferenceError that names no position: point at the first alias instead.
    let alias: Node | undefined;
    visit(doc, {
      Alias(_, node) {
        alias = node;
        return visit.BREAK;
      },
    });
    const pos = alias?.range ? at(alias.range[0]) : { file };
    const bomb = /excessive alias/i.test(errorMessage(e));
    return {
      ok: false,
      problems: [{ pos, path: '', message: bomb ? 'YAML: aliases expand to too many nodes (more than 100 uses of one anchor); write the values out, or use fewer aliases' : `YAML: ${firstLine(errorMessage(e))}` }],
    };
  }
  return { ok: true, data, locator: new YamlLocator(file, doc, lines) };
}

/** Keys must be text, once per mapping: a second `repeat:` would silently win over the first. */
function checkKeys(doc: Document, at: (offset: number) => SourcePos): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, SourcePos>();
      for (const item of map.items) {
        const key = item.key as Node | null;
        const pos = at(key?.range?.[0] ?? map.range?.[0] ?? 0);
        if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
          problems.push({ pos, path: '', message: 'YAML: a key must be plain text', hint: 'write name: value' });
          continue;
        }
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a scalar: null and objects were refused above
        const k = String(key.value);
        const first = seen.get(k);
        if (first) problems.push({ pos, path: '', message: `YAML: duplicate key ${show(k)} (first at line ${first.line})`, hint: 'keep one of them' });
        else seen.set(k, pos);
      }
    },
  });
  return problems;
}

function firstLine(s: string): string {
  return show(s.split('\n')[0]!.trim(), 200, false);
}

/**
 * Checks that the data holds only what a benchmark file can: text, finite numbers, booleans,
 * null, lists and mappings, at most MAX_DEPTH levels deep. YAML's `.nan`, `.inf` and `1e400`, a
 * `!!binary` buffer, or a module's BigInt, Date, function or cycle are refused here, with their
 * place, before any check that would misread them (NaN passes `minimum: 0`).
 */
export function checkData(data: unknown, loc: Locator): Problem[] {
  const problems: Problem[] = [];
  // A module can share one object many times over (a DAG of depth 16 and fan-out 10 is 10^16
  // values to walk): the count of values is bounded too.
  let values = 0;
  let tooDeep = false;
  const open = new Set<object>();
  const walk = (v: unknown, path: PathSeg[]): void => {
    if (values < 0) return;
    if (++values > MAX_FILE_VALUES) {
      values = -1;
      problems.push(problemAt(loc, [], `the data holds more than ${MAX_FILE_VALUES} values`, 'a benchmark declares its matrix, not its points: use ranges'));
      return;
    }
    if (path.length > MAX_DEPTH) {
      // Once: below a shared object, every path is as deep.
      if (tooDeep) return;
      tooDeep = true;
      problems.push(problemAt(loc, path.slice(0, MAX_DEPTH), `nested deeper than ${MAX_DEPTH} levels`));
      return;
    }
    if (typeof v === 'object' && v !== null && open.has(v)) {
      problems.push(problemAt(loc, path, 'a value that contains itself', 'a benchmark is data: no cycles'));
      return;
    }
    switch (typeof v) {
      case 'string':
      case 'boolean':
      case 'undefined':
        return;
      case 'number':
        if (!Number.isFinite(v)) problems.push(problemAt(loc, path, `${String(v)} is not a finite number`, 'write a number such as 10 or 0.5'));
        return;
      case 'object': {
        if (v === null) return;
        if (Array.isArray(v)) {
          open.add(v);
          v.forEach((x, i) => walk(x, [...path, i]));
          open.delete(v);
          return;
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto === Object.prototype || proto === null) {
          open.add(v);
          // Read as descriptors: a module's getter is code, never run here (it could throw or change).
          for (const k of Object.keys(v)) {
            const d = Object.getOwnPropertyDescriptor(v, k);
            if (d === undefined) continue;
            if (d.get !== undefined || d.set !== undefined) problems.push(problemAt(loc, [...path, k], `a getter (${show(k, 40, false)}) is not a value a benchmark file can hold`, 'give the value itself: the file is data'));
            else walk(d.value, [...path, k]);
          }
          open.delete(v);
          return;
        }
        const kind = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        problems.push(problemAt(loc, path, `a ${kind} is not a value a benchmark file can hold`, 'use text, numbers, booleans, lists and mappings'));
        return;
      }
      default:
        problems.push(problemAt(loc, path, `a ${typeof v} is not a value a benchmark file can hold`, 'use text, numbers, booleans, lists and mappings'));
    }
  };
  walk(data, []);
  return problems;
}

/**
 * The error for a list of problems. Every problem stays in `problems` (the CLI prints the count),
 * but the message shows the first PROBLEMS_SHOWN: a file with 100000 unknown keys should print
 * the first few and a count, not 100000 lines.
 */
export function problemsError(problems: Problem[]): InputError {
  const e = new InputError(problems.length > PROBLEMS_SHOWN ? problems.slice(0, PROBLEMS_SHOWN) : problems);
  if (problems.length > PROBLEMS_SHOWN) {
    // InputError's constructor formats the list it is given; the full list is what callers count.
    (e as { problems: Problem[] }).problems = problems;
    e.message = `${problems.slice(0, PROBLEMS_SHOWN).map(formatProblem).join('\n')}\n... and ${problems.length - PROBLEMS_SHOWN} more problem(s) not shown: fix these first`;
  }
  return e;
}
