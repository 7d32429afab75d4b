/** YUV4MPEG2 (.y4m) files as a frame source: header parsed once, frames read by random access. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { assertFrameSize, type YuvFrame } from './frame.ts';

/** An open .y4m file of 4:2:0 frames. */
export interface Y4mSource {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** Frames per second, `fpsNum / fpsDen`. */
  readonly fps: number;
  readonly fpsNum: number;
  readonly fpsDen: number;
  /** The header's C value without the C ('420jpeg', ...), or '420' when the header has none. */
  readonly colorspace: string;
  /** Complete frames in the file; a truncated last frame is not counted. */
  readonly frameCount: number;
  /** Fills `out` with frame `frameIndex mod frameCount`, so any index loops over the file. */
  read(frameIndex: number, out: YuvFrame): void;
  /** Releases the file; reads after this throw. */
  close(): void;
}

const SUPPORTED = new Set(['420', '420jpeg', '420mpeg2', '420paldv']);
const MAGIC = 'YUV4MPEG2';
// Header lines are short; a longer one is a broken or hostile file, not a y4m.
const MAX_LINE = 64 * 1024;

/** Opens a .y4m file, checks that it holds even-sized 4:2:0 frames, and indexes where each frame's data starts. */
export function openY4m(path: string): Y4mSource {
  const fd = openSync(path, 'r');
  try {
    return indexFile(path, fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function indexFile(path: string, fd: number): Y4mSource {
  const fileSize = fstatSync(fd).size;
  const header = readLine(fd, 0, fileSize, path);
  if (header === undefined || !header.text.startsWith(`${MAGIC} `)) {
    const start = header?.text.slice(0, 20) ?? '';
    throw new Error(`${path}: not a YUV4MPEG2 file (it should start with "${MAGIC} ", found ${JSON.stringify(start)})`);
  }
  let width = 0;
  let height = 0;
  // FFmpeg assumes 25 fps when the header gives none; doing the same keeps files it writes readable.
  let fpsNum = 25;
  let fpsDen = 1;
  let colorspace = '420';
  for (const tok of header.text.slice(MAGIC.length + 1).split(' ')) {
    if (tok === '') continue;
    const value = tok.slice(1);
    switch (tok[0]) {
      case 'W':
        width = parsePositiveInt(path, 'width (W)', value);
        break;
      case 'H':
        height = parsePositiveInt(path, 'height (H)', value);
        break;
      case 'F': {
        const m = /^(\d+):(\d+)$/.exec(value);
        if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) throw new Error(`${path}: bad frame rate "F${value}" (expected F<num>:<den>, e.g. F30000:1001)`);
        fpsNum = Number(m[1]);
        fpsDen = Number(m[2]);
        break;
      }
      case 'C':
        colorspace = value;
        break;
      default:
        // Interlacing (I), aspect (A) and extensions (X) do not change how the planes are laid out.
        break;
    }
  }
  if (width === 0 || height === 0) throw new Error(`${path}: header lacks ${width === 0 ? 'the width (W)' : 'the height (H)'}`);
  if (!SUPPORTED.has(colorspace)) {
    throw new Error(`${path}: unsupported colorspace C${colorspace}; only 4:2:0 with 8 bits (C420, C420jpeg, C420mpeg2, C420paldv) is supported`);
  }
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error(`${path}: frame size ${width}x${height} is odd; only even sizes are supported`);

  const ySize = width * height;
  const cSize = (width / 2) * (height / 2);
  const frameSize = ySize + 2 * cSize;
  // Frame headers may carry parameters, so their length varies: find every data offset once here.
  const offsets: number[] = [];
  let pos = header.next;
  while (pos < fileSize) {
    const line = readLine(fd, pos, fileSize, path);
    if (line === undefined) break; // a frame header cut off by the end of the file
    if (line.text !== 'FRAME' && !line.text.startsWith('FRAME ')) {
      throw new Error(`${path}: expected a FRAME header at byte ${pos}, found ${JSON.stringify(line.text.slice(0, 20))}`);
    }
    if (line.next + frameSize > fileSize) break;
    offsets.push(line.next);
    pos = line.next + frameSize;
  }
  if (offsets.length === 0) throw new Error(`${path}: no complete frame of ${width}x${height} (${frameSize} bytes) in the file`);

  let open = true;
  return {
    path,
    width,
    height,
    fps: fpsNum / fpsDen,
    fpsNum,
    fpsDen,
    colorspace,
    frameCount: offsets.length,
    read(frameIndex: number, out: YuvFrame): void {
      if (!open) throw new Error(`${path}: read after close`);
      if (!Number.isInteger(frameIndex)) throw new RangeError(`${path}: frame index must be an integer, got ${frameIndex}`);
      assertFrameSize(out, width, height, path);
      const n = offsets.length;
      const at = offsets[((frameIndex % n) + n) % n]!;
      readFully(fd, out.y, at, path);
      readFully(fd, out.u, at + ySize, path);
      readFully(fd, out.v, at + ySize + cSize, path);
    },
    close(): void {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** The text of the line at `pos` (without '\n') and where the next byte is, or undefined at end of file. */
function readLine(fd: number, pos: number, fileSize: number, path: string): { text: string; next: number } | undefined {
  let buf = Buffer.alloc(256);
  for (;;) {
    const want = Math.min(buf.length, fileSize - pos);
    if (want <= 0) return undefined;
    const got = readSync(fd, buf, 0, want, pos);
    const nl = buf.subarray(0, got).indexOf(10);
    if (nl >= 0) return { text: buf.toString('latin1', 0, nl), next: pos + nl + 1 };
    if (got < buf.length) return undefined;
    if (buf.length >= MAX_LINE) throw new Error(`${path}: no end of line within ${MAX_LINE} bytes of byte ${pos}; not a YUV4MPEG2 header`);
    buf = Buffer.alloc(buf.length * 4);
  }
}

function readFully(fd: number, into: Uint8Array, pos: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    const got = readSync(fd, into, done, into.length - done, pos + done);
    if (got === 0) throw new Error(`${path}: file ended inside a frame at byte ${pos + done}`);
    done += got;
  }
}

function parsePositiveInt(path: string, what: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new Error(`${path}: bad ${what} "${value}" in the header`);
  return Number(value);
}
