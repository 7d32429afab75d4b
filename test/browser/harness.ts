/**
 * What the GUI's browser tests share: the built GUI (built first when web/ changed), a server
 * over result sets, Debian's chromium driven by playwright-core, and screenshots kept in
 * test-artifacts/ (look at them: a test that passes on a blank page proves little).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startUiServer, type UiServer, type UiServerOptions } from '../../src/server/server.ts';
import { ResultSet } from '../../src/store/resultset.ts';
// @ts-expect-error: a plain .mjs script without types; buildWeb({quiet}) resolves to a boolean
import { buildWeb } from '../../scripts/build-web.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where screenshots go (gitignored; CI keeps it as an artefact). */
export const ARTIFACTS = join(root, 'test-artifacts');

/** The flags Debian's chromium needs here (../shared/platform-notes.md): no sandbox, no GPU, nothing fetched. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Starts chromium (a fresh profile each time). */
export async function openBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env['STREAMBENCH_CHROMIUM'] ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

/** Builds dist/web when its sources changed (a minute on a busy machine), then serves the sets on a free loopback port. */
export async function startServer(sets: readonly string[], opts: Partial<UiServerOptions> = {}): Promise<UiServer> {
  await (buildWeb as (o: { quiet: boolean }) => Promise<boolean>)({ quiet: true });
  return startUiServer({ sets: sets.map((d) => ResultSet.open(d)), ...opts });
}

/** A new page whose console errors and failed requests are collected (a test can assert there are none). */
export async function newPage(browser: Browser, width = 1400, height = 900): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { page, errors };
}

/** Saves a PNG of the page as test-artifacts/<name>.png; returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until the page has completed more than `after` draws (window.__sb.draws), or throws with the page's error. */
export async function waitDraw(page: Page, after: number, timeoutMs = 60_000): Promise<number> {
  // Runs in the page: globalThis is its window (this file is type-checked without the DOM's types).
  type Hook = { __sb?: { draws: number; error?: string } };
  await page.waitForFunction(
    (n) => {
      const sb = (globalThis as Hook).__sb;
      return sb !== undefined && (sb.draws > n || sb.error !== undefined);
    },
    after,
    { timeout: timeoutMs },
  );
  const { draws, error } = await page.evaluate(() => (globalThis as Hook).__sb!);
  if (error !== undefined) throw new Error(`the page shows an error: ${error}`);
  return draws;
}
