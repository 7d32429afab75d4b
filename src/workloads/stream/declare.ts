/**
 * The `stream` workload (the built-in pipeline), declared once: its block's schema, its metrics,
 * frame stages, roles and placement, and how it resolves its part of a benchmark file. Its
 * parameters are config's (src/config/stream-params.ts), because the pipeline below the workloads
 * reads settings typed by them. src/workloads/stream/run.ts records what it declares
 * (test/catalog.test.ts fails on a metric it did not); `stream --help`, the schema, the CLI's
 * headline columns and the tables of docs/workloads.md come from it. Imports base and config only.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { errorMessage } from '../../base/errors.ts';
import { formatDuration } from '../../base/duration.ts';
import { typedText, typeValue, type FrameStageDecl, type MetricDecl, type Resolution, type WorkloadDecl } from '../../config/declare.ts';
import { PlanTooComplexError, Search } from '../../config/matrix.ts';
import { checkParamValues, pickDefaults, seconds, type Ctx, type PlanShape } from '../../config/resolve-kit.ts';
import type { Axis, ParamValue } from '../../config/resolved.ts';
import { Duration, paramSchema } from '../../config/schema.ts';
import type { PathSeg } from '../../config/source.ts';
import { STREAM_PARAM_DECLS, STREAM_ROLES } from '../../config/stream-params.ts';
import { CODEC_DEPENDENT_PARAMS, FRAME_MAX, isPolicyFile, LIVE_RESOLUTION_MIN, parseBitrate, streamParam, streamSettings, STREAM_PARAMS } from '../../config/stream-settings.ts';
import type { WorkloadDef } from '../../config/workload-def.ts';
import { y4mSourceProblem } from '../../config/y4m-check.ts';

const StreamParamValue = Type.Union([Type.String(), Type.Number()]);

/** The built-in pipeline: each stream parameter may be set here as the default for every point. */
export const StreamWorkloadSchema = Type.Object(
  {
    type: Type.Literal('stream'),
    ...Object.fromEntries(STREAM_PARAM_DECLS.map((d) => [d.name, paramSchema(d, StreamParamValue)])),
    schedule: Type.Optional(
      Type.Array(
        Type.Object(
          {
            at: Duration,
            bitrate: Type.Optional(StreamParamValue),
            fps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
            resolution: Type.Optional(Type.String({ description: 'size to encode at from then on, WxH with even numbers, at most the configured resolution: the source is scaled down to it and the client scales back' })),
            keyframe: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, description: 'A change sent to the guest while streaming, at a time after the stream starts.' },
        ),
      ),
    ),
    cpus: Type.Optional(
      Type.Object(Object.fromEntries(STREAM_ROLES.map((r) => [r, Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 4095 }), { minItems: 1, maxItems: 4096, uniqueItems: true }))])), {
        additionalProperties: false,
        description: "CPUs each role is pinned to (taskset), e.g. {guest: [0], client: [1]}; a role not named runs on any CPU. On a machine the roles share, it keeps one role's load off another's core.",
      }),
    ),
    timeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type RawStreamWorkload = Static<typeof StreamWorkloadSchema>;

/** The built-in pipeline; parameters come from the matrix, over the defaults declared here. */
export interface StreamWorkload {
  type: 'stream';
  defaults: Record<string, ParamValue>;
  schedule: { atS: number; bitrate?: number; fps?: number; resolution?: string; keyframe?: boolean }[];
  /** Role -> the CPUs it is pinned to. */
  cpus?: Record<string, number[]>;
  timeoutS?: number;
}

const m = (name: string, unit: string | undefined, better: MetricDecl['better'], role: string, doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role, kind: 'summary', view: 'points', doc });
const frame = (name: string, unit: string | undefined, doc: string, better: MetricDecl['better'] = 'none'): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: 'all', kind: 'frame', view: 'frames', doc });

/**
 * The stages that follow each other from capture to display, in pipeline order: each starts where
 * the one before ended, so their times add up to the latency (the stage stack and the frame view
 * draw them stacked). Declared once here for the stream workload, its metrics and the GUI.
 */
export const FRAME_STAGES: readonly FrameStageDecl[] = [
  { name: 'capture', from: 'capture_start', to: 'capture_end', what: 'rendering (or reading) the source frame' },
  { name: 'encode', from: 'capture_end', to: 'enc_end', what: 'encoding' },
  { name: 'send', from: 'enc_end', to: 'send_end', what: 'handing the frame to the kernel' },
  { name: 'uplink', from: 'send_end', to: 'host_in', what: 'guest to relay' },
  { name: 'relay', from: 'host_in', to: 'host_out', what: 'queue and emulated link in the relay' },
  { name: 'downlink', from: 'host_out', to: 'recv_end', what: 'relay to client' },
  { name: 'decode_wait', from: 'recv_end', to: 'dec_start', what: 'received to decoder start' },
  { name: 'decode', from: 'dec_start', to: 'dec_end', what: 'decoding' },
  { name: 'display_wait', from: 'dec_end', to: 'display', what: 'decoded to the display refresh that shows it' },
];

/** Every stage with a `stage.<s>.p50` metric: the chain, and `network`, which spans three of it. */
const STAGES: Record<string, string> = {
  ...Object.fromEntries(FRAME_STAGES.map((s) => [s.name, s.what])),
  network: 'sent to received at the client (uplink + relay + downlink)',
};

export const STREAM_METRICS: readonly MetricDecl[] = [
  m('client.fps', 'fps', 'higher', 'client', 'frames shown by the client per second of the recorded window'),
  m('guest.fps', 'fps', 'higher', 'guest', 'frames sent by the guest per second of the recorded window'),
  m('client.bitrate', 'bit/s', 'none', 'client', 'frame payload received during the window (by arrival time), bits per second'),
  m('guest.bitrate', 'bit/s', 'none', 'guest', 'frame payload sent during the window, bits per second'),
  m('latency.p50', 'ms', 'lower', 'all', 'median end-to-end latency, capture start to display'),
  m('latency.p95', 'ms', 'lower', 'all', '95th percentile of end-to-end latency'),
  m('latency.p99', 'ms', 'lower', 'all', '99th percentile of end-to-end latency'),
  m('latency.max', 'ms', 'lower', 'all', 'largest end-to-end latency'),
  m('latency.to_decoded.p50', 'ms', 'lower', 'all', 'median capture end to decoded (what the pipeline adds to encode + decode)'),
  m('latency.to_decoded.p95', 'ms', 'lower', 'all', '95th percentile of capture end to decoded'),
  ...Object.entries(STAGES).map(([s, what]) => m(`stage.${s}.p50`, 'ms', 'lower', s === 'capture' || s === 'encode' || s === 'send' ? 'guest' : s === 'relay' ? 'host' : s === 'uplink' || s === 'downlink' || s === 'network' ? 'all' : 'client', `median time of ${what}`)),
  m('client.psnr', 'dB', 'higher', 'client', 'mean luma PSNR of the decoded frames against the source (identical frames count as 100)'),
  m('client.psnr.min', 'dB', 'higher', 'client', 'lowest luma PSNR of a decoded frame'),
  m('client.ssim', 'ratio', 'higher', 'client', 'mean luma SSIM of the decoded frames against the source'),
  m('client.quality_frames', 'frames', 'none', 'client', 'decoded frames whose PSNR and SSIM were measured'),
  m('frames.sent', 'frames', 'none', 'guest', 'frames captured and sent in the window'),
  m('frames.received', 'frames', 'higher', 'client', 'frames complete at the client'),
  m('frames.decoded', 'frames', 'higher', 'client', 'frames decoded'),
  m('frames.shown', 'frames', 'higher', 'client', 'frames shown on the display'),
  m('frames.dropped', 'frames', 'lower', 'client', 'sent but not decoded (lost, waiting for a keyframe, or undecodable)'),
  m('frames.lost', 'frames', 'lower', 'all', 'sent but never complete at the client'),
  m('frames.late', 'frames', 'lower', 'client', 'shown more than late_ms after capture'),
  m('frames.frozen_ms', 'ms', 'lower', 'client', 'time the screen kept one frame beyond 1.5 frame intervals'),
  m('frames.keyframes', 'frames', 'none', 'guest', 'keyframes sent in the window'),
  m('guest.skipped', 'frames', 'lower', 'guest', 'capture ticks of the window skipped because the encoder was busy or the path congested'),
  m('guest.skipped_congested', 'frames', 'none', 'guest', "of guest.skipped, the ticks held back by a congested path: the socket's backlog, or a rate policy's congestion window (the network's doing, not the machine's: not flagged as frames_skipped)"),
  ...['guest', 'host', 'client'].flatMap((r) => [
    m(`${r}.cpu_s`, 's', 'lower', r, `CPU time (user + system) of the ${r} process in the recorded window (its own account, read at the window's edges)`),
    m(`${r}.cpu_pct`, '%', 'lower', r, `CPU of the ${r} process in the recorded window, percent of one core`),
    m(`${r}.cpu_ms_per_frame`, 'ms', 'lower', r, `CPU time of the ${r} process in the window per frame it handled (${r === 'guest' ? 'sent' : r === 'host' ? 'relayed' : 'decoded'}): a cost that survives sharing a machine better than a percentage`),
  ]),
  m('clock.uncertainty_ms', 'ms', 'lower', 'all', "how far a time that crosses roles (latency, uplink, downlink) may be off: the largest sum of two roles' clock uncertainties (0 when all read one clock)"),
  m('host.bytes_out', 'B', 'none', 'host', 'bytes the relay sent toward the client in the window'),
  m('host.dropped', 'packets', 'lower', 'host', 'packets the relay dropped in the window (queue full or emulated loss)'),
  m('host.dropped_queue', 'packets', 'lower', 'host', 'packets dropped in the window because the queue was full'),
  m('host.dropped_loss', 'packets', 'lower', 'host', 'packets dropped in the window by the emulated loss'),
  m('host.max_queue_kb', 'KiB', 'lower', 'host', "largest fill of the relay's queue in the window"),
  m('net.loss_measured_pct', '%', 'lower', 'host', 'packets the relay dropped in the window, percent of those it received'),
  m('client.keyframe_requests', 'count', 'lower', 'client', 'keyframes the client asked for in the window after a loss'),
  m('controls', 'count', 'none', 'guest', 'control changes applied while streaming (schedule, stdin)'),
  m('roles.cpu_reported_s', 's', 'lower', 'all', 'whole-life CPU of the three role processes as they counted it'),
  m('roles.cpu_kernel_s', 's', 'lower', 'all', 'whole-life CPU of the three role processes as the kernel accounted it when they were reaped'),
  m('source.si', 'count', 'none', 'engine', 'spatial information of the source (ITU-T P.910), the largest over the measured frames'),
  m('source.ti', 'count', 'none', 'engine', 'temporal information of the source (ITU-T P.910), the largest over the measured frames'),
  m('source.si.mean', 'count', 'none', 'engine', 'mean spatial information of the source'),
  m('source.ti.mean', 'count', 'none', 'engine', 'mean temporal information of the source'),
  m('source.siti_frames', 'frames', 'none', 'engine', 'frames of the source measured for SI/TI'),
  // Series on the point's clock: t in seconds since the point began.
  { name: 'queue_bytes', unit: 'B', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: "bytes in the relay's queue" },
  { name: 'queue_packets', unit: 'packets', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: "packets in the relay's queue" },
  { name: 'target_bps', unit: 'bit/s', better: 'none', role: 'guest', kind: 'series', view: 'timeseries', doc: "the policy's target bitrate (with a policy other than fixed)" },
  { name: 'sent_bps', unit: 'bit/s', better: 'none', role: 'guest', kind: 'series', view: 'timeseries', doc: "the guest's sending rate over the last 250 ms (with a policy other than fixed)" },
  { name: 'delivered_bps', unit: 'bit/s', better: 'higher', role: 'client', kind: 'series', view: 'timeseries', doc: "the client's receiving rate over the last 250 ms (with a policy other than fixed)" },
  { name: 'quality_psnr', unit: 'dB', better: 'higher', role: 'client', kind: 'series', view: 'timeseries', doc: 'mean luma PSNR of the frames shown in each 500 ms (identical frames count as 100)' },
  { name: 'quality_ssim', unit: 'ratio', better: 'higher', role: 'client', kind: 'series', view: 'timeseries', doc: 'mean luma SSIM of the frames shown in each 500 ms' },
  m('qoe.freeze_count', 'count', 'lower', 'client', 'freezes in the window: times the displayed picture was not renewed for longer than freeze_ms'),
  m('qoe.freeze_ms', 'ms', 'lower', 'client', 'total length of the freezes in the window, each its whole gap (cut to the window)'),
  m('qoe.latency_p95_max', 'ms', 'lower', 'all', 'the worst latency p95 over sliding windows of 1 s (stepped by 250 ms, at least 5 frames each), by capture time'),
  m('qoe.utilization', 'ratio', 'higher', 'all', 'bits delivered to the client in the window over the capacity the link offered there (net_rate or a trace); absent on an unlimited link'),
  m('rate.switches', 'count', 'none', 'guest', 'decisions applied in the window that changed the bitrate, frame rate or resolution (policy or schedule)'),
  m('rate.reaction_ms', 'ms', 'lower', 'guest', "after a capacity drop: until the guest's sending rate (100 ms bins) is at or below the new capacity, mean over the drops answered in the window"),
  m('rate.recovery_ms', 'ms', 'lower', 'guest', 'after a capacity rise: until the sending rate reaches 80 % of the new capacity, mean over the rises answered in the window'),
  m('rate.unanswered', 'count', 'lower', 'guest', 'capacity changes the sending rate did not answer before the next change or the end of the window (a fixed rate answers none)'),
  m('policy.decisions', 'count', 'none', 'guest', 'decisions of the rate-control policy that changed the encoder in the window'),
  m('policy.target_bps', 'bit/s', 'none', 'guest', "the policy's target bitrate at the end of the window"),
  { name: 'queue_delay_ms', unit: 'ms', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: 'queueing delay in the relay toward the client: how long a byte arriving then waits until it starts to leave (absent on an unlimited link)' },
  { name: 'capacity_bps', unit: 'bit/s', better: 'none', role: 'host', kind: 'series', view: 'timeseries', doc: 'capacity the relay offered toward the client (net_rate or net_trace) in each 100 ms window, whatever was sent (absent on an unlimited link)' },
  { name: 'queue_up_bytes', unit: 'B', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: "bytes in the relay's queue toward the guest (with net_trace_up)" },
  { name: 'queue_up_delay_ms', unit: 'ms', better: 'lower', role: 'host', kind: 'series', view: 'timeseries', doc: 'queueing delay in the relay toward the guest (with net_trace_up)' },
  { name: 'capacity_up_bps', unit: 'bit/s', better: 'none', role: 'host', kind: 'series', view: 'timeseries', doc: 'capacity the relay offered toward the guest in each 100 ms window (with net_trace_up)' },
  frame('frame', undefined, 'frame number'),
  frame('warmup', undefined, '1 when captured during the warm-up (left out of the summary)'),
  frame('key', undefined, '1 for a keyframe'),
  frame('bytes', 'B', 'encoded size'),
  frame('width', 'px', 'width it was encoded at (smaller than the configured resolution after a live change; the client scales it back)'),
  frame('height', 'px', 'height it was encoded at'),
  ...['capture_start', 'capture_end', 'enc_end', 'send_end', 'host_in', 'host_out', 'recv_end', 'dec_start', 'dec_end', 'display'].map((c) => frame(c, 'ms', `time the frame reached ${c} (ms since the point began, on the point's clock; empty when it never did)`)),
  frame('latency_ms', 'ms', 'capture start to display', 'lower'),
  frame('psnr', 'dB', 'luma PSNR against the source', 'higher'),
  frame('ssim', 'ratio', 'luma SSIM against the source', 'higher'),
  frame('lost', undefined, '1 when never complete at the client', 'lower'),
  frame('dropped', undefined, '1 when not decoded', 'lower'),
  frame('shown', undefined, '1 when shown', 'higher'),
  frame('late', undefined, '1 when decoded and shown more than late_ms after capture (frames.late counts those of the window)', 'lower'),
];

export const STREAM_DECL: WorkloadDecl = {
  type: 'stream',
  roles: STREAM_ROLES,
  params: STREAM_PARAM_DECLS,
  metrics: STREAM_METRICS,
  headline: ['client.fps', 'client.bitrate', 'latency.p50', 'latency.p95', 'client.psnr', 'frames.dropped', 'guest.cpu_pct', 'host.cpu_pct', 'client.cpu_pct'],
  processLabels: ['guest', 'host', 'client'],
  executors: {
    agents: { machines: ['guest', 'host', 'client'], reach: 'address' },
    slurm: {
      machines: ['guest', 'host', 'client'],
      reach: 'address',
      // Its roles run on three nodes: their stamps meet on one clock only through the agents' measurements.
      needsRecording: 'the stream workload under the slurm executor needs recording: its roles run on three nodes, and the recording agents measure their clocks (without them, latency would mix three clocks)',
    },
  },
  needs: [{ what: 'ffmpeg and its libraries (libx264, libx265, libvpx, SVT-AV1, MJPEG)', check: 'ffmpeg', debian: 'ffmpeg' }],
  frameStages: FRAME_STAGES,
  // Written out, not derived from `roles`: these are the names old records hold.
  renamed: [
    ...['guest', 'host', 'client'].map((r) => ({ from: `${r}.cpu_percent`, to: `${r}.cpu_pct` })),
    { from: 'net.loss_measured_percent', to: 'net.loss_measured_pct' },
    { from: 'client.bitrate', to: 'client.bitrate', factor: 1000 },
    { from: 'guest.bitrate', to: 'guest.bitrate', factor: 1000 },
  ],
  // Up to commit dce76e9 its relay queue's t counted from the guest's start of streaming, as its frames' times do.
  untimedSeriesClock: 'frames',
};

export const STREAM_WORKLOAD: WorkloadDef<StreamWorkload> = {
  ...STREAM_DECL,
  schema: StreamWorkloadSchema,
  resolve: resolveStream,
  checkPlan(ctx, w, plan) {
    checkParamValues(ctx, w.defaults, plan, STREAM_PARAMS, streamSettings, CODEC_DEPENDENT_PARAMS);
    checkSources(ctx, w.defaults, plan.axes);
    checkPolicies(ctx, w, plan.axes);
    checkTraceWithRate(ctx, w.defaults, plan);
  },
  checkTimes(ctx, w, { warmupS, durationS }) {
    // The stream ends at warmup + duration (10 s by default): a change scheduled later never applies.
    const endS = warmupS + (durationS ?? 10);
    w.schedule.forEach((c, i) => {
      if (c.atS >= endS) ctx.add(['workload', 'schedule', i, 'at'], `at ${formatDuration(c.atS)} is after the stream ends (${formatDuration(endS)}), so the change would never apply`);
    });
  },
};

function resolveStream(ctx: Ctx, raw: unknown): StreamWorkload {
  const w = raw as RawStreamWorkload;
  const defaults = pickDefaults(w, STREAM_PARAMS);
  const schedule: StreamWorkload['schedule'] = [];
  (w.schedule ?? []).forEach((c, i) => {
    const at = seconds(ctx, ['workload', 'schedule', i, 'at'], c.at, 0, 'nonnegative');
    const entry: (typeof schedule)[number] = { atS: at };
    if (c.bitrate !== undefined) {
      try {
        entry.bitrate = parseBitrate(c.bitrate);
      } catch (e) {
        ctx.add(['workload', 'schedule', i, 'bitrate'], errorMessage(e));
      }
    }
    if (c.fps !== undefined && !(c.fps >= 1 && c.fps <= 240)) ctx.add(['workload', 'schedule', i, 'fps'], `fps ${c.fps} must be from 1 to 240`);
    if (c.fps !== undefined) entry.fps = c.fps;
    if (c.resolution !== undefined) {
      try {
        const r = typeValue({ ...streamParam('resolution'), size: { min: LIVE_RESOLUTION_MIN, max: FRAME_MAX, even: true } }, c.resolution) as Resolution;
        entry.resolution = typedText(r);
      } catch (e) {
        ctx.add(['workload', 'schedule', i, 'resolution'], errorMessage(e), 'a live change scales the source down: give a size no larger than the resolution, e.g. 640x360');
      }
    }
    if (c.keyframe !== undefined) entry.keyframe = c.keyframe;
    schedule.push(entry);
  });
  const cpus = w.cpus && Object.keys(w.cpus).length > 0 ? (Object.fromEntries(Object.entries(w.cpus).filter(([, v]) => v !== undefined)) as Record<string, number[]>) : undefined;
  return { type: 'stream', defaults, schedule, ...(cpus ? { cpus } : {}), ...(w.timeout !== undefined ? { timeoutS: seconds(ctx, ['workload', 'timeout'], w.timeout, 0) } : {}) };
}

/**
 * Each distinct stream `source` where it is written (the workload's default unless the matrix
 * lists sources): an existing regular file with a YUV4MPEG2 header, checked without opening a
 * FIFO (src/config/y4m-check.ts), so a bad one is refused here, not when its point runs.
 */
function checkSources(ctx: Ctx, defaults: Record<string, ParamValue>, axes: readonly Axis[]): void {
  const axis = axes.find((a) => a.name === 'source');
  const where: [ParamValue, PathSeg[]][] = axis ? axis.values.map((v, i) => [v, ['matrix', 'source', ...(axis.values.length > 1 ? [i] : [])]]) : defaults['source'] !== undefined ? [[defaults['source'], ['workload', 'source']]] : [];
  const seen = new Map<string, string | undefined>();
  for (const [v, path] of where) {
    const file = String(v);
    if (!seen.has(file)) seen.set(file, y4mSourceProblem(file));
    const problem = seen.get(file);
    if (problem !== undefined) ctx.add(path, problem, 'give a .y4m file, e.g. one written by: ffmpeg -i clip.mp4 -pix_fmt yuv420p clip.y4m');
  }
}

/**
 * Each distinct `policy` where it is written: a user's file must be readable (it is read again,
 * and its text sent to the guest, when each point runs), and a `schedule` steers the encoder
 * itself, so it goes only with the `fixed` policy.
 */
function checkPolicies(ctx: Ctx, w: StreamWorkload, axes: readonly Axis[]): void {
  const axis = axes.find((a) => a.name === 'policy');
  const where: [ParamValue, PathSeg[]][] = axis ? axis.values.map((v, i) => [v, ['matrix', 'policy', ...(axis.values.length > 1 ? [i] : [])]]) : w.defaults['policy'] !== undefined ? [[w.defaults['policy'], ['workload', 'policy']]] : [];
  const seen = new Set<string>();
  for (const [v, path] of where) {
    const policy = String(v);
    if (w.schedule.length > 0 && policy !== 'fixed') ctx.add(['workload', 'schedule'], `a schedule changes the encoder itself, so it cannot go with policy ${policy} (at ${path.join('.')}), which does too`, 'drop the schedule, or use policy: fixed');
    if (!isPolicyFile(policy) || seen.has(policy)) continue;
    seen.add(policy);
    try {
      readFileSync(policy, 'utf8');
    } catch (e) {
      ctx.add(path, `policy ${policy} cannot be read: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`, 'give the path of a .ts or .js file that default-exports a policy (docs/adaptive.md)');
    }
  }
}

/**
 * A trace replaces net_rate: a planned point with both is an input error. Each value is checked
 * against the workload's defaults by checkParamValues; here, the pairs two matrix axes (or an axis
 * and a default) make, asked of the plan so that a pair that exclude or only rule out is none.
 */
function checkTraceWithRate(ctx: Ctx, defaults: Record<string, ParamValue>, plan: PlanShape): void {
  const rateAxis = plan.axes.find((a) => a.name === 'net_rate');
  const traceAxis = plan.axes.find((a) => a.name === 'net_trace');
  if (!rateAxis && !traceAxis) return;
  const limited = (v: ParamValue) => {
    try {
      return typeValue(streamParam('net_rate'), v) !== null;
    } catch {
      return false; // a bad rate is said where it is written
    }
  };
  const rates = rateAxis ? rateAxis.values.filter(limited) : defaults['net_rate'] !== undefined && limited(defaults['net_rate']) ? [defaults['net_rate']] : [];
  const traces = traceAxis ? traceAxis.values : defaults['net_trace'] !== undefined ? [defaults['net_trace']] : [];
  if (rates.length === 0 || traces.length === 0) return;
  let planned = true;
  try {
    planned = new Search(plan.axes, plan.links, plan.exclude, plan.only).setFilter([{ ...(rateAxis ? { net_rate: rates } : {}), ...(traceAxis ? { net_trace: traces } : {}) }]).count(0) !== 0;
  } catch (e) {
    if (!(e instanceof PlanTooComplexError)) throw e;
  }
  if (planned)
    ctx.add(
      traceAxis ? ['matrix', 'net_trace'] : ['matrix', 'net_rate'],
      `net_trace replaces net_rate, and the plan has points with both (net_rate ${String(rates[0])}, net_trace ${String(traces[0])})`,
      'give net_rate none where a trace is replayed (exclude the pairs with both)',
    );
}
