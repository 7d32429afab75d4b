/**
 * Parallel coordinates over every run of the open sets: one axis per parameter that varies and
 * per chosen metric, lines coloured by a chosen metric, brushing on every axis (drag a range; the
 * brushes of several axes AND; each brush's range said in numbers), axes reordered by dragging
 * their titles, any positive numeric axis on a log scale, and the selected runs in a linked
 * table below (web/src/parallel/table.ts: sorted, filtered, hover either side draws out the other).
 * Drawn on canvases of our own (web/src/parallel/): ECharts' parallel series took 0.85 s per
 * brush at 10,000 lines here, this answers in a few tens of ms.
 *
 * State in the URL: `pc.metrics` (metric axes), `pc.order` (axis order), `pc.brush` (see
 * brushesToText), `pc.colour` (the colouring metric), `pc.log` (the axes on a log scale, once
 * changed; absent: the server's choice), `pc.sort` (`column~asc|desc`), `pc.filter` (the table's filter).
 */
import type { RunsResponse } from '../../../src/server/api-types.ts';
import { toCsv } from '../csv.ts';
import { download, el } from '../dom.ts';
import { axisX, drawBackground, drawForeground, drawOverlay, fitCanvas, fmt, makeRaster, MARGIN, posY, yPos, type Layout, type Raster } from '../parallel/draw.ts';
import { brushReadout, type LabelBox } from '../parallel/labels.ts';
import { brushesFromText, brushesToText, brushFromSpan, canLog, makeAxis, runAt, select, setScale, type Axis, type Brush } from '../parallel/model.ts';
import { makeRunTable, type Sort, type TableColumn } from '../parallel/table.ts';
import { makeGlLines, MAX_GL_AXES, type GlLines } from '../parallel/gl.ts';
import { svgOf } from '../parallel/svg.ts';
import type { ViewContext } from '../view.ts';

/** Lines the 2D rasteriser draws in one frame; a larger selection fills in over the next frames. */
const CHUNK = 1500;
/** How near an axis (px) a press counts as on it. */
const HIT = 14;

/** What browser tests and benchmarks read. */
export interface ParallelHook {
  /** Runs drawn, and selected by the brushes. */
  runs: number;
  selected: number;
  brushes: Brush[];
  axes: string[];
  /** ms from the end of a brush drag (mouse up) to the selected lines and their count painted. */
  lastBrushMs: number;
  /** Completed brush answers (a test waits for it to grow). */
  brushCount: number;
  /** ms from the end of a brush drag to every selected line drawn (a large selection is drawn over several frames). */
  lastCompleteMs: number;
  /** Whether chunks of a large selection are still to be drawn. */
  drawing: boolean;
  /** ms from the end of a brush drag to the list of the selected runs shown (a frame after the lines). */
  lastListMs: number;
  /** Where the last brush's time went (ms): selection, drawing, list, address, waiting for the frame, its paint. */
  lastBrushParts: Record<string, number>;
  /** ms of the last drawing of the selection alone. */
  lastForegroundMs: number;
  /** What draws the selected lines: WebGL where the browser has it, else our own rasteriser on a 2D canvas. */
  renderer: 'webgl' | 'canvas';
  /** The selected runs: set, key, rep. */
  selectedRuns(): { set: string; key: string; rep: number }[];
  /** Where each axis is on the canvas (css px from its top left corner): x, and the y of its top (1) and bottom (0); its scale's ends and whether it is log. */
  geometry(): { name: string; x: number; top: number; bottom: number; categories?: string[]; min: number; max: number; log: boolean }[];
  /** Every text drawn on the canvas and its box (css px). */
  labels(): LabelBox[];
  /** The canvas' size (css px). */
  size(): { width: number; height: number };
  /** The run whose line is drawn out (hovered in the plot or the table): set/key/rep. */
  highlighted: string | undefined;
  /** The runs of the table in its order (set/key/rep), all of them, not only the rows in view. */
  tableRuns(): string[];
}

declare global {
  interface Window {
    __sbParallel?: ParallelHook;
  }
}

/** Mounts the view; returns its unmount. */
export function mount(root: HTMLElement, ctx: ViewContext): () => void {
  let alive = true;
  const status = el('p', { className: 'pc-status', textContent: 'loading the runs…' });
  root.append(status);
  let cleanup: () => void = () => {};
  const st = ctx.state;
  const sets = ctx.catalog.sets;
  const setName = sets.length === 1 ? sets[0]!.name : undefined;
  void ctx
    .api<RunsResponse>('/api/runs', { set: setName, metrics: st['pc.metrics'] })
    .then((data) => {
      if (!alive) return;
      status.remove();
      cleanup = build(root, ctx, data, setName);
    })
    .catch((e: unknown) => {
      if (!alive) return;
      const message = `cannot load the runs: ${e instanceof Error ? e.message : String(e)}`;
      window.__sb.error = message;
      status.className = 'error';
      status.textContent = message;
    });
  return () => {
    alive = false;
    cleanup();
    delete window.__sbParallel;
    root.replaceChildren();
  };
}

/** Builds the view over the loaded runs; returns what undoes its listeners. */
function build(root: HTMLElement, ctx: ViewContext, data: RunsResponse, setName: string | undefined): () => void {
  const n = data.runs;
  const cols = data.columns;
  const allAxes = new Map(data.axes.map((spec) => [spec.name, makeAxis(spec, cols[spec.name] ?? [])]));
  const orderText = ctx.state['pc.order'];
  let order = data.axes.map((a) => a.name);
  if (orderText) {
    // A link's order, then any axis it did not name (a metric added since) at the end.
    const asked = orderText.split(',').filter((a) => allAxes.has(a));
    order = [...asked, ...order.filter((a) => !asked.includes(a))];
  }
  // The axes on a log scale: the server's choice until the address says otherwise.
  const logText = ctx.state['pc.log'];
  if (logText !== undefined) {
    const logs = new Set(logText.split(',').filter(Boolean));
    for (const a of allAxes.values()) if (a.type === 'numeric') setScale(a, logs.has(a.name));
  }
  let axes: Axis[] = order.map((a) => allAxes.get(a)!);
  let brushes = brushesFromText(ctx.state['pc.brush']).filter((b) => allAxes.has(b.axis));
  const metricNames = data.metrics.map((m) => m.name);
  const shownMetrics = data.axes.filter((a) => a.kind === 'metric').map((a) => a.name);
  let colourName = ctx.state['pc.colour'] && allAxes.has(ctx.state['pc.colour']) ? ctx.state['pc.colour'] : shownMetrics[0];
  const mask = new Uint8Array(n);
  let selected = n;

  // Controls.
  const colourSel = el('select', { title: 'colour the lines by' });
  for (const a of data.axes) colourSel.append(el('option', { value: a.name, textContent: a.name, selected: a.name === colourName }));
  const addSel = el('select', { title: 'add a metric axis' });
  addSel.append(el('option', { value: '', textContent: 'add a metric axis…' }));
  for (const m of metricNames) if (!shownMetrics.includes(m)) addSel.append(el('option', { value: m, textContent: m }));
  const removeSel = el('select', { title: 'remove a metric axis' });
  removeSel.append(el('option', { value: '', textContent: 'remove a metric axis…' }));
  for (const m of shownMetrics) removeSel.append(el('option', { value: m, textContent: m }));
  const clear = el('button', { type: 'button', textContent: 'clear brushes' });
  const count = el('span', { className: 'pc-count' });
  const exportBox = el('span', { className: 'exports' });
  // One box per numeric axis that can be log (all its values above zero).
  const logBox = el('details', { className: 'pc-log' }, el('summary', { textContent: 'log scale…' }));
  for (const a of data.axes) {
    const axis = allAxes.get(a.name)!;
    if (!canLog(axis)) continue;
    const box = el('input', { type: 'checkbox', checked: axis.log === true });
    box.dataset['axis'] = a.name;
    logBox.append(el('label', { className: 'value' }, box, a.name));
  }
  const filterText = ctx.state['pc.filter'] ?? '';
  const filterBox = el('input', { type: 'search', className: 'pc-filter', placeholder: 'filter runs: h264 640x360…', value: filterText, title: 'keeps the runs whose row holds every word typed (set, parameters, values as shown)' });
  const controls = el('div', { className: 'controls pc-controls' }, el('label', {}, 'colour ', colourSel), addSel, removeSel, logBox, clear, count, exportBox);
  const note = el('p', {
    className: 'pc-note',
    textContent: `Drag along an axis to brush it (several axes: runs inside every brush); click an axis to clear its brush; drag an axis title to move it; hover a line to find its run in the table, click it to open the run.${data.excludedFailed > 0 ? ` ${data.excludedFailed} failed or interrupted runs are left out.` : ''}${data.flagged > 0 ? ` ${data.flagged} flagged runs are marked ⚑ in the table.` : ''}`,
  });
  const readouts = el('ul', { className: 'pc-brushes' });

  // Canvases: background (all, dimmed), foreground (selection), overlay (axes, brushes, mouse).
  const stack = el('div', { className: 'pc-stack' });
  stack.style.position = 'relative';
  stack.style.width = '100%';
  stack.style.height = '460px';
  // A canvas takes one kind of context for good: the foreground is a WebGL one when the browser has
  // it on a GPU (and few enough axes for its shader), else a fresh canvas for the 2D rasteriser.
  let gl: GlLines | undefined;
  const glCanvas = el('canvas');
  try {
    gl = axes.length <= MAX_GL_AXES ? makeGlLines(glCanvas) : undefined;
  } catch (e) {
    // A driver that refuses our shaders: the 2D rasteriser draws the same lines; said on the console for whoever debugs it.
    console.warn(`parallel coordinates: WebGL unusable (${e instanceof Error ? e.message : String(e)}); drawing on a 2D canvas`);
    gl = undefined;
  }
  const [bg, fg, ov] = [0, 1, 2].map((k) => {
    const c = k === 1 && gl ? glCanvas : el('canvas');
    c.style.position = 'absolute';
    c.style.left = '0';
    c.style.top = '0';
    stack.append(c);
    return c;
  }) as [HTMLCanvasElement, HTMLCanvasElement, HTMLCanvasElement];
  ov.dataset['testid'] = 'parallel-canvas';
  ov.style.cursor = 'crosshair';
  const tableBar = el('div', { className: 'pc-tablebar' }, filterBox);

  let layout: Layout = { width: 800, height: 460, ...MARGIN };
  let bgCtx: CanvasRenderingContext2D | undefined;
  let fgCtx: CanvasRenderingContext2D | undefined;
  let raster: Raster | undefined;
  let glStale = true;
  let chunkFrame = 0;
  /** When the last brush was released: the complete drawing's time counts from it. */
  let brushStart = performance.now();
  let ovCtx: CanvasRenderingContext2D | undefined;
  let dragging: { axis: string; a: number; b: number } | undefined;
  let moving: { axis: string; x: number } | undefined;
  /** The texts the overlay drew last: hovering a title shows its full name. */
  let labelBoxes: LabelBox[] = [];
  /** The run whose line is drawn out, by index (-1: none). */
  let hovered = -1;
  const runId = (i: number) => `${String(cols['set']![i])}/${String(cols['point_key']![i])}/${Number(cols['rep']![i])}`;
  /** The runs the table's filter keeps (undefined: no filter). */
  let filterMask: Uint8Array | undefined;

  const hook: ParallelHook = {
    runs: n,
    selected,
    brushes,
    axes: axes.map((a) => a.name),
    lastBrushMs: NaN,
    lastListMs: NaN,
    lastCompleteMs: NaN,
    drawing: false,
    lastBrushParts: {},
    renderer: gl ? 'webgl' : 'canvas',
    brushCount: 0,
    lastForegroundMs: NaN,
    selectedRuns: () => {
      const out: { set: string; key: string; rep: number }[] = [];
      for (let i = 0; i < n; i++) if (mask[i]) out.push({ set: String(cols['set']![i]), key: String(cols['point_key']![i]), rep: Number(cols['rep']![i]) });
      return out;
    },
    geometry: () => axes.map((a, k) => ({ name: a.name, x: axisX(layout, k, axes.length), top: posY(layout, 1), bottom: posY(layout, 0), ...(a.categories ? { categories: a.categories } : {}), min: a.min, max: a.max, log: a.log === true })),
    labels: () => labelBoxes,
    size: () => ({ width: layout.width, height: layout.height }),
    highlighted: undefined,
    tableRuns: () => Array.from(table.order(), runId),
  };
  window.__sbParallel = hook;

  /** The colour of each run, 0..1 on the colouring axis' scale. */
  let colour: Float32Array | undefined;
  const colourInfo = () => {
    const a = colourName ? allAxes.get(colourName) : undefined;
    return a ? { name: a.name, unit: a.unit, min: a.min, max: a.max, log: a.log === true } : undefined;
  };
  const computeColour = () => {
    const a = colourName ? allAxes.get(colourName) : undefined;
    colour = a?.pos;
    glStale = true;
  };

  const drawOv = () => {
    if (ovCtx) labelBoxes = drawOverlay(ovCtx, layout, { axes, brushes, dragging, moving, colour: colourInfo(), highlight: hovered });
  };
  const drawFg = () => {
    const t0 = performance.now();
    if (gl) {
      if (glStale) gl.setData(axes, n, colour);
      glStale = false;
      gl.setSelection(mask);
      gl.draw(layout, selected);
    } else if (fgCtx && raster) {
      cancelAnimationFrame(chunkFrame);
      const more = drawForeground(fgCtx, raster, layout, axes, mask, selected, colour, CHUNK);
      // The rest of a large selection, a chunk per frame; a newer drawing cancels it.
      const done = () => {
        hook.lastCompleteMs = performance.now() - brushStart;
        hook.drawing = false;
      };
      const step = () => {
        if (more?.()) chunkFrame = requestAnimationFrame(step);
        else done();
      };
      hook.drawing = more !== undefined;
      if (more) chunkFrame = requestAnimationFrame(step);
      else done();
    }
    hook.lastForegroundMs = performance.now() - t0;
  };
  const drawAll = () => {
    const width = Math.max(400, stack.clientWidth);
    layout = { width, height: 460, ...MARGIN };
    bgCtx = fitCanvas(bg, width, 460);
    if (gl) {
      gl.resize(width, 460);
      glStale = true;
    } else {
      fgCtx = fitCanvas(fg, width, 460);
      raster = makeRaster(fgCtx);
    }
    ovCtx = fitCanvas(ov, width, 460);
    drawBackground(bgCtx, layout, axes, n);
    drawFg();
    drawOv();
  };

  const reselect = (live: Brush | undefined) => {
    const active = live ? [...brushes.filter((b) => b.axis !== live.axis), live] : brushes;
    selected = select(axes, active, mask);
    if (filterMask) {
      selected = 0;
      for (let i = 0; i < n; i++) selected += mask[i]! &= filterMask[i]!;
    }
    hook.selected = selected;
    count.textContent = `${selected.toLocaleString('en')} of ${n.toLocaleString('en')} runs selected${filterMask ? ' (brushes and filter)' : ''}`;
  };

  // The table: set, the parameters, the repetition, then the metrics in the axes' order.
  const paramAxes = data.axes.filter((a) => a.kind === 'param' && a.name !== 'set');
  const docs = new Map(ctx.catalog.metrics.map((m) => [m.name, m.doc]));
  const tableColumns = (): TableColumn[] => [
    { name: 'set', label: 'set', numeric: false },
    ...paramAxes.map((a) => ({ name: a.name, label: a.name, numeric: a.type === 'numeric' })),
    { name: 'rep', label: 'rep', numeric: true },
    ...axes.filter((a) => a.kind === 'metric').map((a) => ({ name: a.name, label: a.unit ? `${a.name} (${a.unit})` : a.name, numeric: true, ...(docs.get(a.name) ? { doc: docs.get(a.name)! } : {}) })),
  ];
  const sortText = /^(.+)~(asc|desc)$/.exec(ctx.state['pc.sort'] ?? '');
  const table = makeRunTable(cols, n, tableColumns(), {
    sort: sortText ? { column: sortText[1]!, dir: sortText[2] as Sort['dir'] } : undefined,
    onSort: (s) => ctx.setState({ 'pc.sort': s ? `${s.column}~${s.dir}` : null }, { replace: true }),
    onOpen: (i) => ctx.openRun(String(cols['set']![i]), String(cols['point_key']![i]), Number(cols['rep']![i])),
    onHover: (i) => setHover(i ?? -1, false),
    id: runId,
    flagged: (i) => cols['flagged']![i] === true,
  });
  root.append(controls, note, readouts, stack, tableBar, table.root);
  /** Draws out run i's line (-1: none) and marks its row; `reveal` scrolls the table to it (a hover in the plot). */
  const setHover = (i: number, reveal: boolean) => {
    if (i === hovered) return;
    hovered = i;
    hook.highlighted = i >= 0 ? runId(i) : undefined;
    table.mark(i >= 0 ? i : undefined, reveal);
    drawOv();
  };
  const list = () => {
    table.setRows(mask);
    // The brushes in numbers, each with its own clear button.
    readouts.replaceChildren(
      ...axes.flatMap((a) => {
        const b = brushes.find((x) => x.axis === a.name);
        if (!b) return [];
        const li = el('li', { textContent: brushReadout(a, b) });
        li.dataset['axis'] = a.name;
        if (!('cats' in b)) {
          li.dataset['lo'] = String(b.lo);
          li.dataset['hi'] = String(b.hi);
        }
        const x = el('button', { type: 'button', textContent: '×', title: `clear the brush on ${a.name}` });
        x.addEventListener('click', () => {
          brushes = brushes.filter((y) => y.axis !== a.name);
          reselect(undefined);
          drawFg();
          drawOv();
          list();
          writeBrushes();
        });
        li.append(' ', x);
        return [li];
      }),
    );
  };

  const writeBrushes = () => {
    hook.brushes = brushes;
    ctx.setState({ 'pc.brush': brushes.length > 0 ? brushesToText(brushes) : null });
  };

  // The mouse: a press near an axis below the titles brushes it, on a title moves the axis.
  const local = (ev: MouseEvent) => {
    const r = ov.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  };
  const axisAt = (x: number) => {
    let best = -1;
    let dist = HIT;
    axes.forEach((_, k) => {
      const d = Math.abs(axisX(layout, k, axes.length) - x);
      if (d <= dist) {
        dist = d;
        best = k;
      }
    });
    return best;
  };
  let frame = 0;
  const schedule = (f: () => void) => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(f);
  };
  const onDown = (ev: MouseEvent) => {
    const { x, y } = local(ev);
    const k = axisAt(x);
    if (k < 0) {
      // A press on a drawn-out line, away from the axes, opens its run.
      if (hovered >= 0) ctx.openRun(String(cols['set']![hovered]), String(cols['point_key']![hovered]), Number(cols['rep']![hovered]));
      return;
    }
    ev.preventDefault();
    const axis = axes[k]!;
    if (y < layout.top - 4) moving = { axis: axis.name, x };
    else dragging = { axis: axis.name, a: yPos(layout, y), b: yPos(layout, y) };
  };
  const onMove = (ev: MouseEvent) => {
    if (!dragging && !moving) {
      if (ev.target !== ov) return;
      const { x, y } = local(ev);
      const k = axisAt(x);
      // Over a shortened title or legend: its whole text (and the metric's description) on hover.
      const label = labelBoxes.find((b) => (b.kind === 'title' || b.kind === 'legend' || b.kind === 'unit' || b.kind === 'category') && x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h);
      const doc = label?.kind === 'title' ? docs.get(label.full) : undefined;
      ov.title = label ? `${label.full}${doc ? `: ${doc}` : ''}` : '';
      const run =
        k < 0 && y >= layout.top && y <= layout.height - layout.bottom
          ? runAt(
              axes,
              mask,
              axes.map((_, j) => axisX(layout, j, axes.length)),
              layout.top,
              layout.height - layout.top - layout.bottom,
              x,
              y,
              4,
            )
          : -1;
      setHover(run, true);
      ov.style.cursor = run >= 0 ? 'pointer' : k < 0 ? 'default' : y < layout.top - 4 ? 'grab' : 'crosshair';
      return;
    }
    const { x, y } = local(ev);
    if (moving) {
      moving.x = x;
      schedule(drawOv);
      return;
    }
    const d = dragging!;
    d.b = yPos(layout, y);
    schedule(() => {
      const axis = allAxes.get(d.axis)!;
      reselect(brushFromSpan(axis, d.a, d.b));
      drawFg();
      drawOv();
    });
  };
  const onUp = (ev: MouseEvent) => {
    if (moving) {
      const m = moving;
      moving = undefined;
      const from = axes.findIndex((a) => a.name === m.axis);
      // The new place: among the other axes' positions, where the dropped title lies.
      const others = axes.filter((a) => a.name !== m.axis);
      let to = others.length;
      for (let k = 0; k < axes.length; k++) {
        if (m.x < axisX(layout, k, axes.length)) {
          to = k > from ? k - 1 : k;
          break;
        }
      }
      others.splice(to, 0, axes[from]!);
      axes = others;
      hook.axes = axes.map((a) => a.name);
      drawAll();
      table.setColumns(tableColumns());
      table.setRows(mask);
      ctx.setState({ 'pc.order': hook.axes.join(',') });
      return;
    }
    if (!dragging) return;
    const t0 = performance.now();
    brushStart = t0;
    const d = dragging;
    dragging = undefined;
    cancelAnimationFrame(frame);
    const { y } = local(ev);
    d.b = yPos(layout, y);
    const axis = allAxes.get(d.axis)!;
    // A press without a drag (under 3 px) clears the axis' brush.
    const click = Math.abs(d.b - d.a) * (layout.height - layout.top - layout.bottom) < 3;
    brushes = brushes.filter((b) => b.axis !== d.axis);
    if (!click) brushes.push(brushFromSpan(axis, d.a, d.b));
    reselect(undefined);
    const t1 = performance.now();
    drawFg();
    drawOv();
    const t2 = performance.now();
    // Timed to the frame that shows it: a callback after the next animation frame runs once that
    // frame is painted. The lines and the count come first; the list and the address follow in
    // the next frame (a table of 100 rows costs more layout than the lines here).
    requestAnimationFrame(() => {
      const t3 = performance.now();
      setTimeout(() => {
        const t4 = performance.now();
        hook.lastBrushMs = t4 - t0;
        list();
        const t5 = performance.now();
        requestAnimationFrame(() =>
          setTimeout(() => {
            const t6 = performance.now();
            hook.lastListMs = t6 - t0;
            hook.lastBrushParts = { select: t1 - t0, draw: t2 - t1, toFrame: t3 - t2, paint: t4 - t3, list: t5 - t4, listFrame: t6 - t5 };
            writeBrushes();
            hook.brushCount++;
          }, 0),
        );
      }, 0);
    });
  };
  ov.addEventListener('mousedown', onDown);
  const onLeave = () => setHover(-1, false);
  ov.addEventListener('mouseleave', onLeave);
  window.addEventListener('mousemove', onMove);
  window.addEventListener('mouseup', onUp);

  colourSel.addEventListener('change', () => {
    colourName = colourSel.value;
    computeColour();
    drawFg();
    drawOv();
    ctx.setState({ 'pc.colour': colourName });
  });
  const changeMetrics = (next: string[]) => {
    // New axes need their columns from the server: the view is built again from the new state.
    ctx.setState({ 'pc.metrics': next.join(','), 'pc.order': null });
    const host = root;
    cleanupAll();
    host.replaceChildren();
    const again = mount(host, ctx);
    rebuilt = again;
  };
  let rebuilt: (() => void) | undefined;
  addSel.addEventListener('change', () => {
    if (addSel.value) changeMetrics([...shownMetrics, addSel.value]);
  });
  removeSel.addEventListener('change', () => {
    if (removeSel.value) changeMetrics(shownMetrics.filter((m) => m !== removeSel.value));
  });
  logBox.addEventListener('change', (ev) => {
    const box = ev.target as HTMLInputElement;
    const axis = allAxes.get(box.dataset['axis'] ?? '');
    if (!axis) return;
    setScale(axis, box.checked);
    if (axis.name === colourName) computeColour();
    glStale = true;
    drawAll();
    const logs = [...allAxes.values()].filter((a) => a.log).map((a) => a.name);
    ctx.setState({ 'pc.log': logs.join(',') });
  });
  let filterFrame = 0;
  filterBox.addEventListener('input', () => {
    cancelAnimationFrame(filterFrame);
    filterFrame = requestAnimationFrame(() => {
      applyFilter(filterBox.value);
      reselect(undefined);
      drawFg();
      drawOv();
      list();
      ctx.setState({ 'pc.filter': filterBox.value.trim() || null }, { replace: true });
    });
  });
  /** Each run's row as the filter reads it, made at the first filter (lower case, cells apart). */
  let haystack: string[] | undefined;
  const applyFilter = (text: string) => {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      filterMask = undefined;
      return;
    }
    const names = ['set', ...paramAxes.map((a) => a.name), 'rep', ...data.axes.filter((a) => a.kind === 'metric').map((a) => a.name)];
    haystack ??= Array.from({ length: n }, (_, i) =>
      names
        .map((c) => {
          const v = cols[c]?.[i];
          return v === null || v === undefined ? '' : typeof v === 'number' && c !== 'rep' && data.axes.some((a) => a.name === c && a.kind === 'metric') ? fmt(v) : String(v);
        })
        .join('\u0001')
        .toLowerCase(),
    );
    filterMask = new Uint8Array(n);
    for (let i = 0; i < n; i++) filterMask[i] = words.every((w) => haystack![i]!.includes(w)) ? 1 : 0;
  };
  clear.addEventListener('click', () => {
    brushes = [];
    reselect(undefined);
    drawFg();
    drawOv();
    list();
    writeBrushes();
  });

  // Exports: the picture (the three layers on white), the lines as SVG, the selected runs as CSV.
  const exportName = `parallel-${setName ?? 'sets'}`;
  const button = (label: string, f: () => void) => {
    const b = el('button', { type: 'button', textContent: label });
    b.dataset['export'] = label.toLowerCase();
    b.addEventListener('click', f);
    exportBox.append(b);
  };
  button('PNG', () => {
    const c = el('canvas', { width: bg.width, height: bg.height });
    const g = c.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, c.width, c.height);
    for (const layer of [bg, fg, ov]) g.drawImage(layer, 0, 0);
    c.toBlob((blob) => blob && download(`${exportName}.png`, blob));
  });
  button('SVG', () => download(`${exportName}.svg`, new Blob([svgOf(layout, axes, mask, colour, brushes, colourInfo())], { type: 'image/svg+xml' })));
  button('CSV', () => {
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (mask[i]) keep.push(i);
    const out: Record<string, unknown[]> = { set: [], point_key: [], rep: [] };
    for (const name of ['set', 'point_key', 'rep', ...axes.map((a) => a.name).filter((a) => a !== 'set')]) out[name] = keep.map((i) => cols[name]![i]);
    download(`${exportName}.csv`, new Blob([toCsv(out)], { type: 'text/csv' }));
  });

  computeColour();
  if (filterText) applyFilter(filterText);
  reselect(undefined);
  drawAll();
  list();
  const ro = new ResizeObserver(() => {
    if (Math.max(400, stack.clientWidth) !== layout.width) drawAll();
  });
  ro.observe(stack);
  window.__sb.draws++;

  const cleanupAll = () => {
    ro.disconnect();
    cancelAnimationFrame(frame);
    cancelAnimationFrame(chunkFrame);
    cancelAnimationFrame(filterFrame);
    window.removeEventListener('mousemove', onMove);
    window.removeEventListener('mouseup', onUp);
  };
  return () => {
    cleanupAll();
    rebuilt?.();
  };
}
