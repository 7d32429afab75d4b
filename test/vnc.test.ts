// A real VNC stack, end to end: x11vnc on Xvfb and Xtigervnc, TigerVNC's viewer on Xvfb, the relay
// in between; each encoding family on each server with its evidence in the server's own log, and an
// encoding the server does not have failing the point in the server's words.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { killGroup } from '../src/base/process-group.ts';
import { monoMs } from '../src/base/clock.ts';
import { loadBenchmark } from '../src/config/load.ts';
import { vncSettings } from '../src/config/vnc-settings.ts';
import { runBenchmark } from '../src/engine/engine.ts';
import { TimeBase } from '../src/record/timebase.ts';
import { undeclaredMetrics } from '../src/store/catalog.ts';
import { openSetDatabase } from '../src/store/database.ts';
import { pointDirName } from '../src/store/records.ts';
import { ResultSet } from '../src/store/resultset.ts';
import { freeDisplay, freePort } from '../src/workloads/desktop/display.ts';
import { ProcessSet } from '../src/workloads/desktop/processes.ts';
import { runDesktopPoint } from '../src/workloads/desktop/session.ts';
import '../src/workloads/index.ts';
import { VNC_STACK } from '../src/workloads/vnc/stack.ts';

const work = mkdtempSync(join(tmpdir(), 'sb-vnc-'));
// 10 fps on a small screen: a frame interval (100 ms) stands above a busy machine's scheduling, and
// the player keeps up with a fraction of a core. Short windows: the test asserts what happened,
// never how fast.
const FPS = 10;
const WARMUP_S = 1;
const DURATION_S = 2;
/** x11vnc's names of the encodings in its statistics and its "Using ... encoding" line. */
const X11VNC_NAME: Record<string, string> = { tight: 'tight', zrle: 'ZRLE', hextile: 'hextile', raw: 'raw' };
/** Xtigervnc's encoder headers in its EncodeManager statistics. */
const TIGER_HEADER: Record<string, string> = { tight: 'Tight (JPEG):', zrle: 'ZRLE:', hextile: 'Hextile:' };

test('each encoding family on each server: the encoding in the server statistics, latency and CPU per role, bytes per encoding', async () => {
  const file = join(work, 'families.yaml');
  writeFileSync(
    file,
    `name: families\nworkload: {type: vnc, resolution: 640x480, fps: ${FPS}, scene: video}\nmatrix: {vnc_server: [x11vnc, tigervnc], encoding: [tight, zrle, hextile, raw]}\nexclude: [{vnc_server: tigervnc, encoding: raw}]\nwarmup: ${WARMUP_S}s\nduration: ${DURATION_S}s\nrecording: false\n`,
  );
  const b = await loadBenchmark(file);
  const set = ResultSet.openOrCreate(join(work, 'families-results'), b.name);
  await runBenchmark(b, { results: set, signal: new AbortController().signal });
  const points = set.points();
  assert.equal(points.length, 7);
  for (const p of points) {
    const server = p.params['vnc_server'] as string;
    const enc = p.params['encoding'] as string;
    const m = p.metrics;
    const ctx = `${server} ${enc}: ${JSON.stringify({ outcome: p.outcome, flags: p.flags, metrics: m })}`;
    assert.equal(p.outcome.status, 'ok', ctx);
    const log = readFileSync(join(set.dir, 'points', pointDirName(p.key, p.rep), 'server.log'), 'utf8');
    // The codec of each side from the server's log, as the log says it.
    assert.equal(m['codec.asked'], enc, ctx);
    assert.equal(m['codec.server'], enc, ctx);
    assert.equal(m['codec.match'], true, ctx);
    const bytes = m[`server.encoding.${enc === 'tight' && server === 'tigervnc' ? 'tight_jpeg' : enc}.bytes`] as number;
    assert.ok(bytes > 0, ctx);
    if (server === 'x11vnc') {
      assert.equal(m['codec.client'], enc, ctx);
      assert.ok(log.includes(`Using ${X11VNC_NAME[enc]} encoding for client`), `${ctx}: x11vnc's line of the client's choice`);
      assert.match(log, new RegExp(`^\\S+ \\S+\\s+${X11VNC_NAME[enc]}\\s+:\\s+${m[`server.encoding.${enc}.rects`]} \\|\\s+${bytes}/`, 'm'), `${ctx}: the statistics row of ${enc}`);
      // The viewer asked JPEG quality 8 (the default): x11vnc says it uses it.
      assert.equal(m['server.jpeg_quality'], 8, ctx);
    } else {
      assert.equal(m['codec.client'], 'none', `${ctx}: Xtigervnc logs nothing of the client's request`);
      assert.ok(log.includes(`EncodeManager:   ${TIGER_HEADER[enc]}`), `${ctx}: Xtigervnc's statistics of ${enc}`);
      // Tight with JPEG asked of a video: JPEG carries most of Tight's bytes.
      if (enc === 'tight') assert.ok((m['server.jpeg_share'] as number) > 0.5, ctx);
    }
    assert.ok((m['server.updates'] as number) > 0 && (m['server.bytes'] as number) >= bytes, ctx);
    // Latency from the scene's stamps against the client's screen: there, positive, ordered; per
    // frame, seen after it was shown, and no more frames seen than the player drew in the window
    // (frames.parquet, by the player's own stamps: a player catching up after a stall draws faster
    // than its rate, so the rate is no bound).
    const p50 = m['latency.p50'] as number;
    assert.ok(p50 > 0 && p50 <= (m['latency.p95'] as number), ctx);
    const db = await openSetDatabase([set]);
    try {
      const f = (
        await db.conn.runAndReadAll(`SELECT count(*) FILTER (WHERE warmup = 0) AS shown, count(seen_at) FILTER (WHERE warmup = 0) AS seen, min(latency_ms) AS lo, max(abs(latency_ms - (seen_at - shown_at))) AS off FROM frames WHERE point_key = '${p.key}'`)
      ).getRowObjectsJson()[0]!;
      const fx = `${JSON.stringify(f)} ${ctx}`;
      assert.equal(Number(f['seen']), m['latency.frames_seen'], fx);
      assert.ok(Number(f['seen']) > 0 && Number(f['seen']) <= Number(f['shown']), fx);
      assert.ok(Number(f['lo']) > 0 && Number(f['off']) < 0.01, fx);
    } finally {
      db.close();
    }
    for (const k of ['guest.cpu_pct', 'client.cpu_pct', 'player.cpu_pct']) assert.ok((m[k] as number) > 0, `${k}: ${ctx}`);
    assert.ok((m['bytes.down'] as number) > 0, ctx);
    assert.deepEqual(undeclaredMetrics(p), [], `metrics the vnc workload stores but does not declare: ${ctx}`);
  }
});

test("an encoding the server does not have (Raw asked of Xtigervnc, past validate): the point fails quoting the server's statistics", async () => {
  const dir = join(work, 'raw-on-tigervnc');
  const params = { vnc_server: 'tigervnc', encoding: 'raw', resolution: '640x480', fps: FPS, scene: 'video' };
  // validate refuses this pair (src/workloads/vnc/vnc.test.ts); the settings are made without that check.
  const s = vncSettings(params, { warmupS: WARMUP_S, durationS: DURATION_S }, undefined, false);
  const r = await runDesktopPoint(
    {
      params,
      typed: {},
      rep: 1,
      key: 'raw',
      dir,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      templateValues: {},
      signal: new AbortController().signal,
      onProcess: () => undefined,
      timeBase: (roles) => Promise.resolve(TimeBase.local(monoMs(), roles)),
    },
    VNC_STACK,
    s,
    { params },
  );
  const ctx = JSON.stringify(r);
  assert.equal(r.outcome.status, 'failed', ctx);
  const error = (r.outcome as { error?: string }).error ?? '';
  const m = /^encoding raw was asked, but Xtigervnc's statistics show (\w+) \(\d+ B of \d+ B\): "([^"]+)"/.exec(error);
  assert.ok(m, error);
  // What it quotes is the server's log, verbatim.
  const log = readFileSync(join(dir, 'server.log'), 'utf8');
  for (const part of m[2]!.split(' / ')) assert.ok(log.includes(part), `'${part}' in server.log`);
  assert.notEqual(m[1], 'raw');
  assert.equal(r.metrics['codec.server'], m[1]);
  assert.equal(r.metrics['codec.match'], false);
  assert.equal(r.metrics['server.encoding.raw.bytes'], undefined);
  console.log(`Raw asked of Xtigervnc: ${error}`);
});

test('a display taken between its choice and the server start: the server starts on another free one and says which', async () => {
  for (const server of ['x11vnc', 'tigervnc'] as const) {
    const dir = join(work, `taken-${server}`);
    mkdirSync(dir, { recursive: true });
    // What another program of the machine does in that gap: an X server on the display chosen.
    const taken = freeDisplay(new Set());
    const other = spawn('Xvfb', [`:${taken}`, '-screen', '0', '320x240x24', '-nolisten', 'tcp'], { detached: true, stdio: 'ignore' });
    const procs = new ProcessSet({ dir, onProcess: () => undefined });
    try {
      while (!existsSync(`/tmp/.X11-unix/X${taken}`)) await sleep(50);
      const s = vncSettings({ vnc_server: server, resolution: '640x480' }, { warmupS: 0, durationS: 1 });
      const started = await VNC_STACK.startServer(procs, { dir, display: taken, address: '127.0.0.1', port: await freePort(), settings: s });
      assert.ok(started.display !== undefined && started.display !== taken, `${server}: ${JSON.stringify(started.display)}`);
      assert.ok(existsSync(`/tmp/.X11-unix/X${started.display}`), server);
      assert.match(readFileSync(join(dir, 'server.log'), 'utf8'), new RegExp(`Server is already active for display ${taken}`));
    } finally {
      await procs.stopAll();
      killGroup(other.pid, 'SIGTERM');
      await new Promise((r) => other.once('exit', r));
    }
  }
});

/** The security types a VNC server offers a viewer that connects (RFB 3.8: 1 None, 2 VNC authentication). */
async function offeredSecurityTypes(port: number): Promise<number[]> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let sentVersion = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no RFB handshake on port ${port} within 20 s`));
    }, 20_000);
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!sentVersion && buf.length >= 12) {
        sentVersion = true;
        sock.write('RFB 003.008\n');
        buf = buf.subarray(12);
      }
      if (sentVersion && buf.length >= 1 && buf.length >= 1 + buf[0]!) {
        clearTimeout(timer);
        sock.destroy();
        resolve([...buf.subarray(1, 1 + buf[0]!)]);
      }
    });
  });
}

test('no door: each server asks a viewer for the point\'s password (VNC authentication only, no "None"), from a 0600 file gone after the point', async () => {
  const dir = join(work, 'auth');
  mkdirSync(dir, { recursive: true });
  for (const server of ['x11vnc', 'tigervnc'] as const) {
    const procs = new ProcessSet({ dir: join(dir, server), onProcess: () => undefined });
    mkdirSync(join(dir, server), { recursive: true });
    try {
      const s = vncSettings({ vnc_server: server, resolution: '640x480' }, { warmupS: 0, durationS: 5 });
      const port = await freePort();
      const started = await VNC_STACK.startServer(procs, { dir: join(dir, server), display: freeDisplay(new Set()), address: '127.0.0.1', port, settings: s });
      const file = started.viewer?.['passwordFile'];
      assert.ok(file !== undefined && existsSync(file), `${server}: a password file for the viewer`);
      assert.equal(statSync(file).mode & 0o777, 0o600, `${server}: the password file is the user's only`);
      assert.deepEqual(await offeredSecurityTypes(port), [2], `${server}: VNC authentication, and nothing else, offered`);
      VNC_STACK.figures(join(dir, server), s, { fromMs: 0, toMs: 1, wallFromMs: 0, wallToMs: 1, durationS: 1 });
      assert.ok(!existsSync(file), `${server}: the password file is gone once the point's figures are read`);
    } finally {
      await procs.stopAll();
    }
  }
});
