/** `{name}` templating of argv elements and env values; `{{` and `}}` stand for literal braces. */
import { show } from './show.ts';

export type TemplatePart = { lit: string } | { ref: string };

/** Splits a template into literal text and references; throws on an unclosed or empty brace. */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '{' && s[i + 1] === '{') {
      lit += '{';
      i++;
    } else if (c === '}' && s[i + 1] === '}') {
      lit += '}';
      i++;
    } else if (c === '{') {
      const end = s.indexOf('}', i);
      const name = end < 0 ? '' : s.slice(i + 1, end).trim();
      if (end < 0 || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
        throw new Error(`bad placeholder in ${show(s)}: use {name}, and {{ or }} for a literal brace`);
      }
      if (lit) parts.push({ lit });
      lit = '';
      parts.push({ ref: name });
      i = end;
    } else if (c === '}') {
      throw new Error(`lone '}' in ${show(s)}: write }} for a literal brace`);
    } else {
      lit += c;
    }
  }
  if (lit) parts.push({ lit });
  return parts;
}

/** Names referenced by a template. */
export function templateRefs(s: string): string[] {
  return parseTemplate(s).flatMap((p) => ('ref' in p ? [p.ref] : []));
}

/** Fills a template; every reference must be in `values` (checked at load time). */
export function renderTemplate(s: string, values: Readonly<Record<string, unknown>>): string {
  return parseTemplate(s)
    .map((p) => {
      if ('lit' in p) return p.lit;
      const v = values[p.ref];
      if (v === undefined) throw new Error(`no value for {${p.ref}}`);
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a template value is a parameter's: a scalar
      return String(v);
    })
    .join('');
}
