/**
 * The `rdp` workload: a real RDP remote desktop per point (xrdp and xrdp-sesman of the point, a
 * session with xorgxrdp, xfreerdp), run by the desktop machinery (src/workloads/desktop/session.ts)
 * with RDP as its stack (stack.ts).
 */
import { errorMessage } from '../../base/errors.ts';
import { rdpSettings, type RdpSettings } from '../../config/rdp-settings.ts';
import { runDesktopPoint } from '../desktop/session.ts';
import type { PointContext, PointResult, Workload } from '../workload.ts';
import type { RdpWorkload } from './declare.ts';
import { RDP_STACK } from './stack.ts';

export class RdpRunner implements Workload {
  constructor(private readonly w: RdpWorkload) {}

  async run(ctx: PointContext): Promise<PointResult> {
    let s: RdpSettings;
    const params = { ...this.w.defaults, ...ctx.params };
    try {
      s = rdpSettings(params, { warmupS: ctx.warmupS, durationS: ctx.durationS ?? 10 }, this.w.content);
    } catch (e) {
      return { outcome: { status: 'failed', error: errorMessage(e) }, metrics: {}, wallS: 0, flags: [] };
    }
    return runDesktopPoint(ctx, RDP_STACK, s, { params, ...(this.w.content ? { content: this.w.content } : {}) });
  }
}
