// Every point checks its own conditions, for real: a point run while every core of the machine is
// kept busy is flagged saturated (from the engine's own watch when recording is off, from the
// agents' samples when it is on), a warning comes before such a run, and a pinned role runs on
// the CPUs it was given (as the kernel says).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { preRunCheck } from '../src/engine/point-checks.ts';
import type { PointRecord } from '../src/store/records.ts';
import { runCliAsync } from './helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-conditions-'));
const burners: ChildProcess[] = [];
after(() => {
  for (const b of burners) b.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** One busy loop per core: the machine at 100 % of all its cores while they run. */
async function burnAllCores(): Promise<() => void> {
  const mine = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) Math.sqrt(Math.random())'], { stdio: 'ignore' }));
  burners.push(...mine);
  await sleep(300);
  return () => mine.forEach((b) => b.kill('SIGKILL'));
}

const run = (args: string[]) => runCliAsync(args);

function records(dir: string): PointRecord[] {
  return readdirSync(join(dir, 'points'))
    .filter((d) => !d.startsWith('.'))
    .map((d) => JSON.parse(readFileSync(join(dir, 'points', d, 'point.json'), 'utf8')) as PointRecord);
}

for (const recording of [false, true]) {
  test(`a point run while every core is busy is flagged saturated (recording ${recording ? 'on: the agents' : "off: the engine's own watch"}), and the run warned before`, { timeout: 180_000 }, async () => {
    const file = join(work, `busy-${recording}.yaml`);
    writeFileSync(file, `name: busy\nworkload: {type: command, argv: [sleep, '1.5']}\nmatrix: {n: [1]}\n${recording ? '' : 'recording: false\n'}`);
    const results = join(work, `res-${recording}`);
    const stop = await burnAllCores();
    let r;
    try {
      r = await run(['run', file, '--results', results]);
    } finally {
      stop();
    }
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /warning: this machine is already busy before the run: \d+ % of \d+ cores/);
    const [p] = records(results);
    const c = p!.conditions;
    assert.ok(c, 'the point checked its conditions');
    assert.ok(c.checked.includes('saturated'), JSON.stringify(c));
    const sat = c.found.find((f) => f.code === 'saturated');
    assert.ok(sat, `not flagged saturated: ${JSON.stringify(c)}`);
    assert.equal(sat.severity, 'flag');
    assert.match(sat.reason, recording ? /from agent local's samples/ : /from engine's samples/);
    assert.equal(c.placement?.machines.length, 1);
    // The table says so under it, and the export carries it.
    assert.match(r.out, /Conditions: recorded saturated in all 1 runs/);
    const csv = await run(['results', 'export', results, '--format', 'csv']);
    assert.match(csv.out.split('\n')[0]!, /,flags,conditions,/);
    assert.match(csv.out.split('\n')[1]!, /saturated/);
  });
}

test("the pre-run check warns when every core is already busy, over the engine's 0.2 s (shorter than the watch's tick)", async () => {
  const stop = await burnAllCores();
  try {
    const w = await preRunCheck().finish();
    assert.ok(
      w.some((x) => /already busy before the run/.test(x)),
      w.join('\n'),
    );
  } finally {
    stop();
  }
});

test('a pinned role runs on the CPUs it was given: the kernel says so in its report, the point records it', { skip: cpus().length < 2 ? 'one CPU: nothing to pin apart' : false, timeout: 180_000 }, async () => {
  const file = join(work, 'pinned.yaml');
  writeFileSync(file, 'name: pinned\nworkload: {type: stream, resolution: 320x180, scene: drag, cpus: {guest: [0], client: [1]}}\nmatrix: {codec: h264}\nduration: 1s\nrecording: false\n');
  const results = join(work, 'res-pinned');
  const r = await run(['run', file, '--results', results]);
  assert.equal(r.code, 0, r.out);
  const [p] = records(results);
  assert.equal(p!.outcome.status, 'ok', JSON.stringify(p!.outcome));
  const dir = join(results, 'points', `${p!.key}-r${p!.rep}`);
  const affinity = (role: string) => (JSON.parse(readFileSync(join(dir, `${role}.json`), 'utf8')) as { affinity?: string }).affinity;
  assert.equal(affinity('guest'), '0');
  assert.equal(affinity('client'), '1');
  assert.equal(affinity('host'), `0-${cpus().length - 1}`, 'the host is not pinned');
  assert.deepEqual(p!.conditions?.placement?.cpus, { guest: [0], client: [1] });
  // A CPU the machine lacks fails the point before anything starts, naming it.
  const bad = join(work, 'badpin.yaml');
  writeFileSync(bad, `name: badpin\nworkload: {type: stream, resolution: 320x180, cpus: {guest: [${cpus().length + 3}]}}\nmatrix: {codec: h264}\nduration: 1s\nrecording: false\n`);
  const b = await run(['run', bad, '--results', join(work, 'res-badpin')]);
  assert.equal(b.code, 3, `stopped on the failed point (on_error: stop): ${b.out}`);
  assert.match(b.out, new RegExp(`workload.cpus pins guest to CPU ${cpus().length + 3}, and this machine has CPUs 0-${cpus().length - 1}`));
});
