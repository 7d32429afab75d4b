/**
 * The agent protocol (HTTP + JSON), declared once: what the collector and the pipeline roles
 * send to an agent and what it answers. Every body is checked where it enters (`checkBody`).
 *
 *   GET  /v1/hello                        who the agent is: version, role, host facts, clock
 *   GET  /v1/time                         the agent's monotonic clock, for offset estimation
 *   POST /v1/sessions                     start recording a point: {id, probes, selectors}; a
 *                                         selector it cannot use (a bad regex) refuses it (400)
 *   POST /v1/sessions/:id/select          watch more processes: {selectors}
 *   GET  /v1/sessions/:id/batches?after=N&wait=MS
 *                                         batches with seq > N; asking for `after=N` acknowledges
 *                                         1..N, which the agent then forgets (kept until then, so a
 *                                         dropped connection loses nothing); each batch carries
 *                                         the probe failures since the previous one
 *   POST /v1/sessions/:id/stop            stop sampling; the last batch has `final: true`
 *   POST /v1/events                       frame events from a pipeline role on this machine
 *   POST /v1/run                          run a hook command (only when commands are allowed)
 *   GET  /metrics                         latest values, Prometheus text format
 *
 * Before any of them, every request passes src/base/request-rules.ts: the bearer token (always
 * for /v1/run), no Origin, a Host of this agent, JSON bodies only.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MAX_TIME_S } from '../base/duration.ts';

export const PROTOCOL_VERSION = 1;

/** The largest request body an agent reads; a pipeline role's event poster sends its backlog in pieces below it. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const Num = Type.Number();

export const Selector = Type.Object(
  {
    label: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
    pid: Type.Optional(Type.Integer({ minimum: 1 })),
    tree: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String()),
    cmdline: Type.Optional(Type.String()),
    cgroup: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Selector = Static<typeof Selector>;

export const ProbeSettings = Type.Object(
  {
    cpu: Type.Optional(Type.Union([Num, Type.Literal(false)])),
    mem: Type.Optional(Type.Union([Num, Type.Literal(false)])),
    net: Type.Optional(Type.Union([Num, Type.Literal(false)])),
    cpufreq: Type.Optional(Type.Union([Num, Type.Literal(false)])),
    gpu: Type.Optional(Type.Union([Num, Type.Literal(false)])),
    proc: Type.Optional(Num),
    custom: Type.Optional(
      Type.Array(Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), argv: Type.Array(Type.String(), { minItems: 1 }), format: Type.Union([Type.Literal('jsonl'), Type.Literal('prometheus')]), intervalMs: Num }, { additionalProperties: false })),
    ),
  },
  { additionalProperties: false },
);
export type ProbeSettings = Static<typeof ProbeSettings>;

export const SessionStart = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), probes: ProbeSettings, selectors: Type.Optional(Type.Array(Selector)) }, { additionalProperties: false });
export type SessionStart = Static<typeof SessionStart>;

export const SelectBody = Type.Object({ selectors: Type.Array(Selector) }, { additionalProperties: false });

/** One sampling of one probe: agent-clock time (monotonic ms) and its values. */
export const Sample = Type.Object({ t: Num, probe: Type.String(), values: Type.Record(Type.String(), Num) });
export type Sample = Static<typeof Sample>;

/** A per-frame event from a pipeline role: the stage it reached, on the agent's clock. */
export const FrameEvent = Type.Object({ t: Num, frame: Type.Integer({ minimum: 0 }), stage: Type.String(), role: Type.String(), value: Type.Optional(Num) });
export type FrameEvent = Static<typeof FrameEvent>;

export const EventsBody = Type.Object({ events: Type.Array(FrameEvent) }, { additionalProperties: false });

/** A probe that failed since the last batch: how often, and the latest reason (so the engine can flag the point, not only the agent's log). */
export const ProbeError = Type.Object({ probe: Type.String(), message: Type.String(), count: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export type ProbeError = Static<typeof ProbeError>;

export const Batch = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  session: Type.String(),
  samples: Type.Array(Sample),
  events: Type.Array(FrameEvent),
  /** CPU seconds the agent process used since the session started (its own overhead). */
  agentCpuS: Num,
  /** Batches the agent had to drop because nobody collected them (bounded memory). */
  dropped: Type.Integer({ minimum: 0 }),
  /** Probe failures since the previous batch (absent from agents that predate it: nothing failed, as far as they tell). */
  errors: Type.Optional(Type.Array(ProbeError)),
  final: Type.Boolean(),
});
export type Batch = Static<typeof Batch>;

export const BatchesReply = Type.Object({ agentId: Type.String(), batches: Type.Array(Batch) });
export type BatchesReply = Static<typeof BatchesReply>;

export const HostFacts = Type.Object({
  hostname: Type.String(),
  cpuModel: Type.String(),
  cores: Type.Integer(),
  memoryMb: Num,
  kernel: Type.String(),
  os: Type.String(),
  node: Type.String(),
  tools: Type.Record(Type.String(), Type.String()),
  /** The kernel's boot id: roles whose agents give the same one share a machine (its cores). */
  bootId: Type.Optional(Type.String()),
  /** The agent's time namespace (/proc/self/ns/time): with the boot id, whether it reads the engine's own monotonic clock. */
  timeNs: Type.Optional(Type.String()),
});
export type HostFacts = Static<typeof HostFacts>;

export const Hello = Type.Object({
  version: Type.Integer(),
  role: Type.String(),
  /** Random per agent process: a different one means the agent restarted and lost what it held. */
  agentId: Type.String(),
  pid: Type.Integer(),
  allowCommands: Type.Boolean(),
  facts: HostFacts,
  monoMs: Num,
});
export type Hello = Static<typeof Hello>;

export const TimeReply = Type.Object({ monoMs: Num });

/** An environment variable's name a process can be given: not empty, no '=' (it would set another variable) or NUL. */
export const EnvName = Type.String({ pattern: '^[^=\\u0000]+$' });
/** Variables to add to a command's environment. */
export const EnvVars = Type.Record(EnvName, Type.String(), { additionalProperties: false });

/**
 * `POST /v1/run`: an argv (never a shell), its timeout, variables to add. The timeout is bounded
 * as `validate` bounds a hook's (above 0, at most MAX_TIME_S): Node's timers hold 2^31-1 ms, and
 * a longer one (3000000 s, 1e308) fires at once, killing the command after a few milliseconds.
 */
export const RunBody = Type.Object({ argv: Type.Array(Type.String(), { minItems: 1 }), timeoutS: Type.Number({ exclusiveMinimum: 0, maximum: MAX_TIME_S }), env: Type.Optional(EnvVars) }, { additionalProperties: false });
export type RunBody = Static<typeof RunBody>;

export const RunReply = Type.Object({ exitCode: Type.Union([Type.Integer(), Type.Null()]), signal: Type.Union([Type.String(), Type.Null()]), stdout: Type.String(), stderr: Type.String(), seconds: Num, error: Type.Optional(Type.String()) });
export type RunReply = Static<typeof RunReply>;

/** A body that does not match its schema: the message names the first wrong field. */
export class ProtocolError extends Error {}

/** Returns the value typed when it matches the schema; throws ProtocolError naming what is wrong. */
export function checkBody<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  throw new ProtocolError(`${what}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`);
}
