// The rdp workload for real: xrdp 0.9.21 and xrdp-sesman of the point, a session with xorgxrdp,
// the relay, xfreerdp on Xvfb. One short point per codec with the codec read off the client's log
// on both counts (what the stream carried, what the client decoded), a latency from the scene's
// stamps; RemoteFX made unavailable by the server's own configuration (xrdp.ini max_bpp=16) fails
// the point quoting the client's log; nothing of a point outlives it, checked by the pids its
// logs name. They assert what happened, never how fast (a busy 2-core machine).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBenchmark } from '../src/config/load.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { undeclaredMetrics } from '../src/store/catalog.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { TEST_MAX_BPP_ENV } from '../src/workloads/rdp/stack.ts';
import '../src/workloads/index.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-rdp-'));
const installed = existsSync('/usr/sbin/xrdp') && existsSync('/usr/bin/xfreerdp') && existsSync('/usr/lib/xorg/modules/drivers/xrdpdev_drv.so');

/** The pids an RDP point's files name: xrdp and its connection's child, sesman, the session (its leader, Xorg, the session program). */
export function rdpPointPids(dir: string): Record<string, number> {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  const out: Record<string, number> = {};
  const put = (k: string, m: RegExpExecArray | null) => {
    if (m) out[k] = Number(m[1]);
  };
  put('xrdp', /^(\d+)/.exec(read('xrdp.pid')));
  put('sesman', /^(\d+)/.exec(read('xrdp-sesman.pid')));
  const xrdp = read('xrdp.log');
  put('xrdp connection', /xrdp_pid=(\d+) connected/.exec(xrdp));
  put('session Xorg', /X11rdp_pid=(\d+)/.exec(xrdp));
  const sesman = read('xrdp-sesman.log');
  put('session leader', /session_pid (\d+)/.exec(sesman));
  put('session program', /window manager \(pid (\d+)\)/.exec(sesman));
  put('chansrv', /xrdp channel server \(pid (\d+)\)/.exec(sesman) ?? /channel server.*pid (\d+)/.exec(sesman));
  return out;
}

/** Those still alive (zombies are dead: this container's init may never reap them). */
export function stillAlive(pids: Record<string, number>): string[] {
  return Object.entries(pids)
    .filter(([, pid]) => {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(([k, pid]) => `${k} ${pid}`);
}

async function run(name: string, yaml: string): Promise<ResultSet> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, yaml);
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, `${name}-results`), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  return set;
}

test('one real point per codec: remotefx as surface commands of codec id 3 with RemoteFX frames, bitmap as bitmap updates; latency there; nothing left', { skip: !installed && 'xrdp, xorgxrdp or xfreerdp missing: run scripts/setup.sh' }, async () => {
  const set = await run('codecs', 'name: rdp-codecs\nworkload: {type: rdp, resolution: 640x480, fps: 10, scene: typing}\nmatrix: {rdp_codec: [remotefx, bitmap]}\nwarmup: 2s\nduration: 3s\nrecording: false\n');
  const points = set.points();
  assert.equal(points.length, 2);
  for (const p of points) {
    const codec = p.params['rdp_codec'] as string;
    const m = p.metrics;
    const ctx = JSON.stringify({ codec, outcome: p.outcome, flags: p.flags, metrics: m });
    assert.equal(p.outcome.status, 'ok', ctx);
    assert.equal(m['codec.asked'], codec, ctx);
    assert.equal(m['codec.server'], codec, ctx);
    assert.equal(m['codec.client'], codec, ctx);
    assert.equal(m['codec.match'], true, ctx);
    // The figures say the same as the codec: RemoteFX frames only with RemoteFX, bitmaps only without.
    if (codec === 'remotefx') assert.equal(m['client.bitmap_updates'], 0, ctx);
    else assert.equal(m['client.rfx_frames'] === 0 && m['client.surface_commands'] === 0, true, ctx);
    // Latency from the scene's stamps against the client's screen: there, positive, ordered.
    const p50 = m['latency.p50'] as number;
    assert.ok((m['latency.frames_seen'] as number) > 0 && p50 > 0 && p50 <= (m['latency.p95'] as number), ctx);
    for (const k of ['guest.cpu_pct', 'client.cpu_pct', 'player.cpu_pct']) assert.ok((m[k] as number) > 0, `${k}: ${ctx}`);
    assert.ok((m['bytes.down'] as number) > 0, ctx);
    assert.deepEqual(undeclaredMetrics(p), [], 'metrics the rdp workload stores but does not declare');
    const dir = set.pointDir(p.key, p.rep);
    const pids = rdpPointPids(dir);
    for (const k of ['xrdp', 'sesman', 'xrdp connection', 'session Xorg', 'session leader', 'session program']) assert.ok(pids[k] !== undefined, `${k} named in the point's logs: ${JSON.stringify(pids)}`);
    assert.deepEqual(stillAlive(pids), [], `alive after the point (${dir})`);
    // The session's password went with the point; the logs never held it.
    assert.equal(existsSync(join(dir, 'rdp-password')), false);
  }
});

test('RemoteFX made unavailable by the server (xrdp.ini max_bpp=16): the remotefx point fails quoting what the client got', { skip: !installed && 'xrdp, xorgxrdp or xfreerdp missing: run scripts/setup.sh' }, async () => {
  process.env[TEST_MAX_BPP_ENV] = '16';
  const set = await run('nofx', 'name: rdp-nofx\nworkload: {type: rdp, resolution: 640x480, fps: 10, scene: typing}\nmatrix: {rdp_codec: remotefx}\nwarmup: 1s\nduration: 2s\nrecording: false\n').finally(() => delete process.env[TEST_MAX_BPP_ENV]);
  const p = set.points()[0]!;
  assert.equal(p.outcome.status, 'failed', JSON.stringify(p.outcome));
  assert.match(p.outcome.error, /codec asked remotefx \(xfreerdp \/rfx\).*the stream carried bitmap: the client's log \(client\.log\) says ".*Bitmap Update Data PDU"/);
  assert.equal(p.metrics['codec.server'], 'bitmap');
  assert.equal(p.metrics['codec.match'], false);
  assert.match(readFileSync(join(set.pointDir(p.key, p.rep), 'xrdp.ini'), 'utf8'), /^max_bpp=16$/m);
  assert.deepEqual(stillAlive(rdpPointPids(set.pointDir(p.key, p.rep))), []);
});
