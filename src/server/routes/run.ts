/**
 * The run view and the frame view: what one run (point and repetition) recorded, read from its
 * own Parquet files. Series come decimated to the client's width (min/max per pixel column,
 * src/server/decimate.ts); frames likewise, keeping the worst and the marked frame of each
 * column. The run is named by set, key and rep, each checked against the sets' records before
 * any file is named; series names are checked against what the run's files hold.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { findMetric, typeValue } from '../../config/declare.ts';
import { declaredFrameStages, declaredMetrics, paramDecl, workloadDecl } from '../../config/registry.ts';
import { quoteIdent, quoteString } from '../../store/database.ts';
import { DuckFileError } from '../../store/duck.ts';
import type { PointRecord } from '../../store/records.ts';
import type { FrameStage, FramesResponse, RunFileProblem, RunGap, RunInfoResponse, RunMarksResponse, RunSeriesInfo, RunSeriesResponse, RunTimeline } from '../api-types.ts';
import { decimateMinMax, worstPerColumn } from '../decimate.ts';
import { ApiFailure, listParam, type Route, type RouteContext } from '../route.ts';
import { checkControls, checkFreezes, CONTROLS_FILE, FREEZES_FILE, readPointJson } from '../run-marks.ts';
import type { LoadedSets } from '../sets.ts';

/** The widest plot a client may ask for, in pixels (a 4K screen is 3840). */
const MAX_WIDTH = 8000;

/** The most series one /api/run/series request may ask for. */
const MAX_SERIES = 200;

/** What each file of a run holds, in words: what is left out when it cannot be read. */
const HOLDS: Record<string, string> = {
  'samples.parquet': "the agents' samples (CPU, memory, network, processes, GPU, custom probes)",
  'timeseries.parquet': "the workload's own series",
  'frames.parquet': 'the frames (their latency, stages, sizes and quality)',
  'events.parquet': "the frame events that place an older record's frames on the run's clock (the frames stay on the stream's clock)",
};

/**
 * The reads of one request about one run: each on the server's database for runs' files (bounded
 * in time, src/server/sets.ts), the files named; a part whose file cannot be read is left out and
 * its problem noted (one line naming the file), the other parts answered.
 */
class RunReads {
  readonly problems: RunFileProblem[] = [];

  constructor(
    private readonly sets: LoadedSets,
    readonly dir: string,
  ) {}

  /** The path of a file of the run, quoted for SQL. */
  file(name: string): string {
    return quoteString(join(this.dir, name));
  }

  /** Runs sql reading the named files of the run; rows as arrays. */
  async rows(sql: string, files: readonly string[]): Promise<unknown[][]> {
    return (
      await this.sets.readFiles(
        sql,
        files.map((f) => join(this.dir, f)),
      )
    ).getRows();
  }

  /** The same, the result as one array per column (a long table converts faster so). */
  async columns(sql: string, files: readonly string[]): Promise<unknown[][]> {
    return (
      await this.sets.readFiles(
        sql,
        files.map((f) => join(this.dir, f)),
      )
    ).getColumns();
  }

  /** Notes a file that could not be read (once per file). */
  note(e: DuckFileError): void {
    const name = e.file === '' ? '' : e.file.slice(this.dir.length + 1);
    if (this.problems.some((p) => p.file === name)) return;
    this.problems.push({ file: name, problem: e.problem, error: e.message, affects: HOLDS[name] ?? name });
  }

  /** Runs a part of the answer; when a file of the run cannot be read, notes it and gives `fallback`. */
  async part<T>(fallback: T, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof DuckFileError)) throw e;
      this.note(e);
      return fallback;
    }
  }
}

/** A file problem that fails a whole request (the frame view has nothing else to show): its line, 503 when it took too long. */
function failure(e: DuckFileError): ApiFailure {
  return new ApiFailure(e.problem === 'timeout' ? 503 : 500, e.message);
}

const num = (v: unknown): number => (v === null || v === undefined ? NaN : typeof v === 'bigint' ? Number(v) : Number(v));

/** The run a request names (`set`, `key`, `rep`), or a 400/404 saying what is wrong. */
export async function findRun(ctx: RouteContext, prefix = ''): Promise<{ record: PointRecord; set: string; dir: string; setDir: string }> {
  const set = ctx.query.get(`${prefix}set`);
  const key = ctx.query.get(`${prefix}key`);
  const repText = ctx.query.get(`${prefix}rep`);
  if (!set || !key || !repText) throw new ApiFailure(400, `name the run: ${prefix}set, ${prefix}key and ${prefix}rep`);
  const rep = Number(repText);
  if (!Number.isInteger(rep) || rep < 1) throw new ApiFailure(400, `${prefix}rep '${repText.slice(0, 40)}' is not a repetition number (1, 2, ...)`);
  const rs = ctx.sets.sets.find((s) => s.name === set);
  if (!rs) throw new ApiFailure(404, `no open result set '${set.slice(0, 80)}' (open: ${ctx.sets.sets.map((s) => s.name).join(', ')})`);
  const loaded = await ctx.sets.get();
  const hit = loaded.records.find((r) => r.set === set && r.record.key === key && r.record.rep === rep);
  if (!hit) throw new ApiFailure(404, `set '${set}' has no run ${key.slice(0, 40)} r${rep}`);
  return { record: hit.record, set, dir: rs.pointDir(key, rep), setDir: rs.dir };
}

/** A whole number query parameter within [lo, hi], or the default. */
function intParam(ctx: RouteContext, name: string, lo: number, hi: number, dflt: number): number {
  const s = ctx.query.get(name);
  if (s === null || s === '') return dflt;
  const v = Number(s);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ApiFailure(400, `${name} '${s.slice(0, 40)}' is not a whole number from ${lo} to ${hi}`);
  return v;
}

/** An optional number query parameter. */
function numParam(ctx: RouteContext, name: string): number | undefined {
  const s = ctx.query.get(name);
  if (s === null || s === '') return undefined;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new ApiFailure(400, `${name} '${s.slice(0, 40)}' is not a number`);
  return v;
}

/** `recording gap: host: no data from 12.3 s to 15.0 s (...)` flags as intervals; other gaps have no times. */
export function parseGaps(flags: readonly string[]): RunGap[] {
  const out: RunGap[] = [];
  for (const f of flags) {
    if (!f.startsWith('recording gap: ')) continue;
    const m = /^recording gap: ([^:]+): no data from ([\d.]+) s to ([\d.]+) s/.exec(f);
    out.push(m ? { role: m[1]!, from: Number(m[2]), to: Number(m[3]), text: f } : { role: f.slice(15, f.indexOf(':', 15)), from: null, to: null, text: f });
  }
  return out;
}

/**
 * Where the workload's own series (timeseries.parquet) sits on the point's clock: the run time of
 * its t = 0. A record with a timeline wrote it on the point's clock (0). Before that, the stream
 * workload wrote its relay queue's t as seconds since the guest started streaming, the instant its
 * frames' times count from too (both `t - guest.startMs` in src/workloads/stream/run.ts up to commit
 * dce76e9), so the frames' offset from the capture events places it as well; null when the run
 * has no capture events. A workload's declaration says so (`untimedSeriesClock: 'frames'`);
 * other workloads' series were always on the point's clock.
 */
async function seriesOffsetS(record: PointRecord, rr: RunReads): Promise<number | null> {
  if (record.timeline || workloadDecl(record.workload)?.untimedSeriesClock !== 'frames') return 0;
  return frameOffsetS(record, rr);
}

/**
 * The run's series: each role's sample names, the workload's own series (timeseries.parquet)
 * placed on the point's clock, and the frames' latency. A file that cannot be read leaves its
 * series out (its problem noted in rr), the others are listed.
 */
async function seriesOf(record: PointRecord, rr: RunReads): Promise<RunSeriesInfo[]> {
  const decls = declaredMetrics(record.workload);
  const unit = (name: string) => findMetric(decls, name, 'series')?.unit ?? null;
  const out: RunSeriesInfo[] = [];
  if (record.files.includes('samples.parquet')) {
    const r = await rr.part([], () => rr.rows(`SELECT role, probe, name, count(*), min(t), max(t) FROM read_parquet(${rr.file('samples.parquet')}) GROUP BY ALL ORDER BY role, probe, name`, ['samples.parquet']));
    for (const [role, probe, name, n, from, to] of r) {
      out.push({ id: `samples:${String(role)}:${String(name)}`, source: 'samples', role: String(role), probe: String(probe), name: String(name), n: num(n), from: num(from), to: num(to), unit: unit(String(name)) });
    }
  }
  if (record.files.includes('timeseries.parquet')) {
    const got = await rr.part(undefined, async () => {
      const files = ['timeseries.parquet'];
      const cols = await rr.rows(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${rr.file('timeseries.parquet')}))`, files);
      const range = await rr.rows(`SELECT count(*), min(t), max(t) FROM read_parquet(${rr.file('timeseries.parquet')})`, files);
      return { cols, range };
    });
    const off = got ? await seriesOffsetS(record, rr) : 0;
    for (const [c] of got?.cols ?? []) {
      const name = String(c);
      if (name === 't') continue;
      const d = findMetric(decls, name, 'series');
      out.push({
        id: `timeseries:${d?.role ?? 'workload'}:${name}`,
        source: 'timeseries',
        role: d?.role ?? 'workload',
        probe: 'workload',
        name,
        n: num(got!.range[0]![0]),
        from: num(got!.range[0]![1]) + (off ?? 0),
        to: num(got!.range[0]![2]) + (off ?? 0),
        unit: d?.unit ?? null,
        ...(off === null ? { clock: 'stream' as const } : {}),
      });
    }
  }
  if (record.files.includes('frames.parquet')) {
    const got = await rr.part(undefined, async () => {
      const { names } = await frameColumns(rr);
      if (!names.has('capture_start') || !names.has('latency_ms')) return undefined;
      return rr.rows(`SELECT count(*), min(capture_start) / 1000, max(capture_start) / 1000 FROM read_parquet(${rr.file('frames.parquet')})`, ['frames.parquet']);
    });
    if (got) {
      const off = await frameOffsetS(record, rr);
      const [n, from, to] = got[0]!;
      if (num(n) > 0) {
        out.push({ id: FRAMES_SERIES, source: 'frames', role: 'client', probe: 'frames', name: 'latency_ms', n: num(n), from: num(from) + (off ?? 0), to: num(to) + (off ?? 0), unit: 'ms', ...(off === null ? { clock: 'stream' as const } : {}) });
      }
    }
  }
  return out;
}

/** The frames' latency as a run series: each frame's capture start against its end-to-end latency. */
const FRAMES_SERIES = 'frames:client:latency_ms';

/** The file a series id is read from. */
function fileOfSeries(id: string): string | undefined {
  const source = id.slice(0, id.indexOf(':'));
  return source === 'samples' || source === 'timeseries' || source === 'frames' ? `${source}.parquet` : undefined;
}

/**
 * Where the frames' clock sits on the run's clock (s since the point began): 0 for a record with a
 * timeline (its frames are in ms since the point began); for an older one (ms since the stream
 * started) the capture events the guest sent its agent carry both clocks. Null without them, or
 * when events.parquet cannot be read (noted in rr).
 */
async function frameOffsetS(record: PointRecord, rr: RunReads): Promise<number | null> {
  // A record with a timeline wrote its frames on the point's clock: nothing to place.
  if (record.timeline) return 0;
  // A join of two files as long as the run: once per recorded file, not per request.
  const memo = `${rr.dir}\u0000${record.endedAt}`;
  if (offsets.has(memo)) return offsets.get(memo)!;
  let v: number | null;
  try {
    v = await computeFrameOffsetS(record, rr);
  } catch (e) {
    if (!(e instanceof DuckFileError)) throw e;
    // Not kept: the file may be put right (or read in time) at the next request.
    rr.note(e);
    return null;
  }
  offsets.set(memo, v);
  while (offsets.size > 64) offsets.delete(offsets.keys().next().value!);
  return v;
}

const offsets = new Map<string, number | null>();

async function computeFrameOffsetS(record: PointRecord, rr: RunReads): Promise<number | null> {
  if (!record.files.includes('events.parquet') || !record.files.includes('frames.parquet')) return null;
  const r = await rr.rows(`SELECT median(e.t - f.capture_start / 1000) FROM read_parquet(${rr.file('events.parquet')}) e JOIN read_parquet(${rr.file('frames.parquet')}) f ON e.frame = f.frame WHERE e.stage = 'capture_start'`, ['events.parquet', 'frames.parquet']);
  const v = num(r[0]?.[0]);
  return Number.isFinite(v) ? v : null;
}

/** The frame columns present, and the stages they allow. */
async function frameColumns(rr: RunReads): Promise<{ names: Set<string>; stages: FrameStage[] }> {
  const cols = await rr.rows(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${rr.file('frames.parquet')}))`, ['frames.parquet']);
  const names = new Set(cols.map((c) => String(c[0])));
  return {
    names,
    stages: declaredFrameStages()
      .filter((s) => names.has(s.from) && names.has(s.to))
      .map(({ name, from, to }) => ({ name, from, to })),
  };
}

/**
 * The `late_ms` the run was recorded with: the point's parameter, else the workload block of the
 * benchmark file the set keeps (benchmarks/<sha>.yaml), else the stream workload's default.
 */
function lateMs(record: PointRecord, setDir: string): number {
  const v = record.typed?.['late_ms'] ?? record.params['late_ms'] ?? benchmarkLateMs(setDir, record.benchmark.sha256, record.workload);
  return typeof v === 'number' && Number.isFinite(v) ? v : 150;
}

const benchLate = new Map<string, number | undefined>();

/** `workload.late_ms` of a frozen benchmark file, in ms; undefined when it sets none or cannot be read (a module is not run). */
function benchmarkLateMs(setDir: string, sha256: string, workload: string): number | undefined {
  const dir = join(setDir, 'benchmarks');
  const memo = `${dir}\u0000${sha256}`;
  if (benchLate.has(memo)) return benchLate.get(memo);
  let v: number | undefined;
  try {
    const file = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(`${sha256.slice(0, 12)}.`) && /\.ya?ml$/.test(f)) : undefined;
    const w = file ? (parseYaml(readFileSync(join(dir, file), 'utf8')) as { workload?: Record<string, unknown> } | null)?.workload : undefined;
    const raw = w?.['late_ms'];
    const decl = paramDecl(workload, 'late_ms');
    if (decl && raw !== undefined && (typeof raw === 'number' || typeof raw === 'string')) {
      const t = typeValue(decl, raw);
      if (typeof t === 'number') v = t;
    }
  } catch {
    v = undefined;
  }
  benchLate.set(memo, v);
  return v;
}

/** The warm-up and recorded window from point.json; null for records without them. */
function timelineOf(record: PointRecord): RunTimeline | null {
  const tl = record.timeline;
  if (!tl) return null;
  return { warmup: tl.warmup && tl.warmup[1] > tl.warmup[0] ? [tl.warmup[0], tl.warmup[1]] : null, window: [tl.window[0], tl.window[1]] };
}

async function runInfo(ctx: RouteContext): Promise<RunInfoResponse> {
  const { record, set, dir, setDir } = await findRun(ctx);
  const rr = new RunReads(ctx.sets, dir);
  const series = await seriesOf(record, rr);
  const hasFrames = record.files.includes('frames.parquet');
  let frames: RunInfoResponse['frames'] = null;
  if (hasFrames) {
    const got = await rr.part(undefined, async () => {
      const { stages, names } = await frameColumns(rr);
      const n = await rr.rows(`SELECT count(*) FROM read_parquet(${rr.file('frames.parquet')})`, ['frames.parquet']);
      return { count: num(n[0]![0]), stages, quality: names.has('psnr') };
    });
    if (got) frames = { ...got, offsetS: await frameOffsetS(record, rr), lateMs: lateMs(record, setDir) };
  }
  const loaded = await ctx.sets.get();
  const others = loaded.records
    .filter((r) => r.set === set)
    .map((r) => ({
      key: r.record.key,
      rep: r.record.rep,
      status: r.record.outcome.status,
      label: Object.entries(r.record.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    }));
  return {
    set,
    key: record.key,
    rep: record.rep,
    workload: record.workload,
    params: record.params,
    outcome: record.outcome,
    flags: record.flags,
    gaps: parseGaps(record.flags),
    sharedMachine: record.conditions ? record.conditions.found.filter((c) => c.code === 'roles_share_machine').map((c) => c.reason) : null,
    startedAt: record.startedAt,
    wallS: record.wallS,
    timeline: timelineOf(record),
    series,
    frames,
    runs: others,
    problems: rr.problems,
  };
}

async function runSeries(ctx: RouteContext): Promise<RunSeriesResponse> {
  const width = intParam(ctx, 'width', 10, MAX_WIDTH, 1000);
  const from = numParam(ctx, 'from');
  const to = numParam(ctx, 'to');
  if (from !== undefined && to !== undefined && to <= from) throw new ApiFailure(400, `to (${to}) must be after from (${from})`);
  // Refused before any file is read: more than MAX_SERIES, or an id twice (the same series read and sent again).
  const asked = listParam(ctx.query, 'ids', MAX_SERIES) ?? [];
  if (asked.length === 0) throw new ApiFailure(400, 'ids: name the series (ids=samples:client:cpu.busy_pct,...; /api/run lists them)');
  const { record, dir } = await findRun(ctx);
  const rr = new RunReads(ctx.sets, dir);
  const known = new Map((await seriesOf(record, rr)).map((s) => [s.id, s]));
  // An id of a file that could not be read is left out with the file's problem; any other unknown id is refused.
  const unreadable = new Set(rr.problems.map((p) => p.file));
  const bad = asked.find((id) => !known.has(id) && !unreadable.has(fileOfSeries(id) ?? ''));
  if (bad !== undefined) throw new ApiFailure(404, `run ${record.key} r${record.rep} has no series '${bad.slice(0, 120)}'`);
  const out: RunSeriesResponse['series'] = [];
  const wanted = asked.flatMap((id) => (known.has(id) ? [known.get(id)!] : []));
  // Samples: one read for all asked names (names and roles are the file's own, quoted).
  const fromSamples = wanted.filter((s) => s.source === 'samples');
  // A watched process's count is read beside its other series: where it is 0 they are nulled (endedProcess).
  const counts = [...new Set(fromSamples.flatMap((s) => (processCount(s.name) ? [`samples:${s.role}:${processCount(s.name)}`] : [])))].filter((id) => known.has(id) && !fromSamples.some((s) => s.id === id));
  const read = [...fromSamples, ...counts.map((id) => known.get(id)!)];
  const got = new Map<string, { t: number[]; v: number[] }>();
  if (read.length > 0) {
    const cond = read.map((s) => `(role = ${quoteString(s.role)} AND name = ${quoteString(s.name)})`).join(' OR ');
    const r = await rr.part(undefined, () => rr.rows(`SELECT role, name, t, value FROM read_parquet(${rr.file('samples.parquet')}) WHERE ${cond} ORDER BY role, name, t`, ['samples.parquet']));
    for (const [role, name, t, v] of r ?? []) {
      const id = `samples:${String(role)}:${String(name)}`;
      let s = got.get(id);
      if (!s) got.set(id, (s = { t: [], v: [] }));
      s.t.push(num(t));
      s.v.push(num(v));
    }
    for (const x of fromSamples) {
      const c = processCount(x.name);
      const g = got.get(x.id);
      const n = c ? got.get(`samples:${x.role}:${c}`) : undefined;
      if (g && n) endedProcess(g, n);
    }
  }
  const fromTimeseries = wanted.filter((x) => x.source === 'timeseries');
  const tsOffset = fromTimeseries.length > 0 ? ((await seriesOffsetS(record, rr)) ?? 0) : 0;
  for (const s of fromTimeseries) {
    const r = await rr.part(undefined, () => rr.rows(`SELECT t, CAST(${quoteIdent(s.name)} AS DOUBLE) FROM read_parquet(${rr.file('timeseries.parquet')}) ORDER BY t`, ['timeseries.parquet']));
    if (r) got.set(s.id, { t: r.map((x) => num(x[0]) + tsOffset), v: r.map((x) => num(x[1])) });
  }
  if (wanted.some((x) => x.source === 'frames')) {
    const off = (await frameOffsetS(record, rr)) ?? 0;
    const r = await rr.part(undefined, () => rr.rows(`SELECT capture_start / 1000, CAST(latency_ms AS DOUBLE) FROM read_parquet(${rr.file('frames.parquet')}) ORDER BY capture_start, frame`, ['frames.parquet']));
    if (r) got.set(FRAMES_SERIES, { t: r.map((x) => num(x[0]) + off), v: r.map((x) => num(x[1])) });
  }
  const failed = new Set(rr.problems.map((p) => p.file));
  for (const s of wanted) {
    // A series whose file failed while it was read is left out, as one whose file failed before.
    if (!got.has(s.id) && failed.has(fileOfSeries(s.id) ?? '')) continue;
    const g = got.get(s.id) ?? { t: [], v: [] };
    // A silence three times the series' usual step is a gap (the agent did not sample), not a line.
    const step = g.t.length > 1 ? (g.t[g.t.length - 1]! - g.t[0]!) / (g.t.length - 1) : Infinity;
    const d = decimateMinMax(g.t, g.v, width, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), gapAfter: Math.max(3 * step, 0.5) });
    out.push({ id: s.id, n: d.n, reduced: d.reduced, columns: { t: d.t, v: d.v.map((x) => (Number.isNaN(x) ? null : x)) } });
  }
  return { series: out, width, problems: rr.problems };
}

/**
 * The name of the process count (`proc.<label>.procs`) beside a watched process's series
 * (`proc.<label>.cpu_pct`, `.rss_mb`, ...); undefined for the count itself and for other series.
 */
export function processCount(name: string): string | undefined {
  const m = /^(proc\.[^.]+)\.([^.]+)$/.exec(name);
  return m && m[2] !== 'procs' ? `${m[1]!}.procs` : undefined;
}

/**
 * Nulls (NaN) a watched process's values where no process of it was alive (its count is 0 at the
 * same sample): the agent keeps writing 0 % and 0 MiB after the process ended (src/record/probes/proc.ts),
 * and a line drawn flat at zero to the end would read as a process that idled there.
 */
export function endedProcess(series: { t: number[]; v: number[] }, count: { t: number[]; v: number[] }): void {
  const alive = new Map<number, number>();
  count.t.forEach((t, i) => alive.set(t, count.v[i]!));
  series.t.forEach((t, i) => {
    if (alive.get(t) === 0) series.v[i] = NaN;
  });
}

/** Frames cached per file: zooming asks again for the same file many times. */
const frameCache = new Map<string, FrameTable>();

interface FrameTable {
  frame: number[];
  /** Capture time on the run's clock (s), or the stream's when no offset is known. */
  t: number[];
  cols: Record<string, number[]>;
}

async function loadFrames(record: PointRecord, rr: RunReads, names: Set<string>, stages: FrameStage[], offsetS: number | null): Promise<FrameTable> {
  const path = join(rr.dir, 'frames.parquet');
  // A run recorded again (--force) is another file under the same path.
  const cacheKey = `${path}\u0000${record.endedAt}`;
  const hit = frameCache.get(cacheKey);
  if (hit) return hit;
  const plain = ['bytes', 'key', 'latency_ms', 'psnr', 'ssim', 'lost', 'dropped', 'shown', 'warmup', 'late'].filter((c) => names.has(c));
  const exprs = ['frame', `capture_start / 1000 + ${offsetS ?? 0}`, ...plain.map((c) => quoteIdent(c)), ...stages.map((s) => `${quoteIdent(s.to)} - ${quoteIdent(s.from)}`)];
  // DOUBLE columns come as numbers (NULL as null): a plain map, no per-row arrays.
  const r = await rr.columns(`SELECT ${exprs.map((e) => `CAST(${e} AS DOUBLE)`).join(', ')} FROM read_parquet(${quoteString(path)}) ORDER BY capture_start, frame`, ['frames.parquet']);
  const col = (i: number) => (r[i] ?? []).map((v) => (v === null ? NaN : (v as number)));
  const cols: Record<string, number[]> = {};
  plain.forEach((c, i) => (cols[c] = col(2 + i)));
  stages.forEach((s, i) => (cols[`stage.${s.name}`] = col(2 + plain.length + i)));
  const data = { frame: col(0), t: col(1), cols };
  frameCache.set(cacheKey, data);
  // A handful of runs at a time: a 10-minute run at 60 fps is a few MB.
  while (frameCache.size > 8) frameCache.delete(frameCache.keys().next().value!);
  return data;
}

async function runFrames(ctx: RouteContext): Promise<FramesResponse> {
  const { record, dir, setDir } = await findRun(ctx);
  if (!record.files.includes('frames.parquet')) throw new ApiFailure(404, `run ${record.key} r${record.rep} has no frames.parquet (the ${record.workload} workload records no frames)`);
  const width = intParam(ctx, 'width', 10, MAX_WIDTH, 1000);
  const from = numParam(ctx, 'from');
  const to = numParam(ctx, 'to');
  const rr = new RunReads(ctx.sets, dir);
  // The frame view shows frames.parquet alone: when it cannot be read, the whole answer is its line.
  let f: FrameTable;
  let stages: FrameStage[];
  let offsetS: number | null;
  try {
    const cols = await frameColumns(rr);
    stages = cols.stages;
    offsetS = await frameOffsetS(record, rr);
    f = await loadFrames(record, rr, cols.names, stages, offsetS);
  } catch (e) {
    if (e instanceof DuckFileError) throw failure(e);
    throw e;
  }
  const late = lateMs(record, setDir);
  const lat = f.cols['latency_ms'];
  // Late as frames.late counts it (src/workloads/stream/run.ts): decoded and shown more than late_ms
  // after capture. The file's own column when it has one (written with the point's late_ms);
  // before it, the same test on the file's columns with the late_ms found here.
  const col = f.cols['late'];
  const dropped = f.cols['dropped'];
  const shown = f.cols['shown'];
  const isLate = col ? (i: number) => col[i] === 1 : (i: number) => lat !== undefined && lat[i]! > late && dropped?.[i] !== 1 && shown?.[i] !== 0;
  const warm = f.cols['warmup'];
  const counts = { warmup: 0, late: 0, lateWarmup: 0 };
  let warmupRange: [number, number] | null = null;
  for (let i = 0; i < f.frame.length; i++) {
    const w = warm?.[i] === 1;
    if (w) {
      counts.warmup++;
      warmupRange = warmupRange ? [Math.min(warmupRange[0], f.t[i]!), Math.max(warmupRange[1], f.t[i]!)] : [f.t[i]!, f.t[i]!];
    }
    if (isLate(i)) {
      if (w) counts.lateWarmup++;
      else counts.late++;
    }
  }
  const marked = (i: number) => f.cols['lost']?.[i] === 1 || f.cols['dropped']?.[i] === 1 || isLate(i);
  const { indices, reduced } = worstPerColumn(f.t, lat ?? f.t.map(() => NaN), marked, width, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  const pick = (a: number[]) => indices.map((i) => (Number.isFinite(a[i]!) ? a[i]! : null));
  const columns: FramesResponse['columns'] = { frame: pick(f.frame), t: pick(f.t) };
  for (const [k, a] of Object.entries(f.cols)) columns[k] = pick(a);
  columns['late'] = indices.map((i) => (isLate(i) ? 1 : 0));
  const decls = declaredMetrics(record.workload);
  // A stage is the difference of two stamps: the stamps' unit.
  const units = Object.fromEntries(Object.keys(columns).map((k) => [k, findMetric(decls, k.startsWith('stage.') ? (stages.find((s) => `stage.${s.name}` === k)?.to ?? k) : k, 'frame')?.unit ?? null]));
  return {
    columns,
    stages,
    total: f.frame.length,
    shown: indices.length,
    reduced,
    lateMs: late,
    offsetS,
    timeBase: offsetS === null ? 'stream' : 'run',
    range: f.t.length > 0 ? [f.t[0]!, f.t[f.t.length - 1]!] : null,
    counts,
    lateFrom: col ? 'column' : 'threshold',
    warmupRange,
    problems: rr.problems,
    units,
  };
}

/** The decisions and freezes of a run (its JSON files, small: read whole at each request). */
async function runMarks(ctx: RouteContext): Promise<RunMarksResponse> {
  const { record, dir } = await findRun(ctx);
  const problems: RunFileProblem[] = [];
  const read = <T>(name: string, check: (v: unknown) => T): T | null => {
    const r = readPointJson(dir, name, record.files.includes(name), check);
    if (r.problem) problems.push(r.problem);
    return r.value ?? null;
  };
  return { decisions: read(CONTROLS_FILE, checkControls), freezes: read(FREEZES_FILE, checkFreezes), problems };
}

export const routes: Route[] = [
  { method: 'GET', path: '/api/run', handle: runInfo },
  { method: 'GET', path: '/api/run/series', handle: runSeries },
  { method: 'GET', path: '/api/run/frames', handle: runFrames },
  { method: 'GET', path: '/api/run/marks', handle: runMarks },
];
