/**
 * The foreground of parallel coordinates in WebGL: every run's segments uploaded once (when the
 * axes, their order or the colouring change), the selection a byte per vertex (re-sent at each
 * brush), one draw call. A brush then costs the selection pass and one upload, whatever the
 * number of lines selected: canvas 2D strokes of 8,000 lines took over a second here. Used when
 * the browser gives WebGL 2 on a GPU; draw.ts's own rasteriser otherwise.
 */
import { PALETTE, type Layout } from './draw.ts';
import type { Axis } from './model.ts';

/** Axes a shader can place (a uniform array's length). */
export const MAX_GL_AXES = 64;

const VERTEX = `#version 300 es
in float a_axis;
in float a_p;
in float a_t;
in float a_sel;
uniform float u_xs[${MAX_GL_AXES}];
uniform vec2 u_size;
uniform float u_top;
uniform float u_h;
out float v_t;
void main() {
  v_t = a_t;
  // Unselected runs and segments missing a value fall outside the clip space: nothing drawn.
  if (a_sel < 0.5 || a_p < -0.5) {
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    return;
  }
  float x = u_xs[int(a_axis)];
  float y = u_top + (1.0 - a_p) * u_h;
  gl_Position = vec4(x / u_size.x * 2.0 - 1.0, 1.0 - y / u_size.y * 2.0, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
in float v_t;
uniform vec3 u_pal[${PALETTE.length}];
uniform float u_alpha;
out vec4 colour;
void main() {
  vec3 c;
  if (v_t < 0.0) {
    c = vec3(0.373, 0.388, 0.408);
  } else {
    float x = clamp(v_t, 0.0, 1.0) * ${(PALETTE.length - 1).toFixed(1)};
    int i = min(int(floor(x)), ${PALETTE.length - 2});
    c = mix(u_pal[i], u_pal[i + 1], x - float(i));
  }
  colour = vec4(c * u_alpha, u_alpha);
}`;

export interface GlLines {
  /** Uploads every run's segments for these axes (in order) and colours (0..1 per run, NaN: none). */
  setData(axes: readonly Axis[], n: number, colour: Float32Array | undefined): void;
  /** Sends the selection (mask[i] = 1: run i drawn). */
  setSelection(mask: Uint8Array): void;
  /** Sizes the canvas (css px times the device's ratio). */
  resize(width: number, height: number): void;
  /** Draws the selected runs; alpha falls as their number grows. */
  draw(layout: Layout, selected: number): void;
}

function compile(gl: WebGL2RenderingContext, type: number, text: string): WebGLShader {
  const s = gl.createShader(type)!;
  gl.shaderSource(s, text);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`WebGL shader: ${gl.getShaderInfoLog(s) ?? 'does not compile'}`);
  return s;
}

/** The WebGL foreground on canvas, or undefined where the browser has no WebGL 2. */
export function makeGlLines(canvas: HTMLCanvasElement): GlLines | undefined {
  // Kept after each frame, so the PNG export can copy it.
  const gl = canvas.getContext('webgl2', { antialias: true, premultipliedAlpha: true, preserveDrawingBuffer: true, failIfMajorPerformanceCaveat: true });
  if (!gl) return undefined;
  // A software GL (SwiftShader: chromium without a GPU, as in CI) raster lines slower than draw.ts's
  // own loop on the main thread (1.8 s against 0.1 s for 1,000 lines on this loaded machine).
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  if (/swiftshader|llvmpipe|softpipe|software/i.test(renderer)) return undefined;
  const prog = gl.createProgram();
  gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`WebGL program: ${gl.getProgramInfoLog(prog) ?? 'does not link'}`);
  gl.useProgram(prog);
  const u = (name: string) => gl.getUniformLocation(prog, name);
  const pal = new Float32Array(PALETTE.flatMap((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16) / 255)));
  gl.uniform3fv(u('u_pal'), pal);
  const vao = gl.createVertexArray();
  gl.bindVertexArray(vao);
  const buffer = (name: string, size: number, type: number) => {
    const b = gl.createBuffer();
    const loc = gl.getAttribLocation(prog, name);
    gl.bindBuffer(gl.ARRAY_BUFFER, b);
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, size, type, false, 0, 0);
    return b;
  };
  const bAxis = buffer('a_axis', 1, gl.FLOAT);
  const bPos = buffer('a_p', 1, gl.FLOAT);
  const bT = buffer('a_t', 1, gl.FLOAT);
  const bSel = buffer('a_sel', 1, gl.UNSIGNED_BYTE);
  let gaps = 0;
  let runs = 0;
  let sel = new Uint8Array(0);
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);

  return {
    setData(axes, n, colour) {
      gaps = Math.max(0, Math.min(axes.length, MAX_GL_AXES) - 1);
      runs = n;
      const verts = n * gaps * 2;
      const ax = new Float32Array(verts);
      const ps = new Float32Array(verts);
      const ts = new Float32Array(verts);
      let v = 0;
      for (let i = 0; i < n; i++) {
        const t = colour ? colour[i]! : NaN;
        for (let k = 0; k < gaps; k++) {
          const a = axes[k]!.pos[i]!;
          const b = axes[k + 1]!.pos[i]!;
          // A run without a value on an axis breaks its line there: both ends of the segment go.
          const ok = a === a && b === b;
          ax[v] = k;
          ps[v] = ok ? a : -1;
          ts[v++] = t === t ? t : -1;
          ax[v] = k + 1;
          ps[v] = ok ? b : -1;
          ts[v++] = t === t ? t : -1;
        }
      }
      for (const [b, data] of [
        [bAxis, ax],
        [bPos, ps],
        [bT, ts],
      ] as const) {
        gl.bindBuffer(gl.ARRAY_BUFFER, b);
        gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
      }
      sel = new Uint8Array(verts);
      gl.bindBuffer(gl.ARRAY_BUFFER, bSel);
      gl.bufferData(gl.ARRAY_BUFFER, sel, gl.DYNAMIC_DRAW);
    },
    setSelection(mask) {
      const per = gaps * 2;
      for (let i = 0, v = 0; i < runs; i++, v += per) sel.fill(mask[i]!, v, v + per);
      gl.bindBuffer(gl.ARRAY_BUFFER, bSel);
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, sel);
    },
    resize(width, height) {
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
      gl.viewport(0, 0, canvas.width, canvas.height);
    },
    draw(layout, selected) {
      const xs = new Float32Array(MAX_GL_AXES);
      const span = layout.width - layout.left - layout.right;
      for (let k = 0; k <= gaps; k++) xs[k] = gaps === 0 ? layout.left + span / 2 : layout.left + (k * span) / gaps;
      gl.uniform1fv(u('u_xs'), xs);
      gl.uniform2f(u('u_size'), layout.width, layout.height);
      gl.uniform1f(u('u_top'), layout.top);
      gl.uniform1f(u('u_h'), layout.height - layout.top - layout.bottom);
      gl.uniform1f(u('u_alpha'), Math.max(0.08, Math.min(0.9, 300 / Math.max(1, selected))));
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      if (selected > 0 && gaps > 0) gl.drawArrays(gl.LINES, 0, runs * gaps * 2);
    },
  };
}
