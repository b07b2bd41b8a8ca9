// A small inline-SVG sparkline of one value over a fixed time window (the fleet cards' CPU).
import { svg, setAttr } from './dom.js';
import type { TimedValue } from './store.js';

const W = 120;
const H = 32;
const MIN_SPAN_MS = 15_000;

export class Sparkline {
  readonly el: SVGSVGElement;
  private readonly line: SVGPathElement;
  private readonly area: SVGPathElement;

  constructor(
    private readonly windowMs: number,
    private readonly yMax = 100,
    label = '',
  ) {
    this.el = svg('svg', {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      class: 'sparkline',
      role: 'img',
      'aria-label': label,
    });
    this.area = svg('path', { class: 'sparkline-area' });
    this.line = svg('path', { class: 'sparkline-line' });
    this.el.append(this.area, this.line);
  }

  /** Redraws from points sorted by t. A gap longer than `gapMs` breaks the line. */
  update(points: readonly TimedValue[], gapMs: number): void {
    this.el.dataset.points = String(points.length);
    const last = points[points.length - 1];
    if (!last) {
      setAttr(this.line, 'd', null);
      setAttr(this.area, 'd', null);
      return;
    }
    // A device that has only just started fills the width instead of a sliver at the right.
    const first = points[0]!;
    const span = Math.min(this.windowMs, Math.max(MIN_SPAN_MS, last.t - first.t));
    const t0 = last.t - span;
    const x = (t: number) => (((t - t0) / span) * W).toFixed(1);
    const y = (v: number) => (H - 1 - (Math.max(0, Math.min(this.yMax, v)) / this.yMax) * (H - 2)).toFixed(1);
    let line = '';
    let area = '';
    let runStart: TimedValue | null = null;
    let prev: TimedValue | null = null;
    let runLength = 0;
    const closeRun = () => {
      // A lone point (no neighbour within gapMs) would draw nothing: a short dash instead.
      if (runLength === 1) line += 'm-1,0h2';
      if (runStart && prev) area += `L${x(prev.t)},${H}L${x(runStart.t)},${H}Z`;
    };
    for (const p of points) {
      if (p.t < t0) continue;
      if (!prev || p.t - prev.t > gapMs) {
        closeRun();
        line += `M${x(p.t)},${y(p.v)}`;
        area += `M${x(p.t)},${y(p.v)}`;
        runStart = p;
        runLength = 1;
      } else {
        line += `L${x(p.t)},${y(p.v)}`;
        area += `L${x(p.t)},${y(p.v)}`;
        runLength++;
      }
      prev = p;
    }
    closeRun();
    setAttr(this.line, 'd', line);
    setAttr(this.area, 'd', area);
  }
}
