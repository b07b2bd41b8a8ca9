// The compare page's latency distribution and run timelines, from each experiment's
// GET /api/v1/experiments/:id/timeline (a few at a time). The distribution: every run's CDF
// overlaid on a log latency axis, coloured as the page colours its name, with p50 and p99
// guides; where a name ran more than once its trials can be merged into one curve. The
// timelines: a card per experiment with three strips on one time axis: its p50 and p99 per
// second (solid and dashed), its calls per second, and the power where the device has a sensor;
// every card on the same y axes, the warm-up shaded. Names are untrusted: text nodes and
// canvas text only. Test hooks: canvas[data-chart="cdf"] (data-lines, data-mode, data-ids),
// figure.tl-card[data-experiment-id] (data-power) with canvas[data-chart="timeline"] (data-points,
// data-step-ms), "timeline-rate" and "timeline-power" (data-points); data-state on each panel.
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, type ChartDataset, type Plugin, type Scale } from 'chart.js';
import { formatValue } from '../../../shared/format.js';
import type { ExperimentStats, ExperimentTimeline } from '../../../shared/live.js';
import { ApiError, getJson } from './api.js';
import { axisStep, cdfQuantile, formatRunTime, logTicks, mergeCdfs, runTimeStep, timelineScales, type CdfPoint, type TimelineScales } from './compare-series.js';
import { h, setData, setText } from './dom.js';
import { fullTime } from './time-axis.js';
import { cssVar, withAlpha } from './chart-colors.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Filler, Tooltip, Legend);

/** Points asked per timeline: plenty for a card a few hundred pixels wide. */
const TIMELINE_POINTS = 800;
/** Timelines fetched at once. */
const CONCURRENCY = 4;
/** Cards drawn before "Show all": each holds one or two charts. */
const SHOWN_TIMELINES = 12;
const THROUGHPUT_COLOR = '#8a96a8';
const FONT = `600 10px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;

type Pt = { x: number; y: number | null };

export function timelineUrl(id: string, points = TIMELINE_POINTS): string {
  return `api/v1/experiments/${encodeURIComponent(id)}/timeline?points=${points}`;
}

const ms = (v: number | null) => formatValue(v, 'ms');
const pct = (f: number) => `${(f * 100).toFixed(f >= 0.995 && f < 1 ? 1 : 0)} %`;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface Loaded {
  e: ExperimentStats;
  timeline: ExperimentTimeline | null;
  error: string | null;
}

export class CompareCharts {
  readonly distribution: HTMLElement;
  readonly timelines: HTMLElement;
  private readonly cdfCanvas = h('canvas', { data: { chart: 'cdf', lines: 0, mode: 'runs', ids: '' }, attrs: { role: 'img', 'aria-label': 'Latency distribution of each experiment' } });
  private readonly cdfBox = h('div', { class: 'cdf-box' }, this.cdfCanvas);
  private readonly cdfKeys = h('ul', { class: 'cdf-keys', attrs: { 'aria-label': 'Experiments in the distribution chart' } });
  private readonly cdfNote = h('p', { class: 'chart-note cdf-note', text: 'Loading the timings…' });
  private readonly modeSelect = h('select', { attrs: { 'aria-label': 'Curves of the distribution chart' }, data: { control: 'cdf-mode' } });
  private readonly grid = h('div', { class: 'tl-grid' });
  private readonly tlNote = h('p', { class: 'chart-note tl-note', text: 'Loading the timelines…' });
  private readonly more = h('button', { class: 'btn tl-more', attrs: { type: 'button', hidden: true }, data: { action: 'all-timelines' } });
  private readonly abort = new AbortController();
  private cdfChart: Chart<'line', Pt[]> | null = null;
  private cards: TimelineCard[] = [];
  private loaded: Loaded[] | null = null;
  private mounted = false;
  private showAll = false;

  constructor(
    private readonly exps: readonly ExperimentStats[],
    private readonly colors: ReadonlyMap<string, string>,
    /** Timelines already fetched on this page (a baseline switch renders again). */
    private readonly cache: Map<string, ExperimentTimeline> = new Map(),
  ) {
    const repeated = new Set(exps.map((e) => e.name)).size < exps.length;
    const controls = h('div', { class: 'pareto-controls' });
    if (repeated) {
      this.modeSelect.append(h('option', { text: 'Each run', attrs: { value: 'runs' } }), h('option', { text: 'Trials merged per name', attrs: { value: 'names' } }));
      this.modeSelect.addEventListener('change', () => this.drawCdf());
      controls.append(h('label', null, h('span', { text: 'curves' }), this.modeSelect));
    }
    this.distribution = h(
      'section',
      { class: 'panel cmp-distribution', data: { panel: 'distribution', state: 'loading' } },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { text: 'Latency distribution' }),
        h('span', { class: 'panel-sub', text: 'share of measured calls at or below each latency (log scale)' }),
        repeated ? controls : null,
      ),
      this.cdfBox,
      this.cdfKeys,
      this.cdfNote,
    );
    this.more.addEventListener('click', () => {
      this.showAll = true;
      this.drawTimelines();
    });
    this.timelines = h(
      'section',
      { class: 'panel cmp-timelines', data: { panel: 'timelines', state: 'loading' } },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { text: 'Over the run' }),
        h('span', { class: 'panel-sub', text: 'each second: latency p50 (solid) and p99 (dashed), calls per second, and power where the device has a sensor; the same axes in every card, the warm-up shaded' }),
      ),
      this.tlNote,
      this.grid,
      this.more,
    );
  }

  /** Call once the panels are in the document (chart.js sizes to its box); draws what has loaded. */
  mount(): void {
    this.mounted = true;
    if (this.loaded) this.draw();
  }

  /** Fetches every experiment's timeline (cached ones are not asked again), then draws. */
  async load(): Promise<void> {
    const signal = this.abort.signal;
    const loaded = await mapLimit(this.exps, CONCURRENCY, async (e): Promise<Loaded> => {
      const hit = this.cache.get(e.id);
      if (hit) return { e, timeline: hit, error: null };
      try {
        const timeline = await getJson<ExperimentTimeline>(timelineUrl(e.id), signal);
        // A running experiment keeps growing: only finished ones are kept.
        if (timeline.end !== null) this.cache.set(e.id, timeline);
        return { e, timeline, error: null };
      } catch (err) {
        return { e, timeline: null, error: err instanceof ApiError ? err.message : String((err as Error).message ?? err) };
      }
    });
    if (signal.aborted) return;
    this.loaded = loaded;
    if (this.mounted) this.draw();
  }

  destroy(): void {
    this.abort.abort();
    this.cdfChart?.destroy();
    this.cdfChart = null;
    for (const c of this.cards) c.destroy();
    this.cards = [];
  }

  private draw(): void {
    this.drawCdf();
    this.drawTimelines();
  }

  /** The curves: one per run, or (merged) one per name. */
  private curves(): { key: string; name: string; ids: string[]; count: number; cdf: CdfPoint[]; runs: Loaded[] }[] {
    const withCdf = (this.loaded ?? []).filter((l) => l.timeline && l.timeline.distribution.cdf.length > 0);
    if (this.modeSelect.value !== 'names') {
      return withCdf.map((l) => ({ key: l.e.id, name: l.e.name, ids: [l.e.id], count: l.timeline!.distribution.count, cdf: l.timeline!.distribution.cdf, runs: [l] }));
    }
    const byName = new Map<string, Loaded[]>();
    for (const l of withCdf) byName.set(l.e.name, [...(byName.get(l.e.name) ?? []), l]);
    return [...byName].map(([name, runs]) => {
      const parts = runs.map((l) => l.timeline!.distribution);
      return { key: name, name, ids: runs.map((l) => l.e.id), count: parts.reduce((n, p) => n + p.count, 0), cdf: mergeCdfs(parts), runs };
    });
  }

  private drawCdf(): void {
    const loaded = this.loaded ?? [];
    const mode = this.modeSelect.value === 'names' ? 'names' : 'runs';
    const curves = this.curves();
    const failed = loaded.filter((l) => l.error !== null);
    const empty = loaded.filter((l) => l.timeline && l.timeline.distribution.count === 0);
    setData(this.cdfCanvas, { lines: curves.length, mode, ids: curves.flatMap((c) => c.ids).join(' ') });
    this.distribution.dataset.state = failed.length === loaded.length && loaded.length > 0 ? 'error' : curves.length > 0 ? 'ok' : 'empty';
    const notes: string[] = [];
    if (curves.length === 0 && failed.length < loaded.length) notes.push('No timings in these experiments: no distribution to draw.');
    if (empty.length) notes.push(`No timings in ${empty.map((l) => l.e.name).join(', ')}.`);
    if (failed.length) notes.push(`Could not load ${failed.map((l) => `${l.e.name} (${l.error})`).join(', ')}.`);
    if (curves.length) notes.push('Dashed lines: p50 and p99. Each latency is a histogram bucket’s (within 1 %); warm-up calls are not included.');
    setText(this.cdfNote, notes.join(' '));
    this.cdfBox.hidden = curves.length === 0;
    this.cdfKeys.replaceChildren(...this.legend(curves, mode));
    this.cdfChart?.destroy();
    this.cdfChart = curves.length > 0 ? this.buildCdf(curves) : null;
    this.cdfCanvas.setAttribute('aria-label', `Latency distribution, ${curves.length} ${mode === 'names' ? 'names' : 'runs'}: ${curves.map((c) => `${c.name} p50 ${ms(cdfQuantile(c.cdf, 0.5))}`).join('; ')}`);
  }

  /** One key per name (the colour is the name's): its runs and p50/p99, or their range over its runs. */
  private legend(curves: ReturnType<CompareCharts['curves']>, mode: 'runs' | 'names'): HTMLElement[] {
    const byName = new Map<string, { p50: number[]; p99: number[]; runs: number }>();
    for (const c of curves) {
      const k = byName.get(c.name) ?? { p50: [], p99: [], runs: 0 };
      k.p50.push(cdfQuantile(c.cdf, 0.5)!);
      k.p99.push(cdfQuantile(c.cdf, 0.99)!);
      k.runs += c.runs.length;
      byName.set(c.name, k);
    }
    const range = (xs: number[]) => {
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      return lo === hi ? ms(lo) : `${ms(lo)}–${ms(hi)}`;
    };
    return [...byName].map(([name, k]) => {
      const dot = h('span', { class: 'exp-dot' });
      dot.style.background = this.colors.get(name) ?? '';
      const runs = k.runs > 1 ? `${k.runs} runs${mode === 'names' ? ' merged' : ''} · ` : '';
      return h(
        'li',
        { data: { name } },
        dot,
        h('span', { class: 'cmp-name', text: name, attrs: { title: name } }),
        h('span', { class: 'cdf-key-figures', text: `${runs}p50 ${range(k.p50)} · p99 ${range(k.p99)}` }),
      );
    });
  }

  private buildCdf(curves: ReturnType<CompareCharts['curves']>): Chart<'line', Pt[]> {
    const text = cssVar('--chart-text', '#555');
    const grid = cssVar('--chart-grid', 'rgba(0,0,0,0.08)');
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of curves) {
      lo = Math.min(lo, c.cdf[0]![0]);
      hi = Math.max(hi, c.cdf[c.cdf.length - 1]![0]);
    }
    const min = lo / 1.08;
    const max = hi === lo ? hi * 1.5 : hi * 1.08;
    const datasets: ChartDataset<'line', Pt[]>[] = curves.map((c) => {
      const color = this.colors.get(c.name) ?? '#4e79a7';
      // A curve starts from 0 just below its fastest call.
      const data: Pt[] = [{ x: c.cdf[0]![0] / 1.01, y: 0 }, ...c.cdf.map(([x, f]) => ({ x, y: f }))];
      return { label: c.name, data, borderColor: color, backgroundColor: color, borderWidth: curves.length > 8 ? 1.2 : 1.8, pointRadius: 0, pointHitRadius: 4, pointHoverRadius: 3, fill: false, tension: 0 };
    });
    const guides: Plugin<'line'> = {
      id: 'cdfGuides',
      beforeDatasetsDraw: (chart) => {
        const y = chart.scales.y;
        const area = chart.chartArea;
        if (!y || !area) return;
        const ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = withAlpha(text.startsWith('#') ? text : '#5d6878', 0.55);
        ctx.fillStyle = text;
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = 1;
        ctx.font = FONT;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'bottom';
        for (const [q, label] of [[0.5, 'p50'], [0.99, 'p99']] as const) {
          const py = Math.round(y.getPixelForValue(q)) + 0.5;
          ctx.beginPath();
          ctx.moveTo(area.left, py);
          ctx.lineTo(area.right, py);
          ctx.stroke();
          ctx.fillText(label, area.left + 4, py - 2);
        }
        ctx.restore();
      },
    };
    return new Chart<'line', Pt[]>(this.cdfCanvas, {
      type: 'line',
      data: { datasets },
      plugins: [guides],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        events: ['mousemove', 'mouseout', 'click', 'touchstart', 'touchmove'],
        interaction: { mode: 'nearest', intersect: false },
        layout: { padding: { top: 6, right: 10 } },
        scales: {
          x: {
            type: 'logarithmic',
            min,
            max,
            grid: { color: grid },
            border: { display: false },
            title: { display: true, text: 'latency (log scale)', color: text, font: { size: 11 } },
            ticks: { color: text, autoSkip: false, maxRotation: 0, font: { size: 11 }, callback: (v) => ms(Number(v)) },
            afterBuildTicks: (scale: Scale) => {
              scale.ticks = logTicks(scale.min, scale.max, scale.width || 300).map((value) => ({ value }));
            },
          },
          y: {
            type: 'linear',
            min: 0,
            max: 1,
            grid: { color: grid },
            border: { display: false },
            ticks: { color: text, stepSize: 0.25, font: { size: 11 }, callback: (v) => `${Math.round(Number(v) * 100)} %` },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            animation: false,
            callbacks: {
              title: () => '',
              label: (item) => `${item.dataset.label ?? ''}: ${pct(item.parsed.y ?? 0)} ≤ ${ms(item.parsed.x ?? null)}`,
            },
          },
        },
      },
    });
  }

  private drawTimelines(): void {
    for (const c of this.cards) c.destroy();
    this.cards = [];
    const loaded = this.loaded ?? [];
    const timelines = loaded.flatMap((l) => (l.timeline ? [l.timeline] : []));
    const scales = timelineScales(timelines);
    const shown = this.showAll ? loaded : loaded.slice(0, SHOWN_TIMELINES);
    this.cards = shown.map((l) => new TimelineCard(l, this.colors.get(l.e.name) ?? '#4e79a7', scales));
    this.grid.replaceChildren(...this.cards.map((c) => c.el));
    for (const c of this.cards) c.mount();
    const hidden = loaded.length - shown.length;
    this.more.hidden = hidden <= 0;
    setText(this.more, `Show the other ${hidden} ${hidden === 1 ? 'timeline' : 'timelines'}`);
    const failed = loaded.filter((l) => l.error !== null).length;
    this.timelines.dataset.state = loaded.length > 0 && failed === loaded.length ? 'error' : 'ok';
    const long = timelines.find((t) => t.stepMs > 1000);
    setText(this.tlNote, long ? 'Long runs are drawn in wider steps (each card says its step): each step’s p50 and p99 are of all its calls.' : '');
    this.tlNote.hidden = !long;
  }
}

type StripKind = 'latency' | 'rate' | 'power';
/** Room for the y labels of every strip, so the strips' plots line up. */
const Y_AXIS_PX = 58;

/** One experiment's card: three strips on one time axis, latency, calls per second and power. */
class TimelineCard {
  readonly el: HTMLElement;
  private readonly canvases: Partial<Record<StripKind, HTMLCanvasElement>> = {};
  private charts: Chart<'line', Pt[]>[] = [];

  constructor(
    private readonly l: Loaded,
    private readonly color: string,
    private readonly scales: TimelineScales,
  ) {
    const { e, timeline: t } = l;
    const dot = h('span', { class: 'exp-dot' });
    dot.style.background = color;
    const step = t && t.stepMs > 1000 ? ` · ${formatRunTime(t.stepMs / 1000)} steps` : '';
    const head = h(
      'figcaption',
      { class: 'tl-head' },
      h('span', { class: 'headline-name' }, dot, h('span', { class: 'cmp-name', text: e.name, attrs: { title: e.name } })),
      h('span', { class: 'tl-meta', text: `${e.deviceName || e.deviceId} · ${fullTime(e.start)}${step}` }),
    );
    const canvas = (kind: StripKind, points: number, label: string) =>
      (this.canvases[kind] = h('canvas', {
        data: { chart: kind === 'latency' ? 'timeline' : `timeline-${kind}`, 'experiment-id': e.id, points, ...(kind === 'latency' ? { 'step-ms': t?.stepMs ?? 0 } : {}) },
        attrs: { role: 'img', 'aria-label': `${label} over the run of ${e.name}` },
      }));
    const parts: Node[] = [head];
    if (l.error !== null) parts.push(h('p', { class: 'tl-empty', text: `Could not load the timeline: ${l.error}` }));
    else if (t && t.latency.length === 0 && !t.power) parts.push(h('p', { class: 'tl-empty', text: 'No timings or power samples in this run.' }));
    else if (t) {
      if (t.latency.length > 0) {
        parts.push(h('div', { class: 'tl-box tl-latency' }, canvas('latency', t.latency.length, 'Latency p50 and p99')));
        parts.push(h('div', { class: 'tl-box tl-strip' }, canvas('rate', t.latency.length, 'Calls per second')));
      } else parts.push(h('p', { class: 'tl-empty', text: 'No timings in this run.' }));
      if (t.power) parts.push(h('div', { class: 'tl-box tl-strip' }, canvas('power', t.power.points.length, 'Power')));
      else parts.push(h('p', { class: 'tl-nopower', text: `No power sensor on ${e.deviceName || e.deviceId}.` }));
    }
    this.el = h('figure', { class: 'tl-card', data: { 'experiment-id': e.id, power: t?.power ? t.power.source : 'none' } }, ...parts);
  }

  mount(): void {
    const t = this.l.timeline;
    if (!t) return;
    // Seconds from the start, over the run's own length (timings beyond it stretch it).
    const rel = (ts: number) => (ts - t.start) / 1000;
    const half = t.stepMs / 2000;
    let x0 = 0;
    let x1 = Math.max(1, rel(t.rangeEnd));
    if (t.latency.length > 0) {
      x0 = Math.min(x0, rel(t.latency[0]![0]));
      x1 = Math.max(x1, rel(t.latency[t.latency.length - 1]![0]) + 2 * half);
    }
    const warm = t.measuredFrom !== null && t.measuredFrom > t.start ? rel(t.measuredFrom) : null;
    const at = (p: (typeof t.latency)[number]) => rel(p[0]) + half;
    // The time axis is drawn under the last strip only.
    const last: StripKind = this.canvases.power ? 'power' : 'rate';
    const x = { x0, x1, warm, last };
    if (this.canvases.latency?.isConnected) {
      this.charts.push(
        this.build('latency', x, [
          { label: 'p50', data: t.latency.map((p) => ({ x: at(p), y: p[3] })), borderColor: this.color, backgroundColor: this.color, borderWidth: 1.7 },
          { label: 'p99', data: t.latency.map((p) => ({ x: at(p), y: p[4] })), borderColor: withAlpha(this.color, 0.8), backgroundColor: withAlpha(this.color, 0.8), borderWidth: 1.2, borderDash: [4, 3] },
        ]),
      );
    }
    if (this.canvases.rate?.isConnected) {
      this.charts.push(
        this.build('rate', x, [
          { label: 'calls/s', data: t.latency.map((p) => ({ x: at(p), y: p[1] })), borderColor: THROUGHPUT_COLOR, backgroundColor: withAlpha(THROUGHPUT_COLOR, 0.18), borderWidth: 1.2, fill: 'origin' },
        ]),
      );
    }
    if (t.power && this.canvases.power?.isConnected) {
      this.charts.push(
        this.build('power', x, [
          { label: 'power', data: t.power.points.map(([ts, w]) => ({ x: rel(ts), y: w })), borderColor: this.color, backgroundColor: withAlpha(this.color, 0.14), borderWidth: 1.2, fill: 'origin' },
        ]),
      );
    }
  }

  private build(kind: StripKind, xr: { x0: number; x1: number; warm: number | null; last: StripKind }, datasets: ChartDataset<'line', Pt[]>[]): Chart<'line', Pt[]> {
    const text = cssVar('--chart-text', '#555');
    const grid = cssVar('--chart-grid', 'rgba(0,0,0,0.08)');
    const unit = kind === 'latency' ? 'ms' : kind === 'rate' ? '/s' : 'W';
    const { warm, x0, x1 } = xr;
    const warmup: Plugin<'line'> = {
      id: 'warmupShade',
      beforeDatasetsDraw: (chart) => {
        const x = chart.scales.x;
        const area = chart.chartArea;
        if (warm === null || !x || !area) return;
        const px0 = Math.max(area.left, x.getPixelForValue(Math.max(0, x0)));
        const px1 = Math.min(area.right, x.getPixelForValue(warm));
        if (!(px1 > px0)) return;
        const ctx = chart.ctx;
        ctx.save();
        ctx.fillStyle = withAlpha(text.startsWith('#') ? text : '#5d6878', 0.1);
        ctx.fillRect(px0, area.top, px1 - px0, area.bottom - area.top);
        if (kind === 'latency') {
          ctx.fillStyle = text;
          ctx.font = FONT;
          ctx.textBaseline = 'top';
          ctx.fillText('warm-up', px0 + 3, area.top + 2);
        }
        ctx.restore();
      },
    };
    const max = kind === 'latency' ? this.scales.latencyMaxMs : kind === 'rate' ? this.scales.perSMax : this.scales.powerMaxW;
    const withX = kind === xr.last;
    return new Chart<'line', Pt[]>(this.canvases[kind]!, {
      type: 'line',
      data: { datasets: datasets.map((d) => ({ pointRadius: 0, pointHitRadius: 4, pointHoverRadius: 3, fill: false, tension: 0, ...d })) },
      plugins: [warmup],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        spanGaps: false,
        events: ['mousemove', 'mouseout', 'click', 'touchstart', 'touchmove'],
        interaction: { mode: 'index', intersect: false },
        // Room for the last time label on every strip, so their plots end at one x.
        layout: { padding: { top: 4, right: 18 } },
        scales: {
          x: {
            type: 'linear',
            min: x0,
            max: x1,
            grid: { color: grid },
            border: { display: false },
            ticks: { color: text, autoSkip: false, maxRotation: 0, font: { size: 10 }, display: withX, callback: (v) => formatRunTime(Number(v)) },
            afterBuildTicks: (scale: Scale) => {
              const step = runTimeStep(scale.max - scale.min, Math.max(2, Math.floor((scale.width || 300) / 70)));
              const ticks: { value: number }[] = [];
              for (let v = Math.ceil(scale.min / step) * step; v <= scale.max + 1e-9; v += step) ticks.push({ value: v });
              scale.ticks = ticks;
            },
          },
          y: {
            type: 'linear',
            min: 0,
            max: max ?? undefined,
            grid: { color: grid },
            border: { display: false },
            ticks: {
              color: kind === 'rate' ? THROUGHPUT_COLOR : text,
              font: { size: 10 },
              ...(max !== null ? { stepSize: axisStep(max, kind === 'latency' ? 4 : 2) } : { maxTicksLimit: kind === 'latency' ? 5 : 3 }),
              callback: (v) => (Number(v) === 0 ? '0' : formatValue(Number(v), unit)),
            },
            afterFit: (scale: Scale) => {
              scale.width = Y_AXIS_PX;
            },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            animation: false,
            callbacks: {
              title: (items) => (items[0] ? `${formatRunTime(items[0].parsed.x ?? 0)} in` : ''),
              label: (item) => `${item.dataset.label ?? ''}: ${formatValue(item.parsed.y, unit)}`,
            },
          },
        },
      },
    });
  }

  destroy(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }
}
