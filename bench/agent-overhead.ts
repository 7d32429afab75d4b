/**
 * The recording agent's own CPU cost, against Debian's prometheus-node-exporter (its default
 * collectors) measured in the same run, in turns: the agent samples cpu, mem, net and three
 * processes at 10 Hz, takes 60 frame events per second from an EventPoster (as a stream role
 * sends them) and is collected by a Collector, as in a run; node_exporter is scraped at 10 Hz.
 * Each process's CPU comes from /proc/<pid>/stat (utime + stime, all its threads) over the same
 * length of time. The turns alternate (agent, node_exporter, agent, ...), so a machine whose load
 * changes moves both; the figure is the median of the rounds' ratios.
 * The agent runs from dist/ as the engine starts it (built first when the sources are newer: from
 * the sources, tsx's loader alone would cost about 1 % of a core).
 * Each round also measures the floor of any Node agent here, as ratios to the same node_exporter
 * turn: a bare 10 Hz timer, the timer reading the same files (floorTurn), and the least Node agent
 * doing the job (leastAgentTurn: those reads scanned into a typed array, its batches and events
 * over HTTP).
 * Run: npx tsx bench/agent-overhead.ts [seconds per turn, default 20] [rounds, default 3]
 * (installs prometheus-node-exporter when missing)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Collector } from '../src/record/collector.ts';
import { EventPoster } from '../src/record/event-poster.ts';
import { ensureFreshDist } from './fresh-dist.ts';

const seconds = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 3);
const AIM = 0.05;
const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = `${root}bin/streambench.js`;
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ;
}

async function measure(pid: number, during: () => Promise<void>): Promise<number> {
  const c0 = cpuS(pid);
  const t0 = performance.now();
  await during();
  return ((cpuS(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
}

function ensureNodeExporter(): string {
  const bin = '/usr/bin/prometheus-node-exporter';
  if (spawnSync(bin, ['--version']).error) {
    console.log('installing prometheus-node-exporter (Debian) for the reference...');
    const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'prometheus-node-exporter'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error('could not install prometheus-node-exporter');
  }
  return bin;
}

async function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
}

/** One turn of the agent: a point recorded for `seconds`, with frame events; its CPU % and what it recorded. */
async function agentTurn(pids: number[]): Promise<{ pct: number; series: number; values: number; events: number; agentCpuS: number }> {
  const agent = spawn(process.execPath, [CLI, 'agent', '--role', 'bench', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = `http://127.0.0.1:${(JSON.parse(await firstLine(agent)) as { port: number }).port}`;
  const collector = new Collector([{ role: 'bench', url }]);
  await collector.connect();
  await sleep(1000); // start-up (module loading) is not what is measured
  await collector.startPoint('bench', { cpu: 100, mem: 100, net: 100, proc: 100, cpufreq: false, gpu: false }, { bench: pids.map((pid, i) => ({ label: `p${i}`, pid })) });
  const poster = new EventPoster(url);
  let frame = 0;
  const events = setInterval(() => poster.add([{ t: performance.now(), frame: frame++, stage: 'display', role: 'client' }]), 1000 / 60);
  await sleep(1000);
  const pct = await measure(agent.pid!, () => sleep(seconds * 1000));
  clearInterval(events);
  await poster.close();
  const rec = await collector.stopPoint();
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.once('exit', resolve));
  return { pct, series: new Set(rec.samples.map((s) => s.name)).size, values: rec.samples.length, events: rec.events.length, agentCpuS: rec.agents['bench']!.agentCpuS };
}

/**
 * The floor under any agent written in Node on this machine, in two turns: a Node process whose
 * only work is a 10 Hz timer, and one that also reads the files the agent's probes read (the same
 * way: kept open, read from offset 0 into one buffer), parsing nothing. `node -e` with the code
 * as an argv entry: no shell.
 */
const FLOOR = `
const fs = require('node:fs');
const files = process.argv.slice(1).map((p) => fs.openSync(p, 'r'));
const buf = Buffer.allocUnsafe(65536);
setInterval(() => { for (const fd of files) fs.readSync(fd, buf, 0, buf.length, 0); }, 100);
`;

async function floorTurn(files: string[]): Promise<number> {
  const p = spawn(process.execPath, ['-e', FLOOR, ...files], { stdio: 'ignore' });
  await sleep(2000);
  const pct = await measure(p.pid!, () => sleep(seconds * 1000));
  p.kill('SIGTERM');
  await new Promise((resolve) => p.once('exit', resolve));
  return pct;
}

/**
 * The least a Node agent doing this job does, as one bare process: the floor's timer and reads,
 * the numbers scanned into a Float64Array (no object per sample), the rows serialised once a
 * second as a batch; and an HTTP server on loopback, as the agent's, that hands each batch to a
 * waiting GET (the collector's long poll) and takes a POST of the second's 60 frame events (the
 * event poster's), parsed and counted. No validation, no names, no clock: below any real agent.
 * The bench drives both requests, as Collector and EventPoster do; its own CPU is not counted.
 */
const LEAST_AGENT = `
const fs = require('node:fs');
const http = require('node:http');
const files = process.argv.slice(1).map((p) => fs.openSync(p, 'r'));
const buf = Buffer.allocUnsafe(65536);
const row = new Float64Array(512);
let rows = [];
const ready = [];
let waiting;
let events = 0;
setInterval(() => {
  let at = 0;
  for (const fd of files) {
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    let v = 0, inNum = false;
    for (let i = 0; i < n; i++) {
      const c = buf[i];
      if (c >= 48 && c <= 57) { v = v * 10 + (c - 48); inNum = true; }
      else if (inNum) { if (at < row.length) row[at++] = v; v = 0; inNum = false; }
    }
  }
  rows.push(Array.from(row.subarray(0, at)));
  if (rows.length < 10) return;
  const batch = JSON.stringify({ rows, events });
  rows = [];
  if (waiting) { waiting.end(batch); waiting = undefined; } else ready.push(batch);
}, 100);
http.createServer((req, res) => {
  if (req.method === 'GET') {
    if (ready.length > 0) res.end(ready.shift());
    else waiting = res;
    return;
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => { events += JSON.parse(Buffer.concat(parts).toString()).events.length; res.end('{}'); });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

async function leastAgentTurn(files: string[]): Promise<number> {
  const p = spawn(process.execPath, ['-e', LEAST_AGENT, ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = `http://127.0.0.1:${await firstLine(p)}`;
  const state = { on: true };
  const poll = (async () => {
    while (state.on) await (await fetch(`${url}/batches`)).text();
  })();
  let frame = 0;
  const post = setInterval(() => {
    const events = Array.from({ length: 60 }, () => ({ t: performance.now(), frame: frame++, stage: 'display', role: 'client' }));
    void fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) }).then((r) => r.text());
  }, 1000);
  await sleep(2000);
  const pct = await measure(p.pid!, () => sleep(seconds * 1000));
  state.on = false;
  clearInterval(post);
  await poll;
  p.kill('SIGTERM');
  await new Promise((resolve) => p.once('exit', resolve));
  return pct;
}

/** One turn of node_exporter, scraped at 10 Hz for `seconds`: its CPU %. */
async function nodeExporterTurn(bin: string): Promise<number> {
  const ne = spawn(bin, ['--web.listen-address=127.0.0.1:9109'], { stdio: 'ignore' });
  await sleep(1500);
  const pct = await measure(ne.pid!, async () => {
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const t = performance.now();
      await (await fetch('http://127.0.0.1:9109/metrics')).text();
      await sleep(Math.max(0, 100 - (performance.now() - t)));
    }
  });
  ne.kill('SIGTERM');
  await new Promise((resolve) => ne.once('exit', resolve));
  return pct;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

ensureFreshDist('the agent');
const bin = ensureNodeExporter();
// Three processes to watch, like the three roles of a stream.
const sleepers = [0, 1, 2].map(() => spawn('sleep', [String((seconds * 5 + 30) * rounds + 30)]));
const pids = sleepers.map((s) => s.pid!);
const ratios: number[] = [];
const timerRatios: number[] = [];
const readRatios: number[] = [];
const leastRatios: number[] = [];
// What the agent's probes read each tick (the load averages once a second, here every tick).
const agentFiles = ['/proc/stat', '/proc/loadavg', '/proc/meminfo', '/proc/net/dev', ...pids.map((pid) => `/proc/${pid}/stat`)];
try {
  for (let r = 1; r <= rounds; r++) {
    const a = await agentTurn(pids);
    const ne = await nodeExporterTurn(bin);
    const timer = await floorTurn([]);
    const reads = await floorTurn(agentFiles);
    const least = await leastAgentTurn(agentFiles);
    ratios.push(a.pct / ne);
    timerRatios.push(timer / ne);
    readRatios.push(reads / ne);
    leastRatios.push(least / ne);
    console.log(
      `round ${r}: agent ${a.pct.toFixed(3)} % of one core (cpu+mem+net+3 processes at 10 Hz: ${a.series} series, ${a.values} values; ${a.events} frame events; its own agent.cpu figure ${a.agentCpuS.toFixed(2)} s), ` +
        `node_exporter ${ne.toFixed(3)} %: ${(a.pct / ne).toFixed(3)}x; the floor: an empty Node 10 Hz timer ${timer.toFixed(3)} % (${(timer / ne).toFixed(3)}x), the same reading the agent's files ${reads.toFixed(3)} % (${(reads / ne).toFixed(3)}x), the least Node agent ${least.toFixed(3)} % (${(least / ne).toFixed(3)}x)   load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
  }
} finally {
  for (const s of sleepers) s.kill();
}
const ratio = median(ratios);
console.log(`agent ${ratio.toFixed(3)}x node_exporter (aim <= ${AIM}x): median of ${rounds} rounds, ${Math.min(...ratios).toFixed(3)}..${Math.max(...ratios).toFixed(3)}; ${ratio <= AIM ? 'met' : 'NOT met'}`);
console.log(
  `  the floor of a Node agent here, same rounds: a 10 Hz timer ${median(timerRatios).toFixed(3)}x, the timer reading the agent's files ${median(readRatios).toFixed(3)}x, the least Node agent (reads scanned into a typed array, a batch a second to a long poll, 60 events a second taken) ${median(leastRatios).toFixed(3)}x node_exporter`,
);
