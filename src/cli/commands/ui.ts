/** `streambench ui SET... [--port N] [--listen ADDR:PORT]`: serves the GUI over result sets. */
import { errorMessage, InputError } from '../../base/errors.ts';
import { isLoopbackName, newToken, readTokenFile, tokenProblem } from '../../base/request-rules.ts';
import { startUiServer } from '../../server/server.ts';
import { readsInFlight } from '../../store/duck.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';
import { openSet } from './results.ts';

export const uiSpec = {
  name: 'ui',
  summary: 'Serve the GUI over result sets: plot any indicator against any parameter, compare sets, open runs.',
  usage: 'streambench ui SET... [--port N | --listen ADDR:PORT] [--token-file PATH] [--allow-host NAME]... [--root DIR]',
  help: [
    'SET is a result set directory, or the name of one below --root. Several sets are compared: the set',
    'becomes a parameter of the plots (a series or a facet). Prints the address to open, and serves until',
    'Ctrl-C. Everything the page loads comes from this server; nothing is fetched from the internet.',
    'The whole view is in the address: copy it to share the view.',
    '',
    '  --port N              port on 127.0.0.1 (default 8080; 0: any free one)',
    '  --listen ADDR:PORT    listen beyond loopback (e.g. 0.0.0.0:8080): then a token is required on every',
    '                        API request; the printed address carries it after # (never sent in requests',
    '                        for the page itself). Without --token-file or $STREAMBENCH_TOKEN a fresh one is made',
    '  --token-file PATH     read the token from PATH, which only its owner may read (chmod 600)',
    "  --allow-host NAME     beyond loopback: a name clients may use in Host besides this machine's names",
    '  --root DIR            where result sets are looked for by name (default: results)',
    '',
    "Requests from other sites' pages are refused (Origin, Sec-Fetch-Site), as are names in Host other than",
    "loopback ones (or, beyond loopback, this machine's and --allow-host ones): no DNS-rebound page reaches it.",
  ].join('\n'),
  options: {
    port: { type: 'string' },
    listen: { type: 'string' },
    'token-file': { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    root: { type: 'string' },
  },
} satisfies CommandSpec;

/** Runs `streambench ui`; returns the exit code once interrupted. */
export async function uiCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(uiSpec, argv);
  if (a.values.help) return (out.write(helpText(uiSpec)), 0);
  if (a.positionals.length === 0) throw InputError.single('streambench ui', 'expected at least one result set', uiSpec.usage);
  if (a.values.port !== undefined && a.values.listen !== undefined) throw InputError.single('streambench ui', '--port and --listen both given', 'give one of them: --listen ADDR:PORT includes the port');
  let host = '127.0.0.1';
  let port = 8080;
  if (a.values.listen !== undefined) {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(a.values.listen);
    if (!m || Number(m[2]) > 65535) throw InputError.single('--listen', `'${a.values.listen}' is not ADDR:PORT`, 'e.g. --listen 0.0.0.0:8080');
    host = m[1]!.replace(/^\[|\]$/g, '');
    port = Number(m[2]);
  } else if (a.values.port !== undefined) {
    if (!/^\d{1,5}$/.test(a.values.port) || Number(a.values.port) > 65535) throw InputError.single('--port', `'${a.values.port}' is not a port number (0 to 65535)`);
    port = Number(a.values.port);
  }
  const allowHosts = a.values['allow-host'] ?? [];
  if (allowHosts.length > 0 && isLoopbackName(host)) throw InputError.single('--allow-host', 'allowed host names apply beyond loopback only (with --listen)');
  let token: string | undefined;
  if (a.values['token-file'] !== undefined) {
    try {
      token = readTokenFile(a.values['token-file']);
    } catch (e) {
      throw InputError.single('--token-file', errorMessage(e));
    }
  } else if (process.env['STREAMBENCH_TOKEN']) token = process.env['STREAMBENCH_TOKEN'];
  if (token !== undefined) {
    const p = tokenProblem(token);
    if (p) throw InputError.single(a.values['token-file'] ?? 'STREAMBENCH_TOKEN', p);
  }
  if (token === undefined && !isLoopbackName(host)) token = newToken();
  const root = a.values.root ?? 'results';
  const sets = a.positionals.map((s) => openSet(s, root));
  const server = await startUiServer({ sets, host, port, ...(token !== undefined ? { token } : {}), allowHosts });
  out.write(`streambench ui: ${sets.map((s) => s.name).join(', ')}\nopen ${server.url}\n(Ctrl-C ends it)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  // Whatever a request is doing: its reads are stopped (a FIFO it waits on released), nothing waits for them.
  await server.close();
  // A read that even so does not end (stuck in the kernel: a hung mount) keeps the process; say which.
  setTimeout(() => {
    const left = readsInFlight();
    if (left.length > 0) process.stderr.write(`streambench ui: still waiting for a read to end: ${left.flatMap((r) => r.files).join(', ') || left[0]!.purpose} (stuck in the system: kill -9 ends it)\n`);
  }, 5000).unref();
  return 0;
}
