/** `streambench desktop guest|client`: one role of a desktop point (SPICE, ...), alone, so the roles of a remote desktop can live on their own machines. */
import { dirname } from 'node:path';
import { errorMessage, InputError } from '../../base/errors.ts';
import { stopRequested } from '../../base/stop-signal.ts';
import { suggestHint } from '../../base/suggest.ts';
import { DESKTOP_STACKS } from '../../workloads/desktop-stacks.ts';
import { DESKTOP_ROLE_PROCESSES, parseRoleConfig, type DesktopRoleConfig, type DesktopRoleName } from '../../workloads/desktop/role-config.ts';
import { runDesktopRole } from '../../workloads/desktop/roles.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const desktopSpec = {
  name: 'desktop',
  summary: "Run one role of a desktop point (the guest's server and content, or the client's viewer and screen reader).",
  usage: 'streambench desktop guest|client --config JSON --report FILE [--listen ADDR] [--connect ADDR:PORT] [--stop-file FILE]',
  help: [
    '  --config JSON         the role\'s settings, as a desktop workload passes them: {"stack":"spice","params":{...},',
    '                        "warmupS":N,"durationS":N,"lifetimeS":N} (params as in a benchmark file; checked by the same rules);',
    '                        the client also takes "viewer":{...}, what the guest\'s ready line handed over for the viewer',
    "  --report FILE         where the role writes its report at SIGTERM; its programs' logs go beside it",
    "  --listen ADDR         guest: the address the stack's server listens on (default 127.0.0.1)",
    '  --connect ADDR:PORT   client: the relay (or the server directly) the viewer connects to',
    '  --stop-file FILE      stop as at SIGTERM once FILE exists (what a desktop point uses: under Slurm a',
    '                        SIGTERM cancels the step, whose tasks are killed seconds later, maybe before the report)',
    '',
    "`guest` starts the stack's server on a free X display and the content on it; `client` starts a virtual",
    "screen (Xvfb), the viewer on it and a grabber that reads the scene's frame numbers off that screen.",
    'Each prints one JSON line {"ready":true,...} when it runs (the guest with the server\'s port and what the viewer needs, once the',
    'content drew its first frame; the client once it shows the guest), samples the CPU of what it started,',
    'and on SIGTERM stops it all and writes its report (the client: each frame number it read, when, on its',
    'own monotonic clock). What it starts stays in its process group: ending the group ends everything.',
  ].join('\n'),
  options: {
    config: { type: 'string' },
    report: { type: 'string' },
    listen: { type: 'string' },
    connect: { type: 'string' },
    'stop-file': { type: 'string' },
  },
} satisfies CommandSpec;

/** Runs one desktop role until SIGTERM. */
export async function desktopCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(desktopSpec, argv);
  if (a.values.help) return (out.write(helpText(desktopSpec)), 0);
  const role = a.positionals[0] as DesktopRoleName | undefined;
  if (!role || !DESKTOP_ROLE_PROCESSES.includes(role)) throw InputError.single('streambench desktop', role ? `unknown role '${role}'` : 'which role?', suggestHint(role ?? '', DESKTOP_ROLE_PROCESSES));
  if (a.values.config === undefined) throw InputError.single('--config', '--config JSON is required');
  if (a.values.report === undefined) throw InputError.single('--report', '--report FILE is required');
  let cfg: DesktopRoleConfig;
  try {
    cfg = parseRoleConfig(JSON.parse(a.values.config));
  } catch (e) {
    throw InputError.single('--config', errorMessage(e));
  }
  const stack = DESKTOP_STACKS[cfg.stack];
  if (!stack) throw InputError.single('--config', `unknown desktop stack '${cfg.stack}'`, suggestHint(cfg.stack, Object.keys(DESKTOP_STACKS)));
  let connect: { host: string; port: number } | undefined;
  if (role === 'client') {
    const m = a.values.connect === undefined ? null : /^(.+):(\d+)$/.exec(a.values.connect);
    if (!m) throw InputError.single('--connect', a.values.connect === undefined ? 'the client needs --connect ADDR:PORT' : `'${a.values.connect}' is not ADDR:PORT`);
    connect = { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  }
  const until = stopRequested(a.values['stop-file']);
  try {
    await runDesktopRole(role, stack, cfg, {
      dir: dirname(a.values.report),
      report: a.values.report,
      ...(a.values.listen !== undefined ? { listen: a.values.listen } : {}),
      ...(connect ? { connect } : {}),
      ready: (extra) => out.write(`${JSON.stringify({ ready: true, role, pid: process.pid, ...extra })}\n`),
      until,
    });
  } catch (e) {
    // The session quotes the last line of this role's log.
    process.stderr.write(`desktop ${role}: ${errorMessage(e)}\n`);
    return 1;
  }
  return 0;
}
