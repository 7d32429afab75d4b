import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTrace, MAHIMAHI_MTU, parseTrace, traceFromSpec, traceMeanBps, traceSpec, TraceError } from './net-trace.ts';

/** The TraceError parseTrace throws for `text`, as "line: what". */
function failure(text: string): string {
  try {
    parseTrace(text, 'x.trace');
  } catch (e) {
    assert.ok(e instanceof TraceError, String(e));
    assert.ok(e.message.startsWith(`x.trace${e.line > 0 ? `:${e.line}` : ''}: `), e.message);
    return `${e.line}: ${e.what}`;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

test('a Mahimahi trace: times, repeats, period and mean rate as Mahimahi counts them', () => {
  // Mahimahi's own example: a file holding just `1` is a constant 12 Mbit/s link.
  assert.equal(traceMeanBps(parseTrace('1\n', 'a')), 12e6);
  const t = parseTrace('# comment\n0\n0\n5\n\n10\n', 'a');
  assert.deepEqual(t, { format: 'mahimahi', times: [0, 0, 5, 10], periodMs: 10 });
  assert.equal(traceMeanBps(t), (4 * MAHIMAHI_MTU * 8 * 1000) / 10);
});

test('a steps trace: units, optional columns, the last step holding for ever', () => {
  const t = parseTrace('t,rate,delay,loss\n0,8M,10,1\n2.5,1M,0.05s,0%\n3000ms,0,0,0\n4,8M,0,0\n', 'a');
  assert.deepEqual(t, {
    format: 'steps',
    steps: [
      { tMs: 0, rateBps: 8e6, delayMs: 10, loss: 0.01 },
      { tMs: 2500, rateBps: 1e6, delayMs: 50, loss: 0 },
      { tMs: 3000, rateBps: 0, delayMs: 0, loss: 0 },
      { tMs: 4000, rateBps: 8e6, delayMs: 0, loss: 0 },
    ],
  });
  // Up to the last step (8M 2.5 s, 1M 0.5 s, 0 for 1 s) and the last for as long again (8M 4 s), over 8 s.
  assert.equal(traceMeanBps(t), (8e6 * 2.5 + 1e6 * 0.5 + 8e6 * 4) / 8);
  assert.deepEqual(parseTrace('t,rate\n0,2M\n', 'a'), { format: 'steps', steps: [{ tMs: 0, rateBps: 2e6, delayMs: 0, loss: 0 }] });
});

test('a bad trace is refused with its line and what is wrong', () => {
  assert.match(failure(''), /^0: the trace is empty/);
  assert.match(failure('0\n5\nfive\n'), /^3: 'five' is not a time in whole ms/);
  assert.match(failure('0\n5\n3\n'), /^3: time 3 ms comes before the line above \(5 ms\)/);
  assert.match(failure('0\n-4\n'), /^2: '-4' is not a time/);
  assert.match(failure('0\n0\n'), /the last time must be above 0 ms/);
  assert.match(failure('time,rate\n0,1M\n'), /^1: 'time,rate' is neither a Mahimahi time nor a steps header/);
  assert.match(failure('t,rate,delay\n0,1M\n'), /^2: 2 value\(s\) for the 3 columns t,rate,delay/);
  assert.match(failure('t,rate\n1,1M\n'), /^2: the first step is at t '1': it must be at 0/);
  assert.match(failure('t,rate\n0,1M\n\n2,fast\n'), /^4: rate 'fast' is not a bitrate/);
  assert.match(failure('t,rate\n0,1M\n2,2M\n2,3M\n'), /^4: t '2' is not after the step above \(2 s\)/);
  assert.match(failure('t,rate,delay,loss\n0,1M,10,101\n'), /^2: loss '101' is not a percentage from 0 to 100/);
  assert.match(failure('t,rate,delay\n0,1M,soon\n'), /^2: delay 'soon' is not a duration/);
  assert.match(failure('t,rate\n0,1M\n5,0\n'), /the last step has rate 0/);
  assert.match(failure('t,rate\n'), /^1: the header has no steps under it/);
});

test('the settings form carries the same trace, compactly, and is checked where it enters', () => {
  const times: number[] = [];
  for (let ms = 0; ms < 30_000; ms++) for (let k = 0; k < (ms % 7 === 0 ? 2 : 1); k++) times.push(ms);
  times.push(30_000);
  const parsed = parseTrace(`${times.join('\n')}\n`, 'a');
  const spec = traceSpec(parsed, 'a.trace', 'a'.repeat(64));
  assert.equal(spec.format, 'mahimahi');
  // 34 287 opportunities: far below the 128 KiB a command-line argument may hold.
  assert.ok(JSON.stringify(spec).length < 4096, `${JSON.stringify(spec).length} characters`);
  assert.deepEqual(traceFromSpec(JSON.parse(JSON.stringify(spec))), parsed);
  const steps = traceSpec(parseTrace('t,rate\n0,1M\n1,2M\n', 'b'), 'b', 'b'.repeat(64));
  assert.deepEqual(traceFromSpec(steps), {
    format: 'steps',
    steps: [
      { tMs: 0, rateBps: 1e6, delayMs: 0, loss: 0 },
      { tMs: 1000, rateBps: 2e6, delayMs: 0, loss: 0 },
    ],
  });
  assert.throws(() => traceFromSpec({ ...spec, count: 34288 }), /times hold 34287 opportunities/);
  assert.throws(() => traceFromSpec({ ...spec, sha256: 'x' }), /sha256/);
  assert.throws(() => traceFromSpec({ ...steps, steps: [{ tMs: 5, rateBps: 1, delayMs: 0, loss: 0 }] }), /must be 0 for the first/);
  assert.throws(() => traceFromSpec({ ...steps, format: 'csv' }), /neither mahimahi nor steps/);
});

test('a trace file is read with its hash; a missing one is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-'));
  const file = join(dir, 'up.trace');
  writeFileSync(file, '1\n');
  const { spec } = loadTrace(file);
  // sha256 of the two bytes "1\n" (as `sha256sum` prints it).
  assert.equal(spec.sha256, '4355a46b19d348dc2f57c046f8ef63d4538ebb936000f3c9ee954a27460dd865');
  assert.equal(spec.name, file);
  assert.throws(() => loadTrace(join(dir, 'none.trace')), /none\.trace: the trace file does not exist/);
  assert.throws(() => loadTrace(dir), /is not a regular file/);
});
