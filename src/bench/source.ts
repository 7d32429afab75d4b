/** A benchmark file's text parsed with source positions, so every problem can name its line. */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Problem, SourcePos } from '../base/errors.ts';

export type PathSeg = string | number;

/** Maps a document path to a file position. Implemented for YAML text and for plain objects. */
export interface Locator {
  readonly file: string;
  /** Position of the value at path (or, with `key`, of that key inside the map at path). */
  at(path: readonly PathSeg[], key?: string): SourcePos;
}

export function pathText(path: readonly PathSeg[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

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

function child(node: unknown, seg: PathSeg): { key?: Node; value: unknown } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(seg)) {
        return { key: item.key, value: item.value };
      }
    }
    return undefined;
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

/** Parses YAML text; syntax errors come back as problems with line and column. */
export function parseYaml(file: string, text: string): ParsedSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const p = lines.linePos(e.pos[0]);
        return { pos: { file, line: p.line, col: p.col }, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  return { ok: true, data: doc.toJS({ maxAliasCount: 100 }), locator: new YamlLocator(file, doc, lines) };
}
