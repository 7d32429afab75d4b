/** What the GUI's benchmarks share: a build of the GUI of their own, and the chromium flags that work here. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's chromium flags (../shared/platform-notes.md): no sandbox, no GPU, nothing fetched. */
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Builds the GUI into a temporary directory (never over dist/web, which others may be serving); returns it. */
export function buildWeb(): string {
  const out = mkdtempSync(join(tmpdir(), 'sb-bench-web-'));
  const root = new URL('..', import.meta.url).pathname;
  const r = spawnSync(join(root, 'node_modules/.bin/vite'), ['build', '--config', join(root, 'web/vite.config.ts'), '--outDir', out, '--emptyOutDir'], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status}): ${r.stderr}`);
  return out;
}
