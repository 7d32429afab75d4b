/**
 * The cost of one GCC decision, and of one `model` decision (gcc's estimate, then up to 108
 * candidate settings scored by two saved models: test/fixtures/models/), per feedback report,
 * against reading the same report off the wire (parseFeedback), measured in the same run: reports of a 4 Mbit/s UDP stream every 50 ms
 * (about 18 packets of 1400 bytes each), and of a 20 Mbit/s one (about 90), with a bottleneck's
 * growing delay so the detector and the controller take every path. CPU time per report.
 * Run: npx tsx bench/policy-decision.ts [reports]
 */
import { readFileSync } from 'node:fs';
import { modelFromCode } from '../src/config/saved-model.ts';
import { policyHash } from '../src/config/stream-settings.ts';
import { createGcc } from '../src/stream/policy/gcc.ts';
import { createModelPolicy } from '../src/stream/policy/model.ts';
import { encodeFeedback, parseFeedback, type FeedbackReport } from '../src/stream/wire.ts';

const N = Number(process.argv[2] ?? 20_000);

/** A model saved by the real `model fit` (test/helpers/model-fixture.ts wrote it). */
function savedModel(metric: string) {
  const name = new URL(`../test/fixtures/models/${metric}.json`, import.meta.url);
  const source = readFileSync(name, 'utf8');
  return modelFromCode({ name: name.pathname, source, sha256: policyHash(source) });
}
const models = { quality: savedModel('client.psnr'), cpu: savedModel('guest.cpu_pct') };
const REPS = 5;

/** N reports of a stream at `bps` into a link of half that rate, 50 ms apart. */
function reports(bps: number): Buffer[] {
  const perReport = Math.max(1, Math.round((bps * 0.05) / 8 / 1400));
  const out: Buffer[] = [];
  let pkt = 0;
  let linkFree = 0;
  for (let r = 0; r < N; r++) {
    const packets: FeedbackReport['packets'] = [];
    for (let i = 0; i < perReport; i++) {
      const send = r * 50 + (i * 50) / perReport;
      linkFree = Math.max(linkFree, send) + (1400 * 8 * 1000) / (bps / 2);
      // The queue is emptied every 2 s, as if the sender had backed off: over-use, under-use and normal all occur.
      if (r % 40 === 0) linkFree = send;
      packets.push({ pkt: pkt++, sendMs: send, arrivalMs: linkFree + 9_000_000, bytes: 1400 });
    }
    out.push(encodeFeedback({ report: r, atMs: r * 50, lost: r % 100 === 0 ? 1 : 0, packets }));
  }
  return out;
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const bps of [4e6, 20e6]) {
  const wire = reports(bps);
  const parsed = wire.map(parseFeedback);
  const parse: number[] = [];
  const decide: number[] = [];
  const decideModel: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    let t0 = process.cpuUsage();
    let n = 0;
    for (const b of wire) n += parseFeedback(b).packets.length;
    parse.push(cpuUs(t0) / N);
    if (n === 0) throw new Error('no packets parsed');
    const gcc = createGcc({ bitrateBps: bps, fps: 30, width: 1280, height: 720, codec: 'h264', transport: 'udp', params: {} });
    t0 = process.cpuUsage();
    let sum = 0;
    for (let i = 0; i < parsed.length; i++) sum += gcc.decide({ nowMs: i * 50, feedback: parsed[i]!, frames: [], probes: [], inFlightBytes: 0, guestCpuPct: 0, current: { bitrateBps: bps, fps: 30, width: 1280, height: 720 } })?.bitrate ?? 0;
    decide.push(cpuUs(t0) / N);
    if (!(sum > 0)) throw new Error('gcc decided nothing');
    const init = { bitrateBps: bps, fps: 30, width: 1280, height: 720, codec: 'h264', transport: 'udp' as const, params: {} };
    const base = { codec: 'h264', bitrate: bps, fps: 30, resolution: '1280x720', 'resolution.width': 1280, 'resolution.height': 720, 'resolution.pixels': 921600 };
    const model = createModelPolicy(init, { ...models, base, budgetPct: 50 });
    t0 = process.cpuUsage();
    let picked = 0;
    for (let i = 0; i < parsed.length; i++) picked += model.decide({ nowMs: i * 50, feedback: parsed[i]!, frames: [], probes: [], inFlightBytes: 0, guestCpuPct: 0, current: { bitrateBps: bps, fps: 30, width: 1280, height: 720 } })?.bitrate ?? 0;
    decideModel.push(cpuUs(t0) / N);
    if (!(picked > 0)) throw new Error('the model policy decided nothing');
  }
  const p = median(parse);
  const d = median(decide);
  const dm = median(decideModel);
  console.log(`${(bps / 1e6).toFixed(0)} Mbit/s, ${parsed[0]!.packets.length} packets per report: parse ${p.toFixed(2)} us/report, gcc decision ${d.toFixed(2)} us/report = ${(d / p).toFixed(1)}x the parse; at 20 reports/s that is ${((d * 20) / 1e4).toFixed(4)} % of a core`);
  console.log(`${(bps / 1e6).toFixed(0)} Mbit/s: model decision ${dm.toFixed(2)} us/report = ${(dm / p).toFixed(1)}x the parse, ${(dm / d).toFixed(1)}x gcc's; at 20 reports/s ${((dm * 20) / 1e4).toFixed(4)} % of a core`);
}
