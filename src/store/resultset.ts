/**
 * A result set: a plain directory, one subdirectory per executed point and repetition.
 * A point directory appears by rename only once complete, so kill -9 at any moment leaves
 * either the old complete point or none, never a half-written one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { StoreError } from '../base/errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../base/fs-atomic.ts';
import { parsePointRecord, pointDirName, STORE_FORMAT, type PointRecord } from './records.ts';

const MARKER = 'streambench-set.json';

export interface SetInfo {
  format: number;
  name: string;
  createdAt: string;
}

/** A point being written: files go to a staging directory until `commit`. */
export class PointWriter {
  constructor(
    readonly dir: string,
    private readonly finalDir: string,
    private readonly trashDir: string,
  ) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  writeText(name: string, text: string | Uint8Array): void {
    writeFileAtomic(join(this.dir, name), text);
  }

  /** Writes point.json, then swaps the staging directory in place of any earlier attempt. */
  commit(record: Omit<PointRecord, 'files' | 'format'>): PointRecord {
    const files = readdirSync(this.dir).filter((f) => f !== 'point.json' && !f.startsWith('.')).sort();
    const full: PointRecord = { format: STORE_FORMAT, ...record, files };
    writeJsonAtomic(join(this.dir, 'point.json'), full);
    if (existsSync(this.finalDir)) renameSync(this.finalDir, this.trashDir);
    renameSync(this.dir, this.finalDir);
    rmSync(this.trashDir, { recursive: true, force: true });
    return full;
  }

  /** Drops what was staged (used when nothing worth keeping was recorded). */
  discard(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ResultSet {
  private constructor(
    readonly dir: string,
    readonly info: SetInfo,
  ) {}

  /** Opens an existing result set; throws StoreError when the directory is not one. */
  static open(dir: string): ResultSet {
    const marker = join(dir, MARKER);
    if (!existsSync(marker)) throw new StoreError(`${dir} is not a result set (no ${MARKER})`);
    let info: SetInfo;
    try {
      info = JSON.parse(readFileSync(marker, 'utf8')) as SetInfo;
    } catch (e) {
      throw new StoreError(`${marker} is unreadable: ${(e as Error).message}`);
    }
    if (info.format !== STORE_FORMAT) throw new StoreError(`${dir} has store format ${info.format}; this version reads ${STORE_FORMAT}`);
    return new ResultSet(dir, info);
  }

  /** Opens the result set at dir, creating it when absent. */
  static openOrCreate(dir: string, name: string): ResultSet {
    if (existsSync(join(dir, MARKER))) return ResultSet.open(dir);
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new StoreError(`${dir} exists, is not empty, and is not a result set: choose another --results directory`);
    const info: SetInfo = { format: STORE_FORMAT, name, createdAt: new Date().toISOString() };
    writeJsonAtomic(join(dir, MARKER), info);
    mkdirSync(join(dir, 'points'), { recursive: true });
    return new ResultSet(dir, info);
  }

  private get staging(): string {
    return join(this.dir, '.staging');
  }

  /**
   * Takes the set's lock so two runs never write the same set; a lock left by a dead process
   * (kill -9) is taken over. Returns a function that releases it.
   */
  lock(isAlive: (pid: number) => boolean): () => void {
    const path = join(this.dir, '.lock');
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname() }), { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = JSON.parse(readFileSync(path, 'utf8') || '{}') as { pid?: number; host?: string };
      if (held.host === hostname() && held.pid !== undefined && held.pid !== process.pid && isAlive(held.pid)) {
        throw new StoreError(`${this.dir} is in use by process ${held.pid}; wait for it or stop it`);
      }
      writeFileAtomic(path, JSON.stringify({ pid: process.pid, host: hostname() }));
    }
    return () => rmSync(path, { force: true });
  }

  /**
   * Removes staging directories left by an interrupted run. A killed `--force` rerun can leave the
   * earlier record moved aside and not yet replaced: it is put back, so what was recorded stays.
   */
  cleanStaging(): void {
    if (existsSync(this.staging)) {
      for (const entry of readdirSync(this.staging)) {
        const m = /^(.+)\.old\.\d+$/.exec(entry);
        const final = m ? join(this.dir, 'points', m[1]!) : undefined;
        if (final && !existsSync(final) && existsSync(join(this.staging, entry, 'point.json'))) renameSync(join(this.staging, entry), final);
      }
    }
    rmSync(this.staging, { recursive: true, force: true });
  }

  /** Keeps an exact copy of each benchmark file that wrote into the set. */
  freezeBenchmark(source: { file: string; text: string; sha256: string }): void {
    const ext = /\.(m?[jt]s)$/.exec(source.file)?.[0] ?? '.yaml';
    const path = join(this.dir, 'benchmarks', `${source.sha256.slice(0, 12)}${ext}`);
    if (!existsSync(path)) writeFileAtomic(path, source.text);
  }

  /** The committed record of a point, if any. */
  read(key: string, rep: number): PointRecord | undefined {
    return this.readDir(join(this.dir, 'points', pointDirName(key, rep)));
  }

  private readDir(dir: string): PointRecord | undefined {
    let text: string;
    try {
      text = readFileSync(join(dir, 'point.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const r = parsePointRecord(JSON.parse(text));
    if (typeof r === 'string') throw new StoreError(`${join(dir, 'point.json')}: ${r}`);
    return r;
  }

  /** Every committed point, in directory order. */
  points(): PointRecord[] {
    const root = join(this.dir, 'points');
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .filter((d) => !d.startsWith('.'))
      .sort()
      .flatMap((d) => {
        const r = this.readDir(join(root, d));
        return r ? [r] : [];
      });
  }

  /** Starts writing a point; `commit` makes it visible. */
  beginPoint(key: string, rep: number): PointWriter {
    const name = pointDirName(key, rep);
    const stage = join(this.staging, `${name}.${process.pid}`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    return new PointWriter(stage, join(this.dir, 'points', name), join(this.staging, `${name}.old.${process.pid}`));
  }

  /** Directory of a committed point. */
  pointDir(key: string, rep: number): string {
    return join(this.dir, 'points', pointDirName(key, rep));
  }

  get name(): string {
    return this.info.name || basename(this.dir);
  }
}

/** Result sets directly below a results directory, or the one set the directory is. */
export function listResultSets(root: string): ResultSet[] {
  if (!existsSync(root)) return [];
  // A result set's own directory lists itself.
  if (existsSync(join(root, MARKER))) return [ResultSet.open(root)];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, MARKER)))
    .map((d) => ResultSet.open(join(root, d.name)));
}
