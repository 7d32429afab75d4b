/**
 * What each role writes when its stream ends (`<role>.json` in the point directory): its
 * per-frame stage times on the machine's monotonic clock (ms), its CPU time while streaming, and
 * its counters. Declared once; `readRoleReport` checks a file where it enters the workload.
 */
import { controlFieldKind, type FieldsOf } from '../config/control-record.ts';
import type { EventGap, EventPoster } from '../record/event-poster.ts';
import { errorMessage } from '../base/errors.ts';
import { readFileSync } from 'node:fs';
import type { TimelineRecord } from './timeline.ts';

export interface GuestFrame {
  frame: number;
  /** When its capture tick was due: the window a frame belongs to is decided by it, as for skipped ticks. */
  due?: number;
  captureStart: number;
  captureEnd: number;
  encStart: number;
  encEnd: number;
  sendStart: number;
  sendEnd: number;
  bytes: number;
  key: boolean;
  /** The size it was encoded at (a live resolution change makes it smaller than the configured one). */
  width?: number;
  height?: number;
}

export interface HostFrame {
  frame: number;
  /** First byte (UDP: first fragment) in from the guest. */
  inFirst: number;
  /** Whole frame in: the read that completed it (UDP: the last of its fragments; NaN when one never came). */
  inEnd: number;
  /** Taken just before the call that handed its last byte (UDP: last fragment) to the socket toward the client; NaN when not all of it went. */
  outEnd: number;
  /** UDP fragments the relay dropped (queue full or emulated loss). */
  fragmentsDropped: number;
  /** UDP: fragments the frame was cut into. */
  fragments?: number;
}

export interface ClientFrame {
  frame: number;
  recvFirst: number;
  recvEnd: number;
  decStart: number;
  decEnd: number;
  /** Refresh at which it was shown; NaN when a newer frame replaced it first. */
  display: number;
  key: boolean;
  bytes: number;
  psnr: number;
  ssim: number;
  /** Why it was not decoded: 'lost' (never complete), 'no-keyframe' (waiting after a loss), 'decode-error'. */
  dropped?: string;
  /** The size it decoded at (before the scaling back to the configured size); absent when not decoded. */
  width?: number;
  height?: number;
}

/**
 * One decision taken while streaming (a change of bitrate, frame rate or resolution, or a
 * keyframe request), stamped along its way: decided (`t`, by `from`), first frame encoded with
 * it, first frame shown with it (added by the workload from the client's record). Times are ms on
 * the guest's monotonic clock in guest.json, on the point's clock in the point's controls.json.
 */
export interface ControlRecord {
  /** When it was decided (received or scheduled). */
  t: number;
  /** Who decided: 'schedule', 'stdin', 'client', or what the message named. */
  from: string;
  bitrate?: number;
  fps?: number;
  /** Size encoded at from then on, 'WxH'. */
  resolution?: string;
  keyframe?: boolean;
  /** The swscale algorithm the guest scales the source down with (a resolution change), e.g. 'swscale bicubic'. */
  scaler?: string;
  /** The swscale algorithm the client scales decoded pictures back to the configured size with (added by the workload). */
  scaledBack?: string;
  /** Whether the open encoder took it ('live') or was reopened for it, with a keyframe ('reopened'). */
  applied?: string;
  /** Why it was refused (the stream went on without it); a refused decision has no other stamp. */
  rejected?: string;
  /** The first frame encoded with it: its number, and when its encoding ended. */
  encodedFrame?: number;
  encodedMs?: number;
  /** The first frame shown at the client from `encodedFrame` on: its number and display time. */
  shownFrame?: number;
  shownMs?: number;
  /** From 'policy': what led to the decision (e.g. the estimated bandwidth, over-use/normal/under-use). */
  estimate?: Record<string, number | string>;
}

// The record has exactly the fields of the one table both readers check against.
type _FieldsMatch = FieldsOf<ControlRecord>;

/** Checks one decision record where it enters (a role report, controls.json); throws saying which field is wrong. */
export function parseControlRecord(v: unknown, where: string): ControlRecord {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: a control record must be an object`);
  const o = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(o)) {
    const want = controlFieldKind(k);
    if (want === undefined) throw new Error(`${where}: unknown field '${k}' in a control record`);
    // JSON carries an unknown time as null (nanToNull): read back as NaN.
    if (want === 'number' && x === null) {
      o[k] = NaN;
      continue;
    }
    if (want === 'estimate') {
      if (x === null || typeof x !== 'object' || Array.isArray(x) || !Object.values(x).every((e) => typeof e === 'number' || typeof e === 'string' || e === null))
        throw new Error(`${where}: control field 'estimate' must be an object of numbers and strings, got ${JSON.stringify(x)}`);
      continue;
    }
    if (typeof x !== want) throw new Error(`${where}: control field '${k}' must be a ${want}, got ${JSON.stringify(x)}`);
  }
  if (typeof o['t'] !== 'number' || typeof o['from'] !== 'string') throw new Error(`${where}: a control record needs t (a number) and from (a string)`);
  return o as unknown as ControlRecord;
}

export interface RoleReport {
  role: 'guest' | 'host' | 'client';
  pid: number;
  /** Monotonic ms when streaming started and ended in this role. */
  startMs: number;
  endMs: number;
  cpuUserS: number;
  cpuSystemS: number;
  /** User + system CPU of the whole process up to the report (start-up included), to check against the kernel. */
  cpuTotalS?: number;
  counters: Record<string, number>;
  frames: (GuestFrame | HostFrame | ClientFrame)[];
  controls?: ControlRecord[];
  /** Host: queue occupancy (and queueing delay) over time, toward the client. */
  queue?: { t: number[]; bytes: number[]; packets: number[]; delayMs?: number[] };
  /** Host: the capacity offered toward the client per 100 ms window (t: its start), where a rate or a trace limits the link. */
  capacity?: { t: number[]; bps: number[] };
  /** Host, with net_trace_up: the queue toward the guest. */
  queueUp?: { t: number[]; bytes: number[]; packets: number[]; delayMs?: number[] };
  /** Host, with net_trace_up: the capacity offered toward the guest per 100 ms window. */
  capacityUp?: { t: number[]; bps: number[] };
  notes?: string[];
  /** The role's CPU and counters over time (absent from reports written before it existed). */
  timeline?: TimelineRecord;
  /** The CPUs the process was allowed to run on, as the kernel lists them (/proc/self/status Cpus_allowed_list). */
  affinity?: string;
  /** Guest: the due time of each capture tick it skipped, by reason. */
  skipped?: { busy: number[]; congested: number[] };
  /**
   * The frame events handed to the agent of its machine (with --agent): how many it took, and
   * the stretches given up (refused, pushed out of the role's bounded queue during an outage, or
   * still unsent when the role ended), stamped on the role's clock. Absent without an agent, and
   * from reports written before it existed.
   */
  agentEvents?: { sent: number; givenUp: number; gaps: EventGap[] };
  /** Guest with a policy other than fixed: its name (and the hash of a user's file) and its target bitrate at each decision. */
  policy?: { name: string; sha256?: string; t: number[]; targetBps: number[] };
  /** Why the role failed while streaming (e.g. its policy threw); it then exits non-zero. */
  error?: string;
}

/** What a role's event poster did, for its report. */
export function agentEvents(poster: EventPoster | undefined): Pick<RoleReport, 'agentEvents'> {
  return poster ? { agentEvents: { sent: poster.sent, givenUp: poster.givenUp, gaps: poster.gaps.map((g) => ({ ...g })) } } : {};
}

/** Reads and checks a role report; throws naming the file when it is not one. */
export function readRoleReport(path: string, role: RoleReport['role']): RoleReport {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${errorMessage(e)}`);
  }
  const r = v as RoleReport;
  if (v === null || typeof v !== 'object' || r.role !== role || !Array.isArray(r.frames) || typeof r.startMs !== 'number' || typeof r.cpuUserS !== 'number') {
    throw new Error(`${path} is not a ${role} report`);
  }
  if (r.controls !== undefined) {
    if (!Array.isArray(r.controls)) throw new Error(`${path}: controls must be a list`);
    r.controls = r.controls.map((c, i) => parseControlRecord(c, `${path}: controls[${i}]`));
  }
  return r;
}

/** The CPUs this process may run on, as the kernel says (e.g. `0`, `0-1`); undefined where /proc does not tell. */
export function cpuAffinity(): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return undefined; // not Linux: the report simply has no affinity
  }
}

/** CPU seconds of this whole process so far. */
export function processCpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** JSON has no NaN: unknown times are written as null and read back as NaN. */
export function nanToNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && Number.isNaN(value) ? null : value;
}
