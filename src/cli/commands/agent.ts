/** `streambench agent`: the recording agent of one machine of the chain. */
import { InputError } from '../../base/errors.ts';
import { Agent } from '../../record/agent.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const agentSpec = {
  name: 'agent',
  summary: 'Run a recording agent: samples this machine for the engine, serves /metrics, runs hooks when allowed.',
  usage: 'streambench agent --role NAME [--listen ADDR:PORT] [--token TOKEN] [--allow-commands]',
  help: [
    '  --role NAME           the role of this machine in the chain: guest, host, client, or any name',
    '  --listen ADDR:PORT    where to listen (default 127.0.0.1:7070); beyond loopback a token is required',
    '  --token TOKEN         the token clients must send (default: $STREAMBENCH_TOKEN)',
    '  --allow-commands      run the benchmark\'s hook commands aimed at this role (`on: ROLE`); argv only, never a shell',
    '',
    'Prints one JSON line {"ready":true,"port":N} when listening; stops on SIGTERM or SIGINT.',
    'Prometheus can scrape http://ADDR:PORT/metrics (with the token as a bearer token when one is set).',
  ].join('\n'),
  options: {
    role: { type: 'string' },
    listen: { type: 'string' },
    token: { type: 'string' },
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
  const token = a.values.token ?? process.env['STREAMBENCH_TOKEN'];
  let agent: Agent;
  try {
    agent = new Agent({ role, host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), ...(token ? { token } : {}), allowCommands: Boolean(a.values['allow-commands']) });
  } catch (e) {
    throw InputError.single('streambench agent', (e as Error).message);
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
