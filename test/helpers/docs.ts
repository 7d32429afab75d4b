// The documentation as the tests read it: README.md (the landing page) and one page per topic in
// docs/. Tests that check the docs against the code find their tables and snippets here, by page.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;

/** One page: its path from the repository root and its text. */
export interface DocPage {
  file: string;
  text: string;
}

/** README.md, then every docs/*.md in name order. */
export function docPages(): DocPage[] {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  return files.map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));
}

/** The text of one page, by its path from the repository root (`docs/workloads.md`). */
export function docText(file: string): string {
  return readFileSync(join(root, file), 'utf8');
}

/** The fenced code blocks of a language (```yaml, ```sh) of a page, each with its page. */
export function codeBlocks(pages: readonly DocPage[], lang: string): { file: string; text: string }[] {
  return pages.flatMap((p) => [...p.text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => ({ file: p.file, text: m[1]! })));
}

/** The sections of a page by heading (## or ###), each with its text up to the next such heading. */
export function docSections(text: string): string[] {
  return text.split(/^(?=#{2,3} )/m);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings (outside code fences), a repeated one numbered as GitHub does. */
export function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = !fence && /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const a = anchorOf(m[1]!);
    const n = seen.get(a) ?? 0;
    seen.set(a, n + 1);
    out.add(n === 0 ? a : `${a}-${n}`);
  }
  return out;
}
