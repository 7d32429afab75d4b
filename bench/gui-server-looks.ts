/**
 * What the GUI server's looks at a set's index cost, and what looking ahead of requests costs the
 * server while a page is in use (src/server/sets.ts). On generated sets (bench/gen-result-set.ts):
 *   1. in this process, median of 5: a request's own look (the index opened: one stat per
 *      point.json, the snapshot read) against a look ahead (IndexView.unchanged: the same stats in
 *      steps of 256), its time holding the event loop and its length;
 *   2. the server as its own process, from dist/ (compiled, as `streambench ui` runs), one chromium
 *      page over 10,000 runs, in turns with looks ahead and without (the reference: every request
 *      more than a second after the last look makes one): the redraw after a control change, and
 *      the server's CPU from /proc/<pid>/stat while a control changes every 2 s for 12 s, then
 *      with the page left open and nobody at the controls for 30 s (it polls every 3 s).
 * Run: npx tsx bench/gui-server-looks.ts [--big N (100000; 0 skips)] [--rounds R (2)]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { cachedResultSet } from './gen-result-set.ts';
import { ensureFreshDist } from './fresh-dist.ts';
import { BROWSER_ARGS, buildWeb } from './gui-common.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const BIG = Number(flag('--big', '100000'));
const ROUNDS = Number(flag('--rounds', '2'));
const root = new URL('..', import.meta.url).pathname;
type Win = { __sb?: { draws: number; timings: Record<string, number>; error?: string } };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const load = () => loadavg()[0]!.toFixed(1);

function cpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) / 100;
}

/** Part 1: the two kinds of look, in this process. */
async function looks(runs: number): Promise<void> {
  const set = cachedResultSet({ runs, metrics: 20 }, console.log);
  const own: number[] = [];
  const busy: number[] = [];
  const wall: number[] = [];
  const view = set.index();
  try {
    for (let i = 0; i < 6; i++) {
      let t = performance.now();
      set.index().close();
      const o = performance.now() - t;
      t = performance.now();
      const seen = await view.unchanged?.();
      if (!seen?.same) throw new Error(`the look ahead saw a change in ${set.dir}, which nothing writes`);
      // The first of each is a warm-up: a server's looks run warm.
      if (i === 0) continue;
      own.push(o);
      wall.push(performance.now() - t);
      busy.push(seen.busyMs);
    }
  } finally {
    view.close();
  }
  console.log(`  ${runs} runs: a request's own look ${ms(median(own))}; a look ahead holds the event loop ${ms(median(busy))} in all, over ${ms(median(wall))} (median of 5, load ${load()})`);
}

/** The GUI server over the set as a process of its own, from dist/; its address. */
async function server(dir: string, web: string, lookAhead: boolean): Promise<{ child: ChildProcess; url: string }> {
  const code = `
const [dist, dir, web, ahead] = process.argv.slice(1);
await import(dist + 'workloads/index.js');
const { ResultSet } = await import(dist + 'store/resultset.js');
const { startUiServer } = await import(dist + 'server/server.js');
const s = await startUiServer({ sets: [ResultSet.open(dir)], webRoot: web, lookAhead: ahead === 'yes' });
console.log(s.url);
`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, pathToFileURL(`${root}dist/`).href, dir, web, lookAhead ? 'yes' : 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`the GUI server exited (${c}) before it was ready`)));
  });
  return { child, url: url.replace(/#.*/, '') };
}

/** Part 2, one turn: a page over the set, its controls changed, then left open; the server's CPU in each. */
async function turn(browser: Browser, dir: string, web: string, lookAhead: boolean): Promise<{ redraw: number; active: number; idle: number }> {
  const { child, url } = await server(dir, web, lookAhead);
  const pid = child.pid!;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${url}?view=matrix&y=guest.cpu_pct&x=fps&s=codec&kind=line`);
    await page.waitForFunction(() => ((globalThis as unknown as Win).__sb?.draws ?? 0) > 0, undefined, { timeout: 120_000 });
    await sleep(3000);
    const redraws: number[] = [];
    let c = cpuS(pid);
    let t = performance.now();
    for (const v of ['v:typing', 'v:video', 'v:idle', 'v:drag', 'v:motion', 'agg']) {
      const before = await page.evaluate(() => (globalThis as unknown as Win).__sb!.draws);
      await page.selectOption('select[name="c.scene"]', v);
      await page.waitForFunction((n) => ((globalThis as unknown as Win).__sb?.draws ?? 0) > n, before, { timeout: 60_000 });
      redraws.push(await page.evaluate(() => (globalThis as unknown as Win).__sb!.timings['redraw']!));
      await sleep(2000);
    }
    const active = ((cpuS(pid) - c) / ((performance.now() - t) / 1000)) * 100;
    // Past the server's 10 s of looking ahead after the last change.
    await sleep(10_000);
    c = cpuS(pid);
    t = performance.now();
    await sleep(30_000);
    const idle = ((cpuS(pid) - c) / ((performance.now() - t) / 1000)) * 100;
    await page.close();
    return { redraw: median(redraws), active, idle };
  } finally {
    child.kill('SIGTERM');
  }
}

console.log(`the GUI server's looks at a set's index; load ${load()}`);
console.log('1. a look, in this process:');
for (const runs of [10_000, ...(BIG > 0 ? [BIG] : [])]) await looks(runs);

ensureFreshDist('the GUI server');
const web = buildWeb();
const dir = cachedResultSet({ runs: 10_000, metrics: 20 }).dir;
console.log(`2. the server as its own process (from dist/), one chromium page over 10,000 runs, ${ROUNDS} rounds of two turns: a control changed every 2 s for 12 s, then the page left open 30 s`);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS });
try {
  const seen: Record<'with' | 'without', { redraw: number; active: number; idle: number }[]> = { with: [], without: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const ahead of [true, false]) {
      const x = await turn(browser, dir, web, ahead);
      seen[ahead ? 'with' : 'without'].push(x);
      console.log(`  round ${r}, ${ahead ? 'looks ahead' : 'no looks ahead (reference)'}: redraw ${ms(x.redraw)} median of 6; server CPU ${x.active.toFixed(1)} % of a core with the controls in use, ${x.idle.toFixed(1)} % with the page left open (load ${load()})`);
    }
  }
  for (const k of ['with', 'without'] as const) {
    const xs = seen[k];
    console.log(`${k === 'with' ? 'looks ahead' : 'reference  '}: redraw ${ms(median(xs.map((x) => x.redraw)))}, server CPU in use ${median(xs.map((x) => x.active)).toFixed(1)} %, left open ${median(xs.map((x) => x.idle)).toFixed(1)} % (medians of ${xs.length})`);
  }
} finally {
  await browser.close();
}
