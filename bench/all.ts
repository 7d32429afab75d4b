/**
 * The benchmarks of "Speed where users feel it" in one go, one after another (they measure CPU
 * time: run in parallel they would measure each other), each with a time limit, and at the end
 * every line that states an aim (and the floor measured beside it), under its benchmark's name, with the load average around each
 * run: a figure taken on a busy machine is an upper bound, and the load says how busy it was.
 * Each benchmark exits 0 whatever it measures (benchmarks report, tests assert); this one exits 1
 * only when one of them could not run.
 * Run: npm run bench   (or: npx tsx bench/all.ts [--quick])   about 8 minutes on a 2-core machine;
 * --quick: fewer rounds and no 100,000-run set, about 4 minutes.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));

interface Bench {
  name: string;
  args: string[];
  /** Seconds before it is stopped (its figures so far are kept). */
  limitS: number;
}

const BENCHES: Bench[] = [
  { name: 'first plot (bench/gui-matrix.ts)', args: ['bench/gui-matrix.ts', ...(quick ? ['--big', '0'] : [])], limitS: 240 },
  { name: 'encoder and pipeline (bench/pipeline-latency.ts)', args: ['bench/pipeline-latency.ts', ...(quick ? ['4', '1'] : [])], limitS: 240 },
  { name: 'agent (bench/agent-overhead.ts)', args: ['bench/agent-overhead.ts', ...(quick ? ['10', '2'] : ['15', '3'])], limitS: 400 },
  { name: 'models (bench/analyze.ts)', args: ['bench/analyze.ts', quick ? '3' : '5'], limitS: 120 },
];

interface Outcome {
  bench: Bench;
  code: number | null;
  seconds: number;
  load: [number, number];
  aims: string[];
}

function runOne(b: Bench): Promise<Outcome> {
  const load0 = loadavg()[0]!;
  const t0 = performance.now();
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${b.name}\n`);
    // tsx through node's own binary: no shell, argv as data.
    const child = spawn(process.execPath, ['--import', 'tsx', ...b.args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), b.limitS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Each figure with an aim, and the floor measured beside it where there is one.
      const aims = out.split('\n').filter((l) => /\baim\b/.test(l) || (/\bfloor\b/.test(l) && !l.startsWith('round ')));
      resolve({ bench: b, code, seconds: (performance.now() - t0) / 1000, load: [load0, loadavg()[0]!], aims: aims.map((l) => l.trim()) });
    });
  });
}

const outcomes: Outcome[] = [];
for (const b of BENCHES) outcomes.push(await runOne(b));

console.log(`\n=== summary (${quick ? 'quick' : 'full'}; load average before and after each, ${availableParallelism()} cores)`);
for (const o of outcomes) {
  const status = o.code === 0 ? '' : o.code === null ? ' STOPPED at its time limit' : ` FAILED (exit ${o.code})`;
  console.log(`${o.bench.name}: ${o.seconds.toFixed(0)} s, load ${o.load[0].toFixed(1)} -> ${o.load[1].toFixed(1)}${status}`);
  for (const a of o.aims) console.log(`  ${a}`);
  if (o.aims.length === 0) console.log('  (no line with an aim: see its output above)');
}
process.exitCode = outcomes.every((o) => o.code === 0) ? 0 : 1;
