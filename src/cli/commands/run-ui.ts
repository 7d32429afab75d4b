/** `streambench run FILE --ui`: the GUI served while the benchmark runs, with the live view. */
import { InputError } from '../../base/errors.ts';
import type { PartialPoint, ResolvedBenchmark } from '../../config/resolved.ts';
import { makePlan } from '../../engine/plan.ts';
// server.ts first: it loads every route module (routes/index.ts), live.ts among them, which use
// its ApiFailure; entering through live.ts would meet that cycle half-initialised.
import { startUiServer, type UiServer } from '../../server/server.ts';
import { attachLive, LiveFeed } from '../../server/routes/live.ts';
import type { ResultSet } from '../../store/resultset.ts';

/** The port --port names (default 8080, 0: any free one); checked before anything is written. */
export function uiPort(ui: boolean | undefined, port: string | undefined): number | undefined {
  if (!ui) {
    if (port !== undefined) throw InputError.single('streambench run --port', '--port is the port of the GUI, which only --ui serves', 'add --ui');
    return undefined;
  }
  if (port === undefined) return 8080;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw InputError.single('streambench run --port', `'${port}' is not a port number (0 to 65535)`);
  return Number(port);
}

/** The GUI's server over the set being filled, and the feed of the run's events and samples. */
export interface LiveUi {
  server: UiServer;
  feed: LiveFeed;
  /** After the run: on a terminal, serves until Ctrl-C; then closes the server. */
  finish(out: NodeJS.WriteStream): Promise<void>;
}

/** Starts the server on loopback (the live view opens at ?view=live) and prints its address. */
export async function startLiveUi(b: ResolvedBenchmark, set: ResultSet, opts: { filter: PartialPoint[]; force: boolean; port: number }, out: NodeJS.WriteStream): Promise<LiveUi> {
  const plan = makePlan(b, set, { filter: opts.filter, force: opts.force });
  const planned = plan.runs.filter((_, i) => plan.recorded[i] === undefined);
  const feed = new LiveFeed(planned, set.name);
  const server = await startUiServer({ sets: [set], port: opts.port });
  attachLive(server.sets, feed);
  out.write(`GUI: ${server.url.replace(/\/(#|$)/, '/?view=live$1')}\n`);
  return {
    server,
    feed,
    async finish(o: NodeJS.WriteStream): Promise<void> {
      // Only a terminal has a Ctrl-C to end the wait; a script or CI must not hang here.
      if (o.isTTY && process.stdin.isTTY) {
        o.write(`The run is over; the GUI stays at ${server.url.replace(/\/(#|$)/, '/?view=matrix$1')} until Ctrl-C.\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      }
      await server.close();
    },
  };
}
