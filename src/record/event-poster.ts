/** How a pipeline role hands its per-frame events to the agent of its machine: batched, off the frame path. */
import type { FrameEvent } from './protocol.ts';

/** Collects events and posts them every `everyMs`; a failed post is kept and tried again with the next one. */
export class EventPoster {
  private pending: FrameEvent[] = [];
  private timer: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();
  failures = 0;

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

  /** Posts what is pending; resolves once it is sent (or failed and was kept). */
  flush(): Promise<void> {
    this.inflight = this.inflight.then(async () => {
      if (this.pending.length === 0) return;
      const events = this.pending;
      this.pending = [];
      try {
        const res = await fetch(new URL('/v1/events', this.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
          body: JSON.stringify({ events }),
          signal: AbortSignal.timeout(3000),
        });
        if (!res.ok) throw new Error(`agent answered ${res.status}`);
        await res.text();
      } catch {
        this.failures++;
        this.pending = [...events, ...this.pending];
      }
    });
    return this.inflight;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
