// The Pareto panel of the compare page: a chart.js scatter of the experiments, x a cost
// (latency p50 or energy per inference, chosen), y a quality score (chosen among those
// reported), marker area ∝ model size, the Pareto front as a dashed line through the
// non-dominated points, each point labelled with its experiment's name. The names are
// untrusted: they are only ever drawn as canvas text (labels and tooltips), never markup.
// Without any score the panel is a one-line explanation instead. Test hooks on the canvas:
// data-chart="pareto", data-points, data-front (ids on the front, space-separated), data-x,
// data-score.
import { Chart, LinearScale, LineElement, PointElement, ScatterController, Tooltip, type ChartDataset, type Plugin, type TooltipItem } from 'chart.js';
import { formatBytes, formatValue } from '../../../shared/format.js';
import { isFractionScore, formatScore } from './compare-rows-extra.js';
import { h, setData } from './dom.js';
import type { ExperimentStats } from './experiment-types.js';
import { fitLabel, formatCount, formatEnergy } from './experiments-model.js';
import { markerRadius, PARETO_X, paretoChoices, paretoPlot, type ParetoPlot, type ParetoPoint, type ParetoX } from './pareto.js';
import { cssVar, withAlpha } from './chart-colors.js';

Chart.register(ScatterController, PointElement, LineElement, LinearScale, Tooltip);

type Pt = ParetoPoint & { r: number; color: string };

const xFormat = (x: ParetoX) => (x === 'latency' ? (v: number) => formatValue(v, 'ms') : formatEnergy);

const LABEL_FONT = `600 11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;

export class ParetoPanel {
  readonly el: HTMLElement;
  private readonly canvas = h('canvas', { data: { chart: 'pareto' }, attrs: { role: 'img' } });
  private readonly box = h('div', { class: 'pareto-box' }, this.canvas);
  private readonly caption = h('p', { class: 'chart-note pareto-caption' });
  private readonly xSelect = h('select', { attrs: { 'aria-label': 'Cost on the x axis' }, data: { control: 'pareto-x' } });
  private readonly ySelect = h('select', { attrs: { 'aria-label': 'Score on the y axis' }, data: { control: 'pareto-score' } });
  private chart: Chart<'scatter', Pt[]> | null = null;
  private readonly plottable: boolean;

  constructor(
    private readonly exps: readonly ExperimentStats[],
    private readonly colors: ReadonlyMap<string, string>,
  ) {
    const { xs, scores } = paretoChoices(exps);
    const head = h('div', { class: 'panel-head' }, h('h2', { text: 'Speed against quality' }));
    this.el = h('section', { class: 'panel cmp-pareto', data: { panel: 'pareto' } }, head);
    if (scores.length === 0 || xs.length === 0) {
      this.plottable = false;
      this.el.dataset.state = 'empty';
      this.el.append(
        h('p', {
          class: 'pareto-empty',
          text:
            scores.length === 0
              ? 'No chart: none of these experiments reported a quality score (top-1, mAP, WER…), so there is no speed/quality trade-off to plot.'
              : 'No chart: none of these experiments has a latency or energy figure to plot its scores against.',
        }),
      );
      return;
    }
    this.plottable = true;
    for (const x of xs) this.xSelect.append(h('option', { text: PARETO_X[x].label, attrs: { value: x } }));
    for (const s of scores) this.ySelect.append(h('option', { text: s.name, attrs: { value: s.name } }));
    this.xSelect.value = xs[0]!;
    this.ySelect.value = scores[0]!.name;
    this.xSelect.addEventListener('change', () => this.draw());
    this.ySelect.addEventListener('change', () => this.draw());
    head.append(
      h(
        'div',
        { class: 'pareto-controls' },
        h('label', null, h('span', { text: 'x' }), this.xSelect),
        h('label', null, h('span', { text: 'y' }), this.ySelect),
      ),
    );
    this.el.append(this.box, this.caption);
  }

  /** Draws the chart; call once the panel is in the document (chart.js sizes to its box). */
  mount(): void {
    if (this.plottable && !this.chart) this.draw();
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }

  private draw(): void {
    const x = this.xSelect.value as ParetoX;
    const score = this.ySelect.value;
    const plot = paretoPlot(this.exps, x, score);
    const largest = Math.max(0, ...plot.points.map((p) => p.size ?? 0));
    const pts: Pt[] = plot.points.map((p) => ({ ...p, r: markerRadius(p.size, largest), color: this.colors.get(p.name) ?? '#4e79a7' }));
    const onFront = new Set(plot.front.map((p) => p.id));
    const frontPts = pts.filter((p) => onFront.has(p.id)).sort((a, b) => a.x - b.x);
    setData(this.canvas, { points: pts.length, front: plot.front.map((p) => p.id).join(' '), x, score });
    this.canvas.setAttribute('aria-label', `Scatter of ${PARETO_X[x].label.toLowerCase()} against ${score}, ${pts.length} experiments, ${frontPts.length} on the Pareto front`);
    this.caption.textContent = caption(plot, score);
    this.chart?.destroy();
    this.chart = this.build(pts, frontPts, onFront, x, score, plot.better);
  }

  private build(pts: Pt[], front: Pt[], onFront: ReadonlySet<string>, x: ParetoX, score: string, better: 'higher' | 'lower'): Chart<'scatter', Pt[]> {
    const text = cssVar('--chart-text', '#555');
    const fg = cssVar('--fg', '#1c2430');
    const grid = cssVar('--chart-grid', 'rgba(0,0,0,0.08)');
    const fx = xFormat(x);
    const fraction = isFractionScore(pts.map((p) => p.y));
    const fy = (v: number) => (fraction ? `${(v * 100).toFixed(Math.abs(v * 100 - Math.round(v * 100)) < 1e-9 ? 0 : 1)} %` : formatScore(v, false));
    const labels: Plugin<'scatter'> = {
      id: 'paretoLabels',
      afterDatasetsDraw: (chart) => {
        const meta = chart.getDatasetMeta(1);
        const ctx = chart.ctx;
        const area = chart.chartArea;
        ctx.save();
        ctx.font = LABEL_FONT;
        ctx.fillStyle = fg;
        ctx.textBaseline = 'middle';
        const taken: { x0: number; x1: number; y: number }[] = [];
        // Repeats of one name sit close together: one label for a cluster of them.
        const named = new Map<string, { x: number; y: number }[]>();
        const order = pts.map((p, i) => i).sort((a, b) => Number(onFront.has(pts[b]!.id)) - Number(onFront.has(pts[a]!.id)));
        order.forEach((i) => {
          const p = pts[i];
          const el = meta.data[i];
          if (!p || !el) return;
          const near = named.get(p.name) ?? [];
          if (near.some((q) => Math.hypot(q.x - el.x, q.y - el.y) < 70)) return;
          near.push({ x: el.x, y: el.y });
          named.set(p.name, near);
          // The label goes beside the whole cluster, not over its other markers.
          let left = el.x - p.r;
          let rightEdge = el.x + p.r;
          pts.forEach((q, j) => {
            const o = meta.data[j];
            if (!o || q.name !== p.name || Math.hypot(o.x - el.x, o.y - el.y) >= 70) return;
            left = Math.min(left, o.x - q.r);
            rightEdge = Math.max(rightEdge, o.x + q.r);
          });
          const label = fitLabel(p.name, Math.min(170, area.width * 0.45), (s) => ctx.measureText(s).width);
          if (!label) return;
          const w = ctx.measureText(label).width;
          const right = rightEdge + 4 + w <= area.right;
          const x0 = right ? rightEdge + 4 : left - 4 - w;
          let y = el.y;
          for (let k = 0; k < 4 && taken.some((t) => Math.abs(t.y - y) < 12 && x0 < t.x1 && x0 + w > t.x0); k++) y += 13;
          taken.push({ x0, x1: x0 + w, y });
          ctx.textAlign = 'left';
          ctx.fillText(label, x0, y);
        });
        ctx.restore();
      },
    };
    const frontSet: ChartDataset<'scatter', Pt[]> = {
      label: 'Pareto front',
      data: front,
      showLine: true,
      borderColor: withAlpha(text.startsWith('#') ? text : '#5d6878', 0.8),
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      pointHitRadius: 0,
      pointHoverRadius: 0,
      order: 2,
    };
    const pointSet: ChartDataset<'scatter', Pt[]> = {
      label: 'Experiments',
      data: pts,
      pointRadius: pts.map((p) => p.r),
      pointHoverRadius: pts.map((p) => p.r + 2),
      pointBackgroundColor: pts.map((p) => withAlpha(p.color, 0.55)),
      pointBorderColor: pts.map((p) => (onFront.has(p.id) ? fg : p.color)),
      pointBorderWidth: pts.map((p) => (onFront.has(p.id) ? 2 : 1)),
      order: 1,
    };
    return new Chart<'scatter', Pt[]>(this.canvas, {
      type: 'scatter',
      data: { datasets: [frontSet, pointSet] },
      plugins: [labels],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: { xAxisKey: 'x', yAxisKey: 'y' },
        layout: { padding: { top: 14, right: 12, left: 4, bottom: 2 } },
        events: ['mousemove', 'mouseout', 'click', 'touchstart', 'touchmove'],
        scales: {
          x: {
            type: 'linear',
            grace: '10%',
            grid: { color: grid },
            border: { display: false },
            title: { display: true, text: `${PARETO_X[x].label} (lower is better)`, color: text, font: { size: 11 } },
            ticks: { color: text, maxTicksLimit: 6, font: { size: 11 }, callback: (v) => (Number(v) === 0 ? '0' : fx(Number(v))) },
          },
          y: {
            type: 'linear',
            grace: '10%',
            grid: { color: grid },
            border: { display: false },
            title: { display: true, text: `${score} (${better} is better)`, color: text, font: { size: 11 } },
            ticks: { color: text, maxTicksLimit: 6, font: { size: 11 }, callback: (v) => fy(Number(v)) },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            animation: false,
            filter: (item: TooltipItem<'scatter'>) => item.datasetIndex === 1,
            callbacks: {
              title: (items) => (items[0] ? (items[0].raw as Pt).name : ''),
              label: (item) => {
                const p = item.raw as Pt;
                const lines = [`${PARETO_X[x].label}: ${fx(p.x)}`, `${score}: ${formatScore(p.y, fraction)}`];
                const e = this.exps.find((ex) => ex.id === p.id);
                if (e && (e.modelBytes !== null || e.params !== null)) {
                  lines.push(`Model: ${[e.modelBytes !== null ? formatBytes(e.modelBytes) : '', e.params !== null ? `${formatCount(e.params)} params` : ''].filter(Boolean).join(', ')}`);
                }
                if (onFront.has(p.id)) lines.push('On the Pareto front');
                return lines;
              },
            },
          },
        },
      },
    });
  }
}

function caption(plot: ParetoPlot, score: string): string {
  const parts = [`Dashed line and dark rings: the Pareto front, where no other experiment is both cheaper and better on ${score}.`];
  parts.push(plot.sizeBy === 'modelBytes' ? 'Marker area ∝ model size.' : plot.sizeBy === 'params' ? 'Marker area ∝ parameter count.' : 'No model sizes given: markers all alike.');
  if (plot.missing.length) parts.push(`Not plotted (no figure or no such score): ${plot.missing.join(', ')}.`);
  return parts.join(' ');
}
