/** `streambench agent`: the recording agent of one machine of the chain. */
import { closeSync, readFileSync } from 'node:fs';
import { errorMessage, InputError } from '../../base/errors.ts';
import { scrubArgv, scrubEnvironment } from '../../base/scrub.ts';
import { readTokenFile } from '../../base/request-rules.ts';
import { Agent } from '../../record/agent.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const agentSpec = {
  name: 'agent',
  summary: 'Run a recording agent: samples this machine for the engine, serves /metrics, runs hooks when allowed.',
  usage: 'streambench agent --role NAME [--listen ADDR:PORT] [--token-file PATH | --token-fd N | --token TOKEN] [--allow-host NAME]... [--allow-commands]',
  help: [
    '  --role NAME           the role of this machine in the chain: guest, host, client, or any name',
    '  --listen ADDR:PORT    where to listen (default 127.0.0.1:7070); beyond loopback a token is required',
    '  --token-file PATH     read the token from PATH, which only its owner may read (chmod 600)',
    '  --token-fd N          read the token from file descriptor N (a pipe the starter writes it into) up to its',
    '                        end, then close it: the token never appears in the environment or on the command line',
    '  --token TOKEN         the token clients must send (visible in ps until the agent has read it: prefer the others)',
    '                        default: $STREAMBENCH_TOKEN; at least 16 printable characters, e.g. openssl rand -hex 16',
    '  --allow-host NAME     beyond loopback: a name clients may use to reach this machine (repeatable), besides',
    '                        its host name and addresses (the Host header of each request is checked)',
    "  --allow-commands      run the benchmark's hook commands aimed at this role (`on: ROLE`); argv only, never a",
    '                        shell. Needs a token, on loopback too: without one the agent refuses to start',
    '',
    'Security: with a token, every request needs it (Authorization: Bearer TOKEN); beyond loopback a token is',
    "required. Requests from web pages (any Origin header), a Host header that is not this agent's, and POST",
    'bodies that are not application/json are refused, whatever the token. Once read, the token is removed from',
    "the agent's environment and command line as /proc/PID/environ and /proc/PID/cmdline show them (so the",
    'commands it runs cannot read it from /proc/$PPID), and no descriptor it came from stays open; it stays in',
    "the agent's memory, which processes of the same user can read (/proc/PID/mem, ptrace).",
    '',
    'Prints one JSON line {"ready":true,"port":N} when listening; stops on SIGTERM or SIGINT.',
    'Prometheus can scrape http://ADDR:PORT/metrics (with the token as a bearer token when one is set).',
  ].join('\n'),
  options: {
    role: { type: 'string' },
    listen: { type: 'string' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    'token-fd': { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    'allow-commands': { type: 'boolean' },
  },
} satisfies CommandSpec;

/** Runs the agent until it is told to stop. */
export async function agentCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(agentSpec, argv);
  if (a.values.help) return (out.write(helpText(agentSpec)), 0);
  const role = a.values.role;
  if (!role || !/^[A-Za-z0-9_.-]+$/.test(role)) throw InputError.single('--role', role ? `'${role}' is not a role name (letters, digits, _ . -)` : '--role NAME is required', 'e.g. --role host');
  const listen = a.values.listen ?? '127.0.0.1:7070';
  const m = /^(.+):(\d+)$/.exec(listen);
  if (!m) throw InputError.single('--listen', `'${listen}' is not ADDR:PORT`);
  const allowedHosts = a.values['allow-host'] ?? [];
  for (const h of allowedHosts) {
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+)$/.test(h)) throw InputError.single('--allow-host', `'${h}' is not a host name or address`, 'e.g. --allow-host bench-host.lan');
  }
  const token = readToken(a.values.token, a.values['token-file'], a.values['token-fd']);
  // Hooks and custom probes the agent starts inherit its environment, and can read its
  // /proc/PID/environ and /proc/PID/cmdline: the token leaves both (src/base/scrub.ts).
  const fromEnv = process.env['STREAMBENCH_TOKEN'] !== undefined;
  const envLeft = scrubEnvironment('STREAMBENCH_TOKEN');
  const argvLeft = a.values.token !== undefined ? scrubArgv([a.values.token], process.argv.map((x) => (x === a.values.token || x.endsWith(`=${a.values.token}`) ? '***' : x)).join(' ')) : undefined;
  const left = [...(fromEnv && envLeft ? [`/proc/${process.pid}/environ (${envLeft})`] : []), ...(argvLeft ? [`/proc/${process.pid}/cmdline (${argvLeft})`] : [])];
  if (left.length > 0 && token !== undefined) {
    const why = `the token could not be removed from ${left.join(' and ')}: processes of this user could read it there`;
    // A command the agent runs would be such a process: an agent that runs commands does not start so.
    if (a.values['allow-commands']) throw InputError.single('streambench agent', why, 'give the token with --token-file PATH or --token-fd N');
    process.stderr.write(`agent: ${why}; give it with --token-file PATH or --token-fd N\n`);
  }
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

/** The token from --token, --token-file, --token-fd or $STREAMBENCH_TOKEN (in that order); undefined when none is given. */
function readToken(flag: string | undefined, file: string | undefined, fdText: string | undefined): string | undefined {
  if ([flag, file, fdText].filter((x) => x !== undefined).length > 1) throw InputError.single('streambench agent', 'more than one of --token, --token-file and --token-fd given', 'give one of them');
  if (fdText !== undefined) {
    if (!/^\d+$/.test(fdText) || Number(fdText) === 1 || Number(fdText) === 2) throw InputError.single('--token-fd', `'${fdText}' is not a file descriptor to read (a number other than 1 and 2)`, 'e.g. --token-fd 3, with the token written into that descriptor');
    const fd = Number(fdText);
    let token: string;
    try {
      token = readFileSync(fd, 'utf8').trim();
    } catch (e) {
      throw InputError.single('--token-fd', `cannot read the token from descriptor ${fd}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
    } finally {
      // Closed once read: the commands the agent starts must not inherit it.
      try {
        closeSync(fd);
      } catch {
        // not open (the read said why)
      }
    }
    if (token === '') throw InputError.single('--token-fd', `descriptor ${fd} gave an empty token`);
    return token;
  }
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
