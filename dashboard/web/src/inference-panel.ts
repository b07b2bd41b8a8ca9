// The inference panel on the device page: per model, the latest second's median and p99
// latency, calls and items per second, plus the experiment running now. Model and experiment
// names come from the user's code on the device: textContent only.
import { formatValue } from '../../../shared/format.js';
import { clear, h, setData, setText } from './dom.js';
import type { ExperimentSummary } from './experiment-types.js';
import { bandColors, compareHref, experimentsHref, modelReadings } from './experiments-model.js';
import { fullTime } from './time-axis.js';

export class InferencePanel {
  readonly el: HTMLElement;
  private readonly sub = h('span', { class: 'panel-sub', data: { field: 'infer-updated' } });
  private readonly running = h('div', { class: 'infer-running', data: { field: 'running' } });
  private readonly models = h('div', { class: 'infer-models' });
  private readonly empty = h('p', { class: 'muted', text: 'No inference timings in the latest sample.' });
  private structure = '';

  constructor(deviceId: string) {
    this.el = h(
      'section',
      { class: 'panel inference-panel', data: { panel: 'inference' } },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { text: 'Inference' }),
        this.sub,
        h('a', { class: 'panel-link', text: 'Experiments on this device →', attrs: { href: experimentsHref({ device: deviceId }) } }),
      ),
      this.running,
      this.models,
      this.empty,
    );
    this.running.hidden = true;
  }

  /** Latest readings (t: device clock of the sample they come from). */
  render(t: number | undefined, m: Readonly<Record<string, number>>, names: ReadonlyMap<string, string>): void {
    const readings = modelReadings(m, names);
    const key = JSON.stringify(readings.map((r) => [r.key, r.name]));
    if (key !== this.structure) {
      this.structure = key;
      clear(this.models);
      for (const r of readings) {
        const stat = (field: string, label: string) =>
          h('div', { class: `infer-stat infer-${field}` }, h('span', { class: 'tile-label', text: label }), h('span', { class: 'infer-value', data: { field } }));
        this.models.append(
          h(
            'div',
            { class: 'infer-model', data: { model: r.key } },
            h('div', { class: 'infer-name', text: r.name, attrs: { title: r.name } }),
            h('div', { class: 'infer-stats' }, stat('p50', 'p50'), stat('p99', 'p99'), stat('rate', 'calls/s'), stat('items', 'items/s')),
          ),
        );
      }
    }
    for (const r of readings) {
      const card = this.models.querySelector<HTMLElement>(`[data-model="${r.key}"]`);
      if (!card) continue;
      const set = (field: string, text: string) => setText(card.querySelector(`[data-field="${field}"]`)!, text);
      set('p50', formatValue(r.p50, 'ms'));
      set('p99', formatValue(r.p99, 'ms'));
      set('rate', formatValue(r.rate, '/s'));
      set('items', formatValue(r.items, '/s'));
    }
    this.empty.hidden = readings.length > 0;
    setData(this.el, { models: readings.length, t: t ?? '' });
    setText(this.sub, t === undefined || readings.length === 0 ? '' : `latest second, ${fullTime(t)}`);
  }

  /** Experiments in the shown range: the running ones (end null) as chips, and a link comparing the last two that ended. */
  setExperiments(experiments: readonly ExperimentSummary[]): void {
    const open = experiments.filter((e) => e.end === null);
    const key = JSON.stringify(open.map((e) => [e.id, e.name]));
    if (this.running.dataset.key === key) return;
    this.running.dataset.key = key;
    clear(this.running);
    this.running.hidden = open.length === 0;
    // The same colours as the bands on the charts (which colour the same set of experiments).
    const colors = bandColors(experiments.map((e) => e.name));
    for (const e of open) {
      const dot = h('span', { class: 'exp-dot' });
      dot.style.background = colors.get(e.name) ?? '';
      this.running.append(
        h(
          'span',
          { class: 'exp-chip', data: { experiment: e.id } },
          dot,
          h('span', { class: 'exp-chip-label', text: 'Running' }),
          h('span', { class: 'exp-chip-name', text: e.name, attrs: { title: e.name } }),
        ),
      );
    }
    // Closed experiments in range: a shortcut to compare the last two.
    const done = experiments.filter((e) => e.end !== null).sort((a, b) => b.start - a.start);
    if (done.length >= 2) {
      const pair = [done[1]!.id, done[0]!.id];
      this.running.hidden = false;
      this.running.append(h('a', { class: 'exp-compare-link', text: 'Compare the last two →', attrs: { href: compareHref(pair, pair[0]) } }));
    }
  }
}
