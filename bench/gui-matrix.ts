/**
 * The matrix view at scale, in the real browser, on result sets in the real store format
 * (bench/gen-result-set.ts: a stream sweep committed through ResultSet, its index built as a run
 * builds it): 10,000 runs x 20 metrics: the first plot (aim under 1 s) and the redraw after a
 * control change (aim under 150 ms); 100,000 runs: the first plot (aim under 3 s). The view's
 * own timings are read (window.__sb.timings: firstPlot from navigation start, redraw from the
 * control's change, both once the frame with the plot is painted).
 *
 * And the server side, in process, where its time goes when it opens a set: the index read (the
 * records), the catalogue, the DuckDB points table (openSetDatabase: from the table saved beside
 * the index, or built), then /api/matrix cold (the first request opens the set) and warm.
 *
 * Run: npx tsx bench/gui-matrix.ts [--rounds R (3)] [--runs N (10000)] [--big N (100000; 0 skips)] [--big-set DIR (an existing set instead)] [--metrics M (20)] [--web DIR (a built GUI; default: built now)]
 */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser } from 'playwright-core';
import { startUiServer } from '../src/server/server.ts';
import { setCatalog } from '../src/store/catalog.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { cachedResultSet } from './gen-result-set.ts';
import { BROWSER_ARGS, buildWeb } from './gui-common.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const RUNS = Number(flag('--runs', '10000'));
const BIG = Number(flag('--big', '100000'));
const METRICS = Number(flag('--metrics', '20'));
/** First plots measured per size (each with a server of its own): the machine is shared, the median is printed. */
const ROUNDS = Number(flag('--rounds', '3'));
/** The matrix view's test hook (web/src/chart.ts TestHook), seen from here. */
type Win = { __sb?: { draws: number; timings: Record<string, number>; error?: string } };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const QUERY = 'metric=guest.cpu_pct&x=fps&series=codec&kind=line&agg=mean';

/** Where the server's time goes when it opens the set, step by step, in this process. */
async function serverSide(set: ResultSet): Promise<void> {
  let t0 = performance.now();
  const view = set.index();
  const records = view.records();
  view.close();
  const indexMs = performance.now() - t0;
  t0 = performance.now();
  setCatalog(records);
  const catalogMs = performance.now() - t0;
  t0 = performance.now();
  const db = await openSetDatabase([set], { views: [] });
  const tableMs = performance.now() - t0;
  t0 = performance.now();
  await db.conn.runAndReadAll(`SELECT fps, codec, avg("guest.cpu_pct") FROM points WHERE status = 'ok' GROUP BY ALL`);
  const queryMs = performance.now() - t0;
  db.close();
  console.log(
    `  server, opening ${records.length} runs: index read ${ms(indexMs)} (the check of every point.json, then the records), catalogue ${ms(catalogMs)}, DuckDB points table ${ms(tableMs)}, one GROUP BY ${ms(queryMs)}; the GUI's server reads no record and makes no catalogue once the set's summary is saved beside its index`,
  );

  const server = await startUiServer({ sets: [set], webRoot: WEB });
  try {
    t0 = performance.now();
    const first = await fetch(`${server.origin}/api/matrix?${QUERY}`);
    const body = await first.text();
    const coldMs = performance.now() - t0;
    if (!first.ok) throw new Error(`/api/matrix answered ${first.status}: ${body}`);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      await (await fetch(`${server.origin}/api/matrix?${QUERY}&c.scene=v:${['idle', 'typing', 'video', 'drag', 'motion'][i]}`)).text();
      warm.push(performance.now() - t0);
    }
    t0 = performance.now();
    await (await fetch(`${server.origin}/api/sets`)).text();
    const setsMs = performance.now() - t0;
    console.log(`  server /api/matrix: first ${ms(coldMs)} (opens the set: the check, the saved summary and points table), warm ${ms(median(warm))} (a control changed); /api/sets ${ms(setsMs)}`);
  } finally {
    await server.close();
  }
}

/** The matrix view in chromium, ROUNDS times (a new server and page each): first plot (median), then control changes in the last round. */
async function inBrowser(browser: Browser, set: ResultSet, runs: number, changes: boolean): Promise<void> {
  const firsts: number[] = [];
  for (let round = 0; round < ROUNDS; round++) firsts.push(await oneRound(browser, set, runs, changes && round === ROUNDS - 1));
  const aim = runs >= 100_000 ? 3000 : 1000;
  const m = median(firsts);
  console.log(`  first plot ${runs / 1000}k: ${ms(m)} (aim < ${aim} ms: ${m < aim ? 'met' : 'NOT met'}; median of ${firsts.length}: ${firsts.map((x) => x.toFixed(0)).join(', ')} ms; load ${loadavg()[0]!.toFixed(1)})`);
}

/** One round: a server of its own, the page opened, its first plot's time (and the redraws when asked). */
async function oneRound(browser: Browser, set: ResultSet, runs: number, changes: boolean): Promise<number> {
  const server = await startUiServer({ sets: [set], webRoot: WEB });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const hook = () => page.evaluate(() => (globalThis as unknown as Win).__sb!);
    const t0 = performance.now();
    await page.goto(`${server.url.replace(/#.*/, '')}?view=matrix&y=guest.cpu_pct&x=fps&s=codec&kind=line`);
    await page.waitForFunction(() => ((globalThis as unknown as Win).__sb?.draws ?? 0) > 0 || (globalThis as unknown as Win).__sb?.error !== undefined, undefined, { timeout: 120_000 });
    const outside = performance.now() - t0;
    const h = await hook();
    if (h.error) throw new Error(`the matrix view failed: ${h.error}`);
    console.log(`  first matrix plot, ${runs} runs: ${ms(h.timings['firstPlot']!)} from navigation start, the server opening the set included; seen from outside ${ms(outside)}`);
    if (!changes) return h.timings['firstPlot']!;
    // Control changes: fix the scene to one value after another, then back to all aggregated.
    const redraws: number[] = [];
    for (const v of ['v:typing', 'v:video', 'v:idle', 'v:drag', 'v:motion', 'agg', 'v:scrolling']) {
      const before = (await hook()).draws;
      await page.selectOption('select[name="c.scene"]', v);
      await page.waitForFunction((n) => ((globalThis as unknown as Win).__sb?.draws ?? 0) > n, before, { timeout: 60_000 });
      redraws.push((await hook()).timings['redraw']!);
    }
    console.log(`  redraw after a control change (scene fixed to a value, ${redraws.length} changes): median ${ms(median(redraws))}, all ${redraws.map((x) => x.toFixed(0)).join(', ')} ms (aim < 150 ms: ${median(redraws) < 150 ? 'met' : 'NOT met'})`);
    return h.timings['firstPlot']!;
  } finally {
    await server.close();
  }
}

const builtHere = !args.includes('--web');
const WEB = builtHere ? buildWeb() : flag('--web', '');
console.log(`matrix view at scale; load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (figures under load are upper bounds)`);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS });
try {
  for (const [runs, changes] of [[RUNS, true], ...(BIG > 0 ? [[BIG, false]] : [])] as [number, boolean][]) {
    const set = runs === BIG && args.includes('--big-set') ? ResultSet.open(flag('--big-set', '')) : cachedResultSet({ runs, metrics: METRICS }, console.log);
    console.log(`${runs} runs x ${METRICS} metrics (${set.dir}):`);
    await serverSide(set);
    await inBrowser(browser, set, runs, changes);
  }
  console.log('for comparison: HiPlot is reported to lag at about 50,000 rows; Plotly (SVG) slows past some 10,000 points, its WebGL traces go to about a million');
} finally {
  await browser.close();
  if (builtHere) rmSync(WEB, { recursive: true, force: true });
}
