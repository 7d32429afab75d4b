/** The GUI's and the report's DOM helpers: building an element, and text made safe for HTML. */

/** An element with properties (`className`, `textContent`, `value`...) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/**
 * Text for markup (a table built as one string, an SVG file, ECharts' tooltip, which takes HTML):
 * a name or value is the user's text, never markup. Each of & < > " ' becomes a character
 * reference, so the result is safe in HTML and XML alike, between tags and inside quoted attributes.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Saves `blob` as the file `name` through the browser's download (an export of a chart, a table, an SVG). */
export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked once the browser has taken it: at once would cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
