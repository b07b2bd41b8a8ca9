// One time-series chart (chart.js line chart on a linear x axis of epoch ms). Updated in place
// without animation: live samples are appended to a bounded ring per line, and history loads
// replace the data. Experiments show as translucent bands with their names above the plot
// (drawn on the canvas by a plugin, nothing but canvas calls: CSP-safe). Test hooks on the
// canvas: data-chart, data-metric-group, data-points, data-range, data-source, data-tier,
// data-compare (lines of a compared range drawn) and data-experiments (ids of the bands drawn,
// space-separated), data-legend (the legend's labels, |-separated), data-isolated (lone points
// drawn as dots), and on charts with a robust axis data-y-cut (where the axis is cut, '' when
// not), data-y-max (the axis' top) and data-marked (marks drawn for points above the cut). A
// second time range can be overlaid, dashed, shifted onto the first's axis; drag-to-zoom and
// clicks on bands are history-drag.ts's, reported to the page.
//
// A point whose neighbours are both further away than the gap limit has no line to be part of:
// it is drawn as a dot. On a robust chart (ChartDef.robust: rates, latencies) a few outlying
// points do not set the y axis: it stops at robustAxisMax of what is shown, each point above is
// marked ▲ at the top edge with its real value, a note under the title says so, and a "Full
// scale" toggle (remembered per chart for the session) shows everything.
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
  type Scale,
  type TooltipItem,
} from 'chart.js';
import { formatAxisTick, formatValue } from '../../../shared/format.js';
import type { SeriesPoint } from '../../../shared/live.js';
import type { Sample } from '../../../shared/protocol.js';
import { isolatedIndexes, markerClusters, robustAxisMax, type ChartDef, type SeriesDef } from './chart-plan.js';
import { h, setData, setText } from './dom.js';
import { fitLabel, laneCount, layoutBands, type ExperimentSpan } from './experiments-model.js';
import { DragZoom, type DragHandlers, type PlotArea } from './history-drag.js';
import { fullTime, tickLabel, timeTicks } from './time-axis.js';
import { cssVar, withAlpha } from './chart-colors.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend);

type Pt = { x: number; y: number };
type LineDataset = ChartDataset<'line', Pt[]>;

/** Most points one line keeps in live mode, whatever the sample rate. */
const MAX_LIVE_POINTS = 4000;
/** Narrowest x span in live mode (see liveMin). */
const MIN_LIVE_SPAN_MS = 60_000;
/** Lines drawn with a min/max band, at most (bands behind many lines are just fog). */
const MAX_BANDS = 4;
/** Height of one row of experiment labels above the plot, CSS px. */
const LANE_PX = 13;
const TOP_PAD = 4;
/** Radius of the dot a lone point is drawn as, CSS px. */
const ISOLATED_RADIUS = 2.5;
/** Room one mark's label takes on a cut axis; closer marks merge into the highest. */
const MARK_LABEL_PX = 56;

/** Robust charts the user switched to the full scale (by chart id, for the session). */
const fullScaleCharts = new Set<string>();

interface DatasetMeta {
  kind: 'line' | 'band-min' | 'band-max' | 'compare';
  def: SeriesDef;
  /**
   * Robust charts: a loaded line's bucket maxima above its means, by x (drawn as a band or
   * not: live mode draws none), so a burst averaged into a bucket is still marked at its peak.
   */
  peakAt?: Map<number, number>;
}

/** A second time range of the same metrics, drawn dashed over the first. */
export interface CompareOverlay {
  /** Points already shifted onto the shown range's time axis. */
  series: Record<string, SeriesPoint[]>;
  /** What was added to B's times (A.from − B.from): the tooltip shows B's own time. */
  offsetMs: number;
}

export interface HistoryLoad {
  series: Record<string, SeriesPoint[]>;
  from: number;
  to: number;
  /** Break lines where consecutive points are further apart than this. */
  gapMs: number;
  /** Draw min/max bands (history ranges). */
  bands: boolean;
  range: string;
  source: 'history' | 'live';
  /** The storage tier that answered (history), for data-tier. */
  tier?: string;
  compare?: CompareOverlay;
}

/** Tick values for a byte axis on IEC boundaries (1, 2, 5 × KiB/MiB/GiB…). */
function byteTicks(min: number, max: number): number[] {
  if (!(max > min)) return [min];
  let f = 1;
  while (max / f >= 1024 && f < 1024 ** 5) f *= 1024;
  const raw = (max - min) / f / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const step = Math.max(1, nice * f);
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v < max + step && out.length < 20; v += step) out.push(v);
  return out;
}

/**
 * The y axis' suggested top where the data would give a useless one: an idle interface or disk
 * (all zeros) still gets a readable 0 … 1 kB/s axis, a clock at 0 (an idle, power-gated Jetson
 * GPU) a 0 … 100 MHz one.
 */
function baseSuggestedMax(unit: string): number | undefined {
  return unit === 'B/s' ? 1000 : unit === 'bytes' ? 1024 : unit === 'MHz' ? 100 : undefined;
}

/** Bucket maxima above their means, by bucket time (see DatasetMeta.peakAt). */
function peaksOf(pts: readonly SeriesPoint[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of pts) if (p[3] > p[1]) out.set(p[0], p[3]);
  return out;
}

export class TimeChart {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly empty: HTMLElement;
  private chart: Chart<'line', Pt[]> | null = null;
  private meta: DatasetMeta[] = [];
  private lineByMetric = new Map<string, LineDataset>();
  private dirty = false;
  private xStep = 60_000;
  private windowMs = 10 * 60_000;
  private live = true;
  private xMin = 0;
  private xMax = 0;
  private loading = false;
  /** Data loaded before mount(), applied on the first flush. */
  private pending: { datasets: LineDataset[]; gapMs: number } | null = null;
  private experiments: readonly ExperimentSpan[] = [];
  private drawnExperiments = '';
  private compareOffset = 0;
  private dragHandlers: DragHandlers | null = null;
  private drag: DragZoom | null = null;
  /** Consecutive points further apart than this are not joined (chart.js spanGaps). */
  private gapMs = 5000;
  /** Where the y axis is cut now (robust charts), null when it fits all the data. */
  private cut: number | null = null;
  private readonly cutNote: HTMLElement | null = null;
  private readonly scaleToggle: HTMLButtonElement | null = null;

  constructor(readonly def: ChartDef) {
    this.canvas = h('canvas', {
      data: {
        chart: def.id,
        'metric-group': def.group,
        unit: def.unit,
        points: 0,
        range: '',
        source: '',
        experiments: '',
        compare: 0,
        legend: def.series.filter((s) => s.legend).map((s) => s.label).join('|'),
      },
      attrs: { role: 'img', 'aria-label': `${def.title} chart` },
    });
    this.empty = h('p', { class: 'chart-empty', text: 'No data in this range' });
    if (def.robust) {
      setData(this.canvas, { 'y-cut': '', 'y-max': '', marked: 0 });
      this.cutNote = h('span', { class: 'chart-cut', attrs: { 'aria-live': 'polite' } });
      this.scaleToggle = h('button', {
        class: 'chart-scale-btn',
        text: 'Full scale',
        attrs: { type: 'button', 'aria-pressed': String(fullScaleCharts.has(def.id)), title: 'Fit the axis to every point, outliers included' },
        data: { action: 'y-scale' },
        on: { click: () => this.toggleFullScale() },
      });
      this.cutNote.hidden = true;
      this.scaleToggle.hidden = true;
    }
    this.el = h(
      'figure',
      { class: 'chart-card', data: { chart: def.id } },
      h(
        'figcaption',
        null,
        h('span', { class: 'chart-title', text: def.title }),
        def.note ? h('span', { class: 'chart-note', text: def.note }) : null,
        this.cutNote,
        this.scaleToggle,
      ),
      h('div', { class: 'chart-box' }, this.canvas, this.empty),
    );
  }

  private get fullScale(): boolean {
    return fullScaleCharts.has(this.def.id);
  }

  private toggleFullScale(): void {
    if (this.fullScale) fullScaleCharts.delete(this.def.id);
    else fullScaleCharts.add(this.def.id);
    this.scaleToggle?.setAttribute('aria-pressed', String(this.fullScale));
    this.flush(true);
  }

  /** Creates the chart.js instance; call once the element is in the document (it sizes to its box). */
  mount(): void {
    if (this.chart) return;
    if (!(this.xMax > this.xMin)) {
      this.xMax = Date.now();
      this.xMin = this.xMax - this.windowMs;
    }
    const text = cssVar('--chart-text', '#555');
    const grid = cssVar('--chart-grid', 'rgba(0,0,0,0.08)');
    const unit = this.def.unit;
    const bands: Plugin<'line'> = {
      id: 'experimentBands',
      beforeDatasetsDraw: (chart) => this.drawExperiments(chart as unknown as Chart<'line', Pt[]>),
    };
    const marks: Plugin<'line'> = {
      id: 'cutMarks',
      afterDatasetsDraw: (chart) => this.drawCutMarks(chart as unknown as Chart<'line', Pt[]>),
    };
    this.chart = new Chart<'line', Pt[]>(this.canvas, {
      type: 'line',
      data: { datasets: [] },
      plugins: [bands, marks],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        spanGaps: false,
        events: ['mousemove', 'mouseout', 'click', 'touchstart', 'touchmove'],
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        elements: { point: { radius: 0, hitRadius: 4, hoverRadius: 3 }, line: { tension: 0 } },
        layout: { padding: { top: TOP_PAD, right: 6 } },
        scales: {
          x: {
            type: 'linear',
            grid: { color: grid },
            border: { display: false },
            ticks: {
              color: text,
              maxRotation: 0,
              autoSkip: false,
              font: { size: 11 },
              callback: (v) => tickLabel(Number(v), this.xStep),
            },
            afterBuildTicks: (scale: Scale) => {
              const maxTicks = Math.max(2, Math.floor((scale.width || this.canvas.clientWidth || 300) / 85));
              const { values, step } = timeTicks(scale.min, scale.max, maxTicks);
              this.xStep = step;
              scale.ticks = values.map((value) => ({ value }));
            },
          },
          y: {
            type: 'linear',
            min: this.def.min,
            max: this.def.max,
            suggestedMax: baseSuggestedMax(unit),
            grace: this.def.min === undefined ? '5%' : 0,
            grid: { color: grid },
            border: { display: false },
            ticks: {
              color: text,
              maxTicksLimit: 5,
              // No fractional bytes or bytes/s.
              precision: unit === 'B/s' || unit === 'bytes' || unit === 'MHz' || unit === 'rpm' || unit === 'count' ? 0 : undefined,
              font: { size: 11 },
              // A latency axis starts at "0", not "0 µs".
              callback: (v) => (Number(v) === 0 && unit === 'ms' ? '0' : formatAxisTick(Number(v), unit)),
            },
            afterBuildTicks: (scale: Scale) => {
              if (unit !== 'bytes' || this.def.max !== undefined) return;
              const ticks = byteTicks(scale.min, scale.max);
              scale.ticks = ticks.map((value) => ({ value }));
              scale.min = ticks[0]!;
              scale.max = ticks[ticks.length - 1]!;
            },
          },
        },
        plugins: {
          legend: {
            position: 'bottom',
            align: 'start',
            labels: {
              color: text,
              boxWidth: 14,
              boxHeight: 2,
              padding: 8,
              font: { size: 11 },
              filter: (item) => {
                const m = this.meta[item.datasetIndex ?? -1];
                return !!m && (m.kind === 'line' || m.kind === 'compare') && m.def.legend;
              },
            },
          },
          tooltip: {
            animation: false,
            filter: (item: TooltipItem<'line'>) => {
              const m = this.meta[item.datasetIndex];
              if (!m || (m.kind !== 'line' && m.kind !== 'compare')) return false;
              return m.def.role !== 'detail' || this.lineByMetric.size <= 18;
            },
            itemSort: (a, b) => (this.meta[a.datasetIndex]?.def.role === 'detail' ? 1 : 0) - (this.meta[b.datasetIndex]?.def.role === 'detail' ? 1 : 0),
            callbacks: {
              title: (items) => (items[0] ? fullTime(items[0].parsed.x ?? 0) : ''),
              label: (item) => {
                const text = `${item.dataset.label ?? ''}: ${formatValue(item.parsed.y, unit)}`;
                // A compared line sits on the shown range's axis: say when it really was.
                return this.meta[item.datasetIndex]?.kind === 'compare' ? `${text} (${fullTime((item.parsed.x ?? 0) - this.compareOffset)})` : text;
              },
            },
          },
        },
      },
    });
    if (this.dragHandlers) this.attachDrag(this.dragHandlers);
    this.flush(true);
  }

  /** Lets the user zoom by dragging and jump to an experiment by clicking its band. */
  setInteraction(handlers: DragHandlers): void {
    this.dragHandlers = handlers;
    if (this.chart) this.attachDrag(handlers);
  }

  private attachDrag(handlers: DragHandlers): void {
    this.drag?.destroy();
    this.drag = new DragZoom(
      {
        canvas: this.canvas,
        plotArea: () => this.plotArea(),
        valueAt: (px) => this.chart?.scales.x?.getValueForPixel(px) ?? 0,
        experimentAt: (t) => this.experimentAt(t),
      },
      handlers,
    );
    this.canvas.after(this.drag.selection);
  }

  private plotArea(): PlotArea | null {
    const a = this.chart?.chartArea;
    return a && a.right > a.left ? { left: a.left, right: a.right, top: a.top, bottom: a.bottom } : null;
  }

  /** The experiment whose band covers x value `t`; the narrowest where bands overlap. */
  experimentAt(t: number): string | null {
    const x = this.chart?.scales.x;
    if (!x) return null;
    const bands = layoutBands(this.experiments, x.min, x.max, Math.max(this.xMax, x.max));
    let best: { id: string; width: number } | null = null;
    for (const b of bands) {
      if (t < b.x0 || t > b.x1) continue;
      if (!best || b.x1 - b.x0 < best.width) best = { id: b.id, width: b.x1 - b.x0 };
    }
    return best?.id ?? null;
  }

  get pointCount(): number {
    let n = 0;
    for (const ds of this.lineByMetric.values()) n = Math.max(n, ds.data.length);
    return n;
  }

  /** Marks the chart as loading (the canvas keeps the previous data until the load lands). */
  setLoading(range: string): void {
    this.loading = true;
    setData(this.canvas, { loading: 'true', range });
    this.el.classList.add('is-loading');
  }

  /** Replaces all data: a history range, or the start of live mode. */
  load(h: HistoryLoad): void {
    this.loading = false;
    this.live = h.source === 'live';
    this.windowMs = h.to - h.from;
    this.xMin = h.from;
    this.xMax = h.to;
    const datasets: LineDataset[] = [];
    this.meta = [];
    this.lineByMetric = new Map();
    let bands = 0;
    for (const def of this.def.series) {
      const pts = h.series[def.metric] ?? [];
      const line: LineDataset = {
        label: def.label,
        data: pts.map((p) => ({ x: p[0], y: p[1] })),
        borderColor: def.color,
        backgroundColor: def.color,
        borderWidth: def.width,
        borderDash: def.dash ?? [],
        fill: false,
        order: def.role === 'detail' ? 2 : 1,
      };
      datasets.push(line);
      this.meta.push({ kind: 'line', def, peakAt: this.def.robust ? peaksOf(pts) : undefined });
      this.lineByMetric.set(def.metric, line);
      if (h.bands && def.role === 'main' && bands < MAX_BANDS && pts.some((p) => p[2] !== p[3])) {
        bands++;
        const minIndex = datasets.length;
        datasets.push({
          label: `${def.label} min`,
          data: pts.map((p) => ({ x: p[0], y: p[2] })),
          borderWidth: 0,
          borderColor: 'transparent',
          backgroundColor: 'transparent',
          fill: false,
          order: 3,
        });
        this.meta.push({ kind: 'band-min', def });
        datasets.push({
          label: `${def.label} max`,
          data: pts.map((p) => ({ x: p[0], y: p[3] })),
          borderWidth: 0,
          borderColor: 'transparent',
          backgroundColor: withAlpha(def.color, 0.16),
          fill: { target: minIndex },
          order: 3,
        });
        this.meta.push({ kind: 'band-max', def });
      }
    }
    let compared = 0;
    this.gapMs = h.gapMs;
    this.compareOffset = h.compare?.offsetMs ?? 0;
    for (const def of h.compare ? this.def.series : []) {
      // Per-core lines and limits twice over would bury the comparison.
      if (def.role !== 'main') continue;
      const pts = h.compare?.series[def.metric] ?? [];
      datasets.push({
        label: `${def.label} (B)`,
        data: pts.map((p) => ({ x: p[0], y: p[1] })),
        borderColor: withAlpha(def.color, 0.6),
        backgroundColor: withAlpha(def.color, 0.6),
        borderWidth: def.width,
        borderDash: def.dash ? [2, 3] : [6, 4],
        fill: false,
        order: 1,
      });
      this.meta.push({ kind: 'compare', def, peakAt: this.def.robust ? peaksOf(pts) : undefined });
      if (pts.length > 0) compared++;
    }
    if (this.chart) {
      this.chart.data.datasets = datasets;
      this.chart.options.spanGaps = h.gapMs;
    } else {
      this.pending = { datasets, gapMs: h.gapMs };
    }
    setData(this.canvas, { range: h.range, source: h.source, loading: null, tier: h.tier ?? null, compare: compared });
    this.el.classList.remove('is-loading');
    this.flush(true);
  }

  /** Appends live samples (live mode only); drawn on the next flush(). */
  append(samples: readonly Sample[]): void {
    if (!this.live || this.loading) return;
    for (const s of samples) {
      for (const [metric, ds] of this.lineByMetric) {
        const v = s.m[metric];
        if (v === undefined || !Number.isFinite(v)) continue;
        const last = ds.data[ds.data.length - 1];
        if (last && s.t <= last.x) continue;
        ds.data.push({ x: s.t, y: v });
        this.dirty = true;
      }
      if (s.t > this.xMax) {
        this.xMax = s.t;
        this.xMin = s.t - this.windowMs;
      }
    }
    if (!this.dirty) return;
    for (const ds of this.lineByMetric.values()) {
      const data = ds.data;
      let drop = 0;
      while (drop < data.length && data[drop]!.x < this.xMin) drop++;
      drop = Math.max(drop, data.length - MAX_LIVE_POINTS);
      if (drop > 0) data.splice(0, drop);
    }
  }

  /** Redraws if anything changed since the last flush (no animation). */
  flush(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    const chart = this.chart;
    if (chart) {
      if (this.pending) {
        chart.data.datasets = this.pending.datasets;
        chart.options.spanGaps = this.pending.gapMs;
        this.pending = null;
      }
      const x = chart.options.scales?.x;
      let lo = this.xMin;
      if (x && this.xMax > this.xMin) {
        lo = this.live ? this.liveMin() : this.xMin;
        x.min = lo;
        x.max = this.xMax;
      }
      // Room above the plot for one row of experiment names per overlapping experiment.
      const lanes = laneCount(layoutBands(this.experiments, lo, this.xMax));
      chart.options.layout = { padding: { top: TOP_PAD + lanes * LANE_PX, right: 6 } };
      this.markIsolated();
      if (this.def.robust) this.fitAxis(lo, this.xMax);
      chart.update('none');
      if (this.def.robust) setData(this.canvas, { 'y-max': chart.scales.y?.max ?? '' });
    }
    const n = this.pointCount;
    setText(this.empty, this.loading ? 'Loading…' : 'No data in this range');
    this.el.classList.toggle('is-empty', n === 0);
    if (this.canvas.dataset.points !== String(n)) this.canvas.dataset.points = String(n);
  }

  /** Lone points (no neighbour within the gap limit) get a dot; every other point none. */
  private markIsolated(): void {
    let isolated = 0;
    this.meta.forEach((m, i) => {
      if (m.kind !== 'line' && m.kind !== 'compare') return;
      const ds = this.chart?.data.datasets[i];
      if (!ds) return;
      const data = ds.data;
      const xs = new Float64Array(data.length);
      for (let j = 0; j < data.length; j++) xs[j] = data[j]!.x;
      const lone = isolatedIndexes(xs, this.gapMs);
      isolated += lone.length;
      if (lone.length === 0) {
        // A shared option (not per point) keeps chart.js's fast path for the usual case.
        if (ds.pointRadius !== undefined) delete ds.pointRadius;
        return;
      }
      const radius = new Array<number>(data.length).fill(0);
      for (const j of lone) radius[j] = ISOLATED_RADIUS;
      ds.pointRadius = radius;
    });
    if (this.canvas.dataset.isolated !== String(isolated)) this.canvas.dataset.isolated = String(isolated);
  }

  /**
   * Robust charts: cuts the y axis at robustAxisMax of the points in [lo, hi] (lines and
   * compared lines, each point at its bucket's maximum), unless the user asked for the full
   * scale, and says so in the note beside the title.
   */
  private fitAxis(lo: number, hi: number): void {
    const y = this.chart?.options.scales?.y;
    if (!y) return;
    const values: number[] = [];
    const peaks = new Map<number, number>();
    const forEachPeak = (fn: (t: number, v: number) => void) => {
      this.meta.forEach((m, i) => {
        if (m.kind !== 'line' && m.kind !== 'compare') return;
        const data = this.chart!.data.datasets[i]?.data ?? [];
        for (const p of data) if (p.x >= lo && p.x <= hi) fn(p.x, Math.max(p.y, m.peakAt?.get(p.x) ?? -Infinity));
      });
    };
    forEachPeak((_, v) => values.push(v));
    const cut = robustAxisMax(values);
    if (cut !== null) forEachPeak((t, v) => v > cut && peaks.set(t, Math.max(peaks.get(t) ?? -Infinity, v)));
    const top = Math.max(...peaks.values());
    this.cut = cut !== null && !this.fullScale ? cut : null;
    y.max = this.cut ?? this.def.max;
    // The full scale reaches the highest peak, drawn (a band) or not (a bucket's mean is).
    y.suggestedMax = cut !== null && this.fullScale ? top : baseSuggestedMax(this.def.unit);
    setData(this.canvas, { 'y-cut': this.cut ?? '' });
    if (!this.cutNote || !this.scaleToggle) return;
    const shown = cut !== null;
    this.cutNote.hidden = !shown;
    this.scaleToggle.hidden = !shown;
    if (!shown) return;
    const n = peaks.size;
    const what = `${n} ${n === 1 ? 'point' : 'points'} above ${formatValue(cut, this.def.unit)}, up to ${formatValue(top, this.def.unit)}`;
    setText(this.cutNote, this.fullScale ? `Full scale: ${what}` : `▲ Axis cut: ${what}`);
  }

  /** On a cut axis, a ▲ at the top edge over each point above it, labelled with its real value. */
  private drawCutMarks(chart: Chart<'line', Pt[]>): void {
    const x = chart.scales.x;
    const area = chart.chartArea;
    const cut = this.cut;
    if (!this.def.robust) return;
    if (!x || !area || cut === null) {
      if (this.canvas.dataset.marked !== '0') this.canvas.dataset.marked = '0';
      return;
    }
    const points: { px: number; value: number; color: string }[] = [];
    this.meta.forEach((m, i) => {
      if ((m.kind !== 'line' && m.kind !== 'compare') || !chart.isDatasetVisible(i)) return;
      for (const p of chart.data.datasets[i]?.data ?? []) {
        const v = Math.max(p.y, m.peakAt?.get(p.x) ?? -Infinity);
        if (v <= cut || p.x < x.min || p.x > x.max) continue;
        points.push({ px: x.getPixelForValue(p.x), value: v, color: m.kind === 'compare' ? withAlpha(m.def.color, 0.6) : m.def.color });
      }
    });
    const marks = markerClusters(points, MARK_LABEL_PX);
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = `600 10px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;
    ctx.textBaseline = 'top';
    const panel = cssVar('--panel', '#fff');
    for (const mk of marks) {
      const top = area.top;
      ctx.fillStyle = mk.color;
      ctx.beginPath();
      ctx.moveTo(mk.px, top);
      ctx.lineTo(mk.px - 4.5, top + 7);
      ctx.lineTo(mk.px + 4.5, top + 7);
      ctx.closePath();
      ctx.fill();
      const text = formatValue(mk.value, this.def.unit);
      const w = ctx.measureText(text).width;
      // Beside the mark, inside the plot: left of it near the right edge.
      const left = mk.px + 6 + w + 2 > area.right ? mk.px - 6 - w : mk.px + 6;
      ctx.fillStyle = withAlpha(panel, 0.85);
      ctx.fillRect(left - 2, top, w + 4, 12);
      ctx.fillStyle = mk.color;
      ctx.fillText(text, left, top + 1);
    }
    ctx.restore();
    if (this.canvas.dataset.marked !== String(marks.length)) this.canvas.dataset.marked = String(marks.length);
  }

  /**
   * Left edge in live mode: the whole window once it is full, but while a device has only
   * reported for a few seconds the chart spans what there is (at least a minute) instead of
   * squeezing it against the right edge.
   */
  private liveMin(): number {
    let first = Infinity;
    for (const ds of this.lineByMetric.values()) if (ds.data.length > 0) first = Math.min(first, ds.data[0]!.x);
    if (!Number.isFinite(first)) return this.xMin;
    return Math.max(this.xMin, Math.min(first, this.xMax - MIN_LIVE_SPAN_MS));
  }

  /** The experiments to shade (device clock); open ones (end null) run to the newest point. */
  setExperiments(experiments: readonly ExperimentSpan[]): void {
    this.experiments = experiments;
    this.flush(true);
  }

  /** Bands behind the lines, names in the padding above the plot (chart.js plugin hook). */
  private drawExperiments(chart: Chart<'line', Pt[]>): void {
    const x = chart.scales.x;
    const area = chart.chartArea;
    if (!x || !area || this.experiments.length === 0) {
      this.markDrawn([]);
      return;
    }
    const bands = layoutBands(this.experiments, x.min, x.max, Math.max(this.xMax, x.max));
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = `600 10px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;
    ctx.textBaseline = 'bottom';
    const placed = bands.map((b) => {
      const px0 = Math.max(area.left, Math.min(area.right, x.getPixelForValue(b.x0)));
      const px1 = Math.max(area.left, Math.min(area.right, x.getPixelForValue(b.x1)));
      return { b, px0, px1: Math.max(px1, px0 + 2) };
    });
    for (const { b, px0, px1 } of placed) {
      ctx.fillStyle = withAlpha(b.color, 0.13);
      ctx.fillRect(px0, area.top, px1 - px0, area.bottom - area.top);
      ctx.fillStyle = withAlpha(b.color, 0.7);
      ctx.fillRect(px0, area.top, 1, area.bottom - area.top);
      if (!b.open) ctx.fillRect(px1 - 1, area.top, 1, area.bottom - area.top);
    }
    // Labels: from the band's start to the next label in the same row (or the plot's edge).
    for (const [i, { b, px0 }] of placed.entries()) {
      const next = placed.slice(i + 1).find((p) => p.b.lane === b.lane);
      const room = (next ? next.px0 : area.right) - px0 - 4;
      const text = room >= 14 ? fitLabel(b.name, room, (t) => ctx.measureText(t).width) : '';
      if (!text) continue;
      ctx.fillStyle = b.color;
      ctx.fillText(text, px0 + 2, area.top - 2 - b.lane * LANE_PX);
    }
    ctx.restore();
    this.markDrawn(bands.map((b) => b.id));
  }

  private markDrawn(ids: string[]): void {
    const v = ids.join(' ');
    if (v === this.drawnExperiments) return;
    this.drawnExperiments = v;
    this.canvas.dataset.experiments = v;
  }

  destroy(): void {
    this.drag?.destroy();
    this.drag = null;
    this.chart?.destroy();
    this.chart = null;
  }
}
