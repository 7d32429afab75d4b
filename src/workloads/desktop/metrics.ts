/**
 * The figures every desktop stack gives, declared once for the family under the names SPICE gave
 * them first, so that one query or plot lines the stacks up: CPU per process, screen frame rate
 * and latency from the screen stamps, bytes and bit rate at the relay, the codec of each side from
 * positive evidence, the relay's offered capacity, and the per-frame latency rows. A stack's
 * workload declares these plus its own. Like a workload's declaration, it imports base and config
 * only (config resolves with the declarations that take it).
 */
import type { MetricDecl } from '../../config/declare.ts';

/** The roles of a desktop point: the server and content on the guest, the relay on the host, the viewer on the client. */
export const DESKTOP_ROLES: readonly string[] = ['guest', 'host', 'client'];

/** The processes a desktop point labels for the agents (server and player on the guest, relay on the host, the viewer on the client). */
export const DESKTOP_PROCESS_LABELS: readonly string[] = ['server', 'player', 'relay', 'client'];

const m = (name: string, unit: string | undefined, better: MetricDecl['better'], role: string, doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role, kind: 'summary', view: 'points', doc });
const frame = (name: string, unit: string | undefined, doc: string, better: MetricDecl['better'] = 'none'): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: 'all', kind: 'frame', view: 'frames', doc });

/** Whose CPU each `<process>.cpu_pct` is, and the role it runs in. */
const PROCESSES: readonly (readonly [string, string, string])[] = [
  ['guest', 'guest', 'the server (for SPICE the Xorg process it runs in)'],
  ['host', 'host', 'the relay'],
  ['client', 'client', 'the viewer'],
  ['player', 'guest', 'the content player'],
  ['grab', 'client', "the grabber reading the client's screen"],
];

/**
 * The family's headline metrics, first in every desktop workload's headline (a stack adds its own
 * after them): what `results show` lists first, and what a report of several stacks lines up.
 */
export const DESKTOP_HEADLINE: readonly string[] = ['codec.match', 'latency.p50', 'latency.p95', 'client.fps_screen', 'client.bitrate', 'guest.cpu_pct', 'host.cpu_pct', 'client.cpu_pct', 'guest.cpu_ms_per_frame', 'client.cpu_ms_per_frame'];

/** The family's metrics, as every desktop workload declares them. */
export const DESKTOP_METRICS: readonly MetricDecl[] = [
  ...PROCESSES.map(([p, role, what]) => m(`${p}.cpu_pct`, '%', 'lower', role, `CPU of ${what} over the recorded window, percent of one core (whole process tree)`)),
  ...PROCESSES.slice(0, 3).map(([p, role, what]) => m(`${p}.cpu_ms_per_frame`, 'ms', 'lower', role, `CPU of ${what} in the window per distinct picture the client's screen showed in it (the frames the desktop delivered, whatever its protocol sent): comparable across stacks`)),
  m('client.startup_s', 's', 'lower', 'all', "from the point's start until the chain ran (left out of every other figure)"),
  m('client.fps_screen', 'fps', 'higher', 'client', "distinct frame numbers read back from the client's screen per second"),
  m('client.screen_frames_read', 'frames', 'none', 'client', "grabs of the client's screen whose frame number could be read"),
  m('client.bitrate', 'bit/s', 'none', 'client', 'bits per second the relay delivered to the client during the window, all channels'),
  m('latency.p50', 'ms', 'lower', 'all', 'median end-to-end latency, a scene frame handed to the guest display to its first sighting on the client screen'),
  m('latency.p95', 'ms', 'lower', 'all', '95th percentile of end-to-end latency'),
  m('latency.frames_seen', 'frames', 'higher', 'client', 'frames drawn in the window that were read on the client screen (the latency figures count them)'),
  m('clock.uncertainty_ms', 'ms', 'lower', 'all', "how far the screen-stamp latency may be off from the clocks alone: the guest's and the client's clock uncertainties added (0 when both read one clock)"),
  m('latency.grab_ms', 'ms', 'none', 'client', "interval of the client screen's grabs: the resolution of the latency figures"),
  m('bytes.down', 'B', 'none', 'host', 'bytes the relay carried toward the client over the window'),
  m('bytes.up', 'B', 'none', 'host', 'bytes the relay carried toward the server over the window'),
  m('channel.<type>.bytes_down', 'B', 'none', 'host', 'bytes toward the client on one channel type (SPICE: display, main, inputs, cursor, ...; tcp for a connection of no known protocol), the whole point'),
  m('channel.<type>.bytes_up', 'B', 'none', 'host', 'bytes toward the server on one channel type, the whole point'),
  m('host.max_queue_kb', 'KiB', 'lower', 'host', "largest fill of the relay's queue"),
  m('codec.asked', undefined, 'none', 'guest', "the codec the point asked for (the stack's codec parameter, e.g. spice_codec)"),
  m('codec.server', undefined, 'none', 'guest', 'the codec the server encoded with, from its log (none: no video stream)'),
  m('codec.server_encoder', undefined, 'none', 'guest', "the server's encoder (x264enc, spice-server-mjpeg, ...)"),
  m('codec.client', undefined, 'none', 'client', 'the codec family the client decoded, from its log'),
  m('codec.client_decoder', undefined, 'none', 'client', "the client's decoder (vp8dec, avdec_h264, spice-gtk-mjpeg, ...)"),
  m('codec.match', undefined, 'higher', 'all', 'true only when the server encoded the codec asked for and the client decoded its family'),
  {
    name: 'capacity_bps',
    unit: 'bit/s',
    better: 'none',
    role: 'host',
    kind: 'series',
    view: 'timeseries',
    doc: 'capacity the relay offered toward the client (net_rate or net_trace) in each 100 ms window from its first connection, whatever was sent (absent on an unlimited link)',
  },
  frame('frame', undefined, 'frame number the scene stamped'),
  frame('warmup', undefined, '1 when shown during the warm-up (left out of the summary)'),
  frame('shown_at', 'ms', 'when the player handed the frame to the guest display (ms since its first frame)'),
  frame('seen_at', 'ms', "when the frame was first read on the client's screen (empty: never)"),
  frame('latency_ms', 'ms', 'shown to first seen', 'lower'),
];
