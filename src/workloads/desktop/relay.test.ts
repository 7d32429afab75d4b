import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ProxyReport } from '../../stream/proxy.ts';
import { capacitySeries, readRelayReport, relayFigures } from './relay.ts';

const channel = (index: number, type: string, downOut: number, upOut: number): ProxyReport['channels'][number] => ({ index, type, channelId: 0, downIn: downOut, downOut, upOut, openedMs: 1000, closedMs: 2000 });

/** A relay's report whose numbers are known: 100 ms bins from 1000 ms, the link from 1300 ms. */
const REPORT: ProxyReport = {
  role: 'host',
  mode: 'proxy',
  pid: 1,
  startMs: 1000,
  endMs: 1600,
  cpuUserS: 0,
  cpuSystemS: 0,
  channels: [channel(0, 'main', 500, 50), channel(1, 'display', 7000, 10), channel(2, 'display', 3000, 5), channel(3, 'tcp', 1, 2)],
  binMs: 100,
  downBins: [10, 20, 30, 40, 50, 60],
  upBins: [1, 2, 3, 4, 5, 6],
  linkStartMs: 1300,
  sentBins: [],
  capacityBps: [1e6, 2e6, 5e5],
  counters: { max_queue_bytes: 3072 },
};

const work = mkdtempSync(join(tmpdir(), 'sb-desktop-relay-'));
after(() => rmSync(work, { recursive: true, force: true }));

test("the relay's figures over the window: the bins it spans, bit rate over its duration, channels summed by type over the point", () => {
  // [1200, 1500): bins 2, 3 and 4.
  const m = relayFigures(REPORT, { fromMs: 1200, toMs: 1500, durationS: 0.3 });
  assert.equal(m['bytes.down'], 30 + 40 + 50);
  assert.equal(m['bytes.up'], 3 + 4 + 5);
  assert.equal(m['client.bitrate'], Math.round((120 * 8) / 0.3));
  assert.equal(m['channel.display.bytes_down'], 10_000);
  assert.equal(m['channel.display.bytes_up'], 15);
  assert.equal(m['channel.main.bytes_down'], 500);
  assert.equal(m['channel.tcp.bytes_up'], 2);
  assert.equal(m['host.max_queue_kb'], 3);
  // A window edge inside a bin takes that bin whole (its bytes cannot be split by time).
  assert.equal(relayFigures(REPORT, { fromMs: 1250, toMs: 1350, durationS: 0.1 })['bytes.down'], 30 + 40);
});

test("the offered capacity as the point's series: one row per bin from the link's start, on the point's clock, in seconds", () => {
  // The point began at 900 ms of the relay's clock.
  const s = capacitySeries(REPORT, (t) => t - 900);
  assert.deepEqual(s, { t: [0.4, 0.5, 0.6], capacity_bps: [1e6, 2e6, 5e5] });
  // An unlimited link offers nothing to plot.
  assert.equal(
    capacitySeries({ ...REPORT, capacityBps: [] }, (t) => t),
    undefined,
  );
});

test("a relay's report that is not one is refused naming the file and the field", () => {
  const good = join(work, 'good.json');
  writeFileSync(good, JSON.stringify(REPORT));
  assert.deepEqual(readRelayReport(good), REPORT);
  const bad = join(work, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...REPORT, capacityBps: 5 }));
  assert.throws(() => readRelayReport(bad), new RegExp(`the relay's report ${bad}: capacityBps must be a list`));
  writeFileSync(bad, '{"mode": "proxy", ');
  assert.throws(() => readRelayReport(bad), /the relay's report .*bad\.json: .*JSON/);
  assert.throws(() => readRelayReport(join(work, 'none.json')), /the relay's report .*none\.json: ENOENT/);
});
