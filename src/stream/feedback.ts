/** The client's side of receiver feedback: what it reports to the guest every feedback_ms. */
import { FEEDBACK_MAX_PACKETS, type FeedbackReport, type PacketArrival } from './wire.ts';

/**
 * The packets that arrived since the last feedback report, and those found lost: a gap in the
 * packet numbers is a loss, unless the missing packet turns up later (reordered by jitter) before
 * the report goes.
 */
export class FeedbackCollector {
  private packets: PacketArrival[] = [];
  private next = -1;
  private lost = 0;
  private report = 0;

  /** One packet arrived (its number, the guest's send stamp, the arrival here, its bytes on the wire). */
  arrived(pkt: number, sendMs: number, arrivalMs: number, bytes: number): void {
    if (this.next < 0 || pkt >= this.next) {
      if (this.next >= 0) this.lost += pkt - this.next;
      this.next = pkt + 1;
    } else if (this.lost > 0) this.lost--;
    this.packets.push({ pkt, sendMs, arrivalMs, bytes });
  }

  /** The report of everything since the last one; starts the next. */
  take(nowMs: number): FeedbackReport {
    // A report has room for so many packets; beyond (a long feedback_ms at a high rate) the newest go.
    const packets = this.packets.length > FEEDBACK_MAX_PACKETS ? this.packets.slice(-FEEDBACK_MAX_PACKETS) : this.packets;
    const r: FeedbackReport = { report: this.report++, atMs: nowMs, lost: this.lost, packets };
    this.packets = [];
    this.lost = 0;
    return r;
  }
}
