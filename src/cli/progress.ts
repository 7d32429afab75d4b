/** Shows engine events: a live status line on a terminal, plain lines otherwise. */
import { formatDuration } from '../base/duration.ts';
import type { EngineEvent } from '../engine/events.ts';
import type { Params } from '../config/resolved.ts';
import { cell } from './table.ts';

function settings(p: Params): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export class Progress {
  private live = '';
  constructor(
    private readonly out: NodeJS.WriteStream,
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- isTTY is undefined, not false, on a pipe or a file
    private readonly tty = Boolean(out.isTTY),
    private readonly showMetrics: readonly string[] = [],
  ) {}

  private clear(): void {
    if (this.tty && this.live) this.out.write('\r\x1b[2K');
    this.live = '';
  }

  private println(s: string): void {
    this.clear();
    this.out.write(s + '\n');
  }

  handle = (e: EngineEvent): void => {
    switch (e.type) {
      case 'plan':
        this.println(`${e.total} point(s) planned, ${e.recorded} already recorded, ${e.toRun} to run -> ${e.resultsDir}`);
        break;
      case 'reaped':
        this.println(`ended process group ${e.pid}, left running by an earlier interrupted run`);
        break;
      case 'warning':
        this.println(`warning: ${e.message}`);
        break;
      case 'hook':
        if (!e.ok) this.println(`hook ${e.where} failed: ${e.message}`);
        break;
      case 'point-start': {
        const eta = e.etaS !== undefined ? ` · ETA ${formatDuration(e.etaS)}` : '';
        const retry = e.attempt > 1 ? ` (attempt ${e.attempt})` : '';
        const text = `[${e.n}/${e.of}] ${settings(e.run.params)} r${e.run.rep}${retry}${eta}`;
        if (this.tty) {
          this.clear();
          this.live = text.slice(0, (this.out.columns || 100) - 1);
          this.out.write(this.live);
        } else {
          this.println(`${text} ...`);
        }
        break;
      }
      case 'point-end': {
        const r = e.record;
        const status = r.outcome.status === 'ok' ? 'ok' : r.outcome.status === 'failed' ? `FAILED: ${r.outcome.error}` : 'interrupted';
        const metrics = this.showMetrics
          .filter((m) => r.metrics[m] !== undefined)
          .map((m) => `${m}=${cell(r.metrics[m])}`)
          .join(' ');
        this.println(`[${e.n}/${e.of}] ${settings(r.params)} r${r.rep} ${formatDuration(r.wallS)} ${status}${metrics ? '  ' + metrics : ''}`);
        break;
      }
      case 'done':
        this.clear();
        break;
    }
  };
}
