// One time base across machines, tested for real: three agents on this machine, each in a Linux
// time namespace of its own (guest 0, host +300 s, client +5000 s: its CLOCK_MONOTONIC runs that
// far ahead), start the roles of a stream point through `--executor agents`. Each role stamps its
// frames on its own clock; the engine must measure each offset (the namespaces share a boot id
// but not a time namespace, so no "same clock" shortcut may apply) and map every stamp before a
// figure is computed. Every stage p50 and latency percentile must then agree with three runs on
// unshifted agents within the stated clock uncertainty plus their own spread; without the mapping
// they are off by 300 or 5000 s.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import type { PointRecord } from '../src/store/records.ts';
import { CLOCK_FIGURES, compareToUnshifted, figuresAtTrueOffsets } from './helpers/clock-truth.ts';
import { CLI, runCliAsync } from './helpers/cli.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';
import { endStarted } from './helpers/procs.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-clocks-'));
const TOKEN = 'clocks-test-token-0123456789abcdef';
const started: ChildProcess[] = [];
/** The shift of each role's time namespace, seconds (the kernel refuses negative ones larger than the uptime). */
const SHIFT_S = { guest: 0, host: 300, client: 5000 } as const;
const ROLES = ['guest', 'host', 'client'] as const;

/** Whether this machine lets us make a time namespace (Linux >= 5.6, and the right to unshare). */
const canShift = spawnSync('unshare', ['--time', '--fork', '--monotonic', '300', 'true']).status === 0;

after(() => endStarted(started));

/** An agent on `addr`, in a time namespace of its own shifted by `shiftS` (in this one when `plain`). */
async function agent(role: string, addr: string, shiftS: number, tokenFile: string, plain: boolean): Promise<string> {
  const argv = [CLI, 'agent', '--role', role, '--listen', `${addr}:0`, '--token-file', tokenFile, '--allow-commands'];
  // --kill-child: unshare passes its end on to the agent, so nothing outlives the test.
  const child = plain ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn('unshare', ['--time', '--fork', '--kill-child', '--monotonic', String(shiftS), process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`agent ${role} exited ${c}`)));
  });
  return `http://${addr}:${(JSON.parse(line) as { port: number }).port}`;
}

const cli = (args: string[], env: Record<string, string> = {}) => runCliAsync(args, { env });

function records(results: string): PointRecord[] {
  const dir = join(results, 'points');
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .map((d) => JSON.parse(readFileSync(join(dir, d, 'point.json'), 'utf8')) as PointRecord)
    .sort((a, b) => a.rep - b.rep);
}

/** Runs 3 repetitions of a small stream point through agents at `addrs`, shifted or not. */
async function runSet(name: string, addrs: readonly string[], shifted: boolean): Promise<PointRecord[]> {
  const tokenFile = join(work, `token-${name}`);
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const urls: Record<string, string> = {};
  for (const [i, role] of ROLES.entries()) urls[role] = await agent(role, addrs[i]!, shifted ? SHIFT_S[role] : 0, tokenFile, !shifted || SHIFT_S[role] === 0);
  const file = join(work, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
workload: {type: stream, ${Object.entries(WORKLOAD)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}}
matrix: {codec: h264}
repeat: 3
duration: 2s
recording:
  agents:
${ROLES.map((r) => `    ${r}: {url: '${urls[r]}', token_env: SB_CLOCKS_TOKEN}`).join('\n')}
`,
  );
  const results = join(work, `res-${name}`);
  const r = await cli(['run', file, '--executor', 'agents', '--results', results], { SB_CLOCKS_TOKEN: TOKEN });
  assert.equal(r.code, 0, r.out);
  const recs = records(results);
  assert.equal(recs.length, 3);
  for (const p of recs) assert.equal(p.outcome.status, 'ok', JSON.stringify(p.outcome));
  return recs;
}

/** The workload block of both benchmarks, as written. */
const WORKLOAD = { resolution: '320x180', fps: 15, scene: 'drag', bitrate: '300k' };
const FIGURES = CLOCK_FIGURES;

test('roles in time namespaces 0, +300 s and +5000 s: offsets measured and applied, every cross-role figure as on one clock', { skip: canShift ? false : 'no time namespaces here (unshare --time refused)', timeout: 600_000 }, async () => {
  // Loopback addresses of their own per agent, as three machines would have.
  const plain = await runSet('plain', ['127.0.0.31', '127.0.0.32', '127.0.0.33'], false);
  const shifted = await runSet('shifted', ['127.0.0.21', '127.0.0.22', '127.0.0.23'], true);

  for (const p of plain) {
    // One boot and one time namespace: the engine takes the agents' clocks as its own, exactly.
    for (const role of ROLES) assert.deepEqual(p.timeline?.clocks?.[role], { offsetMs: 0, uncertaintyMs: 0, driftMs: 0, same: true }, `plain ${role}`);
    assert.equal(p.metrics['clock.uncertainty_ms'], 0);
  }
  for (const p of shifted) {
    const clocks = p.timeline?.clocks ?? {};
    for (const role of ROLES) {
      const c = clocks[role];
      assert.ok(c, `shifted r${p.rep}: no clock for ${role}`);
      // The same boot id, another time namespace: measured, never assumed (guest's namespace is
      // the engine's own here, so its clock is the same one).
      assert.equal(c.same, role === 'guest', `${role}: ${JSON.stringify(c)}`);
      assert.ok(Math.abs(c.offsetMs - SHIFT_S[role] * 1000) <= c.uncertaintyMs + 0.001, `${role}: offset ${c.offsetMs} ms, the namespace's shift ${SHIFT_S[role] * 1000} ms ± ${c.uncertaintyMs}`);
    }
    // The point's clock uncertainty: the largest sum over pairs of roles.
    const u = p.metrics['clock.uncertainty_ms'] as number;
    assert.ok(Math.abs(u - (clocks['host']!.uncertaintyMs + clocks['client']!.uncertaintyMs)) <= 0.002, `clock.uncertainty_ms ${u}`);
    assert.ok(u > 0, 'measured clocks have an uncertainty');
  }

  // The truth, whatever the load did: each shifted run's figures recomputed from its roles' raw
  // reports with the namespaces' true shifts must equal what the point recorded within its stated
  // clock uncertainty (plus the recorded figures' rounding to 0.001 ms).
  const truthTable: string[] = [];
  for (const p of shifted) {
    const dir = join(work, 'res-shifted', 'points', `${p.key}-r${p.rep}`);
    const truth = figuresAtTrueOffsets(dir, p, { guest: 0, host: SHIFT_S.host * 1000, client: SHIFT_S.client * 1000 }, WORKLOAD, { warmupS: 0, durationS: 2 });
    const u = p.metrics['clock.uncertainty_ms'] as number;
    for (const k of FIGURES) {
      const got = p.metrics[k] as number;
      truthTable.push(`r${p.rep} ${k}: recorded ${got}, at the true offsets ${truth[k]}, allowed ±${(u + 0.002).toFixed(3)}`);
      assert.ok(Math.abs(got - truth[k]!) <= u + 0.002, truthTable.join('\n'));
    }
  }

  // Each figure of the shifted runs against the unshifted ones (compareToUnshifted says how far).
  const cmp = compareToUnshifted(shifted, plain);
  console.log(`# ${cmp.table.replace(/\n/g, '\n# ')}`);
  assert.deepEqual(cmp.failed, [], cmp.table);

  // The run view's series sit on the point's clock too: the relay's queue series starts after the
  // point began and ends within its window's end plus the drain, not 300 s away.
  for (const p of shifted) {
    const [from, to] = p.timeline!.window;
    assert.ok(from > 0 && Math.abs(to - from - 2) < 1e-6, `window ${from}..${to}`);
  }
});
