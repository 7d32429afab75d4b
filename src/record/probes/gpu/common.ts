/**
 * What the GPU probes share: finding a vendor's tool on PATH, running it as a long-lived child
 * whose output is parsed as it streams (a spawn per sample would cost far more than the sample),
 * and leaving out figures older than three periods (the tool stalled or died; it is restarted at
 * most every 5 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { monoMs } from '../../../base/clock.ts';
import { which } from '../../../base/which.ts';

export { which };

/** Options of the tool-running GPU probes. */
export interface ToolProbeOptions {
  intervalMs?: number;
  /** The tool's argv prefix (tests point it at a fake); default the tool's name, looked up in PATH. */
  command?: string[];
}

/** A long-running child whose stdout is fed to `onLine` line by line (or as raw chunks to `onChunk`). */
export class Streamer {
  private child: ChildProcess | undefined;
  private startedMs = -Infinity;
  /** The tool's last stderr line or start failure, for diagnosis. */
  lastError: string | undefined;

  constructor(
    private readonly argv: string[],
    private readonly onChunk: (chunk: string) => void,
  ) {}

  /** Starts the child if it is not running and the last start is over 5 s ago. */
  ensure(): void {
    if (this.child || monoMs() - this.startedMs < 5000) return;
    this.startedMs = monoMs();
    const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => this.onChunk(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      const last = d.trim().split('\n').at(-1);
      if (last) this.lastError = last;
    });
    child.on('error', (e) => {
      this.lastError = e.message;
      if (this.child === child) this.child = undefined;
    });
    child.on('exit', (code, signal) => {
      if (code !== 0 || signal) this.lastError ??= `${this.argv[0]} exited (${signal ?? code})`;
      if (this.child === child) this.child = undefined;
    });
    // The probe must never be what keeps the agent alive; close() ends the child.
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  }

  close(): void {
    this.child?.kill('SIGTERM');
    this.child = undefined;
    // No restart after close, however long ago the last start was.
    this.startedMs = Infinity;
  }
}

/** Splits a stream into lines, keeping the unfinished tail for the next chunk. */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let tail = '';
  return (chunk) => {
    const parts = (tail + chunk).split('\n');
    tail = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  };
}

/** Values with the time they arrived, so stale ones can be left out. */
export interface Fresh {
  at: number;
  values: Record<string, number>;
}

/** Merges the per-source value sets not older than `maxAgeMs`. */
export function freshValues(sources: Iterable<Fresh>, maxAgeMs: number): Record<string, number> {
  const now = monoMs();
  const out: Record<string, number> = {};
  for (const s of sources) if (now - s.at <= maxAgeMs) Object.assign(out, s.values);
  return out;
}
