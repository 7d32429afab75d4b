/**
 * The floor under the pipeline's transport: the same two hops (guest to host, host to client) over
 * loopback TCP between three Node processes, nothing else done on the way (no framing, no
 * emulated network, no events), messages of a frame's size sent on a 30 fps clock. What it takes
 * from the write in the first process to the last byte read in the third is what any
 * three-process Node pipeline pays on this machine for its two hops: each wakes a sleeping
 * process. bench/pipeline-latency.ts prints the pipeline's transport stages against it.
 * Run alone, it prices one deferral in the relay: the relay writing each chunk on at once against
 * writing it from a setImmediate (what the emulated link did before its pass-through), in turns.
 * Run: npx tsx bench/tcp-hops.ts [rounds, default 4]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { monoMs } from '../src/base/clock.ts';

// The two other processes, as code run by `node -e` (an argv entry, no shell): a relay that
// writes each chunk on as it comes, and a sink that notes when each message's last byte came.
const RELAY = `
const net = require('node:net');
const server = net.createServer((up) => {
  up.setNoDelay(true);
  const down = net.connect({ port: Number(process.argv[1]), host: '127.0.0.1', noDelay: true });
  const defer = process.argv[2] === 'defer';
  up.on('data', (c) => (defer ? setImmediate(() => down.write(c)) : down.write(c)));
  up.on('end', () => down.end());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
const SINK = `
const net = require('node:net');
const size = Number(process.argv[1]);
const server = net.createServer((s) => {
  let got = 0;
  const out = [];
  s.on('data', (c) => {
    got += c.length;
    while (got >= size) { out.push(Number(process.hrtime.bigint()) / 1e6); got -= size; }
  });
  s.on('end', () => { console.log(JSON.stringify(out)); server.close(); });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

const firstLine = (c: ChildProcess): Promise<string> => new Promise((resolve) => createInterface({ input: c.stdout! }).once('line', resolve));

/** Median ms from each message's write to its last byte in the third process, over `count` messages of `bytes` sent at `fps`, the first second left out. */
export async function twoHopsMs(bytes: number, fps: number, count: number, defer = false): Promise<number> {
  const sink = spawn(process.execPath, ['-e', SINK, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sinkPort = await firstLine(sink);
  const relay = spawn(process.execPath, ['-e', RELAY, sinkPort, defer ? 'defer' : 'now'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const relayPort = Number(await firstLine(relay));
  const lines = createInterface({ input: sink.stdout });
  const arrivals = new Promise<number[]>((resolve) => lines.once('line', (l) => resolve(JSON.parse(l) as number[])));
  const sock = connect({ port: relayPort, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve) => sock.once('connect', resolve));
  const msg = Buffer.alloc(bytes, 7);
  const sent: number[] = [];
  const start = monoMs();
  for (let n = 0; n < count; n++) {
    await sleep(Math.max(0, start + (n * 1000) / fps - monoMs()));
    sent.push(monoMs());
    sock.write(msg);
  }
  sock.end();
  const got = await arrivals;
  relay.kill();
  const d = got.map((t, i) => t - sent[i]!).slice(fps);
  d.sort((a, b) => a - b);
  return d[d.length >> 1]!;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rounds = Number(process.argv[2] ?? 4);
  const now: number[] = [];
  const deferred: number[] = [];
  for (let r = 0; r < rounds; r++) {
    now.push(await twoHopsMs(8333, 30, 210));
    deferred.push(await twoHopsMs(8333, 30, 210, true));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const f = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(', ');
  console.log(`two hops, 8,333-byte frames at 30 fps: relay writing at once ${f(now)} ms; through setImmediate ${f(deferred)} ms`);
  console.log(`the deferral costs ${(med(deferred) - med(now)).toFixed(3)} ms per frame (medians of ${rounds} turns each)`);
}
