// A SPICE point across three machines, for real: three agents on this machine at addresses of
// their own, the client's in a Linux time namespace 3000 s ahead (its CLOCK_MONOTONIC, and so the
// sightings its screen reader stamps, run that far from the guest's, where the player stamps). The
// point must be ok, its screen-stamp latency within the stated clock uncertainty plus a generous
// run-to-run spread of a local run's (unmapped, it would be off by 3000 s), and nothing of it may
// survive: no X server, viewer, grabber or player left.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import type { PointRecord } from '../src/store/records.ts';
import { CLI, runCliAsync } from './helpers/cli.ts';
import { endStarted, liveWithEnv } from './helpers/procs.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-desktop-agents-'));
const TOKEN = 'desktop-agents-token-0123456789abcdef';
/** Every process of this test carries it in its environment (the agents pass theirs to what they start): how /proc tells ours from another test's. */
const MARK = `SB_DESKTOP_AGENTS_TEST=${work}`;
const SHIFT_S = { guest: 0, host: 0, client: 3000 } as const;
const ROLES = ['guest', 'host', 'client'] as const;
const started: ChildProcess[] = [];
const canShift = spawnSync('unshare', ['--time', '--fork', '--monotonic', '300', 'true']).status === 0;
const hasSpice = existsSync('/usr/lib/xorg/modules/drivers/spiceqxl_drv.so') && existsSync('/usr/bin/remote-viewer');
const env = { ...process.env, SB_DESKTOP_AGENTS_TEST: work, SB_DA_TOKEN: TOKEN };

after(() => endStarted(started));

/** An agent on `addr`, in a time namespace shifted by `shiftS` when it is not 0. */
async function agent(role: string, addr: string, shiftS: number, tokenFile: string): Promise<string> {
  const argv = [process.execPath, CLI, 'agent', '--role', role, '--listen', `${addr}:0`, '--token-file', tokenFile, '--allow-commands'];
  const full = shiftS === 0 ? argv : ['unshare', '--time', '--fork', '--kill-child', '--monotonic', String(shiftS), ...argv];
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent ${role} exited ${c}`)));
  });
  return `http://${addr}:${(JSON.parse(line) as { port: number }).port}`;
}

const POINT = 'workload: {type: spice, resolution: 640x480, fps: 10, scene: video}\nmatrix: {spice_codec: spice:mjpeg, streaming: all}\nwarmup: 6s\nduration: 3s\n';

async function runOne(name: string, extra: string[], recording = '', point = POINT): Promise<PointRecord> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\n${point}${recording}`);
  const results = join(work, `res-${name}`);
  const r = await runCliAsync(['run', file, '--results', results, ...extra], { env });
  assert.equal(r.code, 0, r.out);
  const dir = join(results, 'points');
  const p = JSON.parse(
    readFileSync(
      join(
        dir,
        readdirSync(dir).find((d) => !d.startsWith('.'))!,
        'point.json',
      ),
      'utf8',
    ),
  ) as PointRecord;
  assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));
  return p;
}

test(
  'a SPICE point through three agents, the client 3000 s ahead: latency as a local run within the clock uncertainty plus run-to-run spread, nothing left',
  { skip: !canShift ? 'no time namespaces here' : !hasSpice ? 'no SPICE stack here (scripts/setup.sh)' : false, timeout: 900_000 },
  async () => {
    const local = await runOne('local', []);
    const tokenFile = join(work, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const urls: Record<string, string> = {};
    for (const [i, role] of ROLES.entries()) urls[role] = await agent(role, `127.0.0.${41 + i}`, SHIFT_S[role], tokenFile);
    const remote = await runOne('agents', ['--executor', 'agents'], `recording:\n  agents:\n${ROLES.map((r) => `    ${r}: {url: '${urls[r]}', token_env: SB_DA_TOKEN}`).join('\n')}\n`);

    const c = remote.timeline?.clocks?.['client'];
    assert.ok(c && !c.same && Math.abs(c.offsetMs - SHIFT_S.client * 1000) <= c.uncertaintyMs + 0.001, JSON.stringify(remote.timeline?.clocks));
    const u = remote.metrics['clock.uncertainty_ms'] as number;
    assert.ok(u > 0 && local.metrics['clock.uncertainty_ms'] === 0, `uncertainty ${u}, local ${local.metrics['clock.uncertainty_ms']}`);
    const [lp50, rp50] = [local.metrics['latency.p50'] as number, remote.metrics['latency.p50'] as number];
    const [lp95, rp95] = [local.metrics['latency.p95'] as number, remote.metrics['latency.p95'] as number];
    console.log(`# latency.p50 local ${lp50} ms, agents ${rp50} ms; p95 local ${lp95}, agents ${rp95}; clock.uncertainty_ms ${u}; client offset ${c.offsetMs} ms`);
    assert.ok(rp50 > 0 && lp50 > 0 && (remote.metrics['latency.frames_seen'] as number) > 0, JSON.stringify(remote.metrics));
    // Generous: two SPICE sessions on a busy 2-core machine differ by tens of ms; a missing or
    // wrong-signed mapping differs by 3,000,000.
    const spread = Math.max(100, lp50);
    assert.ok(Math.abs(rp50 - lp50) <= u + spread, `latency.p50 agents ${rp50} vs local ${lp50}: more than ±${u} + ${spread} ms`);
    for (const k of ['guest.cpu_pct', 'client.cpu_pct']) assert.ok((remote.metrics[k] as number) > 0, `${k}: ${JSON.stringify(remote.metrics)}`);

    // Nothing of either point survives: only the agents (and unshare) carry the mark now.
    const left = liveWithEnv(MARK).filter((l) => !/ agent |^\d+ unshare/.test(l) && !l.includes(' agent'));
    assert.deepEqual(left, [], 'processes of the points still alive');
  },
);

const hasVnc = existsSync('/usr/bin/x11vnc') && existsSync('/usr/bin/xtigervncviewer');
const VNC_POINT = 'workload: {type: vnc, vnc_server: x11vnc, resolution: 640x480, fps: 10, scene: video}\nmatrix: {encoding: zrle}\nwarmup: 2s\nduration: 3s\n';

test(
  "a VNC point through three agents, the client 3000 s ahead: x11vnc on the guest agent's address, latency mapped within the clock uncertainty, its codec evidence, nothing left",
  { skip: !canShift ? 'no time namespaces here' : !hasVnc ? 'no VNC stack here (scripts/setup.sh)' : false, timeout: 900_000 },
  async () => {
    const local = await runOne('vnc-local', [], '', VNC_POINT);
    const tokenFile = join(work, 'token-vnc');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const urls: Record<string, string> = {};
    for (const [i, role] of ROLES.entries()) urls[role] = await agent(role, `127.0.0.${51 + i}`, SHIFT_S[role], tokenFile);
    const remote = await runOne('vnc-agents', ['--executor', 'agents'], `recording:\n  agents:\n${ROLES.map((r) => `    ${r}: {url: '${urls[r]}', token_env: SB_DA_TOKEN}`).join('\n')}\n`, VNC_POINT);
    const u = remote.metrics['clock.uncertainty_ms'] as number;
    const [lp50, rp50] = [local.metrics['latency.p50'] as number, remote.metrics['latency.p50'] as number];
    console.log(`# vnc latency.p50 local ${lp50} ms, agents ${rp50} ms; clock.uncertainty_ms ${u}`);
    assert.ok(rp50 > 0 && (remote.metrics['latency.frames_seen'] as number) > 0, JSON.stringify(remote.metrics));
    const spread = Math.max(100, lp50);
    assert.ok(Math.abs(rp50 - lp50) <= u + spread, `latency.p50 agents ${rp50} vs local ${lp50}: more than ±${u} + ${spread} ms`);
    // The server's evidence crossed too: the guest's log, the client's request as x11vnc read it.
    assert.deepEqual([remote.metrics['codec.server'], remote.metrics['codec.client'], remote.metrics['codec.match']], ['zrle', 'zrle', true], JSON.stringify(remote.metrics));
    for (const k of ['guest.cpu_pct', 'client.cpu_pct']) assert.ok((remote.metrics[k] as number) > 0, `${k}: ${JSON.stringify(remote.metrics)}`);
    const left = liveWithEnv(MARK).filter((l) => !/ agent |^\d+ unshare/.test(l) && !l.includes(' agent'));
    assert.deepEqual(left, [], 'processes of the points still alive');
  },
);

const hasRdp = existsSync('/usr/sbin/xrdp') && existsSync('/usr/bin/xfreerdp');
const RDP_POINT = 'workload: {type: rdp, resolution: 640x480, fps: 10, scene: video}\nmatrix: {rdp_codec: remotefx}\nwarmup: 2s\nduration: 3s\n';

test(
  "an RDP point through three agents, the client 3000 s ahead: xrdp on the guest agent's address, the session's user handed to the client role, latency mapped within the clock uncertainty, its codec evidence, nothing left",
  { skip: !canShift ? 'no time namespaces here' : !hasRdp ? 'no RDP stack here (scripts/setup.sh)' : false, timeout: 900_000 },
  async () => {
    const local = await runOne('rdp-local', [], '', RDP_POINT);
    const tokenFile = join(work, 'token-rdp');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const urls: Record<string, string> = {};
    for (const [i, role] of ROLES.entries()) urls[role] = await agent(role, `127.0.0.${61 + i}`, SHIFT_S[role], tokenFile);
    const remote = await runOne('rdp-agents', ['--executor', 'agents'], `recording:\n  agents:\n${ROLES.map((r) => `    ${r}: {url: '${urls[r]}', token_env: SB_DA_TOKEN}`).join('\n')}\n`, RDP_POINT);
    const c = remote.timeline?.clocks?.['client'];
    assert.ok(c && !c.same && Math.abs(c.offsetMs - SHIFT_S.client * 1000) <= c.uncertaintyMs + 0.001, JSON.stringify(remote.timeline?.clocks));
    const u = remote.metrics['clock.uncertainty_ms'] as number;
    const [lp50, rp50] = [local.metrics['latency.p50'] as number, remote.metrics['latency.p50'] as number];
    console.log(`# rdp latency.p50 local ${lp50} ms, agents ${rp50} ms; clock.uncertainty_ms ${u}`);
    assert.ok(rp50 > 0 && (remote.metrics['latency.frames_seen'] as number) > 0, JSON.stringify(remote.metrics));
    const spread = Math.max(100, lp50);
    assert.ok(Math.abs(rp50 - lp50) <= u + spread, `latency.p50 agents ${rp50} vs local ${lp50}: more than ±${u} + ${spread} ms`);
    // The codec, read off the client's log on the client's side.
    assert.deepEqual([remote.metrics['codec.server'], remote.metrics['codec.match']], ['remotefx', true], JSON.stringify(remote.metrics));
    for (const k of ['guest.cpu_pct', 'client.cpu_pct']) assert.ok((remote.metrics[k] as number) > 0, `${k}: ${JSON.stringify(remote.metrics)}`);
    const left = liveWithEnv(MARK).filter((l) => !/ agent |^\d+ unshare/.test(l) && !l.includes(' agent'));
    assert.deepEqual(left, [], 'processes of the points still alive');
  },
);
