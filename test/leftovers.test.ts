// Nothing the engine starts outlives it: kill -9 of `streambench run` in the middle of a point,
// and within 2 s no process of the run is alive (its watchdog ends them); a rerun resumes. The
// processes are found by their pids (the run's .live/ records, the members of those process
// groups, the engine's descendants), each with its start time so a reused pid is never mistaken
// for a survivor; never by name.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watchdog } from '../src/base/watchdog.ts';
import { LiveRegistry } from '../src/engine/live.ts';
import { groupAlive, processStartTime } from '../src/workloads/proctree.ts';

const CLI = new URL('../bin/streambench.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sb-leftovers-'));
/** The bound: nothing of the run alive this long after the engine's death. */
const LIMIT_MS = 2000;

interface Stat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  startTime: number;
}

function stat(pid: number): Stat | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined; // gone
  }
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return { pid, state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]), startTime: Number(f[19]) };
}

function everyProcess(): Stat[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => stat(Number(n)))
    .filter((s): s is Stat => s !== undefined);
}

/** Still the same process and not dead (zombies are dead: this container's init may never reap them). */
function alive(p: { pid: number; startTime: number }): boolean {
  const s = stat(p.pid);
  return s !== undefined && s.state !== 'Z' && s.startTime === p.startTime;
}

/** Pids recorded in a result set's .live/ (its agents and the programs of its points). */
function livePids(results: string): number[] {
  const dir = join(results, '.live');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^\d+\.json$/.test(f))
        .map((f) => Number(f.slice(0, -5)))
    : [];
}

/**
 * Every process of the run now: the engine's descendants, the processes recorded in .live/ and
 * every member of their process groups. The engine itself is left out (the test kills it).
 */
function runProcesses(engine: number, results: string): Stat[] {
  const all = everyProcess();
  const out = new Map<number, Stat>();
  const groups = new Set(livePids(results));
  for (const s of all) if (s.state !== 'Z' && (groups.has(s.pid) || groups.has(s.pgrp))) out.set(s.pid, s);
  const byParent = new Map<number, Stat[]>();
  for (const s of all) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  // From the engine and from every member found: a member's children may have left its group.
  const queue = [engine, ...out.keys()];
  const seen = new Set(queue);
  while (queue.length > 0) {
    for (const c of byParent.get(queue.shift()!) ?? []) {
      if (c.state === 'Z' || seen.has(c.pid)) continue;
      seen.add(c.pid);
      out.set(c.pid, c);
      queue.push(c.pid);
    }
  }
  out.delete(engine);
  return [...out.values()];
}

/** What a test started and may leave behind if an assertion fails first: ended after all tests. */
const started: Stat[] = [];
after(() => {
  for (const p of started) if (alive(p)) process.kill(p.pid, 'SIGKILL');
});

function committed(results: string): string[] {
  const dir = join(results, 'points');
  return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
}

function startEngine(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const e = startEngine(args);
  return e.exited.then((code) => ({ code, out: e.out() }));
}

async function waitFor(what: string, cond: () => boolean, out: () => string, timeoutS = 300): Promise<void> {
  // Generous: the start of a point on a loaded 2-core machine is slow, and the test is not about it.
  for (let i = 0; i < timeoutS * 10; i++) {
    if (cond()) return;
    await sleep(100);
  }
  assert.fail(`${what} did not happen within ${timeoutS} s; engine output:\n${out()}`);
}

/**
 * Kills the engine with SIGKILL once its point runs, and measures how long the run's processes
 * (snapshot just before the kill) stay alive after it. Returns the time and who was left.
 */
async function killMidPoint(engine: ReturnType<typeof startEngine>, results: string, more: number[] = []): Promise<{ ms: number; procs: Stat[]; left: Stat[] }> {
  const procs = runProcesses(engine.child.pid!, results);
  for (const pid of more) {
    const s = stat(pid);
    if (s && s.state !== 'Z' && !procs.some((p) => p.pid === pid)) procs.push(s);
  }
  started.push(...procs);
  engine.child.kill('SIGKILL');
  await engine.exited;
  const t0 = performance.now();
  let left = procs.filter(alive);
  while (left.length > 0 && performance.now() - t0 < LIMIT_MS) {
    await sleep(20);
    left = left.filter(alive);
  }
  return { ms: performance.now() - t0, procs, left };
}

/** Whether pid runs scripts/watchdog.mjs (told apart from the agents only to time a kill, never to judge survivors). */
function isWatchdog(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[1]?.endsWith('scripts/watchdog.mjs') ?? false;
  } catch {
    return false;
  }
}

/** The survivors named for the failure message (their command lines are only read to say who they are). */
function describe(ps: Stat[]): string {
  const cmd = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').slice(0, 100);
    } catch {
      return 'gone';
    }
  };
  return ps.map((p) => `${p.pid} (${cmd(p.pid)})`).join(', ');
}

test('the watchdog ends registered groups, and descendants that left them, when its pipe closes; a pid whose start time differs is not touched', async (t) => {
  const warnings: string[] = [];
  const dog = Watchdog.start(join(work, 'wd.log'), (m) => warnings.push(m));
  const spawnGroup = (script: string) => spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  // A group whose program puts a child into a session of its own (as daemons do).
  const a = spawnGroup('setsid sleep 60 & exec sleep 60');
  // A registered group whose start time does not match: what a reused pid looks like.
  const b = spawnGroup('exec sleep 60');
  // A group registered and then unregistered: the engine saw it end.
  const c = spawnGroup('exec sleep 60');
  await sleep(300);
  const [sa, sb, sc] = [a, b, c].map((x) => stat(x.pid!)!);
  const escaped = everyProcess().find((s) => s.ppid === a.pid && s.pgrp !== a.pid);
  assert.ok(escaped, 'the setsid child runs in a group of its own');
  started.push(sa!, sb!, sc!, escaped);
  dog.add(a.pid!, sa!.startTime);
  dog.add(b.pid!, sb!.startTime + 1);
  dog.add(c.pid!, sc!.startTime);
  dog.remove(c.pid!);

  const t0 = performance.now();
  await dog.close();
  const ms = performance.now() - t0;
  assert.ok(!alive(sa!) && !alive(escaped), 'the group and the child that left it are ended');
  assert.ok(alive(sb!), 'a pid registered with another start time is never signalled');
  assert.ok(alive(sc!), 'an unregistered group is not touched');
  assert.deepEqual(warnings, []);
  assert.match(readFileSync(join(work, 'wd.log'), 'utf8'), new RegExp(`ending process groups ${a.pid}\\b.*processes ${escaped.pid}\\b`));
  t.diagnostic(`ended in ${ms.toFixed(0)} ms`);
  for (const x of [sb!, sc!]) process.kill(x.pid, 'SIGKILL');
});

test('the watchdog costs nothing while idle: its main thread sleeps in a read and never wakes', async () => {
  const dog = Watchdog.start(join(work, 'wd-idle.log'), () => undefined);
  const pid = dog.pid!;
  const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  started.push(stat(sleeper.pid!)!);
  dog.add(sleeper.pid!, processStartTime(sleeper.pid!)!);
  // Each wake-up of a thread that blocks is a voluntary context switch: a loop that polls (a
  // timer, a /proc scan every 100 ms) shows as tens of them per second, however slow the machine.
  const switches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  let last = -1;
  // Settled: its start-up is over when a second passes without a wake-up.
  for (let i = 0; i < 120 && switches() !== last; i++) {
    last = switches();
    await sleep(1000);
  }
  const before = switches();
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const cpu0 = ticks();
  await sleep(3000);
  const woke = switches() - before;
  const cpu = ticks() - cpu0;
  // V8 may run one deferred clean-up task after start-up: 2 wake-ups allowed, a poll would make 30+.
  assert.ok(woke <= 2, `the watchdog's main thread woke ${woke} times in 3 s while idle`);
  assert.ok(cpu <= 1, `the watchdog used ${cpu} clock ticks in 3 s while idle`);
  await dog.close();
  assert.ok(!alive(stat(sleeper.pid!) ?? { pid: sleeper.pid!, startTime: -1 }), 'and it still acts when its pipe closes');
});

test('.live/ records that are not process records are skipped with a warning, not a crash', () => {
  const results = join(work, 'corrupt');
  mkdirSync(join(results, '.live'), { recursive: true });
  writeFileSync(join(results, '.live', '4242.json'), '{"pid": 42');
  writeFileSync(join(results, '.live', '4243.json'), '{"pid": "x", "startTime": 5}');
  writeFileSync(join(results, '.live', '4244.json'), '[]');
  const warnings: string[] = [];
  const live = new LiveRegistry(results, (m) => warnings.push(m));
  assert.deepEqual(live.reap(), []);
  assert.equal(warnings.length, 3, warnings.join('\n'));
  assert.match(warnings[0]!, /4242\.json is not a process record \(.*JSON.*\): skipped and removed/);
  assert.match(warnings[1]!, /4243\.json is not a process record \(pid "x" is not a process id\)/);
  assert.deepEqual(readdirSync(join(results, '.live')), []);
});

test('a group whose leader died is still ended through the members it left; a reused pid is not', async () => {
  // The leader exits at once, leaving a sleep in its group.
  const leader = spawn('sh', ['-c', 'sleep 60 & exit 0'], { detached: true, stdio: 'ignore' });
  const startTime = processStartTime(leader.pid!)!;
  await new Promise((r) => leader.once('exit', r));
  await sleep(100);
  const member = everyProcess().find((s) => s.pgrp === leader.pid && s.state !== 'Z')!;
  assert.ok(member, 'the member outlives its leader');
  started.push(member);
  assert.equal(groupAlive(leader.pid!, startTime), true);
  assert.equal(groupAlive(member.pid, member.startTime + 1), false, 'another start time: not that process');
  const results = join(work, 'leaderless');
  const live = new LiveRegistry(results, () => undefined);
  live.add({ pid: leader.pid!, startTime });
  assert.deepEqual(new LiveRegistry(results, () => undefined).reap(), [leader.pid]);
  await sleep(100);
  assert.ok(!alive(member));
  assert.equal(groupAlive(leader.pid!, startTime), false);
});

const STREAM = `name: leftovers-stream
workload: {type: stream, resolution: 320x240, fps: 15, scene: typing, codec: h264, bitrate: 300k}
matrix: {i: [1, 2]}
duration: 5s
`;

test('kill -9 of the engine mid-point of a stream benchmark: within 2 s nothing of the run is alive; a rerun resumes and completes', async (t) => {
  const file = join(work, 'stream.yaml');
  writeFileSync(file, STREAM);
  const results = join(work, 'stream-results');
  const engine = startEngine(['run', file, '--results', results]);
  // The second point is running: the first is recorded, and 3 agents + guest, host, client are registered.
  await waitFor('the second point', () => committed(results).length === 1 && livePids(results).length >= 6, engine.out);
  await sleep(1000);
  const r = await killMidPoint(engine, results);
  assert.ok(r.procs.length >= 7, `the run had its agents, roles and watchdog: ${r.procs.length} processes`);
  assert.equal(describe(r.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);
  t.diagnostic(`all ${r.procs.length} gone ${r.ms.toFixed(0)} ms after the kill`);

  const again = await cli(['run', file, '--results', results]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /1 ok, 0 failed, 1 already recorded/);
  assert.doesNotMatch(again.out, /ended process group/, 'the watchdog had ended everything: the next start found nothing to reap');
  assert.equal(committed(results).length, 2);
});

test('kill -9 of the engine while a hook runs, and while a point runs a program that left a child in a session of its own: nothing outlives it', async () => {
  const file = join(work, 'command.yaml');
  // The setup hook leaves a server running for the points (it is the run's, and ends with it);
  // each says its pid, so that they are checked whether the engine registered them or not.
  const serverPid = join(work, 'command-server.pid');
  const hookPid = join(work, 'command-hook.pid');
  writeFileSync(
    file,
    `name: leftovers-command
workload: {type: command, argv: [sh, -c, "setsid sleep 60 & exec sleep 60"]}
matrix: {i: [1, 2]}
setup: [sh, -c, "sleep 60 & echo $! > ${serverPid}"]
hooks:
  i: {before: {run: [sh, -c, "echo $$ > ${hookPid}; exec sleep {i}0"], timeout: 120s}}
recording: false
`,
  );
  const results = join(work, 'command-results');
  const engine = startEngine(['run', file, '--results', results]);
  await waitFor('the before hook', () => existsSync(hookPid) && readFileSync(hookPid, 'utf8').endsWith('\n'), engine.out);
  const pids = [serverPid, hookPid].map((f) => Number(readFileSync(f, 'utf8')));
  const inHook = await killMidPoint(engine, results, pids);
  for (const pid of pids)
    assert.ok(
      inHook.procs.some((p) => p.pid === pid),
      `${pid} was running: ${describe(inHook.procs)}`,
    );
  assert.equal(describe(inHook.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);

  writeFileSync(file, readFileSync(file, 'utf8').replace('exec sleep {i}0', 'exit 0'));
  const engine2 = startEngine(['run', file, '--results', results]);
  // The point's program runs once the child it put in a session of its own does.
  const escaped = (ps: Stat[]) => ps.filter((p) => livePids(results).includes(p.ppid) && !livePids(results).includes(p.pgrp));
  await waitFor('the point', () => escaped(runProcesses(engine2.child.pid!, results)).length > 0, engine2.out);
  await sleep(300);
  const inPoint = await killMidPoint(engine2, results);
  assert.ok(escaped(inPoint.procs).length > 0, "the program's setsid child was among them");
  assert.equal(describe(inPoint.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);
});

test('what a setup hook leaves running lives while the run does, and ends with it', async () => {
  const file = join(work, 'server.yaml');
  const pidFile = join(work, 'server.pid');
  writeFileSync(
    file,
    `name: leftovers-server
workload: {type: command, argv: [sh, -c, "kill -0 $(cat ${pidFile})"]}
matrix: {i: [1, 2]}
setup: [sh, -c, "sleep 60 & echo $! > ${pidFile}"]
recording: false
`,
  );
  const results = join(work, 'server-results');
  const r = await cli(['run', file, '--results', results]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /2 ok, 0 failed/, 'the points found the server alive');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await sleep(100);
  const s = stat(pid);
  assert.ok(s === undefined || s.state === 'Z', `the setup hook's server ${pid} ended with the run`);
  assert.deepEqual(livePids(results), []);
});

test('kill -9 of the engine while it starts its recording agents: the ones already started end too', async () => {
  const file = join(work, 'agents.yaml');
  writeFileSync(file, STREAM.replace('leftovers-stream', 'leftovers-agents'));
  const results = join(work, 'agents-results');
  const engine = startEngine(['run', file, '--results', results]);
  // The second of the three agents is starting (a process of its own group, beside the
  // watchdog), so the first is ready and no longer needs its engine: it must be registered already.
  const agents = () => runProcesses(engine.child.pid!, results).filter((p) => p.ppid === engine.child.pid && p.pgrp === p.pid && !isWatchdog(p.pid));
  let first: Stat[] = [];
  await waitFor('the second agent', () => (first = agents()).length >= 2, engine.out);
  const r = await killMidPoint(engine, results);
  assert.ok(
    first.every((a) => r.procs.some((p) => p.pid === a.pid)),
    `the agents started (${first.map((a) => a.pid).join(' ')}) were checked`,
  );
  assert.equal(describe(r.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);
});

const SPICE = `name: leftovers-spice
workload: {type: spice, resolution: 640x480, scene: typing}
matrix: {spice_codec: spice:mjpeg, i: [1, 2]}
duration: 5s
`;

test('kill -9 of the engine mid-point of a SPICE benchmark: within 2 s nothing of the run (Xorg, Xvfb, remote-viewer, relay, agents) is alive; a rerun resumes and completes', async (t) => {
  if (!existsSync('/usr/lib/xorg/Xorg') || !existsSync('/usr/bin/remote-viewer')) {
    t.skip('the SPICE stack is not installed: run scripts/setup.sh');
    return;
  }
  const file = join(work, 'spice.yaml');
  writeFileSync(file, SPICE);
  const results = join(work, 'spice-results');
  const engine = startEngine(['run', file, '--results', results]);
  // The second point's whole chain: 3 agents and its three roles recorded in .live/ (the guest role,
  // the relay, the client role), and the programs in the roles' groups: server, player, frames,
  // screen, viewer, grab (11 processes with the agents, more with the watchdog).
  await waitFor('the second point', () => committed(results).length === 1 && livePids(results).length >= 6 && runProcesses(engine.child.pid!, results).length >= 11, engine.out);
  await sleep(1000);
  const r = await killMidPoint(engine, results);
  assert.ok(r.procs.length >= 11, `the run had its agents, its SPICE chain and its watchdog: ${r.procs.length} processes`);
  assert.equal(describe(r.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);
  t.diagnostic(`all ${r.procs.length} gone ${r.ms.toFixed(0)} ms after the kill`);

  const again = await cli(['run', file, '--results', results]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /1 ok, 0 failed, 1 already recorded/);
  assert.doesNotMatch(again.out, /ended process group/);
});

const RDP = `name: leftovers-rdp
workload: {type: rdp, resolution: 640x480, scene: typing}
matrix: {rdp_codec: remotefx, i: [1, 2]}
duration: 5s
`;

/** The pids an RDP point's files in `dir` name: xrdp and its connection's child, sesman, the session's leader, Xorg and program. */
function rdpPids(dir: string): number[] {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  const logs = read('xrdp.pid') + read('xrdp-sesman.pid');
  const found = [...logs.matchAll(/^(\d+)$/gm), ...read('xrdp.log').matchAll(/(?:xrdp_pid|X11rdp_pid)=(\d+)/g), ...read('xrdp-sesman.log').matchAll(/(?:session_pid|window manager \(pid) (\d+)/g)];
  return found.map((m) => Number(m[1]));
}

test('kill -9 of the engine mid-point of an RDP benchmark: within 2 s nothing of the run (xrdp, its connection, sesman, the session Xorg, chansrv and program, Xvfb, xfreerdp, relay, agents) is alive; a rerun resumes and completes', async (t) => {
  if (!existsSync('/usr/sbin/xrdp') || !existsSync('/usr/bin/xfreerdp')) {
    t.skip('the RDP stack is not installed: run scripts/setup.sh');
    return;
  }
  const file = join(work, 'rdp.yaml');
  writeFileSync(file, RDP);
  const results = join(work, 'rdp-results');
  const engine = startEngine(['run', file, '--results', results]);
  const staging = join(results, '.staging');
  // The second point's chain, as for SPICE, and its session connected: xrdp's log names its
  // connection's child and the session's Xorg, sesman's the session's leader and program.
  const point = () => (existsSync(staging) ? readdirSync(staging).map((d) => join(staging, d)) : []).find((d) => rdpPids(d).length >= 6);
  await waitFor('the second point', () => committed(results).length === 1 && livePids(results).length >= 6 && point() !== undefined && runProcesses(engine.child.pid!, results).length >= 11, engine.out);
  await sleep(1000);
  const named = rdpPids(point()!);
  const r = await killMidPoint(engine, results, named);
  assert.ok(
    named.every((pid) => r.procs.some((p) => p.pid === pid)),
    `the pids the point's logs name (${named.join(' ')}) were checked`,
  );
  // xrdp, its connection, sesman, the session's leader, Xorg, chansrv, program; Xvfb, xfreerdp, grab; player, frames; relay; roles; agents.
  assert.ok(r.procs.length >= 15, `the run had its agents, its RDP chain and its session: ${r.procs.length} processes`);
  assert.equal(describe(r.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);
  t.diagnostic(`all ${r.procs.length} gone ${r.ms.toFixed(0)} ms after the kill`);

  const again = await cli(['run', file, '--results', results]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /1 ok, 0 failed, 1 already recorded/);
});

const VNC = `name: leftovers-vnc
workload: {type: vnc, vnc_server: x11vnc, resolution: 640x480, scene: typing}
matrix: {encoding: zrle, i: [1, 2]}
duration: 5s
`;

/** The program a process runs (its first argument's base name): only to show what the snapshot held, never to judge survivors. */
function program(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!.split('/').at(-1)!;
  } catch {
    return 'gone';
  }
}

test('kill -9 of the engine mid-point of a VNC benchmark: within 2 s nothing of the run (x11vnc and its keeper, both Xvfb, the viewer, relay, agents) is alive; a rerun resumes and completes', async (t) => {
  if (!existsSync('/usr/bin/x11vnc') || !existsSync('/usr/bin/xtigervncviewer')) {
    t.skip('the VNC stack is not installed: run scripts/setup.sh');
    return;
  }
  const file = join(work, 'vnc.yaml');
  writeFileSync(file, VNC);
  const results = join(work, 'vnc-results');
  const engine = startEngine(['run', file, '--results', results]);
  // The second point's whole chain: 3 agents and its three roles in .live/, and the roles' programs:
  // the keeper with Xvfb and x11vnc, player, frames, screen, viewer, grab (13 with the agents).
  await waitFor('the second point', () => committed(results).length === 1 && livePids(results).length >= 6 && runProcesses(engine.child.pid!, results).length >= 13, engine.out);
  await sleep(1000);
  // x11vnc can outlive its display: it must be among the processes checked, by pid.
  const before = runProcesses(engine.child.pid!, results);
  const programs = before.map((p) => program(p.pid));
  for (const p of ['x11vnc', 'Xvfb', 'xtigervncviewer']) assert.ok(programs.includes(p), `${p} was running before the kill: ${programs.join(' ')}`);
  const r = await killMidPoint(
    engine,
    results,
    before.map((p) => p.pid),
  );
  assert.equal(describe(r.left), '', `alive ${LIMIT_MS} ms after the engine was killed`);
  t.diagnostic(`all ${r.procs.length} gone ${r.ms.toFixed(0)} ms after the kill`);

  const again = await cli(['run', file, '--results', results]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /1 ok, 0 failed, 1 already recorded/);
  assert.doesNotMatch(again.out, /ended process group/);
});
