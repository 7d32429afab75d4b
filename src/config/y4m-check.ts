/**
 * A stream's `source:` checked when the file is loaded, so that `validate` refuses what the guest
 * could not stream (a missing file, a FIFO, a device, a file that is not YUV4MPEG2) instead of the
 * point failing at run time. The file is stat'ed before it is opened, and opened without blocking:
 * a FIFO is never opened (opening one for reading waits for a writer). Only the header line is
 * read; the guest indexes the frames when it streams (src/stream/y4m.ts, whose header rules these
 * are: 4:2:0, even W and H).
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { show } from './show.ts';

const MAGIC = 'YUV4MPEG2 ';
/** src/stream/y4m.ts reads header lines up to this length. */
const MAX_HEADER = 64 * 1024;
const COLORSPACES = new Set(['420', '420jpeg', '420mpeg2', '420paldv']);

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/** Why `path` cannot be a stream's source; undefined when its header says it can. Relative paths are read from the current directory, as the guest reads them. */
export function y4mSourceProblem(path: string): string | undefined {
  const name = `source ${show(path, 200)}`;
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${name} does not exist` : `${name} cannot be read (${code ?? 'error'})`;
  }
  if (!st.isFile()) return `${name} is not a regular file (it is ${kind(st)})`;
  let fd: number;
  try {
    // O_NONBLOCK: had the path turned into a FIFO since the stat, open would not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return `${name} cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile()) return `${name} is not a regular file (it is ${kind(now)})`;
    const buf = Buffer.alloc(Math.min(MAX_HEADER, now.size));
    const got = buf.length > 0 ? readSync(fd, buf, 0, buf.length, 0) : 0;
    if (got === 0) return `${name} is not a YUV4MPEG2 file: it is empty`;
    const nl = buf.subarray(0, got).indexOf(10);
    const line = buf.toString('latin1', 0, nl >= 0 ? nl : got);
    if (!line.startsWith(MAGIC)) return `${name} is not a YUV4MPEG2 file: it starts with ${show(line.slice(0, 20))}, not '${MAGIC.trim()}'`;
    if (nl < 0) return `${name}: its YUV4MPEG2 header has no end of line within ${MAX_HEADER} bytes`;
    let width = 0;
    let height = 0;
    let colorspace = '420';
    for (const tok of line.slice(MAGIC.length).split(' ')) {
      const v = tok.slice(1);
      if (tok[0] === 'W' || tok[0] === 'H') {
        if (!/^\d+$/.test(v) || Number(v) <= 0) return `${name}: bad ${tok[0] === 'W' ? 'width (W)' : 'height (H)'} ${show(v, 20)} in its header`;
        if (tok[0] === 'W') width = Number(v);
        else height = Number(v);
      } else if (tok[0] === 'C') colorspace = v;
    }
    if (width === 0 || height === 0) return `${name}: its header lacks ${width === 0 ? 'the width (W)' : 'the height (H)'}`;
    if (!COLORSPACES.has(colorspace)) return `${name}: colorspace C${show(colorspace, 20, false)} is not 4:2:0 with 8 bits (C420, C420jpeg, C420mpeg2, C420paldv)`;
    if (width % 2 !== 0 || height % 2 !== 0) return `${name}: frame size ${width}x${height} is odd; only even sizes are streamed`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}
