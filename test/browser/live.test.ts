// `streambench run FILE --ui` on a terminal: a real 3-point benchmark (with its recording agents)
// while the page's live view watches each point go from left to running to done, the point in
// progress's CPU arriving before the point ends, the matrix below filling in as points land, and the server staying up after the run until
// Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ResultSet } from '../../src/store/resultset.ts';
// @ts-expect-error: a plain .mjs script without types; buildWeb({quiet}) resolves to a boolean
import { buildWeb } from '../../scripts/build-web.mjs';
import { newPage, openBrowser, shot } from './harness.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../../src/workloads/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

type Row = { key: string; state: string };
type Hook = { __sb: { charts: Record<string, { getOption(): { series: { data: unknown[] }[] } }> } };

test('run --ui: the live view follows a real run point by point', { timeout: 600_000 }, async (t) => {
  await (buildWeb as (o: { quiet: boolean }) => Promise<boolean>)({ quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'sb-live-'));
  const file = join(dir, 'live.yaml');
  // The setup hook and each point wait for their own release file, so the test decides when it ends: after the page
  // has seen it running and its samples arrive, however slow the machine.
  writeFileSync(
    file,
    `name: live3\nworkload: {type: command, argv: [sh, -c, 'while [ ! -e ${dir}/release-{x} ]; do sleep 0.05; done']}\nmatrix: {x: [1, 2, 3]}\nsetup: [sh, -c, 'while [ ! -e ${dir}/release-0 ]; do sleep 0.05; done']\nrecording: {probes: {cpu: 200ms, mem: 200ms}}\n`,
  );
  const results = join(dir, 'results');
  // script(1) gives the run a terminal: on one, --ui keeps serving after the run until Ctrl-C.
  const cmd = `exec ${process.execPath} ${join(root, 'bin/streambench.js')} run ${file} --ui --port 0 --results ${results}`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const browser = await openBrowser();
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const check = setInterval(() => {
        const m = /GUI: (http:\/\/\S+)/.exec(output);
        if (m) {
          clearInterval(check);
          resolve(m[1]!);
        } else if (child.exitCode !== null) {
          clearInterval(check);
          reject(new Error(`run ended before serving the GUI:\n${output}`));
        }
      }, 100);
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?view=live$/);
    const { page, errors } = await newPage(browser);
    await page.goto(url);
    const rows = () => page.$$eval('table.live-runs tr[data-key]', (trs) => trs.map((tr) => ({ key: (tr as unknown as { dataset: Record<string, string> }).dataset['key']!, state: (tr as unknown as { dataset: Record<string, string> }).dataset['state']! })));
    await page.waitForSelector('table.live-runs tr[data-key]', { timeout: 120_000 });
    const first: Row[] = await rows();
    assert.equal(first.length, 3, 'the plan lists the three points');
    // The setup hook holds the run until the page has seen every point left.
    assert.deepEqual(
      first.map((r) => r.state),
      ['left', 'left', 'left'],
    );
    writeFileSync(join(dir, 'release-0'), '');
    const seen = new Map<string, string[]>(first.map((r) => [r.key, [r.state]]));
    const note = (rs: Row[]) =>
      rs.forEach((r) => {
        const s = seen.get(r.key)!;
        if (s[s.length - 1] !== r.state) s.push(r.state);
      });
    for (let x = 1; x <= 3; x++) {
      // The point runs; the page says so, and its CPU arrives while it still runs.
      await page.waitForFunction(
        (n) => {
          const trs = [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ dataset: Record<string, string> }> } }).document.querySelectorAll('table.live-runs tr[data-key]')];
          return trs[n - 1]?.dataset['state'] === 'running';
        },
        x,
        { timeout: 180_000 },
      );
      note(await rows());
      await page.waitForFunction(
        () => {
          const c = (globalThis as unknown as Hook).__sb.charts['live.series'];
          return c !== undefined && c.getOption().series.some((s) => s.data.length >= 3);
        },
        undefined,
        { timeout: 60_000 },
      );
      if (x === 2) {
        await shot(page, 'live-running');
        // Said, not asserted: how far behind the samples are depends on the machine's load.
        t.diagnostic(`newest sample ${await page.$eval('.live-lag', (e) => (e as unknown as { dataset: Record<string, string> }).dataset['behindS'] ?? '?')} s behind the point`);
      }
      writeFileSync(join(dir, `release-${x}`), '');
      await page.waitForFunction(
        (n) => {
          const trs = [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ dataset: Record<string, string> }> } }).document.querySelectorAll('table.live-runs tr[data-key]')];
          return trs[n - 1]?.dataset['state'] === 'done';
        },
        x,
        { timeout: 120_000 },
      );
      note(await rows());
      // The matrix below fills in: one x value more per point landed.
      await page.waitForFunction(
        (n) => {
          const m = (globalThis as unknown as { __sb: { matrix?: { r: { columns: { x: unknown[] } } } } }).__sb.matrix;
          return m !== undefined && new Set(m.r.columns.x.map(String)).size === n;
        },
        x,
        { timeout: 60_000 },
      );
    }
    const xs = await page.evaluate(() => (globalThis as unknown as { __sb: { matrix: { r: { columns: { x: unknown[] } } } } }).__sb.matrix.r.columns.x.map(String));
    assert.deepEqual([...new Set(xs)].sort(), ['1', '2', '3']);
    // Each point went from left to running to done, in the page, in order.
    for (const [key, states] of seen) assert.deepEqual(states, ['left', 'running', 'done'], `point ${key}: ${states.join(' -> ')}`);
    await page.waitForSelector('.live-head[data-state=finished]', { timeout: 60_000 });
    await shot(page, 'live-finished');
    // The run is over; on a terminal the server stays until Ctrl-C, and the set holds the three points.
    assert.equal(child.exitCode, null, `the run exited instead of serving on:\n${output}`);
    const res = await page.evaluate(async () => (await fetch('/api/live')).status);
    assert.equal(res, 200);
    assert.equal(
      ResultSet.open(results)
        .points()
        .filter((r) => r.outcome.status === 'ok').length,
      3,
    );
    assert.deepEqual(errors, []);
    child.stdin.write('\x03');
    assert.equal(await exited, 0, output);
  } finally {
    await browser.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
