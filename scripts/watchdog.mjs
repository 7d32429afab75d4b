#!/usr/bin/env node
// The engine's watchdog (started by src/base/watchdog.ts): ends what the engine started once the
// engine is gone, however it went (kill -9 included), so nothing it started outlives it.
//
// Plain JavaScript that Node runs as it is: no loader (tsx costs CPU even when idle) and no build
// step (it must work when dist/ is stale). While the engine lives it only blocks reading its
// stdin, a pipe from the engine:
//   add PID STARTTIME    a process group the engine started (STARTTIME: field 22 of /proc/PID/stat)
//   del PID              that group is gone
// End of file on stdin means the engine closed it or died: every group still registered that is
// still that group (its leader has the same start time, or is gone and left members: see ours(),
// so a reused pid is never touched) gets SIGTERM, together with its members' descendants that
// moved to groups of their own; what is left after GRACE_MS gets SIGKILL; then the watchdog exits.
//
// Usage: node scripts/watchdog.mjs [LOG]   (LOG: a file to append what it ended to)
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';

/** Time the programs get to end on SIGTERM (Xorg restores its state, roles write their reports). */
const GRACE_MS = 500;
const POLL_MS = 20;

const logPath = process.argv[2];
/** @type {Map<number, number>} pid -> start time */
const groups = new Map();

function log(line) {
  if (!logPath) return;
  try {
    appendFileSync(logPath, `${new Date().toISOString()} watchdog ${process.pid}: ${line}\n`);
  } catch (e) {
    // The log is a courtesy; ending the processes is the job, so a full disk must not stop it.
    process.stderr.write(`watchdog: cannot write ${logPath}: ${e.message}\n`);
  }
}

/**
 * @typedef {{ pid: number, state: string, ppid: number, pgrp: number, startTime: number }} Stat
 * @returns {Stat | undefined} one process's /proc/PID/stat, or undefined once it is gone
 */
function stat(pid) {
  let line;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ESRCH') return undefined;
    throw e;
  }
  // comm may hold spaces and ')': fields are counted after the last ')'; f[0] is field 3.
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return { pid, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), startTime: Number(f[19]) };
}

/** Every process now, zombies left out (dead already; this container's init may never reap them). */
function allProcesses() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = stat(Number(name));
    if (s && s.state !== 'Z') out.push(s);
  }
  return out;
}

/** Whether pid is still the process first seen (not a zombie, same start time). */
function same(p) {
  const s = stat(p.pid);
  return s !== undefined && s.state !== 'Z' && s.startTime === p.startTime;
}

function signal(target, sig) {
  try {
    process.kill(target, sig);
  } catch (e) {
    if (e.code !== 'ESRCH') log(`kill(${target}, ${sig}): ${e.message}`);
  }
}

/**
 * Whether the group registered as led by pid (started at startTime) is still that group. Its
 * leader alive or a zombie: only with the same start time. Its leader gone: the group id is still
 * held by the members the leader left (Linux gives no process an id that a live group still
 * uses), so they are that group's.
 */
function ours(pid, startTime) {
  const s = stat(pid);
  return s === undefined || s.startTime === startTime;
}

/** Ends the registered groups and their leaders' descendants: SIGTERM, then SIGKILL after the grace. */
async function endAll() {
  const mine = new Map([...groups].filter(([pid, startTime]) => ours(pid, startTime)));
  const procs = allProcesses().filter((p) => p.pid !== process.pid);
  /** @type {Map<number, Stat>} */
  const victims = new Map(procs.filter((p) => mine.has(p.pgrp) && p.startTime >= mine.get(p.pgrp)).map((p) => [p.pid, p]));
  // A leader that moved to another group is still the one registered.
  for (const p of procs) if (mine.get(p.pid) === p.startTime) victims.set(p.pid, p);
  if (victims.size === 0) return;
  // Descendants are found now, before anything dies: once a parent is gone its children move to
  // init and the link is lost. A program that put a child in a group of its own (an agent's hook,
  // a daemon's helper) is followed this way.
  const byParent = new Map();
  for (const p of procs) {
    const siblings = byParent.get(p.ppid);
    if (siblings) siblings.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const queue = [...victims.keys()];
  while (queue.length > 0) {
    for (const c of byParent.get(queue.shift()) ?? []) {
      if (victims.has(c.pid)) continue;
      victims.set(c.pid, c);
      queue.push(c.pid);
    }
  }
  const inGroups = [...new Set([...victims.values()].filter((p) => mine.has(p.pgrp)).map((p) => p.pgrp))];
  const loose = [...victims.values()].filter((p) => !mine.has(p.pgrp));
  log(`engine gone: ending process groups ${inGroups.join(' ') || '-'}${loose.length ? `, and processes ${loose.map((p) => p.pid).join(' ')}` : ''} (${victims.size} processes)`);
  for (const pgid of inGroups) signal(-pgid, 'SIGTERM');
  for (const p of loose) signal(p.pid, 'SIGTERM');
  const end = performance.now() + GRACE_MS;
  while (performance.now() < end && [...victims.values()].some(same)) await new Promise((r) => setTimeout(r, POLL_MS));
  // Groups are signalled again only while a member of them is still alive: a group id stays taken
  // while it has members, so it cannot have passed to someone else's processes meanwhile.
  const left = allProcesses().filter((p) => p.pid !== process.pid && mine.has(p.pgrp) && p.startTime >= mine.get(p.pgrp));
  for (const pgid of new Set(left.map((p) => p.pgrp))) signal(-pgid, 'SIGKILL');
  const stubborn = [...victims.values()].filter(same);
  for (const p of stubborn) signal(p.pid, 'SIGKILL');
  if (left.length > 0 || stubborn.length > 0) log(`SIGKILL after ${GRACE_MS} ms: ${[...new Set([...left, ...stubborn].map((p) => p.pid))].join(' ')}`);
}

let pending = '';
let ending = false;
function onLine(line) {
  const [verb, a, b] = line.trim().split(' ');
  const pid = Number(a);
  if (!(Number.isInteger(pid) && pid > 1)) return line.trim() === '' ? undefined : log(`ignored: ${line.slice(0, 100)}`);
  if (verb === 'add' && Number.isFinite(Number(b))) groups.set(pid, Number(b));
  else if (verb === 'del') groups.delete(pid);
  else log(`ignored: ${line.slice(0, 100)}`);
}

function finish() {
  if (ending) return;
  ending = true;
  endAll().then(
    () => process.exit(0),
    (e) => {
      log(`failed: ${e.stack ?? e}`);
      process.exit(1);
    },
  );
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    onLine(pending.slice(0, nl));
    pending = pending.slice(nl + 1);
  }
});
process.stdin.on('end', finish);
// A broken pipe is the engine gone too.
process.stdin.on('error', finish);
