// The comparison page (`#/compare?ids=a,b&baseline=a`): first what differs in the run
// conditions (a warning box), the headline per variant run as several trials ("δ = 2.01×
// [1.96–2.05] faster (p = 0.008, 5 vs 5 trials)") with its warnings, and notes on what the
// figures include (warm-up, dropped timings, power sensors); then the table, one column per
// experiment, the baseline marked and switchable, the versus-baseline rows (speedup, energy,
// compression) first and tinted, then quality scores, run, latency, warm-up, power, resources,
// model and run conditions (scrolling sideways on a phone, with a cue); the speed/quality
// Pareto chart; beside the table where it leaves room (else below it), the latency distribution
// and a timeline per experiment (compare-charts.ts, from a hub that serves them); repeats of
// one name with their trials' p50s as dots, the trial medians with 95 % intervals and mean ±
// stdev; export links for CSV, Markdown, JSON and an HTML report
// straight from the API. Experiment, device and score names, tags and conditions are
// untrusted: textContent only (the chart draws names as canvas text).
import { formatValue } from '../../../shared/format.js';
import { ApiError, compareExperiments } from './api.js';
import { CompareCharts } from './compare-charts.js';
import { estimateLines, figuresOrigin, headlineSentence, headlines, trialP50s } from './compare-summary.js';
import { clear, h, setText } from './dom.js';
import type { ComparisonResponse, ExperimentStats, RepeatGroup } from './experiment-types.js';
import type { ExperimentTimeline } from '../../../shared/live.js';
import { bandColors, compareApiUrl, compareHref, compareRows, experimentsHref, repeatLines } from './experiments-model.js';
import type { Page } from './page.js';
import { ParetoPanel } from './pareto-chart.js';
import { deviceHref } from './router.js';
import { scrollCue } from './scroll-cue.js';
import type { FleetStore } from './store.js';
import { fullTime } from './time-axis.js';

const EXPORTS: { format: 'csv' | 'json' | 'md' | 'html'; label: string; ext: string }[] = [
  { format: 'csv', label: 'CSV', ext: 'csv' },
  { format: 'md', label: 'Markdown', ext: 'md' },
  { format: 'json', label: 'JSON', ext: 'json' },
  { format: 'html', label: 'HTML report', ext: 'html' },
];

const ms = (v: number) => formatValue(v, 'ms');

export class ComparePage implements Page {
  readonly el: HTMLElement;
  private readonly sub = h('p', { class: 'fleet-summary' });
  private readonly exports = h('div', { class: 'exp-exports', attrs: { role: 'group', 'aria-label': 'Export' } });
  private readonly content = h('div', { class: 'compare-content' });
  private abort: AbortController | null = null;
  private data: ComparisonResponse | null = null;
  private pareto: ParetoPanel | null = null;
  private charts: CompareCharts | null = null;
  /** Finished experiments' timelines, kept while the page lives (a baseline switch renders again). */
  private readonly timelineCache = new Map<string, ExperimentTimeline>();
  private disposers: (() => void)[] = [];

  constructor(
    private readonly store: FleetStore,
    readonly ids: readonly string[],
    private baseline: string | null,
  ) {
    this.el = h(
      'section',
      { class: 'page compare-page', data: { page: 'compare' } },
      h('nav', { class: 'crumbs' }, h('a', { attrs: { href: experimentsHref() }, text: '← Experiments' })),
      h('div', { class: 'page-head' }, h('h1', { text: 'Compare experiments' }), this.sub, this.exports),
      this.content,
    );
  }

  mount(): void {
    document.title = 'Compare · edgewatch';
    void this.load();
  }

  destroy(): void {
    this.abort?.abort();
    this.teardown();
  }

  /** Stops what the last render started: the chart, the scroll watchers. */
  private teardown(): void {
    this.pareto?.destroy();
    this.pareto = null;
    this.charts?.destroy();
    this.charts = null;
    for (const d of this.disposers) d();
    this.disposers = [];
  }

  /** Same experiments, another baseline (the radio changed the URL). */
  setBaseline(baseline: string | null): void {
    if (baseline === this.baseline) return;
    this.baseline = baseline;
    void this.load();
  }

  sameIds(ids: readonly string[]): boolean {
    return ids.length === this.ids.length && ids.every((id, i) => id === this.ids[i]);
  }

  private renderExports(): void {
    clear(this.exports);
    for (const x of EXPORTS) {
      this.exports.append(
        h('a', {
          class: 'btn',
          text: x.label,
          attrs: { href: compareApiUrl(this.ids, this.baseline, x.format), download: `edgewatch-compare.${x.ext}` },
          data: { export: x.format },
        }),
      );
    }
  }

  private async load(): Promise<void> {
    this.renderExports();
    if (this.ids.length < 2) {
      this.showMessage('Pick two or more experiments to compare.', true);
      return;
    }
    this.abort?.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    this.el.dataset.loading = 'true';
    if (!this.data) setText(this.sub, 'Loading…');
    try {
      const res = await compareExperiments(this.ids, this.baseline, ctl.signal);
      if (ctl.signal.aborted) return;
      this.data = res;
      this.baseline = res.baseline;
      this.renderExports();
      this.render(res);
      this.el.dataset.loading = 'false';
      this.el.dataset.baseline = res.baseline;
    } catch (err) {
      if (ctl.signal.aborted) return;
      this.el.dataset.loading = 'false';
      this.showMessage(err instanceof ApiError ? `Could not compare: ${err.message}` : `Could not compare: ${String((err as Error).message ?? err)}`, true);
    }
  }

  private showMessage(text: string, error: boolean): void {
    setText(this.sub, '');
    this.el.dataset.error = error ? 'true' : '';
    this.teardown();
    this.content.replaceChildren(
      h('div', { class: 'empty-state' }, h('p', { text }), h('a', { attrs: { href: experimentsHref() }, text: 'Back to the experiments' })),
    );
  }

  private deviceName(e: ExperimentStats): string {
    return e.deviceName || (this.store.devices.get(e.deviceId)?.name ?? e.deviceId);
  }

  private render(res: ComparisonResponse): void {
    const exps = res.experiments;
    const base = exps.find((e) => e.id === res.baseline);
    this.el.dataset.error = '';
    setText(this.sub, `${exps.length} experiments · baseline ${base?.name ?? res.baseline}`);
    const rows = compareRows(res);
    const colors = bandColors(exps.map((e) => e.name));
    const headRow = h('tr', null, h('th', { class: 'cmp-label-col', attrs: { scope: 'col' } }, h('span', { class: 'sr-only', text: 'Figure' })));
    for (const e of exps) {
      const isBase = e.id === res.baseline;
      const radio = h('input', { attrs: { type: 'radio', name: 'baseline', value: e.id, 'aria-label': `Use ${e.name} as the baseline` }, data: { baseline: e.id } });
      radio.checked = isBase;
      radio.addEventListener('change', () => {
        if (radio.checked) location.hash = compareHref(this.ids, e.id);
      });
      const dot = h('span', { class: 'exp-dot' });
      dot.style.background = colors.get(e.name) ?? '';
      headRow.append(
        h(
          'th',
          { class: `cmp-exp${isBase ? ' is-baseline' : ''}`, attrs: { scope: 'col' }, data: { 'experiment-id': e.id } },
          h(
            'div',
            { class: 'cmp-exp-name' },
            dot,
            h('span', { class: 'cmp-name', text: e.name, attrs: { title: e.name } }),
            e.running ? h('span', { class: 'badge badge-online', text: 'running' }) : null,
          ),
          h(
            'div',
            { class: 'cmp-exp-meta' },
            h('a', { text: this.deviceName(e), attrs: { href: deviceHref(e.deviceId) } }),
            h('span', { text: ` · ${fullTime(e.start)}` }),
          ),
          this.renderOrigin(e),
          h('label', { class: 'cmp-baseline' }, radio, h('span', { text: isBase ? 'baseline' : 'use as baseline' })),
        ),
      );
    }
    const body = h('tbody');
    let section = '';
    for (const r of rows) {
      if (r.section !== section) {
        section = r.section;
        body.append(h('tr', { class: 'cmp-section' }, h('th', { text: section, attrs: { colspan: exps.length + 1, scope: 'colgroup' } })));
      }
      const cls = [r.emphasis ? `is-emph emph-${r.emphasis}` : '', r.differs ? 'is-differs' : '', r.wrap ? 'is-wrap' : ''].filter(Boolean).join(' ');
      const tr = h(
        'tr',
        { class: cls || undefined, data: { row: r.key, differs: r.differs ? 'true' : undefined } },
        h(
          'th',
          { class: 'cmp-label-col', attrs: { scope: 'row' } },
          h('span', { class: 'cmp-label', text: r.label }),
          r.differs ? h('span', { class: 'cmp-differs', text: 'differs' }) : null,
          r.hint ? h('span', { class: 'cmp-hint', text: r.hint }) : null,
        ),
      );
      r.cells.forEach((c, i) => {
        const e = exps[i]!;
        tr.append(
          h(
            'td',
            {
              class: `num${c.tone ? ` tone-${c.tone}` : ''}${e.id === res.baseline ? ' is-baseline' : ''}`,
              data: { 'experiment-id': e.id, value: c.value ?? '' },
            },
            h('span', { class: 'cmp-value', text: c.text }),
            c.sub ? h('span', { class: 'cmp-sub', text: c.sub }) : null,
          ),
        );
      });
      body.append(tr);
    }
    const table = h('table', { class: 'data-table compare-table' }, h('thead', null, headRow), body);
    this.teardown();
    const cue = scrollCue(h('div', { class: 'table-wrap' }, table), `Scroll sideways for all ${exps.length} experiments →`);
    this.disposers.push(cue.dispose);
    const parts: Node[] = [];
    const warn = this.renderConditionWarnings(res);
    if (warn) parts.push(warn);
    parts.push(this.renderHeadline(res, colors));
    const notes = this.renderNotes(res);
    if (notes) parts.push(notes);
    const tablePanel = h('div', { class: 'panel cmp-panel', data: { panel: 'table' } }, cue.el);
    this.charts = new CompareCharts(exps, colors, this.timelineCache);
    parts.push(h('div', { class: 'cmp-split' }, tablePanel, h('div', { class: 'cmp-side' }, this.charts.distribution, this.charts.timelines)));
    this.pareto = new ParetoPanel(exps, colors);
    parts.push(this.pareto.el);
    const repeats = this.renderRepeats(res, colors);
    if (repeats) parts.push(repeats);
    this.content.replaceChildren(...parts);
    this.pareto.mount();
    if (this.charts) {
      this.charts.mount();
      void this.charts.load();
    }
  }

  /** "Run B was in 15W mode, run A in MAXN": the runs were not measured alike. */
  private renderConditionWarnings(res: ComparisonResponse): HTMLElement | null {
    const list = res.conditionWarnings ?? [];
    if (list.length === 0) return null;
    return h(
      'section',
      { class: 'cmp-alert', data: { panel: 'condition-warnings' }, attrs: { role: 'alert' } },
      h('h2', { text: list.length === 1 ? 'These runs may not be comparable' : `These runs may not be comparable (${list.length} warnings)` }),
      h('ul', null, ...list.map((w) => h('li', { text: w }))),
      h('p', { class: 'cmp-alert-foot', text: 'Differences in the figures below may come from how the device was set up, not from the model.' }),
    );
  }

  private groupLabel(name: string, colors: ReadonlyMap<string, string>): HTMLElement {
    const dot = h('span', { class: 'exp-dot' });
    dot.style.background = colors.get(name) ?? '';
    return h('span', { class: 'headline-name' }, dot, h('span', { class: 'cmp-name', text: name, attrs: { title: name } }));
  }

  /** One line per variant with two or more trials: the verdict with its interval and p-value, and the group's warnings. */
  private renderHeadline(res: ComparisonResponse, colors: ReadonlyMap<string, string>): HTMLElement {
    const lines = headlines(res);
    const block = h('section', { class: 'panel cmp-headline', data: { panel: 'headline', lines: lines.length } }, h('div', { class: 'panel-head' }, h('h2', { text: 'Result' })));
    if (lines.length === 0) {
      block.append(h('p', { class: 'headline-none', text: 'Each experiment here ran once: the table shows single runs. Repeat each variant (several trials of one name) for a verdict with a 95 % interval and a p-value.' }));
      return block;
    }
    for (const l of lines) {
      block.append(
        h(
          'div',
          { class: `headline verdict-${l.verdict.replace(/ /g, '-')}`, data: { group: l.group, verdict: l.verdict } },
          this.groupLabel(l.group, colors),
          h('p', { class: 'headline-text', text: l.text }),
          l.detail ? h('p', { class: 'headline-detail', text: l.detail }) : null,
          l.warnings.length
            ? h('ul', { class: 'warn-list', attrs: { 'aria-label': `Warnings for ${l.group}` } }, ...l.warnings.map((w) => h('li', { text: w })))
            : null,
        ),
      );
    }
    return block;
  }

  /** "figures as computed at …": an ended run's figures are the hub's stored snapshot. */
  private renderOrigin(e: ExperimentStats): HTMLElement | null {
    const text = figuresOrigin(e, fullTime);
    if (!text) return null;
    const title = 'The hub stores an ended run\'s figures when it ends (and again when late data arrives), so they outlive the raw samples.';
    return h('div', { class: 'cmp-exp-meta cmp-origin', text, attrs: { title }, data: { origin: e.id } });
  }

  private renderNotes(res: ComparisonResponse): HTMLElement | null {
    const notes = res.notes;
    if (notes.length === 0) return null;
    return h(
      'section',
      { class: 'cmp-notes', data: { panel: 'notes' }, attrs: { 'aria-label': 'About these figures' } },
      h('ul', null, ...notes.map((n) => h('li', { text: n }))),
    );
  }

  /** Experiments of one name run more than once: the trials' p50s as dots, their medians with intervals, mean ± stdev. */
  private renderRepeats(res: ComparisonResponse, colors: ReadonlyMap<string, string>): HTMLElement | null {
    const groups = (res.groups ?? []).filter((g) => g.runs > 1);
    if (groups.length === 0) return null;
    const block = h(
      'section',
      { class: 'panel cmp-repeats', data: { panel: 'repeats' } },
      h('div', { class: 'panel-head' }, h('h2', { text: 'Repeats' }), h('span', { class: 'panel-sub', text: 'experiments of one name run more than once: each trial, the median over trials [95 % interval], mean ± stdev' })),
    );
    const all = groups.flatMap((g) => trialP50s(res.experiments, g).map((t) => t.p50));
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const baseGroup = (res.groups ?? []).find((g) => g.ids.includes(res.baseline));
    for (const g of groups) {
      const trials = trialP50s(res.experiments, g);
      const node = h(
        'div',
        { class: 'panel-block', data: { group: g.name } },
        h('h3', null, this.groupLabel(g.name, colors), h('span', { class: 'cmp-runs', text: ` · ${g.runs} runs` })),
      );
      if (g.trials && g.trials.n >= 2) node.append(h('p', { class: 'repeat-verdict', text: headlineSentence(g.trials, baseGroup ? (baseGroup.trials?.n ?? baseGroup.runs) : null) }));
      if (trials.length) node.append(this.trialStrip(g, trials, lo, hi, colors.get(g.name) ?? ''));
      const tables: HTMLElement[] = [];
      if (g.trials) {
        const est = estimateLines(g.trials);
        if (est.length)
          tables.push(
            h(
              'table',
              { class: 'data-table repeat-table trial-table' },
              h('caption', { text: 'Median over trials [95 % interval]' }),
              h('tbody', null, ...est.map((f) => h('tr', { data: { estimate: f.key } }, h('th', { text: f.label }), h('td', { class: 'num', text: f.text })))),
            ),
          );
      }
      const figures = repeatLines(g);
      if (figures.length)
        tables.push(
          h(
            'table',
            { class: 'data-table repeat-table' },
            h('caption', { text: 'Mean ± stdev over runs' }),
            h('tbody', null, ...figures.map((f) => h('tr', { data: { figure: f.key } }, h('th', { text: f.label }), h('td', { class: 'num', text: f.text })))),
          ),
        );
      if (tables.length) {
        const cue = scrollCue(h('div', { class: 'table-wrap repeat-tables' }, ...tables));
        this.disposers.push(cue.dispose);
        node.append(cue.el);
      }
      block.append(node);
    }
    return block;
  }

  /** The group's trial p50s as dots on one axis shared by every group (lo…hi), and as a list. */
  private trialStrip(g: RepeatGroup, trials: { id: string; p50: number }[], lo: number, hi: number, color: string): HTMLElement {
    const span = hi - lo;
    const track = h('div', { class: 'trial-track', attrs: { role: 'img', 'aria-label': `Trial p50s of ${g.name}: ${trials.map((t) => ms(t.p50)).join(', ')}` } });
    for (const t of trials) {
      const dot = h('span', { class: 'trial-dot', attrs: { title: ms(t.p50) }, data: { 'experiment-id': t.id, value: t.p50 } });
      dot.style.left = `${span > 0 ? ((t.p50 - lo) / span) * 100 : 50}%`;
      if (color) dot.style.background = color;
      track.append(dot);
    }
    return h(
      'div',
      { class: 'trial-strip', data: { trials: trials.length } },
      h('div', { class: 'trial-axis' }, h('span', { text: ms(lo) }), track, h('span', { text: ms(hi) })),
      h('p', { class: 'trial-list', text: `Trial p50s: ${trials.map((t) => ms(t.p50)).join(', ')}` }),
    );
  }
}
