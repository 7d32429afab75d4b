// A run whose samples.parquet is damaged and whose events.parquet is missing: the run view draws
// what the other files hold (the frames' latency) and one panel per unreadable file, saying which
// file and what is wrong; nothing else on the page fails.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ResultSet } from '../../src/store/resultset.ts';
import { newPage, openBrowser, shot, startServer, waitDraw } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

type Hook = { __sb: { charts: Record<string, { getOption(): { series: { id?: string; data: unknown[] }[] } }> } };

test('the run view shows a damaged or missing file in its own panel and draws the rest', { timeout: 600_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sb-runproblems-'));
  const dir = join(tmp, 'set');
  cpSync(join(root, 'test/fixtures/sets/old-stream'), dir, { recursive: true });
  const set = ResultSet.open(dir);
  const run = set.points()[0]!;
  const pdir = set.pointDir(run.key, run.rep);
  writeFileSync(join(pdir, 'samples.parquet'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256)));
  rmSync(join(pdir, 'events.parquet'));
  const server = await startServer([dir]);
  const browser = await openBrowser();
  try {
    const { page, errors } = await newPage(browser);
    await page.goto(`${server.origin}/?view=run&run=${encodeURIComponent(`${set.name}/${run.key}/${run.rep}`)}`);
    await waitDraw(page, 0);
    const panels = await page.locator('.panel.problem').evaluateAll((els) => els.map((e) => ({ file: (e as unknown as { dataset: Record<string, string> }).dataset['problem'], text: (e as unknown as { innerText: string }).innerText })));
    assert.deepEqual(panels.map((p) => p.file).sort(), ['events.parquet', 'samples.parquet']);
    const samples = panels.find((p) => p.file === 'samples.parquet')!;
    assert.ok(samples.text.includes(`${join(pdir, 'samples.parquet')} is not a readable Parquet file`), samples.text);
    assert.ok(samples.text.includes("Not shown: the agents' samples"), samples.text);
    assert.ok(panels.find((p) => p.file === 'events.parquet')!.text.includes(`${join(pdir, 'events.parquet')} is missing`));
    // The frames' latency is drawn, on the stream's clock (the events that place it are gone), and said so.
    const frames = await page.evaluate(() => (globalThis as unknown as Hook).__sb.charts['run.frames']?.getOption().series.find((s) => s.id === 'frames:client:latency_ms')?.data.length ?? 0);
    assert.ok(frames > 10, `the frames panel draws the frames (${frames} points)`);
    assert.match(await page.locator('p.note').first().innerText(), /latency_ms: on the stream's own clock .* events\.parquet, which places them, could not be read/);
    await shot(page, 'run-view-problems');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
