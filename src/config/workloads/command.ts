/**
 * The `command` workload (any program per point), declared once. Its parameters are the
 * benchmark file's own (typed by its `params:` section or from their values); the metrics it
 * always records are declared here, those its extraction rules find by the file (`unit`,
 * `better` beside a rule), and what neither declares has no unit and no direction.
 */
import type { MetricDecl, WorkloadDecl } from '../declare.ts';

const m = (name: string, unit: string | undefined, better: MetricDecl['better'], doc: string): MetricDecl => ({ name, ...(unit ? { unit } : {}), better, role: 'local', kind: 'summary', view: 'points', doc });
const series = (name: string, unit: string, doc: string): MetricDecl => ({ name, unit, better: 'lower', role: 'local', kind: 'series', view: 'timeseries', doc });

export const COMMAND_METRICS: readonly MetricDecl[] = [
  m('exit_code', undefined, 'none', "the program's exit code (-1 when killed by a signal)"),
  m('wall_time_s', 's', 'lower', 'from spawn to exit, monotonic clock'),
  m('cpu_user_s', 's', 'lower', "user CPU time of the whole process tree (the kernel's accounting of reaped children)"),
  m('cpu_system_s', 's', 'lower', 'system CPU time of the whole process tree'),
  m('cpu_pct', '%', 'lower', '(user + system) / wall, percent of one core; after a warm-up, the recorded window only'),
  m('peak_rss_mb', 'MiB', 'lower', "largest resident memory of the process tree (sampled sum and each process's VmHWM)"),
  series('nprocs', 'count', 'processes in the tree'),
  series('rss_mb', 'MiB', 'resident memory of the tree'),
  series('cpu_user_s', 's', 'user CPU time of the tree so far'),
  series('cpu_system_s', 's', 'system CPU time of the tree so far'),
];

export const COMMAND_DECL: WorkloadDecl = {
  type: 'command',
  roles: ['local'],
  params: [],
  metrics: COMMAND_METRICS,
  headline: ['wall_time_s', 'cpu_pct', 'peak_rss_mb'],
  processLabels: ['command'],
  executors: {
    agents: { refused: "the command workload cannot run under the agents executor (only stream places its roles on the agents' machines)" },
    slurm: { machines: ['local'], reach: 'none' },
  },
  needs: [],
  renamed: [{ from: 'cpu_percent', to: 'cpu_pct' }],
};
