/**
 * User-defined indicators: a command run at each interval (argv, no shell) whose standard output
 * is read as JSON lines or as Prometheus text exposition format. Values are named
 * custom.<name>.<key>.
 */
import { spawn } from 'node:child_process';
import type { Probe } from '../probe.ts';
import { errorMessage } from '../../base/errors.ts';
import { killGroup } from '../../base/process-group.ts';

/** Sets each number (booleans as 1/0) of a JSON value under its dotted path; strings and nulls are left out. */
function flatten(v: unknown, path: string, out: Record<string, number>): void {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && path) out[path] = v;
  } else if (typeof v === 'boolean') {
    if (path) out[path] = v ? 1 : 0;
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => flatten(x, path ? `${path}.${i}` : String(i), out));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) flatten(x, path ? `${path}.${k}` : k, out);
  }
}

/** Parses JSON lines, each an object (nested objects flattened with dots: {"a":{"b":1}} gives a.b); a later line's key wins. Throws on a line that is not a JSON object. */
export function parseJsonLines(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`line ${i + 1} is not a JSON object: ${line.slice(0, 80)}`);
    flatten(v, '', out);
  });
  return out;
}

/** A Prometheus sample value: a float, or NaN/+Inf/-Inf spelled the exposition format's way. */
function promValue(s: string): number {
  switch (s) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default:
      return s === '' ? NaN : Number(s);
  }
}

/** A label value as a name part: characters that would muddle a metric name become '_'. */
function namePart(s: string): string {
  return s.replace(/[^A-Za-z0-9_:.+-]/g, '_');
}

/**
 * Parses Prometheus text exposition format: `metric{label="value",...} value [timestamp]` per
 * line; '#' lines (HELP, TYPE, EOF) and blank lines are skipped. The label values are folded
 * into the name in their order (`http_requests_total{method="post",code="200"} 3` gives
 * http_requests_total.post.200); the timestamp is dropped (the probe's own time stands); NaN and
 * infinite values are left out, since the samples carry finite numbers only. Throws on a line it
 * cannot read.
 */
export function parsePrometheusText(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  text.split('\n').forEach((raw, lineNo) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const bad = (why: string) => new Error(`line ${lineNo + 1}: ${why}: ${line.slice(0, 80)}`);
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
    const name = line.slice(0, i);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw bad('no metric name');
    const labels: string[] = [];
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const eq = line.indexOf('=', i);
        if (eq < 0 || line[eq + 1] !== '"') throw bad('malformed labels');
        // The value is a quoted string in which \\, \" and \n are escaped.
        let v = '';
        let j = eq + 2;
        for (; j < line.length && line[j] !== '"'; j++) {
          if (line[j] === '\\' && j + 1 < line.length) {
            j++;
            v += line[j] === 'n' ? '\n' : line[j]!;
          } else v += line[j]!;
        }
        if (j >= line.length) throw bad('unterminated label value');
        if (v) labels.push(namePart(v));
        i = j + 1;
      }
    }
    const fields = line.slice(i).trim().split(/\s+/);
    const value = promValue(fields[0] ?? '');
    if (Number.isNaN(value) && fields[0] !== 'NaN') throw bad('no value');
    if (Number.isFinite(value)) out[[name, ...labels].join('.')] = value;
  });
  return out;
}

/** What CommandProbe runs and how it reads the output. */
export interface CommandProbeOptions {
  /** The name's middle part: custom.<name>.<key>. */
  name: string;
  argv: string[];
  format: 'jsonl' | 'prometheus';
  intervalMs: number;
  /** A run taking longer is killed and the sample fails; default the interval, at least 1 s. */
  timeoutMs?: number;
}

/** Most stdout kept from one run: a runaway command must not fill the agent's memory. */
const MAX_OUTPUT = 1024 * 1024;

/**
 * Runs its command at each sample and returns the numbers it printed as custom.<name>.<key>.
 * A run that exits non-zero, times out, or prints what does not parse fails the sample (the
 * promise rejects with the reason and stderr's tail). A sample asked while the previous run is
 * still going returns nothing (an empty record) instead of starting another: a slow command never
 * piles up copies, and its one result is reported once, to the sample that started it.
 */
export class CommandProbe implements Probe {
  readonly name: string;
  readonly intervalMs: number;
  private readonly argv: string[];
  private readonly format: 'jsonl' | 'prometheus';
  private readonly timeoutMs: number;
  private readonly prefix: string;
  private inFlight: Promise<Record<string, number>> | undefined;
  private pid: number | undefined;

  constructor(opts: CommandProbeOptions) {
    if (opts.argv.length === 0) throw new Error(`custom probe '${opts.name}' has an empty argv`);
    this.name = `custom.${opts.name}`;
    this.prefix = `custom.${opts.name}.`;
    this.intervalMs = opts.intervalMs;
    this.argv = opts.argv;
    this.format = opts.format;
    this.timeoutMs = opts.timeoutMs ?? Math.max(1000, opts.intervalMs);
  }

  /** Runs the command and parses its output; an empty record while the previous run is still going. */
  sample(_nowMs: number): Promise<Record<string, number>> {
    if (this.inFlight) return Promise.resolve({});
    const run = this.run().finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  /** Kills the run in flight, if any. */
  close(): void {
    this.kill();
  }

  private kill(): void {
    // The whole group: a script's own children would otherwise hold stdout open.
    killGroup(this.pid, 'SIGKILL');
  }

  private run(): Promise<Record<string, number>> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.pid = child.pid;
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      let timedOut = false;
      child.stdout.on('data', (d: Buffer) => {
        if (outBytes < MAX_OUTPUT) out.push(d);
        outBytes += d.length;
      });
      child.stderr.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-2000);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        this.kill();
      }, this.timeoutMs);
      const fail = (why: string) => new Error(`${this.name}: ${this.argv[0]} ${why}${err.trim() ? `: ${err.trim().split('\n').at(-1)}` : ''}`);
      child.once('error', (e) => {
        clearTimeout(timer);
        this.pid = undefined;
        reject(fail(`could not start (${e.message})`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.pid = undefined;
        if (timedOut) {
          reject(fail(`ran past its ${this.timeoutMs} ms timeout`));
          return;
        }
        if (code !== 0) {
          reject(fail(`exited with ${signal ?? `code ${code}`}`));
          return;
        }
        if (outBytes > MAX_OUTPUT) {
          reject(fail(`printed over ${MAX_OUTPUT} bytes`));
          return;
        }
        try {
          const text = Buffer.concat(out).toString('utf8');
          const parsed = this.format === 'jsonl' ? parseJsonLines(text) : parsePrometheusText(text);
          const values: Record<string, number> = {};
          for (const [k, v] of Object.entries(parsed)) values[this.prefix + k] = v;
          resolve(values);
        } catch (e) {
          reject(fail(`printed unreadable ${this.format}: ${errorMessage(e)}`));
        }
      });
    });
  }
}
