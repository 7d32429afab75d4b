// CommandProbe: real commands printing JSON lines and Prometheus text, and its failures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandProbe, parseJsonLines, parsePrometheusText } from './custom.ts';

const node = (script: string) => [process.execPath, '-e', script];

test('JSON lines: nested objects flattened with dots, later lines win, strings left out', async () => {
  const p = new CommandProbe({
    name: 'enc',
    format: 'jsonl',
    intervalMs: 1000,
    argv: node(`console.log(JSON.stringify({fps: 59.94, queue: {depth: 3, max: 8}, codec: "h264", ok: true}));console.log('');console.log(JSON.stringify({fps: 60, lat: [1.5, 2]}))`),
  });
  assert.equal(p.name, 'custom.enc');
  assert.deepEqual(await p.sample(0), {
    'custom.enc.fps': 60,
    'custom.enc.queue.depth': 3,
    'custom.enc.queue.max': 8,
    'custom.enc.ok': 1,
    'custom.enc.lat.0': 1.5,
    'custom.enc.lat.1': 2,
  });
});

// The text of a small exporter: HELP and TYPE lines, labels (escapes included), a timestamp,
// a histogram's buckets, +Inf and NaN values.
const PROM = [
  '# HELP http_requests_total The total number of HTTP requests.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="post",code="200"} 1027 1395066363000',
  'http_requests_total{method="post",code="400"}    3 1395066363000',
  '',
  '# A comment',
  'process_open_fds 12',
  'encoder_frames_dropped{stream="cam \\"A\\"/1"} 4',
  'latency_seconds_bucket{le="0.05"} 24054',
  'latency_seconds_bucket{le="+Inf"} 144320',
  'latency_seconds_sum 53423',
  'gauge_nan NaN',
  'gauge_inf +Inf',
  'neg -1.5e-3',
  '# EOF',
].join('\n');

test('Prometheus text: labels folded into the name, # lines skipped, timestamps dropped, non-finite values left out', async () => {
  const p = new CommandProbe({ name: 'exp', format: 'prometheus', intervalMs: 1000, argv: node(`process.stdout.write(${JSON.stringify(PROM)})`) });
  assert.deepEqual(await p.sample(0), {
    'custom.exp.http_requests_total.post.200': 1027,
    'custom.exp.http_requests_total.post.400': 3,
    'custom.exp.process_open_fds': 12,
    'custom.exp.encoder_frames_dropped.cam__A__1': 4,
    'custom.exp.latency_seconds_bucket.0.05': 24054,
    'custom.exp.latency_seconds_bucket.+Inf': 144320,
    'custom.exp.latency_seconds_sum': 53423,
    'custom.exp.neg': -0.0015,
  });
});

test('parsers reject what they cannot read, with the line', () => {
  assert.throws(() => parseJsonLines('{"a": 1}\nnot json\n'), /line 2 is not JSON/);
  assert.throws(() => parseJsonLines('[1, 2]\n'), /not a JSON object/);
  assert.throws(() => parsePrometheusText('ok 1\n{bad} 2\n'), /line 2: no metric name/);
  assert.throws(() => parsePrometheusText('m{a="x} 1\n'), /unterminated/);
  assert.throws(() => parsePrometheusText('m{a="x"}\n'), /no value/);
});

test('a failing, slow or missing command fails the sample with the reason; a slow one is not run twice at once', async () => {
  const bad = new CommandProbe({ name: 'bad', format: 'jsonl', intervalMs: 1000, argv: node('console.error("boom"); process.exit(2)') });
  await assert.rejects(bad.sample(0), /custom\.bad: .* exited with code 2: boom/);
  const missing = new CommandProbe({ name: 'm', format: 'jsonl', intervalMs: 1000, argv: ['sb-no-such-command'] });
  await assert.rejects(missing.sample(0), /could not start/);
  const slow = new CommandProbe({ name: 's', format: 'jsonl', intervalMs: 100, timeoutMs: 300, argv: node('setTimeout(() => console.log("{\\"a\\":1}"), 5000)') });
  const t0 = Date.now();
  const a = slow.sample(0);
  assert.deepEqual(await slow.sample(100), {}, 'nothing new while the run is in flight');
  await assert.rejects(a, /timeout/);
  assert.ok(Date.now() - t0 < 3000);
  const garbage = new CommandProbe({ name: 'g', format: 'jsonl', intervalMs: 1000, argv: node('console.log("hello")') });
  await assert.rejects(garbage.sample(0), /unreadable jsonl/);
});
