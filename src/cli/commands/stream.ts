/** `streambench stream guest|host|client`: one role of the built-in pipeline, alone, so roles can live on three machines. */
import { errorMessage, InputError } from '../../base/errors.ts';
import { parseDuration } from '../../base/duration.ts';
import { stopRequested } from '../../base/stop-signal.ts';
import { suggestHint } from '../../base/suggest.ts';
import { parseAssignment } from '../../config/load.ts';
import { describeParam } from '../../config/declare.ts';
import { SettingError, settingsFromJson, streamSettings, type StreamSettings } from '../../config/stream-settings.ts';
import { STREAM_PARAM_DECLS, STREAM_ROLES } from '../../config/stream-params.ts';
import { parseControl, type ControlMessage } from '../../stream/wire.ts';
import { EventPoster } from '../../record/event-poster.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

/** The pipeline's roles, and the content player the desktop workloads start on their guest. */
const ROLES: readonly string[] = [...STREAM_ROLES, 'player'];

export const streamSpec = {
  name: 'stream',
  summary: 'Run one role of the built-in streaming pipeline (guest, host relay, or client) by hand.',
  usage: 'streambench stream guest|host|client|player [--set param=value]... [--listen ADDR:PORT] [--upstream ADDR:PORT] [--connect ADDR:PORT] [--report FILE]',
  help: [
    '  --set param=value     a stream parameter (the same on all three roles), e.g. codec=vp9 bitrate=2M duration=10s',
    '  --listen ADDR:PORT    guest and host: where to listen (default 127.0.0.1:0, a free loopback port)',
    '  --upstream ADDR:PORT  host: the guest to relay from',
    '  --proxy               host: relay any TCP service (e.g. a SPICE server, one connection per channel) through',
    '                        the emulated network until SIGTERM, counting bytes per connection and direction',
    '  --stop-file FILE      host --proxy: stop as at SIGTERM once FILE exists (a desktop point under Slurm)',
    '  --connect ADDR:PORT   client: the host (or a guest directly)',
    '  --report FILE         where the role writes its per-frame record (default <role>.json)',
    '  --dump DIR            client: write every decoded frame to DIR/decoded.yuv (for checks)',
    '  --dump-bitstream FILE client: write the received stream as fed to the decoder to FILE (H.264/H.265 Annex B,',
    "                        MJPEG, VP8/VP9/AV1 in IVF) and each frame's number, offset, size to FILE.frames.tsv",
    '  --schedule JSON       guest: changes while streaming, e.g. [{"atS":3,"bitrate":1000000}]',
    '  --config JSON         all settings at once, as the stream workload passes them (checked by the same rules as',
    '                        the parameters; a field left out takes its default)',
    '  --agent URL           the recording agent of this machine: per-frame events are sent to it ($STREAMBENCH_TOKEN if it needs one)',
    '',
    '`player` writes the scene as raw I420 frames on stdout at its frame rate (for ffplay on another display);',
    'with --report FILE, one line `frame<TAB>ms` per frame as it is handed over (ms on CLOCK_MONOTONIC).',
    'Each role prints one JSON line {"ready":...} on stdout when it is listening or connected. The',
    'guest also reads control lines on stdin, e.g. {"bitrate":1000000} or {"fps":15} or {"keyframe":true}.',
    'Binds to loopback unless told otherwise: to stream between machines, give --listen 0.0.0.0:PORT.',
    '',
    'Parameters (name, type, what it takes; the same in a benchmark file):',
    ...STREAM_PARAM_DECLS.map((d) => `  ${d.name.padEnd(16)} ${d.type.padEnd(10)} ${describeParam(d)}`),
    '  warmup / duration  streamed time not recorded / recorded (default 0s / 10s)',
  ].join('\n'),
  options: {
    set: { type: 'string', multiple: true },
    listen: { type: 'string' },
    upstream: { type: 'string' },
    connect: { type: 'string' },
    report: { type: 'string' },
    dump: { type: 'string' },
    'dump-bitstream': { type: 'string' },
    schedule: { type: 'string' },
    config: { type: 'string' },
    agent: { type: 'string' },
    proxy: { type: 'boolean' },
    'stop-file': { type: 'string' },
  },
} satisfies CommandSpec;

function address(flag: string, v: string | undefined, fallback?: string): { host: string; port: number } {
  const text = v ?? fallback;
  const m = text ? /^(.+):(\d+)$/.exec(text) : null;
  if (!m) throw InputError.single(`--${flag}`, text === undefined ? `--${flag} ADDR:PORT is required for this role` : `'${text}' is not ADDR:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function settingsFrom(a: { set?: string[]; config?: string }): StreamSettings {
  if (a.config) {
    let v: unknown;
    try {
      v = JSON.parse(a.config);
    } catch (e) {
      throw InputError.single('--config', `not JSON: ${errorMessage(e)}`);
    }
    try {
      return settingsFromJson(v);
    } catch (e) {
      if (e instanceof SettingError) throw InputError.single('--config', e.message);
      throw e;
    }
  }
  const params: Record<string, string> = {};
  for (const s of a.set ?? []) {
    const { key, value } = parseAssignment(s, '--set');
    params[key] = value;
  }
  const known = [...STREAM_PARAM_DECLS.map((d) => d.name), 'warmup', 'duration'];
  for (const k of Object.keys(params)) if (!known.includes(k)) throw InputError.single(`--set ${k}`, `unknown stream parameter '${k}'`, suggestHint(k, known));
  const warmupS = parseDuration(params['warmup'] ?? '0s');
  const durationS = parseDuration(params['duration'] ?? '10s');
  if (warmupS === undefined || durationS === undefined) throw InputError.single('--set duration', 'warmup and duration are durations such as 10s');
  try {
    return streamSettings(params, { warmupS, durationS });
  } catch (e) {
    if (e instanceof SettingError) throw InputError.single(`--set ${e.param}`, e.message);
    throw e;
  }
}

/** Runs one role until its stream ends. */
export async function streamCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(streamSpec, argv);
  if (a.values.help) return (out.write(helpText(streamSpec)), 0);
  const role = a.positionals[0];
  if (!role || !ROLES.includes(role)) throw InputError.single('streambench stream', role ? `unknown role '${role}'` : 'which role?', suggestHint(role ?? '', ROLES));
  const settings = settingsFrom(a.values);
  const report = a.values.report ?? `${role}.json`;
  const agent = a.values.agent ? { agent: new EventPoster(a.values.agent, process.env['STREAMBENCH_TOKEN']) } : {};
  const ready = (extra: Record<string, unknown>) => out.write(`${JSON.stringify({ ready: true, role, pid: process.pid, ...extra })}\n`);
  if (role === 'player') {
    const { playFrames } = await import('../../stream/player.ts');
    await playFrames(settings, out, settings.warmupS + settings.durationS, a.values.report === undefined ? {} : { stamps: a.values.report });
    return 0;
  }
  if (role === 'guest') {
    const listen = address('listen', a.values.listen, '127.0.0.1:0');
    let schedule: (ControlMessage & { atS: number })[] = [];
    if (a.values.schedule) {
      try {
        schedule = (JSON.parse(a.values.schedule) as unknown[]).map((c) => ({ ...parseControl(c), atS: Number((c as { atS: unknown }).atS) }));
      } catch (e) {
        throw InputError.single('--schedule', errorMessage(e));
      }
    }
    // Roles are loaded on demand: the relay never needs FFmpeg's libraries.
    const { runGuest, RoleFailure } = await import('../../stream/guest.ts');
    try {
      await runGuest({ settings, host: listen.host, port: listen.port, report, schedule, ...agent, onReady: (port) => ready({ port }) });
    } catch (e) {
      // Its report holds the message already: the point fails with it.
      if (!(e instanceof RoleFailure)) throw e;
      process.stderr.write(`guest: ${e.message}\n`);
      return 1;
    }
  } else if (role === 'host' && a.values.proxy) {
    const listen = address('listen', a.values.listen, '127.0.0.1:0');
    const { runProxy } = await import('../../stream/proxy.ts');
    const until = stopRequested(a.values['stop-file']);
    await runProxy({ net: settings.net, host: listen.host, port: listen.port, upstream: address('upstream', a.values.upstream), report, until, onReady: (port) => ready({ port }) });
  } else if (role === 'host') {
    const listen = address('listen', a.values.listen, '127.0.0.1:0');
    const { runHost } = await import('../../stream/host.ts');
    await runHost({ settings, host: listen.host, port: listen.port, upstream: address('upstream', a.values.upstream), report, ...agent, onReady: (port) => ready({ port }) });
  } else {
    const { runClient } = await import('../../stream/client.ts');
    await runClient({ settings, connect: address('connect', a.values.connect), report, ...(a.values.dump ? { dump: a.values.dump } : {}), ...(a.values['dump-bitstream'] ? { dumpBitstream: a.values['dump-bitstream'] } : {}), ...agent, onReady: () => ready({}) });
  }
  await agent.agent?.close();
  return 0;
}
