// The comparison page (`#/compare?ids=a,b&baseline=a`): one column per experiment, the
// baseline marked and switchable, the headline rows (speedup, energy, compression) first and
// tinted, then run, latency, power, resources and model rows; repeats of one name as mean ±
// stdev; export links for CSV, JSON and Markdown straight from the API. Experiment and device
// names are untrusted: textContent only.
import { ApiError, compareExperiments } from './api.js';
import { clear, h, setText } from './dom.js';
import type { ComparisonResponse, ExperimentStats } from './experiment-types.js';
import { bandColors, compareApiUrl, compareHref, compareRows, experimentsHref, repeatLines } from './experiments-model.js';
import type { Page } from './page.js';
import { deviceHref } from './router.js';
import type { FleetStore } from './store.js';
import { fullTime } from './time-axis.js';

const EXPORTS: { format: 'csv' | 'json' | 'md'; label: string; ext: string }[] = [
  { format: 'csv', label: 'CSV', ext: 'csv' },
  { format: 'md', label: 'Markdown', ext: 'md' },
  { format: 'json', label: 'JSON', ext: 'json' },
];

export class ComparePage implements Page {
  readonly el: HTMLElement;
  private readonly sub = h('p', { class: 'fleet-summary' });
  private readonly exports = h('div', { class: 'exp-exports', attrs: { role: 'group', 'aria-label': 'Export' } });
  private readonly content = h('div', { class: 'compare-content' });
  private abort: AbortController | null = null;
  private data: ComparisonResponse | null = null;

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
      const tr = h(
        'tr',
        { class: r.emphasis ? `is-emph emph-${r.emphasis}` : undefined, data: { row: r.key } },
        h('th', { class: 'cmp-label-col', attrs: { scope: 'row' } }, h('span', { class: 'cmp-label', text: r.label }), r.hint ? h('span', { class: 'cmp-hint', text: r.hint }) : null),
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
    const parts: Node[] = [h('div', { class: 'panel cmp-panel' }, h('div', { class: 'table-wrap' }, table))];

    const groups = (res.groups ?? []).filter((g) => g.runs > 1);
    if (groups.length > 0) {
      const block = h('section', { class: 'panel cmp-repeats', data: { panel: 'repeats' } }, h('div', { class: 'panel-head' }, h('h2', { text: 'Repeats' }), h('span', { class: 'panel-sub', text: 'experiments of one name run more than once: mean ± stdev over the runs' })));
      for (const g of groups) {
        const figures = repeatLines(g);
        block.append(
          h(
            'div',
            { class: 'panel-block', data: { group: g.name } },
            h('h3', null, h('span', { class: 'cmp-name', text: g.name }), h('span', { class: 'cmp-runs', text: ` · ${g.runs} runs` })),
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'data-table repeat-table' },
                h('tbody', null, ...figures.map((f) => h('tr', { data: { figure: f.key } }, h('th', { text: f.label }), h('td', { class: 'num', text: f.text })))),
              ),
            ),
          ),
        );
      }
      parts.push(block);
    }
    this.content.replaceChildren(...parts);
  }
}
