/**
 * The engine's side of its watchdog (scripts/watchdog.mjs): a separate process, in a session of
 * its own, that holds the read end of a pipe from the engine. The engine tells it each process
 * group it starts and ends; when the pipe closes, because the engine closed it or died (kill -9
 * included: the kernel closes the engine's end), the watchdog ends every group still registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from './errors.ts';

/** Two levels up from src/base/ and from dist/base/ alike. */
const ENTRY = fileURLToPath(new URL('../../scripts/watchdog.mjs', import.meta.url));
/** How long close() waits for the watchdog to end what was left (its grace is 0.5 s). */
const CLOSE_WAIT_MS = 5000;

export class Watchdog {
  private broken = false;
  private closing = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly onWarning: (message: string) => void,
  ) {
    this.exited = new Promise((r) => child.once('exit', () => r()));
    child.once('error', (e) => this.fail(`could not start the watchdog (${process.execPath} ${ENTRY}): ${errorMessage(e)}`));
    // EPIPE: the watchdog is gone, so a later crash of the engine would leave processes behind.
    child.stdin!.on('error', (e) => this.fail(`the watchdog stopped listening: ${errorMessage(e)}`));
    child.once('exit', (code, signal) => {
      if (!this.closing) this.fail(`the watchdog ended early (${signal ?? `exit code ${code}`})`);
    });
    // Neither the watchdog nor its pipe may keep the engine alive: the pipe's end is its signal.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  /** Starts a watchdog; what it ends after the engine died is appended to `logPath`. */
  static start(logPath: string, onWarning: (message: string) => void): Watchdog {
    // detached: its own session, so a Ctrl-C or a hang-up meant for the engine does not reach it.
    // cwd /: it must not keep a directory (a mount) busy. Its pipe is its only tie to the engine;
    // Node opens pipes close-on-exec, so no program the engine starts holds it open after a crash.
    const child = spawn(process.execPath, [ENTRY, resolve(logPath)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], cwd: '/' });
    return new Watchdog(child, onWarning);
  }

  /** The watchdog's pid (tests end it to check the second line of defence). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Registers a process group by its leader's pid and start time (field 22 of /proc/PID/stat). */
  add(pid: number, startTime: number): void {
    this.send(`add ${pid} ${startTime}\n`);
  }

  /** Forgets a process group that is gone. */
  remove(pid: number): void {
    this.send(`del ${pid}\n`);
  }

  /** Closes the pipe: the watchdog ends whatever is still registered and exits; resolves once it has (or after 5 s). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    // Held again while it finishes, so the engine does not exit (and skip what follows) meanwhile.
    this.child.ref();
    this.child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private send(line: string): void {
    if (this.broken || this.closing) return;
    this.child.stdin!.write(line);
  }

  private fail(message: string): void {
    if (this.broken) return;
    this.broken = true;
    this.onWarning(`${message}; processes of this run left behind by a crash are ended at the next start instead`);
  }
}
