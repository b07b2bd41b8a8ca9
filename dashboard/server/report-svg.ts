// Charts for the HTML comparison report, drawn on the hub as inline SVG: pure functions from
// numbers to an SVG string, no scripts, no external resources, every label XML-escaped (names
// come from devices and users). One chart per function: a bar chart with CI whiskers, a
// quality/cost scatter with its Pareto front, and a strip chart of per-trial values.
import { paretoFront } from '../../shared/pareto.js';


/** Text and attribute values safe inside XML or HTML. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export interface XY {
  /** Cost: latency, energy… lower is better. */
  x: number;
  /** Quality: a score, better in the direction given to paretoFront. */
  y: number;
}

export { paretoFront };

// ---------------------------------------------------------------- scales and text helpers

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const INK = '#1f2328';
const MUTED = '#656d76';
const GRID = '#d0d7de';
const ACCENT = '#0969da';
const BASE = '#8250df';

/** Round tick values from at or below lo to at or above hi, about `count` steps. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  // From a tick at or below lo to one at or above hi, so the ticks span every value.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Short number for a label: 3 significant digits, no exponent for everyday magnitudes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  if (a >= 100) return String(Math.round(x * 10) / 10);
  return String(Number(x.toPrecision(3)));
}

const n = (x: number): string => String(Math.round(x * 10) / 10);

/** A label cut to `max` characters (the whole text goes in a <title> for hover). */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function svgOpen(width: number, height: number, title: string): string {
  const t = escapeXml(title);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${t}" ${FONT} font-size="12" fill="${INK}">` +
    `<title>${t}</title>`
  );
}

function text(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(body)}</text>`;
}

/** A linear scale from [d0, d1] onto [r0, r1]. */
function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function xAxis(ticks: readonly number[], sx: (v: number) => number, y0: number, y1: number, label: string, width: number): string {
  let out = '';
  for (const t of ticks) {
    const x = sx(t);
    out += `<line x1="${n(x)}" y1="${n(y0)}" x2="${n(x)}" y2="${n(y1)}" stroke="${GRID}" stroke-width="1"/>`;
    out += text(x, y1 + 14, fmt(t), `text-anchor="middle" fill="${MUTED}"`);
  }
  out += text(width / 2, y1 + 32, label, 'text-anchor="middle"');
  return out;
}

// ---------------------------------------------------------------- (a) bar chart with CI whiskers

export interface Bar {
  label: string;
  value: number | null;
  /** 95 % CI, drawn as a whisker when both are given. */
  lo?: number | null;
  hi?: number | null;
  baseline?: boolean;
}

export interface BarChartOptions {
  title: string;
  /** Axis label, with its unit. */
  axis: string;
  width?: number;
}

/** Horizontal bars from 0, one row per bar, CI whiskers, the value written at the bar's end. */
export function barChartSvg(bars: readonly Bar[], opts: BarChartOptions): string {
  const width = opts.width ?? 640;
  const row = 26;
  const left = 170;
  const right = 70;
  const top = 28;
  const plotH = Math.max(1, bars.length) * row;
  const height = top + plotH + 44;
  const maxV = Math.max(0, ...bars.flatMap((b) => [b.value ?? 0, b.hi ?? 0]).filter(Number.isFinite));
  const ticks = niceTicks(0, maxV > 0 ? maxV : 1, 5);
  const sx = linear(0, ticks[ticks.length - 1] ?? 1, left, width - right);
  let out = svgOpen(width, height, opts.title);
  out += text(8, 16, opts.title, 'font-weight="600"');
  out += xAxis(ticks, sx, top - 4, top + plotH, opts.axis, width);
  bars.forEach((b, i) => {
    const y = top + i * row;
    const cy = y + row / 2;
    out += `<g class="bar"><title>${escapeXml(b.label)}${b.value === null ? ': no value' : `: ${fmt(b.value)}`}${b.lo != null && b.hi != null ? ` [${fmt(b.lo)}, ${fmt(b.hi)}]` : ''}</title>`;
    out += text(left - 8, cy + 4, clip(b.label, 24), 'text-anchor="end"');
    if (b.value === null || !Number.isFinite(b.value)) {
      out += text(left + 4, cy + 4, 'no value', `fill="${MUTED}"`);
    } else {
      const x1 = sx(Math.max(0, b.value));
      out += `<rect class="marker" x="${n(left)}" y="${n(y + 5)}" width="${n(Math.max(1, x1 - left))}" height="${row - 10}" fill="${b.baseline ? BASE : ACCENT}" fill-opacity="0.75"/>`;
      let end = x1;
      if (b.lo != null && b.hi != null && Number.isFinite(b.lo) && Number.isFinite(b.hi)) {
        const [xl, xh] = [sx(b.lo), sx(b.hi)];
        end = Math.max(end, xh);
        out += `<path class="whisker" d="M${n(xl)} ${n(cy)}H${n(xh)}M${n(xl)} ${n(cy - 6)}V${n(cy + 6)}M${n(xh)} ${n(cy - 6)}V${n(cy + 6)}" stroke="${INK}" stroke-width="1.5" fill="none"/>`;
      }
      out += text(end + 6, cy + 4, fmt(b.value), `fill="${MUTED}"`);
    }
    out += '</g>';
  });
  return `${out}</svg>`;
}

// ---------------------------------------------------------------- (b) scatter with Pareto front

export interface ScatterPoint extends XY {
  label: string;
  /** Model size (bytes or parameters): marker area ∝ size; null draws a small hollow marker. */
  size?: number | null;
  baseline?: boolean;
}

export interface ScatterOptions {
  title: string;
  xAxis: string;
  yAxis: string;
  /** The score's direction. */
  better: 'higher' | 'lower';
  /** What marker area stands for, e.g. "model size (bytes)"; omitted when no point has a size. */
  sizeLegend?: string;
  width?: number;
}

/** Cost (x) against quality (y), a marker per point, the Pareto front as a line through its points. */
export function scatterSvg(points: readonly ScatterPoint[], opts: ScatterOptions): string {
  const width = opts.width ?? 640;
  const height = 380;
  const [left, right, top, bottom] = [64, 24, 30, 58];
  const pts = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const pad = (lo: number, hi: number): [number, number] => {
    const span = hi - lo || Math.abs(hi) * 0.1 || 1;
    return [lo - span * 0.12, hi + span * 0.12];
  };
  const [x0, x1] = pad(Math.min(...xs, Infinity), Math.max(...xs, -Infinity));
  const [y0, y1] = pad(Math.min(...ys, Infinity), Math.max(...ys, -Infinity));
  const xt = pts.length > 0 ? niceTicks(Math.max(0, x0), x1, 5) : [];
  const yt = pts.length > 0 ? niceTicks(y0, y1, 5) : [];
  const sx = linear(xt[0] ?? 0, xt[xt.length - 1] ?? 1, left, width - right);
  const sy = linear(yt[0] ?? 0, yt[yt.length - 1] ?? 1, height - bottom, top);
  const sizes = pts.map((p) => p.size ?? 0).filter((s) => s > 0);
  const maxSize = Math.max(0, ...sizes);
  const radius = (p: ScatterPoint): number => (p.size && p.size > 0 && maxSize > 0 ? Math.max(3, 18 * Math.sqrt(p.size / maxSize)) : 4);

  let out = svgOpen(width, height, opts.title);
  out += text(8, 16, opts.title, 'font-weight="600"');
  out += xAxis(xt, sx, top, height - bottom, opts.xAxis, width);
  for (const t of yt) {
    const y = sy(t);
    out += `<line x1="${left}" y1="${n(y)}" x2="${width - right}" y2="${n(y)}" stroke="${GRID}" stroke-width="1"/>`;
    out += text(left - 6, y + 4, fmt(t), `text-anchor="end" fill="${MUTED}"`);
  }
  const yMid = (top + height - bottom) / 2;
  out += text(14, yMid, opts.yAxis, `text-anchor="middle" transform="rotate(-90 14 ${n(yMid)})"`);
  const front = paretoFront(pts, opts.better);
  if (front.length > 1) {
    out += `<polyline class="pareto" points="${front.map((p) => `${n(sx(p.x))},${n(sy(p.y))}`).join(' ')}" fill="none" stroke="${INK}" stroke-width="1.5" stroke-dasharray="5 3"/>`;
  }
  const onFront = new Set(front);
  // Largest first, so small markers stay on top and hoverable.
  const order = [...pts].sort((a, b) => radius(b) - radius(a));
  for (const p of order) {
    const [cx, cy, r] = [sx(p.x), sy(p.y), radius(p)];
    const colour = p.baseline ? BASE : ACCENT;
    const hollow = !(p.size && p.size > 0);
    out += `<g class="point"><title>${escapeXml(`${p.label}: ${fmt(p.x)}, ${fmt(p.y)}${p.size ? `, size ${fmt(p.size)}` : ''}${onFront.has(p) ? ' (on the Pareto front)' : ''}`)}</title>`;
    out += `<circle class="marker" cx="${n(cx)}" cy="${n(cy)}" r="${n(r)}" fill="${hollow ? 'none' : colour}" fill-opacity="0.35" stroke="${colour}" stroke-width="${onFront.has(p) ? 2 : 1}"/>`;
    out += text(cx + r + 3, cy - r / 2, clip(p.label, 22), 'font-size="11"');
    out += '</g>';
  }
  const legend = [`dashed line: Pareto front (${opts.better} score, lower cost)`, opts.sizeLegend ? `marker area ∝ ${opts.sizeLegend}` : ''].filter(Boolean).join(' · ');
  out += text(left, height - 8, legend, `font-size="11" fill="${MUTED}"`);
  return `${out}</svg>`;
}

// ---------------------------------------------------------------- (c) strip chart of trials

export interface Strip {
  label: string;
  values: readonly number[];
  /** Drawn as a vertical tick (the median across trials). */
  median?: number | null;
  baseline?: boolean;
}

export interface StripChartOptions {
  title: string;
  axis: string;
  width?: number;
}

/** One row per variant, a dot per trial, a tick at the median. */
export function stripChartSvg(strips: readonly Strip[], opts: StripChartOptions): string {
  const width = opts.width ?? 640;
  const row = 26;
  const [left, right, top] = [170, 40, 28];
  const plotH = Math.max(1, strips.length) * row;
  const height = top + plotH + 44;
  const all = strips.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = Math.min(...all, Infinity);
  const hi = Math.max(...all, -Infinity);
  const span = hi - lo || Math.abs(hi) * 0.1 || 1;
  const ticks = all.length > 0 ? niceTicks(Math.max(0, lo - span * 0.1), hi + span * 0.1, 5) : [0, 1];
  const sx = linear(ticks[0] ?? 0, ticks[ticks.length - 1] ?? 1, left, width - right);
  let out = svgOpen(width, height, opts.title);
  out += text(8, 16, opts.title, 'font-weight="600"');
  out += xAxis(ticks, sx, top - 4, top + plotH, opts.axis, width);
  strips.forEach((s, i) => {
    const cy = top + i * row + row / 2;
    const colour = s.baseline ? BASE : ACCENT;
    out += `<g class="strip"><title>${escapeXml(`${s.label}: ${s.values.map(fmt).join(', ')}`)}</title>`;
    out += text(left - 8, cy + 4, clip(s.label, 24), 'text-anchor="end"');
    s.values.forEach((v, k) => {
      if (!Number.isFinite(v)) return;
      // A small vertical jitter by trial index keeps equal values visible.
      const dy = ((k % 3) - 1) * 4;
      out += `<circle class="marker" cx="${n(sx(v))}" cy="${n(cy + dy)}" r="3.5" fill="${colour}" fill-opacity="0.6"/>`;
    });
    if (s.median != null && Number.isFinite(s.median)) {
      const x = sx(s.median);
      out += `<line class="median" x1="${n(x)}" y1="${n(cy - 9)}" x2="${n(x)}" y2="${n(cy + 9)}" stroke="${INK}" stroke-width="2"/>`;
    }
    out += '</g>';
  });
  return `${out}</svg>`;
}
