/**
 * The marks of a run's time axis read from its JSON files: the decisions of controls.json (the
 * stream workload writes them; the server cannot import it, so the record's shape is the API's
 * RunControlRecord, checked field by field here) and the freezes of freezes.json. A file that
 * cannot be read or does not hold what it must is one RunFileProblem naming it, never a crash:
 * the view draws everything else.
 */
import { controlFieldKind, type FieldsOf } from '../config/control-record.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../base/errors.ts';
import { fileProblem } from '../store/duck.ts';
import { type RunControlRecord, type RunFileProblem, type RunFreezes } from './api-types.ts';

/** The decisions' file of a point (as src/workloads/stream/run.ts names it). */
export const CONTROLS_FILE = 'controls.json';
/** The freezes' file of a point. */
export const FREEZES_FILE = 'freezes.json';

/** A larger file is not read: a point's decisions are a few hundred kB at most (one per feedback report of a long run). */
const MAX_BYTES = 64 * 1024 * 1024;

const HOLDS: Record<string, string> = {
  [CONTROLS_FILE]: 'the decisions (marks of the network panel)',
  [FREEZES_FILE]: 'the freezes (marks of the frame view)',
};

// The API's record has exactly the fields of the one table both readers check against.
type _FieldsMatch = FieldsOf<RunControlRecord>;

/** Thrown by the checks below: what is wrong inside the file. */
class Damaged extends Error {}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One record of controls.json checked against the fields of src/config/control-record.ts; unknown fields dropped (a newer writer's). */
export function checkControlRecord(v: unknown, where: string): RunControlRecord {
  if (!isObj(v)) throw new Damaged(`${where} is not an object`);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const want = controlFieldKind(k);
    if (want === undefined) continue;
    // An unknown stamp travels as null (the writer turns NaN into null).
    const ok = want === 'estimate' ? isObj(x) && Object.values(x).every((e) => e === null || typeof e === 'number' || typeof e === 'string') : typeof x === want || (want === 'number' && x === null);
    if (!ok) throw new Damaged(`${where}: '${k}' must be ${want === 'estimate' ? 'an object of numbers and strings' : `a ${want}`}, not ${JSON.stringify(x).slice(0, 60)}`);
    out[k] = x;
  }
  if (typeof out['t'] !== 'number' || !Number.isFinite(out['t']) || typeof out['from'] !== 'string') throw new Damaged(`${where} needs t (a number of ms) and from (who decided)`);
  return out as unknown as RunControlRecord;
}

/** freezes.json checked: thresholdMs and a list of {fromMs, toMs} with toMs >= fromMs. */
export function checkFreezes(v: unknown): RunFreezes {
  if (!isObj(v) || typeof v['thresholdMs'] !== 'number' || !Array.isArray(v['freezes'])) throw new Damaged('must be {"thresholdMs": ms, "freezes": [{"fromMs": ms, "toMs": ms}, ...]}');
  const freezes = v['freezes'].map((f, i) => {
    if (!isObj(f) || typeof f['fromMs'] !== 'number' || typeof f['toMs'] !== 'number' || !(f['toMs'] >= f['fromMs'])) throw new Damaged(`freezes[${i}] must be {"fromMs": ms, "toMs": ms} with toMs not before fromMs, not ${JSON.stringify(f).slice(0, 80)}`);
    return { fromMs: f['fromMs'], toMs: f['toMs'] };
  });
  return { thresholdMs: v['thresholdMs'], freezes };
}

/**
 * Reads and checks one JSON file of the point in `dir`: undefined when it is absent and not
 * listed (`listed`: point.json names it), else its value or the problem that keeps it out.
 */
export function readPointJson<T>(dir: string, name: string, listed: boolean, check: (v: unknown) => T): { value?: T; problem?: RunFileProblem } {
  const path = join(dir, name);
  const problem = (kind: string, error: string): { problem: RunFileProblem } => ({ problem: { file: name, problem: kind, error, affects: HOLDS[name] ?? name } });
  // Checked before it is opened: a FIFO would hang the read, a directory would throw.
  const bad = fileProblem(path);
  if (bad) {
    if (bad.problem === 'missing' && !listed) return {};
    return problem(bad.problem, bad.message.replace('not a Parquet file', 'not a JSON file'));
  }
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_BYTES) return problem('damaged', `${path} is ${buf.length} bytes, more than a point's ${name} holds: not read`);
    text = buf.toString('utf8');
  } catch (e) {
    return problem('unreadable', `${path} cannot be read: ${errorMessage(e)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return problem('damaged', `${path} is not readable JSON: damaged or cut short (${errorMessage(e)})`);
  }
  try {
    return { value: check(v) };
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    return problem('damaged', `${path}: ${e.message}`);
  }
}

/** The decisions of controls.json, in time order. */
export function checkControls(v: unknown): RunControlRecord[] {
  if (!Array.isArray(v)) throw new Damaged('must be a list of decisions');
  return v.map((c, i) => checkControlRecord(c, `[${i}]`)).sort((a, b) => a.t - b.t);
}
