/** What the machine an agent runs on is, for the run's record (`GET /v1/hello`). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { machineIdentity } from '../base/machine.ts';
import type { HostFacts } from './protocol.ts';

/** What this machine is, for the run's record. */
export function hostFacts(): HostFacts {
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  let os = 'unknown';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    os = process.platform; // not every system has os-release; the platform still says something
  }
  const tools: Record<string, string> = {};
  for (const [name, argv] of [
    ['ffmpeg', ['ffmpeg', '-version']],
    ['nvidia-smi', ['nvidia-smi', '--version']],
    ['intel_gpu_top', ['intel_gpu_top', '-h']],
  ] as const) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 3000 });
    if (!r.error) tools[name] = (r.stdout || r.stderr).split('\n')[0]!.trim().slice(0, 200);
  }
  return { hostname: hostname(), cpuModel, cores: cpus().length, memoryMb: Math.round(totalmem() / 1048576), kernel: release(), os, node: process.version, tools, ...machineIdentity() };
}
