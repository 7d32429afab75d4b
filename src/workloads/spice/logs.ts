/**
 * Readers of the SPICE stack's own logs: remote-viewer's `--spice-debug` output (spice-gtk 0.42)
 * and the SPICE server's debug log (spice-server 0.15 inside Xorg, run with G_MESSAGES_DEBUG=all).
 * The codec each side used is read from positive evidence only: a line that names the encoder or
 * decoder at work, or for MJPEG on the client (spice-gtk decodes it without GStreamer) frames
 * received for a stream spice-gtk built no pipeline for; never a missing line alone (docs/workloads.md
 * lists what counts, per codec).
 */

/** Decoder label of spice-gtk's own MJPEG decoder (libjpeg, no GStreamer element). */
export const SPICE_GTK_MJPEG = 'spice-gtk-mjpeg';

/** One video stream as the client's log shows it, from its `display_handle_stream_create` line. */
export interface ClientStream {
  /** The stream id the server gave it (ids are reused: each creation is its own entry). */
  id: number;
  /** Wall-clock time of its creation, ms since midnight. */
  atMs: number;
  /** GStreamer elements spice-gtk added to the stream's pipeline, in order. */
  elements: string[];
  /** Frames received for it ("video margin" or "stream data too late" lines, logged before each frame goes to the decoder). */
  frames: number;
  /** Decoding errors logged while it was the newest stream, quoted. */
  errors: string[];
}

/** What remote-viewer's --spice-debug output says about the video streams. */
export interface ClientLog {
  /** Wall-clock times (ms since midnight) of received video frames, and their video margin (ms; negative: late). */
  frames: { atMs: number; marginMs: number }[];
  streams: ClientStream[];
  /** Every decoding error the client logged, quoted ("Missing decoder: H.264 (video/x-h264)"). */
  errors: string[];
}

const TIME = /(\d\d):(\d\d):(\d\d)\.(\d{3}):/;

function lineTime(line: string): number {
  const t = TIME.exec(line);
  return t ? ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3])) * 1000 + Number(t[4]) : NaN;
}

/**
 * The codec family a GStreamer decoder element decodes (vp8dec, avdec_h264, openh264dec, jpegdec,
 * ...); undefined for every other element (parsers, converters, sinks, bins).
 */
export function decoderCodec(element: string): string | undefined {
  const m = /^avdec_(h264|h265|vp8|vp9|mjpeg)$/.exec(element) ?? /^[a-z0-9]*?(h264|h265|vp8|vp9|jpeg)dec$/.exec(element);
  if (!m) return undefined;
  return m[1] === 'jpeg' ? 'mjpeg' : m[1];
}

/** Parses remote-viewer --spice-debug output. */
export function parseClientLog(text: string): ClientLog {
  const out: ClientLog = { frames: [], streams: [], errors: [] };
  const error = (msg: string) => {
    out.errors.push(msg);
    out.streams.at(-1)?.errors.push(msg);
  };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /display_handle_stream_create: id (\d+)/.exec(line))) {
      out.streams.push({ id: Number(m[1]), atMs: lineTime(line), elements: [], frames: 0, errors: [] });
    } else if ((m = /video margin: (-?\d+)/.exec(line) ?? /stream data too late by (\d+) ms/.exec(line))) {
      // A late frame is still received (and handed to the decoder): its margin is negative.
      out.frames.push({ atMs: lineTime(line), marginMs: line.includes('too late') ? -Number(m[1]) : Number(m[1]) });
      const s = out.streams.at(-1);
      if (s) s.frames++;
    } else if ((m = /added to Gstreamer's pipeline \(([\w-]+)\)/.exec(line))) {
      out.streams.at(-1)?.elements.push(m[1]!);
    } else if (/^Missing (decoder|element|plugin): /.test(line.trim())) {
      // GStreamer's own words, on a line of their own after "GStreamer error ... missing a plug-in".
      error(line.trim());
    } else if ((m = /could not create (?:a video decoder for codec \d+|the \d+ video stream)/.exec(line))) {
      error(m[0]);
    } else if ((m = /G?Spice-(?:WARNING|CRITICAL|ERROR) \*\*: [\d:.]+: (?:\.\.\/src\/([\w-]+)\.c:\d+:\w+: )?(.*)$/.exec(line))) {
      // Only what concerns the video streams: the display channel's decoders, or a stream named.
      if (m[1]?.startsWith('channel-display') || /\bstream\b|decoder|GStreamer/i.test(m[2]!)) error(m[2]!.trim());
    }
  }
  return out;
}

/**
 * How the client decoded one stream, from positive evidence: the GStreamer decoder element it
 * created, or for MJPEG, which spice-gtk 0.42 decodes with its own decoder and hands no other codec
 * to, frames received for a stream that got no GStreamer element at all.
 */
export function streamDecoder(s: ClientStream): { codec: string; decoder: string } | undefined {
  const dec = s.elements.find((e) => decoderCodec(e) !== undefined);
  if (dec) return { codec: decoderCodec(dec)!, decoder: dec };
  // A stream handed to GStreamer always gets elements (uridecodebin first): none at all, with frames
  // received and no error, is spice-gtk's built-in path, which only MJPEG takes.
  if (s.elements.length === 0 && s.frames > 0 && s.errors.length === 0) return { codec: 'mjpeg', decoder: SPICE_GTK_MJPEG };
  return undefined;
}

/** The codecs (vp8, vp9, h264, mjpeg) and decoders the client's streams were decoded with, distinct, in order. */
export function clientCodecs(log: ClientLog): { codecs: string[]; decoders: string[] } {
  const codecs: string[] = [];
  const decoders: string[] = [];
  for (const s of log.streams) {
    const d = streamDecoder(s);
    if (!d) continue;
    if (!codecs.includes(d.codec)) codecs.push(d.codec);
    if (!decoders.includes(d.decoder)) decoders.push(d.decoder);
  }
  return { codecs, decoders };
}

/** The client's decoding error to quote: GStreamer's "Missing ..." line when there is one, else the first. */
export function clientError(log: ClientLog): string | undefined {
  return log.errors.find((e) => e.startsWith('Missing ')) ?? log.errors[0];
}

/** SPICE codec name (as SpiceVideoCodecs takes it) of a GStreamer encoder element spice-server runs. */
export function encoderCodec(element: string): string | undefined {
  if (/mjpeg|jpeg/.test(element)) return 'gstreamer:mjpeg';
  const m = /(vp8|vp9|h264|h265|264|265)/.exec(element);
  if (!m) return undefined;
  return `gstreamer:${m[1] === '264' || m[1] === '265' ? `h${m[1]}` : m[1]}`;
}

/** Label of spice-server's own MJPEG encoder (mjpeg-encoder.c, no GStreamer). */
export const SPICE_SERVER_MJPEG = 'spice-server-mjpeg';

// Encoders whose bitrate property is in kbit/s by its description, which is what spice-server
// looks at: it then sets bit/s ÷ 1024 (gstreamer-encoder.c, set_gstenc_bitrate).
const KBIT_ENCODERS = new Set(['x264enc', 'x265enc']);
// Encoders whose `bitrate` property is in bit/s (vp8enc and vp9enc use `target-bitrate`, always bit/s).
const BIT_ENCODERS = new Set(['avenc_mjpeg', 'openh264enc']);

/** What the SPICE server's debug log says: its decisions as metrics, and the encoders it ran. */
export interface ServerLog {
  /** server.* metrics: measured bandwidth, chosen bitrate and frame rate, dropped frames. */
  metrics: Record<string, number>;
  /** Encoders that ran, distinct, in order: GStreamer element names, or SPICE_SERVER_MJPEG. */
  encoders: string[];
  /** Streams the client told the server it could not decode ("the client does not support stream N"). */
  rejectedByClient: number;
}

/**
 * Reads the SPICE server's debug log: the bandwidth it measured, the bitrate and frame rate it chose
 * for the video stream, the frames it dropped, and which encoder ran. Lines of spice-server 0.15's
 * video-stream.cpp, gstreamer-encoder.c, mjpeg-encoder.c and dcc.cpp.
 */
export function parseServerLog(text: string): ServerLog {
  const metrics: Record<string, number> = {};
  const encoders: string[] = [];
  const targets: number[] = [];
  let drops = 0;
  let dropLines = 0;
  let tooSlow = 0;
  let rejectedByClient = 0;
  // The GStreamer pipeline spice-server last described: it logs the description before it builds
  // it, so the encoder counts as running only once it was configured (its bitrate set).
  let pipeline: string | undefined;
  const ran = (enc: string) => {
    if (!encoders.includes(enc)) encoders.push(enc);
  };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /net test: latency ([\d.]+) ms, bitrate (\d+) bps/.exec(line))) {
      metrics['server.net_test_latency_ms'] = Number(Number(m[1]).toFixed(2));
      metrics['server.net_test_bitrate'] = Number(m[2]);
    } else if ((m = /get_initial_bit_rate: base-bit-rate ([\d.]+) \(Mbps\)/.exec(line))) metrics['server.initial_bitrate'] = Math.round(Number(m[1]) * 1e6);
    else if ((m = /display_channel_create_stream: stream \d+ \d+x\d+ .* (\d+) fps/.exec(line))) metrics['server.stream_fps'] = Number(m[1]);
    else if ((m = /GStreamer pipeline: .*? ! ([\w-]+) name=encoder/.exec(line))) pipeline = m[1];
    else if ((m = /setting the GStreamer (bitrate|target-bitrate) to (\d+)/.exec(line))) {
      if (pipeline) ran(pipeline);
      const n = Number(m[2]);
      if (m[1] === 'target-bitrate' || (pipeline !== undefined && BIT_ENCODERS.has(pipeline))) targets.push(n / 1000);
      else if (pipeline !== undefined && KBIT_ENCODERS.has(pipeline)) targets.push((n * 1024) / 1000);
      // An encoder of unknown unit: no figure rather than a guess off by a factor of 1000.
    } else if (/GStreamer error/.test(line) && /WARNING|CRITICAL/.test(line)) pipeline = undefined;
    else if ((m = /update_next_frame_mm_time: drops=(\d+)/.exec(line))) {
      drops += Number(m[1]);
      dropLines++;
    } else if ((m = /mjpeg_encoder_process_server_drops: #drops (\d+) total \d+ fps (\d+)/.exec(line))) {
      ran(SPICE_SERVER_MJPEG);
      drops += Number(m[1]);
      dropLines++;
      metrics['server.encoder_fps'] = Number(m[2]);
    } else if ((m = /adjust_params_to_bit_rate: cur-fps=\d+ new-fps=(\d+) .*bit-rate=([\d.]+) \(Mbps\).* quality=(\d+)/.exec(line))) {
      ran(SPICE_SERVER_MJPEG);
      metrics['server.encoder_fps'] = Number(m[1]);
      targets.push(Number(m[2]) * 1000);
      metrics['server.mjpeg_quality'] = Number(m[3]);
    } else if (line.includes('/server/mjpeg-encoder.c:')) ran(SPICE_SERVER_MJPEG);
    else if ((m = /attach_stream: input-fps=(\d+)/.exec(line))) metrics['server.input_fps'] = Number(m[1]);
    else if (line.includes('seems to be too slow to encode')) tooSlow++;
    else if (/the client does not support stream \d+/.test(line)) rejectedByClient++;
  }
  if (targets.length > 0) {
    // targets are kbit/s: the stored figures are bits/s, as every bitrate is.
    metrics['server.target_bitrate'] = Math.round(targets.at(-1)! * 1000);
    metrics['server.target_bitrate.min'] = Math.round(Math.min(...targets) * 1000);
  }
  if (dropLines > 0) metrics['server.frames_dropped'] = drops;
  if (tooSlow > 0) metrics['server.too_slow_warnings'] = tooSlow;
  return { metrics, encoders, rejectedByClient };
}

/** The SPICE codec names (spice:mjpeg, gstreamer:vp8, ...) of the encoders the server ran. */
export function serverCodecs(log: ServerLog): string[] {
  const out: string[] = [];
  for (const e of log.encoders) {
    const c = e === SPICE_SERVER_MJPEG ? 'spice:mjpeg' : encoderCodec(e);
    if (c !== undefined && !out.includes(c)) out.push(c);
  }
  return out;
}

/** The codec family a SPICE codec name asks for (spice:mjpeg and gstreamer:mjpeg are both mjpeg on the wire). */
export function askedCodec(c: string): string {
  return c.split(':')[1]!;
}
