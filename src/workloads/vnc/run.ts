/**
 * The `vnc` workload: a real VNC remote desktop per point, run by the desktop machinery
 * (src/workloads/desktop/session.ts: content on the guest display, the shaping relay, the viewer on
 * a virtual screen read back by a grabber, teardown) with VNC as its stack (stack.ts).
 */
import { errorMessage } from '../../base/errors.ts';
import { vncSettings, type VncSettings } from '../../config/vnc-settings.ts';
import { runDesktopPoint } from '../desktop/session.ts';
import type { PointContext, PointResult, Workload } from '../workload.ts';
import type { VncWorkload } from './declare.ts';
import { VNC_STACK } from './stack.ts';

export class VncRunner implements Workload {
  constructor(private readonly w: VncWorkload) {}

  async run(ctx: PointContext): Promise<PointResult> {
    let s: VncSettings;
    const params = { ...this.w.defaults, ...ctx.params };
    try {
      s = vncSettings(params, { warmupS: ctx.warmupS, durationS: ctx.durationS ?? 10 }, this.w.content);
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: 0, flags: [] };
    }
    return runDesktopPoint(ctx, VNC_STACK, s, { params, ...(this.w.content ? { content: this.w.content } : {}) });
  }
}
