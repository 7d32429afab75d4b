// Broken and hostile benchmark files, hand-written and generated from the examples: each one is
// refused with exit 2 and a bounded error naming the file (and its line where a line applies),
// never a crash, a hang, a stack trace or a written result. The output format checked here is
// the one docs/benchmark-file.md documents: one problem as `error: FILE:LINE:COL: message` (and a
// hint line), or `error: N problems` followed by at most 20 of them and `... and M more
// problem(s) not shown`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { main } from '../src/cli/main.ts';
import { FRAME_MAX, SCENE_MIN, SCENES } from '../src/config/stream-settings.ts';
import { MAX_SCENE_WIDTH, MIN_SCENE_HEIGHT, MIN_SCENE_WIDTH, SCENE_NAMES } from '../src/stream/scenes/index.ts';
import { seededRandom } from '../src/base/random.ts';
import { MAX_FILE_BYTES, MAX_FILE_VALUES } from '../src/config/limits.ts';

const root = new URL('..', import.meta.url).pathname;
const CLI = join(root, 'bin/streambench.js');
const work = mkdtempSync(join(tmpdir(), 'sb-fuzz-'));
// Tens of megabytes of hostile files: not left behind.
after(() => rmSync(work, { recursive: true, force: true }));
/** The generated cases are the same on every run; set STREAMBENCH_FUZZ_SEED to explore others. */
const SEED = Number(process.env['STREAMBENCH_FUZZ_SEED'] ?? 20240611);
/** Not a speed target: a case that takes this long has hung or gone quadratic (all cases run in a few ms to seconds). */
const HANG_S = 30;

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: unknown, _enc: BufferEncoding, cb: () => void): void {
    this.text += String(chunk);
    cb();
  }
}

/** The CLI in this process, with its output captured. */
async function cli(args: string[]) {
  const out = new Capture();
  const err = new Capture();
  const t0 = performance.now();
  const code = await main(args, out as unknown as NodeJS.WriteStream, err as unknown as NodeJS.WriteStream);
  return { code, out: out.text, err: err.text, seconds: (performance.now() - t0) / 1000 };
}

interface Case {
  name: string;
  file: string;
  /** Extra arguments (--set, --filter, --max-runs) for validate and run alike. */
  args?: string[];
  /** What the error must say. */
  expect?: RegExp;
  /** Each problem line starts with this instead of the file (a --set or --filter flag). */
  where?: string;
  /** Problem lines carry file:line:col (YAML text always has lines; a module's data has none). */
  lines?: boolean;
  /**
   * Only `validate` in this process: the YAML library takes seconds to parse these files, and
   * `run` loads them the same way (the real-executable test runs a 200000-run plan).
   */
  validateOnly?: boolean;
}

let counter = 0;
function write(name: string, content: string | Buffer, ext = '.yaml'): string {
  const dir = join(work, 'files');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, `${String(counter++).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}${ext}`);
  writeFileSync(p, content);
  return p;
}

/** A valid y4m of one 16x16 frame, for matrices that list it beside a bad source. */
const y4m = join(work, 'ok.y4m');
writeFileSync(y4m, Buffer.concat([Buffer.from('YUV4MPEG2 W16 H16 F30:1 C420jpeg\nFRAME\n'), Buffer.alloc((16 * 16 * 3) / 2, 128)]));

/** 200000 runs from two lists of 500 and 400 values. */
const BIG_PLAN = `name: fuzz\nworkload: {type: command, argv: [echo, "{a}"]}\nmatrix:\n  a: [${Array.from({ length: 500 }, (_, i) => i).join(',')}]\n  b: [${Array.from({ length: 400 }, (_, i) => i).join(',')}]\n`;

const HEAD = 'name: fuzz\nworkload: {type: command, argv: [echo, "{a}"]}\n';
const STREAM = 'name: fuzz\nworkload: {type: stream}\n';

/** Hand-written cases: the kinds found by trying as an attacker would, and more. */
function handCases(): Case[] {
  const cases: Case[] = [];
  const yaml = (name: string, text: string, expect?: RegExp, extra: Partial<Case> = {}) => cases.push({ name, file: write(name, text), lines: true, ...(expect ? { expect } : {}), ...extra });
  const ts = (name: string, text: string, expect: RegExp, lines: boolean, ext = '.ts') => cases.push({ name, file: write(name, text, ext), expect, lines });

  // Resource exhaustion.
  const bomb = ['name: bomb', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [i, x] of ['b', 'c', 'd', 'e', 'f'].entries()) bomb.push(`${x}: &${x} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`);
  yaml('alias bomb', `${bomb.join('\n')}\nworkload: {type: command, argv: [echo]}\nmatrix: {x: *f}\n`, /:3:\d+: YAML: aliases expand to too many nodes/);
  yaml('unresolved alias', `${HEAD}matrix: {a: *nope}\n`, /:3:\d+: YAML: Unresolved alias/);
  yaml('repeat 1e9', `${HEAD}matrix: {a: [1, 2]}\nrepeat: 1000000000\n`, /:3:1: the plan has more than 100000 runs: 2 combinations .* x repeat 1000000000/);
  const p12 = Array.from({ length: 12 }, (_, i) => `  p${i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`).join('\n');
  yaml('12 parameters x 10 values', `name: big\nworkload: {type: command, argv: [echo]}\nmatrix:\n${p12}\n`, /more than 100000 runs: 1000000000000 combinations of 12 parameter/);
  yaml('12 x 10 with repeat 2 and exclude', `name: big\nworkload: {type: command, argv: [echo]}\nmatrix:\n${p12}\nexclude: [{p0: 0}]\nrepeat: 2\n`, /more than 100000 runs: .* \(before exclude\) x repeat 2/);
  const heavy = { validateOnly: true };
  // Over the size allowed: refused before it is read, as a whole (no line).
  cases.push({ name: '200000-value list', file: write('200000-value list', `${HEAD}matrix:\n  a: [${Array.from({ length: 200_000 }, (_, i) => i).join(',')}]\n`), expect: new RegExp(`the benchmark file is 1\\.2 MiB, above the ${MAX_FILE_BYTES / 1048576} MiB allowed`) });
  yaml('4000 unknown keys', `${HEAD}matrix: {a: 1}\n${Array.from({ length: 4000 }, (_, i) => `k${i}: 1`).join('\n')}\n`, /^error: 4000 problems\n.*:4:1: unknown key 'k0'[^]*\.\.\. and 3980 more problem\(s\) not shown/, heavy);
  yaml('5000 bad matrix values', `${STREAM}matrix:\n  fps: [${Array.from({ length: 5000 }, (_, i) => 1000 + i).join(', ')}]\n`, /^error: 5000 problems\n.*fps '1000' must be a number from 1 to 240/, heavy);
  yaml('range of a billion', `${HEAD}matrix: {a: {from: 0, to: 1000000000}}\n`, /range of 'a': the range has 1000000001 values, above the 100000/);
  yaml('range count 1e9', `${HEAD}matrix: {a: {from: 0, to: 1, count: 1000000000}}\n`, /must be at most 100000/);
  yaml('range step 1e-300', `${HEAD}matrix: {a: {from: 0, to: 1, step: 1e-300}}\n`, /above the 100000 a range may have/);
  const deep = 'a: ' + '['.repeat(5000) + ']'.repeat(5000);
  yaml('nesting 5000 deep', `${HEAD}matrix:\n  ${deep}\n`);
  yaml('nesting 40 deep', `${HEAD}matrix:\n  a: ${'['.repeat(40)}1${']'.repeat(40)}\n`, /nested deeper than 16 levels/);
  // Durations the timers cannot hold, and other times.
  yaml('duration 600h', `${HEAD}matrix: {a: [1, 2]}\nduration: 600h\n`, /:4:11: '600h' is longer than the 168h \(7 days\)/);
  yaml('command timeout 600h', `name: t\nworkload: {type: command, argv: [echo], timeout: 600h}\nmatrix: {a: [1, 2]}\n`, /'600h' is longer than the 168h/);
  yaml('stream timeout 600h', `name: t\nworkload: {type: stream, timeout: 600h}\nmatrix: {codec: [h264]}\n`, /longer than the 168h/);
  yaml('warmup 5d + duration 5d', `${HEAD}matrix: {a: [1]}\nwarmup: 120h\nduration: 120h\n`, /warmup \+ duration is 240h00m, longer than the 168h/);
  yaml('duration 0', `${HEAD}matrix: {a: [1]}\nduration: 0\n`, /must be above 0/);
  yaml('duration 0ms', `${HEAD}matrix: {a: [1]}\nduration: 0ms\n`, /'0ms' must be above 0/);
  yaml('timeout 0', `name: t\nworkload: {type: command, argv: [echo], timeout: 0}\nmatrix: {a: [1]}\n`, /must be above 0/);
  yaml('hook timeout 600h', `${HEAD}matrix: {a: [1]}\nsetup: {run: [echo], timeout: 600h}\n`, /longer than the 168h/);
  yaml('hook timeout 0', `${HEAD}matrix: {a: [1]}\nhooks: {a: {before: {run: [echo], timeout: 0}}}\n`, /must be above 0/);
  yaml('sample_interval 1ms', `name: t\nworkload: {type: command, argv: [echo], sample_interval: 1ms}\nmatrix: {a: [1]}\n`, /shorter than the 10ms/);
  yaml('probe interval 0', `${HEAD}matrix: {a: [1]}\nrecording: {probes: {cpu: 0}}\n`, /shorter than the 10ms/);
  yaml('probe interval 600h', `${HEAD}matrix: {a: [1]}\nrecording: {probes: {mem: 600h}}\n`, /longer than the 168h/);
  yaml('custom probe every 1ms', `${HEAD}matrix: {a: [1]}\nrecording: {custom: [{name: x, run: [cat], format: jsonl, interval: 1ms}]}\n`, /shorter than the 10ms/);
  yaml('schedule after the end', `name: t\nworkload: {type: stream, schedule: [{at: 20s, bitrate: 1M}]}\nmatrix: {codec: [h264]}\nduration: 5s\n`, /at 20s is after the stream ends \(5s\)/);
  yaml('schedule at 600h', `name: t\nworkload: {type: stream, schedule: [{at: 600h}]}\nmatrix: {codec: [h264]}\n`, /longer than the 168h/);
  yaml('schedule resolution odd', `name: t\nworkload: {type: stream, schedule: [{at: 1s, resolution: 641x360}]}\nmatrix: {codec: [h264]}\n`, /:2:58: resolution '641x360' must be WxH with even numbers from 64x64 to 7680x4320/);
  yaml('schedule fps 0', `name: t\nworkload: {type: stream, schedule: [{at: 1s, fps: 1000}]}\nmatrix: {codec: [h264]}\n`, /fps 1000 must be from 1 to 240/);
  // The matrix says one thing and would run another.
  yaml('duplicate values', `${HEAD}matrix: {a: [1, 1, 1]}\n`, /:3:\d+: 1 is listed twice in 'a' \(items 1 and 2\)/);
  yaml('duplicate number and text', `${HEAD}matrix: {a: [1, "1"]}\n`, /'1' is listed twice in 'a'/);
  yaml('range with repeated values', `${HEAD}matrix: {a: {from: 1, to: 1, count: 3}}\n`, /the range of 'a' gives 1 twice/);
  yaml('linked combination twice', `${HEAD}matrix: {a: [1, 1], b: [2, 2]}\nlink: [[a, b]]\n`, /linked values 1 and 2 make the same combination \(a=1, b=2\)/);
  yaml('linked twice in a group', `${HEAD}matrix: {a: [1, 2], b: [1, 2]}\nlink: [[a, a]]\n`, /'a' is listed twice in this group/);
  yaml('link lengths differ', `${HEAD}matrix: {a: [1, 2], b: [1, 2, 3]}\nlink: [[a, b]]\n`, /same number of values: a has 2, b has 3/);
  yaml('exclude empty entry', `${HEAD}matrix: {a: [1, 2]}\nexclude: [{}]\n`, /:4:\d+: an empty entry in exclude matches every point, so nothing would run/);
  yaml('only empty entry', `${HEAD}matrix: {a: [1, 2]}\nonly: [{}]\n`, /an empty entry in only matches every point/);
  yaml('exclude empty list', `${HEAD}matrix: {a: [1, 2]}\nexclude: [{a: []}]\n`, /an empty list matches no value of 'a'/);
  yaml('exclude everything', `${HEAD}matrix: {a: [1, 2], b: [x, y]}\nexclude: [{a: [1, 2]}]\n`, /exclude and only leave no point to run/);
  yaml('only nothing', `${HEAD}matrix: {a: [1, 2], b: [x, y]}\nonly: [{a: 1, b: x}]\nexclude: [{b: x}]\n`, /exclude and only leave no point to run/);
  yaml('exclude unknown value', `${HEAD}matrix: {a: [1, 2]}\nexclude: [{a: 3}]\n`, /3 is not a value of 'a'/);
  yaml('step and count', `${HEAD}matrix: {a: {from: 1, to: 10, step: 1, count: 3}}\n`, /range of 'a': a range takes step or count, not both/);
  yaml('log with step', `${HEAD}matrix: {a: {from: 1, to: 100, step: 10, scale: log}}\n`, /a log range needs count/);
  yaml('log from 0', `${HEAD}matrix: {a: {from: 0, to: 100, count: 3, scale: log}}\n`, /a log range needs from and to above 0/);
  yaml('step 0', `${HEAD}matrix: {a: {from: 1, to: 2, step: 0}}\n`, /must be above 0/);
  yaml('seed -1', `${HEAD}matrix: {a: [1, 2]}\norder: {shuffle: -1}\n`, /:4:\d+: must be at least 0 \(at order\.shuffle\)/);
  yaml('seed 1e400', `${HEAD}matrix: {a: [1, 2]}\norder: {shuffle: 1e400}\n`, /Infinity is not a finite number/);
  yaml('seed 2^32', `${HEAD}matrix: {a: [1, 2]}\norder: {shuffle: 4294967296}\n`, /must be at most 4294967295/);
  yaml('seed 1.5', `${HEAD}matrix: {a: [1, 2]}\norder: {shuffle: 1.5}\n`, /must be integer/);
  yaml('group unknown', `${HEAD}matrix: {a: [1, 2]}\norder: {group: [b]}\n`, /unknown parameter 'b' in order\.group/);
  yaml('retries 1e9', `${HEAD}matrix: {a: [1]}\nretries: 1000000000\n`, /must be at most 100/);
  // Workload values checked before anything runs.
  yaml('scene nope', `name: t\nworkload: {type: stream, scene: nope}\nmatrix: {codec: [h264]}\n`, /:2:\d+: scene 'nope' is not one of idle, typing/);
  yaml('scene nope in matrix', `${STREAM}matrix: {scene: [typing, nope]}\n`, /:3:\d+: scene 'nope' is not one of/);
  yaml('spice scene nope', `name: t\nworkload: {type: spice, scene: nope}\nmatrix: {spice_codec: [spice:mjpeg]}\n`, /scene 'nope'/);
  yaml('spice window maybe', `name: t\nworkload: {type: spice}\nmatrix: {window: [maybe]}\n`, /window 'maybe' must be true or false/);
  yaml('spice deferred_fps 1e6', `name: t\nworkload: {type: spice, deferred_fps: 1000000}\nmatrix: {streaming: [all]}\n`, /deferred_fps '1000000' must be an integer from 1 to 240/);
  yaml('preset for another codec', `name: t\nworkload: {type: stream, preset: "8"}\nmatrix: {codec: [vp8, h264]}\n`, /preset '8' is not one of ultrafast/);
  yaml('preset out of range', `${STREAM}matrix: {codec: [vp9], preset: [4, 9]}\n`, /:3:\d+: preset '9' must be an integer from -8 to 8/);
  yaml('quality for h264', `${STREAM}matrix: {codec: [h264], quality: [23, 60]}\n`, /quality '60' must be a number from 0 to 51/);
  yaml('av1 bitrate 500M', `${STREAM}matrix: {codec: [av1], bitrate: [500M]}\n`, /bitrate '500M' is above what av1 takes \(100M\)/);
  yaml('bitrate 1e300', `${STREAM}matrix: {bitrate: [1e300]}\n`, /bitrate '1e\+300' must be between 1k and 1G/);
  yaml('fps NaN text', `${STREAM}matrix: {fps: [NaN]}\n`, /fps 'NaN' must be a number from 1 to 240/);
  yaml('fps true', `${STREAM}matrix: {fps: [true]}\n`, /fps 'true' must be a number/);
  yaml('fps negative', `${STREAM}matrix: {fps: [-30]}\n`, /fps '-30' must be a number/);
  yaml('threads 1e15', `${STREAM}matrix: {threads: [1000000000000000]}\n`, /threads '1000000000000000' must be an integer from 1 to 64/);
  yaml('resolution 99999x99999', `${STREAM}matrix: {resolution: [99999x99999]}\n`, /resolution '99999x99999' must be WxH/);
  yaml('resolution too small for a scene', `${STREAM}matrix: {resolution: [32x32]}\n`, /from 160x120 to 7680x4320/);
  yaml('net_delay 600h', `${STREAM}matrix: {net_delay: [600h]}\n`, /net_delay '600h' must be a duration from 0 to 60s/);
  yaml('net_delay negative', `${STREAM}matrix: {net_delay: [-5]}\n`, /net_delay '-5' must be a duration/);
  yaml('net_loss inf', `${STREAM}matrix: {net_loss: [inf]}\n`, /net_loss 'inf' is not a loss percentage/);
  yaml('gop text', `${STREAM}matrix: {gop: ["10 frames"]}\n`, /gop '10 frames' must be an integer from 1 to 100000/);
  // Templates.
  yaml('cwd placeholder', `name: t\nworkload: {type: command, argv: [echo, "{a}"], cwd: "/tmp/{b}"}\nmatrix: {a: [1, 2]}\n`, /:2:\d+: unknown placeholder \{b\} \(at workload\.cwd\)/);
  yaml('env placeholder', `name: t\nworkload: {type: command, argv: [echo], env: {X: "{nope}"}}\nmatrix: {a: [1]}\n`, /unknown placeholder \{nope\} \(at workload\.env\.X\)/);
  yaml('hook env placeholder', `${HEAD}matrix: {a: [1]}\nsetup: {run: [echo], env: {X: "{a}"}}\n`, /unknown placeholder \{a\} \(at setup\.env\.X\)/);
  yaml('hook argv placeholder', `${HEAD}matrix: {a: [1]}\nhooks: {a: {before: [echo, "{b}"]}}\n`, /unknown placeholder \{b\}/);
  yaml('lone brace', `name: t\nworkload: {type: command, argv: [echo, "a}b"]}\nmatrix: {a: [1]}\n`, /lone '\}'/);
  // Numbers that are not numbers.
  yaml('repeat .nan', `${HEAD}matrix: {a: [1]}\nrepeat: .nan\n`, /:4:\d+: NaN is not a finite number/);
  yaml('duration .inf', `${HEAD}matrix: {a: [1]}\nduration: .inf\n`, /Infinity is not a finite number/);
  yaml('warmup -.inf', `${HEAD}matrix: {a: [1]}\nwarmup: -.inf\n`, /-Infinity is not a finite number/);
  yaml('matrix 1e400', `${HEAD}matrix: {a: [1, 1e400]}\n`, /Infinity is not a finite number \(at matrix\.a\[1\]\)/);
  yaml('repeat NaN text', `${HEAD}matrix: {a: [1]}\nrepeat: NaN\n`, /must be integer/);
  yaml('repeat negative', `${HEAD}matrix: {a: [1]}\nrepeat: -1\n`, /must be at least 1/);
  yaml('duration negative', `${HEAD}matrix: {a: [1]}\nduration: -5\n`, /wrong form|must be at least 0/);
  yaml('duration NaN text', `${HEAD}matrix: {a: [1]}\nduration: NaN\n`, /does not have the expected form/);
  // YAML itself.
  yaml('binary tag', `${HEAD}matrix: {a: !!binary aGVsbG8=}\n`, /a (Uint8Array|Buffer) is not a value a benchmark file can hold/);
  yaml('unknown tag', `${HEAD}matrix: {a: !foo bar}\n`, /:3:\d+: YAML syntax: Unresolved tag/);
  yaml('duplicate key', `${HEAD}matrix: {a: [1]}\nname: again\n`, /:4:1: YAML: duplicate key 'name' \(first at line 1\)/);
  yaml('complex key', `${HEAD}matrix: {a: [1]}\n? [x, y]\n: 1\n`, /a key must be plain text/);
  yaml('two documents', `${HEAD}matrix: {a: [1]}\n---\n${HEAD}`, /multiple documents/);
  yaml('tab indentation', `${HEAD}matrix:\n\ta: [1]\n`, /YAML syntax: Tabs are not allowed/);
  yaml('unterminated list', `${HEAD}matrix: {a: [1, 2\n`, /YAML syntax/);
  yaml('unterminated quote', `${HEAD}matrix: {a: "x}\n`, /YAML syntax/);
  yaml('empty file', '', /:1:1: a benchmark file must be a mapping .* but it is empty/);
  yaml('only comments', '# nothing here\n# at all\n', /it is empty/);
  yaml('a list', '- a\n- b\n', /it is a list/);
  yaml('a scalar', 'hello\n', /it is text/);
  yaml('a number', '42\n', /it is a number/);
  yaml('BOM and a mistake', `\ufeff${HEAD}matrix: {a: [1]}\nrepaet: 2\n`, /:4:1: unknown key 'repaet'/);
  cases.push({ name: 'binary junk', file: write('binary junk', Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) % 256))), lines: true });
  yaml('NUL in the name', `name: "fu\\0zz"\nworkload: {type: command, argv: [echo]}\nmatrix: {a: [1]}\n`, /'fu\\x00zz' does not have the expected form/);
  yaml('NUL bytes raw', `${HEAD}matrix: {a: [1]}\nx\u0000y: 1\n`);
  yaml('unicode name', `name: bénchmark\nworkload: {type: command, argv: [echo]}\nmatrix: {a: [1]}\n`, /'bénchmark' does not have the expected form/);
  yaml('unicode parameter', `name: t\nworkload: {type: command, argv: [echo]}\nmatrix: {débit: [1]}\n`, /:3:\d+: the name 'débit' does not have the expected form/);
  yaml('parameter with a space', `name: t\nworkload: {type: command, argv: [echo]}\nmatrix: {a: [1], "b c": [[1, 2]]}\n`, /the name 'b c' does not have the expected form/);
  yaml('emoji key', `${HEAD}matrix: {a: [1]}\n🎥: 1\n`, /unknown key '🎥'/);
  yaml('right-to-left override', `${HEAD}matrix: {a: [1]}\n"\u202eevil": 1\n`, /unknown key/);
  yaml('megabyte name', `name: ${'x'.repeat(1_000_000)}\nworkload: {type: command, argv: [echo]}\nmatrix: {a: [1]}\n`, /must be at most 100 characters long/);
  yaml('megabyte key', `${HEAD}matrix: {a: [1]}\n${'k'.repeat(1_000_000)}: 1\n`, /YAML syntax: The : indicator must be at most 1024 chars/);
  yaml('1000-character key', `${HEAD}matrix: {a: [1]}\n${'k'.repeat(1000)}: 1\n`, /unknown key 'k{60}\.\.\.'/);
  yaml('megabyte value in exclude', `${HEAD}matrix: {a: [1, 2]}\nexclude: [{a: ${'v'.repeat(1_000_000)}}]\n`, /is not a value of 'a'/);
  yaml('long parameter name', `${HEAD}matrix: {${'p'.repeat(100)}: [1]}\n`, /is longer than 64 characters/);
  for (const n of ['rep', 'constructor', 'toString', 'hasOwnProperty']) yaml(`reserved ${n}`, `${HEAD}matrix: {a: [1], ${n}: [1]}\n`, new RegExp(`'${n}' is a reserved name`));
  yaml('__proto__ parameter', `${HEAD}matrix: {a: [1], __proto__: [1]}\n`, /'__proto__' is a reserved name/);
  // Type confusion.
  yaml('matrix is a number', `${HEAD}matrix: 5\n`, /must be object/);
  yaml('matrix is a list', `${HEAD}matrix: [a, b]\n`, /must be object/);
  yaml('workload is text', `name: t\nworkload: command\nmatrix: {a: [1]}\n`, /must be object/);
  yaml('workload type unknown', `name: t\nworkload: {type: comand, argv: [echo]}\nmatrix: {a: [1]}\n`, /did you mean 'command'/);
  yaml('argv is text', `name: t\nworkload: {type: command, argv: "rm -rf /"}\nmatrix: {a: [1]}\n`, /must be array/);
  yaml('argv of numbers', `name: t\nworkload: {type: command, argv: [1, 2]}\nmatrix: {a: [1]}\n`, /must be string/);
  yaml('name is a number', `name: 123\nworkload: {type: command, argv: [echo]}\nmatrix: {a: [1]}\n`, /must be string/);
  yaml('exclude is a mapping', `${HEAD}matrix: {a: [1]}\nexclude: {a: 1}\n`, /must be array/);
  yaml('nested list value', `${HEAD}matrix: {a: [[1, 2]]}\n`, /wrong form/);
  yaml('bad regex', `name: t\nworkload: {type: command, argv: [echo], metrics: [{regex: "(?<x>"}]}\nmatrix: {a: [1]}\n`, /invalid regular expression/);
  // Command-line flags are input too.
  cases.push({ name: '--set into the prototype', file: write('set-proto', `${HEAD}matrix: {a: [1]}\n`), args: ['--set', 'recording.__proto__.polluted=1'], expect: /is not a field path/, where: '--set' });
  cases.push({ name: '--set duration=600h', file: write('set-duration', `${HEAD}matrix: {a: [1]}\n`), args: ['--set', 'duration=600h'], expect: /^error: --set duration=600h: '600h' is longer than the 168h/, where: '--set' });
  cases.push({ name: '--set repeat=1e9', file: write('set-repeat', `${HEAD}matrix: {a: [1]}\n`), args: ['--set', 'repeat=1000000000'], expect: /more than 100000 runs/, lines: true });
  cases.push({ name: '--max-runs 2 on 3 runs', file: write('max-runs', `${HEAD}matrix: {a: [1, 2, 3]}\n`), args: ['--max-runs', '2'], expect: /more than 2 runs/, lines: true });
  cases.push({ name: '--max-runs 0', file: write('max-runs-0', `${HEAD}matrix: {a: [1]}\n`), args: ['--max-runs', '0'], expect: /--max-runs: '0' is not a positive whole number/, where: 'streambench' });
  cases.push({ name: '--max-runs text', file: write('max-runs-x', `${HEAD}matrix: {a: [1]}\n`), args: ['--max-runs', '1e400'], expect: /is not a positive whole number/, where: 'streambench' });
  // Files that are not files.
  cases.push({ name: 'a directory', file: join(work, 'files'), expect: /cannot read the benchmark file: EISDIR/ });
  cases.push({ name: 'no such file', file: join(work, 'nope.yaml'), expect: /cannot read the benchmark file: ENOENT/ });
  cases.push({ name: '17 MiB file', file: write('huge', `${HEAD}matrix: {a: [1]}\n${'#'.repeat(17 * 1024 * 1024)}\n`), expect: new RegExp(`is 17\\.0 MiB, above the ${MAX_FILE_BYTES / 1048576} MiB allowed`) });
  // TypeScript and JavaScript modules: code that throws, hangs on nothing, or exports what JSON cannot hold.
  const good = `{ name: 'm', workload: { type: 'command', argv: ['echo'] }, matrix: { a: [1] } }`;
  // Outside an ESM package, tsx runs a module as CommonJS from a data: URL: its stack has no line to quote.
  ts('module throws', `const x = 1;\nthrow new TypeError('boom at load');\nexport default ${good};\n`, /the module failed to load: boom at load/, false);
  ts('module throws null', `throw null;\nexport default ${good};\n`, /the module failed to load: null/, false);
  ts('module does not compile', `export default {\n  name: 'x',\n  matrix: { a: [1, }\n};\n`, /:3:\d+: the module does not compile: /, true);
  ts('module imports nothing', `import x from './no-such-module.ts';\nexport default x;\n`, /the module failed to load: Cannot find module/, false);
  ts('default function throws', `export default () => {\n  throw new RangeError('no plan');\n};\n`, /the module's default export \(a function\) failed: no plan/, false);
  ts('default async function rejects', `export default async () => {\n  await null;\n  throw new Error('later');\n};\n`, /default export \(a function\) failed: later/, false);
  ts('no default export', `export const x = ${good};\n`, /the module has no default export/, false);
  ts('default export is a number', `export default 42;\n`, /must be a mapping .* but it is a number/, false);
  ts('cyclic', `const b: Record<string, unknown> = ${good};\nb['self'] = b;\nexport default b;\n`, /a value that contains itself \(at self\)/, false);
  ts(
    'shared fan-out',
    `let o: unknown = 1;\nfor (let i = 0; i < 16; i++) { const n: Record<string, unknown> = {}; for (let k = 0; k < 10; k++) n['k' + k] = o; o = n; }\nexport default { ...${good}, description: o };\n`,
    new RegExp(`the data holds more than ${MAX_FILE_VALUES} values`),
    false,
  );
  ts('bigint', `export default { ...${good}, repeat: 10n };\n`, /a bigint is not a value a benchmark file can hold/, false);
  ts('date', `export default { ...${good}, description: new Date(0) };\n`, /a Date is not a value/, false);
  ts('map', `export default { ...${good}, matrix: new Map([['a', [1]]]) };\n`, /a Map is not a value/, false);
  ts('function value', `export default { ...${good}, repeat: () => 2 };\n`, /a function is not a value/, false);
  ts('NaN repeat', `export default { ...${good}, repeat: NaN };\n`, /NaN is not a finite number/, false);
  ts('Infinity duration', `export default { ...${good}, duration: Infinity };\n`, /Infinity is not a finite number/, false);
  ts('unknown key', `export default { ...${good}, repat: 2 };\n`, /unknown key 'repat'/, false);
  ts('2000 deep', `let o: unknown = 1;\nfor (let i = 0; i < 2000; i++) o = [o];\nexport default { ...${good}, description: o };\n`, /nested deeper than 16 levels/, false);
  ts('JavaScript module throws', `export default (() => { throw new Error('js boom'); })();\n`, /the module failed to load: js boom/, false, '.mjs');
  // Names every object has, where a name is looked up (issue 19): never the prototype's property.
  for (const n of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    yaml(`workload type ${n}`, `name: t\nworkload: {type: ${n}, argv: [echo]}\nmatrix: {a: [1]}\n`, new RegExp(`:2:\\d+: unknown workload type '${n}'`));
    cases.push({ name: `--set workload.type=${n}`, file: write(`set-type-${n}`, `${HEAD}matrix: {a: [1]}\n`), args: ['--set', `workload.type=${n}`], expect: new RegExp(`unknown workload type '${n}'`), where: '--set' });
  }
  yaml('workload type constructor with processes', `name: t\nworkload: {type: constructor, argv: [echo]}\nmatrix: {a: [1]}\nrecording: {processes: [{label: x, name: y}]}\n`, /unknown workload type 'constructor'/);
  ts('module type toString', `export default { name: 'm', workload: { type: 'toString', argv: ['echo'] }, matrix: { a: [1] } };\n`, /unknown workload type 'toString'/, false);
  // A stream's source is checked where it is written: a file that exists, is regular, and is a y4m.
  const fifo = join(work, 'fifo.y4m');
  spawnSync('mkfifo', [fifo]);
  for (const [what, path, expect] of [
    ['/etc/passwd', '/etc/passwd', /source '\/etc\/passwd' is not a YUV4MPEG2 file: it starts with 'root:/],
    ['a FIFO', fifo, /source '[^']*fifo\.y4m' is not a regular file \(it is a FIFO\)/],
    ['a missing file', join(work, 'nope.y4m'), /source '[^']*nope\.y4m' does not exist/],
    ['a directory', work, /is not a regular file \(it is a directory\)/],
    ['an empty file', write('empty-y4m', '', '.y4m'), /is not a YUV4MPEG2 file: it is empty/],
    ['a y4m without a size', write('nosize', 'YUV4MPEG2 F30:1 C420\nFRAME\n', '.y4m'), /header lacks the width \(W\)/],
  ] as const) {
    yaml(`stream source: ${what}`, `name: t\nworkload: {type: stream, source: "${path}"}\nmatrix: {codec: [h264]}\n`, new RegExp(`:2:\\d+: .*${expect.source}.* \\(at workload\\.source\\)`));
    yaml(`stream source in the matrix: ${what}`, `name: t\nworkload: {type: stream}\nmatrix:\n  source: ["${y4m}", "${path}"]\n`, new RegExp(`:4:\\d+: .*${expect.source}.* \\(at matrix\\.source\\[1\\]\\)`));
  }
  // Programs and environments a process could not be started with, or that would rewrite another variable.
  yaml('argv with an empty program', `name: t\nworkload: {type: command, argv: [""]}\nmatrix: {a: [1]}\n`, /:2:\d+: the program name \(argv\[0\]\) is empty \(at workload\.argv\[0\]\)/);
  yaml('hook with an empty program', `${HEAD}matrix: {a: [1]}\nsetup: {run: ["", x]}\n`, /the program name \(argv\[0\]\) is empty \(at setup\.run\[0\]\)/);
  yaml('custom probe with an empty program', `${HEAD}matrix: {a: [1]}\nrecording: {custom: [{name: x, run: [""], format: jsonl}]}\n`, /the program name \(argv\[0\]\) is empty/);
  for (const key of ['', 'A=B', 'PATH=/tmp/evil:/usr/bin:/bin', 'A\\0B']) {
    yaml(`env key ${JSON.stringify(key)}`, `name: t\nworkload: {type: command, argv: [echo], env: {"${key}": x}}\nmatrix: {a: [1]}\n`, /:2:\d+: .* is not an environment variable name: a name is not empty and holds no '=' or NUL/);
    yaml(`hook env key ${JSON.stringify(key)}`, `${HEAD}matrix: {a: [1]}\nsetup: {run: [echo], env: {"${key}": x}}\n`, /is not an environment variable name/);
  }
  // Files that would cost more to parse than they are worth: refused before the costly parse.
  cases.push({
    name: '1.2 million values in 8.5 MB',
    file: write('1.2 million values in 8.5 MB', `${HEAD}matrix:\n  a: [${Array.from({ length: 1_200_000 }, (_, i) => i).join(',')}]\n`),
    expect: new RegExp(`the benchmark file is 8\\.1 MiB, above the ${MAX_FILE_BYTES / 1048576} MiB allowed`),
  });
  yaml('more values than allowed', `${HEAD}matrix:\n  a: [${Array.from({ length: MAX_FILE_VALUES }, (_, i) => i % 10).join(',')}]\n`, new RegExp(`:4:\\d+: the file holds more than ${MAX_FILE_VALUES} values`));
  yaml('more empty lists than allowed', `${HEAD}matrix: {a: [1]}\ndescription: [${Array(MAX_FILE_VALUES).fill('[]').join(',')}]\n`, new RegExp(`the file holds more than ${MAX_FILE_VALUES} values`));
  ts('module with more values than allowed', `export default { ${good.slice(1, -1)}, description: Array.from({ length: ${MAX_FILE_VALUES + 1} }, () => 'x') };\n`, new RegExp(`the data holds more than ${MAX_FILE_VALUES} values`), false);
  // A module is code: what it throws while its data is read is the file's error.
  ts('module getter throws', `export default { ${good.slice(1, -1)}, get repeat(): number { throw new Error('getter boom'); } };\n`, /a getter \(repeat\) is not a value a benchmark file can hold/, false);
  ts('module proxy throws', `export default new Proxy({}, { ownKeys() { throw new Error('proxy boom'); } });\n`, /the module's data cannot be read: proxy boom/, false);
  return cases;
}

let hand: Case[] | undefined;
/** The hand-written cases, written to disk once. */
const handWritten = (): Case[] => (hand ??= handCases());

/** Values no field of the schema accepts where they are put, by field. */
function badValues(p: string, v0: unknown): Record<string, unknown[]> {
  return {
    name: ['', 'a b', '../up', '-dash', 123, null, true, [], {}, 'x'.repeat(101), 'ünï', 'a/b'],
    description: [1, [], {}, null, true],
    repeat: [0, -1, 1.5, '2', null, true, 1e9, 2 ** 53, [], {}, 'NaN'],
    warmup: [-1, 'soon', '600h', '5 parsecs', 604801, [], {}, true, '-1s', '1e3s'],
    duration: [0, -5, 'forever', '169h', 1e12, [], { a: 1 }, false, '', '0s'],
    on_error: ['ignore', 1, null, [], 'STOP'],
    retries: [-1, 101, 1.5, 'x', 1e9, null],
    order: ['random', 1, { shuffle: -1 }, { shuffle: 1.5 }, { shuffle: 2 ** 32 }, { shuffle: 'x' }, { group: [] }, { group: ['no_such_param'] }, { shuffle: 1, group: [p] }, {}, null],
    link: ['x', [['no_such_a', 'no_such_b']], [[p]], [[p, p]], [p], 5],
    exclude: ['x', {}, [{}], [1], [{ no_such_param: 1 }], [{ [p]: [] }], [{ [p]: 'no-such-value-zz' }], [[]]],
    only: ['x', {}, [{}], [1], [{ no_such_param: 1 }], [{ [p]: [] }], [{ [p]: 'no-such-value-zz' }], [[]]],
    setup: [[1], { run: [] }, { run: ['echo'], timeout: '600h' }, { run: ['echo'], timeout: 0 }, { run: ['echo', '{no_such}'] }, { run: ['echo'], env: { X: '{no_such}' } }, { run: ['echo'], on: 'ghost' }, 'echo hi', { run: ['echo'], extra: 1 }],
    teardown: [{ run: ['echo', '{point_dir}'] }, { run: ['echo'], timeout: -1 }, 5],
    hooks: [{ no_such_param: { before: ['echo'] } }, { [p]: { before: [['echo', '{no_such}']] } }, { [p]: { before: { run: ['echo'], timeout: 0 } } }, { [p]: { during: ['x'] } }, { [p]: 'echo' }, []],
    recording: [
      'yes',
      true,
      { agents: { guest: 'remote' } },
      { probes: { cpu: '1ms' } },
      { probes: { cpu: 0 } },
      { probes: { cpu: '600h' } },
      { custom: [{ name: 'x', run: ['cat'], format: 'csv' }] },
      { agents: { guest: { url: 'ftp://x' } } },
      { unknown: 1 },
      { probes: { proc: false } },
    ],
    matrix: [{}, [], 'x', null, 5, { 'bad name': [1] }, { rep: [1] }, { [p]: [] }, { [p]: { from: 1 } }, { [p]: { from: 1, to: 2, step: 0 } }, { [p]: [v0, v0] }, { [p]: [[1, 2]] }, { [p]: { nested: 1 } }],
  };
}

/** Values each workload type refuses, for fields the example does not vary in its matrix. */
const WORKLOAD_BAD: Record<string, Record<string, unknown[]>> = {
  command: {
    argv: [[], [1], ['echo', '{no_such}'], 'echo hi', ['echo', '{']],
    cwd: ['{no_such}', 5],
    timeout: [0, '600h', 'x'],
    env: [{ A: '{no_such}' }, { A: 1 }, 'x'],
    sample_interval: ['1ms', 0, '600h'],
    metrics: [[{ regex: '(' }], [{ regex: 'abc' }], [{ jsonl: 'yes' }], 'x'],
    success_exit_codes: ['x', [1.5]],
    type: ['comand', 5, null],
    argz: [['echo']],
  },
  stream: {
    codec: ['h246', 5, true, ''],
    bitrate: ['-1', 0, 'fast', 1e12, '1T'],
    fps: [0, 241, 'x', true, -30, '30fps'],
    resolution: ['641x360', '1x1', '100000x100000', 'big', 1280],
    scene: ['nope', 3],
    transport: ['sctp'],
    net_loss: [101, -1, 'lots'],
    net_delay: ['-5ms', '600h', 'x', -1],
    threads: [0, 65, 1.5, 'x'],
    mtu: [100, 70000],
    gop: [0, -1, 'x'],
    quality_every: [-1, 1.5],
    display_hz: [0, 5000],
    late_ms: ['2h', -1],
    schedule: [[{ at: '600h' }], [{ at: 1e6, bitrate: '1M' }], [{ at: 1, bitrate: 'lots' }], [{ at: 1, fps: 0 }], 'x'],
    timeout: [0, '600h'],
    rate_control: ['abr'],
    net_rate: ['fast', -5],
    typo_key: [1],
  },
  spice: {
    spice_codec: ['gstreamer:av2', 'h264'],
    streaming: ['sometimes'],
    window: ['maybe', 2],
    deferred_fps: [0, 1000, 'x'],
    image_compression: ['zip'],
    jpeg_wan: ['sometimes'],
    zlib_wan: ['x'],
    resolution: ['641x480', 'x'],
    scene: ['nope'],
    net_loss: [200],
    fps: [0],
    content: [[], 'x', [1]],
    timeout: [0, '600h'],
  },
};

/** Matrix values of the stream and spice workloads that are refused, by parameter. */
const AXIS_BAD: Record<string, unknown[]> = {
  codec: ['h246'],
  bitrate: ['fast', 1],
  scene: ['nope'],
  net_delay: ['600h'],
  net_rate: ['fast'],
  spice_codec: ['gstreamer:av2'],
  streaming: ['sometimes'],
  fps: [0],
  resolution: ['641x360'],
};

/**
 * Mutations of the valid examples: each applies 1 to 3 changes that are each refused on their
 * own (to different fields, so no change can repair another), and writes the result as YAML,
 * JSON-as-YAML or a TypeScript module; a few change the text itself in ways YAML refuses.
 */
function mutationCases(count: number): Case[] {
  const rnd = seededRandom(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const examples = readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const cases: Case[] = [];
  for (let n = 0; n < count; n++) {
    const exName = pick(examples);
    const text = readFileSync(join(root, 'examples', exName), 'utf8');
    if (rnd() < 0.15) {
      const firstKey = /^[a-z_]+: .+$/m.exec(text)![0];
      const edits: [string, (t: string) => string][] = [
        ['unclosed list', (t) => `${t}\nzz: [1, 2\n`],
        ['unclosed mapping', (t) => `${t}\nzz: {b: 1\n`],
        ['unclosed quote', (t) => `${t}\nzz: "abc\n`],
        ['tab indentation', (t) => `${t}\nzz:\n\tb: 1\n`],
        ['second document', (t) => `${t}\n---\n${t}`],
        ['duplicate key', (t) => `${t}\n${firstKey}\n`],
        ['reserved character', (t) => `${t}\nzz: @x\n`],
        ['truncated', (t) => `${t.slice(0, Math.floor(rnd() * t.length))}\nzz: [\n`],
        ['compact nested mapping', (t) => `${t}\nzz: a: b\n`],
        ['directive in the body', (t) => `${t}\n%YAML 1.2\n`],
      ];
      const [what, edit] = pick(edits);
      cases.push({ name: `${exName}: ${what}`, file: write(`${exName}-${what}`, edit(text)), lines: true });
      continue;
    }
    const doc = parse(text) as Record<string, unknown>;
    const matrix = doc['matrix'] as Record<string, unknown>;
    const params = Object.keys(matrix);
    const p = pick(params);
    const v0 = Array.isArray(matrix[p]) ? (matrix[p] as unknown[])[0] : matrix[p];
    const workload = doc['workload'] as Record<string, unknown>;
    const type = String(workload['type']);
    const top = badValues(p, v0);
    const used = new Set<string>();
    const done: string[] = [];
    const changes = 1 + Math.floor(rnd() * 3);
    for (let c = 0; c < changes; c++) {
      const kind = pick(['top', 'top', 'workload', 'axis', 'unknown']);
      if (kind === 'top') {
        const field = pick(Object.keys(top));
        if (used.has(field)) continue;
        used.add(field);
        doc[field] = structuredClone(pick(top[field]!));
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify(undefined) is undefined
        done.push(`${field}=${JSON.stringify(doc[field])?.slice(0, 30)}`);
      } else if (kind === 'workload') {
        if (used.has('workload') || used.has('matrix')) continue;
        const fields = Object.keys(WORKLOAD_BAD[type]!).filter((f) => !params.includes(f));
        const field = pick(fields);
        used.add('workload');
        workload[field] = structuredClone(pick(WORKLOAD_BAD[type]![field]!));
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
        done.push(`workload.${field}=${JSON.stringify(workload[field])?.slice(0, 30)}`);
      } else if (kind === 'axis') {
        // A command's parameters are only text for its argv: any value is valid there.
        const axis = type === 'command' ? [] : params.filter((x) => x in AXIS_BAD);
        if (axis.length === 0 || used.has('matrix') || used.has('workload') || used.has('link')) continue;
        const a = pick(axis);
        used.add('matrix');
        const values = Array.isArray(matrix[a]) ? [...(matrix[a] as unknown[])] : [matrix[a]];
        values.push(pick(AXIS_BAD[a]!));
        matrix[a] = values;
        done.push(`matrix.${a}+=${JSON.stringify(values.at(-1))}`);
      } else {
        const key = pick(['repat', 'matrx', 'wokload', 'durations', 'ünknown', '', 'x'.repeat(300), 'Name', 'REPEAT', ' name']);
        if (used.has(`key:${key}`)) continue;
        used.add(`key:${key}`);
        doc[key] = pick([1, 'x', [], {}, null]);
        done.push(`+key ${JSON.stringify(key).slice(0, 20)}`);
      }
    }
    if (done.length === 0) {
      doc['repeat'] = 0;
      done.push('repeat=0');
    }
    const form = rnd();
    const name = `${exName}: ${done.join(', ')}`;
    if (form < 0.7) cases.push({ name, file: write(name, stringify(doc)), lines: true });
    else if (form < 0.85) cases.push({ name: `${name} (as JSON)`, file: write(name, JSON.stringify(doc)), lines: true });
    else cases.push({ name: `${name} (as a module)`, file: write(name, `export default ${JSON.stringify(doc)};\n`, '.ts'), lines: false });
  }
  return cases;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The error output is one bounded, readable report; see the header of this file. */
function checkReport(c: Case, what: string, r: { code: number; out: string; err: string; seconds: number }): void {
  const label = `${c.name} (${what})`;
  assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.err.slice(0, 2000)}${r.out.slice(0, 2000)}`);
  assert.ok(r.seconds < HANG_S, `${label}: took ${r.seconds.toFixed(1)} s`);
  assert.equal(r.out, '', `${label}: nothing on stdout`);
  assert.doesNotMatch(r.err, /^\s+at /m, `${label}: a stack trace\n${r.err.slice(0, 2000)}`);
  assert.doesNotMatch(r.err, /\b[A-Z]\w*Error\b/, `${label}: an Error class in the message\n${r.err.slice(0, 2000)}`);
  assert.doesNotMatch(r.err, /internal error/, label);
  assert.doesNotMatch(r.err, /[\u0000-\u0008\u000b-\u001f\u007f]/, `${label}: raw control characters`);
  assert.ok(r.err.length < 20_000, `${label}: ${r.err.length} characters of errors`);
  const lines = r.err.replace(/\n$/, '').split('\n');
  for (const l of lines) assert.ok(l.length <= 1000, `${label}: a ${l.length}-character line`);
  const header = /^error: (\d+) problems$/.exec(lines[0]!);
  assert.ok(header || lines[0]!.startsWith('error: '), `${label}: ${lines[0]}`);
  const body = header ? lines.slice(1) : [lines[0]!.slice('error: '.length), ...lines.slice(1)];
  const more = body.length > 0 && /^\.\.\. and \d+ more problem\(s\) not shown/.test(body.at(-1)!) ? body.pop() : undefined;
  const entries = body.filter((l) => !l.startsWith('  hint: '));
  body.forEach((l, i) => {
    if (l.startsWith('  hint: ')) assert.ok(i > 0 && !body[i - 1]!.startsWith('  hint: '), `${label}: a hint line follows its problem`);
  });
  if (header) {
    const n = Number(header[1]);
    assert.ok(n > 1, label);
    assert.equal(entries.length, Math.min(n, 20), `${label}: ${n} problems, ${entries.length} shown`);
    if (n > 20) assert.equal(more, `... and ${n - 20} more problem(s) not shown: fix these first`, label);
    else assert.equal(more, undefined, label);
  } else {
    assert.equal(entries.length, 1, `${label}: one problem\n${r.err.slice(0, 2000)}`);
    assert.equal(more, undefined, label);
  }
  const start = c.where ?? c.file;
  for (const e of entries) {
    assert.ok(e.startsWith(start), `${label}: names ${start}: ${e.slice(0, 300)}`);
    if (c.lines && !c.where) assert.match(e, new RegExp(`^${escape(c.file)}:\\d+:\\d+: `), `${label}: file:line:col`);
  }
  if (c.expect) assert.match(r.err, c.expect, label);
}

/** validate, then run (which must write nothing), each refusing the file the same way. */
async function refuses(c: Case): Promise<void> {
  const v = await cli(['validate', c.file, ...(c.args ?? [])]);
  checkReport(c, 'validate', v);
  // A file validate accepted is never run here: it could start real programs.
  if (v.code !== 2 || c.validateOnly) return;
  const results = join(work, 'results', String(counter++));
  const r = await cli(['run', c.file, '--results', results, ...(c.args ?? [])]);
  checkReport(c, 'run', r);
  assert.ok(!existsSync(results), `${c.name}: run created ${results}`);
}

test('the scene names and sizes validate checks are those the scenes draw', () => {
  assert.deepEqual([...SCENES], [...SCENE_NAMES]);
  assert.deepEqual(SCENE_MIN, { width: MIN_SCENE_WIDTH, height: MIN_SCENE_HEIGHT });
  assert.equal(FRAME_MAX.width, MAX_SCENE_WIDTH);
});

test('valid files stay valid: every example (also with a BOM), a constrained 10^12 matrix, a raised --max-runs', { timeout: 300_000 }, async () => {
  const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml'));
  for (const f of examples) {
    const text = readFileSync(join(root, 'examples', f), 'utf8');
    for (const [label, content] of [
      [f, text],
      [`${f} with a BOM`, `\ufeff${text}`],
    ] as const) {
      const r = await cli(['validate', write(label, content)]);
      assert.equal(r.code, 0, `${label}: ${r.err}`);
      assert.match(r.out, /valid\. Benchmark/);
    }
  }
  const p12 = Array.from({ length: 12 }, (_, i) => `  p${i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`).join('\n');
  const narrow = await cli(['validate', write('narrow', `name: big\nworkload: {type: command, argv: [echo]}\nmatrix:\n${p12}\nonly: [{p0: 1, p1: 2, p2: 3, p3: 4, p4: 5, p5: 6, p6: 7, p7: 8, p8: 9, p9: 0, p10: 1, p11: [1, 2, 3]}]\nrepeat: 2\n`)]);
  assert.equal(narrow.code, 0, narrow.err);
  assert.match(narrow.out, /3 point\(s\) x 2 repetition\(s\) = 6 run\(s\)/);
  const raised = await cli(['validate', write('200000 runs', BIG_PLAN), '--max-runs', '200000']);
  assert.equal(raised.code, 0, raised.err);
  assert.match(raised.out, /a: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, \.\.\. \(500 values\)\n {2}b: 0, 1, .*\(400 values\)\n {2}200000 point\(s\)/);
  assert.ok(raised.out.length < 1000, 'validate summarises a long list');
  // The longest list a file may hold, at the limit of its values, is valid.
  const longest = await cli(['validate', write('longest list', `${HEAD}matrix:\n  a: [${Array.from({ length: MAX_FILE_VALUES - 20 }, (_, i) => i).join(',')}]\n`)]);
  assert.equal(longest.code, 0, longest.err);
  // A stream source that is a y4m file validates.
  const src = await cli(['validate', write('good source', `name: t\nworkload: {type: stream, source: "${y4m}", resolution: 16x16}\nmatrix: {codec: [h264]}\n`)]);
  assert.equal(src.code, 0, src.err);
  const linked = await cli(['validate', write('linked presets', `${STREAM}matrix: {codec: [h264, vp9], preset: [medium, "8"]}\nlink: [[codec, preset]]\n`)]);
  assert.equal(linked.code, 0, `a preset meets only its linked codec: ${linked.err}`);
  const excluded = await cli(['validate', write('excluded pair', `${STREAM}matrix: {codec: [h264, vp9], preset: [medium, "8"]}\nexclude: [{codec: h264, preset: "8"}, {codec: vp9, preset: medium}]\n`)]);
  assert.equal(excluded.code, 0, `an excluded pair is not checked: ${excluded.err}`);
});

test(`hand-written hostile files are refused with one bounded error, nothing written`, { timeout: 600_000 }, async (t) => {
  for (const c of handWritten()) await t.test(c.name, () => refuses(c));
  assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined, '--set reached Object.prototype');
});

test(`200 mutations of the examples (seed ${SEED}) are refused with one bounded error, nothing written`, { timeout: 600_000 }, async (t) => {
  const cases = mutationCases(200);
  assert.equal(cases.length, 200);
  for (const c of cases) await t.test(c.name, () => refuses(c));
});

test('through the real executable: the alias bomb, the 10^12 matrix, repeat 1e9, a throwing module, a 200000-run dry run', { timeout: 600_000 }, () => {
  // A small heap makes a regression that builds the matrix fail at once, not after minutes of paging.
  const run = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=384' }, timeout: HANG_S * 2 * 1000 });
    return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr, seconds: (performance.now() - t0) / 1000 };
  };
  const one = (c: Case, args: string[]) => {
    const r = run(args);
    assert.equal(r.signal, null, `${c.name}: killed by ${r.signal} after ${r.seconds.toFixed(1)} s`);
    checkReport(c, args[0]!, { code: r.code ?? -1, out: r.out, err: r.err, seconds: r.seconds / 2 });
  };
  const all = handWritten();
  const byName = (n: string) => all.find((c) => c.name === n)!;
  one(byName('alias bomb'), ['validate', byName('alias bomb').file]);
  one(byName('12 parameters x 10 values'), ['validate', byName('12 parameters x 10 values').file]);
  const results = join(work, 'results-real');
  one(byName('repeat 1e9'), ['run', byName('repeat 1e9').file, '--results', results]);
  one(byName('duration 600h'), ['run', byName('duration 600h').file, '--results', results]);
  one(byName('module throws'), ['validate', byName('module throws').file]);
  // Issue 19: each was an internal error (exit 70) or a 30 s wait for a writer (the FIFO).
  one(byName('workload type constructor'), ['validate', byName('workload type constructor').file]);
  one(byName('module getter throws'), ['validate', byName('module getter throws').file]);
  one(byName('stream source: a FIFO'), ['run', byName('stream source: a FIFO').file, '--results', results]);
  one(byName('1.2 million values in 8.5 MB'), ['validate', byName('1.2 million values in 8.5 MB').file]);
  assert.ok(!existsSync(results), 'nothing written');
  // Allowed past the cap, 200000 runs are planned and listed as 50 rows and a count.
  const dry = run(['run', write('200000 runs', BIG_PLAN), '--dry-run', '--max-runs', '300000', '--results', results]);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /\n\.\.\. and 199950 more run\(s\)/);
  assert.match(dry.out, /200000 run\(s\): 0 already recorded, 200000 to run/);
  assert.ok(dry.out.split('\n').length < 70, `${dry.out.split('\n').length} lines`);
  assert.ok(!existsSync(results), 'a dry run writes nothing');
});
