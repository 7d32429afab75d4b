// What differs between two result sets besides their results: the workload as the benchmark files
// wrote it (frozen in each set's benchmarks/), and the machines as the recording agents described
// them (agents.json: CPU model, cores, memory, kernel, OS, Node and tool versions), so that a
// machine change is not taken for a code change.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../base/errors.ts';
import type { PointRecord } from '../store/records.ts';
import type { ResultSet } from '../store/resultset.ts';

/** One field that differs: its path and the values on each side (several when a set mixes them; absent: not given). */
export interface FieldDiff {
  field: string;
  base: string[];
  new: string[];
}

/** What differs between two sets besides the results, and what could not be compared. */
export interface SetDifferences {
  workload: FieldDiff[];
  machines: FieldDiff[];
  notes: string[];
}

/** Top-level fields of a benchmark file that shape what one point runs, beside its workload. */
const POINT_FIELDS = ['warmup', 'duration', 'recording'];

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
}

/** The workload fields of the benchmark files that wrote a set's runs, flattened (`workload.codec`), each with the values seen. */
function workloadFields(set: ResultSet, records: readonly PointRecord[], notes: string[]): Map<string, Set<string>> {
  const dir = join(set.dir, 'benchmarks');
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const out = new Map<string, Set<string>>();
  for (const sha of new Set(records.map((r) => r.benchmark.sha256.slice(0, 12)))) {
    const file = files.find((f) => f.startsWith(`${sha}.`));
    if (!file) {
      notes.push(`${set.dir}: the benchmark file ${sha} is not kept in benchmarks/: its workload fields are not compared`);
      continue;
    }
    if (!/\.ya?ml$/.test(file)) {
      notes.push(`${set.dir}: benchmarks/${file} is a module: its workload fields are not compared (only YAML is read without running it)`);
      continue;
    }
    let data: unknown;
    try {
      data = parseYaml(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      notes.push(`${set.dir}: benchmarks/${file} cannot be read (${errorMessage(e).split('\n')[0]}): its workload fields are not compared`);
      continue;
    }
    const flat = new Map<string, string>();
    const d = (data ?? {}) as Record<string, unknown>;
    flatten(d['workload'], 'workload', flat);
    for (const f of POINT_FIELDS) if (d[f] !== undefined) flatten(d[f], f, flat);
    for (const [k, v] of flat) {
      let s = out.get(k);
      if (!s) out.set(k, (s = new Set()));
      s.add(v);
    }
  }
  return out;
}

/** The machine of each role as its agent described itself (`guest.cpuModel`, `client.tools.ffmpeg`). */
function machineFields(set: ResultSet, notes: string[]): Map<string, Set<string>> | undefined {
  const file = join(set.dir, 'agents.json');
  if (!existsSync(file)) {
    notes.push(`${set.dir} has no agents.json (recorded without agents): its machines are not compared`);
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    notes.push(`${file} cannot be read (${errorMessage(e).split('\n')[0]}): the machines are not compared`);
    return undefined;
  }
  const out = new Map<string, Set<string>>();
  for (const [role, hello] of Object.entries((data ?? {}) as Record<string, { facts?: Record<string, unknown> } | null>)) {
    const flat = new Map<string, string>();
    flatten(hello?.facts ?? {}, role, flat);
    // The host name is who ran it, not what it is: two runs on one machine under another name are alike.
    for (const [k, v] of flat) if (!k.endsWith('.hostname')) out.set(k, new Set([v]));
  }
  return out;
}

function diff(a: Map<string, Set<string>>, b: Map<string, Set<string>>): FieldDiff[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const show = (s: Set<string> | undefined) => [...(s ?? [])].sort();
  return keys.flatMap((k) => {
    const x = show(a.get(k));
    const y = show(b.get(k));
    return JSON.stringify(x) === JSON.stringify(y) ? [] : [{ field: k, base: x, new: y }];
  });
}

/** The workload and machine differences between two sets (from their kept benchmark files and agents.json). */
export function setDifferences(base: ResultSet, next: ResultSet): SetDifferences {
  const notes: string[] = [];
  const records = (s: ResultSet) => s.points();
  const workload = diff(workloadFields(base, records(base), notes), workloadFields(next, records(next), notes));
  const mb = machineFields(base, notes);
  const mn = machineFields(next, notes);
  return { workload, machines: mb && mn ? diff(mb, mn) : [], notes };
}
