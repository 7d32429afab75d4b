/** The `command` workload: runs any program per point and measures its whole process tree. */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { monoMs } from '../../base/clock.ts';
import { renderTemplate } from '../../config/template.ts';
import type { CommandWorkload } from './declare.ts';
import type { MetricValue } from '../../store/records.ts';
import { describeRule, extractWithReport } from './extract.ts';
import { processStartTime, reapedChildrenCpu, TreeSampler } from '../proctree.ts';
import type { PointContext, PointResult, Workload } from '../workload.ts';
import { killGroup } from '../../base/process-group.ts';

/** Output beyond this many bytes (from the end) is not searched for metrics. */
const EXTRACT_TAIL_BYTES = 16 * 1024 * 1024;
/** Time a stopped program gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

function readTail(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, EXTRACT_TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function lastLine(text: string): string {
  const lines = text.split(/[\r\n]+/).filter((l) => l.trim() !== '');
  return (lines.at(-1) ?? '').slice(0, 300);
}

export class CommandRunner implements Workload {
  constructor(private readonly w: CommandWorkload) {}

  async run(ctx: PointContext): Promise<PointResult> {
    const argv = this.w.argv.map((a) => renderTemplate(a, ctx.templateValues));
    const env = { ...process.env, ...Object.fromEntries(Object.entries(this.w.env).map(([k, v]) => [k, renderTemplate(v, ctx.templateValues)])) };
    const outPath = join(ctx.dir, 'stdout.log');
    const errPath = join(ctx.dir, 'stderr.log');
    const out = openSync(outPath, 'w');
    const err = openSync(errPath, 'w');
    const flags: string[] = [];
    let stopReason: 'duration' | 'timeout' | 'abort' | undefined;

    const cpuBefore = reapedChildrenCpu();
    const t0 = performance.now();
    const mono0 = monoMs();
    // detached: the program leads its own process group, so stopping it stops its children too.
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, err], env, ...(this.w.cwd ? { cwd: renderTemplate(this.w.cwd, ctx.templateValues) } : {}) });
    closeSync(out);
    closeSync(err);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });

    const pid = child.pid;
    const timers: NodeJS.Timeout[] = [];
    let sampler: TreeSampler | undefined;
    const stop = (why: 'duration' | 'timeout' | 'abort') => {
      if (stopReason || pid === undefined) return;
      stopReason = why;
      killGroup(pid, why === 'timeout' ? 'SIGKILL' : 'SIGTERM');
      timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS));
    };
    const onAbort = () => stop('abort');
    if (pid !== undefined) {
      const startTime = processStartTime(pid);
      if (startTime !== undefined) ctx.onProcess({ pid, startTime }, false);
      ctx.watch?.('local', { label: 'command', pid, tree: true });
      sampler = new TreeSampler(pid, this.w.sampleIntervalS * 1000);
      sampler.start();
      if (ctx.durationS !== undefined) timers.push(setTimeout(() => stop('duration'), (ctx.warmupS + ctx.durationS) * 1000));
      if (this.w.timeoutS) timers.push(setTimeout(() => stop('timeout'), this.w.timeoutS * 1000));
      if (ctx.signal.aborted) stop('abort');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    }

    const res = await exited;
    const wallS = (performance.now() - t0) / 1000;
    const window = { fromMs: mono0 + ctx.warmupS * 1000, toMs: monoMs() };
    const cpuAfter = reapedChildrenCpu();
    ctx.signal.removeEventListener('abort', onAbort);
    timers.forEach(clearTimeout);
    const samples = sampler?.stop() ?? [];
    if (pid !== undefined) {
      // Whatever the program left running in its group goes with it: nothing outlives a point.
      killGroup(pid, 'SIGKILL');
      ctx.onProcess({ pid, startTime: 0 }, true);
    }

    if (res.error) {
      const code = (res.error as NodeJS.ErrnoException).code;
      const msg = code === 'ENOENT' ? `cannot start '${argv[0]}': no such program (check PATH or the workload's argv)` : `cannot start '${argv[0]}': ${res.error.message}`;
      return { outcome: { status: 'failed', error: msg }, metrics: {}, wallS, flags };
    }

    const user = Math.max(0, cpuAfter.user - cpuBefore.user);
    const system = Math.max(0, cpuAfter.system - cpuBefore.system);
    const metrics: Record<string, MetricValue> = {
      exit_code: res.code ?? -1,
      wall_time_s: round(wallS, 6),
      cpu_user_s: round(user, 3),
      cpu_system_s: round(system, 3),
      cpu_pct: round(wallS > 0 ? ((user + system) / wallS) * 100 : 0, 2),
      peak_rss_mb: round(Math.max(sampler?.peakRssBytes ?? 0, sampler?.peakHwmBytes ?? 0) / 1048576, 3),
    };
    if (samples.length < 10) flags.push(`peak_rss_mb is a lower bound: ${samples.length} sample(s) in a ${Math.round(wallS * 1000)} ms run`);
    const recorded = samples.filter((s) => s.t - t0 / 1000 >= ctx.warmupS);
    if (ctx.warmupS > 0 && recorded.length >= 2) {
      // After a warm-up, the CPU share of the recorded window only, from the sampled tree.
      const a = recorded[0]!;
      const b = recorded.at(-1)!;
      if (b.t > a.t) metrics['cpu_pct'] = round(((b.cpuUser + b.cpuSystem - a.cpuUser - a.cpuSystem) / (b.t - a.t)) * 100, 2);
    }
    let stdout = '';
    let stderr = '';
    if (this.w.metrics.length > 0) {
      stdout = readTail(outPath);
      stderr = readTail(errPath);
      const got = extractWithReport(this.w.metrics, { stdout, stderr });
      Object.assign(metrics, got.metrics);
      for (const i of got.unmatched) {
        const rule = this.w.metrics[i]!;
        const where = statSync(rule.from === 'stdout' ? outPath : errPath).size > EXTRACT_TAIL_BYTES ? `the last ${EXTRACT_TAIL_BYTES / 1048576} MB of ${rule.from}` : rule.from;
        flags.push(`workload.metrics[${i}] (${describeRule(rule)}) matched nothing in ${where}: no metric from it`);
      }
    }
    const series = {
      t: recorded.map((s) => s.t - t0 / 1000),
      nprocs: recorded.map((s) => s.nprocs),
      rss_mb: recorded.map((s) => s.rssBytes / 1048576),
      cpu_user_s: recorded.map((s) => s.cpuUser),
      cpu_system_s: recorded.map((s) => s.cpuSystem),
    };

    if (stopReason === 'abort') return { outcome: { status: 'interrupted', reason: 'interrupted by the user' }, metrics, wallS, flags, series };
    if (stopReason === 'timeout') return { outcome: { status: 'failed', error: `timed out after ${this.w.timeoutS}s` }, metrics, wallS, flags, series };
    if (stopReason === 'duration') {
      flags.push('stopped at the end of its duration');
      return { outcome: { status: 'ok' }, metrics, wallS, flags, series, window };
    }
    if (res.code !== null && this.w.successExitCodes.includes(res.code)) return { outcome: { status: 'ok' }, metrics, wallS, flags, series, window };
    const why = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`;
    const tail = lastLine(stderr || readTail(errPath));
    return { outcome: { status: 'failed', error: `'${argv[0]}' ${why}${tail ? `: ${tail}` : ''}` }, metrics, wallS, flags, series };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
