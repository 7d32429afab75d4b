/** An agent's latest values in Prometheus' text format (`GET /metrics`), one gauge per value. */

/** The exposition text: `streambench_<name>{role="ROLE"} VALUE` per finite value, then the agent's own CPU seconds. */
export function prometheusText(role: string, latest: ReadonlyMap<string, Record<string, number>>): string {
  const lines: string[] = [];
  const label = role.replace(/["\\\n]/g, '_');
  for (const [, values] of latest) {
    for (const [name, v] of Object.entries(values)) {
      if (!Number.isFinite(v)) continue;
      lines.push(`streambench_${name.replace(/[^A-Za-z0-9_]/g, '_')}{role="${label}"} ${v}`);
    }
  }
  const cpu = process.cpuUsage();
  lines.push(`streambench_agent_cpu_seconds_total{role="${label}"} ${(cpu.user + cpu.system) / 1e6}`);
  return lines.join('\n') + '\n';
}
