/** The recording's own part of a benchmark file: its agents (by default one per role of the workload), probes, custom probes and watched processes. */
import { errorMessage } from '../base/errors.ts';
import { suggestHint } from '../base/suggest.ts';
import type { WorkloadDecl } from './declare.ts';
import { checkArgv, seconds, type Ctx } from './resolve-kit.ts';
import type { ProbeRates, ProcessSelection, Recording } from './resolved.ts';
import type { BenchmarkFile } from './schema.ts';
import { show } from './show.ts';
import type { PathSeg } from './source.ts';

/** The agents and probes of a run; by default a local agent for each of the workload's roles. */
export function resolveRecording(ctx: Ctx, raw: BenchmarkFile['recording'], workload: Pick<WorkloadDecl, 'type' | 'roles' | 'processLabels'>): Recording | undefined {
  if (raw === false) return undefined;
  const r = raw ?? {};
  const agents: Recording['agents'] = r.agents ? Object.entries(r.agents).map(([role, a]) => (a === 'local' ? { role } : { role, url: a.url, ...(a.token_env ? { tokenEnv: a.token_env } : {}) })) : workload.roles.map((role) => ({ role }));
  for (const a of agents) {
    if (a.url !== undefined && !/^https?:\/\//.test(a.url)) ctx.add(['recording', 'agents', a.role, 'url'], `'${a.url}' is not an http:// or https:// URL`);
  }
  const ms = (path: PathSeg[], v: number | string | false | undefined, dflt: number | false): number | false => (v === false ? false : v === undefined ? dflt : seconds(ctx, path, v, 0.1, 'interval') * 1000);
  const p = r.probes ?? {};
  const probes: ProbeRates = {
    cpu: ms(['recording', 'probes', 'cpu'], p.cpu, 100),
    mem: ms(['recording', 'probes', 'mem'], p.mem, 100),
    net: ms(['recording', 'probes', 'net'], p.net, 100),
    proc: ms(['recording', 'probes', 'proc'], p.proc, 100) || 100,
    cpufreq: ms(['recording', 'probes', 'cpufreq'], p.cpufreq, 1000),
    gpu: ms(['recording', 'probes', 'gpu'], p.gpu, 1000),
  };
  if (r.custom) {
    probes.custom = r.custom.map((c, i) => {
      if (c.on !== undefined && !agents.some((a) => a.role === c.on))
        ctx.add(
          ['recording', 'custom', i, 'on'],
          `no agent has role '${c.on}'`,
          suggestHint(
            c.on,
            agents.map((a) => a.role),
          ),
        );
      checkArgv(ctx, ['recording', 'custom', i, 'run'], c.run);
      return { name: c.name, argv: c.run, format: c.format, intervalMs: ms(['recording', 'custom', i, 'interval'], c.interval, 1000) || 1000, ...(c.on ? { on: c.on } : {}) };
    });
  }
  return {
    agents,
    probes,
    processes: processSelections(
      ctx,
      r.processes ?? [],
      agents.map((a) => a.role),
      workload,
    ),
    allowCommands: r.allow_commands ?? false,
  };
}

/** `recording.processes`: one criterion each, a regex that compiles, a known role, one label per role. */
function processSelections(ctx: Ctx, raw: NonNullable<Exclude<BenchmarkFile['recording'], false | undefined>['processes']>, roles: readonly string[], workload: Pick<WorkloadDecl, 'type' | 'processLabels'>): ProcessSelection[] {
  const out: ProcessSelection[] = [];
  const seen = new Map<string, number>();
  raw.forEach((p, i) => {
    const at = (...rest: PathSeg[]): PathSeg[] => ['recording', 'processes', i, ...rest];
    const criteria = (['name', 'cmdline', 'cgroup', 'pid'] as const).filter((k) => p[k] !== undefined);
    if (criteria.length !== 1) {
      ctx.add(
        at(),
        `process '${p.label}' needs exactly one of name, cmdline, cgroup, pid${criteria.length > 1 ? ` (it has ${criteria.join(' and ')})` : ''}`,
        criteria.length > 1 ? 'declare one entry per criterion, each with its own label' : "e.g. name: x11vnc (the executable's name) or cmdline: 'vncviewer .*'",
      );
    }
    if (p.cmdline !== undefined) {
      try {
        new RegExp(p.cmdline);
      } catch (e) {
        ctx.add(at('cmdline'), show(errorMessage(e), 200, false));
      }
    }
    let role = p.on;
    if (role === undefined) {
      if (roles.length === 1) role = roles[0];
      else ctx.add(at(), `process '${p.label}' needs \`on\`: the workload has several roles (${roles.join(', ')})`, `e.g. on: ${roles[0]}`);
    } else if (!roles.includes(role)) ctx.add(at('on'), `no agent has role '${role}'`, () => suggestHint(role!, roles));
    // The workload watches its own processes under these labels: a declared process under one would mix with them.
    if (workload.processLabels.includes(p.label)) ctx.add(at('label'), `label '${p.label}' is taken by the ${workload.type} workload's own processes`, 'choose another label');
    if (role === undefined) return;
    const key = `${role}\u0000${p.label}`;
    const first = seen.get(key);
    if (first !== undefined) ctx.add(at('label'), `label '${p.label}' is used twice on role ${role} (also recording.processes[${first}])`, 'each process needs its own label: its metrics are named by it');
    else seen.set(key, i);
    out.push({ label: p.label, role, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.cmdline !== undefined ? { cmdline: p.cmdline } : {}), ...(p.cgroup !== undefined ? { cgroup: p.cgroup } : {}), ...(p.pid !== undefined ? { pid: p.pid } : {}) });
  });
  return out;
}
