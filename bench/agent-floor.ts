/**
 * Where a 10 Hz Node agent's CPU goes on this machine, one bare process per turn, each doing a
 * little more of the agent's work than the one before:
 *   timer   an empty 10 Hz timer (the price of waking);
 *   reads   + reading the files the agent's probes read (kept open, pread from offset 0);
 *   scan    + their numbers scanned into a Float64Array, the rows serialised once a second
 *           (a sketch of probes that write numbers, their names sent once per batch);
 *   probes  the agent's own probes (cpu, mem, net, three processes) from dist/, each sample an
 *           object of named values, serialised once a second as a batch is;
 *   cpu, mem, net, proc  one probe alone, the same way.
 * CPU of each process from /proc/<pid>/stat (utime + stime) over `seconds`, after 3 s of start-up.
 * The turns run one after another: read them against each other, in the same run.
 * Run: npx tsx bench/agent-floor.ts [seconds per turn, default 20] [turn...]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureFreshDist } from './fresh-dist.ts';

const seconds = Number(process.argv[2] ?? 20);
const chosen = process.argv.slice(3);
const probesUrl = pathToFileURL(fileURLToPath(new URL('../dist/record/probes/index.js', import.meta.url))).href;

const READS = `
const fs = require('node:fs');
const files = ['/proc/stat', '/proc/loadavg', '/proc/meminfo', '/proc/net/dev', ...process.argv.slice(2).map((p) => '/proc/' + p + '/stat')].map((p) => fs.openSync(p, 'r'));
const buf = Buffer.allocUnsafe(65536);
const scan = process.argv[1] === 'scan';
const row = new Float64Array(512);
const rows = [];
setInterval(() => {
  let at = 0;
  for (const fd of files) {
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (!scan) continue;
    let v = 0, inNum = false;
    for (let i = 0; i < n; i++) {
      const c = buf[i];
      if (c >= 48 && c <= 57) { v = v * 10 + (c - 48); inNum = true; }
      else if (inNum) { if (at < row.length) row[at++] = v; v = 0; inNum = false; }
    }
  }
  if (!scan) return;
  rows.push(Array.from(row.subarray(0, at)));
  if (rows.length === 10) { JSON.stringify(rows); rows.length = 0; }
}, 100);
`;

const PROBES = `
const { createProbes } = await import(process.argv[1]);
const which = process.argv[2];
const pids = process.argv.slice(3).map(Number);
const all = which === 'probes';
const cfg = { cpu: all || which === 'cpu' ? 100 : false, mem: all || which === 'mem' ? 100 : false, net: all || which === 'net' ? 100 : false };
if (all || which === 'proc') cfg.proc = { intervalMs: 100, select: pids.map((pid, i) => ({ label: 'p' + i, pid })) };
const probes = createProbes(cfg);
let samples = [];
let ticks = 0;
setInterval(() => {
  const t = performance.now();
  for (const p of probes) samples.push({ t, probe: p.name, values: p.sample(t) });
  if (++ticks % 10 === 0) { JSON.stringify(samples); samples = []; }
}, 100);
`;

function cpuS(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function turn(argv: string[]): Promise<number> {
  const p = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  await sleep(3000);
  const c0 = cpuS(p.pid!);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const pct = ((cpuS(p.pid!) - c0) / ((performance.now() - t0) / 1000)) * 100;
  p.kill();
  await new Promise((resolve) => p.once('exit', resolve));
  return pct;
}

ensureFreshDist('the probes');
// Three processes to watch, like the three roles of a stream.
const sleepers = [0, 1, 2].map(() => spawn('sleep', ['100000']));
const pids = sleepers.map((s) => String(s.pid));
const turns: Record<string, string[]> = {
  timer: ['-e', 'setInterval(() => {}, 100)'],
  reads: ['-e', READS, 'reads', ...pids],
  scan: ['-e', READS, 'scan', ...pids],
  probes: ['--input-type=module', '-e', PROBES, probesUrl, 'probes', ...pids],
  cpu: ['--input-type=module', '-e', PROBES, probesUrl, 'cpu'],
  mem: ['--input-type=module', '-e', PROBES, probesUrl, 'mem'],
  net: ['--input-type=module', '-e', PROBES, probesUrl, 'net'],
  proc: ['--input-type=module', '-e', PROBES, probesUrl, 'proc', ...pids],
};
try {
  for (const [name, argv] of Object.entries(turns)) {
    if (chosen.length > 0 && !chosen.includes(name)) continue;
    const pct = await turn(argv);
    console.log(`${name.padEnd(7)} ${pct.toFixed(3)} % of one core   load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
  }
} finally {
  for (const s of sleepers) s.kill();
}
