/**
 * The `spice` workload: a real SPICE remote desktop per point, run by the desktop machinery
 * (src/workloads/desktop/session.ts: content on the guest display, the shaping relay, remote-viewer
 * on a virtual screen read back by a grabber, teardown) with SPICE as its stack (stack.ts).
 */
import { errorMessage } from '../../base/errors.ts';
import { spiceSettings, type SpiceSettings } from '../../config/spice-settings.ts';
import { runDesktopPoint } from '../desktop/session.ts';
import type { PointContext, PointResult, Workload } from '../workload.ts';
import type { SpiceWorkload } from './declare.ts';
import { SPICE_STACK } from './stack.ts';

export class SpiceRunner implements Workload {
  constructor(private readonly w: SpiceWorkload) {}

  async run(ctx: PointContext): Promise<PointResult> {
    let s: SpiceSettings;
    const params = { ...this.w.defaults, ...ctx.params };
    try {
      s = spiceSettings(params, { warmupS: ctx.warmupS, durationS: ctx.durationS ?? 10 }, this.w.content);
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: 0, flags: [] };
    }
    return runDesktopPoint(ctx, SPICE_STACK, s, { params, ...(this.w.content ? { content: this.w.content } : {}) });
  }
}
