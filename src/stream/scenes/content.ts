/**
 * Deterministic synthetic screen content for streaming benchmarks. A frame depends only on the
 * scene's name, size, frame rate and the frame's index, so the client can regenerate the exact
 * source of any frame it decodes and runs are reproducible. Every frame carries its index as a
 * block code in the top-left corner.
 *
 * Speed comes from drawing everything that does not move once at creation (desktop, windows,
 * documents, glyph pages, textures) and, per frame, copying it with typed-array set/fill; only the
 * video and motion scenes touch every pixel of their moving area, in flat loops over typed arrays.
 */
import { allocFrame, assertFrameSize, type YuvFrame } from '../frame.ts';
import { drawClock, drawDesktop, drawFileBrowser, drawPhoto, drawTerminal, drawWindow, makeLayout, px, type Layout, type Rect } from './desktop.ts';
import { blit, C, copyFrame, drawDigits, drawParagraphs, drawText, even, fillRect, fillRectY, hash2, hash32, rgb, textLine, two } from './draw.ts';
import { DEFAULT_GRAIN, isSceneName, MAX_GRAIN, MAX_SCENE_WIDTH, MIN_SCENE_HEIGHT, MIN_SCENE_WIDTH, SCENE_NAMES, type Scene, type SceneName, type SceneOptions } from './names.ts';
import { getTextures, grainTable, motionChroma, motionLuma, motionLumaClean, TEX, TEX_MASK, videoChroma, videoLuma, words } from './renderers.ts';
import { checkFrameIndex, stampFrameNumber } from './stamp.ts';

/** Builds a scene: draws its static parts now so that render() only copies and draws what moves. */
export function createScene(name: SceneName, options: SceneOptions): Scene {
  const { width, height, fps } = options;
  const grain = options.grain ?? DEFAULT_GRAIN;
  if (!isSceneName(name)) throw new RangeError(`unknown scene "${String(name)}"; scenes are ${SCENE_NAMES.join(', ')}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width % 2 !== 0 || height % 2 !== 0) {
    throw new RangeError(`scene size must be even integers, got ${width}x${height}`);
  }
  if (width < MIN_SCENE_WIDTH || height < MIN_SCENE_HEIGHT || width > MAX_SCENE_WIDTH) {
    throw new RangeError(`scene size ${width}x${height} is outside ${MIN_SCENE_WIDTH}x${MIN_SCENE_HEIGHT} to ${MAX_SCENE_WIDTH} pixels wide`);
  }
  if (!Number.isFinite(fps) || fps <= 0) throw new RangeError(`scene fps must be a positive number, got ${fps}`);
  if (!Number.isInteger(grain) || grain < 0 || grain > MAX_GRAIN) throw new RangeError(`scene grain must be an integer in 0..${MAX_GRAIN}, got ${grain}`);
  const lay = makeLayout(width, height);
  const draw = BUILDERS[name](lay, fps, grain);
  return {
    name,
    width,
    height,
    fps,
    grain,
    render(frameIndex: number, out: YuvFrame): void {
      checkFrameIndex(frameIndex);
      assertFrameSize(out, width, height, `scene ${name}`);
      draw(frameIndex, out);
      stampFrameNumber(out, frameIndex);
    },
  };
}

// Each builder draws its static parts once and returns the per-frame drawing.

type Draw = (frameIndex: number, out: YuvFrame) => void;

/** Builders of the scenes; only video and motion have a moving picture that grain applies to. */
const BUILDERS: Record<SceneName, (lay: Layout, fps: number, grain: number) => Draw> = {
  idle: buildIdle,
  typing: buildTyping,
  scrolling: buildScrolling,
  drag: buildDrag,
  video: buildVideo,
  motion: buildMotion,
};

function editorRect(lay: Layout): Rect {
  const { W, H } = lay;
  const w = even(Math.min(W * 0.62, 90 * lay.font.cw + 60 * lay.S));
  const h = even((H - lay.taskbarH) * 0.78);
  return { x: even(W * 0.3), y: even((H - lay.taskbarH) * 0.1), w, h };
}

/** Editor body: a line-number gutter and the text area; returns where text goes. */
function drawEditor(f: YuvFrame, lay: Layout, r: Rect): Rect {
  const body = drawWindow(f, lay, r, 77, true, C.paper);
  const gutter = even(lay.font.cw * 5);
  fillRect(f, body.x, body.y, gutter, body.h, C.sidebar);
  const top = body.y + px(lay, 6);
  for (let y = top, i = 0; y + lay.font.lh <= body.y + body.h; y += lay.font.lh, i++) {
    drawText(f, body.x + lay.font.cw, y, textLine(300, i, 1 + (i % 3)), lay.font, 140);
  }
  const x = body.x + gutter + lay.font.cw;
  return { x, y: top, w: body.x + body.w - x - lay.font.cw, h: Math.floor((body.y + body.h - top) / lay.font.lh) * lay.font.lh };
}

function buildIdle(lay: Layout, fps: number): Draw {
  const bg = allocFrame(lay.W, lay.H);
  drawDesktop(bg, lay);
  const { W, H } = lay;
  drawFileBrowser(bg, lay, { x: even(W * 0.12), y: even(H * 0.2), w: even(W * 0.34), h: even(H * 0.5) }, 41);
  const text = drawEditor(bg, lay, editorRect(lay));
  const { cw, lh } = lay.font;
  const cols = Math.floor(text.w / cw);
  const lines = Math.floor(text.h / lh);
  const written = Math.max(1, Math.floor(lines * 0.6));
  let lastLen = 0;
  for (let i = 0; i < written; i++) {
    const len = i === written - 1 ? Math.floor(cols * 0.4) : Math.floor(cols * (0.5 + (hash2(5, i) % 45) / 100));
    drawText(bg, text.x, text.y + i * lh, textLine(500, i, Math.max(1, len)), lay.font, C.ink);
    lastLen = len;
  }
  const cursor = { x: text.x + lastLen * cw + 1, y: text.y + (written - 1) * lh + 1, w: Math.max(1, Math.round(cw / 4)), h: lh - 2 };
  return (i, out) => {
    copyFrame(bg, out);
    drawClock(out, lay, i, fps);
    // The cursor shows in even seconds and hides in odd ones, so it too changes once per second.
    if (Math.floor(i / fps) % 2 === 0) fillRectY(out, cursor.x, cursor.y, cursor.w, cursor.h, C.ink);
  };
}

/** Characters per second: a steady typist. */
const TYPING_RATE = 8;

function buildTyping(lay: Layout, fps: number): Draw {
  const bg = allocFrame(lay.W, lay.H);
  drawDesktop(bg, lay);
  const { W, H } = lay;
  drawTerminal(bg, lay, { x: even(W * 0.08), y: even(H * 0.45), w: even(W * 0.3), h: even(H * 0.4) }, 61);
  const text = drawEditor(bg, lay, editorRect(lay));
  const { cw, lh } = lay.font;
  const cols = Math.min(76, Math.floor(text.w / cw));
  const linesPerPage = Math.max(1, Math.floor(text.h / lh));
  // Typed text: lines of 45..75 characters (60 on average), pages that start over when full. The
  // page images are drawn once; a frame reveals the part typed so far.
  const PAGES = 3;
  const tw = cols * cw;
  const totalLines = PAGES * linesPerPage;
  const lineLen = new Int32Array(totalLines);
  const lineStart = new Float64Array(totalLines + 1);
  const pages: YuvFrame[] = [];
  for (let p = 0; p < PAGES; p++) {
    const page = allocFrame(even(tw), linesPerPage * lh + ((linesPerPage * lh) % 2));
    page.y.fill(C.paper.y);
    for (let l = 0; l < linesPerPage; l++) {
      const g = p * linesPerPage + l;
      const len = Math.min(cols, 45 + (hash2(71, g) % 31));
      lineLen[g] = len;
      drawText(page, 0, l * lh, textLine(700, g, len), lay.font, C.ink);
    }
    pages.push(page);
  }
  // A line takes its characters plus Enter.
  for (let g = 0; g < totalLines; g++) lineStart[g + 1] = lineStart[g]! + lineLen[g]! + 1;
  const cycle = lineStart[totalLines]!;
  // Frame 0 opens on a page already 40% written, as an editor usually is.
  const head = lineStart[Math.floor(linesPerPage * 0.4)]!;
  const cursorW = Math.max(1, Math.round(cw / 4));
  return (i, out) => {
    copyFrame(bg, out);
    drawClock(out, lay, i, fps);
    const typed = (head + Math.floor((i * TYPING_RATE) / fps)) % cycle;
    let lo = 0;
    let hi = totalLines - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStart[mid]! <= typed) lo = mid;
      else hi = mid - 1;
    }
    const g = lo;
    const col = Math.min(lineLen[g]!, typed - lineStart[g]!);
    const page = pages[Math.floor(g / linesPerPage)]!;
    const line = g % linesPerPage;
    const pw = page.width;
    const Wd = out.width;
    for (let r = 0; r < line * lh; r++) out.y.set(page.y.subarray(r * pw, r * pw + tw), (text.y + r) * Wd + text.x);
    for (let r = line * lh; r < (line + 1) * lh; r++) out.y.set(page.y.subarray(r * pw, r * pw + col * cw), (text.y + r) * Wd + text.x);
    fillRectY(out, text.x + col * cw + 1, text.y + line * lh + 1, cursorW, lh - 2, C.ink);
  };
}

function buildScrolling(lay: Layout, fps: number): Draw {
  const { W, H, font } = lay;
  const bg = allocFrame(W, H);
  drawDesktop(bg, lay);
  // A maximised browser: title bar, toolbar with an address bar, then the page down to the taskbar.
  const body = drawWindow(bg, lay, { x: 0, y: 0, w: W, h: H - lay.taskbarH }, 88, true, C.paper);
  const toolbarH = even(Math.max(lay.font.lh + 4, 34 * lay.S));
  fillRect(bg, body.x, body.y, body.w, toolbarH, C.toolbar);
  const pad = even(Math.max(2, 6 * lay.S));
  fillRect(bg, even(W * 0.12), body.y + pad, even(W * 0.6), toolbarH - 2 * pad, C.addressBar);
  drawText(bg, even(W * 0.12) + pad * 2, body.y + ((toolbarH - font.lh) >> 1), textLine(404, 0, Math.floor((W * 0.4) / font.cw)), font, 90);
  for (let k = 0; k < 3; k++) fillRect(bg, pad + k * (toolbarH + pad), body.y + pad, toolbarH - 2 * pad, toolbarH - 2 * pad, C.taskButton);
  const top = even(body.y + toolbarH);
  const viewH = even(H - lay.taskbarH - top);
  const sbW = even(Math.max(6, 14 * lay.S));

  // The page, full frame width so that a frame copies it in one block; it wraps around at the end.
  const docH = even(Math.max(4 * viewH, 600));
  const doc = allocFrame(W, docH);
  fillRect(doc, 0, 0, W, docH, C.paper);
  const side = even(W * 0.18);
  fillRect(doc, 0, 0, side, docH, C.sidebar);
  for (let y = px(lay, 10), k = 0; y + font.lh < docH; y += font.lh + px(lay, 6), k++) {
    drawText(doc, px(lay, 12), y, textLine(410, k, Math.max(2, Math.floor((side - px(lay, 24)) / font.cw) - (hash2(411, k) % 6))), font, 70);
  }
  const left = side + even(px(lay, 30));
  const colW = even(W - sbW - left - px(lay, 40));
  for (let y = px(lay, 16), block = 0; y < docH - 8 * font.lh; block++) {
    const kind = hash2(420, block) % 6;
    if (kind === 0) {
      // A heading in bold.
      drawText(doc, left, y, textLine(421, block, Math.min(40, Math.floor(colW / font.cw / 2))), font, 20, true);
      y += even(font.lh * 1.8);
    } else if (kind === 1 && docH - y > 12 * font.lh) {
      // A photo beside a short paragraph.
      const ph = even(Math.min(8 * font.lh, viewH * 0.4));
      const pw = even(Math.min(colW * 0.45, ph * 1.6));
      drawPhoto(doc, left, even(y), pw, ph, block);
      drawParagraphs(doc, left + pw + px(lay, 16), y, colW - pw - px(lay, 16), ph, font, 422 + block, C.ink);
      y += ph + font.lh;
    } else if (kind === 2) {
      // A code block on a tinted background.
      const n = 4 + (hash2(423, block) % 5);
      fillRect(doc, left, even(y), colW, even(n * font.lh + 8), C.codeBlock);
      for (let l = 0; l < n; l++) drawText(doc, left + 2 * font.cw + (hash2(424, l) % 4) * 2 * font.cw, even(y) + 4 + l * font.lh, textLine(425 + block, l, Math.floor((colW / font.cw) * 0.5)), font, 60);
      y += even(n * font.lh + 8) + font.lh;
    } else if (kind === 3) {
      // A table with striped rows.
      const rows = 5 + (hash2(426, block) % 4);
      const cellW = Math.floor(colW / 4);
      for (let rr = 0; rr < rows; rr++) {
        const ry = even(y) + rr * even(font.lh + 6);
        if (rr % 2 === 1) fillRect(doc, left, ry, colW, even(font.lh + 6), C.tableStripe);
        for (let c = 0; c < 4; c++) drawText(doc, left + c * cellW + 4, ry + 3, textLine(427 + block * 10 + c, rr, Math.floor(cellW / font.cw) - 2 - (hash2(rr, c) % 5)), font, rr === 0 ? 20 : C.ink, rr === 0);
      }
      y += rows * even(font.lh + 6) + font.lh;
    } else if (kind === 5 && docH - y > 12 * font.lh) {
      // A banner picture across the column.
      const ph = even(Math.min(7 * font.lh, viewH * 0.35));
      drawPhoto(doc, left, even(y), colW, ph, 430 + block);
      y += ph + font.lh;
    } else {
      const n = 3 + (hash2(428, block) % 6);
      drawParagraphs(doc, left, y, colW, n * font.lh, font, 429 + block, C.ink);
      y += (n + 1) * font.lh;
    }
  }

  // Scroll speed in pixels per second scales with the picture; offsets stay even so chroma rows line up.
  const speed = 180 * lay.S;
  const thumbH = even(Math.max(8, (viewH * viewH) / docH));
  return (i, out) => {
    copyFrame(bg, out);
    const off = (2 * Math.floor((i * speed) / fps / 2)) % docH;
    const first = Math.min(viewH, docH - off);
    out.y.set(doc.y.subarray(off * W, (off + first) * W), top * W);
    if (first < viewH) out.y.set(doc.y.subarray(0, (viewH - first) * W), (top + first) * W);
    const cw = W >> 1;
    const c0 = off >> 1;
    const cFirst = first >> 1;
    for (const [src, dst] of [
      [doc.u, out.u],
      [doc.v, out.v],
    ] as const) {
      dst.set(src.subarray(c0 * cw, (c0 + cFirst) * cw), (top >> 1) * cw);
      if (first < viewH) dst.set(src.subarray(0, ((viewH - first) >> 1) * cw), ((top + first) >> 1) * cw);
    }
    fillRect(out, W - sbW, top, sbW, viewH, C.scrollTrack);
    fillRect(out, W - sbW + 2, top + even(((viewH - thumbH) * off) / docH), sbW - 4, thumbH, C.scrollThumb);
    drawClock(out, lay, i, fps);
  };
}

function buildDrag(lay: Layout, fps: number): Draw {
  const { W, H, font } = lay;
  const bg = allocFrame(W, H);
  drawDesktop(bg, lay);
  drawFileBrowser(bg, lay, { x: even(W * 0.5), y: even(H * 0.08), w: even(W * 0.42), h: even(H * 0.45) }, 51);
  drawTerminal(bg, lay, { x: even(W * 0.15), y: even(H * 0.5), w: even(W * 0.4), h: even(H * 0.36) }, 52);
  // The dragged window: a document with a picture, drawn once and moved as a whole.
  const ww = even(W * 0.42);
  const wh = even((H - lay.taskbarH) * 0.5);
  const win = allocFrame(ww, wh);
  const body = drawWindow(win, lay, { x: 0, y: 0, w: ww, h: wh }, 53, true, C.paper);
  const pad = even(px(lay, 10));
  const photoW = even(body.w * 0.4);
  const photoH = even(Math.min(body.h * 0.5, photoW * 0.7));
  drawPhoto(win, body.x + pad, even(body.y + pad), photoW, photoH, 54);
  drawText(win, body.x + 2 * pad + photoW, body.y + pad, textLine(55, 0, Math.floor((body.w - photoW - 3 * pad) / font.cw / 2)), font, 20, true);
  drawParagraphs(win, body.x + 2 * pad + photoW, body.y + pad + 2 * font.lh, body.w - photoW - 3 * pad, photoH - 2 * font.lh, font, 56, C.ink);
  drawParagraphs(win, body.x + pad, body.y + 2 * pad + photoH, body.w - 2 * pad, body.h - photoH - 3 * pad, font, 57, C.ink);
  // The path: a Lissajous figure over the desktop, a few hundred pixels per second, as a hand drags.
  const rangeX = W - ww;
  const rangeY = H - lay.taskbarH - wh;
  return (i, out) => {
    copyFrame(bg, out);
    const t = i / fps;
    const x = even(rangeX * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 7)));
    const y = even(rangeY * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 5 + 1)));
    blit(win, out, x, y);
    drawClock(out, lay, i, fps);
  };
}

/** Seconds between the video's scene cuts. */
const VIDEO_SHOT = 5;
/** Grain the video picture takes before a byte would overflow: 255 - (200 + 16 + 16). */
const VIDEO_GRAIN_HEADROOM = 23;
/** Grain the motion picture takes before a byte would overflow: 255 - 210. */
const MOTION_GRAIN_HEADROOM = 45;

function buildVideo(lay: Layout, fps: number, grainAmount: number): Draw {
  const { W, H } = lay;
  const tex = getTextures();
  const bg = allocFrame(W, H);
  drawDesktop(bg, lay);
  drawFileBrowser(bg, lay, { x: even(W * 0.08), y: even(H * 0.45), w: even(W * 0.34), h: even(H * 0.42) }, 81);
  // A player window whose picture is 40% of the screen's width and height; the picture's left
  // edge and width are multiples of 4 so its rows can be written as 32-bit words.
  const vw = 4 * Math.round(W * 0.1);
  const vh = even(H * 0.4);
  const controlsH = even(Math.max(lay.font.lh + 6, 36 * lay.S));
  const win = { x: 4 * Math.round((W * 0.45) / 4) + 2, y: even(H * 0.12), w: vw + 4, h: vh + controlsH + lay.titleH + 4 };
  const body = drawWindow(bg, lay, win, 82, true, C.player);
  const vx = body.x;
  const vy = body.y;
  const barY = vy + vh + (controlsH >> 1) - 2;
  const barX = vx + controlsH + even(px(lay, 8));
  const barW = even(vw * 0.6);
  const duration = 600;
  fillRect(bg, vx + even(px(lay, 8)), vy + vh + (controlsH >> 2), controlsH >> 1, controlsH >> 1, rgb(230, 230, 230));
  fillRect(bg, barX, barY, barW, 4, C.progressTrack);
  const light = new Uint8Array(vw);
  const row = new Uint8Array(vw);
  const light32 = words(light);
  const row32 = words(row);
  const grain = grainAmount > 0 ? grainTable(grainAmount) : undefined;
  const grain32 = grain ? words(grain) : undefined;
  // Texture 30..200, light 0..16, wave 0..16: at most 232, so up to 23 levels of grain fit in a
  // byte. More grain shifts the picture down by the excess (the texture's floor allows 30), so
  // that no byte carries into its neighbour and grain 0..23 renders as it always did.
  const shift = Math.max(0, grainAmount - VIDEO_GRAIN_HEADROOM);
  return (i, out) => {
    copyFrame(bg, out);
    const t = i / fps;
    const shot = Math.floor(t / VIDEO_SHOT);
    const ts = t - shot * VIDEO_SHOT;
    const h = hash32(shot);
    const angle = ((h >>> 20) / 4096) * 2 * Math.PI;
    const speed = (40 + (h % 60)) * lay.S;
    // Even offsets, so the half-size chroma pans by whole samples with the luma.
    const ox = Math.floor((h & TEX_MASK) + Math.cos(angle) * speed * ts) & (TEX_MASK - 1);
    const oy = Math.floor(((h >>> 10) & TEX_MASK) + Math.sin(angle) * speed * ts) & (TEX_MASK - 1);
    // A light sweeping across and a slow brightness wave down the picture: moving gradients.
    const sx = vw * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 3));
    const sw = vw * 0.15;
    for (let x = 0; x < vw; x++) {
      const d = (x - sx) / sw;
      light[x] = Math.round(16 * Math.exp(-d * d));
    }
    const y32 = W % 4 === 0 && light32 && row32 ? words(out.y) : undefined;
    videoLuma(out.y, y32, W, vx, vy, vw, vh, tex.videoY, ox, oy, light, light32, row, row32, grain, grain32, shift, i, t);
    videoChroma(out.u, W >> 1, vx >> 1, vy >> 1, vw >> 1, vh >> 1, tex.u, ox >> 1, oy >> 1);
    videoChroma(out.v, W >> 1, vx >> 1, vy >> 1, vw >> 1, vh >> 1, tex.v, ox >> 1, oy >> 1);
    const played = even(barW * ((t % duration) / duration));
    fillRect(out, barX, barY, played, 4, C.progress);
    const pos = Math.floor(t % duration);
    drawDigits(out, barX + barW + even(px(lay, 12)), vy + vh + ((controlsH - lay.clockH) >> 1), lay.clockH, `${two(Math.floor(pos / 60))}:${two(pos % 60)}`, 220, C.player.y);
    drawClock(out, lay, i, fps);
  };
}

function buildMotion(lay: Layout, fps: number, grainAmount: number): Draw {
  const { W, H } = lay;
  const tex = getTextures();
  const zrow = new Uint8Array(W);
  const zrow32 = words(zrow);
  const grain = grainAmount > 0 ? grainTable(grainAmount) : undefined;
  const grain32 = grain ? words(grain) : undefined;
  // Texture 20..210: grain beyond 45 shifts the picture down by the excess (the floor allows 20).
  const shift = Math.max(0, grainAmount - MOTION_GRAIN_HEADROOM);
  const fix = 65536;
  return (i, out) => {
    const t = i / fps;
    // Zoom breathes between 0.45 and 1.05 texture pixels per screen pixel while the view travels
    // and weaves: motion no single vector describes.
    const s = 0.75 + 0.3 * Math.sin((2 * Math.PI * t) / 6);
    const cx = (t * 170 + 300 * Math.sin((2 * Math.PI * t) / 7)) % TEX;
    const cy = (t * 90 + 200 * Math.cos((2 * Math.PI * t) / 9)) % TEX;
    // 16.16 fixed point in integers: the row loops then do only integer adds and shifts.
    const du = Math.round(s * fix);
    const u0 = Math.round((cx - (W / 2) * s) * fix);
    const v0 = Math.round((cy - (H / 2) * s) * fix);
    const y32 = W % 4 === 0 && zrow32 ? words(out.y) : undefined;
    if (grain) motionLuma(out.y, y32, W, H, tex.motionY, u0, v0, du, grain, grain32, shift, zrow, zrow32, i);
    else motionLumaClean(out.y, y32, W, H, tex.motionY, u0, v0, du);
    const half = W >> 1;
    const cu0 = Math.round((cx / 2 - (half / 2) * s) * fix);
    const cv0 = Math.round((cy / 2 - (H / 4) * s) * fix);
    const aligned = half % 4 === 0;
    motionChroma(out.u, aligned ? words(out.u) : undefined, half, H >> 1, tex.u, cu0, cv0, du);
    motionChroma(out.v, aligned ? words(out.v) : undefined, half, H >> 1, tex.v, cu0, cv0, du);
  };
}
