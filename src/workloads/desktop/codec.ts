/**
 * The family's codec rule, in one place: each side's codec comes from positive evidence in its own
 * logs or protocol (never from what was asked); `codec.match` holds only when the server encoded
 * the codec asked for and the client decoded its family; a codec asked but not used flags the
 * point quoting that evidence, and a stream the client could not decode fails it.
 */
import type { MetricValue } from '../../store/records.ts';

/** What a stack's logs say about the codec of a point. */
export interface CodecEvidence {
  /** The codec the point asked for, as the stack names it (spice:mjpeg, gstreamer:vp8, ...). */
  asked: string;
  /** Its family as a decoder sees it on the wire (mjpeg, vp8, vp9, h264). */
  askedFamily: string;
  /** Codecs (the stack's names) and encoders the server's logs show at work, distinct, in order. */
  server: { codecs: string[]; encoders: string[] };
  /** Codec families and decoders the client's logs show at work, distinct, in order. */
  client: { codecs: string[]; decoders: string[] };
  /** Video streams the client saw created; with none, the content went as images. */
  streams: number;
  /** Whether the settings ask for video streams at all (false: images are what was asked). */
  streamsExpected: boolean;
  /** Why the server encoded another codec than asked, in the stack's words, when its logs tell. */
  fallback?: string;
  /** A stream the client could not decode, quoting its logs: the point fails with it. */
  failure?: string;
}

/** The codec figures of a point, its flags, and the failure the evidence carries. */
export interface CodecVerdict {
  metrics: Record<string, MetricValue>;
  flags: string[];
  failure?: string;
}

/** Applies the family's codec rule to a stack's evidence. */
export function codecVerdict(e: CodecEvidence): CodecVerdict {
  const server = e.server.codecs.length > 0 ? e.server.codecs.join('+') : 'none';
  const client = e.client.codecs.length > 0 ? e.client.codecs.join('+') : 'none';
  const match = server === e.asked && client === e.askedFamily;
  const metrics: Record<string, MetricValue> = {
    'codec.asked': e.asked,
    'codec.server': server,
    'codec.server_encoder': e.server.encoders.length > 0 ? e.server.encoders.join('+') : 'none',
    'codec.client': client,
    'codec.client_decoder': e.client.decoders.length > 0 ? e.client.decoders.join('+') : 'none',
    'codec.match': match,
  };
  const flags: string[] = [];
  if (e.streams === 0) {
    if (e.streamsExpected) flags.push('no video stream was created: the content was sent as images');
  } else if (!match && e.server.codecs.length > 0 && !e.server.codecs.includes(e.asked)) {
    flags.push(`codec asked ${e.asked}, the server encoded ${server}${e.fallback !== undefined ? `: ${e.fallback}` : ''}`);
  } else if (!match) flags.push(`codec asked ${e.asked}: the server's log shows ${server}, the client's ${client}`);
  return { metrics, flags, ...(e.failure !== undefined ? { failure: e.failure } : {}) };
}
