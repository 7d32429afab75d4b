/** How a pipeline role hands its per-frame events to the agent of its machine: batched, off the frame path. */
import { MAX_BODY_BYTES, type FrameEvent } from './protocol.ts';

/** A stretch of frame events a role gave up: how many, the first and last stamp (the role's clock, ms), and why. */
export interface EventGap {
  count: number;
  fromT: number;
  toT: number;
  why: string;
}

export interface EventPosterOptions {
  /** How often pending events are posted (default 1 s). */
  everyMs?: number;
  /**
   * Events kept for an agent that does not take them (default 100000, some minutes of a role's
   * events): past it the oldest are given up, counted as a gap, so an outage costs bounded memory.
   */
  maxPending?: number;
}

/**
 * One body's worth of events at most: half the agent's body limit, so that a piece of long
 * stage or role names still fits, and one post never holds the agent's loop for long.
 */
const PIECE_BYTES = MAX_BODY_BYTES / 2;
/** Events said as one gap entry at most: a long outage gives one growing gap, not thousands of entries. */
const MAX_GAPS = 1000;

/**
 * Collects events and posts them every `everyMs`, oldest first, in pieces the agent takes (a
 * backlog after an outage can be larger than one body may be). A post that failed on the way is
 * kept and tried again with the next one; one the agent refused (a wrong token, a bad body) would
 * be refused again: it is given up, counted, and said once on stderr (the role's log). Everything
 * given up (refused, pushed out of the bounded queue, still unsent at close) is a gap in `gaps`,
 * which the role's report carries so the point is flagged.
 */
export class EventPoster {
  private pending: FrameEvent[] = [];
  private timer: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();
  private readonly maxPending: number;
  /** Whether an event was taken since the last gap was noted (then a new gap starts a new entry). */
  private sentSinceGap = true;
  /** Posts that failed on the way (kept for the next). */
  failures = 0;
  /** Events the agent refused, and why the last time. */
  refused = 0;
  lastRefusal: string | undefined;
  /** Events the agent took. */
  sent = 0;
  /** Events given up, for whatever reason; each stretch of them is in `gaps`. */
  givenUp = 0;
  readonly gaps: EventGap[] = [];

  constructor(
    private readonly url: string,
    private readonly token?: string,
    opts: EventPosterOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 100_000;
    if (!(this.maxPending >= 1)) throw new Error(`EventPoster: maxPending ${this.maxPending} must be at least 1`);
    this.timer = setInterval(() => void this.flush(), opts.everyMs ?? 1000);
    this.timer.unref();
  }

  add(events: FrameEvent[]): void {
    for (const e of events) this.pending.push(e);
    const over = this.pending.length - this.maxPending;
    if (over > 0) this.giveUp(this.pending.splice(0, over), `the agent at ${this.url} took none of them while ${this.maxPending} more recent ones waited (queue full)`);
  }

  /** Posts what is pending, oldest first, piece by piece; resolves once all is sent, or a piece failed (kept) or was refused (given up). */
  flush(): Promise<void> {
    this.inflight = this.inflight.then(async () => {
      while (this.pending.length > 0) {
        const n = pieceLength(this.pending);
        const piece = this.pending.slice(0, n);
        const outcome = await this.post(piece);
        if (outcome === 'failed') return; // kept in pending: the next flush tries again
        this.pending.splice(0, n);
        if (outcome === 'sent') {
          this.sent += n;
          this.sentSinceGap = true;
        }
      }
    });
    return this.inflight;
  }

  /** Posts what is left; what the agent still did not take is given up and said as a gap. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.pending.length > 0) this.giveUp(this.pending.splice(0), `the agent at ${this.url} could not be reached when the role ended`);
  }

  private async post(events: FrameEvent[]): Promise<'sent' | 'failed' | 'refused'> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(new URL('/v1/events', this.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        body: JSON.stringify({ events }),
        // Generous: a busy machine's agent parsing a full piece is slow, and a post given up here is only retried.
        signal: AbortSignal.timeout(30_000),
      });
      text = await res.text();
    } catch {
      // Unreachable for now (the agent restarting, a busy machine): the next post carries these too.
      this.failures++;
      return 'failed';
    }
    if (res.ok) return 'sent';
    if (res.status >= 500) {
      this.failures++;
      return 'failed';
    }
    this.refused += events.length;
    const why = `the agent at ${this.url} refused them: ${res.status} ${text.slice(0, 200)}`;
    if (this.lastRefusal === undefined) process.stderr.write(`frame events: ${why}\n`);
    this.lastRefusal = why;
    this.giveUp(events, why);
    return 'refused';
  }

  private giveUp(events: FrameEvent[], why: string): void {
    if (events.length === 0) return;
    let fromT = Infinity;
    let toT = -Infinity;
    for (const e of events) {
      fromT = Math.min(fromT, e.t);
      toT = Math.max(toT, e.t);
    }
    this.givenUp += events.length;
    const last = this.gaps.at(-1);
    // Events given up one after another for the same reason, none taken between: one stretch.
    if (last && ((!this.sentSinceGap && last.why === why) || this.gaps.length >= MAX_GAPS)) {
      last.count += events.length;
      last.fromT = Math.min(last.fromT, fromT);
      last.toT = Math.max(last.toT, toT);
      if (last.why !== why && !last.why.endsWith('(and other reasons)')) last.why += ' (and other reasons)';
    } else {
      this.gaps.push({ count: events.length, fromT, toT, why });
    }
    this.sentSinceGap = false;
  }
}

/** How many of the oldest events fit one piece (at least one: a single event is far below the agent's limit). */
function pieceLength(events: FrameEvent[]): number {
  let bytes = 16; // {"events":[...]}
  for (let i = 0; i < events.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(events[i])) + 1;
    if (bytes > PIECE_BYTES) return Math.max(1, i);
  }
  return events.length;
}
