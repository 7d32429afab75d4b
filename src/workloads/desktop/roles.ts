/**
 * A desktop point's roles as processes of their own (`streambench desktop guest|client`), so an
 * executor can place each on its machine: the guest runs the stack's server and the content, the
 * client its screen, the viewer and the grabber that reads the screen. Each says when it is ready
 * (the guest once the content drew its first frame, with the server's port; the client once it
 * shows the guest), samples the CPU of the process trees it started on its own clock, and at
 * SIGTERM stops them (reverse order, SIGKILL after a grace) and writes its report. Its programs
 * stay in its process group, so ending the group ends them all.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { monoMs } from '../../base/clock.ts';
import { errorMessage } from '../../base/errors.ts';
import { writeJsonAtomic } from '../../base/fs-atomic.ts';
import { startClient } from './client.ts';
import { startGuest } from './guest.ts';
import { ProcessSet, treeCpuS } from './processes.ts';
import type { DesktopRoleConfig, DesktopRoleName, DesktopRoleReport, TreeTimeline } from './role-config.ts';
import type { DesktopStack } from './stack.ts';

/** How long a role may take to be ready (the server and content, or the viewer showing the guest). */
export const ROLE_READY_TIMEOUT_MS = 120_000;

/** How often a role samples its trees' CPU: a window's edge is placed within half of it. */
const CPU_SAMPLE_MS = 100;

/** What a role needs besides its stack's programs. */
const COMMON_NEEDS: Record<DesktopRoleName, readonly string[]> = { guest: ['/usr/bin/ffplay'], client: ['/usr/bin/Xvfb', '/usr/bin/ffmpeg'] };

/** How a role process runs. */
export interface RoleOptions {
  /** The point directory: the programs' logs, the player's stamps and the report go there. */
  dir: string;
  report: string;
  /** The guest: the address its server listens on. */
  listen?: string;
  /** The client: the relay to connect to. */
  connect?: { host: string; port: number };
  /** Prints the ready line (the caller adds `ready`, the role's name and pid). */
  ready(extra: Record<string, unknown>): void;
  /** Resolves when the role should stop (SIGTERM). */
  until: Promise<void>;
}

/** Runs one role until `until`; throws (after stopping what it started) when it cannot start. */
export async function runDesktopRole(role: DesktopRoleName, stack: DesktopStack, cfg: DesktopRoleConfig, o: RoleOptions): Promise<void> {
  for (const bin of [...stack.needs[role], ...COMMON_NEEDS[role]]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing on the ${role}'s machine: run scripts/setup.sh there (it installs what the ${stack.name} workload needs)`);
  }
  const s = stack.settings(cfg.params, { warmupS: cfg.warmupS, durationS: cfg.durationS }, cfg.content);
  const procs = new ProcessSet({ dir: o.dir, onProcess: () => undefined }, 'inherit');
  const xdg = join(o.dir, `.xdg-${role}`);
  mkdirSync(xdg, { recursive: true, mode: 0o700 });
  let stopping = false;
  void o.until.then(() => (stopping = true));
  // What the guest's server started outside this role's processes, ended before them.
  let stopServer: (() => Promise<void>) | undefined;
  try {
    let trees: Record<string, ChildProcess[]>;
    let screen: (() => DesktopRoleReport['screen']) | undefined;
    if (role === 'guest') {
      const guest = await startGuest(procs, stack, { dir: o.dir, xdg, settings: s, taken: new Set(), lifetimeS: cfg.lifetimeS, address: o.listen ?? '127.0.0.1' });
      stopServer = guest.stopServer;
      await until(
        () => guest.content.started(),
        () => stopping,
        'the scene player drew no frame (see frames.log, player.log)',
      );
      trees = { server: guest.server, player: guest.content.procs };
      o.ready({ port: guest.port, viewer: guest.viewer, watch: { server: guest.server.map((p) => p.pid), player: guest.content.procs.map((p) => p.pid) } });
    } else {
      if (!o.connect) throw new Error('the client needs the relay to connect to');
      const client = await startClient(procs, stack, { xdg, settings: s, taken: new Set(), relay: o.connect, viewer: cfg.viewer ?? {} });
      await until(
        () => stack.showsGuest(o.dir),
        () => stopping,
        'the client never showed the guest screen (see client.log)',
      );
      trees = { client: [client.viewer], grab: [client.grab] };
      screen = () => ({ ...client.screen.sightings(), grabs: client.screen.grabs });
      o.ready({ watch: { client: [client.viewer.pid] } });
    }
    const cpu = sampleTrees(trees);
    await o.until;
    const timeline = cpu.stop();
    // The report first, then the programs: under Slurm a cancelled step is killed KillWait seconds
    // after its SIGTERM (3 s on the test cluster), about what stopping an X server and a viewer takes,
    // and a role killed before it wrote its report loses the point.
    const report: DesktopRoleReport = { role, pid: process.pid, cpu: timeline, ...(screen ? { screen: screen() } : {}) };
    writeJsonAtomic(o.report, report);
    await stopAllAfter(stopServer, procs);
  } catch (e) {
    try {
      await stopAllAfter(stopServer, procs);
    } catch (stopError) {
      // Both said: why the role failed, and why what it started could not be stopped.
      throw new Error(`${errorMessage(e)}; then stopping what it started failed: ${errorMessage(stopError)}`);
    }
    throw e;
  }
}

/** Ends what the server started outside the role (RDP's session), then the role's programs, even when the first fails. */
async function stopAllAfter(stopServer: (() => Promise<void>) | undefined, procs: ProcessSet): Promise<void> {
  try {
    await stopServer?.();
  } finally {
    await procs.stopAll();
  }
}

/** Waits until `cond` holds, or the role is told to stop; throws `what` after ROLE_READY_TIMEOUT_MS. */
async function until(cond: () => boolean, stopping: () => boolean, what: string): Promise<void> {
  const end = monoMs() + ROLE_READY_TIMEOUT_MS;
  while (!cond() && !stopping()) {
    if (monoMs() > end) throw new Error(`${what}, within ${ROLE_READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Samples the CPU of each named group of trees every CPU_SAMPLE_MS until stop (a tree gone keeps its last value). */
function sampleTrees(trees: Record<string, ChildProcess[]>): { stop(): TreeTimeline } {
  const rec: TreeTimeline = { t: [], cpuS: Object.fromEntries(Object.keys(trees).map((k) => [k, []])) };
  const mark = () => {
    rec.t.push(monoMs());
    for (const [k, v] of Object.entries(trees)) {
      const xs = rec.cpuS[k]!;
      xs.push(treeCpuS(v) ?? xs.at(-1) ?? 0);
    }
  };
  mark();
  const timer = setInterval(mark, CPU_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      mark();
      return rec;
    },
  };
}
