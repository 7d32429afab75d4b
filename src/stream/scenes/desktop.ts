/** The desktop the scenes share: wallpaper, icons, taskbar with a clock, and windows. */
import type { YuvFrame } from '../frame.ts';
import { C, drawDigits, drawParagraphs, drawText, even, fillRect, ICON_COLORS, hash2, makeFont, rgb, textLine, two, type Color, type Font } from './draw.ts';
import { CTEX, CTEX_MASK, getTextures, TEX, TEX_MASK } from './renderers.ts';

/** Sizes of the desktop's parts for one frame size. */
export interface Layout {
  W: number;
  H: number;
  /** Size scale against 720 lines. */
  S: number;
  font: Font;
  taskbarH: number;
  titleH: number;
  clockH: number;
}

/** The layout of a W x H desktop, its parts scaled to its height. */
export function makeLayout(W: number, H: number): Layout {
  const S = H / 720;
  return {
    W,
    H,
    S,
    font: makeFont(Math.max(3, Math.round(7 * S)), Math.max(6, Math.round(15 * S))),
    taskbarH: even(Math.max(12, 36 * S)),
    titleH: even(Math.max(8, 26 * S)),
    clockH: Math.max(6, Math.round(16 * S)),
  };
}

/** n pixels at 720 lines, scaled to the layout (1 at least). */
export function px(lay: Layout, n: number): number {
  return Math.max(1, Math.round(n * lay.S));
}

/** Draws the wallpaper, the icons and the taskbar without its clock over the whole frame. */
export function drawDesktop(f: YuvFrame, lay: Layout): void {
  const { W, H } = lay;
  const cw = W >> 1;
  // Wallpaper: a soft diagonal gradient with a large lighter disc, blue to purple.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = x / W - 0.7;
      const dy = y / H - 0.35;
      const glow = Math.max(0, 1 - Math.sqrt(dx * dx + dy * dy) * 2.2);
      f.y[y * W + x] = Math.round(48 + 50 * ((x / W + y / H) / 2) + 60 * glow * glow);
    }
  }
  for (let y = 0; y < H >> 1; y++) {
    for (let x = 0; x < cw; x++) {
      f.u[y * cw + x] = Math.round(150 - (16 * x) / cw);
      f.v[y * cw + x] = Math.round(118 + (18 * (x + y)) / (cw + (H >> 1)));
    }
  }
  // Icons down the left edge, clear of the frame number code in the corner.
  const icon = even(px(lay, 40));
  const pitch = icon + 2 * lay.font.lh;
  let iy = even(Math.max(110 * lay.S, 70));
  for (let i = 0; iy + pitch < H - lay.taskbarH; i++, iy += pitch) {
    const ix = even(px(lay, 24));
    fillRect(f, ix, iy, icon, icon, ICON_COLORS[i % ICON_COLORS.length]!);
    drawText(f, ix - 2, iy + icon + 2, textLine(900, i, Math.max(3, Math.floor((icon + 8) / lay.font.cw))), lay.font, 235);
  }
  // Taskbar: start button, task buttons with labels, clock area on the right.
  const ty = H - lay.taskbarH;
  fillRect(f, 0, ty, W, lay.taskbarH, C.taskbar);
  const pad = even(Math.max(2, 4 * lay.S));
  fillRect(f, pad, ty + pad, lay.taskbarH - 2 * pad, lay.taskbarH - 2 * pad, C.start);
  const bw = even(px(lay, 150));
  for (let i = 0, bx = lay.taskbarH + pad; i < 4 && bx + bw < W * 0.7; i++, bx += bw + pad) {
    fillRect(f, bx, ty + pad, bw, lay.taskbarH - 2 * pad, C.taskButton);
    fillRect(f, bx + pad, ty + 2 * pad, lay.taskbarH - 4 * pad, lay.taskbarH - 4 * pad, ICON_COLORS[(i + 2) % ICON_COLORS.length]!);
    const tx = bx + lay.taskbarH;
    drawText(f, tx, ty + ((lay.taskbarH - lay.font.lh) >> 1), textLine(950, i, Math.floor((bw - lay.taskbarH - pad) / lay.font.cw)), lay.font, 200);
  }
}

/** The taskbar clock: hh:mm:ss counting from 09:41:00 at frame 0, so it changes once per second. */
export function drawClock(f: YuvFrame, lay: Layout, frameIndex: number, fps: number): void {
  const secs = (9 * 3600 + 41 * 60 + Math.floor(frameIndex / fps)) % 86400;
  const text = `${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}`;
  const dw = Math.max(3, Math.round(lay.clockH * 0.55)) + Math.max(2, 2 * Math.max(1, Math.round(lay.clockH / 8)));
  const x = lay.W - text.length * dw - px(lay, 14);
  drawDigits(f, x, lay.H - lay.taskbarH + ((lay.taskbarH - lay.clockH) >> 1), lay.clockH, text, 225, C.taskbar.y);
}

/** A rectangle in pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A window: frame, title bar with a title and three buttons, body; returns the body rectangle. */
export function drawWindow(f: YuvFrame, lay: Layout, r: Rect, seed: number, active: boolean, body: Color): Rect {
  fillRect(f, r.x, r.y, r.w, r.h, C.frame);
  const b = 2;
  const th = lay.titleH;
  fillRect(f, r.x + b, r.y + b, r.w - 2 * b, th, active ? C.titleActive : C.titleIdle);
  drawText(f, r.x + b + px(lay, 10), r.y + b + ((th - lay.font.lh) >> 1), textLine(seed, 0, Math.min(28, Math.floor(r.w / lay.font.cw / 3))), lay.font, C.titleText, true);
  const bs = even(th * 0.6);
  for (let i = 0; i < 3; i++) {
    fillRect(f, r.x + r.w - b - (i + 1) * (bs + 6), r.y + b + ((th - bs) >> 1), bs, bs, i === 0 ? rgb(200, 70, 60) : rgb(150, 156, 166));
  }
  const bodyRect = { x: r.x + b, y: r.y + b + th, w: r.w - 2 * b, h: r.h - 2 * b - th };
  fillRect(f, bodyRect.x, bodyRect.y, bodyRect.w, bodyRect.h, body);
  return bodyRect;
}

/** A file browser window: a sidebar of places and a grid of icons with names. */
export function drawFileBrowser(f: YuvFrame, lay: Layout, r: Rect, seed: number): void {
  const body = drawWindow(f, lay, r, seed, false, C.windowBody);
  const side = even(body.w * 0.25);
  fillRect(f, body.x, body.y, side, body.h, C.sidebar);
  for (let i = 0, y = body.y + px(lay, 8); y + lay.font.lh < body.y + body.h; i++, y += lay.font.lh + px(lay, 4)) {
    drawText(f, body.x + px(lay, 8), y, textLine(seed + 1, i, Math.floor((side - px(lay, 16)) / lay.font.cw)), lay.font, C.ink);
  }
  const icon = even(px(lay, 34));
  const cell = icon + even(px(lay, 30));
  for (let y = body.y + px(lay, 12), k = 0; y + icon + lay.font.lh < body.y + body.h; y += cell + lay.font.lh) {
    for (let x = body.x + side + px(lay, 14); x + cell < body.x + body.w; x += cell, k++) {
      fillRect(f, even(x), even(y), icon, icon, ICON_COLORS[hash2(seed, k) % ICON_COLORS.length]!);
      drawText(f, x, y + icon + 2, textLine(seed + 2, k, Math.floor(cell / lay.font.cw) - 1), lay.font, C.ink);
    }
  }
}

/** A terminal window: light text on a dark body. */
export function drawTerminal(f: YuvFrame, lay: Layout, r: Rect, seed: number): void {
  const body = drawWindow(f, lay, r, seed, false, C.terminal);
  const pad = px(lay, 6);
  drawParagraphs(f, body.x + pad, body.y + pad, body.w - 2 * pad, body.h - 2 * pad, lay.font, seed, C.termInk);
}

/** A picture: clouds from the video texture with colour, as in a document or a window. */
export function drawPhoto(f: YuvFrame, x: number, y: number, w: number, h: number, seed: number): void {
  const t = getTextures();
  const ox = hash2(seed, 1) & TEX_MASK;
  const oy = hash2(seed, 2) & TEX_MASK;
  const W = f.width;
  for (let r = 0; r < h; r++) {
    if (y + r < 0 || y + r >= f.height) continue;
    for (let c = 0; c < w && x + c < W; c++) f.y[(y + r) * W + x + c] = t.videoY[((oy + r) & TEX_MASK) * TEX + ((ox + c) & TEX_MASK)]!;
  }
  const cw = W >> 1;
  for (let r = 0; r < h >> 1; r++) {
    const yy = (y >> 1) + r;
    if (yy < 0 || yy >= f.height >> 1) continue;
    for (let c = 0; c < w >> 1 && (x >> 1) + c < cw; c++) {
      const s = (((oy >> 1) + r) & CTEX_MASK) * CTEX + (((ox >> 1) + c) & CTEX_MASK);
      f.u[yy * cw + (x >> 1) + c] = t.u[s]!;
      f.v[yy * cw + (x >> 1) + c] = t.v[s]!;
    }
  }
}
