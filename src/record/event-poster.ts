/** How a pipeline role hands its per-frame events to the agent of its machine: batched, off the frame path. */
import type { FrameEvent } from './protocol.ts';

/**
 * Collects events and posts them every `everyMs`. A post that failed on the way is kept and tried
 * again with the next one; one the agent refused (a wrong token, a bad body) would be refused
 * again: it is dropped, counted, and said once on stderr (the role's log).
 */
export class EventPoster {
  private pending: FrameEvent[] = [];
  private timer: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();
  failures = 0;
  /** Events the agent refused, and why the last time. */
  refused = 0;
  lastRefusal: string | undefined;

  constructor(
    private readonly url: string,
    private readonly token?: string,
    everyMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  add(events: FrameEvent[]): void {
    this.pending.push(...events);
  }

  /** Posts what is pending; resolves once it is sent (or failed and was kept, or was refused). */
  flush(): Promise<void> {
    this.inflight = this.inflight.then(async () => {
      if (this.pending.length === 0) return;
      const events = this.pending;
      this.pending = [];
      let res: Response;
      let text: string;
      try {
        res = await fetch(new URL('/v1/events', this.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
          body: JSON.stringify({ events }),
          signal: AbortSignal.timeout(3000),
        });
        text = await res.text();
      } catch {
        // Unreachable for now (the agent restarting, a busy machine): the next post carries these too.
        this.failures++;
        this.pending = [...events, ...this.pending];
        return;
      }
      if (res.ok) return;
      if (res.status >= 500) {
        this.failures++;
        this.pending = [...events, ...this.pending];
        return;
      }
      this.refused += events.length;
      const why = `the agent at ${this.url} refused frame events: ${res.status} ${text.slice(0, 200)}`;
      if (this.lastRefusal === undefined) process.stderr.write(`${why}\n`);
      this.lastRefusal = why;
    });
    return this.inflight;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
