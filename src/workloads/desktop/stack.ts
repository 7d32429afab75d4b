/**
 * What a desktop stack (SPICE today; VNC and RDP next) brings to the shared machinery: how its
 * server starts on a virtual display and port, its viewer's argv, when the client shows the
 * guest's screen, and what its own logs say (the codec evidence of each side, its own figures).
 * Everything else of a point (content, relay, screen stamps, teardown, the family's figures) is
 * the machinery's (src/workloads/desktop/session.ts).
 */
import type { ChildProcess } from 'node:child_process';
import type { DesktopSettings } from '../../config/desktop-settings.ts';
import type { MetricValue } from '../../store/records.ts';
import type { CodecEvidence } from './codec.ts';
import type { ProcessSet } from './processes.ts';

export type { DesktopSettings };

/** The recorded window of a point: on the monotonic clock, and as wall-clock ms since midnight (the times of the stacks' debug logs). */
export interface DesktopWindow {
  fromMs: number;
  toMs: number;
  wallFromMs: number;
  wallToMs: number;
  durationS: number;
}

/** What a stack read from its logs once the point ended. */
export interface StackFigures {
  /** Its own figures (client.frames, server.*, ...), declared by its workload beside the family's. */
  metrics: Record<string, MetricValue>;
  /** What it saw worth a flag (a server that said it was too slow, ...). */
  flags: string[];
  /** The codec each side used, from positive evidence in its logs (the machinery applies the family's rule). */
  codec: CodecEvidence;
}

/** What a stack's server start left running on the guest. */
export interface ServerStarted {
  /** The processes whose trees are the server's CPU (an X server with its VNC server beside it, an RDP server and its session manager, ...), the main one first. */
  procs: ChildProcess[];
  /** The X display the content draws on, when it is not the one the server was given (an RDP session's own). */
  display?: number;
  /** What the content's environment needs besides DISPLAY (a session's XAUTHORITY, ...). */
  contentEnv?: Record<string, string>;
  /** What the viewer needs besides the relay's address (a session's user, ...): handed to the client role with its config. */
  viewer?: Record<string, string>;
  /** Ends what the server started outside the role's processes (an RDP session, which its session manager runs), before they are stopped; never throws. */
  stop?(): Promise<void>;
}

/** One desktop stack, as the machinery drives it. */
export interface DesktopStack<S extends DesktopSettings = DesktopSettings> {
  /** Its name in messages ('SPICE'). */
  name: string;
  /** Its key in the role processes' table (src/workloads/desktop-stacks.ts): how `streambench desktop` finds it. */
  id: string;
  /**
   * Its settings from a point's parameters, as written (the role processes rebuild them from the
   * parameters the session hands over: one set of rules); throws naming the parameter.
   */
  settings(params: Readonly<Record<string, unknown>>, times: { warmupS: number; durationS: number }, content?: string[]): S;
  /** Programs it needs on the guest (its server) and on the client (its viewer), absolute paths, checked by each role before it starts anything. */
  needs: { guest: readonly string[]; client: readonly string[] };
  /**
   * Starts the server on the guest's X display `display` (a display of its own: the server is the X
   * server, as Xspice is, or starts one there) listening on `address`:`port` (the guest machine's
   * address, where the relay reaches it); resolves once it accepts viewers. Its main process is
   * named `server` (server.log).
   */
  startServer(procs: ProcessSet, o: { dir: string; display: number; address: string; port: number; settings: S }): Promise<ServerStarted>;
  /** The viewer's argv, connecting to the relay at host:port (with what the server's start handed over for it); it runs on the client's screen as `client` (client.log). */
  viewerArgv(host: string, port: number, settings: S, viewer: Readonly<Record<string, string>>): string[];
  /**
   * What the viewer's process needs besides its argv (optional): variables added to its environment
   * (a logger's settings), and a file its stdin reads (a secret that must not be in its argv).
   */
  viewerIo?(settings: S, viewer: Readonly<Record<string, string>>, relay: { host: string; port: number }): { env?: Record<string, string>; stdinFile?: string };
  /** Whether the client shows the guest's screen yet (from what the viewer logged in `dir`). */
  showsGuest(dir: string): boolean;
  /** Reads its logs in `dir` after the point: its own figures, flags and the codec evidence. */
  figures(dir: string, settings: S, window: DesktopWindow): StackFigures;
}
