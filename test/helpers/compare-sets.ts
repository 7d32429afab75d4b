// Three small result sets of stream points written as the engine commits them, for the compare
// view's test: `before` and `after` run the same settings (fps 15|30 x bitrate 1M|3M, 3 runs each)
// and differ by design: latency.p50 is 12 ms higher at 15 fps and 9 ms at 30 fps in `after` (a
// real change), guest.cpu_pct 6 points lower at 30 fps (real) and 0.1 higher at 15 fps (within the
// noise), client.psnr 0.05 dB higher everywhere (within the noise). The noise of a run is a fixed
// offset per repetition (the same three offsets on both sides, in another order), so what is real
// does not depend on a draw. `elsewhere` ran only at 60 fps: no setting in common with the others.
import { join } from 'node:path';
import { ResultSet } from '../../src/store/resultset.ts';

/** The noise of repetitions 1, 2 and 3: the same offsets on both sides, in another order. */
const NOISE = { before: [-0.4, 0.1, 0.3], after: [0.3, -0.4, 0.1], elsewhere: [-0.4, 0.1, 0.3] };

/** The figures of one run at a setting in one set. */
export function truth(set: 'before' | 'after' | 'elsewhere', fps: number, bitrate: number, rep: number): Record<string, number> {
  const e = NOISE[set][rep - 1]!;
  const after = set === 'after';
  const latency = 40 + 300 / fps + e * 2 + (after ? (fps === 30 ? 9 : 12) : 0);
  const cpu = 20 + 0.5 * fps + e + (after ? (fps === 30 ? -6 : 0.1) : 0);
  const psnr = 30 + 2 * Math.log(bitrate / 1e6) + e + (after ? 0.05 : 0);
  return { 'latency.p50': latency, 'guest.cpu_pct': cpu, 'client.psnr': psnr };
}

/** Writes the set `name` under `root`; returns its directory. */
export function writeCompareSet(root: string, name: 'before' | 'after' | 'elsewhere'): string {
  const dir = join(root, name);
  const set = ResultSet.openOrCreate(dir, name);
  set.index().close();
  let index = 0;
  for (const fps of name === 'elsewhere' ? [60] : [15, 30]) {
    for (const [label, bitrate] of [
      ['1M', 1e6],
      ['3M', 3e6],
    ] as const) {
      index++;
      const key = `p${index}-${fps}-${label}`;
      for (const rep of [1, 2, 3]) {
        const w = set.beginPoint(key, rep);
        w.commit({
          key,
          rep,
          index,
          params: { codec: 'h264', fps, bitrate: label },
          typed: { codec: 'h264', fps, bitrate },
          outcome: { status: 'ok' },
          attempts: 1,
          workload: 'stream',
          benchmark: { name, sha256: '0'.repeat(64) },
          startedAt: '2026-01-01T00:00:00.000Z',
          endedAt: '2026-01-01T00:00:05.000Z',
          wallS: 5,
          metrics: truth(name, fps, bitrate, rep),
          flags: [],
          conditions: { checked: ['saturated'], notChecked: [], found: [] },
        });
      }
    }
  }
  return dir;
}
