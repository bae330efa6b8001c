// Charts of a result, drawn as SVG: bar, line and scatter. `suggest` picks a chart from the
// column types (a line over a time column, bars over a text column, a scatter of two
// numbers); the user can change the type and the columns.

import { kindOf, numberOf, textOf } from './values.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_BARS = 60;
const MAX_POINTS = 5000;
const MARGIN = { top: 16, right: 64, bottom: 64, left: 72 };

/** The columns of `table` as { index, name, kind }. */
export function columnsOf(table) {
  return table.schema.fields.map((f, index) => ({ index, name: f.name, kind: kindOf(f.type) }));
}

/** A sensible chart for a result: { type, x, y } (column indices; x -1 is the row number),
 * or null when there is nothing numeric to draw. */
export function suggest(table) {
  const cols = columnsOf(table);
  const time = cols.find((c) => c.kind === 'time');
  const numbers = cols.filter((c) => c.kind === 'number');
  const text = cols.find((c) => c.kind === 'text');
  if (numbers.length === 0) return null;
  if (time) return { type: 'line', x: time.index, y: numbers[0].index };
  if (text) return { type: 'bar', x: text.index, y: numbers[0].index };
  if (numbers.length >= 2) return { type: 'scatter', x: numbers[0].index, y: numbers[1].index };
  return { type: 'bar', x: -1, y: numbers[0].index };
}

/** Draws `spec` for `table` into `host` (replacing what was there); returns a one-line
 * description of what was drawn (or why nothing was). */
export function draw(host, table, spec, width) {
  host.replaceChildren();
  if (!spec || spec.y < 0) return 'Nothing numeric to chart in this result.';
  const height = 380;
  const svg = node('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  host.append(svg);
  const plot = { x0: MARGIN.left, x1: width - MARGIN.right, y0: height - MARGIN.bottom, y1: MARGIN.top };
  const yField = table.schema.fields[spec.y];
  const yVec = table.getChildAt(spec.y);
  const xField = spec.x >= 0 ? table.schema.fields[spec.x] : null;
  const xVec = spec.x >= 0 ? table.getChildAt(spec.x) : null;
  const n = table.numRows;
  const label = (text, x, y, attrs = {}) => svg.append(node('text', { x, y, ...attrs }, text));
  label(yField.name, 14, (plot.y0 + plot.y1) / 2, { transform: `rotate(-90 14 ${(plot.y0 + plot.y1) / 2})`, 'text-anchor': 'middle', class: 'axis-title' });
  label(xField?.name ?? 'row', (plot.x0 + plot.x1) / 2, height - 8, { 'text-anchor': 'middle', class: 'axis-title' });
  svg.setAttribute('aria-label', `${spec.type} chart of ${yField.name} by ${xField?.name ?? 'row'}`);

  if (spec.type === 'bar') {
    const count = Math.min(n, MAX_BARS);
    const bars = [];
    for (let i = 0; i < count; i++) {
      const v = numberOf(yVec.get(i), yField.type);
      const name = xVec ? textOf(xVec.get(i), xField.type) : String(i + 1);
      bars.push({ name, v: v ?? 0 });
    }
    const lo = Math.min(0, ...bars.map((b) => b.v));
    const hi = Math.max(0, ...bars.map((b) => b.v));
    const y = scale(lo, hi, plot.y0, plot.y1);
    yAxis(svg, plot, lo, hi, y);
    const slot = (plot.x1 - plot.x0) / Math.max(1, count);
    bars.forEach((b, i) => {
      const top = y(Math.max(0, b.v));
      const bottom = y(Math.min(0, b.v));
      const rect = node('rect', { x: plot.x0 + i * slot + slot * 0.1, y: top, width: Math.max(1, slot * 0.8), height: Math.max(1, bottom - top), class: 'bar' });
      rect.append(node('title', {}, `${b.name}: ${b.v.toLocaleString()}`));
      svg.append(rect);
      if (count <= 30 || i % Math.ceil(count / 30) === 0) {
        const cx = plot.x0 + i * slot + slot / 2;
        label(truncate(b.name, 14), cx, plot.y0 + 14, { transform: `rotate(30 ${cx} ${plot.y0 + 14})`, class: 'tick' });
      }
    });
    return n > MAX_BARS ? `Bar chart of the first ${MAX_BARS} of ${n.toLocaleString()} rows.` : `Bar chart of ${n.toLocaleString()} rows.`;
  }

  // Line and scatter: numeric (or time) x.
  const stride = Math.max(1, Math.ceil(n / MAX_POINTS));
  const points = [];
  for (let i = 0; i < n; i += stride) {
    const xv = xVec ? numberOf(xVec.get(i), xField.type) : i + 1;
    const yv = numberOf(yVec.get(i), yField.type);
    if (xv !== null && yv !== null && Number.isFinite(xv) && Number.isFinite(yv)) points.push([xv, yv]);
  }
  if (points.length === 0) return 'No rows with both values to chart.';
  if (spec.type === 'line') points.sort((a, b) => a[0] - b[0]);
  const [xlo, xhi] = extent(points.map((p) => p[0]));
  const [ylo, yhi] = extent(points.map((p) => p[1]));
  const x = scale(xlo, xhi, plot.x0, plot.x1);
  const y = scale(ylo, yhi, plot.y0, plot.y1);
  yAxis(svg, plot, ylo, yhi, y);
  const isTime = xField && kindOf(xField.type) === 'time';
  for (const t of ticks(xlo, xhi, 6)) {
    svg.append(node('line', { x1: x(t), x2: x(t), y1: plot.y0, y2: plot.y0 + 4, class: 'axis' }));
    label(isTime ? new Date(t).toISOString().slice(0, 10) : formatNumber(t), x(t), plot.y0 + 18, { 'text-anchor': 'middle', class: 'tick' });
  }
  if (spec.type === 'line') {
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    svg.append(node('path', { d, class: 'line' }));
  } else {
    for (const p of points) {
      const dot = node('circle', { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.5, class: 'dot' });
      svg.append(dot);
    }
  }
  const what = spec.type === 'line' ? 'Line chart' : 'Scatter plot';
  return stride > 1 ? `${what} of every ${stride}th of ${n.toLocaleString()} rows.` : `${what} of ${points.length.toLocaleString()} points.`;
}

function yAxis(svg, plot, lo, hi, y) {
  svg.append(node('line', { x1: plot.x0, x2: plot.x1, y1: plot.y0, y2: plot.y0, class: 'axis' }));
  for (const t of ticks(lo, hi, 5)) {
    svg.append(node('line', { x1: plot.x0, x2: plot.x1, y1: y(t), y2: y(t), class: 'grid-line' }));
    svg.append(node('text', { x: plot.x0 - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, formatNumber(t)));
  }
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

function scale(lo, hi, from, to) {
  const span = hi - lo || 1;
  return (v) => from + ((v - lo) / span) * (to - from);
}

/** Round tick values between lo and hi (1, 2 or 5 times a power of ten apart). */
export function ticks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function formatNumber(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  return String(Number(v.toPrecision(6)));
}

function truncate(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function node(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}
