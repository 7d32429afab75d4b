/** `streambench agent`: the recording agent of one machine of the chain. */
import { errorMessage, InputError } from '../../base/errors.ts';
import { readTokenFile } from '../../base/request-rules.ts';
import { Agent } from '../../record/agent.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const agentSpec = {
  name: 'agent',
  summary: 'Run a recording agent: samples this machine for the engine, serves /metrics, runs hooks when allowed.',
  usage: 'streambench agent --role NAME [--listen ADDR:PORT] [--token-file PATH | --token TOKEN] [--allow-host NAME]... [--allow-commands]',
  help: [
    '  --role NAME           the role of this machine in the chain: guest, host, client, or any name',
    '  --listen ADDR:PORT    where to listen (default 127.0.0.1:7070); beyond loopback a token is required',
    '  --token-file PATH     read the token from PATH, which only its owner may read (chmod 600)',
    '  --token TOKEN         the token clients must send (visible in ps: prefer $STREAMBENCH_TOKEN or --token-file)',
    '                        default: $STREAMBENCH_TOKEN; at least 16 printable characters, e.g. openssl rand -hex 16',
    '  --allow-host NAME     beyond loopback: a name clients may use to reach this machine (repeatable), besides',
    '                        its host name and addresses (the Host header of each request is checked)',
    '  --allow-commands      run the benchmark\'s hook commands aimed at this role (`on: ROLE`); argv only, never a',
    '                        shell. Needs a token, on loopback too: without one the agent refuses to start',
    '',
    'Security: with a token, every request needs it (Authorization: Bearer TOKEN); beyond loopback a token is',
    'required. Requests from web pages (any Origin header), a Host header that is not this agent\'s, and POST',
    'bodies that are not application/json are refused, whatever the token.',
    '',
    'Prints one JSON line {"ready":true,"port":N} when listening; stops on SIGTERM or SIGINT.',
    'Prometheus can scrape http://ADDR:PORT/metrics (with the token as a bearer token when one is set).',
  ].join('\n'),
  options: {
    role: { type: 'string' },
    listen: { type: 'string' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    'allow-commands': { type: 'boolean' },
  },
} satisfies CommandSpec;

/** Runs the agent until it is told to stop. */
export async function agentCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(agentSpec, argv);
  if (a.values.help) return out.write(helpText(agentSpec)), 0;
  const role = a.values.role;
  if (!role || !/^[A-Za-z0-9_.-]+$/.test(role)) throw InputError.single('--role', role ? `'${role}' is not a role name (letters, digits, _ . -)` : '--role NAME is required', 'e.g. --role host');
  const listen = a.values.listen ?? '127.0.0.1:7070';
  const m = /^(.+):(\d+)$/.exec(listen);
  if (!m) throw InputError.single('--listen', `'${listen}' is not ADDR:PORT`);
  const allowedHosts = a.values['allow-host'] ?? [];
  for (const h of allowedHosts) {
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+)$/.test(h)) throw InputError.single('--allow-host', `'${h}' is not a host name or address`, 'e.g. --allow-host bench-host.lan');
  }
  const token = readToken(a.values.token, a.values['token-file']);
  // Hooks and custom probes the agent starts inherit its environment: the token stays with the agent.
  delete process.env['STREAMBENCH_TOKEN'];
  let agent: Agent;
  try {
    agent = new Agent({ role, host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), ...(token !== undefined ? { token } : {}), ...(allowedHosts.length > 0 ? { allowedHosts } : {}), allowCommands: Boolean(a.values['allow-commands']) });
  } catch (e) {
    throw InputError.single('streambench agent', errorMessage(e), 'see: streambench agent --help');
  }
  const port = await agent.listen();
  out.write(`${JSON.stringify({ ready: true, role, port, pid: process.pid })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  agent.close();
  return 0;
}

/** The token from --token, --token-file or $STREAMBENCH_TOKEN (in that order); undefined when none is given. */
function readToken(flag: string | undefined, file: string | undefined): string | undefined {
  if (flag !== undefined && file !== undefined) throw InputError.single('streambench agent', '--token and --token-file both given', 'give one of them');
  if (file !== undefined) {
    try {
      return readTokenFile(file);
    } catch (e) {
      throw InputError.single('--token-file', errorMessage(e));
    }
  }
  if (flag === '') throw InputError.single('--token', 'the token is empty', 'an unset shell variable? prefer $STREAMBENCH_TOKEN or --token-file');
  // An empty variable (STREAMBENCH_TOKEN=) means no token, as an unset one does.
  return flag ?? (process.env['STREAMBENCH_TOKEN'] || undefined);
}
