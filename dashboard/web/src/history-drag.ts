// Drag-to-zoom on a chart: press, drag across the plot and release to pick an x range (a
// translucent box shows it meanwhile); the page then loads that window from the series API, so
// a zoom reads finer tiers instead of stretching what is drawn. A press without a drag is a
// click: on an experiment band it asks to zoom to that experiment. Pointer events, so a finger
// works too; the canvas's `touch-action: pan-y` (style.css) keeps vertical scrolling for the
// page and hands horizontal moves to this. Escape cancels a drag in progress.
import { h } from './dom.js';
import { zoomWindow, type TimeWindow } from './history-range.js';

/** Moves shorter than this (CSS px) are clicks, not selections: fingers and mice wobble. */
const CLICK_PX = 6;

export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** What the drag needs from a chart: its canvas, plot area and x scale. */
export interface DragSurface {
  readonly canvas: HTMLCanvasElement;
  /** Plot area in CSS px within the canvas; null before the chart has been drawn. */
  plotArea(): PlotArea | null;
  /** x value (device-clock ms) at a CSS px offset from the canvas's left edge. */
  valueAt(px: number): number;
  /** Id of the experiment band at x value `t`, if any. */
  experimentAt(t: number): string | null;
}

export interface DragHandlers {
  onZoom(w: TimeWindow): void;
  onExperiment(id: string): void;
}

export class DragZoom {
  /** The translucent selection, positioned over the canvas inside its (relative) box. */
  readonly selection = h('div', { class: 'zoom-selection', attrs: { 'aria-hidden': 'true' } });
  private start: { id: number; x: number } | null = null;
  private lastX = 0;
  private readonly off: (() => void)[] = [];

  constructor(
    private readonly surface: DragSurface,
    private readonly handlers: DragHandlers,
  ) {
    this.selection.hidden = true;
    const c = surface.canvas;
    this.listen(c, 'pointerdown', (e) => this.down(e));
    this.listen(c, 'pointermove', (e) => this.move(e));
    this.listen(c, 'pointerup', (e) => this.up(e));
    this.listen(c, 'pointercancel', () => this.cancel());
    this.listen(c, 'lostpointercapture', () => this.cancel());
    this.listen(window, 'keydown', (e) => {
      if (e.key === 'Escape' && this.start) this.cancel();
    });
  }

  private listen<K extends keyof HTMLElementEventMap & keyof WindowEventMap>(
    target: HTMLElement | Window,
    type: K,
    fn: (e: HTMLElementEventMap[K] & WindowEventMap[K]) => void,
  ): void {
    target.addEventListener(type, fn as EventListener);
    this.off.push(() => target.removeEventListener(type, fn as EventListener));
  }

  /** x within the canvas, clamped to the plot area. */
  private localX(e: PointerEvent, area: PlotArea): number {
    const x = e.clientX - this.surface.canvas.getBoundingClientRect().left;
    return Math.max(area.left, Math.min(area.right, x));
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0 || !e.isPrimary) return;
    const area = this.surface.plotArea();
    if (!area) return;
    const rect = this.surface.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    // Presses on the axes and the legend are not selections.
    if (x < area.left || x > area.right || y < area.top || y > area.bottom) return;
    this.start = { id: e.pointerId, x };
    this.lastX = x;
    this.surface.canvas.setPointerCapture?.(e.pointerId);
    // No text selection or native drag of the canvas image while selecting.
    e.preventDefault();
  }

  private move(e: PointerEvent): void {
    const area = this.surface.plotArea();
    if (!this.start) {
      // Hovering a band says it can be clicked.
      if (!area || e.pointerType !== 'mouse') return;
      const x = e.clientX - this.surface.canvas.getBoundingClientRect().left;
      const inPlot = x >= area.left && x <= area.right;
      this.surface.canvas.style.cursor = inPlot && this.surface.experimentAt(this.surface.valueAt(x)) ? 'pointer' : inPlot ? 'crosshair' : '';
      return;
    }
    if (e.pointerId !== this.start.id || !area) return;
    this.lastX = this.localX(e, area);
    const left = Math.min(this.start.x, this.lastX);
    const width = Math.abs(this.lastX - this.start.x);
    if (width < CLICK_PX) {
      this.selection.hidden = true;
      return;
    }
    const s = this.selection.style;
    s.left = `${left}px`;
    s.width = `${width}px`;
    s.top = `${area.top}px`;
    s.height = `${area.bottom - area.top}px`;
    this.selection.hidden = false;
  }

  private up(e: PointerEvent): void {
    const start = this.start;
    if (!start || e.pointerId !== start.id) return;
    const area = this.surface.plotArea();
    const x = area ? this.localX(e, area) : this.lastX;
    this.cancel();
    if (Math.abs(x - start.x) < CLICK_PX) {
      const id = this.surface.experimentAt(this.surface.valueAt(start.x));
      if (id !== null) this.handlers.onExperiment(id);
      return;
    }
    this.handlers.onZoom(zoomWindow(this.surface.valueAt(start.x), this.surface.valueAt(x)));
  }

  private cancel(): void {
    if (this.start && this.surface.canvas.hasPointerCapture?.(this.start.id)) {
      this.surface.canvas.releasePointerCapture(this.start.id);
    }
    this.start = null;
    this.selection.hidden = true;
  }

  destroy(): void {
    this.cancel();
    for (const off of this.off) off();
    this.off.length = 0;
    this.selection.remove();
  }
}
