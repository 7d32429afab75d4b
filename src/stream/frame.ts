/** Planar I420 (yuv420p) frames as the guest renders them and the client compares them. */

/**
 * One picture in I420 without row padding: `y` holds width*height bytes, `u` and `v` hold
 * (width/2)*(height/2) each. Width and height are even so that chroma is exactly half size.
 */
export interface YuvFrame {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

/** Bytes of one I420 frame of this size: what a rawvideo yuv420p file holds per frame. */
export function i420Size(width: number, height: number): number {
  checkSize(width, height);
  return width * height + 2 * (width / 2) * (height / 2);
}

/**
 * A new frame, black in limited range (Y 16, U and V 128), so an unfilled area is visibly dark and
 * not green. Its planes lie back to back in one buffer, as a rawvideo file holds them, so the
 * encoder takes the frame without first gathering the planes (one copy of the picture fewer).
 */
export function allocFrame(width: number, height: number): YuvFrame {
  checkSize(width, height);
  const ySize = width * height;
  const c = (width / 2) * (height / 2);
  const all = new Uint8Array(ySize + 2 * c);
  all.fill(16, 0, ySize);
  all.fill(128, ySize);
  return { width, height, y: all.subarray(0, ySize), u: all.subarray(ySize, ySize + c), v: all.subarray(ySize + c) };
}

/** Throws unless the frame has this size and planes of exactly the I420 lengths. */
export function assertFrameSize(frame: YuvFrame, width: number, height: number, what: string): void {
  const c = (width / 2) * (height / 2);
  if (frame.width !== width || frame.height !== height) {
    throw new RangeError(`${what}: frame is ${frame.width}x${frame.height}, expected ${width}x${height}`);
  }
  if (frame.y.length !== width * height || frame.u.length !== c || frame.v.length !== c) {
    throw new RangeError(`${what}: plane lengths ${frame.y.length}/${frame.u.length}/${frame.v.length} do not match I420 ${width}x${height} (${width * height}/${c}/${c})`);
  }
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`frame size must be positive integers, got ${width}x${height}`);
  }
  if (width % 2 !== 0 || height % 2 !== 0) {
    throw new RangeError(`I420 frames need an even width and height, got ${width}x${height}`);
  }
}
