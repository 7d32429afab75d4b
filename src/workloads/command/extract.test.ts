import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRule, describeRule, extractMetrics, extractWithReport, parseMetricValue } from './extract.ts';

test('parseMetricValue reads numbers with glued units and keeps other text', () => {
  assert.equal(parseMetricValue(' 809.8kbits/s'), 809.8);
  assert.equal(parseMetricValue('81.6x'), 81.6);
  assert.equal(parseMetricValue('12%'), 12);
  assert.equal(parseMetricValue('-1.5e3'), -1500);
  assert.equal(parseMetricValue('N/A'), 'N/A');
  assert.equal(parseMetricValue('inf'), 'inf');
  assert.equal(parseMetricValue('00:00:01.000000'), '00:00:01.000000');
  assert.equal(parseMetricValue('1280x720'), '1280x720');
});

test('regex: named groups, last by default, first, and aggregates over all matches', () => {
  const text = 'lat=10 ms\nlat=20 ms\nlat=60 ms\nnoise lat=x\n';
  const rule = { kind: 'regex', from: 'stdout', pattern: 'lat=(?<lat>[\\d.]+)' } as const;
  assert.deepEqual(applyRule(rule, text), { lat: 60 });
  assert.deepEqual(applyRule({ ...rule, take: 'first' }, text), { lat: 10 });
  assert.deepEqual(applyRule({ ...rule, take: 'all-mean' }, text), { lat: 30 });
  assert.deepEqual(applyRule({ ...rule, take: 'all-sum' }, text), { lat: 90 });
  assert.deepEqual(applyRule({ ...rule, take: 'all-max' }, text), { lat: 60 });
  assert.deepEqual(applyRule({ ...rule, take: 'all-min' }, text), { lat: 10 });
  assert.deepEqual(applyRule({ kind: 'regex', from: 'stdout', pattern: 'lat=(\\d+)', name: 'latency_ms' }, text), { latency_ms: 60 });
  assert.deepEqual(applyRule(rule, 'nothing here'), {});
});

test('jsonl: last object line by default, nested keys dotted, non-JSON lines skipped', () => {
  const text = ['starting', '{"n":1,"q":{"psnr":40.5}}', '{broken', '{"n":2,"q":{"psnr":41},"tag":"b","arr":[1]}', 'done'].join('\n');
  assert.deepEqual(applyRule({ kind: 'jsonl', from: 'stdout' }, text), { n: 2, 'q.psnr': 41, tag: 'b' });
  assert.deepEqual(applyRule({ kind: 'jsonl', from: 'stdout', take: 'first', prefix: 'x.' }, text), { 'x.n': 1, 'x.q.psnr': 40.5 });
});

test('keyvalue: without block_end the whole text is one block', () => {
  assert.deepEqual(applyRule({ kind: 'keyvalue', from: 'stderr' }, 'a=1\nb = 2.5 MB\nnot a pair\na=3\n'), { a: 3, b: 2.5 });
});

test("keyvalue on FFmpeg's real -progress output: the last block, and total_size is the bytes written", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-extract-'));
  try {
    const outFile = join(dir, 'out.h264');
    const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-frames:v', '45', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'psnr', '-flags', '+psnr', '-progress', 'pipe:1', '-f', 'h264', '-y', outFile], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const m = extractMetrics(
      [
        { kind: 'keyvalue', from: 'stdout', block_end: 'progress', prefix: 'ffmpeg.' },
        { kind: 'regex', from: 'stderr', pattern: 'PSNR Mean Y:(?<psnr_y>[\\d.]+) .*Global:(?<psnr_global>[\\d.]+)' },
      ],
      { stdout: r.stdout, stderr: r.stderr },
    );
    assert.equal(m['ffmpeg.progress'], 'end');
    assert.equal(m['ffmpeg.frame'], 45);
    // Reference: the byte count of the file FFmpeg wrote. The raw h264 muxer adds nothing.
    assert.equal(m['ffmpeg.total_size'], statSync(outFile).size);
    assert.equal(typeof m['ffmpeg.bitrate'], 'number');
    // The final summary line, not a per-frame-type line: it is the one with three decimals.
    assert.match(String(m['psnr_y']), /^\d+\.\d{1,3}$/);
    const summary = /\] PSNR Mean Y:([\d.]+)/.exec(r.stderr);
    assert.ok(summary);
    assert.equal(m['psnr_y'], Number(summary[1]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rule that extracts nothing is reported by its index, whatever the others give', () => {
  const rules = [
    { kind: 'regex', from: 'stdout', pattern: 'fps=(?<fps>[\\d.]+)' },
    { kind: 'regex', from: 'stderr', pattern: 'lat=(?<lat>[\\d.]+)' },
    { kind: 'jsonl', from: 'stdout' },
    { kind: 'keyvalue', from: 'stderr', block_end: 'progress' },
  ] as const;
  // stderr has a line that looks like neither a latency nor key=value; stdout has no JSON object.
  const r = extractWithReport(rules, { stdout: 'fps=29.97\n[1, 2]\n', stderr: 'latency: 12 ms\n' });
  assert.deepEqual(r.metrics, { fps: 29.97 });
  assert.deepEqual(r.unmatched, [1, 2, 3]);
  assert.deepEqual(extractWithReport(rules, { stdout: 'fps=30\n{"a":1}\n', stderr: 'lat=4\nprogress=end\n' }).unmatched, []);
  assert.equal(describeRule(rules[1]), "regex 'lat=(?<lat>[\\d.]+)'");
  assert.equal(describeRule(rules[2]), 'jsonl');
});
