/**
 * The recording agent's own CPU cost, against Debian's prometheus-node-exporter measured in the
 * same run: the agent samples cpu, mem, net and three processes at 10 Hz, takes 60 frame events
 * per second and is collected like in a run; node_exporter is scraped at 10 Hz. Each process's
 * CPU comes from /proc/<pid>/stat (utime + stime) over the same length of time.
 * Run: npx tsx bench/agent-overhead.ts [seconds, default 20]   (installs prometheus-node-exporter when missing)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Collector } from '../src/record/collector.ts';
import { EventPoster } from '../src/record/event-poster.ts';

const seconds = Number(process.argv[2] ?? 20);
const CLI = fileURLToPath(new URL('../bin/streambench.js', import.meta.url));
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

async function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
}

// Three processes to watch, like the three roles of a stream.
const sleepers = [0, 1, 2].map(() => spawn('sleep', [String(seconds * 3 + 30)]));
const agent = spawn(process.execPath, [CLI, 'agent', '--role', 'bench', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = (JSON.parse(await started(agent)) as { port: number }).port;
const url = `http://127.0.0.1:${port}`;
const collector = new Collector([{ role: 'bench', url }]);
await collector.connect();
await sleep(1000); // start-up (module loading) is not what is measured
await collector.startPoint('bench', { cpu: 100, mem: 100, net: 100, proc: 100, cpufreq: false, gpu: false }, { bench: sleepers.map((s, i) => ({ label: `p${i}`, pid: s.pid! })) });
const poster = new EventPoster(url);
let frame = 0;
const events = setInterval(() => poster.add([{ t: performance.now(), frame: frame++, stage: 'display', role: 'client' }]), 1000 / 60);
await sleep(1000);
const agentPct = await measure(agent.pid!, () => sleep(seconds * 1000));
clearInterval(events);
await poster.close();
const rec = await collector.stopPoint();
agent.kill('SIGTERM');

const bin = ensureNodeExporter();
const ne = spawn(bin, ['--web.listen-address=127.0.0.1:9109'], { stdio: 'ignore' });
await sleep(1500);
const nePct = await measure(ne.pid!, async () => {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await (await fetch('http://127.0.0.1:9109/metrics')).text();
    await sleep(Math.max(0, 100 - (performance.now() - t)));
  }
});
ne.kill('SIGTERM');
for (const s of sleepers) s.kill();

const names = new Set(rec.samples.map((s) => s.name)).size;
console.log(`agent: cpu+mem+net+3 processes at 10 Hz (${names} series, ${rec.samples.length} values), ${frame} frame events, collected: ${agentPct.toFixed(3)} % of one core`);
console.log(`prometheus-node-exporter scraped at 10 Hz (reference):                ${nePct.toFixed(3)} % of one core`);
console.log(`ratio agent / node_exporter: ${(agentPct / nePct).toFixed(2)}  (aim: agent under 0.5 % and cheaper)`);
